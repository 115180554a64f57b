package registration

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// Central's side: placing an order (validated, personal part sealed to the
// owning site, appended to the site's outbound log) and the read model of
// every order's status, folded from the outbound logs (placed) and the
// sites' logs (every step after). It holds no personal data.

// CentralOrder is an order as central knows it: status only.
type CentralOrder struct {
	Code      string    `json:"code"`
	Site      string    `json:"site"`
	Kind      string    `json:"kind"`
	Delivery  string    `json:"delivery"`
	Copies    int       `json:"copies"`
	FeeCents  int       `json:"fee_cents"`
	Payment   string    `json:"payment"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	PlacedAt  time.Time `json:"placed_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Lang      string    `json:"-"`
	tokenHash [sha256.Size]byte
}

// Central is the read model; safe for concurrent use.
type Central struct {
	mu      sync.RWMutex
	byCode  map[string]*CentralOrder
	byToken map[[sha256.Size]byte]string
	// Fees is the fee table (nil: DefaultFees).
	Fees map[string]Fee
	// CivilStatusSite owns the civil-status certificates (the
	// Standesamt); "" takes them at the chosen site.
	CivilStatusSite string
}

// NewCentral returns an empty read model.
func NewCentral() *Central {
	return &Central{byCode: map[string]*CentralOrder{}, byToken: map[[sha256.Size]byte]string{}}
}

// Prefix is the workflow's prefix.
func (c *Central) Prefix() string { return Prefix }

// NewPayload is the workflow's NewPayload.
func (c *Central) NewPayload(t string) (any, bool) { return NewPayload(t) }

// Sent folds an order central placed.
func (c *Central) Sent(site string, e workflow.Event) {
	p, ok := e.Payload.(*OrderPlaced)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.order(site, p)
	if o.Status == "" || o.Status == StatusAwaitingPayment {
		o.Status, o.UpdatedAt = StatusReceived, e.At
	}
}

// order returns the order of p, made from p when new; requires c.mu.
func (c *Central) order(site string, p *OrderPlaced) *CentralOrder {
	o := c.byCode[p.Code]
	if o == nil {
		o = &CentralOrder{Code: p.Code, Site: site}
		c.byCode[p.Code] = o
	}
	o.Kind, o.Delivery, o.Copies, o.FeeCents, o.Payment, o.Lang = p.Kind, p.Delivery, p.Copies, p.FeeCents, p.Payment, p.Lang
	o.PlacedAt = time.UnixMilli(p.Placed)
	if len(p.TokenHash) == sha256.Size {
		copy(o.tokenHash[:], p.TokenHash)
		c.byToken[o.tokenHash] = p.Code
	}
	return o
}

// FromSite folds a step the owning site logged.
func (c *Central) FromSite(site string, e workflow.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := e.Payload.(*OrderReceived); ok {
		o := c.order(site, &p.OrderPlaced)
		if o.Status == "" || o.Status == StatusReceived {
			o.Status, o.UpdatedAt = StatusAtSite, e.At
		}
		return
	}
	o := c.byCode[codeOf(e.Payload)]
	if o == nil || o.Site != site {
		return // not an order this site owns: nothing of central's to change
	}
	switch p := e.Payload.(type) {
	case *OrderClaimed:
		o.Status = StatusInProgress
	case *OrderReady:
		o.Status = StatusReady
	case *OrderDispatched:
		o.Status = StatusDispatched
	case *OrderCollected:
		o.Status = StatusCollected
	case *OrderRejected:
		o.Status, o.Reason = StatusRejected, p.Reason
	default:
		return
	}
	o.UpdatedAt = e.At
}

// ByToken returns the order of a citizen's status token.
func (c *Central) ByToken(token string) (CentralOrder, bool) {
	h := sha256.Sum256([]byte(token))
	c.mu.RLock()
	defer c.mu.RUnlock()
	code, ok := c.byToken[h]
	if !ok {
		return CentralOrder{}, false
	}
	return *c.byCode[code], true
}

// Host is what placing an order needs of central.
type Host interface {
	// SiteKnown reports whether site is in the directory.
	SiteKnown(site string) bool
	// BoxKey returns the site's box key (X25519 public) as its last
	// signed poll told it; EUNAVAILABLE when central has none yet.
	BoxKey(ctx context.Context, site string) ([]byte, error)
	// SendToSite appends events to the site's outbound log, durably.
	SendToSite(ctx context.Context, site string, events ...workflow.Event) error
	// Location is the city's time zone.
	Location() *time.Location
}

// Placed is what the citizen gets back for an order.
type Placed struct {
	Code     string `json:"code"`
	Token    string `json:"token"`
	Site     string `json:"site"`
	Status   string `json:"status"`
	FeeCents int    `json:"fee_cents"`
}

// Place validates an order, seals its personal part to the owning site and
// sends it down. When it returns without error the order is durable in the
// site's outbound log, or, paid online (host is a PaymentHolder), held
// durably at central in StatusAwaitingPayment until it is paid; the token
// is the citizen's only way to its status.
func (c *Central) Place(ctx context.Context, host Host, req OrderRequest, now time.Time) (Placed, error) {
	err := req.Validate(now, host.Location())
	f := veedel.FieldErrors{}
	if fe := veedel.ErrorFields(err); fe != nil {
		f = fe
	} else if err != nil {
		return Placed{}, err
	}
	holder, online := host.(PaymentHolder)
	if req.Payment == PaymentOnline && !online {
		f.Add("payment", "Online-Bezahlung wird noch nicht angeboten: bitte bei Abholung bezahlen / online payment is not offered yet: pay at pickup")
	}
	site := req.Site
	if CivilStatus(req.Kind) && c.CivilStatusSite != "" {
		site = c.CivilStatusSite // the Standesamt issues them, and they are picked up there
	}
	if req.Site != "" && !host.SiteKnown(req.Site) {
		f.Add("site", "Unbekannter Standort / unknown site")
	}
	if err := f.Err("Bitte die markierten Angaben prüfen / please check the fields marked"); err != nil {
		return Placed{}, err
	}
	box, err := host.BoxKey(ctx, site)
	if err != nil {
		return Placed{}, err
	}
	fees := c.Fees
	if fees == nil {
		fees = DefaultFees
	}
	code := NewCode()
	plain, err := cbor.Marshal(req.Details())
	if err != nil {
		return Placed{}, err
	}
	sealed, err := changelog.Seal(box, sealInfo(site, code), plain)
	if err != nil {
		return Placed{}, veedel.Errorf(veedel.EUNAVAILABLE, "Dieser Standort nimmt gerade keine Bestellungen an / this site takes no orders right now")
	}
	tok := make([]byte, 16)
	rand.Read(tok)
	token := base64.RawURLEncoding.EncodeToString(tok)
	hash := sha256.Sum256([]byte(token))
	payment := req.Payment
	if payment == "" {
		payment = PaymentAtPickup
	}
	p := &OrderPlaced{Code: code, Kind: req.Kind, Delivery: req.Delivery, Copies: req.Copies,
		FeeCents: fees[req.Kind].FeeCents(req.Copies), Payment: payment, Sealed: sealed,
		Placed: now.UnixMilli(), TokenHash: hash[:], Lang: req.Lang}
	if payment == PaymentOnline {
		// Held at central until the provider's notification says paid.
		if err := holder.HoldForPayment(ctx, site, workflow.Event{Type: TypeOrderPlaced, Entity: entity(code), At: now, Payload: p}); err != nil {
			return Placed{}, err
		}
		c.Hold(site, p, now)
		return Placed{Code: code, Token: token, Site: site, Status: StatusAwaitingPayment, FeeCents: p.FeeCents}, nil
	}
	if err := host.SendToSite(ctx, site, workflow.Event{Type: TypeOrderPlaced, Entity: entity(code), At: now, Payload: p}); err != nil {
		return Placed{}, err
	}
	return Placed{Code: code, Token: token, Site: site, Status: StatusReceived, FeeCents: p.FeeCents}, nil
}
