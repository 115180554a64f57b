// Package uplink is the site side of sync: it pushes the site's change-log
// to central right after each commit, in bounded batches during catch-up,
// with backoff and jitter while central is unreachable, and resumes from
// central's acknowledgement after any failure or restart.
package uplink

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/retry"
)

// Outbox is the site's change-log as the uplink reads it.
type Outbox interface {
	EntriesAfter(ctx context.Context, after uint64, limit, maxBytes int) ([]changelog.Entry, error)
	AckedSeq(ctx context.Context) (uint64, error)
	SetAckedSeq(ctx context.Context, seq uint64) error
	LastSeq() uint64
	Subscribe() (<-chan struct{}, func())
}

// Defaults for the zero values of Uplink's tuning fields.
const (
	DefaultBatchEntries = 1000
	DefaultBatchBytes   = 1 << 20
	DefaultHeartbeat    = 30 * time.Second
	DefaultMaxBackoff   = 2 * time.Second
	// DefaultGather is how long the uplink lets new entries gather after
	// a push that did not fill its batch. A busy site commits hundreds of
	// times a second; pushing after each commit makes central verify,
	// store and fold one small batch per commit, on the same CPU the site
	// needs. 50 ms adds at most that to how soon central sees a burst's
	// later entries; the first entry after a quiet spell goes at once.
	DefaultGather = 50 * time.Millisecond
)

// Uplink pushes one site's log to central.
type Uplink struct {
	Outbox     Outbox
	Site       string
	CentralURL string // e.g. http://127.0.0.1:8080
	Client     *http.Client
	Logger     *slog.Logger

	BatchEntries int
	BatchBytes   int
	// Gather is the pause after a push whose batch was not full, so that a
	// burst of commits travels as a few batches (0: DefaultGather; negative:
	// none). A full batch is followed at once: catching up is not slowed.
	Gather time.Duration
	// Heartbeat is how often an idle site tells central it is alive, so
	// that central's freshness figure means "in contact", not "busy".
	Heartbeat  time.Duration
	MaxBackoff time.Duration
	// RefusedBackoff is the pause after central refused a batch as invalid
	// (e.g. a schema version it does not accept yet): resending at once
	// would only be refused again.
	RefusedBackoff time.Duration
	Now            func() time.Time

	// Key signs every batch, heartbeats included (see enroll.go). Without
	// it batches go unsigned, which central refuses: for tests only.
	Key ed25519.PrivateKey
	// Central is the site's estimate of central's clock, which a batch's
	// signed time must be close to (changelog.FreshWindow); it learns from
	// every answer's Date header. nil: the uplink keeps its own.
	Central *changelog.CentralClock
	// EnrollToken is the one-time token from `veedel central enroll`. When
	// set and not the token of the enrollment Enrollments recorded, the
	// uplink enrolls Key with it before it pushes.
	EnrollToken string
	// Enrollments records the enrollment at the site; nil records nothing.
	Enrollments Enrollments

	mu     sync.Mutex
	status Status
	enroll enrollment
}

// Status is the uplink's health, for /healthz and the fleet view.
type Status struct {
	Acked       uint64    `json:"acked_seq"`
	Pending     uint64    `json:"pending"`
	LastContact time.Time `json:"last_contact,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Failures    int       `json:"consecutive_failures"`
	KeyID       string    `json:"key_id,omitempty"`
	Enrolled    bool      `json:"enrolled"`
}

// Status returns a snapshot of the uplink's state.
func (u *Uplink) Status() Status {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.status
	if last := u.Outbox.LastSeq(); last > s.Acked {
		s.Pending = last - s.Acked
	}
	return s
}

// quickRefusalRetries is how many refusals in a row are retried with the
// normal backoff before the uplink waits RefusedBackoff.
const quickRefusalRetries = 3

// errRefused is a 4xx answer other than a chain conflict: resending the same
// bytes will not help, so the uplink waits long before the next attempt.
var errRefused = errors.New("central refused the batch")

// Run pushes until ctx ends. It never drops an entry: the cursor only moves
// to what central acknowledged as durably stored.
func (u *Uplink) Run(ctx context.Context) error {
	u.defaults()
	acked, err := u.Outbox.AckedSeq(ctx)
	if err != nil {
		return err
	}
	u.setAcked(acked)
	if err := u.startEnrollment(ctx); err != nil {
		return err
	}
	wake, unsubscribe := u.Outbox.Subscribe()
	defer unsubscribe()
	backoff := 100 * time.Millisecond
	refusals := 0
	resigned := false
	var lastContact time.Time
	for ctx.Err() == nil {
		if err := u.ensureEnrolled(ctx); err != nil {
			u.fail(err)
			wait := u.MaxBackoff
			if errors.Is(err, errEnrollRefused) {
				wait = u.RefusedBackoff
			}
			if !retry.Sleep(ctx, retry.Jittered(wait)) {
				break
			}
			continue
		}
		entries, err := u.Outbox.EntriesAfter(ctx, acked, u.BatchEntries, u.BatchBytes)
		if err != nil {
			u.fail(err)
			if !retry.Sleep(ctx, u.MaxBackoff) {
				break
			}
			continue
		}
		if len(entries) == 0 && u.Now().Sub(lastContact) < u.Heartbeat {
			timer := time.NewTimer(u.Heartbeat - u.Now().Sub(lastContact))
			select {
			case <-ctx.Done():
			case <-wake:
			case <-timer.C:
			}
			timer.Stop()
			continue
		}
		ack, err := u.push(ctx, entries)
		if err == nil && ack.Acked > u.Outbox.LastSeq() {
			// Central cannot have stored entries the site never wrote: the
			// answer is damaged or forged. Believing it would let retention
			// compact entries central never had.
			err = fmt.Errorf("central acknowledged seq %d, but this site's last seq is %d: ignoring the answer", ack.Acked, u.Outbox.LastSeq())
		}
		if errors.Is(err, errClockCorrected) && !resigned {
			// Refused, and central's Date header says the site's clock
			// is off: sign again at once with the corrected time (once;
			// a second refusal takes the usual way).
			u.Logger.Warn("central refused the batch; signing again with central's clock", "site", u.Site, "offset", u.Central.Offset().String())
			resigned = true
			continue
		}
		resigned = false
		if err != nil {
			u.fail(err)
			wait := backoff
			if errors.Is(err, errRefused) {
				refusals++
				// A batch damaged on the way (plain HTTP) is refused too;
				// retry a few times quickly before settling on the long
				// pause that a real refusal (key, version) deserves.
				if refusals > quickRefusalRetries {
					wait = u.RefusedBackoff
				}
			}
			// Jitter: sites that lost the WAN together must not all come
			// back in the same millisecond.
			if !retry.Sleep(ctx, retry.Jittered(wait)) {
				break
			}
			backoff = min(backoff*2, u.MaxBackoff)
			continue
		}
		backoff, refusals = 100*time.Millisecond, 0
		lastContact = u.Now()
		if ack.Acked != acked {
			if err := u.Outbox.SetAckedSeq(ctx, ack.Acked); err != nil {
				u.fail(err)
				continue
			}
			acked = ack.Acked
		}
		u.ok(acked, lastContact)
		if len(entries) > 0 && len(entries) < u.BatchEntries && u.Gather > 0 {
			if !retry.Sleep(ctx, u.Gather) {
				break
			}
		}
	}
	return nil
}

func (u *Uplink) defaults() {
	if u.Client == nil {
		u.Client = &http.Client{Timeout: 15 * time.Second}
	}
	if u.Logger == nil {
		u.Logger = slog.Default()
	}
	if u.BatchEntries == 0 {
		u.BatchEntries = DefaultBatchEntries
	}
	if u.BatchBytes == 0 {
		u.BatchBytes = DefaultBatchBytes
	}
	if u.Heartbeat == 0 {
		u.Heartbeat = DefaultHeartbeat
	}
	if u.Gather == 0 {
		u.Gather = DefaultGather
	}
	if u.MaxBackoff == 0 {
		u.MaxBackoff = DefaultMaxBackoff
	}
	if u.RefusedBackoff == 0 {
		u.RefusedBackoff = 30 * time.Second
	}
	if u.Now == nil {
		u.Now = time.Now
	}
	if u.Central == nil {
		u.Central = &changelog.CentralClock{}
	}
}

// errClockCorrected is a refusal after which the measured offset to
// central's clock changed: the batch is signed again at once.
var errClockCorrected = errors.New("central refused the batch; clock offset corrected")

// push sends one batch. A 409 is not an error: its ack says where central
// wants the site to resume (after a central restore, or after a batch lost
// on the way).
func (u *Uplink) push(ctx context.Context, entries []changelog.Entry) (changelog.Ack, error) {
	batch := changelog.Batch{Version: changelog.SchemaVersion, Site: u.Site, Entries: entries, Last: u.Outbox.LastSeq(),
		SentAt: changelog.HLCAt(u.Now())}
	if u.Key != nil {
		// Fresh and single-use: central's time as the site measured it,
		// and a new nonce, so that a captured batch cannot be replayed.
		if err := batch.SignFresh(u.Key, u.Central.Now(u.Now())); err != nil {
			return changelog.Ack{}, err
		}
	}
	body, err := changelog.Marshal(batch)
	if err != nil {
		return changelog.Ack{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(u.CentralURL, "/")+"/api/v1/sync/batches", bytes.NewReader(body))
	if err != nil {
		return changelog.Ack{}, err
	}
	req.Header.Set("Content-Type", "application/cbor")
	req.Header.Set("Accept", "application/cbor")
	resp, err := u.Client.Do(req)
	if err != nil {
		return changelog.Ack{}, err
	}
	defer resp.Body.Close()
	corrected := u.Central.Observe(resp, u.Now())
	if resp.StatusCode == http.StatusUnauthorized && corrected {
		return changelog.Ack{}, errClockCorrected
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return changelog.Ack{}, err
	}
	var ack changelog.Ack
	decodeErr := changelog.Unmarshal(data, &ack)
	switch {
	case resp.StatusCode == http.StatusOK && decodeErr == nil:
		return ack, nil
	case resp.StatusCode == http.StatusConflict && decodeErr == nil:
		u.Logger.Warn("central asks to resend", "site", u.Site, "from", ack.Acked+1, "reason", ack.Error)
		if len(entries) > 0 && ack.Acked+1 >= entries[0].Seq && ack.Acked < entries[len(entries)-1].Seq {
			// Central stopped inside this very batch: resending it
			// unchanged would loop, so back off like any failure.
			return changelog.Ack{}, fmt.Errorf("%w: %s", errRefused, ack.Error)
		}
		return ack, nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		return changelog.Ack{}, fmt.Errorf("%w: %s: %s", errRefused, resp.Status, ack.Error)
	default:
		return changelog.Ack{}, fmt.Errorf("central answered %s", resp.Status)
	}
}

func (u *Uplink) setAcked(seq uint64) {
	u.mu.Lock()
	u.status.Acked = seq
	u.mu.Unlock()
}

func (u *Uplink) ok(acked uint64, at time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.status.Failures > 0 {
		u.Logger.Info("central reachable again", "site", u.Site, "after_failures", u.status.Failures)
	}
	u.status.Acked, u.status.LastContact, u.status.LastError, u.status.Failures = acked, at, "", 0
	u.status.Enrolled = u.status.Enrolled || u.Key != nil // central took a signed batch
}

func (u *Uplink) fail(err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.status.Failures == 0 {
		u.Logger.Warn("sync to central failing; the site keeps working and will catch up", "site", u.Site, "err", err)
	}
	u.status.LastError, u.status.Failures = err.Error(), u.status.Failures+1
}
