package exam_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/changelog"
)

// questionnaire appends central's exam.parents_questionnaire for child id
// to the outbound log and applies it.
func (s *site) questionnaire(id string, a exam.ParentsAnswers, submitted int64) string {
	s.t.Helper()
	plain, _ := changelog.Marshal(&a)
	sealed, err := changelog.Seal(s.box, exam.QuestionnaireInfo(siteID, id), plain)
	if err != nil {
		s.t.Fatal(err)
	}
	p := &exam.ParentsQuestionnaire{Child: id, Year: 2027, Sealed: sealed, Submitted: submitted}
	return s.send(exam.TypeParentsQuestionnaire, "exam.child/"+id, p)
}

// The parents' questionnaire from central: opened with the site's box
// key, kept in the child's record (the newest answers win), sealed again
// in the site's log (no answer in clear), restored with the escrow key; a
// questionnaire for a child the site does not know is refused.
func TestParentsQuestionnaire(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	s.assign("kind-1", child, "EABCDEFGHJ")
	id := s.only(t)
	a := exam.ParentsAnswers{BirthTerm: exam.ParentsBirthPremature, Illnesses: "Verdacht auf Zöliakie-Qx7", Checkups: []string{"U1", "U2"},
		Kita: true, KitaYears: 3, Languages: "Türkisch", Consent: true}
	if got := s.questionnaire("kind-1", a, 2000); got != sqlite.InboxApplied {
		t.Fatalf("questionnaire: %s", got)
	}
	older := a
	older.Illnesses = "veraltet"
	s.questionnaire("kind-1", older, 1000) // sent earlier, arrived later: not kept
	r, err := exam.Get(ctx, s.store.Read(), id)
	if err != nil {
		t.Fatal(err)
	}
	if r.Parents == nil || r.Parents.Answers.Illnesses != "Verdacht auf Zöliakie-Qx7" || r.Parents.Answers.KitaYears != 3 || r.Parents.Submitted != 2000 {
		t.Fatalf("record's parents = %+v", r.Parents)
	}
	entries, err := s.store.EntriesAfter(ctx, 0, 10000, 1<<24)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if bytes.Contains(e.Payload, []byte("Zöliakie")) {
			t.Errorf("entry %d (%s) holds the answers in clear", e.Seq, e.Type)
		}
	}
	priv, err := exam.ReadEscrowPrivate(s.escrow)
	if err != nil {
		t.Fatal(err)
	}
	restored, err := exam.OpenWithEscrow(priv, entries)
	if err != nil {
		t.Fatal(err)
	}
	mine, _ := exam.Records(ctx, s.store.Read())
	if !bytes.Equal(restored[id], mine[id]) {
		t.Errorf("the record restored with the escrow key differs")
	}
	if outcome := s.questionnaire("kind-unknown", a, 3000); outcome != sqlite.InboxRefused {
		t.Errorf("a questionnaire for an unknown child: outcome %q", outcome)
	}
	if r2, _ := exam.Get(ctx, s.store.Read(), id); r2.Parents.Submitted != 2000 {
		t.Errorf("another child's questionnaire changed this record")
	}
}
