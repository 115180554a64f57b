package registration_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
	"github.com/veedel/veedel/workflow"
)

// site is an appliance store on a real SQLite file with its box key, and
// central's outbound log to it.
type site struct {
	t     *testing.T
	store *sqlite.Store
	box   []byte // the box key's public half, as central knows it
	out   []changelog.Entry
	hlc   changelog.HLC
	now   time.Time
}

func newSite(t *testing.T) *site {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	box, err := sitekey.BoxKey(key)
	if err != nil {
		t.Fatal(err)
	}
	s := &site{t: t, box: box.PublicKey().Bytes(), now: time.Date(2026, 12, 7, 9, 0, 0, 0, berlin)}
	s.hlc = changelog.HLC(s.now.UnixMilli()) << 16
	s.store, err = sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "site.db"), "kalk",
		sqlite.Options{Now: func() time.Time { return s.now }, BoxKey: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.store.Close() })
	return s
}

// place seals an order's details to box and appends it to the outbound log.
func (s *site) place(code string, box []byte) changelog.Entry {
	s.t.Helper()
	r := goodOrder()
	plain, _ := cbor.Marshal(r.Details())
	sealed, err := changelog.Seal(box, "registration.order\nkalk\n"+code, plain)
	if err != nil {
		s.t.Fatal(err)
	}
	h := sha256.Sum256([]byte("token-" + code))
	p := &registration.OrderPlaced{Code: code, Kind: r.Kind, Delivery: r.Delivery, Copies: 1, FeeCents: 1000,
		Payment: registration.PaymentAtPickup, Sealed: sealed, Placed: s.now.UnixMilli(), TokenHash: h[:]}
	var prev *changelog.Entry
	if n := len(s.out); n > 0 {
		prev = &s.out[n-1]
	}
	s.hlc += 1 << 16
	e, err := changelog.NewEntry("kalk", prev, s.hlc, registration.TypeOrderPlaced, "order/"+code, p)
	if err != nil {
		s.t.Fatal(err)
	}
	s.out = append(s.out, e)
	return e
}

func (s *site) act(code, action, staff, reason string) error {
	_, err := s.store.ExecuteTx(context.Background(), func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		e, err := registration.Decide(context.Background(), q, at, code, action, staff, reason, "")
		if err != nil {
			return nil, err
		}
		return []queue.Event{e}, nil
	})
	return err
}

func (s *site) order(code string) registration.Order {
	s.t.Helper()
	o, err := registration.Get(context.Background(), s.store.Read(), code)
	if err != nil {
		s.t.Fatal(err)
	}
	return o
}

// TestOrderAtTheSite: an order central placed becomes the site's, once
// however often it is delivered; its details open only at the site; the
// back office takes it through its steps and nothing else; the site's
// change-log, which goes up to central, never holds the details in clear.
func TestOrderAtTheSite(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	e := s.place("UABCDEFGH2", s.box)
	if got, err := s.store.ApplyInbound(ctx, e); err != nil || got != sqlite.InboxApplied {
		t.Fatalf("ApplyInbound = %q, %v", got, err)
	}
	if got, err := s.store.ApplyInbound(ctx, e); err != nil || got != sqlite.InboxDuplicate {
		t.Fatalf("second delivery = %q, %v; want duplicate", got, err)
	}
	o := s.order("uabcdefgh2")
	if o.Status != registration.StatusAtSite || o.Details == nil || o.Details.Person.FamilyName != "Yıldırım-Schäfer" {
		t.Fatalf("order at the site: %+v", o)
	}

	steps := []struct {
		action, staff, reason string
		code                  string // the error's code, "" for success
		status                string
	}{
		{registration.ActionReady, "anna", "", veedel.ECONFLICT, registration.StatusAtSite},
		{registration.ActionClaim, "anna", "", "", registration.StatusInProgress},
		{registration.ActionClaim, "anna", "", veedel.ECONFLICT, registration.StatusInProgress},
		{registration.ActionDispatch, "anna", "", veedel.ECONFLICT, registration.StatusInProgress},
		{registration.ActionReject, "anna", "  ", veedel.EINVALID, registration.StatusInProgress},
		{"shred", "anna", "", veedel.ENOTFOUND, registration.StatusInProgress},
		{registration.ActionReady, "anna", "", "", registration.StatusReady},
		{registration.ActionCollect, "ben", "", "", registration.StatusCollected},
		{registration.ActionReject, "ben", "zu spät", veedel.ECONFLICT, registration.StatusCollected},
	}
	for i, st := range steps {
		err := s.act("UABCDEFGH2", st.action, st.staff, st.reason)
		if veedel.ErrorCode(err) != st.code {
			t.Fatalf("step %d %s: err %v, want code %q", i, st.action, err, st.code)
		}
		if got := s.order("UABCDEFGH2").Status; got != st.status {
			t.Fatalf("step %d %s: status %s, want %s", i, st.action, got, st.status)
		}
	}

	entries, err := s.store.EntriesAfter(ctx, 0, 1000, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range entries {
		if bytes.Contains(e.Payload, []byte("Yıldırım")) || bytes.Contains(e.Payload, []byte("ayse@example.de")) || bytes.Contains(e.Payload, []byte("1987-03-14")) {
			t.Errorf("entry %d (%s) carries personal data in clear", e.Seq, e.Type)
		}
		if e.Type[:len(registration.Prefix)] == registration.Prefix {
			types = append(types, e.Type)
		}
	}
	want := []string{registration.TypeOrderReceived, registration.TypeOrderClaimed, registration.TypeOrderReady, registration.TypeOrderCollected}
	if len(types) != len(want) {
		t.Fatalf("site log: %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("site log: %v, want %v", types, want)
		}
	}
}

// TestOrderSealedToAnotherKey: an order the site cannot open (sealed to
// a key it no longer has) is taken and rejected at once, so that the
// citizen learns it instead of waiting.
func TestOrderSealedToAnotherKey(t *testing.T) {
	s := newSite(t)
	other := newSite(t)
	if _, err := s.store.ApplyInbound(context.Background(), s.place("UOTHERKEY3", other.box)); err != nil {
		t.Fatal(err)
	}
	o := s.order("UOTHERKEY3")
	if o.Status != registration.StatusRejected || o.Details != nil || o.Reason == "" {
		t.Fatalf("order sealed elsewhere: %+v", o)
	}
}

// TestEraseDetails: the personal data go a keeping time after the order
// is done; open orders keep theirs.
func TestEraseDetails(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	for _, code := range []string{"UDONEDONE2", "UOPENOPEN2"} {
		if _, err := s.store.ApplyInbound(ctx, s.place(code, s.box)); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []string{registration.ActionClaim, registration.ActionReady, registration.ActionCollect} {
		if err := s.act("UDONEDONE2", a, "anna", ""); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.store.ErasePersonalData(ctx); err != nil || n != 0 {
		t.Fatalf("ErasePersonalData at once = %d, %v; want 0 (kept %v)", n, err, registration.KeepDetails)
	}
	s.now = s.now.Add(registration.KeepDetails + time.Minute)
	if n, err := s.store.ErasePersonalData(ctx); err != nil || n != 1 {
		t.Fatalf("ErasePersonalData after the keeping time = %d, %v; want 1", n, err)
	}
	if s.order("UDONEDONE2").Details != nil || s.order("UOPENOPEN2").Details == nil {
		t.Fatal("erased the wrong order's details")
	}
}

// TestPickupJoinsTheQueue: the order code typed at the kiosk queues the
// citizen for the pickup once the order is ready, once however often
// typed; before that the kiosk says why not.
func TestPickupJoinsTheQueue(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	if _, err := s.store.Execute(ctx, func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		return []queue.Event{
			{Type: queue.TypeSiteDescribed, Entity: "site/kalk", At: at, Payload: &queue.SiteDescribed{ID: "kalk", Name: "Kalk", TimeZone: "Europe/Berlin"}},
			{Type: queue.TypeServiceDefined, Entity: "service/abholung", At: at, Payload: &queue.ServiceDefined{ID: "abholung", Name: "Abholung", NameEN: "Pickup", Prefix: "P", ExpectedMinutes: 3}},
		}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.ApplyInbound(ctx, s.place("UPICKUP234", s.box)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.store.CheckIn(ctx, "UPICKUP234", "kiosk"); veedel.ErrorCode(err) != veedel.ECONFLICT || !strings.Contains(veedel.ErrorMessage(err), "noch nicht abholbereit") {
		t.Fatalf("check-in before ready: %v", err)
	}
	if _, _, err := s.store.CheckIn(ctx, "UNKNOWN234", "kiosk"); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("unknown code: %v", err)
	}
	for _, a := range []string{registration.ActionClaim, registration.ActionReady} {
		if err := s.act("UPICKUP234", a, "anna", ""); err != nil {
			t.Fatal(err)
		}
	}
	tk, replayed, err := s.store.CheckIn(ctx, "upickup-234", "kiosk")
	if err != nil || replayed || tk.Service != registration.PickupService || tk.Ref != "order/UPICKUP234" {
		t.Fatalf("pickup check-in: %+v %v %v", tk, replayed, err)
	}
	again, replayed, err := s.store.CheckIn(ctx, "UPICKUP234", "kiosk")
	if err != nil || !replayed || again.ID != tk.ID {
		t.Fatalf("second check-in: %+v %v %v, want the first ticket", again, replayed, err)
	}
	if err := s.act("UPICKUP234", registration.ActionCollect, "ben", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.store.CheckIn(ctx, "UPICKUP234", "kiosk"); veedel.ErrorCode(err) != veedel.ECONFLICT || !strings.Contains(veedel.ErrorMessage(err), "abgeholt") {
		t.Fatalf("check-in after collection: %v, want a conflict that says it was collected", err)
	}
}
