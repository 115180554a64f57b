package appointment

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// Central's side: the slots it may sell, holds waiting for their
// confirmation code (memory only: a hold lost in a restart is a booking
// never made, and the citizen is told so on confirming), and the read
// model of what it sold, folded from the outbound logs and the sites'.

// Defaults of the rules against bots and hoarding.
const (
	DefaultHoldFor         = 10 * time.Minute
	DefaultPerContact      = 2 // active appointments per contact and service
	DefaultConfirmAttempts = 5
	DefaultLeadTime        = time.Hour // no slot sold that starts sooner
	maxNameRunes           = 80
	confirmationCodeDigits = 6
)

// Host is what booking needs of central.
type Host interface {
	// SiteKnown reports whether site is in the directory.
	SiteKnown(site string) bool
	// SlotPlan returns the plan of service at site on day (the fold of
	// the site's log, queue.State.Slots); ENOTFOUND for a site central
	// has no log of.
	SlotPlan(site, service, day string) ([]queue.Slot, error)
	// DayOf is the site's business day (YYYY-MM-DD) of t.
	DayOf(site string, t time.Time) string
	// BoxKey returns the site's box key; EUNAVAILABLE when none.
	BoxKey(ctx context.Context, site string) ([]byte, error)
	// SendToSite appends events to the site's outbound log, durably.
	SendToSite(ctx context.Context, site string, events ...workflow.Event) error
}

// Notifier sends the citizen a message (the confirmation code).
type Notifier interface {
	Notify(ctx context.Context, to Contact, lang, subject, body string) error
}

// Appt is an appointment as central knows it.
type Appt struct {
	Code      string    `json:"code"`
	Site      string    `json:"site"`
	Service   string    `json:"service"`
	Start     time.Time `json:"start"`
	Status    string    `json:"status"`
	UpdatedAt time.Time `json:"updated_at"`

	tokenHash   [sha256.Size]byte
	contactHash string
	// A hold's own: memory only, gone when confirmed or expired.
	hold *hold
}

type hold struct {
	expires  time.Time
	code     string // the confirmation code sent
	attempts int
	// confirming: its booking is being appended; it neither expires nor
	// can be confirmed or cancelled meanwhile.
	confirming bool
	contact    Contact
	lang       string
}

type slotKey struct {
	site, service string
	start         int64
}

// Central is the read model and the seller; safe for concurrent use.
type Central struct {
	HoldFor         time.Duration // 0: DefaultHoldFor
	PerContact      int           // 0: DefaultPerContact
	ConfirmAttempts int           // 0: DefaultConfirmAttempts
	LeadTime        time.Duration // 0: DefaultLeadTime
	// key keys the contact hash (UseKey: central's secret).
	key []byte

	mu      sync.Mutex
	byCode  map[string]*Appt
	byToken map[[sha256.Size]byte]string
	sold    map[slotKey]int // confirmed online bookings per slot
	held    map[slotKey]int // live holds per slot
	active  map[string]int  // contactHash+"\n"+service -> active appointments and holds
}

// NewCentral returns an empty model.
func NewCentral() *Central {
	return &Central{byCode: map[string]*Appt{}, byToken: map[[sha256.Size]byte]string{},
		sold: map[slotKey]int{}, held: map[slotKey]int{}, active: map[string]int{}}
}

// Prefix is the workflow's prefix.
func (c *Central) Prefix() string { return Prefix }

// UseKey sets the key of the contact hash: central's secret, the same on
// every node and across restarts, so that the per-contact limit holds.
// Call it before the model is used.
func (c *Central) UseKey(key []byte) { c.key = key }

// NewPayload is the workflow's NewPayload.
func (c *Central) NewPayload(t string) (any, bool) { return NewPayload(t) }

// Sent folds what central sold or cancelled.
func (c *Central) Sent(site string, e workflow.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch p := e.Payload.(type) {
	case *Booked:
		a := c.byCode[p.Code]
		if a != nil && a.hold == nil && a.Status != StatusHeld {
			return // folded already
		}
		if a == nil {
			a = &Appt{Code: p.Code, Site: site, Service: p.Service}
			c.byCode[p.Code] = a
		}
		c.dropHold(a)
		a.Start, a.Status, a.UpdatedAt = time.UnixMilli(p.Start), StatusConfirmed, e.At
		copy(a.tokenHash[:], p.TokenHash)
		c.byToken[a.tokenHash] = a.Code
		a.contactHash = string(p.ContactHash)
		c.sold[a.key()]++
		c.active[a.contactHash+"\n"+a.Service]++
	case *Cancelled:
		a := c.byCode[p.Code]
		if a == nil || a.Status == StatusCancelled {
			return
		}
		if a.Status == StatusConfirmed || a.Status == StatusAtSite {
			c.sold[a.key()]--
			c.active[a.contactHash+"\n"+a.Service]--
		}
		a.Status, a.UpdatedAt = StatusCancelled, e.At
	}
}

// FromSite folds the site's steps.
func (c *Central) FromSite(site string, e workflow.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := e.Payload.(*Received); ok {
		if a := c.byCode[p.Code]; a != nil && a.Site == site && a.Status == StatusConfirmed {
			a.Status, a.UpdatedAt = StatusAtSite, e.At
		}
	}
}

func (a *Appt) key() slotKey { return slotKey{a.Site, a.Service, a.Start.UnixMilli()} }

// dropHold ends a's hold; requires c.mu.
func (c *Central) dropHold(a *Appt) {
	if a.hold == nil {
		return
	}
	c.held[a.key()]--
	c.active[a.contactHash+"\n"+a.Service]--
	a.hold = nil
}

// expire ends the holds that ran out by now; requires c.mu.
func (c *Central) expire(now time.Time) {
	for _, a := range c.byCode {
		if a.hold != nil && !a.hold.confirming && !now.Before(a.hold.expires) {
			c.dropHold(a)
			a.Status, a.UpdatedAt = StatusExpired, now
		}
	}
}

// SlotView is a slot as the portal offers it.
type SlotView struct {
	Start     time.Time `json:"start"`
	Available int       `json:"available"`
}

// Slots returns central's share of service's slots at site on day that
// start after now plus the lead time, with the places still free.
func (c *Central) Slots(host Host, site, service, day string, now time.Time) ([]SlotView, error) {
	plan, err := host.SlotPlan(site, service, day)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	out := []SlotView{}
	for _, sl := range plan {
		if sl.Start.Before(now.Add(c.leadTime())) {
			continue
		}
		k := slotKey{site, service, sl.Start.UnixMilli()}
		out = append(out, SlotView{Start: sl.Start, Available: max(0, queue.OnlineShare(sl.Capacity)-c.sold[k]-c.held[k])})
	}
	return out, nil
}

// Request is a booking as the citizen asks for it.
type Request struct {
	Site    string    `json:"site"`
	Service string    `json:"service"`
	Start   time.Time `json:"start"`
	Name    string    `json:"name"`
	Phone   string    `json:"phone,omitempty"`
	Email   string    `json:"email,omitempty"`
	Consent bool      `json:"consent"`
	Lang    string    `json:"lang,omitempty"`
}

// Held is what the citizen gets for a hold.
type Held struct {
	Code    string    `json:"code"`
	Token   string    `json:"token"`
	Site    string    `json:"site"`
	Service string    `json:"service"`
	Start   time.Time `json:"start"`
	Status  string    `json:"status"`
	Expires time.Time `json:"expires"`
}

var phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 /-]{5,19}$`)

// normalContact is the contact as the per-contact limit compares it.
func normalContact(r Request) string {
	if r.Email != "" {
		return "e:" + strings.ToLower(strings.TrimSpace(r.Email))
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, r.Phone)
	digits = strings.TrimPrefix(digits, "49")
	digits = strings.TrimPrefix(digits, "0")
	return "p:" + digits
}

func (c *Central) contactHash(r Request) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(normalContact(r)))
	return string(m.Sum(nil))
}

// Hold validates a request and holds its slot for the hold time, sending
// the confirmation code to the contact. ECONFLICT when the slot is gone
// (or the contact has its limit of appointments for the service).
func (c *Central) Hold(ctx context.Context, host Host, n Notifier, r Request, now time.Time) (Held, error) {
	f := veedel.FieldErrors{}
	if !host.SiteKnown(r.Site) {
		f.Add("site", "Unbekannter Standort / unknown site")
	}
	name := strings.TrimSpace(r.Name)
	switch {
	case name == "":
		f.Add("name", "Pflichtangabe / required")
	case utf8.RuneCountInString(name) > maxNameRunes:
		f.Add("name", "Zu lang / too long")
	default:
		if ch, bad := veedel.UnsafeRune(name); bad {
			de, en := veedel.DescribeRune(ch)
			f.Add("name", "Enthält "+de+" / contains "+en)
		}
	}
	if r.Phone == "" && r.Email == "" {
		f.Add("phone", "Mobilnummer oder E-Mail-Adresse angeben / give a mobile number or an e-mail address")
	}
	if r.Email != "" {
		if a, err := mail.ParseAddress(r.Email); err != nil || a.Address != r.Email || len(r.Email) > 254 {
			f.Add("email", "E-Mail-Adresse ungültig (z. B. name@example.de) / invalid e-mail address")
		}
	}
	if r.Phone != "" && !phonePattern.MatchString(r.Phone) {
		f.Add("phone", "Mobilnummer ungültig (z. B. 0171 1234567) / invalid mobile number")
	}
	if !r.Consent {
		f.Add("consent", "Bitte der Verarbeitung zustimmen / consent is required")
	}
	if r.Start.IsZero() {
		f.Add("start", "Pflichtangabe (RFC 3339) / required (RFC 3339)")
	} else if r.Start.Before(now) {
		f.Add("start", "Der Termin liegt in der Vergangenheit / the slot lies in the past")
	}
	if len(f) > 0 {
		if r.Service == "" {
			f.Add("service", "Pflichtangabe / required")
		}
		return Held{}, f.Err("Bitte die markierten Angaben prüfen / please check the fields marked")
	}
	plan, err := host.SlotPlan(r.Site, r.Service, host.DayOf(r.Site, r.Start))
	if err != nil {
		if veedel.ErrorCode(err) == veedel.EINVALID {
			return Held{}, &veedel.Error{Code: veedel.EINVALID, Message: veedel.ErrorMessage(err), Fields: map[string]string{"service": veedel.ErrorMessage(err)}}
		}
		return Held{}, err
	}
	var slot *queue.Slot
	for i := range plan {
		if plan[i].Start.Equal(r.Start) {
			slot = &plan[i]
		}
	}
	if slot == nil {
		return Held{}, &veedel.Error{Code: veedel.EINVALID, Message: "Zu dieser Zeit gibt es keinen Termin / there is no slot at this time",
			Fields: map[string]string{"start": "Bitte eine Zeit aus der Liste der freien Termine wählen / choose a time from the free slots"}}
	}
	if r.Start.Before(now.Add(c.leadTime())) {
		return Held{}, &veedel.Error{Code: veedel.EINVALID, Message: "Termine sind bis eine Stunde vorher buchbar / slots can be booked up to an hour ahead",
			Fields: map[string]string{"start": "Zu kurzfristig / too soon"}}
	}
	if _, err := host.BoxKey(ctx, r.Site); err != nil {
		return Held{}, err
	}
	if n == nil {
		return Held{}, veedel.Errorf(veedel.EUNAVAILABLE, "Bestätigungscodes können gerade nicht verschickt werden / confirmation codes cannot be sent right now")
	}
	contact := Contact{Name: name, Phone: r.Phone, Email: r.Email}
	if rn, ok := n.(interface{ CanReach(Contact) error }); ok {
		if err := rn.CanReach(contact); err != nil {
			return Held{}, err
		}
	}
	hash := c.contactHash(r)

	c.mu.Lock()
	c.expire(now)
	k := slotKey{r.Site, r.Service, r.Start.UnixMilli()}
	if c.sold[k]+c.held[k] >= queue.OnlineShare(slot.Capacity) {
		c.mu.Unlock()
		return Held{}, veedel.Errorf(veedel.ECONFLICT, "Dieser Termin ist gerade vergeben worden: bitte einen anderen wählen / this slot has just been taken: please choose another")
	}
	if c.active[hash+"\n"+r.Service] >= c.perContact() {
		c.mu.Unlock()
		return Held{}, veedel.Errorf(veedel.ECONFLICT, "Für diese Kontaktangabe sind schon %d Termine für dieses Anliegen gebucht / this contact has %d appointments for this service already", c.perContact(), c.perContact())
	}
	a := &Appt{Code: newCode(), Site: r.Site, Service: r.Service, Start: r.Start, Status: StatusHeld, UpdatedAt: now, contactHash: hash,
		hold: &hold{expires: now.Add(c.holdFor()), code: newConfirmationCode(), contact: contact, lang: r.Lang}}
	token := newToken()
	a.tokenHash = sha256.Sum256([]byte(token))
	c.byCode[a.Code] = a
	c.byToken[a.tokenHash] = a.Code
	c.held[k]++
	c.active[hash+"\n"+r.Service]++
	confirm, expires := a.hold.code, a.hold.expires
	c.mu.Unlock()

	subject := "Ihr Bestätigungscode / your confirmation code"
	body := fmt.Sprintf("Ihr Code für den Termin am %s: %s\nYour code: %s", r.Start.Format("02.01.2006 15:04"), confirm, confirm)
	if err := n.Notify(ctx, contact, r.Lang, subject, body); err != nil {
		c.mu.Lock()
		c.dropHold(a)
		a.Status = StatusExpired
		c.mu.Unlock()
		return Held{}, veedel.Errorf(veedel.EUNAVAILABLE, "Der Bestätigungscode konnte nicht verschickt werden: bitte später erneut / the confirmation code could not be sent: please try again later")
	}
	return Held{Code: a.Code, Token: token, Site: r.Site, Service: r.Service, Start: r.Start, Status: StatusHeld, Expires: expires}, nil
}

// Confirm makes a hold a booking with the code that was sent: sealed to
// the site and appended to its outbound log. A wrong code counts; after
// the last attempt the hold ends.
func (c *Central) Confirm(ctx context.Context, host Host, token, code string, now time.Time) (Appt, error) {
	h := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	a := c.byCode[c.byToken[h]]
	switch {
	case a == nil:
		return Appt{}, veedel.Errorf(veedel.ENOTFOUND, "Termin nicht gefunden / appointment not found")
	case a.Status == StatusConfirmed || a.Status == StatusAtSite:
		return *a, nil // confirmed before: the same answer again
	case a.hold == nil:
		return Appt{}, veedel.Errorf(veedel.ECONFLICT, "Die Reservierung ist abgelaufen: bitte den Termin neu buchen / the hold has expired: please book again")
	case a.hold.confirming:
		return Appt{}, veedel.Errorf(veedel.ECONFLICT, "Der Termin wird gerade bestätigt / the appointment is being confirmed")
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(code)), []byte(a.hold.code)) != 1 {
		a.hold.attempts++
		if a.hold.attempts >= c.confirmAttempts() {
			c.dropHold(a)
			a.Status, a.UpdatedAt = StatusExpired, now
			return Appt{}, veedel.Errorf(veedel.ECONFLICT, "Zu viele falsche Codes: die Reservierung ist aufgehoben / too many wrong codes: the hold is released")
		}
		return Appt{}, &veedel.Error{Code: veedel.EINVALID, Message: "Der Code stimmt nicht / the code is wrong",
			Fields: map[string]string{"code": fmt.Sprintf("Noch %d Versuche / %d attempts left", c.confirmAttempts()-a.hold.attempts, c.confirmAttempts()-a.hold.attempts)}}
	}
	box, err := host.BoxKey(ctx, a.Site)
	if err != nil {
		return Appt{}, err
	}
	plain, err := cbor.Marshal(a.hold.contact)
	if err != nil {
		return Appt{}, err
	}
	sealed, err := changelog.Seal(box, sealInfo(a.Site, a.Code), plain)
	if err != nil {
		return Appt{}, err
	}
	p := &Booked{Code: a.Code, Service: a.Service, Start: a.Start.UnixMilli(), Sealed: sealed, TokenHash: a.tokenHash[:],
		ContactHash: []byte(a.contactHash), BookedAt: now.UnixMilli(), Lang: a.hold.lang}
	// Sent (called by SendToSite) takes c.mu: release it for the append,
	// keeping the hold, which still counts, so that nobody else gets the
	// place meanwhile.
	hd := a.hold
	hd.confirming = true
	c.mu.Unlock()
	err = host.SendToSite(ctx, a.Site, workflow.Event{Type: TypeBooked, Entity: entity(a.Code), At: now, Payload: p})
	c.mu.Lock()
	if err != nil {
		hd.confirming = false
		return Appt{}, err
	}
	return *a, nil
}

// Cancel takes an appointment off (a hold ends; a booking goes down as
// cancelled and frees its place on both sides).
func (c *Central) Cancel(ctx context.Context, host Host, token string, now time.Time) (Appt, error) {
	h := sha256.Sum256([]byte(token))
	c.mu.Lock()
	a := c.byCode[c.byToken[h]]
	switch {
	case a == nil:
		c.mu.Unlock()
		return Appt{}, veedel.Errorf(veedel.ENOTFOUND, "Termin nicht gefunden / appointment not found")
	case a.hold != nil && a.hold.confirming:
		c.mu.Unlock()
		return Appt{}, veedel.Errorf(veedel.ECONFLICT, "Der Termin wird gerade bestätigt: bitte gleich noch einmal / the appointment is being confirmed: please try again")
	case a.hold != nil:
		c.dropHold(a)
		a.Status, a.UpdatedAt = StatusCancelled, now
		out := *a
		c.mu.Unlock()
		return out, nil
	case a.Status == StatusCancelled || a.Status == StatusExpired:
		out := *a
		c.mu.Unlock()
		return out, nil
	}
	site, code := a.Site, a.Code
	c.mu.Unlock()
	if err := host.SendToSite(ctx, site, workflow.Event{Type: TypeCancelled, Entity: entity(code), At: now, Payload: &Cancelled{Code: code}}); err != nil {
		return Appt{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return *a, nil
}

// ByToken returns the appointment of a citizen's token.
func (c *Central) ByToken(token string, now time.Time) (Appt, bool) {
	h := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	a := c.byCode[c.byToken[h]]
	if a == nil {
		return Appt{}, false
	}
	return *a, true
}

func (c *Central) holdFor() time.Duration {
	if c.HoldFor > 0 {
		return c.HoldFor
	}
	return DefaultHoldFor
}

func (c *Central) perContact() int {
	if c.PerContact > 0 {
		return c.PerContact
	}
	return DefaultPerContact
}

func (c *Central) confirmAttempts() int {
	if c.ConfirmAttempts > 0 {
		return c.ConfirmAttempts
	}
	return DefaultConfirmAttempts
}

func (c *Central) leadTime() time.Duration {
	if c.LeadTime > 0 {
		return c.LeadTime
	}
	return DefaultLeadTime
}

const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// newCode returns a booking code: "T" and 9 characters, as the kiosk's
// code box takes them.
func newCode() string {
	b := make([]byte, 9)
	rand.Read(b)
	out := []byte{'T'}
	for _, x := range b {
		out = append(out, codeAlphabet[int(x)%len(codeAlphabet)])
	}
	return string(out)
}

func newConfirmationCode() string {
	b := make([]byte, 4)
	rand.Read(b)
	n := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) % 1_000_000
	return fmt.Sprintf("%0*d", confirmationCodeDigits, n)
}

func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Holds is the number of live holds.
func (c *Central) Holds(now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(now)
	n := 0
	for _, a := range c.byCode {
		if a.hold != nil {
			n++
		}
	}
	return n
}
