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
// or logs (Mask them), and are erased when the ticket ends.
package notify
