// Package downlink is the site side of the download direction of sync: it
// long-polls central for the entries of the site's outbound log after the
// site's cursor, hands each to the site's inbox, which applies it exactly
// once in the same transaction that moves the cursor, and resumes from that
// cursor after any failure or restart. New entries arrive within a round
// trip of being appended at central, because central answers a waiting poll
// as soon as the site's outbound log grows.
//
// A download may also carry SMS sign-ups that citizens left on central's
// status page (changelog.SMSHandover): the downlink hands each to the
// site's SMSInbox and confirms its ID in the next poll's signed query
// (sms_ok, sms_no), after which central forgets the number. The downlink
// asks for them (sms=1) only when it has an SMSInbox and a BoxKey: it sends
// the box key's public half with every poll (changelog.HeaderBoxKey,
// covered by the poll's signature), central seals each number to it
// (changelog.SealSMS), and the downlink opens it (changelog.OpenSMS); a
// number that is not sealed to this site is refused.
//
// Every poll is signed fresh (Authorize): central refuses one whose time
// is more than changelog.FreshWindow from its clock. The downlink learns
// central's clock from each answer's Date header (Central) and, when a
// refused poll shows that the site's clock is off, signs it again at once.
//
// An entry of a type the site's build does not know is skipped, not a
// stall: the inbox records it (InboxSkipped) and the downlink goes on with
// the next entry. When a later build starts and knows a skipped type
// (SkipRecorder.RejoinNeeded), the downlink asks central in its signed
// poll (rejoin=1) to append the current reference data to the site's log
// again; once central acknowledged (header Veedel-Rejoined) and the site
// has applied its log up to the head central reported with that answer,
// the inbox forgets the skips of the types it now knows (ClearSkipped).
// The acknowledged replay is recorded at the site (ReplayAcknowledged) as
// soon as the answer arrives, so that a downlink restarted before it
// finished resumes applying it (PendingReplay) instead of asking again,
// which would make central append a second replay.
// Only reference data is replayed: a skipped command is lost, so central
// must send a command type only to sites that apply it (docs/SYNC.md).
package downlink

import (
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/retry"
)

// Inbox is where the site applies central's entries.
type Inbox interface {
	// InboxCursor returns the seq of the last entry applied (0 for none).
	InboxCursor(ctx context.Context) (uint64, error)
	// ApplyInbound applies one entry exactly once: the entry after the
	// cursor is applied together with the cursor's move in one
	// transaction; one at or below the cursor changes nothing. It returns
	// the outcome ("applied", "unchanged", "refused", "duplicate",
	// "skipped" for an entry of a type this build does not know, recorded
	// and passed like an applied one, or "parked" for one its workflow
	// cannot take yet, kept for ParkRetrier).
	ApplyInbound(ctx context.Context, e changelog.Entry) (string, error)
}

// SkipRecorder is an Inbox that records the entries it skipped for their
// type, so that a later build catches up on them. The appliance's store
// is one.
type SkipRecorder interface {
	// RejoinNeeded reports whether an entry was skipped whose type this
	// build applies: central should replay the reference data.
	RejoinNeeded(ctx context.Context) (bool, error)
	// ReplayAcknowledged durably records that central acknowledged the
	// request made with cursor after and that its replay lies in the
	// outbound log up to through.
	ReplayAcknowledged(ctx context.Context, after, through uint64) error
	// PendingReplay returns the acknowledged replay not yet finished (ok
	// false for none), for a downlink that starts again.
	PendingReplay(ctx context.Context) (after, through uint64, ok bool, err error)
	// ClearSkipped forgets the skipped entries at or below seq whose
	// types this build applies, once the replay has been applied, and
	// returns how many; it forgets the acknowledged replay in the same
	// transaction.
	ClearSkipped(ctx context.Context, through uint64) (int, error)
}

// ParkRetrier is an Inbox that parks the entries a workflow cannot take
// yet (the appliance's store: the exams without their escrow key) and
// offers them again when asked; the downlink asks after every round.
type ParkRetrier interface {
	// RetryParked offers the parked entries again and returns how many
	// it took off the list.
	RetryParked(ctx context.Context) (int, error)
}

// RejoinedHeader is central's acknowledgement of rejoin=1: its value is the
// poll's after (central/server.RejoinedHeader).
const RejoinedHeader = "Veedel-Rejoined"

// SMSInbox takes the SMS sign-ups central hands over with a download.
type SMSInbox interface {
	// ApplySMSHandover records the sign-up exactly once per hand-over ID
	// and returns the outcome ("applied", "duplicate" or "refused").
	ApplySMSHandover(ctx context.Context, h changelog.SMSHandover) (string, error)
}

// maxConfirmations bounds the hand-over IDs a poll confirms; more wait for
// the next poll (central offers an unconfirmed hand-over again, and the
// site's second application changes nothing).
const maxConfirmations = 2 * changelog.MaxSMSHandovers

// Defaults for the zero values of Downlink's tuning fields.
const (
	DefaultWait       = 25 * time.Second
	DefaultLimit      = 500
	DefaultMaxBackoff = 5 * time.Second
	// RefusedBackoff is how long the downlink waits after central refused
	// a poll (a 4xx) or the inbox refused an entry as not continuing its
	// chain (ECONFLICT): repeating at once would not help.
	RefusedBackoff = 30 * time.Second
)

// Downlink pulls one site's outbound log from central.
type Downlink struct {
	Inbox      Inbox
	Site       string
	CentralURL string // e.g. http://127.0.0.1:8080
	Client     *http.Client
	Logger     *slog.Logger
	// Authorize prepares each poll for central's check of the site's
	// identity: cmd/veedel signs it with the site's ed25519 key.
	Authorize func(*http.Request) error
	// SMS takes the SMS sign-ups central hands over. nil: the Inbox when
	// it is an SMSInbox (the appliance's store is); otherwise the downlink
	// does not ask for them.
	SMS SMSInbox
	// BoxKey is the site's X25519 key (sitekey.BoxKey) that central seals
	// the hand-overs' numbers to. Without it the downlink does not ask for
	// hand-overs.
	BoxKey *ecdh.PrivateKey
	// Central is the site's estimate of central's clock, learnt from the
	// answers' Date headers; Authorize should sign with it (cmd/veedel
	// shares one with the uplink). nil: the downlink keeps its own.
	Central *changelog.CentralClock

	// Wait is how long central may hold a poll open when nothing is new.
	Wait time.Duration
	// Limit bounds the entries of one answer.
	Limit      int
	MaxBackoff time.Duration
	Now        func() time.Time

	mu     sync.Mutex
	status Status

	// Hand-over IDs to confirm in the next poll; only Run's goroutine
	// touches them.
	smsOK, smsNo []string

	// The catch-up after an update, only Run's goroutine touches it:
	// while rejoin is rejoinAsked every poll asks for a replay until
	// central acknowledges; then (rejoinApplying) the skips at or below
	// rejoinAfter are cleared once the cursor reaches rejoinThrough
	// (central's head in the acknowledging answer). The acknowledgement is
	// recorded in the inbox (SkipRecorder), and a start with one pending
	// resumes applying without asking. Status.Rejoin mirrors rejoin.
	skips                      SkipRecorder
	rejoin                     string
	rejoinAfter, rejoinThrough uint64
}

// Status is the downlink's health, for /healthz.
type Status struct {
	Cursor      uint64    `json:"cursor"`
	Head        uint64    `json:"head"` // central's outbound head at the last answer
	Applied     uint64    `json:"applied"`
	LastContact time.Time `json:"last_contact,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Failures    int       `json:"consecutive_failures"`
	// SMSHandovers counts the SMS sign-ups taken from central (applied
	// or refused) since start.
	SMSHandovers uint64 `json:"sms_handovers"`
	// Skipped counts the entries skipped since start because this build
	// does not know their type.
	Skipped uint64 `json:"skipped"`
	// Rejoin is "asked" while central has not acknowledged a requested
	// replay of the reference data, "applying" until the site has applied
	// it, "" otherwise.
	Rejoin string `json:"rejoin,omitempty"`
}

// Status returns a snapshot of the downlink's state.
func (d *Downlink) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status
}

// minEmptyRound is the least time between two polls that brought nothing.
const minEmptyRound = 500 * time.Millisecond

// errRefused is an answer that repeating at once will not change.
var errRefused = errors.New("refused")

// Run polls until ctx ends. The cursor is the inbox's: it moves only with
// an applied entry, so nothing is skipped and nothing applied twice.
// ErrNotReady is what Authorize returns (wrapped) while the site cannot
// poll yet, e.g. before its key is enrolled at central. The downlink then
// waits quietly instead of counting a failure.
var ErrNotReady = errors.New("not ready to poll central")

// notReadyPause is how long the downlink waits after ErrNotReady.
const notReadyPause = 250 * time.Millisecond

func (d *Downlink) Run(ctx context.Context) error {
	d.defaults()
	cursor, err := d.Inbox.InboxCursor(ctx)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.status.Cursor = cursor
	d.mu.Unlock()
	if d.skips != nil {
		if err := d.startRejoin(ctx, cursor); err != nil {
			return err
		}
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		next, err := d.round(ctx, cursor)
		cursor = next
		if err == nil {
			backoff = 100 * time.Millisecond
			continue
		}
		if ctx.Err() != nil {
			break
		}
		if errors.Is(err, ErrNotReady) {
			// Not a failure: e.g. the site has not enrolled yet. Look
			// again soon, without alarming anyone.
			if !retry.Sleep(ctx, notReadyPause) {
				break
			}
			continue
		}
		d.fail(err)
		wait := backoff
		if errors.Is(err, errRefused) {
			wait = RefusedBackoff
		}
		// Jitter: sites that lost the WAN together must not all come back
		// in the same millisecond.
		if !retry.Sleep(ctx, retry.Jittered(wait)) {
			break
		}
		backoff = min(backoff*2, d.MaxBackoff)
	}
	return nil
}

// round polls once and applies what came; it returns the new cursor.
func (d *Downlink) round(ctx context.Context, cursor uint64) (uint64, error) {
	start := time.Now()
	dl, err := d.poll(ctx, cursor)
	if err != nil {
		return cursor, err
	}
	if len(dl.Entries) == 0 && !anyValid(dl.SMS) && time.Since(start) < minEmptyRound {
		// Central answered "nothing new" without waiting (it is shutting
		// down, or does not hold polls): do not poll in a tight loop.
		retry.Sleep(ctx, minEmptyRound)
	}
	d.mu.Lock()
	d.status.Head, d.status.LastContact = dl.Head, d.Now()
	d.mu.Unlock()
	for _, e := range dl.Entries {
		outcome, err := d.Inbox.ApplyInbound(ctx, e)
		if err != nil {
			if code := veedel.ErrorCode(err); code == veedel.EUNAVAILABLE || code == veedel.ECONFLICT {
				err = fmt.Errorf("%w: %v", errRefused, err)
			}
			return cursor, fmt.Errorf("apply outbound entry %d: %w", e.Seq, err)
		}
		if e.Seq > cursor {
			cursor = e.Seq
		}
		switch outcome {
		case "refused":
			d.Logger.Warn("the site refused an entry from central", "site", d.Site, "seq", e.Seq, "type", e.Type, "entity", e.Entity)
		case "skipped":
			// Type and seq only: the entity of an unknown type may name
			// anything (a ticket, a citizen's booking).
			d.Logger.Warn("entry of a type unknown to this build skipped; an update catches up on reference data", "site", d.Site, "seq", e.Seq, "type", e.Type)
		}
		d.mu.Lock()
		d.status.Cursor = cursor
		switch outcome {
		case "duplicate":
		case "skipped":
			d.status.Skipped++
		default:
			d.status.Applied++
		}
		d.mu.Unlock()
	}
	if err := d.finishReplay(ctx, cursor); err != nil {
		return cursor, err
	}
	if err := d.takeSMS(ctx, dl.SMS); err != nil {
		return cursor, err
	}
	if p, ok := d.Inbox.(ParkRetrier); ok {
		if n, err := p.RetryParked(ctx); err != nil {
			return cursor, fmt.Errorf("retry parked entries: %w", err)
		} else if n > 0 {
			d.Logger.Info("parked entries from central taken", "site", d.Site, "n", n)
		}
	}
	d.ok()
	return cursor, nil
}

// startRejoin decides at start whether the site catches up after an
// update: it resumes a replay central acknowledged before a restart, or
// else asks for one when this build applies a type an older one skipped.
// (Known types change only with a new build, so once per start is enough.)
func (d *Downlink) startRejoin(ctx context.Context, cursor uint64) error {
	after, through, pending, err := d.skips.PendingReplay(ctx)
	if err != nil {
		return err
	}
	if pending {
		// Asking again from a cursor above after would be a new request:
		// central would append the whole replay a second time.
		d.Logger.Info("resuming the replay of the reference data central acknowledged before the restart", "site", d.Site, "after", after, "head", through, "cursor", cursor)
		d.rejoinAfter, d.rejoinThrough = after, through
		d.setRejoin(rejoinApplying)
		// Applied in full before the restart: clear the skips now rather
		// than after the first answer, which may wait for d.Wait.
		if err := d.finishReplay(ctx, cursor); err != nil && ctx.Err() == nil {
			// Not fatal: the next round tries again.
			d.fail(err)
		}
		return nil
	}
	need, err := d.skips.RejoinNeeded(ctx)
	if err != nil {
		return err
	}
	if need {
		d.Logger.Info("this build applies entries an older one skipped: asking central to replay the reference data", "site", d.Site)
		d.setRejoin(rejoinAsked)
	}
	return nil
}

// finishReplay clears the skipped entries once the cursor has reached the
// end of the acknowledged replay.
func (d *Downlink) finishReplay(ctx context.Context, cursor uint64) error {
	if d.rejoin != rejoinApplying || cursor < d.rejoinThrough {
		return nil
	}
	n, err := d.skips.ClearSkipped(ctx, d.rejoinAfter)
	if err != nil {
		return fmt.Errorf("clear skipped entries: %w", err)
	}
	d.Logger.Info("reference data replayed and applied; skipped entries caught up", "site", d.Site, "through", d.rejoinThrough, "cleared", n)
	d.setRejoin("")
	return nil
}

// anyValid reports whether one of the hand-overs may be well-formed: named
// and sealed (whether it opens is takeSMS's check).
func anyValid(handovers []changelog.SMSHandover) bool {
	for _, h := range handovers {
		if changelog.ValidHandoverID(h.ID) && len(h.Sealed) > 0 {
			return true
		}
	}
	return false
}

// takeSMS hands the download's SMS sign-ups to the site and notes their
// IDs for confirmation. Each number must be sealed to this site
// (changelog.OpenSMS). A malformed hand-over, or one that does not open,
// is refused alone (sms_no, when its ID can be named), so that it holds up
// neither the entries nor the other sign-ups. Neither logs nor errors
// carry the number.
func (d *Downlink) takeSMS(ctx context.Context, handovers []changelog.SMSHandover) error {
	if len(handovers) == 0 || d.SMS == nil {
		return nil
	}
	for _, sealed := range handovers {
		h, err := changelog.OpenSMS(sealed, d.Site, d.BoxKey)
		if err == nil {
			err = h.Validate()
		} else {
			h = sealed
		}
		if err != nil {
			d.Logger.Warn("malformed sms sign-up from central refused", "site", d.Site, "handover", h, "err", err)
			if changelog.ValidHandoverID(h.ID) {
				d.smsNo = appendConfirmation(d.smsNo, h.ID)
			}
			continue
		}
		outcome, err := d.SMS.ApplySMSHandover(ctx, h)
		if err != nil {
			return fmt.Errorf("apply sms hand-over %s: %w", h.ID, err)
		}
		switch outcome {
		case "refused":
			d.smsNo = appendConfirmation(d.smsNo, h.ID)
		default:
			d.smsOK = appendConfirmation(d.smsOK, h.ID)
		}
		if outcome != "duplicate" {
			d.Logger.Info("sms sign-up taken from central", "site", d.Site, "ticket", h.Ticket, "handover", h.ID, "outcome", outcome)
			d.mu.Lock()
			d.status.SMSHandovers++
			d.mu.Unlock()
		}
	}
	return nil
}

// appendConfirmation adds id unless it is there, dropping the oldest
// beyond maxConfirmations.
func appendConfirmation(ids []string, id string) []string {
	for _, have := range ids {
		if have == id {
			return ids
		}
	}
	ids = append(ids, id)
	if len(ids) > maxConfirmations {
		ids = ids[len(ids)-maxConfirmations:]
	}
	return ids
}

// poll asks central for the entries after cursor, waiting up to d.Wait.
func (d *Downlink) poll(ctx context.Context, cursor uint64) (*changelog.Download, error) {
	q := url.Values{}
	q.Set("site", d.Site)
	q.Set("after", strconv.FormatUint(cursor, 10))
	q.Set("wait", d.Wait.String())
	q.Set("limit", strconv.Itoa(d.Limit))
	// The hand-over IDs are random and carry nothing personal; the query
	// is part of what Authorize signs, so nobody else can confirm them.
	smsOK, smsNo := len(d.smsOK), len(d.smsNo)
	if d.rejoin == rejoinAsked {
		// Signed with the rest of the query: nobody else can make central
		// replay to this site.
		q.Set("rejoin", "1")
	}
	if d.SMS != nil && d.BoxKey != nil {
		q.Set("sms", "1")
		if smsOK > 0 {
			q.Set("sms_ok", strings.Join(d.smsOK, ","))
		}
		if smsNo > 0 {
			q.Set("sms_no", strings.Join(d.smsNo, ","))
		}
	}
	// Central may hold the request for Wait; allow for the round trip.
	ctx, cancel := context.WithTimeout(ctx, d.Wait+15*time.Second)
	defer cancel()
	target := strings.TrimRight(d.CentralURL, "/") + "/api/v1/sync/outbound?" + q.Encode()
	resp, err := d.send(ctx, target)
	if err != nil {
		return nil, err
	}
	if d.Central.Observe(resp, d.Now()) && resp.StatusCode == http.StatusUnauthorized {
		// Refused, and central's Date header says the site's clock is
		// off: sign again at once with the corrected time (once).
		resp.Body.Close()
		d.Logger.Warn("central refused the poll; signing again with central's clock", "site", d.Site, "offset", d.Central.Offset().String())
		if resp, err = d.send(ctx, target); err != nil {
			return nil, err
		}
		d.Central.Observe(resp, d.Now())
	}
	defer resp.Body.Close()
	dl, decodeErr := changelog.ReadDownload(resp.Body)
	switch {
	case resp.StatusCode == http.StatusOK && decodeErr == nil:
		if dl.Site != d.Site {
			return nil, fmt.Errorf("central answered for site %q, not %q", dl.Site, d.Site)
		}
		if err := dl.Validate(); err != nil {
			return nil, fmt.Errorf("central's answer: %w", err)
		}
		// Central has the confirmations: forget those sent.
		d.smsOK, d.smsNo = d.smsOK[smsOK:], d.smsNo[smsNo:]
		if n := len(dl.Entries); n > 0 && dl.Entries[0].Seq != cursor+1 {
			return nil, fmt.Errorf("central answered from entry %d, asked for entries after %d", dl.Entries[0].Seq, cursor)
		}
		if d.rejoin == rejoinAsked && resp.Header.Get(RejoinedHeader) == strconv.FormatUint(cursor, 10) {
			// The replay lies in the log after cursor, up to dl.Head.
			// Recorded before any of it is applied: a restart from here
			// on resumes it. If recording fails, the next poll asks from
			// the same cursor, which central takes for the same request.
			if err := d.skips.ReplayAcknowledged(ctx, cursor, dl.Head); err != nil {
				return nil, fmt.Errorf("record central's acknowledged replay: %w", err)
			}
			d.rejoinAfter, d.rejoinThrough = cursor, dl.Head
			d.setRejoin(rejoinApplying)
			d.Logger.Info("central replays the reference data", "site", d.Site, "after", cursor, "head", dl.Head)
		}
		return dl, nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		msg := resp.Status
		if decodeErr == nil && dl.Error != "" {
			msg += ": " + dl.Error
		}
		return nil, fmt.Errorf("%w: central: %s", errRefused, msg)
	case decodeErr != nil && resp.StatusCode == http.StatusOK:
		return nil, fmt.Errorf("central's answer: %w", decodeErr)
	default:
		return nil, fmt.Errorf("central answered %s", resp.Status)
	}
}

// send signs (Authorize) and sends one poll, with the box key when the
// downlink takes hand-overs.
func (d *Downlink) send(ctx context.Context, target string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/cbor")
	if d.SMS != nil && d.BoxKey != nil {
		req.Header.Set(changelog.HeaderBoxKey, base64.RawURLEncoding.EncodeToString(d.BoxKey.PublicKey().Bytes()))
	}
	if d.Authorize != nil {
		if err := d.Authorize(req); err != nil {
			return nil, err
		}
	}
	return d.Client.Do(req)
}

func (d *Downlink) defaults() {
	if d.Client == nil {
		d.Client = &http.Client{}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Wait == 0 {
		d.Wait = DefaultWait
	}
	if d.Limit == 0 {
		d.Limit = DefaultLimit
	}
	if d.MaxBackoff == 0 {
		d.MaxBackoff = DefaultMaxBackoff
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Central == nil {
		d.Central = &changelog.CentralClock{}
	}
	if d.SMS == nil {
		d.SMS, _ = d.Inbox.(SMSInbox)
	}
	d.skips, _ = d.Inbox.(SkipRecorder)
}

// The phases of the catch-up after an update (Status.Rejoin).
const (
	rejoinAsked    = "asked"
	rejoinApplying = "applying"
)

// setRejoin moves the catch-up to state ("" when none is under way); only
// Run's goroutine calls it.
func (d *Downlink) setRejoin(state string) {
	d.rejoin = state
	d.mu.Lock()
	defer d.mu.Unlock()
	d.status.Rejoin = state
}

func (d *Downlink) ok() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.status.Failures > 0 {
		d.Logger.Info("downloads from central work again", "site", d.Site, "after_failures", d.status.Failures)
	}
	d.status.LastError, d.status.Failures = "", 0
}

func (d *Downlink) fail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.status.Failures == 0 {
		d.Logger.Warn("downloads from central failing; the site keeps working and will catch up", "site", d.Site, "err", err)
	}
	d.status.LastError, d.status.Failures = err.Error(), d.status.Failures+1
}
