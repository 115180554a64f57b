package registration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/workflow"
)

// The site's side: the orders table is the projection of the events, and
// the commands decide in the command's transaction from it.

// Order is an order as the site's back office sees it.
type Order struct {
	Code       string    `json:"code"`
	Kind       string    `json:"kind"`
	Delivery   string    `json:"delivery"`
	Copies     int       `json:"copies"`
	FeeCents   int       `json:"fee_cents"`
	Payment    string    `json:"payment"`
	Lang       string    `json:"lang,omitempty"`
	Status     string    `json:"status"`
	Staff      string    `json:"staff,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Ticket     string    `json:"ticket,omitempty"`
	PlacedAt   time.Time `json:"placed_at"`
	ReceivedAt time.Time `json:"received_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// Details are the personal data; nil once erased (or when they did
	// not open).
	Details *Details `json:"details,omitempty"`
}

var codePattern = regexp.MustCompile(`^[A-Z0-9]{4,16}$`)

// accept decides what an order central placed changes here.
func accept(ctx context.Context, q workflow.Querier, env workflow.Env, at time.Time, e workflow.Event) ([]workflow.Event, error) {
	p, ok := e.Payload.(*OrderPlaced)
	if !ok {
		return nil, veedel.Errorf(veedel.EINVALID, "Ereignis %s wird von der Zentrale nicht angenommen / event %s is not accepted from central", e.Type, e.Type)
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	if _, err := status(ctx, q, p.Code); err == nil {
		return nil, nil // the site has it already
	} else if veedel.ErrorCode(err) != veedel.ENOTFOUND {
		return nil, err
	}
	events := []workflow.Event{{Type: TypeOrderReceived, Entity: entity(p.Code), At: at, Payload: &OrderReceived{OrderPlaced: *p}}}
	if _, err := openDetails(env, p); err != nil {
		// Sealed to another key (the site was re-enrolled in between):
		// the citizen must learn it rather than wait for nothing.
		events = append(events, workflow.Event{Type: TypeOrderRejected, Entity: entity(p.Code), At: at,
			Payload: &OrderRejected{Code: p.Code, Reason: "Ihre Angaben konnten am Standort nicht gelesen werden. Bitte bestellen Sie erneut."}})
	}
	return events, nil
}

// check refuses a placed order the site cannot keep.
func (p *OrderPlaced) check() error {
	known := false
	for _, k := range Kinds {
		known = known || k == p.Kind
	}
	switch {
	case !codePattern.MatchString(p.Code):
		return veedel.Errorf(veedel.EINVALID, "Bestellcode %q ungültig / order code invalid", p.Code)
	case !known:
		return veedel.Errorf(veedel.EINVALID, "Unbekannte Urkunde %q / unknown kind", p.Kind)
	case p.Delivery != DeliveryPickup && p.Delivery != DeliveryPost:
		return veedel.Errorf(veedel.EINVALID, "Unbekannte Zustellung %q / unknown delivery", p.Delivery)
	case p.Copies < 1 || p.Copies > MaxCopies:
		return veedel.Errorf(veedel.EINVALID, "Exemplare %d außerhalb 1–%d / copies out of range", p.Copies, MaxCopies)
	case p.FeeCents < 0:
		return veedel.Errorf(veedel.EINVALID, "Gebühr negativ / negative fee")
	}
	return nil
}

func openDetails(env workflow.Env, p *OrderPlaced) (*Details, error) {
	if env.Open == nil {
		return nil, veedel.Errorf(veedel.EINVALID, "no box key")
	}
	plain, err := env.Open(sealInfo(env.Site, p.Code), p.Sealed)
	if err != nil {
		return nil, err
	}
	var d Details
	if err := cbor.Unmarshal(plain, &d); err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "order %s: details malformed", p.Code)
	}
	return &d, nil
}

// project keeps the orders table in step with an event.
func project(ctx context.Context, q workflow.Querier, env workflow.Env, e workflow.Event) error {
	at := e.At.UnixMilli()
	var err error
	switch p := e.Payload.(type) {
	case *OrderReceived:
		var details []byte
		if d, oerr := openDetails(env, &p.OrderPlaced); oerr == nil {
			if details, err = cbor.Marshal(d); err != nil {
				return err
			}
		}
		_, err = q.ExecContext(ctx, `INSERT INTO orders (code, kind, delivery, copies, fee_cents, payment, lang, status, details, placed_at, received_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`,
			p.Code, p.Kind, p.Delivery, p.Copies, p.FeeCents, p.Payment, p.Lang, StatusAtSite, details, p.Placed, at, at)
	case *OrderClaimed:
		_, err = q.ExecContext(ctx, `UPDATE orders SET status = ?, staff = ?, updated_at = ? WHERE code = ?`, StatusInProgress, p.Staff, at, p.Code)
	case *OrderReady:
		_, err = q.ExecContext(ctx, `UPDATE orders SET status = ?, staff = ?, updated_at = ? WHERE code = ?`, StatusReady, p.Staff, at, p.Code)
	case *OrderDispatched:
		_, err = q.ExecContext(ctx, `UPDATE orders SET status = ?, staff = ?, updated_at = ?, done_at = ? WHERE code = ?`, StatusDispatched, p.Staff, at, at, p.Code)
	case *OrderCollected:
		_, err = q.ExecContext(ctx, `UPDATE orders SET status = ?, staff = ?, ticket = ?, updated_at = ?, done_at = ? WHERE code = ?`, StatusCollected, p.Staff, p.Ticket, at, at, p.Code)
	case *OrderRejected:
		_, err = q.ExecContext(ctx, `UPDATE orders SET status = ?, staff = ?, reason = ?, updated_at = ?, done_at = ? WHERE code = ?`, StatusRejected, p.Staff, p.Reason, at, at, p.Code)
	case *OrderPlaced:
		return fmt.Errorf("%s is central's and never in the site's log", e.Type)
	}
	return err
}

// status returns an order's status, ENOTFOUND for an unknown code.
func status(ctx context.Context, q workflow.Querier, code string) (string, error) {
	var st string
	err := q.QueryRowContext(ctx, `SELECT status FROM orders WHERE code = ?`, code).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", veedel.Errorf(veedel.ENOTFOUND, "Bestellung %s ist hier nicht bekannt / order %s is not known here", code, code)
	}
	return st, err
}

// Actions the back office takes on an order.
const (
	ActionClaim    = "claim"
	ActionReady    = "ready"
	ActionDispatch = "dispatch"
	ActionReject   = "reject"
	ActionCollect  = "collect"
)

// MaxReason bounds a rejection's reason.
const MaxReason = 300

// Decide returns the event of action on the order code by staff, as of at,
// or an error that leaves the order unchanged: ENOTFOUND for an unknown
// order, ECONFLICT for a step its status does not allow, EINVALID for a
// missing reason.
func Decide(ctx context.Context, q workflow.Querier, at time.Time, code, action, staff, reason, ticket string) (workflow.Event, error) {
	var o struct{ status, delivery, staff string }
	code = strings.ToUpper(strings.TrimSpace(code))
	err := q.QueryRowContext(ctx, `SELECT status, delivery, staff FROM orders WHERE code = ?`, code).Scan(&o.status, &o.delivery, &o.staff)
	if errors.Is(err, sql.ErrNoRows) {
		return workflow.Event{}, veedel.Errorf(veedel.ENOTFOUND, "Bestellung %s ist hier nicht bekannt / order %s is not known here", code, code)
	} else if err != nil {
		return workflow.Event{}, err
	}
	if Done(o.status) {
		return workflow.Event{}, veedel.Errorf(veedel.ECONFLICT, "Bestellung %s ist schon abgeschlossen (%s) / order %s is closed already (%s)", code, o.status, code, o.status)
	}
	ev := workflow.Event{Entity: entity(code), At: at}
	not := func(want string) error {
		return veedel.Errorf(veedel.ECONFLICT, "Bestellung %s ist %s, nicht %s / order %s is %s, not %s", code, o.status, want, code, o.status, want)
	}
	switch action {
	case ActionClaim:
		if o.status == StatusInProgress && o.staff == staff {
			return workflow.Event{}, veedel.Errorf(veedel.ECONFLICT, "Sie bearbeiten %s schon / you have claimed %s already", code, code)
		}
		if o.status != StatusAtSite && o.status != StatusInProgress {
			return workflow.Event{}, not(StatusAtSite)
		}
		ev.Type, ev.Payload = TypeOrderClaimed, &OrderClaimed{Code: code, Staff: staff}
	case ActionReady:
		if o.status != StatusInProgress {
			return workflow.Event{}, veedel.Errorf(veedel.ECONFLICT, "Bestellung %s erst übernehmen / claim order %s first", code, code)
		}
		ev.Type, ev.Payload = TypeOrderReady, &OrderReady{Code: code, Staff: staff}
	case ActionDispatch:
		if o.delivery != DeliveryPost {
			return workflow.Event{}, veedel.Errorf(veedel.ECONFLICT, "Bestellung %s wird abgeholt, nicht verschickt / order %s is for pickup", code, code)
		}
		if o.status != StatusReady && o.status != StatusInProgress {
			return workflow.Event{}, not(StatusReady)
		}
		ev.Type, ev.Payload = TypeOrderDispatched, &OrderDispatched{Code: code, Staff: staff}
	case ActionCollect:
		if o.delivery != DeliveryPickup {
			return workflow.Event{}, veedel.Errorf(veedel.ECONFLICT, "Bestellung %s wird verschickt, nicht abgeholt / order %s goes by post", code, code)
		}
		if o.status != StatusReady {
			return workflow.Event{}, not(StatusReady)
		}
		ev.Type, ev.Payload = TypeOrderCollected, &OrderCollected{Code: code, Staff: staff, Ticket: ticket}
	case ActionReject:
		reason = strings.TrimSpace(reason)
		switch {
		case reason == "":
			return workflow.Event{}, &veedel.Error{Code: veedel.EINVALID, Message: "Bitte einen Grund angeben, den die Person lesen kann / give a reason the citizen can read",
				Fields: map[string]string{"reason": "Pflichtangabe / required"}}
		case utf8.RuneCountInString(reason) > MaxReason:
			return workflow.Event{}, &veedel.Error{Code: veedel.EINVALID, Message: "Grund zu lang / reason too long",
				Fields: map[string]string{"reason": fmt.Sprintf("Höchstens %d Zeichen / at most %d characters", MaxReason, MaxReason)}}
		}
		if r, bad := veedel.UnsafeRune(reason); bad {
			de, en := veedel.DescribeRune(r)
			return workflow.Event{}, &veedel.Error{Code: veedel.EINVALID, Message: "Grund enthält " + de + " / reason contains " + en,
				Fields: map[string]string{"reason": "Unzulässiges Zeichen / character not allowed"}}
		}
		ev.Type, ev.Payload = TypeOrderRejected, &OrderRejected{Code: code, Staff: staff, Reason: reason}
	default:
		return workflow.Event{}, veedel.Errorf(veedel.ENOTFOUND, "Unbekannter Schritt %q / unknown action", action)
	}
	return ev, nil
}

const orderColumns = `code, kind, delivery, copies, fee_cents, payment, lang, status, staff, reason, ticket, details, placed_at, received_at, updated_at`

func scanOrder(row interface{ Scan(...any) error }) (Order, error) {
	var o Order
	var details []byte
	var placed, received, updated int64
	if err := row.Scan(&o.Code, &o.Kind, &o.Delivery, &o.Copies, &o.FeeCents, &o.Payment, &o.Lang, &o.Status, &o.Staff, &o.Reason, &o.Ticket,
		&details, &placed, &received, &updated); err != nil {
		return o, err
	}
	o.PlacedAt, o.ReceivedAt, o.UpdatedAt = time.UnixMilli(placed), time.UnixMilli(received), time.UnixMilli(updated)
	if len(details) > 0 {
		var d Details
		if err := cbor.Unmarshal(details, &d); err == nil {
			o.Details = &d
		}
	}
	return o, nil
}

// List returns the orders with status (all open ones for "open", every
// order for ""), oldest first, at most limit.
func List(ctx context.Context, q workflow.Querier, status string, limit int) ([]Order, error) {
	return Find(ctx, q, Filter{Status: status, Limit: limit})
}

// Get returns one order, ENOTFOUND for an unknown code.
func Get(ctx context.Context, q workflow.Querier, code string) (Order, error) {
	o, err := scanOrder(q.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE code = ?`, strings.ToUpper(strings.TrimSpace(code))))
	if errors.Is(err, sql.ErrNoRows) {
		return o, veedel.Errorf(veedel.ENOTFOUND, "Bestellung %s ist hier nicht bekannt / order %s is not known here", code, code)
	}
	return o, err
}

// EraseDetails erases the personal data of orders done before cutoff and
// returns how many it erased. The statuses stay (statistics, audit).
func EraseDetails(ctx context.Context, q workflow.Querier, cutoff time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, `UPDATE orders SET details = NULL WHERE done_at IS NOT NULL AND done_at < ? AND details IS NOT NULL`, cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("registration: erase details: %w", err)
	}
	return res.RowsAffected()
}

// ValidStatus reports whether s names a status (or "open" or "").
func ValidStatus(s string) bool {
	switch s {
	case "", "open", StatusAtSite, StatusInProgress, StatusReady, StatusDispatched, StatusCollected, StatusRejected:
		return true
	}
	return false
}

// PickupService is the service a pickup queues in (a fast lane the site's
// counters for pickups serve).
var PickupService = "abholung"

// checkIn takes an order code at the kiosk: an order ready for pickup
// queues its citizen in PickupService.
func checkIn(ctx context.Context, q workflow.Querier, at time.Time, code string) (string, string, error) {
	code = strings.ToUpper(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code))
	var status, delivery string
	err := q.QueryRowContext(ctx, `SELECT status, delivery FROM orders WHERE code = ?`, code).Scan(&status, &delivery)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", veedel.Errorf(veedel.ENOTFOUND, "Code unbekannt / unknown code")
	} else if err != nil {
		return "", "", err
	}
	switch {
	case delivery != DeliveryPickup:
		return "", "", veedel.Errorf(veedel.ECONFLICT, "Diese Bestellung kommt per Post / this order comes by post")
	case status == StatusCollected:
		return "", "", veedel.Errorf(veedel.ECONFLICT, "Diese Bestellung wurde schon abgeholt / this order has been collected")
	case status == StatusRejected:
		return "", "", veedel.Errorf(veedel.ECONFLICT, "Diese Bestellung wurde abgelehnt: Näheres auf Ihrer Statusseite / this order was rejected: see your status page")
	case status != StatusReady:
		return "", "", veedel.Errorf(veedel.ECONFLICT, "Ihre Urkunde ist noch nicht abholbereit: wir benachrichtigen Sie / your certificate is not ready yet: we will tell you")
	}
	return entity(code), PickupService, nil
}
