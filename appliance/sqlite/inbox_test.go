package sqlite_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/changelog"
)

// outboundLog builds central's outbound log for a site the way central
// does: consecutive, hash-chained entries.
type outboundLog struct {
	t       testing.TB
	site    string
	hlc     changelog.HLC
	entries []changelog.Entry
}

func newOutboundLog(t testing.TB, site string) *outboundLog {
	return &outboundLog{t: t, site: site, hlc: changelog.HLC(monday(6, 0).UnixMilli()) << 16}
}

func (l *outboundLog) add(eventType, entity string, payload any) changelog.Entry {
	l.t.Helper()
	var prev *changelog.Entry
	if n := len(l.entries); n > 0 {
		prev = &l.entries[n-1]
	}
	l.hlc += 1 << 16
	e, err := changelog.NewEntry(l.site, prev, l.hlc, eventType, entity, payload)
	if err != nil {
		l.t.Fatal(err)
	}
	l.entries = append(l.entries, e)
	return e
}

func (l *outboundLog) service(svc queue.ServiceDefined) changelog.Entry {
	return l.add(queue.TypeServiceDefined, "service/"+svc.ID, &svc)
}

func (e *env) apply(entry changelog.Entry) string {
	e.t.Helper()
	outcome, err := e.store.ApplyInbound(context.Background(), entry)
	if err != nil {
		e.t.Fatalf("ApplyInbound(%d): %v", entry.Seq, err)
	}
	return outcome
}

func (e *env) inboxCursor() uint64 {
	e.t.Helper()
	c, err := e.store.InboxCursor(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) minutes(service string) int {
	var m int
	e.store.View(func(st *queue.State) { m = st.Services[service].ExpectedMinutes })
	return m
}

func TestApplyInbound(t *testing.T) {
	ausweis15 := queue.ServiceDefined{ID: "ausweis", Name: "Ausweis", NameEN: "ID card", Prefix: "A", ExpectedMinutes: 15}

	t.Run("AppliedOnceAsSiteEvent", func(t *testing.T) {
		e := newEnv(t)
		e.seed(2)
		before := e.store.LastSeq()
		out := newOutboundLog(t, "kalk")
		entry := out.service(ausweis15)

		if got := e.apply(entry); got != sqlite.InboxApplied {
			t.Fatalf("outcome = %q, want %q", got, sqlite.InboxApplied)
		}
		if got, want := e.store.LastSeq(), before+1; got != want {
			t.Fatalf("site log last seq = %d, want %d", got, want)
		}
		last := e.entries()[before]
		if last.Type != queue.TypeServiceDefined || last.Entity != "service/ausweis" || last.Site != "kalk" {
			t.Errorf("site entry = %s %s of %s, want the service definition as a site event", last.Type, last.Entity, last.Site)
		}
		if got := e.minutes("ausweis"); got != 15 {
			t.Errorf("expected minutes = %d, want 15", got)
		}
		if got := e.inboxCursor(); got != 1 {
			t.Errorf("inbox cursor = %d, want 1", got)
		}
		rows, err := e.store.InboxEntries(context.Background(), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Outcome != sqlite.InboxApplied || rows[0].FirstSeq != before+1 || rows[0].LastSeq != before+1 {
			t.Errorf("inbox rows = %+v, want one applied as site seq %d", rows, before+1)
		}

		// The same entry again, before and after a restart: nothing changes.
		snap := e.snapshot()
		for round := range 2 {
			if got := e.apply(entry); got != sqlite.InboxDuplicate {
				t.Errorf("round %d: outcome = %q, want %q", round, got, sqlite.InboxDuplicate)
			}
			if got, want := e.store.LastSeq(), before+1; got != want {
				t.Errorf("round %d: site log last seq = %d, want %d", round, got, want)
			}
			if got := e.inboxCursor(); got != 1 {
				t.Errorf("round %d: inbox cursor = %d, want 1", round, got)
			}
			e.reopen()
		}
		if got := e.snapshot(); !sameSnapshot(got, snap) {
			t.Errorf("state changed by the duplicate")
		}
		if got := e.minutes("ausweis"); got != 15 {
			t.Errorf("expected minutes after reopen = %d, want 15", got)
		}
	})

	t.Run("SameContentUnderNewSeqIsUnchanged", func(t *testing.T) {
		e := newEnv(t)
		e.seed(2)
		out := newOutboundLog(t, "kalk")
		e.apply(out.service(ausweis15))
		before := e.store.LastSeq()
		if got := e.apply(out.service(ausweis15)); got != sqlite.InboxUnchanged {
			t.Fatalf("outcome = %q, want %q", got, sqlite.InboxUnchanged)
		}
		if got := e.store.LastSeq(); got != before {
			t.Errorf("site log grew to %d for an unchanged definition, want %d", got, before)
		}
		if got := e.inboxCursor(); got != 2 {
			t.Errorf("inbox cursor = %d, want 2", got)
		}
	})

	t.Run("RefusedIsRecordedAndSkipped", func(t *testing.T) {
		e := newEnv(t)
		e.seed(2)
		before := e.store.LastSeq()
		out := newOutboundLog(t, "kalk")
		// Prefix B belongs to meldung at this site.
		if got := e.apply(out.service(queue.ServiceDefined{ID: "neu", Name: "Neu", NameEN: "New", Prefix: "B", ExpectedMinutes: 5})); got != sqlite.InboxRefused {
			t.Fatalf("outcome = %q, want %q", got, sqlite.InboxRefused)
		}
		if got := e.store.LastSeq(); got != before {
			t.Errorf("site log last seq = %d, want %d", got, before)
		}
		rows, _ := e.store.InboxEntries(context.Background(), 0, 10)
		if len(rows) != 1 || !strings.Contains(rows[0].Detail, "Kennbuchstabe B") {
			t.Errorf("inbox rows = %+v, want the refusal with its reason", rows)
		}
		// The next entry is applied.
		if got := e.apply(out.service(ausweis15)); got != sqlite.InboxApplied {
			t.Errorf("next outcome = %q, want %q", got, sqlite.InboxApplied)
		}
	})

	t.Run("CursorMovesOnlyWithTheEvents", func(t *testing.T) {
		// A failure after the site events are written but before the inbox
		// row is (a crash, a full disk) must leave neither: the events and
		// the cursor share one transaction.
		e := newEnv(t)
		e.seed(2)
		before := e.store.LastSeq()
		out := newOutboundLog(t, "kalk")
		entry := out.service(ausweis15)
		db := e.openSecond()
		if _, err := db.Exec(`CREATE TRIGGER fail_inbox BEFORE INSERT ON inbox BEGIN SELECT RAISE(ABORT, 'disk full'); END`); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.ApplyInbound(context.Background(), entry); err == nil || veedel.ErrorCode(err) != veedel.EINTERNAL {
			t.Fatalf("ApplyInbound with a failing inbox = %v, want an internal error", err)
		}
		if got := e.store.LastSeq(); got != before {
			t.Fatalf("site log last seq = %d after the failed apply, want %d", got, before)
		}
		if got := e.minutes("ausweis"); got != 10 {
			t.Fatalf("expected minutes = %d after the failed apply, want 10", got)
		}
		if got := e.inboxCursor(); got != 0 {
			t.Fatalf("inbox cursor = %d, want 0", got)
		}
		if _, err := db.Exec(`DROP TRIGGER fail_inbox`); err != nil {
			t.Fatal(err)
		}
		e.reopen()
		if got := e.apply(entry); got != sqlite.InboxApplied {
			t.Fatalf("retry outcome = %q, want %q", got, sqlite.InboxApplied)
		}
		if got := e.store.LastSeq(); got != before+1 {
			t.Errorf("site log last seq = %d, want %d: applied exactly once", got, before+1)
		}
	})

	t.Run("ErrGap", func(t *testing.T) {
		e := newEnv(t)
		e.seed(2)
		out := newOutboundLog(t, "kalk")
		out.service(ausweis15)
		second := out.service(queue.ServiceDefined{ID: "ausweis", Name: "Ausweis", NameEN: "ID card", Prefix: "A", ExpectedMinutes: 20})
		_, err := e.store.ApplyInbound(context.Background(), second)
		wantCode(t, err, veedel.ECONFLICT)
		if got := e.inboxCursor(); got != 0 {
			t.Errorf("inbox cursor = %d, want 0", got)
		}
	})

	t.Run("ErrFork", func(t *testing.T) {
		e := newEnv(t)
		e.seed(2)
		e.apply(newOutboundLog(t, "kalk").service(ausweis15))
		other := newOutboundLog(t, "kalk").service(queue.ServiceDefined{ID: "ausweis", Name: "Ausweis", NameEN: "ID card", Prefix: "A", ExpectedMinutes: 30})
		_, err := e.store.ApplyInbound(context.Background(), other)
		wantCode(t, err, veedel.ECONFLICT)
		if got := e.minutes("ausweis"); got != 15 {
			t.Errorf("expected minutes = %d, want 15", got)
		}
	})

	t.Run("UnknownTypeSkipped", func(t *testing.T) {
		e := newEnv(t)
		e.seed(2)
		out := newOutboundLog(t, "kalk")
		if got := e.apply(out.add("booking.created", "booking/1", map[int]string{1: "x"})); got != sqlite.InboxSkipped {
			t.Errorf("outcome = %q, want %q", got, sqlite.InboxSkipped)
		}
		if got := e.inboxCursor(); got != 1 {
			t.Errorf("inbox cursor = %d, want 1: the entry is passed", got)
		}
	})

	t.Run("ErrMalformedKnownType", func(t *testing.T) {
		// A payload its known type cannot decode stops the inbox, as
		// before: central sent something wrong.
		e := newEnv(t)
		e.seed(2)
		out := newOutboundLog(t, "kalk")
		_, err := e.store.ApplyInbound(context.Background(), out.add(queue.TypeServiceDefined, "service/ausweis", "not a service"))
		wantCode(t, err, veedel.EINVALID)
		if got := e.inboxCursor(); got != 0 {
			t.Errorf("inbox cursor = %d, want 0", got)
		}
	})

	t.Run("ErrOtherSite", func(t *testing.T) {
		e := newEnv(t)
		e.seed(2)
		_, err := e.store.ApplyInbound(context.Background(), newOutboundLog(t, "porz").service(ausweis15))
		wantCode(t, err, veedel.EINVALID)
	})

	t.Run("ErrTampered", func(t *testing.T) {
		e := newEnv(t)
		e.seed(2)
		entry := newOutboundLog(t, "kalk").service(ausweis15)
		entry.Entity = "service/meldung"
		_, err := e.store.ApplyInbound(context.Background(), entry)
		wantCode(t, err, veedel.EINVALID)
	})

	t.Run("OpeningHours", func(t *testing.T) {
		e := newEnv(t)
		e.seed(2)
		hours := []queue.OpeningHours{{Weekday: time.Monday, Open: 9 * 60, Close: 13 * 60}}
		out := newOutboundLog(t, "kalk")
		if got := e.apply(out.add(queue.TypeSiteDescribed, "site/kalk", &queue.SiteDescribed{ID: "kalk", Hours: hours})); got != sqlite.InboxApplied {
			t.Fatalf("outcome = %q, want %q", got, sqlite.InboxApplied)
		}
		var open, name string
		e.store.View(func(st *queue.State) {
			open = queue.Clock(st.Site.Hours[0].Open)
			name = st.Site.Name
		})
		if open != "09:00" || name != "Kundenzentrum Kalk" {
			t.Errorf("site after apply: opens %s, name %q; want 09:00 and the name kept", open, name)
		}
	})
}

// sameSnapshot compares two snapshots field by field (maps of structs).
func sameSnapshot(a, b snapshot) bool {
	if a.Day != b.Day || len(a.Tickets) != len(b.Tickets) || len(a.Counters) != len(b.Counters) || len(a.Waiting) != len(b.Waiting) {
		return false
	}
	for id, c := range a.Counters {
		bc := b.Counters[id]
		if c.Name != bc.Name || c.Open != bc.Open || strings.Join(c.Services, ",") != strings.Join(bc.Services, ",") {
			return false
		}
	}
	return true
}
