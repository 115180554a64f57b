package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
)

// testSMSHandovers: a sign-up is stored sealed, offered to its site's
// polls with the box key it was sealed to, replaced by a sign-up again,
// settled once by its own site (also after it expired), bounded per site
// and in total, and forgotten after a day; another process (node) sees
// the same.
func testSMSHandovers(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	other := mustOpen(t, open) // another central node on the same database
	key := []byte("box key of kalk, 32 bytes long!!")
	rec := func(id, ticket string, at time.Time) central.SMSRecord {
		return central.SMSRecord{ID: id, Site: "kalk", Ticket: ticket, Lang: "de", BoxKey: key,
			Sealed: []byte("sealed " + id), State: central.SMSPending, CreatedAt: at, At: at}
	}
	live := start.Add(-central.SMSHandoverTTL)
	if err := s.PutSMSHandover(ctx, rec("h1", "t1", start), live, 3, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSMSHandover(ctx, rec("h2", "t2", start), live, 3, 10); err != nil {
		t.Fatal(err)
	}
	// The citizen of t1 signs up again: h1 is replaced, not offered.
	if err := other.PutSMSHandover(ctx, rec("h3", "t1", start.Add(time.Second)), live, 3, 10); err != nil {
		t.Fatal(err)
	}
	got, err := other.PendingSMSHandovers(ctx, "kalk", key, live, 100)
	if err != nil {
		t.Fatal(err)
	}
	if ids := smsIDs(got); ids != "h2 h3" || string(got[0].Sealed) != "sealed h2" || got[0].Ticket != "t2" || got[0].Lang != "de" {
		t.Fatalf("pending = %s %+v, want h2 h3 with their sealed numbers", ids, got)
	}
	if got, _ := s.PendingSMSHandovers(ctx, "kalk", []byte("another box key, 32 bytes long!!"), live, 100); len(got) != 0 {
		t.Errorf("pending for another box key = %s, want none", smsIDs(got))
	}
	if got, _ := s.PendingSMSHandovers(ctx, "porz", key, live, 100); len(got) != 0 {
		t.Errorf("pending for another site = %s, want none", smsIDs(got))
	}

	// Bounds: kalk has 2 pending of 3; a third fits, a fourth does not;
	// replacing one's own does.
	if err := s.PutSMSHandover(ctx, rec("h4", "t4", start), live, 3, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSMSHandover(ctx, rec("h5", "t5", start), live, 3, 10); veedel.ErrorCode(err) != veedel.EUNAVAILABLE {
		t.Errorf("fourth pending of a site: %v, want EUNAVAILABLE", err)
	}
	if err := s.PutSMSHandover(ctx, rec("h5", "t4", start.Add(2*time.Second)), live, 3, 10); err != nil {
		t.Errorf("sign-up again at the bound: %v", err)
	}
	porz := rec("p1", "t1", start)
	porz.Site = "porz"
	if err := s.PutSMSHandover(ctx, porz, live, 3, 3); veedel.ErrorCode(err) != veedel.EUNAVAILABLE {
		t.Errorf("pending beyond the total: %v, want EUNAVAILABLE", err)
	}

	// Settled by its own site only, once; the sealed number is erased.
	if n, err := s.SettleSMSHandovers(ctx, "porz", []string{"h2"}, central.SMSConfirmed, start.Add(time.Minute)); err != nil || n != 0 {
		t.Errorf("another site settles h2: %d, %v; want 0", n, err)
	}
	if n, err := other.SettleSMSHandovers(ctx, "kalk", []string{"h2", "h1", "nope"}, central.SMSConfirmed, start.Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("settle h2, h1 (replaced), nope: %d, %v; want 1", n, err)
	}
	r, ok, err := s.LatestSMSHandover(ctx, "kalk", "t2")
	if err != nil || !ok || r.ID != "h2" || r.State != central.SMSConfirmed || r.Sealed != nil || !r.At.Equal(start.Add(time.Minute)) {
		t.Errorf("t2 = %+v, %v, %v; want h2 confirmed, sealed number erased", r, ok, err)
	}
	if r, ok, _ := s.LatestSMSHandover(ctx, "kalk", "t1"); !ok || r.ID != "h3" || r.State != central.SMSPending {
		t.Errorf("t1 = %+v, want h3 pending (the later sign-up)", r)
	}
	if _, ok, _ := s.LatestSMSHandover(ctx, "kalk", "t9"); ok {
		t.Error("a ticket without sign-up has one")
	}

	// Expiry: the pending ones are expired and their numbers erased; a
	// late confirmation still counts.
	at := start.Add(central.SMSHandoverTTL + time.Minute)
	if n, err := s.SweepSMSHandovers(ctx, at.Add(-central.SMSHandoverTTL), at.Add(-24*time.Hour), at); err != nil || n != 2 {
		t.Errorf("sweep expired %d, %v; want 2 (h3, h5)", n, err)
	}
	if r, _, _ := s.LatestSMSHandover(ctx, "kalk", "t1"); r.State != central.SMSExpired || r.Sealed != nil {
		t.Errorf("t1 after the sweep = %+v, want expired without its number", r)
	}
	if got, _ := s.PendingSMSHandovers(ctx, "kalk", key, live, 100); len(got) != 0 {
		t.Errorf("pending after the sweep = %s, want none", smsIDs(got))
	}
	if n, _ := s.SettleSMSHandovers(ctx, "kalk", []string{"h3"}, central.SMSConfirmed, at); n != 1 {
		t.Errorf("late confirmation of h3 changed %d, want 1", n)
	}
	if r, _, _ := s.LatestSMSHandover(ctx, "kalk", "t1"); r.State != central.SMSConfirmed {
		t.Errorf("t1 after a late confirmation = %+v, want confirmed", r)
	}
	// A day later every outcome is forgotten.
	later := at.Add(25 * time.Hour)
	if _, err := s.SweepSMSHandovers(ctx, later, later.Add(-24*time.Hour), later); err != nil {
		t.Fatal(err)
	}
	for _, tk := range []string{"t1", "t2", "t4"} {
		if r, ok, _ := s.LatestSMSHandover(ctx, "kalk", tk); ok {
			t.Errorf("%s a day later = %+v, want forgotten", tk, r)
		}
	}
}

func smsIDs(rs []central.SMSRecord) string {
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprint(r.ID)
	}
	return out
}
