package exam_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
	"github.com/veedel/veedel/workflow"
)

var berlin, _ = time.LoadLocation("Europe/Berlin")

const siteID = "gesundheitsamt"

type site struct {
	t      *testing.T
	store  *sqlite.Store
	box    []byte
	escrow string // private key file
	out    []changelog.Entry
	hlc    changelog.HLC
	now    time.Time
}

func newSite(t *testing.T) *site {
	t.Helper()
	s := newSiteWithoutEscrow(t)
	s.useEscrow()
	return s
}

// newSiteWithoutEscrow is a site whose escrow key is not configured yet
// (useEscrow configures it).
func newSiteWithoutEscrow(t *testing.T) *site {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	box, err := sitekey.BoxKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &site{t: t, box: box.PublicKey().Bytes(), now: time.Date(2026, 12, 7, 9, 0, 0, 0, berlin), escrow: filepath.Join(dir, "escrow.key")}
	s.hlc = changelog.HLC(s.now.UnixMilli()) << 16
	s.store, err = sqlite.Open(context.Background(), filepath.Join(dir, "site.db"), siteID,
		sqlite.Options{Now: func() time.Time { return s.now }, BoxKey: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.store.Close() })
	if _, err := s.store.Execute(context.Background(), func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		return appliance.Catalog[siteID].Events(at), nil
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

// useEscrow makes the health office's escrow key and configures it.
func (s *site) useEscrow() {
	s.t.Helper()
	if _, err := exam.WriteEscrowKey(s.escrow); err != nil {
		s.t.Fatal(err)
	}
	pub, err := exam.ReadEscrowPublic(s.escrow + ".pub")
	if err != nil {
		s.t.Fatal(err)
	}
	if err := exam.UseEscrow(context.Background(), s.store.Writer(), pub); err != nil {
		s.t.Fatal(err)
	}
}

// Distinctive data that must never appear in the log's bytes.
var child = exam.Child{FamilyName: "Quaxelbrink", GivenNames: "Philippa-Zoé", BirthDate: "2020-11-03", Sex: exam.SexFemale,
	Street: "Zwirnereigasse 17", Postcode: "50667", City: "Köln", ParentName: "Ottilie Quaxelbrink", ParentPhone: "+49 221 5550123",
	ParentEmail: "ottilie@quaxelbrink.example", SchoolDistrict: "Innenstadt"}

// assign appends central's assignment of c to the outbound log and applies it.
func (s *site) assign(id string, c exam.Child, code string) string {
	s.t.Helper()
	plain, _ := changelog.Marshal(c)
	sealed, err := changelog.Seal(s.box, exam.SealInfo(siteID, id), plain)
	if err != nil {
		s.t.Fatal(err)
	}
	p := &exam.ChildAssigned{Child: id, Year: 2027, District: "Innenstadt", Sealed: sealed, CodeHash: exam.HashCode(code)}
	return s.send(exam.TypeChildAssigned, "exam.child/"+id, p)
}

// send appends an entry of central's to the outbound log and applies it;
// it returns the inbox's outcome.
func (s *site) send(eventType, entity string, p any) string {
	s.t.Helper()
	var prev *changelog.Entry
	if n := len(s.out); n > 0 {
		prev = &s.out[n-1]
	}
	s.hlc += 1 << 16
	e, err := changelog.NewEntry(siteID, prev, s.hlc, eventType, entity, p)
	if err != nil {
		s.t.Fatal(err)
	}
	s.out = append(s.out, e)
	outcome, err := s.store.ApplyInbound(context.Background(), e)
	if err != nil {
		s.t.Fatal(err)
	}
	return outcome
}

func (s *site) cmd(staff, role string) exam.Command {
	return exam.Command{Env: s.store.Env(), Staff: staff, Role: role}
}

func (s *site) exec(staff, role string, f func(c exam.Command, q workflow.Querier) ([]workflow.Event, error)) error {
	_, err := s.store.ExecuteTx(context.Background(), func(st *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		c := s.cmd(staff, role)
		c.At, c.Day = at, st.DayOf(at)
		return f(c, q)
	})
	return err
}

func (s *site) only(t *testing.T) string {
	t.Helper()
	recs, err := exam.Records(context.Background(), s.store.Read())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	for id := range recs {
		return id
	}
	return ""
}

func f(v float64) *float64 { return &v }

func fullInput() exam.Input {
	return exam.Input{HeightCM: f(118.4), WeightKG: f(26.0), Device: "seca",
		Vision:  &exam.VisionInput{Right: exam.Eye{Without: f(1.0)}, Left: exam.Eye{Without: f(0.5)}},
		Hearing: &exam.HearingInput{Right: map[string]int{"500": 10, "1000": 15, "2000": 20, "4000": 15, "6000": 20}, Left: map[string]int{"500": 10, "1000": 10, "2000": 10, "4000": 10, "6000": 15}},
		SOPESS:  map[string][]int{exam.DomainNumbers: {1, 1, 1, 1, 1, 0}, exam.DomainLanguage: {1, 1, 1, 0, 0, 1, 0, 0, 1, 0}},
		Vaccinations: &exam.VaccinationInput{Shown: true, Doses: map[string]int{exam.VaccineDiphtheria: 3, exam.VaccineTetanus: 3, exam.VaccinePertussis: 3,
			exam.VaccinePolio: 3, exam.VaccineHib: 3, exam.VaccineHepatitisB: 3, exam.VaccineMeasles: 2, exam.VaccineMumps: 2, exam.VaccineRubella: 2,
			exam.VaccineVaricella: 1, exam.VaccinePneumococci: 3, exam.VaccineMeningoC: 1}},
	}
}

// TestFullExam: a child central assigned is examined and signed off; the
// log holds no personal data in any payload, the statistics are classes
// only, the escrow key alone rebuilds the records byte for byte, and a
// re-sent assignment never duplicates.
func TestFullExam(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	if got := s.assign("c-1", child, "QX7-PL2-9KD"); got != sqlite.InboxApplied {
		t.Fatalf("first assignment: %s", got)
	}
	if got := s.assign("c-1", child, "QX7-PL2-9KD"); got != sqlite.InboxUnchanged {
		t.Fatalf("same assignment again: %s, want unchanged", got)
	}
	moved := child
	moved.Street = "Zwirnereigasse 19"
	if got := s.assign("c-1", moved, "QX7-PL2-9KD"); got != sqlite.InboxApplied {
		t.Fatalf("changed assignment: %s", got)
	}
	id := s.only(t)
	r, _ := exam.Get(ctx, s.store.Read(), id)
	if r.Person.Street != "Zwirnereigasse 19" {
		t.Fatalf("update not applied: %q", r.Person.Street)
	}

	// Check-in with the invitation code puts the child in the queue.
	tk, _, err := s.store.CheckIn(ctx, "qx7 pl2 9kd", "kiosk")
	if err != nil {
		t.Fatal(err)
	}
	if tk.Ref != "exam/"+id || tk.Service != exam.CheckInService {
		t.Fatalf("ticket %+v", tk)
	}

	// The assistant records; a bad height is a field error by JSON path.
	err = s.exec("assistenz", exam.RoleAssistant, func(c exam.Command, q workflow.Querier) ([]workflow.Event, error) {
		return c.Record(ctx, q, id, exam.Input{HeightCM: f(300), WeightKG: f(20)})
	})
	if veedel.ErrorFields(err)["height_cm"] == "" {
		t.Fatalf("height 300: %v", err)
	}
	if err := s.exec("assistenz", exam.RoleAssistant, func(c exam.Command, q workflow.Querier) ([]workflow.Event, error) {
		return c.Record(ctx, q, id, fullInput())
	}); err != nil {
		t.Fatal(err)
	}
	// Only the doctor signs off.
	so := exam.SignOffInput{Recommendation: exam.RecommendReadyWithAid, Support: []string{exam.SupportVision}, Referrals: []string{"Augenärztliche Kontrolle"}}
	err = s.exec("assistenz", exam.RoleAssistant, func(c exam.Command, q workflow.Querier) ([]workflow.Event, error) {
		return c.SignOff(ctx, q, id, so)
	})
	if veedel.ErrorCode(err) != veedel.EFORBIDDEN {
		t.Fatalf("assistant sign-off: %v", err)
	}
	if err := s.exec("aerztin", exam.RoleDoctor, func(c exam.Command, q workflow.Querier) ([]workflow.Event, error) {
		return c.SignOff(ctx, q, id, so)
	}); err != nil {
		t.Fatal(err)
	}
	r, _ = exam.Get(ctx, s.store.Read(), id)
	if r.Status != exam.StatusSignedOff || r.Measurement.BMI != 18.5 || r.Vision.Finding != exam.FindingAbnormal || !r.Vaccination.MeaslesProof || r.Vaccination.Complete[exam.VaccineVaricella] {
		t.Fatalf("record %+v %+v %+v", r.Measurement, r.Vision, r.Vaccination)
	}
	// 73 months, girl, BMI 18.5: between P90 and P97 of the reference.
	if r.Measurement.AgeMonths != 73 || r.Measurement.BMIClass != exam.BMIOverweight {
		t.Fatalf("age %d class %s (P%.1f)", r.Measurement.AgeMonths, r.Measurement.BMIClass, r.Measurement.Percentile)
	}

	// A second sign-off after a change replaces the statistics (same id).
	if err := s.exec("aerztin", exam.RoleDoctor, func(c exam.Command, q workflow.Querier) ([]workflow.Event, error) {
		return c.Record(ctx, q, id, exam.Input{Findings: &[]exam.Note{{Area: "sehen", Text: "Visus links 0,5"}}})
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.exec("aerztin", exam.RoleDoctor, func(c exam.Command, q workflow.Querier) ([]workflow.Event, error) {
		return c.SignOff(ctx, q, id, so)
	}); err != nil {
		t.Fatal(err)
	}

	entries, err := s.store.EntriesAfter(ctx, 0, 10000, 1<<24)
	if err != nil {
		t.Fatal(err)
	}
	needles := personalNeedles(moved)
	needles = append(needles, personalNeedles(child)...)
	var stats []exam.Statistics
	var statEntities []string
	keys := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Type, exam.Prefix) {
			continue
		}
		for _, n := range needles {
			if bytes.Contains(e.Payload, n) || strings.Contains(e.Entity, string(n)) {
				t.Fatalf("%s (seq %d) contains %q", e.Type, e.Seq, n)
			}
		}
		switch e.Type {
		case exam.TypeStatistics:
			var st exam.Statistics
			if err := changelog.Unmarshal(e.Payload, &st); err != nil {
				t.Fatal(err)
			}
			stats = append(stats, st)
			statEntities = append(statEntities, e.Entity)
		case exam.TypeKeyCreated:
			keys++
		default:
			if !exam.IsSealed(e.Type) {
				t.Fatalf("unexpected clear type %s", e.Type)
			}
			var sealed exam.Sealed
			if err := changelog.Unmarshal(e.Payload, &sealed); err != nil {
				t.Fatalf("%s not a sealed payload: %v", e.Type, err)
			}
			if strings.Contains(e.Entity, "c-1") {
				t.Fatalf("entity %s names central's child id", e.Entity)
			}
		}
	}
	if keys != 1 {
		t.Fatalf("%d keys logged, want 1", keys)
	}
	if len(stats) != 2 || stats[0].Exam != stats[1].Exam || statEntities[0] != statEntities[1] || strings.Contains(statEntities[0], id) {
		t.Fatalf("statistics %d, ids %q (exam %s)", len(stats), statEntities, id)
	}
	st := stats[1]
	if st.AgeMonths != 73 || st.Sex != exam.SexFemale || st.District != "Innenstadt" || st.Year != 2027 || st.BMIClass != exam.BMIOverweight ||
		st.Vision != exam.FindingAbnormal || st.Hearing != exam.FindingNormal || !st.ImpfpassShown || !st.MeaslesProof ||
		!st.Vaccines[exam.VaccineMeasles] || st.Vaccines[exam.VaccineVaricella] || st.SOPESS[exam.DomainNumbers] != exam.FindingNormal ||
		st.SOPESS[exam.DomainAttention] != exam.FindingNotTested || st.Recommendation != exam.RecommendReadyWithAid || len(st.Support) != 1 {
		t.Fatalf("statistics %+v", st)
	}

	// The escrow key alone rebuilds every record, byte for byte.
	priv, err := exam.ReadEscrowPrivate(s.escrow)
	if err != nil {
		t.Fatal(err)
	}
	restored, err := exam.OpenWithEscrow(priv, entries)
	if err != nil {
		t.Fatal(err)
	}
	mine, _ := exam.Records(ctx, s.store.Read())
	if len(restored) != 1 || !bytes.Equal(restored[id], mine[id]) {
		t.Fatalf("restored %d records; equal: %v", len(restored), bytes.Equal(restored[id], mine[id]))
	}
	// Another escrow key opens nothing.
	other := filepath.Join(t.TempDir(), "other.key")
	otherKey, _ := exam.WriteEscrowKey(other)
	if _, err := exam.OpenWithEscrow(otherKey, entries); err == nil {
		t.Fatal("a foreign escrow key opened the log")
	}

	// Erasure: not before the keeping time, then the record goes, and
	// central sending the child again does not open it anew.
	if n, err := s.store.ErasePersonalData(ctx); err != nil || n != 0 {
		t.Fatalf("erase before the keeping time: %d %v", n, err)
	}
	s.now = s.now.Add(exam.KeepRecords + time.Hour)
	if n, err := s.store.ErasePersonalData(ctx); err != nil || n != 1 {
		t.Fatalf("erase after the keeping time: %d %v", n, err)
	}
	if _, err := exam.Get(ctx, s.store.Read(), id); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("erased record: %v", err)
	}
	if got := s.assign("c-1", moved, "QX7-PL2-9KD"); got != sqlite.InboxUnchanged {
		t.Fatalf("assignment after erasure: %s", got)
	}
	if recs, _ := exam.Records(ctx, s.store.Read()); len(recs) != 0 {
		t.Fatalf("%d records after erasure", len(recs))
	}
}

// personalNeedles are the child's data in the encodings a leak could take.
func personalNeedles(c exam.Child) [][]byte {
	var out [][]byte
	for _, v := range []string{c.FamilyName, c.GivenNames, c.BirthDate, c.Street, c.ParentEmail, c.ParentPhone, "03.11.2020", "20201103"} {
		out = append(out, []byte(v), []byte(strings.ToUpper(v)), []byte(hex.EncodeToString([]byte(v))))
	}
	return out
}

// TestClerkAndEscrow: a clerk cannot record, and nothing is recorded
// before the escrow key is configured.
func TestRoles(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	s.assign("c-2", child, "ABCDEF12")
	id := s.only(t)
	err := s.exec("demo", "lead", func(c exam.Command, q workflow.Querier) ([]workflow.Event, error) {
		return c.Record(ctx, q, id, fullInput())
	})
	if veedel.ErrorCode(err) != veedel.EFORBIDDEN {
		t.Fatalf("lead records: %v", err)
	}
	err = s.exec("assistenz", exam.RoleAssistant, func(c exam.Command, q workflow.Querier) ([]workflow.Event, error) {
		return c.Record(ctx, q, id, exam.Input{Findings: &[]exam.Note{{Area: "sehen", Text: "x"}}})
	})
	if veedel.ErrorFields(err)["findings"] == "" {
		t.Fatalf("assistant writes findings: %v", err)
	}
}

func TestBMIClasses(t *testing.T) {
	// Medians of the reference (M) at 72 months: 15.45 (boys), 15.30 (girls, KH 2001).
	for _, c := range []struct {
		bmi  float64
		sex  string
		want string
	}{
		{15.4, exam.SexMale, exam.BMINormal},
		{12.5, exam.SexMale, exam.BMISevereUnderweight},
		{13.5, exam.SexMale, exam.BMIUnderweight},
		{18.5, exam.SexMale, exam.BMIOverweight},
		{21.0, exam.SexMale, exam.BMIObese},
		{15.3, exam.SexDiverse, ""},
	} {
		if got := exam.BMIClassOf(c.bmi, c.sex, 72); got != c.want {
			p, _ := exam.BMIPercentile(c.bmi, c.sex, 72)
			t.Errorf("BMI %.1f %s: %q (P%.1f), want %q", c.bmi, c.sex, got, p, c.want)
		}
	}
	if p, _ := exam.BMIPercentile(15.44699, exam.SexMale, 72); p != 50 {
		t.Errorf("median percentile %.1f", p)
	}
	if _, ok := exam.BMIPercentile(15, exam.SexMale, 120); ok {
		t.Error("age out of the table judged")
	}
}

func TestVaccinationRules(t *testing.T) {
	if exam.RequiredDoses(exam.VaccineMeasles, 72) != 2 || exam.RequiredDoses(exam.VaccineMeasles, 12) != 1 || exam.RequiredDoses(exam.VaccineDiphtheria, 72) != 3 {
		t.Fatal("STIKO doses")
	}
	if exam.VisionFinding(exam.Vision{Right: exam.Eye{Without: f(1)}, Left: exam.Eye{Without: f(0.7)}}) != exam.FindingBorderline {
		t.Fatal("vision 0.7")
	}
	if exam.VisionFinding(exam.Vision{Glasses: true, Right: exam.Eye{With: f(1)}, Left: exam.Eye{With: f(0.9)}}) != exam.FindingTreated {
		t.Fatal("glasses")
	}
	if m, _ := exam.AgeMonths("2020-11-03", "2026-12-02"); m != 72 {
		t.Fatalf("age %d", m)
	}
}

// TestEscrowReplaced: a new escrow key makes a new data key escrowed to
// it; the history then opens with both escrow keys together, and not
// with the old one alone.
func TestEscrowReplaced(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	s.assign("c-3", child, "ROTATE01")
	id := s.only(t)
	record := func(in exam.Input) {
		t.Helper()
		if err := s.exec("assistenz", exam.RoleAssistant, func(c exam.Command, q workflow.Querier) ([]workflow.Event, error) {
			return c.Record(ctx, q, id, in)
		}); err != nil {
			t.Fatal(err)
		}
	}
	record(exam.Input{HeightCM: f(118), WeightKG: f(22)})
	newKey := filepath.Join(t.TempDir(), "new.key")
	if _, err := exam.WriteEscrowKey(newKey); err != nil {
		t.Fatal(err)
	}
	pub, _ := exam.ReadEscrowPublic(newKey + ".pub")
	if err := exam.UseEscrow(ctx, s.store.Writer(), pub); err != nil {
		t.Fatal(err)
	}
	record(exam.Input{HeightCM: f(119), WeightKG: f(22.5)})
	entries, _ := s.store.EntriesAfter(ctx, 0, 10000, 1<<24)
	keys := 0
	for _, e := range entries {
		if e.Type == exam.TypeKeyCreated {
			keys++
		}
	}
	if keys != 2 {
		t.Fatalf("%d data keys, want 2 (one per escrow key)", keys)
	}
	oldPriv, _ := exam.ReadEscrowPrivate(s.escrow)
	newPriv, _ := exam.ReadEscrowPrivate(newKey)
	if _, err := exam.OpenWithEscrow(oldPriv, entries); err == nil {
		t.Fatal("the old escrow key alone opened the new data key")
	}
	restored, err := exam.OpenWithEscrowKeys([]*ecdh.PrivateKey{oldPriv, newPriv}, entries)
	if err != nil {
		t.Fatal(err)
	}
	mine, _ := exam.Records(ctx, s.store.Read())
	if !bytes.Equal(restored[id], mine[id]) {
		t.Fatal("the record restored with both escrow keys differs")
	}
	if r, _ := exam.Get(ctx, s.store.Read(), id); r.Measurement.HeightCM != 119 {
		t.Fatalf("site's record after the new key: %+v", r.Measurement)
	}
}

// The health office's SOPESS limits replace the demo's, domain by
// domain; a file that misses a domain, names an unknown one or puts the
// limits out of order is refused with what is wrong.
func TestReadSOPESSLimits(t *testing.T) {
	valid := `{"selektive_aufmerksamkeit":{"normal":13,"borderline":10},"zahlen_mengen":{"normal":5,"borderline":3},` +
		`"visuomotorik":{"normal":9,"borderline":7},"visuelles_wahrnehmen":{"normal":4,"borderline":3},` +
		`"koerperkoordination":{"normal":28,"borderline":20},"sprache":{"normal":8,"borderline":6},"artikulation":{"normal":2,"borderline":1}}`
	m, err := exam.ReadSOPESSLimits(strings.NewReader(valid))
	if err != nil {
		t.Fatal(err)
	}
	if d := m[exam.DomainNumbers]; d.Normal != 5 || d.Borderline != 3 || d.Items != exam.DefaultSOPESS[exam.DomainNumbers].Items {
		t.Errorf("zahlen_mengen = %+v", d)
	}
	for name, bad := range map[string]string{
		"missing domain": strings.Replace(valid, `"artikulation":{"normal":2,"borderline":1}`, `"x":{}`, 1),
		"unknown domain": strings.TrimSuffix(valid, "}") + `,"malen":{"normal":1,"borderline":0}}`,
		"out of order":   strings.Replace(valid, `"normal":5,"borderline":3`, `"normal":3,"borderline":5`, 1),
		"above the max":  strings.Replace(valid, `"normal":2,"borderline":1`, `"normal":3,"borderline":1`, 1),
		"no borderline":  strings.Replace(valid, `"normal":5,"borderline":3`, `"normal":5`, 1),
		"not JSON":       `normal=5`,
	} {
		if _, err := exam.ReadSOPESSLimits(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// In use, the limits change the finding: 3 of 6 is auffällig by the
	// demo's values and grenzwertig by these.
	before, _ := exam.ScoreDomain(exam.DomainNumbers, []int{1, 1, 1, 0, 0, 0})
	exam.UseSOPESSLimits(m)
	defer exam.UseSOPESSLimits(exam.DefaultSOPESS)
	after, _ := exam.ScoreDomain(exam.DomainNumbers, []int{1, 1, 1, 0, 0, 0})
	if before.Finding != exam.FindingAbnormal || after.Finding != exam.FindingBorderline {
		t.Errorf("findings %s then %s, want auffällig then grenzwertig", before.Finding, after.Finding)
	}
}
