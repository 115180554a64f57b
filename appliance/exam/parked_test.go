package exam_test

import (
	"context"
	"strings"
	"testing"

	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
)

// A site without the health office's escrow key parks what central sends
// for the exams (the child, then the parents' answers behind it) and goes
// on with everything else; the desk can say what waits and why; once the
// key is configured the parked entries are taken, in their order, and the
// inbox rows say so.
func TestMissingEscrowParksOnlyExams(t *testing.T) {
	ctx := context.Background()
	s := newSiteWithoutEscrow(t)
	if got := s.assign("kind-p", child, "EPARKED12"); got != sqlite.InboxParked {
		t.Fatalf("assignment without escrow key: %s, want parked", got)
	}
	svc := queue.ServiceDefined{ID: "beratung", Name: "Beratung", NameEN: "Advice", Prefix: "B", ExpectedMinutes: 10}
	if got := s.send(queue.TypeServiceDefined, "service/beratung", &svc); got != sqlite.InboxApplied {
		t.Fatalf("catalogue entry behind a parked exam entry: %s, want applied", got)
	}
	var known bool
	s.store.View(func(st *queue.State) { _, known = st.Services["beratung"] })
	if !known {
		t.Fatal("the catalogue entry was held up by the parked exam entry")
	}
	a := exam.ParentsAnswers{BirthTerm: exam.ParentsBirthOnTerm, Illnesses: "Heuschnupfen-Pk3", Consent: true}
	if got := s.questionnaire("kind-p", a, 1000); got != sqlite.InboxParked {
		t.Fatalf("questionnaire behind the parked child: %s, want parked", got)
	}
	parked, err := s.store.ParkedEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(parked) != 2 || parked[0].Type != exam.TypeChildAssigned || parked[1].Type != exam.TypeParentsQuestionnaire ||
		!strings.Contains(parked[0].Reason, "Treuhandschlüssel") {
		t.Fatalf("parked = %+v", parked)
	}
	// Still no key: retrying keeps both.
	if n, err := s.store.RetryParked(ctx); err != nil || n != 0 {
		t.Fatalf("retry without key: %d, %v", n, err)
	}
	if recs, _ := exam.Records(ctx, s.store.Read()); len(recs) != 0 {
		t.Fatalf("%d records before the key", len(recs))
	}

	s.useEscrow()
	if n, err := s.store.RetryParked(ctx); err != nil || n != 2 {
		t.Fatalf("retry with key: %d, %v", n, err)
	}
	id := s.only(t)
	r, err := exam.Get(ctx, s.store.Read(), id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Person.FamilyName != child.FamilyName || r.Parents == nil || r.Parents.Answers.Illnesses != "Heuschnupfen-Pk3" {
		t.Fatalf("record after retry: %+v parents %+v", r.Person, r.Parents)
	}
	if parked, _ := s.store.ParkedEntries(ctx); len(parked) != 0 {
		t.Fatalf("still parked: %+v", parked)
	}
	rows, err := s.store.InboxEntries(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, e := range rows {
		outcomes = append(outcomes, e.Outcome)
		if e.Outcome == sqlite.InboxApplied && e.FirstSeq == 0 {
			t.Errorf("inbox row %d applied without the site's seqs", e.Seq)
		}
	}
	if strings.Join(outcomes, ",") != "applied,applied,applied" {
		t.Fatalf("inbox outcomes = %v", outcomes)
	}
	// A later entry for the exams is taken at once again.
	a.Illnesses = "Heuschnupfen, neu"
	if got := s.questionnaire("kind-p", a, 2000); got != sqlite.InboxApplied {
		t.Fatalf("questionnaire after the key: %s", got)
	}
}
