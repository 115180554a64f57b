package appointment_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	csqlite "github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
	"github.com/veedel/veedel/workflow"
)

var berlin, _ = time.LoadLocation("Europe/Berlin")

// host is central as the seller sees it: one site with 3 places per slot
// (one online), an outbound log that folds back into the model as
// central's does.
type host struct {
	*csqlite.Store // central's real store of appointments
	t              *testing.T
	model          *appointment.Central
	box            []byte
	sent           []workflow.Event
}

func (h *host) SiteKnown(site string) bool { return site == "kalk" }
func (h *host) SlotPlan(site, service, day string) ([]queue.Slot, error) {
	if service != "ausweis" {
		return nil, veedel.Errorf(veedel.EINVALID, "Unbekanntes Anliegen")
	}
	d, _ := time.ParseInLocation(time.DateOnly, day, berlin)
	var out []queue.Slot
	for m := 8 * 60; m < 12*60; m += 10 {
		out = append(out, queue.Slot{Start: d.Add(time.Duration(m) * time.Minute), Length: 10 * time.Minute, Capacity: 3, Online: queue.OnlineShare(3)})
	}
	return out, nil
}
func (h *host) SellLock(context.Context, string) (func(), error) { return func() {}, nil }
func (h *host) DayOf(_ string, t time.Time) string               { return t.In(berlin).Format(time.DateOnly) }
func (h *host) BoxKey(context.Context, string) ([]byte, error)   { return h.box, nil }
func (h *host) ChangeAppointment(ctx context.Context, tokenHash []byte, decide func(appointment.Record) (*appointment.Record, []workflow.Event, error)) (appointment.Record, error) {
	clock := changelog.NewClock(time.Now, 0)
	var sent []workflow.Event
	r, err := h.UpdateAppointment(ctx, tokenHash, time.Now(), clock.Now, func(r appointment.Record) (*appointment.Record, []central.Outgoing, error) {
		next, events, err := decide(r)
		sent = events
		out := make([]central.Outgoing, len(events))
		for i, e := range events {
			out[i] = central.Outgoing{Type: e.Type, Entity: e.Entity, Payload: e.Payload}
		}
		return next, out, err
	})
	if err == nil {
		h.sent = append(h.sent, sent...)
	}
	return r, err
}

type inbox map[string]string // e-mail -> last code

func (in inbox) Notify(_ context.Context, to appointment.Contact, _, _, body string) error {
	in[to.Email] = body[len(body)-6:]
	return nil
}

func setup(t *testing.T) (*appointment.Central, *host, inbox, time.Time) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	box, _ := sitekey.BoxKey(key)
	m := appointment.NewCentral()
	m.UseKey([]byte("test key"))
	st, err := csqlite.Open(context.Background(), filepath.Join(t.TempDir(), "central.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := m.Backfill(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	return m, &host{Store: st, t: t, model: m, box: box.PublicKey().Bytes()}, inbox{}, time.Date(2026, 12, 7, 18, 0, 0, 0, berlin)
}

func req(start time.Time, email string) appointment.Request {
	return appointment.Request{Site: "kalk", Service: "ausweis", Start: start, Name: "Ayşe Yılmaz", Email: email, Consent: true}
}

// TestHoldExpires: an unconfirmed hold frees its place after the hold
// time, and confirming it then says so.
func TestHoldExpires(t *testing.T) {
	m, h, in, now := setup(t)
	slot := time.Date(2026, 12, 8, 9, 0, 0, 0, berlin)
	held, err := m.Hold(context.Background(), h, in, req(slot, "a@example.de"), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Hold(context.Background(), h, in, req(slot, "b@example.de"), now.Add(time.Minute)); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("second hold while held: %v", err)
	}
	later := now.Add(appointment.DefaultHoldFor)
	if _, _, err := m.Confirm(context.Background(), h, held.Token, in["a@example.de"], later); veedel.ErrorCode(err) != veedel.ECONFLICT || !strings.Contains(veedel.ErrorMessage(err), "abgelaufen") {
		t.Fatalf("confirm after expiry: %v", err)
	}
	if _, err := m.Hold(context.Background(), h, in, req(slot, "b@example.de"), later); err != nil {
		t.Fatalf("hold after the first expired: %v", err)
	}
	if len(h.sent) != 0 {
		t.Fatalf("sold %d without a confirmation", len(h.sent))
	}
}

// TestPerContactLimit: two active appointments per contact and service;
// the contact compares without case.
func TestPerContactLimit(t *testing.T) {
	m, h, in, now := setup(t)
	day := time.Date(2026, 12, 8, 0, 0, 0, 0, berlin)
	for i, email := range []string{"Jan@Example.de", "jan@example.de"} {
		held, err := m.Hold(context.Background(), h, in, req(day.Add(time.Duration(8*60+10*i)*time.Minute), email), now)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := m.Confirm(context.Background(), h, held.Token, in[email], now); err != nil {
			t.Fatal(err)
		}
	}
	_, err := m.Hold(context.Background(), h, in, req(day.Add(9*time.Hour), "JAN@example.DE"), now)
	if veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("third appointment of one contact: %v", err)
	}
	if _, err := m.Hold(context.Background(), h, in, req(day.Add(9*time.Hour), "other@example.de"), now); err != nil {
		t.Fatalf("another contact: %v", err)
	}
}

// TestWrongCodes: wrong codes count down, then the hold is released.
func TestWrongCodes(t *testing.T) {
	m, h, in, now := setup(t)
	slot := time.Date(2026, 12, 8, 10, 0, 0, 0, berlin)
	held, err := m.Hold(context.Background(), h, in, req(slot, "a@example.de"), now)
	if err != nil {
		t.Fatal(err)
	}
	wrong := "000000"
	if in["a@example.de"] == wrong {
		wrong = "111111"
	}
	for i := range appointment.DefaultConfirmAttempts - 1 {
		_, _, err := m.Confirm(context.Background(), h, held.Token, wrong, now)
		if veedel.ErrorCode(err) != veedel.EINVALID || veedel.ErrorFields(err)["code"] == "" {
			t.Fatalf("wrong code %d: %v", i+1, err)
		}
	}
	if _, _, err := m.Confirm(context.Background(), h, held.Token, wrong, now); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("last wrong code: %v, want the hold released", err)
	}
	if _, _, err := m.Confirm(context.Background(), h, held.Token, in["a@example.de"], now); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("the right code after release: %v", err)
	}
	if _, err := m.Hold(context.Background(), h, in, req(slot, "b@example.de"), now); err != nil {
		t.Fatalf("the released place: %v", err)
	}
}

// TestBadRequests: every bad field is named, nothing is held.
func TestBadRequests(t *testing.T) {
	m, h, in, now := setup(t)
	slot := time.Date(2026, 12, 8, 10, 0, 0, 0, berlin)
	for name, c := range map[string]struct {
		edit  func(*appointment.Request)
		field string
	}{
		"past":         {func(r *appointment.Request) { r.Start = now.Add(-time.Hour) }, "start"},
		"off the plan": {func(r *appointment.Request) { r.Start = slot.Add(3 * time.Minute) }, "start"},
		"too soon":     {func(r *appointment.Request) { r.Start = now.Add(30 * time.Minute) }, "start"},
		"no name":      {func(r *appointment.Request) { r.Name = " " }, "name"},
		"bad e-mail":   {func(r *appointment.Request) { r.Email = "a@" }, "email"},
		"bad phone":    {func(r *appointment.Request) { r.Email, r.Phone = "", "ring me" }, "phone"},
		"no consent":   {func(r *appointment.Request) { r.Consent = false }, "consent"},
		"unknown svc":  {func(r *appointment.Request) { r.Service = "zauberei" }, "service"},
		"unknown site": {func(r *appointment.Request) { r.Site = "atlantis" }, "site"},
		"bidi in name": {func(r *appointment.Request) { r.Name = "Ay\u202eşe" }, "name"},
	} {
		r := req(slot, "a@example.de")
		c.edit(&r)
		_, err := m.Hold(context.Background(), h, in, r, now)
		if veedel.ErrorCode(err) != veedel.EINVALID || veedel.ErrorFields(err)[c.field] == "" {
			t.Errorf("%s: %v (fields %v), want EINVALID naming %s", name, err, veedel.ErrorFields(err), c.field)
		}
	}
	if taken, _ := h.SlotsTaken(context.Background(), "kalk", "ausweis", now, now.AddDate(0, 0, 7), now); len(taken) != 0 {
		t.Fatalf("places taken after bad requests: %v", taken)
	}
}
