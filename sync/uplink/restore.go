package uplink

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/veedel/veedel/sync/changelog"
)

// Restoring a site (docs/SYNC.md, "Restoring a site"): a replacement
// appliance enrolls its new key with a new token (Enroll) and reads the
// site's log back from central page by page (FetchLog), signed as the
// downlink's polls are.

// Enroll enrolls Key with EnrollToken at once, for a command that needs
// central before Run (a restore), and records the enrollment in
// Enrollments. It does nothing when the recorded enrollment used that
// token and is this key's. A refused token is an error saying why.
func (u *Uplink) Enroll(ctx context.Context) error {
	u.defaults()
	if u.Key == nil {
		return errors.New("enroll: the site has no key")
	}
	if err := u.startEnrollment(ctx); err != nil {
		return err
	}
	if !u.enroll.pending && !u.enroll.enrolled {
		return errors.New("enroll: no enrollment token: create one with veedel central enroll")
	}
	u.enroll.logged = true // the caller reports a refusal
	if err := u.ensureEnrolled(ctx); err != nil {
		return err
	}
	if !u.enroll.enrolled {
		return errors.New("enroll: central did not enroll this key")
	}
	return nil
}

// FetchLog downloads the page of the site's own log after seq after that
// central stores (GET /api/v1/sync/log), signed with Key at central's
// clock as measured. The page is validated (hashes, site, chain within
// the page); whether it continues the caller's log is the caller's check.
// A refusal (4xx) says why in the error.
func (u *Uplink) FetchLog(ctx context.Context, after uint64, limit int) (*changelog.Download, error) {
	u.defaults()
	target := strings.TrimRight(u.CentralURL, "/") + "/api/v1/sync/log?site=" + url.QueryEscape(u.Site) +
		"&after=" + strconv.FormatUint(after, 10)
	if limit > 0 {
		target += "&limit=" + strconv.Itoa(limit)
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/cbor")
		changelog.SignRequest(req, u.Site, u.Key, u.Central.Now(u.Now()))
		resp, err := u.Client.Do(req)
		if err != nil {
			return nil, err
		}
		corrected := u.Central.Observe(resp, u.Now())
		d, rerr := changelog.ReadDownload(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized && corrected && attempt == 0 {
			continue // signed with a clock central found off: sign again with its time
		}
		if resp.StatusCode != http.StatusOK {
			msg := resp.Status
			if rerr == nil && d.Error != "" {
				msg += ": " + d.Error
			}
			return nil, fmt.Errorf("central refused to give the site's log: %s", msg)
		}
		if rerr != nil {
			return nil, fmt.Errorf("central's answer: %w", rerr)
		}
		if d.Site != u.Site {
			return nil, fmt.Errorf("central answered with site %q's log, not %q's", d.Site, u.Site)
		}
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("central's copy of the log: %w", err)
		}
		return d, nil
	}
}
