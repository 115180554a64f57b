package appointment

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
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

// Central's side: the slots it may sell and the holds and bookings it
// made, kept in central's store (store.go) so that a restart loses no
// held slot and several central nodes sell each place once; in memory
// only which bookings their sites took over (folded from the sites' logs
// at every start).

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
	// SellLock locks the selling of site's places on every central node
	// until the returned func is called: a confirmation and central's
	// acknowledgement of a new online share (queue/onlineshare.go) never
	// interleave.
	SellLock(ctx context.Context, site string) (func(), error)
	// Store keeps the holds and bookings; ChangeAppointment's events go
	// to the site's outbound log in the same transaction.
	Store
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
}

// Central is the seller and the read model of what the sites took over;
// safe for concurrent use.
type Central struct {
	HoldFor         time.Duration // 0: DefaultHoldFor
	PerContact      int           // 0: DefaultPerContact
	ConfirmAttempts int           // 0: DefaultConfirmAttempts
	LeadTime        time.Duration // 0: DefaultLeadTime
	// key keys the contact hash, the confirmation code's hash and the
	// contact's encryption (UseKey: central's secret).
	key []byte

	mu     sync.Mutex
	atSite map[string]time.Time // code -> when its site took it over
	// legacy is what the outbound logs say central sold, folded at start
	// until Backfill hands it to the store (bookings made before the
	// store kept them); nil afterwards.
	legacy map[string]*Record
}

// NewCentral returns an empty model.
func NewCentral() *Central {
	return &Central{atSite: map[string]time.Time{}, legacy: map[string]*Record{}}
}

// Prefix is the workflow's prefix.
func (c *Central) Prefix() string { return Prefix }

// UseKey sets the key of the contact hash: central's secret, the same on
// every node and across restarts, so that the per-contact limit holds.
// Call it before the model is used.
func (c *Central) UseKey(key []byte) { c.key = key }

// NewPayload is the workflow's NewPayload.
func (c *Central) NewPayload(t string) (any, bool) { return NewPayload(t) }

// Sent folds what central sold or cancelled, while the model loads: the
// store keeps it from then on.
func (c *Central) Sent(site string, e workflow.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.legacy == nil {
		return
	}
	switch p := e.Payload.(type) {
	case *Booked:
		if c.legacy[p.Code] == nil {
			c.legacy[p.Code] = &Record{Code: p.Code, TokenHash: p.TokenHash, Site: site, Service: p.Service, Start: time.UnixMilli(p.Start),
				Status: StatusConfirmed, ContactHash: append([]byte{}, p.ContactHash...), Lang: p.Lang, For: p.For, CreatedAt: e.At, UpdatedAt: e.At}
		}
	case *Cancelled:
		if r := c.legacy[p.Code]; r != nil {
			r.Status, r.UpdatedAt = StatusCancelled, e.At
		}
	}
}

// Backfill stores the bookings the outbound logs hold that the store
// does not (sold before it kept them); after it, Sent folds nothing.
func (c *Central) Backfill(ctx context.Context, s interface {
	RecordBookings(context.Context, []Record) error
}) error {
	c.mu.Lock()
	var records []Record
	for _, r := range c.legacy {
		records = append(records, *r)
	}
	c.mu.Unlock()
	if len(records) > 0 {
		if err := s.RecordBookings(ctx, records); err != nil {
			return fmt.Errorf("appointment: backfill: %w", err)
		}
	}
	c.mu.Lock()
	c.legacy = nil
	c.mu.Unlock()
	return nil
}

// FromSite folds the site's steps.
func (c *Central) FromSite(site string, e workflow.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := e.Payload.(*Received); ok {
		if _, seen := c.atSite[p.Code]; !seen {
			c.atSite[p.Code] = e.At
		}
	}
}

// appt is r as the citizen sees it at now.
func (c *Central) appt(r Record, now time.Time) Appt {
	a := Appt{Code: r.Code, Site: r.Site, Service: r.Service, Start: r.Start, Status: r.Status, UpdatedAt: r.UpdatedAt}
	switch {
	case r.Status == StatusHeld && !now.Before(r.Expires):
		a.Status, a.UpdatedAt = StatusExpired, r.Expires
	case r.Status == StatusConfirmed:
		c.mu.Lock()
		at, ok := c.atSite[r.Code]
		c.mu.Unlock()
		if ok {
			a.Status = StatusAtSite
			if at.After(a.UpdatedAt) {
				a.UpdatedAt = at
			}
		}
	}
	return a
}

// SlotView is a slot as the portal offers it.
type SlotView struct {
	Start     time.Time `json:"start"`
	Available int       `json:"available"`
}

// Slots returns central's share of service's slots at site on day that
// start after now plus the lead time, with the places still free.
func (c *Central) Slots(ctx context.Context, host Host, site, service, day string, now time.Time) ([]SlotView, error) {
	plan, err := host.SlotPlan(site, service, day)
	if err != nil {
		return nil, err
	}
	out := []SlotView{}
	if len(plan) == 0 {
		return out, nil
	}
	taken, err := host.SlotsTaken(ctx, site, service, plan[0].Start, plan[len(plan)-1].Start.Add(time.Millisecond), now)
	if err != nil {
		return nil, err
	}
	for _, sl := range plan {
		if sl.Start.Before(now.Add(c.leadTime())) {
			continue
		}
		out = append(out, SlotView{Start: sl.Start, Available: max(0, sl.Online-taken[sl.Start.UnixMilli()])})
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
	// Replaces is the private token of a booking this one moves: it is
	// cancelled once this one is confirmed ("" for none).
	Replaces string `json:"-"`
	// For is the record the booking is for (Booked.For: an exam's
	// child), checked by the caller; its booking that starts later is
	// moved by this one (cancelled once this one is confirmed).
	For string `json:"-"`
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

func (c *Central) mac(parts ...[]byte) []byte {
	m := hmac.New(sha256.New, c.key)
	for _, p := range parts {
		m.Write(p)
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

func (c *Central) contactHash(r Request) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(normalContact(r)))
	return m.Sum(nil)
}

// confirmHash is the stored form of a hold's confirmation code: keyed
// with central's secret and bound to the hold's token, so that the table
// alone does not give the six digits away.
func (c *Central) confirmHash(tokenHash []byte, code string) []byte {
	return c.mac([]byte("appointment.confirm"), tokenHash, []byte(code))
}

// contactAEAD encrypts a hold's contact to central.
func (c *Central) contactAEAD() (cipher.AEAD, error) {
	block, err := aes.NewCipher(c.mac([]byte("appointment.contact")))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (c *Central) sealContact(code string, contact Contact) ([]byte, error) {
	plain, err := cbor.Marshal(contact)
	if err != nil {
		return nil, err
	}
	aead, err := c.contactAEAD()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, plain, []byte(code)), nil
}

func (c *Central) openContact(code string, sealed []byte) (Contact, error) {
	var out Contact
	aead, err := c.contactAEAD()
	if err != nil {
		return out, err
	}
	if len(sealed) < aead.NonceSize() {
		return out, fmt.Errorf("appointment %s: contact too short", code)
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(code))
	if err != nil {
		return out, fmt.Errorf("appointment %s: contact: %w", code, err)
	}
	return out, cbor.Unmarshal(plain, &out)
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
	if slot.Online <= 0 {
		return Held{}, ErrSlotTaken
	}
	box, err := host.BoxKey(ctx, r.Site)
	if err != nil {
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

	code, token, confirm := newCode(), newToken(), newConfirmationCode()
	tokenHash := sha256.Sum256([]byte(token))
	rec := Record{Code: code, TokenHash: tokenHash[:], Site: r.Site, Service: r.Service, Start: r.Start, Status: StatusHeld,
		ContactHash: c.contactHash(r), ConfirmHash: c.confirmHash(tokenHash[:], confirm), Expires: now.Add(c.holdFor()),
		Lang: r.Lang, CreatedAt: now, UpdatedAt: now}
	if reachesByMail(n, contact) {
		rec.SentTo = MaskEmail(contact.Email)
	} else {
		rec.SentTo = MaskPhone(contact.Phone)
	}
	if r.Replaces != "" {
		h := sha256.Sum256([]byte(r.Replaces))
		rec.Replaces = h[:]
	}
	if r.For != "" {
		// One slot per record: booking again moves the booking it has.
		rec.For = r.For
		if prev, err := host.BookingFor(ctx, r.For, now); err == nil {
			if rec.Replaces == nil {
				rec.Replaces = prev.TokenHash
			}
		} else if veedel.ErrorCode(err) != veedel.ENOTFOUND {
			return Held{}, err
		}
	}
	if rec.Contact, err = c.sealContact(code, contact); err != nil {
		return Held{}, err
	}
	plain, err := cbor.Marshal(contact)
	if err != nil {
		return Held{}, err
	}
	if rec.Sealed, err = changelog.Seal(box, sealInfo(r.Site, code), plain); err != nil {
		return Held{}, err
	}
	if err := host.HoldSlot(ctx, rec, slot.Online, c.perContact(), now); err != nil {
		if err == ErrContactLimit {
			return Held{}, veedel.Errorf(veedel.ECONFLICT, "Für diese Kontaktangabe sind schon %d Termine für dieses Anliegen gebucht / this contact has %d appointments for this service already", c.perContact(), c.perContact())
		}
		return Held{}, err
	}

	subject := "Ihr Bestätigungscode / your confirmation code"
	body := fmt.Sprintf("Ihr Code für den Termin am %s: %s\nYour code: %s", r.Start.Format("02.01.2006 15:04"), confirm, confirm)
	if err := n.Notify(ctx, contact, r.Lang, subject, body); err != nil {
		// No code, no hold: the place is free again at once.
		c.change(ctx, host, tokenHash[:], func(r Record) (*Record, []workflow.Event, error) {
			if r.Status != StatusHeld {
				return nil, nil, nil
			}
			next := release(r, StatusExpired, now)
			return &next, nil, nil
		})
		return Held{}, veedel.Errorf(veedel.EUNAVAILABLE, "Der Bestätigungscode konnte nicht verschickt werden: bitte später erneut / the confirmation code could not be sent: please try again later")
	}
	return Held{Code: code, Token: token, Site: r.Site, Service: r.Service, Start: r.Start, Status: StatusHeld, Expires: rec.Expires}, nil
}

// reachesByMail reports whether n sends contact the code by e-mail (a
// notifier that says nothing does, when there is an address).
func reachesByMail(n Notifier, contact Contact) bool {
	if m, ok := n.(interface{ ByMail(Contact) bool }); ok {
		return m.ByMail(contact)
	}
	return contact.Email != ""
}

// release is r ended with status: its personal data and code gone.
func release(r Record, status string, now time.Time) Record {
	r.Status, r.UpdatedAt = status, now
	r.ConfirmHash, r.Contact, r.Sealed, r.SentTo = nil, nil, nil, ""
	return r
}

func (c *Central) change(ctx context.Context, host Host, tokenHash []byte, decide func(Record) (*Record, []workflow.Event, error)) (Record, error) {
	return host.ChangeAppointment(ctx, tokenHash, decide)
}

// Confirmation is what confirming did beyond the appointment's status.
type Confirmation struct {
	// Contact and Lang are whom to send the booking's confirmation and
	// in which language: set only for the call that confirmed it (a
	// repeat gets nil), and the only time central reads them.
	Contact *Contact
	Lang    string
	// Moved reports that the booking this one replaces was cancelled.
	Moved bool
}

var errExpired = veedel.Errorf(veedel.ECONFLICT, "Die Reservierung ist abgelaufen: bitte den Termin neu buchen / the hold has expired: please book again")

// Confirm makes a hold a booking with the code that was sent: sealed to
// the site and appended to its outbound log in the transaction that
// records it. A wrong code counts in the store; after the last attempt
// the hold ends.
func (c *Central) Confirm(ctx context.Context, host Host, token, code string, now time.Time) (Appt, Confirmation, error) {
	h := sha256.Sum256([]byte(token))
	held, err := host.AppointmentByToken(ctx, h[:])
	if err != nil {
		return Appt{}, Confirmation{}, err
	}
	unlock, err := host.SellLock(ctx, held.Site)
	if err != nil {
		return Appt{}, Confirmation{}, err
	}
	defer unlock()
	// The site may have made the online share smaller since the hold:
	// the places live now must still fit, or the hold ends here.
	over := false
	if held.Status == StatusHeld && now.Before(held.Expires) {
		if plan, err := host.SlotPlan(held.Site, held.Service, host.DayOf(held.Site, held.Start)); err == nil {
			taken, err := host.SlotsTaken(ctx, held.Site, held.Service, held.Start, held.Start.Add(time.Millisecond), now)
			if err != nil {
				return Appt{}, Confirmation{}, err
			}
			online := 0
			for _, sl := range plan {
				if sl.Start.Equal(held.Start) {
					online = sl.Online
				}
			}
			over = taken[held.Start.UnixMilli()] > online
		}
	}
	var conf Confirmation
	rec, err := c.change(ctx, host, h[:], func(r Record) (*Record, []workflow.Event, error) {
		conf = Confirmation{}
		switch {
		case r.Status == StatusConfirmed:
			return nil, nil, nil // confirmed before: the same answer again
		case r.Status == StatusHeld && !now.Before(r.Expires):
			next := release(r, StatusExpired, r.Expires)
			return &next, nil, errExpired
		case r.Status != StatusHeld:
			return nil, nil, errExpired
		}
		if !hmac.Equal(c.confirmHash(r.TokenHash, strings.TrimSpace(code)), r.ConfirmHash) {
			next := r
			next.Attempts++
			next.UpdatedAt = now
			left := c.confirmAttempts() - next.Attempts
			if left <= 0 {
				next = release(next, StatusExpired, now)
				return &next, nil, veedel.Errorf(veedel.ECONFLICT, "Zu viele falsche Codes: die Reservierung ist aufgehoben / too many wrong codes: the hold is released")
			}
			return &next, nil, &veedel.Error{Code: veedel.EINVALID, Message: "Der Code stimmt nicht / the code is wrong",
				Fields: map[string]string{"code": fmt.Sprintf("Noch %d Versuche / %d attempts left", left, left)}}
		}
		if over {
			next := release(r, StatusExpired, now)
			return &next, nil, ErrSlotTaken
		}
		contact, err := c.openContact(r.Code, r.Contact)
		if err != nil {
			return nil, nil, err
		}
		p := &Booked{Code: r.Code, Service: r.Service, Start: r.Start.UnixMilli(), Sealed: r.Sealed, TokenHash: r.TokenHash,
			ContactHash: r.ContactHash, BookedAt: now.UnixMilli(), Lang: r.Lang, For: r.For}
		next := release(r, StatusConfirmed, now)
		conf = Confirmation{Contact: &contact, Lang: r.Lang}
		return &next, []workflow.Event{{Type: TypeBooked, Entity: entity(r.Code), At: now, Payload: p}}, nil
	})
	if err != nil {
		if veedel.ErrorCode(err) == veedel.ENOTFOUND {
			return Appt{}, Confirmation{}, veedel.Errorf(veedel.ENOTFOUND, "Termin nicht gefunden / appointment not found")
		}
		return Appt{}, Confirmation{}, err
	}
	if conf.Contact != nil && rec.Replaces != nil {
		// A move: the booking it replaces is off now, not before.
		if _, err := c.cancel(ctx, host, rec.Replaces, now); err == nil {
			conf.Moved = true
		} else {
			return c.appt(rec, now), conf, fmt.Errorf("appointment %s: cancel the booking it moves: %w", rec.Code, err)
		}
	}
	return c.appt(rec, now), conf, nil
}

// Cancel takes an appointment off (a hold ends; a booking goes down as
// cancelled and frees its place on both sides).
func (c *Central) Cancel(ctx context.Context, host Host, token string, now time.Time) (Appt, error) {
	h := sha256.Sum256([]byte(token))
	return c.cancel(ctx, host, h[:], now)
}

func (c *Central) cancel(ctx context.Context, host Host, tokenHash []byte, now time.Time) (Appt, error) {
	rec, err := c.change(ctx, host, tokenHash, func(r Record) (*Record, []workflow.Event, error) {
		switch {
		case r.Status == StatusHeld && !now.Before(r.Expires):
			next := release(r, StatusExpired, r.Expires)
			return &next, nil, nil
		case r.Status == StatusHeld:
			next := release(r, StatusCancelled, now)
			return &next, nil, nil
		case r.Status == StatusConfirmed:
			next := release(r, StatusCancelled, now)
			return &next, []workflow.Event{{Type: TypeCancelled, Entity: entity(r.Code), At: now, Payload: &Cancelled{Code: r.Code}}}, nil
		}
		return nil, nil, nil // cancelled or expired before
	})
	if veedel.ErrorCode(err) == veedel.ENOTFOUND {
		return Appt{}, veedel.Errorf(veedel.ENOTFOUND, "Termin nicht gefunden / appointment not found")
	}
	if err != nil {
		return Appt{}, err
	}
	return c.appt(rec, now), nil
}

// ByToken returns the appointment of a citizen's token; ENOTFOUND when
// there is none.
func (c *Central) ByToken(ctx context.Context, host Host, token string, now time.Time) (Appt, error) {
	h := sha256.Sum256([]byte(token))
	rec, err := host.AppointmentByToken(ctx, h[:])
	if err != nil {
		return Appt{}, err
	}
	return c.appt(rec, now), nil
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
