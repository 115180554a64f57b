package notify

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/ui"
)

// Message kinds: each goes out at most once per ticket.
const (
	KindSoon   = "soon"   // "Ihre Nummer A042: noch ca. 10 Minuten"
	KindCalled = "called" // "A042 bitte zu Platz 3"
)

// Worker defaults.
const (
	DefaultLead        = 10 * time.Minute
	DefaultMaxAttempts = 6
	DefaultBackoff     = 30 * time.Second
	maxBackoff         = 15 * time.Minute
	defaultPoll        = 2 * time.Second
	defaultCoalesce    = 250 * time.Millisecond
	// sendTimeout bounds one Send. It leaves room for a GSM modem's
	// normal worst case (hardware/modem waits up to 60 s for the network
	// to accept a submit, after a few seconds of set-up), so that a slow
	// but accepted SMS is reported sent, not "maybe sent".
	sendTimeout = 75 * time.Second
	// recordTimeout bounds recording a send's outcome, which is done even
	// when the worker is stopping: a message sent must not be sent again.
	recordTimeout = 5 * time.Second
	drainBatch    = 20
)

// MaybeSentError is implemented by a Sender's error when the message may
// have gone out (a modem took it and did not answer in time). With
// MaybeSent() true the worker records the message as sent and never sends
// it again: a second "A042 bitte zu Platz 3" is worse than a rare lost one.
type MaybeSentError interface {
	error
	MaybeSent() bool
}

// PermanentError is implemented by a Sender's error that trying again
// cannot fix (no SIM, PIN required, a number or text the network
// rejects). With Permanent() true the worker marks the message failed at
// once, without retries.
type PermanentError interface {
	error
	Permanent() bool
}

// maybeSent reports whether err says the message may have gone out.
func maybeSent(err error) bool {
	var e MaybeSentError
	return errors.As(err, &e) && e.MaybeSent()
}

// permanent reports whether err says retrying cannot help.
func permanent(err error) bool {
	var e PermanentError
	return errors.As(err, &e) && e.Permanent()
}

// Worker turns the queue into SMS: after every commit (and every Poll) it
// scans the signed-up tickets, queues a message in the store's outbox when
// a trigger fires (the estimate reaches Lead; the ticket is called), and
// sends due messages, retrying failures with doubling backoff up to
// MaxAttempts; a message that may have been sent (MaybeSentError) counts
// as sent, and a permanent failure (PermanentError) is not retried. The store erases a sign-up in the transaction that ends its
// ticket; the worker only erases what no event ends (a ticket of an
// earlier day before the new day's first event, an unknown ticket). Queueing is idempotent
// (one message per kind and ticket), so a restart or a second scan never
// sends twice; a crash between a gateway's success and the outbox update
// may (at least once).
type Worker struct {
	Store  *sqlite.Store
	Sender Sender
	Logger *slog.Logger
	// Lead is how long before the expected call the "soon" message goes
	// out (0: DefaultLead).
	Lead time.Duration
	// MaxAttempts bounds the tries per message (0: DefaultMaxAttempts).
	MaxAttempts int
	// Backoff is the pause after the first failure, doubling after each
	// further one up to 15 minutes (0: DefaultBackoff).
	Backoff time.Duration
	// Poll is how often the worker looks without a commit (0: 2 s): for
	// sign-ups and retries.
	Poll time.Duration
	// Coalesce is how long the worker lets commits gather before it scans
	// for them (0: 250 ms): on a busy morning a site commits hundreds of
	// times a second, and one scan serves them all. An SMS a quarter of a
	// second later costs nobody anything; a scan per commit cost the
	// site's CPU about 7 % under make load.
	Coalesce time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	lastSweep time.Time // of the workflow SMS' records (messages.go)
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

// Run works until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	commits, stop := w.Store.Subscribe()
	defer stop()
	poll := w.Poll
	if poll <= 0 {
		poll = defaultPoll
	}
	coalesce := w.Coalesce
	if coalesce <= 0 {
		coalesce = defaultCoalesce
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		if err := w.Step(ctx); err != nil && ctx.Err() == nil {
			w.logger().Error("sms worker", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-commits:
			// Let the burst this commit belongs to finish: the commits
			// channel holds one wake-up, so every commit until the scan
			// is served by it.
			select {
			case <-ctx.Done():
				return
			case <-time.After(coalesce):
			}
		case <-ticker.C:
		}
	}
}

// Step scans once and sends what is due.
func (w *Worker) Step(ctx context.Context) error {
	if err := w.Scan(ctx); err != nil {
		return err
	}
	if err := w.Drain(ctx); err != nil {
		return err
	}
	return w.DrainMessages(ctx)
}

// action is what a scan decided for one signed-up ticket.
type action struct {
	ticket   string
	erase    bool
	kind     string // message to queue, or ""
	text     string
	dropSoon bool
}

// Scan applies the triggers to every signed-up ticket and erases the
// sign-ups the store has not erased yet: of tickets of an earlier day
// before the new day's first event, or no longer known (and, as a safety
// net, of ended tickets: the store erases those when they end).
func (w *Worker) Scan(ctx context.Context) error {
	signups, err := w.Store.SMSSignups(ctx)
	if err != nil || len(signups) == 0 {
		return err
	}
	lead := w.Lead
	if lead <= 0 {
		lead = DefaultLead
	}
	now := w.now()
	actions := make([]action, 0, len(signups))
	w.Store.View(func(st *queue.State) {
		today := st.DayOf(now)
		for _, su := range signups {
			actions = append(actions, decide(st, su, today, lead))
		}
	})
	for _, a := range actions {
		switch {
		case a.erase:
			if err := w.Store.EraseSMS(ctx, a.ticket); err != nil {
				return err
			}
			w.logger().Info("sms sign-up erased: the ticket ended", "ticket", a.ticket)
			continue
		case a.dropSoon:
			if err := w.Store.DropSMS(ctx, a.ticket, KindSoon); err != nil {
				return err
			}
		}
		if a.kind == "" {
			continue
		}
		queued, err := w.Store.EnqueueSMS(ctx, a.ticket, a.kind, a.text, now)
		if err != nil {
			return err
		}
		if queued {
			w.logger().Info("sms queued", "ticket", a.ticket, "kind", a.kind)
		}
	}
	return nil
}

// decide requires the store's lock.
func decide(st *queue.State, su sqlite.SMSSignup, today string, lead time.Duration) action {
	a := action{ticket: su.TicketID}
	t := st.Tickets[su.TicketID]
	if t == nil || ended(t.Status) || t.Day < today {
		a.erase = true
		return a
	}
	switch t.Status {
	case queue.StatusWaiting:
		// Only while a counter serving the ticket is staffed: before
		// opening, the estimate says nothing about when the call comes.
		est := st.EstimateTicket(t.ID)
		if est.Position == 0 || time.Duration(est.Minutes)*time.Minute > lead || !served(st, t.Service) {
			break
		}
		a.kind = KindSoon
		if est.Minutes <= 1 {
			a.text = ui.Translate(su.Lang, "ticket.sms.next", t.Number)
		} else {
			a.text = ui.Translate(su.Lang, "ticket.sms.soon", t.Number, est.Minutes)
		}
	case queue.StatusCalled:
		counter := t.Counter
		if c := st.Counters[t.Counter]; c != nil && c.Name != "" {
			counter = c.Name
		}
		a.kind, a.text = KindCalled, ui.Translate(su.Lang, "ticket.sms.called", t.Number, counter)
		a.dropSoon = true
	default:
		// Parked, being served …: nothing to say, but "soon" is stale.
		a.dropSoon = true
	}
	return a
}

// served reports whether an open counter serves service.
func served(st *queue.State, service string) bool {
	for _, c := range st.Counters {
		if c.Open && c.Serves(service) {
			return true
		}
	}
	return false
}

// ended reports whether a ticket status is final: the number goes.
func ended(status string) bool {
	switch status {
	case queue.StatusDone, queue.StatusNoShow, queue.StatusExpired, queue.StatusCancelled:
		return true
	}
	return false
}

// Drain sends the due messages of the outbox.
func (w *Worker) Drain(ctx context.Context) error {
	if w.Sender == nil {
		return nil
	}
	maxAttempts := w.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	for {
		due, err := w.Store.DueSMS(ctx, w.now(), drainBatch)
		if err != nil || len(due) == 0 {
			return err
		}
		for _, m := range due {
			sctx, cancel := context.WithTimeout(ctx, sendTimeout)
			err := w.Sender.Send(sctx, m.To, m.Text)
			cancel()
			if err == nil || maybeSent(err) {
				// Recorded even when ctx ended meanwhile: it went out (or
				// may have), and must not go out again after a restart.
				rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
				merr := w.Store.MarkSMSSent(rctx, m.ID, w.now())
				rcancel()
				if merr != nil {
					return merr
				}
				if err == nil {
					w.logger().Info("sms sent", "ticket", m.TicketID, "kind", m.Kind, "to", Mask(m.To))
				} else {
					w.logger().Warn("sms may have been sent: not sent again", "ticket", m.TicketID, "kind", m.Kind,
						"to", Mask(m.To), "err", scrub(err.Error(), m.To))
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
				continue
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			attempts := m.Attempts + 1
			reason := scrub(err.Error(), m.To)
			perm := permanent(err)
			giveUp := perm || attempts >= maxAttempts
			next := w.now().Add(w.backoff(attempts))
			if err := w.Store.MarkSMSRetry(ctx, m.ID, next, giveUp, reason); err != nil {
				return err
			}
			switch {
			case perm:
				// Not even masked: a permanent failure is about the modem
				// or the SIM, and the ticket identifies the message.
				w.logger().Error("sms failed, not retried: permanent error", "ticket", m.TicketID, "kind", m.Kind, "attempts", attempts, "err", reason)
			case giveUp:
				w.logger().Error("sms failed for good", "ticket", m.TicketID, "kind", m.Kind, "to", Mask(m.To), "attempts", attempts, "err", reason)
			default:
				w.logger().Warn("sms failed, will retry", "ticket", m.TicketID, "kind", m.Kind, "to", Mask(m.To), "attempts", attempts, "retry_at", next, "err", reason)
			}
		}
		if len(due) < drainBatch {
			return nil
		}
	}
}

// backoff is the pause after the nth failed attempt.
func (w *Worker) backoff(n int) time.Duration {
	d := w.Backoff
	if d <= 0 {
		d = DefaultBackoff
	}
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// scrub masks a number in a sender's error text, whatever the sender: its
// error ends up in logs and the outbox row.
func scrub(msg, to string) string {
	msg = strings.ReplaceAll(msg, to, Mask(to))
	if digits := strings.TrimPrefix(to, "+"); len(digits) >= 6 {
		msg = strings.ReplaceAll(msg, digits, Mask(to))
		if national, ok := strings.CutPrefix(digits, "49"); ok {
			msg = strings.ReplaceAll(msg, "0"+national, Mask(to))
		}
	}
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}
