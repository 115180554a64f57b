// Package notify sends citizens SMS about their ticket: "noch ca. 10
// Minuten" when their turn nears and "A042 bitte zu Platz 3" on call. It
// owns the SMS text encoding (GSM 03.38 7-bit where possible, UCS-2
// otherwise, split into concatenated segments), mobile-number validation and
// masking, the Sender interface with its adapters (HTTP gateway, log), and
// the Worker that turns store commits into messages of the appliance's
// durable SMS outbox and sends them with retries.
//
// Phone numbers are personal data: they live only in the site-local
// sms_signups table of the appliance's store, never in the change-log, URLs
// or logs (Mask them). The rule for erasing them:
//
//   - The transaction that ends a ticket (finished, no-show, cancelled,
//     and the first event of a new day, which expires the open tickets of
//     earlier days) deletes its sign-up and its outbox rows: once that
//     command returns, the number is gone from the store.
//   - Outbox rows hold the text ("A042 bitte zu Platz 3"), never the
//     number: sending joins the sign-up. So a message not yet handed to the
//     gateway when its ticket ends is not sent; it could only mislead (the
//     citizen was served, missed the call, cancelled, or the day is over).
//     The call message is queued and sent as soon as the worker sees the
//     call commit, normally long before the ticket ends; when the gateway
//     fails, its retries last as long as the ticket does, at most
//     MaxAttempts.
//   - A message being sent when its ticket ends holds the number in the
//     worker's memory only, for at most the send timeout (75 s).
//   - What no event ends (a ticket of yesterday before today's first
//     event, a ticket the state no longer knows) the worker erases on its
//     next scan, at most Poll later.
//
// The rule for failed sends: at most once where a send is ambiguous. A
// Sender whose error says the message may have gone out (MaybeSentError:
// a GSM modem took it and gave no answer in time, or the send's deadline
// ended while it waited for that answer) gets it recorded as sent and
// never sent again: a second "A042 bitte zu Platz 3" sends a citizen to a
// counter twice, which is worse than the rare message lost. A failure that
// retrying cannot fix (PermanentError: no SIM, PIN required, a rejected
// number or PDU) is recorded as failed at once and logged by ticket,
// without the number. Everything else (no network, a gateway's 5xx, a
// modem unplugged) is retried with backoff up to MaxAttempts; a message
// handed over whose outcome is lost to a crash before it is recorded may
// still go out twice.
//
// A sign-up left on central's status page reaches the site as a
// changelog.SMSHandover through the downlink (docs/SYNC.md) and is stored
// by sqlite.Store.ApplySMSHandover exactly like one made at the kiosk.
package notify
