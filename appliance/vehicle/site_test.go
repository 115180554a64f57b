package vehicle_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
	"github.com/veedel/veedel/workflow"
)

// site is the registration site's store on a real SQLite file with its
// box key, and central's outbound log to it.
type site struct {
	t     *testing.T
	store *sqlite.Store
	box   []byte
	out   []changelog.Entry
	hlc   changelog.HLC
	now   time.Time
	path  string // the SQLite file
}

func newSite(t *testing.T) *site {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	box, err := sitekey.BoxKey(key)
	if err != nil {
		t.Fatal(err)
	}
	s := &site{t: t, box: box.PublicKey().Bytes(), now: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	s.hlc = changelog.HLC(s.now.UnixMilli()) << 16
	s.path = filepath.Join(t.TempDir(), "site.db")
	s.store, err = sqlite.Open(context.Background(), s.path, "zulassung",
		sqlite.Options{Now: func() time.Time { return s.now }, BoxKey: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.store.Close() })
	return s
}

// entry appends an entry to central's outbound log.
func (s *site) entry(typ, entity string, p any) changelog.Entry {
	s.t.Helper()
	var prev *changelog.Entry
	if n := len(s.out); n > 0 {
		prev = &s.out[n-1]
	}
	s.hlc += 1 << 16
	e, err := changelog.NewEntry("zulassung", prev, s.hlc, typ, entity, p)
	if err != nil {
		s.t.Fatal(err)
	}
	s.out = append(s.out, e)
	return e
}

// send appends an entry and applies it at the site.
func (s *site) send(typ, entity string, p any) string {
	s.t.Helper()
	outcome, err := s.store.ApplyInbound(context.Background(), s.entry(typ, entity, p))
	if err != nil {
		s.t.Fatal(err)
	}
	return outcome
}

func goodApplication(process, mode string) vehicle.Application {
	a := vehicle.Application{
		Process: process,
		Owner: vehicle.Owner{Kind: "person", FamilyName: "Yıldırım-Schäfer", GivenNames: "Aylin", BirthDate: "1988-04-02",
			Street: "Kalker Hauptstraße 1", Postcode: "51103", City: "Köln", Email: "aylin@example.org", Phone: "+4915112345678"},
		Vehicle: vehicle.VehicleData{FIN: "WVWZZZ1JZXW000001", ZB1: "AB1234567", ZB2: "CD7654321", Plate: "K-XY 42"},
		EVB:     "A1B2C3D",
		Plate:   vehicle.PlateChoice{Mode: mode},
		Lang:    "de",
	}
	return a
}

// submit seals app to the site and sends it down as id.
func (s *site) submit(id string, app vehicle.Application, reservationToken string) changelog.Entry {
	s.t.Helper()
	return s.submitFiles(id, app, reservationToken, []vehicle.Attachment{{Kind: "vollmacht", File: blob.Ref{SHA256: strings.Repeat("ab", 32), Size: 1234, Type: "application/pdf", Name: "vollmacht.pdf"}}})
}

// submitFiles is submit with the attachments given.
func (s *site) submitFiles(id string, app vehicle.Application, reservationToken string, files []vehicle.Attachment) changelog.Entry {
	s.t.Helper()
	plain, _ := cbor.Marshal(app)
	sealed, err := changelog.Seal(s.box, vehicle.SealInfo("zulassung", id), plain)
	if err != nil {
		s.t.Fatal(err)
	}
	h := sha256.Sum256([]byte("token-" + id))
	p := &vehicle.ApplicationSubmitted{ID: id, Process: app.Process, Sealed: sealed, Submitted: s.now.UnixMilli(), TokenHash: h[:],
		PlateMode: app.Plate.Mode, Lang: app.Lang, Attachments: files}
	if reservationToken != "" {
		p.Reservation = hex.EncodeToString(plates.TokenHash(reservationToken))
	}
	return s.entry(vehicle.TypeSubmitted, "vehicle/"+id, p)
}

func (s *site) apply(e changelog.Entry) string {
	s.t.Helper()
	got, err := s.store.ApplyInbound(context.Background(), e)
	if err != nil {
		s.t.Fatal(err)
	}
	return got
}

func (s *site) step(st vehicle.Step) error {
	_, err := s.store.ExecuteTx(context.Background(), func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		e, err := vehicle.Decide(context.Background(), q, at, st)
		if err != nil {
			return nil, err
		}
		return []queue.Event{e}, nil
	})
	return err
}

// approve approves id as staff, the plate through appliance/plates and a
// stand-in permit.
func (s *site) approve(id, staff string) (*vehicle.ApplicationApproved, error) {
	var out *vehicle.ApplicationApproved
	ctx := context.Background()
	_, err := s.store.ExecuteTx(ctx, func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		events, p, err := vehicle.Approve(ctx, q, at, vehicle.Approval{ID: id, Staff: staff, Code: "CODE" + id, ValidUntil: "2026-12-17",
			Permit: func(p *vehicle.ApplicationApproved) (blob.Ref, error) {
				h := sha256.Sum256([]byte(p.Plate + p.FIN + p.Code))
				return blob.Ref{SHA256: hex.EncodeToString(h[:]), Size: 1000, Type: "application/pdf"}, nil
			},
			Plate: func(reservation []byte, ref string) ([]workflow.Event, string, error) {
				events, a, err := plates.Assign(ctx, q, at, plates.AssignRequest{TokenHash: reservation, Ref: ref})
				if err != nil {
					return nil, "", err
				}
				return events, a.Plate, nil
			}})
		out = p
		return events, err
	})
	return out, err
}

// settings changes the site's four-eyes setting as staff, a command.
func (s *site) settings(staff string, fourEyes bool) error {
	ctx := context.Background()
	_, err := s.store.ExecuteTx(ctx, func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		return vehicle.ChangeSettings(ctx, q, at, staff, fourEyes)
	})
	return err
}

func (s *site) app(id string) vehicle.SiteApplication {
	s.t.Helper()
	a, err := vehicle.Get(context.Background(), s.store.Read(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	return a
}

// checkAll records every check id's process needs as passed.
func (s *site) checkAll(id, staff string) {
	s.t.Helper()
	for _, c := range vehicle.RequiredChecks(s.app(id).Process) {
		if err := s.step(vehicle.Step{ID: id, Action: vehicle.ActionCheck, Staff: staff, Check: c, OK: true}); err != nil {
			s.t.Fatal(err)
		}
	}
}

func (s *site) grantBlock(id int64, letters string, first, last int) {
	s.t.Helper()
	if got := s.send(plates.TypeBlockGranted, "plateblock/x", &plates.BlockGranted{Block: plates.Block{ID: id, Letters: letters, First: first, Last: last}}); got != sqlite.InboxApplied {
		s.t.Fatalf("block: %s", got)
	}
}

// TestApplicationAtTheSite: an application central submitted becomes the
// site's once however often it is delivered; its details open only at the
// site; checks and decisions come only after a claim and only from the
// clerk who claimed it; a supplement puts it back into the worklist, once;
// the site's log never holds the details in clear.
func TestApplicationAtTheSite(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	s.grantBlock(1, "AB", 100, 199)
	e := s.submit("V0001", goodApplication(vehicle.ProcessTransfer, vehicle.PlateRandom), "")
	if got := s.apply(e); got != sqlite.InboxApplied {
		t.Fatalf("first delivery: %s", got)
	}
	if got := s.apply(e); got != sqlite.InboxDuplicate {
		t.Fatalf("second delivery: %s, want duplicate", got)
	}
	// The same application again under a new entry (central resent it):
	// the site has it, nothing changes.
	if got := s.apply(s.submit("V0001", goodApplication(vehicle.ProcessTransfer, vehicle.PlateRandom), "")); got != sqlite.InboxUnchanged {
		t.Fatalf("resent: %s, want unchanged", got)
	}
	var received int
	s.store.Read().QueryRowContext(ctx, `SELECT count(*) FROM changelog WHERE type = ?`, vehicle.TypeReceived).Scan(&received)
	if received != 1 {
		t.Fatalf("%d received events, want 1", received)
	}
	a := s.app("V0001")
	if a.Status != vehicle.StatusAtSite || a.Details == nil || a.Details.Owner.FamilyName != "Yıldırım-Schäfer" {
		t.Fatalf("at the site: %+v", a)
	}
	if files, _ := vehicle.Attachments(ctx, s.store.Read(), "V0001"); len(files) != 1 || files[0].File.Name != "vollmacht.pdf" {
		t.Fatalf("attachments: %+v", files)
	}

	steps := []struct {
		step   vehicle.Step
		code   string
		status string
	}{
		{vehicle.Step{Action: vehicle.ActionCheck, Staff: "anna", Check: vehicle.CheckFees, OK: true}, veedel.ECONFLICT, vehicle.StatusAtSite},
		{vehicle.Step{Action: vehicle.ActionReject, Staff: "anna", Reason: "nein"}, veedel.ECONFLICT, vehicle.StatusAtSite},
		{vehicle.Step{Action: vehicle.ActionClaim, Staff: "anna"}, "", vehicle.StatusInReview},
		{vehicle.Step{Action: vehicle.ActionClaim, Staff: "anna"}, veedel.ECONFLICT, vehicle.StatusInReview},
		{vehicle.Step{Action: vehicle.ActionCheck, Staff: "ben", Check: vehicle.CheckFees, OK: true}, veedel.ECONFLICT, vehicle.StatusInReview},
		{vehicle.Step{Action: vehicle.ActionCheck, Staff: "anna", Check: "horoskop", OK: true}, veedel.EINVALID, vehicle.StatusInReview},
		{vehicle.Step{Action: vehicle.ActionRequestInfo, Staff: "anna", Reason: "  "}, veedel.EINVALID, vehicle.StatusInReview},
		{vehicle.Step{Action: "shred", Staff: "anna"}, veedel.ENOTFOUND, vehicle.StatusInReview},
		{vehicle.Step{Action: vehicle.ActionRequestInfo, Staff: "anna", Reason: "Bitte die Vollmacht unterschrieben hochladen."}, "", vehicle.StatusInfoRequested},
		{vehicle.Step{Action: vehicle.ActionClaim, Staff: "ben"}, veedel.ECONFLICT, vehicle.StatusInfoRequested},
	}
	for i, st := range steps {
		st.step.ID = "V0001"
		err := s.step(st.step)
		if veedel.ErrorCode(err) != st.code {
			t.Fatalf("step %d %s: err %v, want code %q", i, st.step.Action, err, st.code)
		}
		if got := s.app("V0001").Status; got != st.status {
			t.Fatalf("step %d %s: status %s, want %s", i, st.step.Action, got, st.status)
		}
	}

	// The applicant adds a note and a file: back in the worklist, once.
	note, _ := cbor.Marshal("Vollmacht anbei.")
	sealedNote, _ := changelog.Seal(s.box, vehicle.SealInfo("zulassung", "V0001"), note)
	supp := &vehicle.ApplicationSupplemented{ID: "V0001", Sealed: sealedNote,
		Attachments: []vehicle.Attachment{{Kind: "vollmacht", File: blob.Ref{SHA256: strings.Repeat("cd", 32), Size: 99, Type: "image/jpeg", Name: "vollmacht.jpg"}}}}
	if got := s.send(vehicle.TypeSupplemented, "vehicle/V0001", supp); got != sqlite.InboxApplied {
		t.Fatalf("supplement: %s", got)
	}
	if got := s.send(vehicle.TypeSupplemented, "vehicle/V0001", supp); got != sqlite.InboxUnchanged {
		t.Fatalf("supplement again: %s, want unchanged", got)
	}
	if a := s.app("V0001"); a.Status != vehicle.StatusAtSite || a.Process != vehicle.ProcessTransfer {
		t.Fatalf("after the supplement: %+v", a)
	}
	if sup, _ := vehicle.Supplements(ctx, s.store.Read(), "V0001"); len(sup) != 1 || sup[0].Note != "Vollmacht anbei." {
		t.Fatalf("supplements: %+v", sup)
	}
	if files, _ := vehicle.Attachments(ctx, s.store.Read(), "V0001"); len(files) != 2 {
		t.Fatalf("attachments after the supplement: %+v", files)
	}

	if err := s.step(vehicle.Step{ID: "V0001", Action: vehicle.ActionClaim, Staff: "ben"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.approve("V0001", "ben"); veedel.ErrorCode(err) != veedel.ECONFLICT || !strings.Contains(err.Error(), "Prüfungen fehlen") {
		t.Fatalf("approve without checks: %v", err)
	}
	s.checkAll("V0001", "ben")
	if err := s.step(vehicle.Step{ID: "V0001", Action: vehicle.ActionCheck, Staff: "ben", Check: vehicle.CheckTax, OK: false}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.approve("V0001", "ben"); veedel.ErrorCode(err) != veedel.ECONFLICT || !strings.Contains(err.Error(), "kfz_steuer") {
		t.Fatalf("approve with tax arrears: %v", err)
	}
	s.checkAll("V0001", "ben") // the arrears were paid
	if _, err := s.approve("V0001", "anna"); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("approve by another clerk without four eyes: %v", err)
	}
	p, err := s.approve("V0001", "ben")
	if err != nil {
		t.Fatal(err)
	}
	a = s.app("V0001")
	if a.Status != vehicle.StatusApproved || a.Plate != "K-AB 100" || p.Plate != "K-AB 100" || a.FIN != "WVWZZZ1JZXW000001" || a.Permit == nil || a.Second != "" {
		t.Fatalf("approved: %+v", a)
	}
	if _, err := s.approve("V0001", "ben"); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("approve twice: %v", err)
	}
	// The documents go out once.
	if err := s.step(vehicle.Step{ID: "V0001", Action: vehicle.ActionPost, Staff: "carla"}); err != nil {
		t.Fatal(err)
	}
	if err := s.step(vehicle.Step{ID: "V0001", Action: vehicle.ActionPost, Staff: "carla"}); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("posted twice: %v", err)
	}

	// Nothing personal in the site's log, which goes up to central.
	rows, err := s.store.Read().QueryContext(ctx, `SELECT payload FROM changelog`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var payload []byte
		rows.Scan(&payload)
		for _, secret := range []string{"Yıldırım", "aylin@example.org", "Vollmacht anbei", "+4915112345678"} {
			if bytes.Contains(payload, []byte(secret)) {
				t.Fatalf("the site's log holds %q in clear", secret)
			}
		}
	}

	// Erased after the keeping time; the decision stays.
	n, err := vehicle.Site.Erase(ctx, s.store.Writer(), s.now.Add(vehicle.KeepDetails+time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("erase: %d, %v", n, err)
	}
	if a := s.app("V0001"); a.Details != nil || a.Plate != "K-AB 100" {
		t.Fatalf("after erasure: %+v", a)
	}
	if sup, _ := vehicle.Supplements(ctx, s.store.Read(), "V0001"); sup[0].Note != "" {
		t.Fatalf("note kept after erasure: %+v", sup)
	}
}

// TestFourEyes: where the site asks for it, the clerk who claimed and
// checked cannot approve alone; a second staff member approves, and the
// decision names both.
func TestFourEyes(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	s.grantBlock(1, "AB", 100, 199)
	if err := s.settings("leitung", true); err != nil {
		t.Fatal(err)
	}
	// Logged with who set it, projected for the decision.
	if st, err := vehicle.Settings(ctx, s.store.Read()); err != nil || !st.FourEyes || st.By != "leitung" || !st.At.Equal(s.now) {
		t.Fatalf("settings %+v, %v", st, err)
	}
	var logged int
	s.store.Read().QueryRowContext(ctx, `SELECT count(*) FROM changelog WHERE type = ?`, vehicle.TypeSettingsChanged).Scan(&logged)
	if err := s.settings("leitung", true); err != nil || logged != 1 {
		t.Fatalf("logged %d settings entries (%v), want 1", logged, err)
	}
	s.store.Read().QueryRowContext(ctx, `SELECT count(*) FROM changelog WHERE type = ?`, vehicle.TypeSettingsChanged).Scan(&logged)
	if logged != 1 {
		t.Fatalf("the same setting again logged %d entries, want 1", logged)
	}
	s.apply(s.submit("V0002", goodApplication(vehicle.ProcessNew, vehicle.PlateRandom), ""))
	if _, err := s.approve("V0002", "anna"); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("approve before claim: %v", err)
	}
	if err := s.step(vehicle.Step{ID: "V0002", Action: vehicle.ActionClaim, Staff: "anna"}); err != nil {
		t.Fatal(err)
	}
	s.checkAll("V0002", "anna")
	if _, err := s.approve("V0002", "anna"); veedel.ErrorCode(err) != veedel.ECONFLICT || !strings.Contains(err.Error(), "Vier-Augen") {
		t.Fatalf("approve alone: %v", err)
	}
	p, err := s.approve("V0002", "ben")
	if err != nil {
		t.Fatal(err)
	}
	if p.Staff != "anna" || p.Second != "ben" {
		t.Fatalf("approved by %q and %q, want anna and ben", p.Staff, p.Second)
	}
	if a := s.app("V0002"); a.Second != "ben" || a.Staff != "anna" {
		t.Fatalf("stored: %+v", a)
	}
}

// TestPlateSources: the plate comes from the right place: the reservation
// for a Wunschkennzeichen, the site's blocks for a random one, the current
// plate when kept, none for an Außerbetriebsetzung; no plate is issued
// twice; with the blocks used up approval is refused with why, and nothing
// changes.
func TestPlateSources(t *testing.T) {
	s := newSite(t)
	s.grantBlock(1, "Q", 7, 8)
	s.send(plates.TypeReservationSent, "plate/K-WU 77", &plates.ReservationSent{Plate: "K-WU 77", TokenHash: plates.TokenHash("wish-token"),
		Expires: s.now.Add(90 * 24 * time.Hour).UnixMilli()})

	cases := []struct {
		id, process, mode, token, plate string
	}{
		{"W0001", vehicle.ProcessNew, vehicle.PlateWish, "wish-token", "K-WU 77"},
		{"R0001", vehicle.ProcessNew, vehicle.PlateRandom, "", "K-Q 7"},
		{"R0002", vehicle.ProcessTransfer, vehicle.PlateRandom, "", "K-Q 8"},
		{"K0001", vehicle.ProcessTransfer, vehicle.PlateKeep, "", "K-XY 42"},
		{"A0001", vehicle.ProcessAddressShift, "", "", "K-XY 42"},
		{"D0001", vehicle.ProcessDeregister, "", "", ""},
	}
	for _, c := range cases {
		s.apply(s.submit(c.id, goodApplication(c.process, c.mode), c.token))
		if err := s.step(vehicle.Step{ID: c.id, Action: vehicle.ActionClaim, Staff: "anna"}); err != nil {
			t.Fatal(err)
		}
		s.checkAll(c.id, "anna")
		p, err := s.approve(c.id, "anna")
		if err != nil {
			t.Fatalf("%s: %v", c.id, err)
		}
		if p.Plate != c.plate {
			t.Errorf("%s (%s, %s): plate %q, want %q", c.id, c.process, c.mode, p.Plate, c.plate)
		}
	}
	issued, err := plates.Issued(context.Background(), s.store.Read())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range issued {
		if seen[a.Plate] {
			t.Fatalf("%s issued twice", a.Plate)
		}
		seen[a.Plate] = true
	}
	if len(issued) != 3 {
		t.Fatalf("plates issued: %+v, want the reservation and two of the block", issued)
	}

	// The block is used up: a clear refusal, and the application stays in review.
	s.apply(s.submit("R0003", goodApplication(vehicle.ProcessNew, vehicle.PlateRandom), ""))
	s.step(vehicle.Step{ID: "R0003", Action: vehicle.ActionClaim, Staff: "anna"})
	s.checkAll("R0003", "anna")
	_, err = s.approve("R0003", "anna")
	if veedel.ErrorCode(err) != veedel.EUNAVAILABLE || !strings.Contains(err.Error(), "Keine freien Kennzeichen") {
		t.Fatalf("approve with no plates left: %v", err)
	}
	if a := s.app("R0003"); a.Status != vehicle.StatusInReview || a.Plate != "" {
		t.Fatalf("after the refusal: %+v", a)
	}
	// A second wish for the same reservation is refused: assigned already.
	s.apply(s.submit("W0002", goodApplication(vehicle.ProcessNew, vehicle.PlateWish), "wish-token"))
	s.step(vehicle.Step{ID: "W0002", Action: vehicle.ActionClaim, Staff: "anna"})
	s.checkAll("W0002", "anna")
	if _, err := s.approve("W0002", "anna"); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("the reservation twice: %v", err)
	}
}

// TestDecisionMessages: a decision tells the applicant, at the contact in
// the sealed application, what was decided and why.
func TestDecisionMessages(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	s.apply(s.submit("V0003", goodApplication(vehicle.ProcessDeregister, ""), ""))
	s.step(vehicle.Step{ID: "V0003", Action: vehicle.ActionClaim, Staff: "anna"})
	if err := s.step(vehicle.Step{ID: "V0003", Action: vehicle.ActionReject, Staff: "anna", Reason: "Das Siegel auf dem Kennzeichen fehlt."}); err != nil {
		t.Fatal(err)
	}
	msgs, err := vehicle.Site.Messages(ctx, s.store.Read(), workflow.Event{Type: vehicle.TypeRejected, Payload: &vehicle.ApplicationRejected{ID: "V0003", Reason: "x"}})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages: %+v, %v", msgs, err)
	}
	m := msgs[0]
	if m.Email != "aylin@example.org" || m.Phone != "+4915112345678" || !strings.Contains(m.Text, "Das Siegel auf dem Kennzeichen fehlt.") ||
		!strings.Contains(m.SMS, "abgelehnt") || m.Key != "vehicle:V0003:rejected" {
		t.Fatalf("message: %+v", m)
	}

	s.apply(s.submit("V0005", goodApplication(vehicle.ProcessDeregister, ""), ""))
	s.step(vehicle.Step{ID: "V0005", Action: vehicle.ActionClaim, Staff: "anna"})
	s.checkAll("V0005", "anna")
	p, err := s.approve("V0005", "anna")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err = vehicle.Site.Messages(ctx, s.store.Read(), workflow.Event{Type: vehicle.TypeApproved, Payload: p})
	if err != nil || len(msgs) != 1 || !strings.Contains(msgs[0].Text, "genehmigt") || !strings.Contains(msgs[0].SMS, "17.12.2026") ||
		msgs[0].Key != "vehicle:V0005:approved" {
		t.Fatalf("approval's message: %+v, %v", msgs, err)
	}
	// Claims and checks tell the applicant nothing.
	if msgs, _ := vehicle.Site.Messages(ctx, s.store.Read(), workflow.Event{Type: vehicle.TypeClaimed, Payload: &vehicle.ApplicationClaimed{ID: "V0005"}}); len(msgs) != 0 {
		t.Fatalf("a claim tells the applicant: %+v", msgs)
	}
}

// TestUnreadableApplication: an application sealed to another key is
// refused at once with a reason for the applicant, not left waiting.
func TestUnreadableApplication(t *testing.T) {
	s := newSite(t)
	other := newSite(t)
	s.box, other.box = other.box, s.box
	s.apply(s.submit("V0004", goodApplication(vehicle.ProcessNew, vehicle.PlateRandom), ""))
	if a := s.app("V0004"); a.Status != vehicle.StatusRejected || a.Details != nil || a.Reason == "" {
		t.Fatalf("unreadable: %+v", a)
	}
}
