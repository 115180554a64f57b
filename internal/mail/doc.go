// Package mail sends e-mail to citizens and staff through the city's SMTP
// relay, from a durable outbox in the node's own SQL database.
//
// It owns three things:
//
//   - Message and its rendering as an RFC 5322 message: UTF-8 headers as
//     RFC 2047 encoded words, a plain-text body with an optional HTML
//     alternative and one optional attachment (an .ics, a PDF), quoted-
//     printable and base64 bodies, so the rendered bytes are 7-bit ASCII
//     with lines under 998 octets and pass any relay, 8BITMIME or not.
//   - Relay, a Sender that delivers through one SMTP relay (host:port),
//     with STARTTLS when the relay offers it (or required) and AUTH PLAIN
//     when credentials are configured.
//   - Outbox, the durable queue in table mail_outbox: Enqueue inside the
//     caller's transaction (the mail exists exactly when the business
//     change commits), a worker that sends with capped exponential
//     backoff, and erasure of the message and its recipient as soon as
//     the relay took it or it failed for good.
//
// Delivery is at least once, never "twice after a recorded success". Each
// attempt is recorded before it starts (attempts+1 and a lease) and its
// outcome after it ends; a sent row is never picked again, also after a
// restart. The one window left is between the relay's final 250 and the
// commit that marks the row sent: if the process dies there (or the
// connection drops before the 250 arrives), the message is sent again
// after the lease, with the same bytes and the same Message-ID header, so a
// relay or mail client that deduplicates by Message-ID shows it once. We
// take that over at-most-once: a lost confirmation code or "Ihre Urkunde
// liegt bereit" costs a citizen a trip; a duplicate costs a glance.
//
// Personal data: the recipient address and the rendered message (names,
// codes, body) live in the row only while it is pending. Marking it sent
// or failed sets both to NULL in the same statement; what stays is id,
// Message-ID, the caller's key, status, attempts and times, deleted after
// Retention. Logs name the outbox id and Message-ID, never an address,
// and error texts from the relay are stored with the address cut out.
//
// The SMTP stand-in for the demo and the tests is package mailsim.
package mail
