package central

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/workflow"
)

// Cologne's number plates (appliance/plates): central owns the namespace,
// hands the registration sites blocks and reservations through their
// outbound logs, and keeps the Wunschkennzeichen reserved online in its
// store (PlateStore) with the holder's name and e-mail only as long as the
// reservation lives. Cutting a block and reserving a plate are decided
// under one lock of the database (lockAllocation), on whichever central
// node, so that a plate is never both and two nodes never cut the same
// block; the store's key on the plate makes two reservations of it
// exclude each other too.

// PlateStore keeps the reservations of Wunschkennzeichen.
type PlateStore interface {
	// ReservePlate stores a new reservation; ECONFLICT when the plate has
	// a reservation that has not expired at r.CreatedAt (an expired one
	// is deleted first).
	ReservePlate(ctx context.Context, r PlateReservation) error
	// PlateReservation returns the live reservation of plate at now;
	// ENOTFOUND when none.
	PlateReservation(ctx context.Context, plate string, now time.Time) (PlateReservation, error)
	// PlateReservations returns every reservation stored (live or not).
	PlateReservations(ctx context.Context) ([]PlateReservation, error)
	// EndPlateReservation deletes the reservation with this token hash
	// (assigned, given back, or never handed down); none is no error.
	EndPlateReservation(ctx context.Context, tokenHash []byte) error
	// ExpirePlateReservations deletes the reservations expired at now,
	// with the holders' names and e-mail addresses, and counts them.
	ExpirePlateReservations(ctx context.Context, now time.Time) (int64, error)
}

// PlateReservation is a reservation as central's store keeps it.
type PlateReservation struct {
	Plate     string
	TokenHash []byte
	Name      string
	Email     string
	Site      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// PlateRequest is a citizen's reservation of a Wunschkennzeichen.
type PlateRequest struct {
	Plate string `json:"plate"`
	Name  string `json:"name"`
	Email string `json:"email"`
	// Site is the registration site that will assign it ("": the first).
	Site string `json:"site,omitempty"`
}

// PlateReserved is what the citizen gets: the token is shown once.
type PlateReserved struct {
	Plate     string    `json:"plate"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Site      string    `json:"site"`
	FeeCents  int       `json:"fee_cents"`
}

func (c *Central) plateStore() (PlateStore, error) {
	ps, ok := c.store.(PlateStore)
	if !ok {
		return nil, veedel.Errorf(veedel.EUNAVAILABLE, "Kennzeichen-Reservierungen sind hier nicht eingerichtet / plate reservations are not set up here")
	}
	return ps, nil
}

// Plates returns the plates' read model (with its settings).
func (c *Central) Plates() *plates.Central {
	wf, _ := c.Workflow(plates.Prefix).(*plates.Central)
	return wf
}

// PlateSites are the sites that get blocks: the model's Sites when set,
// else the directory's vehicle-registration sites, sorted.
func (c *Central) PlateSites() []string {
	if s := c.Plates().SiteList(); s != nil {
		return s
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []string
	for id, s := range c.directory {
		if s.Kind == KindVehicleRegistration {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// ParsePlate reads a plate as the API takes it; EINVALID saying why.
func (c *Central) ParsePlate(s string) (string, error) {
	p, msg := vehicle.ParsePlate(s, c.Plates().BlockedList())
	if msg != "" {
		return "", &veedel.Error{Code: veedel.EINVALID, Message: "Kennzeichen ungültig: " + msg + " / invalid plate",
			Fields: map[string]string{"plate": msg}}
	}
	return p.String(), nil
}

// PlateStatus tells whether plate (as typed) can be reserved now.
func (c *Central) PlateStatus(ctx context.Context, plate string) (plates.Status, error) {
	canonical, err := c.ParsePlate(plate)
	if err != nil {
		return plates.Status{}, err
	}
	st := c.Plates().Status(canonical)
	if st.State != plates.StateFree {
		return st, nil
	}
	ps, err := c.plateStore()
	if err != nil {
		return st, err
	}
	if _, err := ps.PlateReservation(ctx, canonical, c.now()); err == nil {
		st.State = plates.StateReserved
	} else if veedel.ErrorCode(err) != veedel.ENOTFOUND {
		return st, err
	}
	return st, nil
}

const maxPlateName = 80

// ReservePlate reserves a Wunschkennzeichen for the reservation time and
// hands it to the registration site; ECONFLICT when it is taken.
func (c *Central) ReservePlate(ctx context.Context, req PlateRequest) (PlateReserved, error) {
	ps, err := c.plateStore()
	if err != nil {
		return PlateReserved{}, err
	}
	f := veedel.FieldErrors{}
	p, msg := vehicle.ParsePlate(req.Plate, c.Plates().BlockedList())
	if msg != "" {
		f.Add("plate", msg)
	}
	name := strings.TrimSpace(req.Name)
	switch {
	case name == "":
		f.Add("name", "Pflichtangabe / required")
	case utf8.RuneCountInString(name) > maxPlateName:
		f.Add("name", "Zu lang / too long")
	default:
		if ch, bad := veedel.UnsafeRune(name); bad {
			de, en := veedel.DescribeRune(ch)
			f.Add("name", "Enthält "+de+" / contains "+en)
		}
	}
	if a, err := mail.ParseAddress(req.Email); req.Email == "" {
		f.Add("email", "Pflichtangabe / required")
	} else if err != nil || a.Address != req.Email || len(req.Email) > 254 {
		f.Add("email", "E-Mail-Adresse ungültig (z. B. name@example.de) / invalid e-mail address")
	}
	sites := c.PlateSites()
	site := req.Site
	if site == "" && len(sites) > 0 {
		site = sites[0]
	}
	if req.Site != "" && !slices.Contains(sites, req.Site) {
		f.Add("site", "Keine Zulassungsstelle / not a registration site")
	}
	if err := f.Err("Bitte die markierten Angaben prüfen / please check the fields marked"); err != nil {
		return PlateReserved{}, err
	}
	if site == "" {
		return PlateReserved{}, veedel.Errorf(veedel.EUNAVAILABLE, "Keine Zulassungsstelle eingerichtet / no registration site is set up")
	}
	plate := p.String()
	var raw [24]byte
	rand.Read(raw[:])
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	hash := plates.TokenHash(token)
	now := c.now()
	model := c.Plates()
	r := PlateReservation{Plate: plate, TokenHash: hash, Name: name, Email: req.Email, Site: site, CreatedAt: now,
		ExpiresAt: now.Add(model.ReserveTime())}

	unlock, err := c.lockAllocation(ctx)
	if err != nil {
		return PlateReserved{}, err
	}
	defer unlock()
	if st := model.Status(plate); st.State != plates.StateFree {
		return PlateReserved{}, plateTaken(plate)
	}
	if err := ps.ReservePlate(ctx, r); err != nil {
		if veedel.ErrorCode(err) == veedel.ECONFLICT {
			return PlateReserved{}, plateTaken(plate)
		}
		return PlateReserved{}, err
	}
	err = c.SendToSite(ctx, site, workflow.Event{Type: plates.TypeReservationSent, Entity: "plate/" + plate, At: now,
		Payload: &plates.ReservationSent{Plate: plate, TokenHash: hash, Expires: r.ExpiresAt.UnixMilli()}})
	if err != nil {
		if e := ps.EndPlateReservation(context.WithoutCancel(ctx), hash); e != nil {
			c.log.Error("undo plate reservation", "err", e)
		}
		return PlateReserved{}, err
	}
	return PlateReserved{Plate: plate, Token: token, ExpiresAt: r.ExpiresAt, Site: site, FeeCents: plates.FeeCents}, nil
}

func plateTaken(plate string) error {
	return &veedel.Error{Code: veedel.ECONFLICT, Message: fmt.Sprintf("%s ist vergeben / %s is taken", plate, plate),
		Fields: map[string]string{"plate": "Vergeben: bitte ein anderes wählen / taken: please choose another"}}
}

// RefillPlates grants a new block to every registration site whose blocks
// hold no more than the low-water mark (as its log tells central; a site
// that has not sent its log yet gets none), and
// forgets the reservations that ended (the holders' names with them).
func (c *Central) RefillPlates(ctx context.Context) error {
	ps, err := c.plateStore()
	if err != nil {
		return err
	}
	model := c.Plates()
	for _, k := range model.Ended() {
		h, _ := hex.DecodeString(k)
		if err := ps.EndPlateReservation(ctx, h); err != nil {
			return err
		}
	}
	if _, err := ps.ExpirePlateReservations(ctx, c.now()); err != nil {
		return err
	}
	for _, site := range c.PlateSites() {
		// A site gets its first block once it has sent its log: no
		// plates wait in the outbound log of a site not installed yet.
		if !c.hasLog(site) || model.Left(site) > model.LowWaterMark() {
			continue
		}
		if err := c.grantBlock(ctx, ps, site); err != nil {
			return err
		}
	}
	return nil
}

// lockAllocation takes the plates' lock of the database and then folds
// what other central nodes sent to the registration sites before it
// (blocks cut, plates reserved), so that the decision under the lock sees
// every block and reservation of the city.
func (c *Central) lockAllocation(ctx context.Context) (func(), error) {
	unlock, err := c.store.Lock(ctx, lockPlates)
	if err != nil {
		return nil, err
	}
	for _, site := range c.PlateSites() {
		if err := c.CatchUpOutbound(ctx, site); err != nil {
			unlock()
			return nil, err
		}
	}
	return unlock, nil
}

func (c *Central) grantBlock(ctx context.Context, ps PlateStore, site string) error {
	unlock, err := c.lockAllocation(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	model := c.Plates()
	if model.Left(site) > model.LowWaterMark() {
		return nil
	}
	stored, err := ps.PlateReservations(ctx)
	if err != nil {
		return err
	}
	now := c.now()
	live := map[string]bool{}
	for _, r := range stored {
		if r.ExpiresAt.After(now) {
			live[r.Plate] = true
		}
	}
	b, ok := model.NextBlock(model.BlockSizeOr(), func(p string) bool { return live[p] })
	if !ok {
		c.log.Error("plates: the namespace is used up")
		return nil
	}
	if err := c.SendToSite(ctx, site, workflow.Event{Type: plates.TypeBlockGranted, Entity: fmt.Sprintf("plateblock/%d", b.ID), At: now,
		Payload: &plates.BlockGranted{Block: b}}); err != nil {
		return err
	}
	c.log.Info("plates: block granted", "site", site, "block", b.ID, "from", plates.Name(b.Letters, b.First), "to", plates.Name(b.Letters, b.Last), "size", b.Size())
	return nil
}

// dropUnsentPlateReservations deletes stored reservations older than a
// minute that never went down to a site (central stopped between the
// two): their citizens never got a token.
func (c *Central) dropUnsentPlateReservations(ctx context.Context, ps PlateStore) error {
	stored, err := ps.PlateReservations(ctx)
	if err != nil {
		return err
	}
	model := c.Plates()
	for _, r := range stored {
		if _, ok := model.Reserved(r.TokenHash); !ok && !model.Consumed(r.TokenHash) && c.now().Sub(r.CreatedAt) > time.Minute {
			if err := ps.EndPlateReservation(ctx, r.TokenHash); err != nil {
				return err
			}
		}
	}
	return nil
}

// RunPlates refills blocks whenever a site's log arrived, and at least
// every interval, until ctx ends. A store without plates does nothing.
func (c *Central) RunPlates(ctx context.Context, every time.Duration) {
	ps, err := c.plateStore()
	if err != nil {
		return
	}
	if err := c.dropUnsentPlateReservations(ctx, ps); err != nil {
		c.log.Error("plates: drop unsent reservations", "err", err)
	}
	changed, cancel := c.Subscribe("")
	defer cancel()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := c.RefillPlates(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("plates: refill", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-t.C:
		}
	}
}
