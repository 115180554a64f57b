// Package registration is the certificate-order workflow: citizens order a
// Meldebescheinigung or a civil-status certificate at central's portal,
// the order goes down to the one site that owns it, the site's back office
// works on it (also while offline), and every step goes back up so that
// the citizen's status page tells the truth.
//
// Ownership: central only places an order (registration.order_placed, in
// the site's outbound log); from then on the site alone changes it, with
// events in its own change-log. Central folds both into a read model of
// statuses. The citizen's personal data travels sealed to the owning
// site's box key (changelog.Seal): central forwards and stores what it
// cannot read, and keeps only statuses.
package registration

import (
	"context"
	"time"

	"github.com/veedel/veedel/workflow"
)

// Prefix is the prefix of the workflow's event types.
const Prefix = "registration."

// Event types: part of the wire format, never renamed.
const (
	// TypeOrderPlaced comes from central only: a citizen placed an order
	// for this site. The site answers with TypeOrderReceived.
	TypeOrderPlaced = "registration.order_placed"

	TypeOrderReceived   = "registration.order_received"
	TypeOrderClaimed    = "registration.order_claimed"
	TypeOrderReady      = "registration.order_ready"
	TypeOrderDispatched = "registration.order_dispatched"
	TypeOrderCollected  = "registration.order_collected"
	TypeOrderRejected   = "registration.order_rejected"
)

// Statuses of an order, as the citizen's status page and the API name them.
const (
	StatusReceived   = "received"    // central has it; on its way to the site
	StatusAtSite     = "at_site"     // the site has it
	StatusInProgress = "in_progress" // a clerk works on it
	StatusReady      = "ready"       // ready for pickup (or for the post)
	StatusDispatched = "dispatched"  // sent by post
	StatusCollected  = "collected"   // picked up
	StatusRejected   = "rejected"    // refused, with a reason the citizen reads
	// StatusAwaitingPayment and StatusPaymentFailed (payment.go) come
	// before StatusReceived for orders paid online.
)

// Done reports whether status is final.
func Done(status string) bool {
	return status == StatusDispatched || status == StatusCollected || status == StatusRejected
}

// OrderPlaced is an order as central sends it down. Only what central may
// know is in clear (kind, delivery, copies, fee, payment); the person,
// event, address and contact are Sealed to the site (Details, CBOR).
type OrderPlaced struct {
	Code      string `cbor:"1,keyasint"`
	Kind      string `cbor:"2,keyasint"`
	Delivery  string `cbor:"3,keyasint"`
	Copies    int    `cbor:"4,keyasint"`
	FeeCents  int    `cbor:"5,keyasint"`
	Payment   string `cbor:"6,keyasint"`
	Sealed    []byte `cbor:"7,keyasint"`
	Placed    int64  `cbor:"8,keyasint"` // Unix milliseconds at central
	TokenHash []byte `cbor:"9,keyasint"` // SHA-256 of the citizen's status token
	Lang      string `cbor:"10,keyasint,omitempty"`
	PaidTxn   string `cbor:"11,keyasint,omitempty"` // the payment provider's transaction, when paid online
}

// OrderReceived records that the site took the order over. It carries the
// placed order as it came (the details still sealed: the site's log goes
// up to central, which must not read them).
type OrderReceived struct {
	OrderPlaced
}

// OrderClaimed records that a clerk took the order on.
type OrderClaimed struct {
	Code  string `cbor:"1,keyasint"`
	Staff string `cbor:"2,keyasint"`
}

// OrderReady records that the certificate is ready (for pickup, or to be
// posted).
type OrderReady struct {
	Code  string `cbor:"1,keyasint"`
	Staff string `cbor:"2,keyasint"`
}

// OrderDispatched records that the certificate went into the post.
type OrderDispatched struct {
	Code  string `cbor:"1,keyasint"`
	Staff string `cbor:"2,keyasint"`
}

// OrderCollected records that the citizen picked the certificate up.
// Ticket is the pickup ticket when the citizen came through the queue.
type OrderCollected struct {
	Code   string `cbor:"1,keyasint"`
	Staff  string `cbor:"2,keyasint"`
	Ticket string `cbor:"3,keyasint,omitempty"`
}

// OrderRejected records that the site refused the order. Reason is for the
// citizen (it goes to central and onto the status page): the clerk is told
// not to write personal data into it.
type OrderRejected struct {
	Code   string `cbor:"1,keyasint"`
	Staff  string `cbor:"2,keyasint"`
	Reason string `cbor:"3,keyasint"`
}

// NewPayload returns a pointer to a zero payload of an event type.
func NewPayload(eventType string) (any, bool) {
	switch eventType {
	case TypeOrderPlaced:
		return &OrderPlaced{}, true
	case TypeOrderReceived:
		return &OrderReceived{}, true
	case TypeOrderClaimed:
		return &OrderClaimed{}, true
	case TypeOrderReady:
		return &OrderReady{}, true
	case TypeOrderDispatched:
		return &OrderDispatched{}, true
	case TypeOrderCollected:
		return &OrderCollected{}, true
	case TypeOrderRejected:
		return &OrderRejected{}, true
	}
	return nil, false
}

// Site is the workflow's part on the appliance (site.go).
var Site = workflow.Site{
	Name:       "registration",
	Prefix:     Prefix,
	NewPayload: NewPayload,
	Project:    project,
	Accept:     accept,
	CheckIn:    checkIn,
	Messages:   messages,
	Erase: func(ctx context.Context, q workflow.Querier, now time.Time) (int64, error) {
		return EraseDetails(ctx, q, now.Add(-KeepDetails))
	},
}

// KeepDetails is how long the site keeps an order's personal data after
// the order is done.
var KeepDetails = 90 * 24 * time.Hour

// codeOf returns the order code an event is about.
func codeOf(p any) string {
	switch p := p.(type) {
	case *OrderPlaced:
		return p.Code
	case *OrderReceived:
		return p.Code
	case *OrderClaimed:
		return p.Code
	case *OrderReady:
		return p.Code
	case *OrderDispatched:
		return p.Code
	case *OrderCollected:
		return p.Code
	case *OrderRejected:
		return p.Code
	}
	return ""
}

// entity is the change-log entity of an order.
func entity(code string) string { return "order/" + code }

// sealInfo binds sealed details to the site and the order.
func sealInfo(site, code string) string { return "registration.order\n" + site + "\n" + code }
