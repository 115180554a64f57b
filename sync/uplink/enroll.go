package uplink

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/veedel/veedel/sync/changelog"
)

// Enrollments is where the site records its enrollment at central (the
// appliance store's settings): the key id central enrolled and the SHA-256
// (hex) of the token used, so that a token left in the configuration is not
// used a second time.
type Enrollments interface {
	EnrolledKey(ctx context.Context) (keyID, tokenHash string, err error)
	SetEnrolledKey(ctx context.Context, keyID, tokenHash string) error
}

// errEnrollRefused is central refusing the enrollment token: only a new
// token from an operator helps.
var errEnrollRefused = errors.New("central refused the enrollment")

// enrollment is the uplink's enrollment state during one Run.
type enrollment struct {
	keyID    string // hex id of u.Key
	pending  bool   // EnrollToken is to be used before pushing
	enrolled bool   // central enrolled u.Key (as far as the site knows)
	logged   bool   // the refusal of the token has been logged
}

// startEnrollment reads what the site knows about its enrollment and
// decides whether EnrollToken is to be used: when it is set and is not the
// token of the recorded enrollment.
func (u *Uplink) startEnrollment(ctx context.Context) error {
	if u.Key == nil {
		return nil
	}
	u.enroll.keyID = changelog.KeyIDString(changelog.KeyID(u.Key.Public().(ed25519.PublicKey)))
	var keyID, tokenHash string
	if u.Enrollments != nil {
		var err error
		if keyID, tokenHash, err = u.Enrollments.EnrolledKey(ctx); err != nil {
			return err
		}
	}
	u.enroll.enrolled = keyID == u.enroll.keyID
	u.enroll.pending = u.EnrollToken != "" && hashToken(u.EnrollToken) != tokenHash
	u.mu.Lock()
	u.status.KeyID, u.status.Enrolled = u.enroll.keyID, u.enroll.enrolled
	u.mu.Unlock()
	if !u.enroll.enrolled && !u.enroll.pending {
		u.Logger.Warn("this appliance is not enrolled at central: central refuses its batches until it is started with a new token (-enroll-token or VEEDEL_ENROLL_TOKEN from veedel central enroll)",
			"site", u.Site, "key_id", u.enroll.keyID)
	}
	return nil
}

// ensureEnrolled enrolls with EnrollToken when that is pending. It returns
// nil when batches may be pushed. A refused token stops pushing (it is
// retried after RefusedBackoff, the site keeps everything) unless the site
// is enrolled already, when the new token is given up and pushing goes on
// under the existing enrollment.
func (u *Uplink) ensureEnrolled(ctx context.Context) error {
	if !u.enroll.pending {
		return nil
	}
	res, err := u.postEnrollment(ctx)
	switch {
	case errors.Is(err, errEnrollRefused):
		if !u.enroll.logged {
			u.enroll.logged = true
			u.Logger.Error("central refused the enrollment token: create a new one with veedel central enroll and restart the appliance with it; the site keeps working and keeps every entry",
				"site", u.Site, "err", err)
		}
		if u.enroll.enrolled {
			u.enroll.pending = false
			return nil
		}
		return err
	case err != nil:
		return err
	}
	if res.KeyID != u.enroll.keyID {
		return fmt.Errorf("central enrolled key %s, not this appliance's key %s", res.KeyID, u.enroll.keyID)
	}
	if u.Enrollments != nil {
		if err := u.Enrollments.SetEnrolledKey(ctx, u.enroll.keyID, hashToken(u.EnrollToken)); err != nil {
			return err
		}
	}
	u.enroll.pending, u.enroll.enrolled = false, true
	u.mu.Lock()
	u.status.Enrolled = true
	u.mu.Unlock()
	u.Logger.Info("enrolled at central", "site", u.Site, "key_id", u.enroll.keyID)
	return nil
}

// postEnrollment sends POST /api/v1/sync/enroll. A 4xx answer (a bad
// token) is errEnrollRefused with central's message.
func (u *Uplink) postEnrollment(ctx context.Context) (changelog.Enrolled, error) {
	body, err := json.Marshal(changelog.Enrollment{Site: u.Site, Token: u.EnrollToken, PublicKey: u.Key.Public().(ed25519.PublicKey)})
	if err != nil {
		return changelog.Enrolled{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(u.CentralURL, "/")+"/api/v1/sync/enroll", bytes.NewReader(body))
	if err != nil {
		return changelog.Enrolled{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := u.Client.Do(req)
	if err != nil {
		return changelog.Enrolled{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return changelog.Enrolled{}, err
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		var res changelog.Enrolled
		if err := json.Unmarshal(data, &res); err != nil {
			return changelog.Enrolled{}, fmt.Errorf("enrollment answer: %w", err)
		}
		return res, nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		var e struct {
			Error string `json:"error"`
		}
		json.Unmarshal(data, &e)
		return changelog.Enrolled{}, fmt.Errorf("%w: %s: %s", errEnrollRefused, resp.Status, e.Error)
	default:
		return changelog.Enrolled{}, fmt.Errorf("central answered the enrollment with %s", resp.Status)
	}
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
