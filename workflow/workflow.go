// Package workflow is the seam between the change-log and the kinds of work
// a site does: the queue, and the workflows beside it (certificate orders,
// vehicle registration, school-entry exams). The site's store and central
// know a workflow only through what it registers here (workflows.go at the
// module root lists them): its event types, how its events change the
// site's tables, what it takes from central, and how central folds them
// into a read model. Everything else (domain rules, pages) stays in the
// workflow's own package.
package workflow

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Event is one state change in a site's change-log. At is the site's time
// of the change (from its hybrid logical clock); Payload is a pointer to
// one of the event type's payload structs (as NewPayload makes them).
type Event struct {
	Type    string
	Entity  string
	At      time.Time
	Payload any
}

// Querier is what a workflow may do in the command's transaction: *sql.Tx
// (and, for reads, *sql.DB) satisfy it.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Env is what a workflow's site part gets from the store besides the
// transaction: the site and the opener of what central sealed to it.
type Env struct {
	Site string
	// Open opens data central sealed to this site's box key for info
	// (changelog.Seal); an EINVALID error when it does not open.
	Open func(info string, sealed []byte) ([]byte, error)
	// Seal seals plaintext to this site's own box key for info, so that
	// Open opens it again (a workflow's keys that the site's log keeps);
	// nil when the site runs without a box key.
	Seal func(info string, plaintext []byte) ([]byte, error)
}

// Site is a workflow's part on the appliance.
type Site struct {
	// Name names the workflow in logs and errors ("registration").
	Name string
	// Prefix is the prefix of every one of its event types, dot included
	// ("registration."). Prefixes do not overlap.
	Prefix string
	// NewPayload returns a pointer to a zero payload for one of its event
	// types, or false for a type this build does not know.
	NewPayload func(eventType string) (any, bool)
	// Project keeps the workflow's tables in step with one of its events,
	// inside the command's transaction. It must depend only on the event
	// and on rows earlier events wrote, so that replaying the log through
	// it rebuilds the tables.
	Project func(ctx context.Context, q Querier, env Env, e Event) error
	// Accept decides what an entry central sent changes at the site: the
	// site's own events, committed in the same transaction as the inbox
	// row; none when the site has it already; a veedel.Error when the
	// site's rules refuse it (recorded, skipped); a Wait error when the
	// site cannot take it yet for want of something it can be given later
	// (the health office's escrow key): the entry is parked, the entries
	// after it go on, and it is offered again once the site has what it
	// lacked. Nil: the workflow takes nothing from central.
	Accept func(ctx context.Context, q Querier, env Env, at time.Time, e Event) ([]Event, error)
	// Erase erases the personal data whose keeping time is over at now
	// (outside the change-log: the workflow's tables) and returns how
	// many records it erased. Nil: the workflow keeps none.
	Erase func(ctx context.Context, q Querier, now time.Time) (int64, error)
	// CheckIn takes a code typed or scanned at the kiosk (the box that
	// takes booking codes) when it is one of the workflow's: it returns
	// the record the ticket is for (ref, "order/U…") and the service to
	// queue it in; ENOTFOUND when the code is not the workflow's; another
	// error when it is but cannot check in now (the message says why).
	// Nil: the workflow has no codes.
	CheckIn func(ctx context.Context, q Querier, at time.Time, code string) (ref, service string, err error)
	// BookedFor names the record a booking is for (forRef: the
	// queue booking's For, appointment.Booked.For) as CheckIn names it
	// (ref, "exam/…"), so that checking in with the booking's code and
	// with the record's own code gives one ticket; ENOTFOUND when forRef
	// is not one of the workflow's (or its record is not here). Nil: no
	// booking is made for the workflow's records.
	BookedFor func(ctx context.Context, q Querier, forRef string) (ref string, err error)
	// Messages returns what a new event tells the citizen (the order is
	// ready): the store queues them in the same transaction as the event,
	// so they go out exactly when it commits, and never on a replay. Nil:
	// the workflow sends nothing.
	Messages func(ctx context.Context, q Querier, e Event) ([]Message, error)
	// Due returns the messages due at now that no event brings (the
	// reminder the day before an appointment). The store asks every few
	// minutes and queues them by Key, so each goes out once however often
	// it is returned. Nil: none.
	Due func(ctx context.Context, q Querier, now time.Time) ([]Message, error)
}

// Message is a message to a citizen: by e-mail when Email is set, by SMS
// from the site (its modem or gateway) when Phone is set; both when both
// are.
type Message struct {
	Name, Email string
	Phone       string // as the citizen gave it
	Subject     string
	Text        string
	// SMS is the text as an SMS, short (one or two segments); empty:
	// Text.
	SMS string
	// Key makes the message unique: queued twice, it is sent once.
	Key string
}

// Central is a workflow's read model at central, folded from the logs.
// Central calls it serially per site, in log order; implementations guard
// their own state for readers.
type Central interface {
	// Prefix is the Site's prefix.
	Prefix() string
	// NewPayload is the Site's NewPayload.
	NewPayload(eventType string) (any, bool)
	// FromSite folds an entry of the site's own change-log.
	FromSite(site string, e Event)
	// Sent folds an entry central appended to the site's outbound log.
	Sent(site string, e Event)
}

// Payloads returns a NewPayload for decoders that knows base's types (the
// queue's) and those of every workflow registered.
func Payloads(base func(string) (any, bool), sites []Site) func(string) (any, bool) {
	return func(eventType string) (any, bool) {
		if p, ok := base(eventType); ok {
			return p, true
		}
		for _, s := range sites {
			if strings.HasPrefix(eventType, s.Prefix) {
				return s.NewPayload(eventType)
			}
		}
		return nil, false
	}
}

// Of returns the registered Site whose prefix eventType has.
func Of(sites []Site, eventType string) (Site, bool) {
	for _, s := range sites {
		if strings.HasPrefix(eventType, s.Prefix) {
			return s, true
		}
	}
	return Site{}, false
}

// Snapshotter is implemented by a Central whose read model can be frozen
// and thawed again, so that central starts from a snapshot and folds only
// the log entries after it instead of every log from the first entry
// (central/snapshot.go). Central calls Snapshot while no entry is being
// folded (every site's fold waits), so that the snapshot covers exactly
// the log positions central records beside it; it encodes the frozen
// model (JSON) once the folds go on.
//
// A Central that is not a Snapshotter makes central fold every log at
// start, as before: implement it together with FromSite and Sent.
type Snapshotter interface {
	// Snapshot returns a copy of what FromSite and Sent folded (not the
	// settings a caller gives the model, nor what central's own store
	// reloads at every start), sharing no memory with the model, for
	// encoding/json, and the shape's version. It should be quick: folds
	// wait for it.
	Snapshot() (version int, frozen any)
	// Restore thaws a frozen model (its JSON, DecodeSnapshot) into a
	// new, empty model. An error (a version this build does not read,
	// damaged bytes) makes central fold the logs instead; a Restore that
	// fails may leave the model half-filled, central discards it.
	Restore(version int, data []byte) error
}

// Millis carries a time through a snapshot (0: the zero time); AtMillis
// gives it back in the form a fold gives event times (time.UnixMilli), so
// that a restored model equals a folded one field for field.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// AtMillis is the time Millis carried.
func AtMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// DecodeSnapshot decodes a frozen model's JSON into v; an error
// naming the workflow when the version is not want or the data is
// damaged.
func DecodeSnapshot(name string, version, want int, data []byte, v any) error {
	if version != want {
		return fmt.Errorf("%s: snapshot version %d, this build reads %d", name, version, want)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: snapshot: %w", name, err)
	}
	return nil
}

// Wait is Accept's answer for an entry the site cannot take yet: Reason
// says what it lacks, in words the desk shows ("German / English").
type Wait struct{ Reason string }

func (w *Wait) Error() string { return "waits: " + w.Reason }

// Waits returns a Wait error with reason.
func Waits(reason string) error { return &Wait{Reason: reason} }

// WaitReason returns the reason of a Wait error in err's chain.
func WaitReason(err error) (string, bool) {
	var w *Wait
	if errors.As(err, &w) {
		return w.Reason, true
	}
	return "", false
}
