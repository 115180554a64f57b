package notify

import (
	"context"
	"time"

	"github.com/veedel/veedel/appliance/sqlite"
)

// The workflows' SMS (sqlite message_sms.go): an appointment's reminder,
// an order ready, dispatched or rejected, queued with the event that
// causes it when the citizen gave a mobile number. The worker sends them
// through the same Sender as the tickets' SMS, by the same rules: at most
// once where a send is ambiguous, a permanent failure not retried, the
// rest retried with backoff up to MaxAttempts. The number and the text
// are erased in the statement that records the outcome; the record (its
// key, no number) is deleted after sqlite.MessageSMSRetention.

// DrainMessages sends the due workflow SMS.
func (w *Worker) DrainMessages(ctx context.Context) error {
	if w.Sender == nil {
		return nil
	}
	now := w.now()
	if now.Sub(w.lastSweep) >= time.Hour {
		if err := w.Store.SweepMessageSMS(ctx, now.Add(-sqlite.MessageSMSRetention)); err != nil {
			return err
		}
		w.lastSweep = now
	}
	maxAttempts := w.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	for {
		due, err := w.Store.DueMessageSMS(ctx, w.now(), drainBatch)
		if err != nil || len(due) == 0 {
			return err
		}
		for _, m := range due {
			to, nerr := NormalizeMobile(m.To)
			if nerr != nil {
				// The portal checked the number's form; a number that is
				// no mobile one cannot take an SMS, now or later.
				if err := w.Store.MarkMessageSMSRetry(ctx, m.ID, w.now(), w.now(), true, "not a mobile number"); err != nil {
					return err
				}
				w.logger().Warn("sms not sent: not a mobile number", "message", m.Key)
				continue
			}
			sctx, cancel := context.WithTimeout(ctx, sendTimeout)
			err := w.Sender.Send(sctx, to, m.Text)
			cancel()
			if err == nil || maybeSent(err) {
				rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
				merr := w.Store.MarkMessageSMSSent(rctx, m.ID, w.now())
				rcancel()
				if merr != nil {
					return merr
				}
				if err == nil {
					w.logger().Info("sms sent", "message", m.Key, "to", Mask(to))
				} else {
					w.logger().Warn("sms may have been sent: not sent again", "message", m.Key, "to", Mask(to), "err", scrub(err.Error(), to))
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
			reason := scrub(err.Error(), to)
			giveUp := permanent(err) || attempts >= maxAttempts
			next := w.now().Add(w.backoff(attempts))
			if err := w.Store.MarkMessageSMSRetry(ctx, m.ID, w.now(), next, giveUp, reason); err != nil {
				return err
			}
			if giveUp {
				w.logger().Error("sms failed for good", "message", m.Key, "to", Mask(to), "attempts", attempts, "err", reason)
			} else {
				w.logger().Warn("sms failed, will retry", "message", m.Key, "to", Mask(to), "attempts", attempts, "retry_at", next, "err", reason)
			}
		}
		if len(due) < drainBatch {
			return nil
		}
	}
}

// Scrub masks number (in any of its usual forms) in msg, a sender's error
// text, and bounds its length: for logs and errors outside this package.
func Scrub(msg, number string) string { return scrub(msg, number) }
