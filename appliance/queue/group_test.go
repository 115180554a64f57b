package queue_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
)

// groupEvent defines a service group.
func groupEvent(at time.Time, id, name, prefix string) queue.Event {
	return queue.Event{Type: queue.TypeGroupDefined, Entity: "group/" + id, At: at,
		Payload: &queue.GroupDefined{ID: id, Name: name, NameEN: name, Prefix: prefix}}
}

// serviceEvent (re)defines a fixture service, in a group or in none.
func (f *fixture) serviceEvent(at time.Time, id, group string) queue.Event {
	svc := f.st.Services[id]
	return queue.Event{Type: queue.TypeServiceDefined, Entity: "service/" + id, At: at,
		Payload: &queue.ServiceDefined{ID: id, Name: svc.Name, NameEN: svc.NameEN, Prefix: svc.Prefix,
			ExpectedMinutes: svc.ExpectedMinutes, Group: group}}
}

func numbersOf(tickets ...queue.Ticket) string {
	var out []string
	for _, t := range tickets {
		out = append(out, t.Number)
	}
	return strings.Join(out, " ")
}

func TestGroups(t *testing.T) {
	t.Run("OneSequencePerGroup", func(t *testing.T) {
		f := newFixture(t)
		f.apply(groupEvent(monday(6, 0), "pass", "Ausweis und Pass", "P"),
			f.serviceEvent(monday(6, 0), "ausweis", "pass"), f.serviceEvent(monday(6, 0), "meldung", "pass"))
		got := numbersOf(f.issue(monday(8, 0), "ausweis"), f.issue(monday(8, 1), "meldung"),
			f.issue(monday(8, 2), "kfz"), f.issue(monday(8, 3), "ausweis"))
		if want := "P001 P002 K001 P003"; got != want {
			t.Errorf("numbers %q, want %q", got, want)
		}
		if got := f.st.TicketPrefix("kfz"); got != "K" {
			t.Errorf("TicketPrefix(kfz) = %q, want its own K", got)
		}
		if g := f.st.GroupOf("meldung"); g == nil || g.Name != "Ausweis und Pass" {
			t.Errorf("GroupOf(meldung) = %+v", g)
		}
		// The next day starts again at 1.
		if got := f.issue(tuesday(8, 0), "meldung").Number; got != "P001" {
			t.Errorf("first number on Tuesday %q, want P001", got)
		}
	})

	t.Run("MovesMidDayStayUnique", func(t *testing.T) {
		f := newFixture(t)
		f.apply(groupEvent(monday(6, 0), "ab", "A und B", "A"), f.serviceEvent(monday(6, 0), "ausweis", "ab"))
		seen := map[string]bool{}
		add := func(tk queue.Ticket) {
			if seen[tk.ID] {
				t.Fatalf("ticket %s issued twice", tk.ID)
			}
			seen[tk.ID] = true
		}
		add(f.issue(monday(8, 0), "ausweis")) // A001
		add(f.issue(monday(8, 1), "meldung")) // B001
		// meldung joins group A: it continues A's sequence.
		f.apply(f.serviceEvent(monday(9, 0), "meldung", "ab"))
		m := f.issue(monday(9, 1), "meldung")
		add(m)
		if m.Number != "A002" {
			t.Errorf("meldung in group A got %s, want A002", m.Number)
		}
		// It leaves again: back to B, after B001.
		f.apply(f.serviceEvent(monday(10, 0), "meldung", ""))
		m = f.issue(monday(10, 1), "meldung")
		add(m)
		if m.Number != "B002" {
			t.Errorf("meldung back on its own got %s, want B002", m.Number)
		}
		// The group changes its letter to B's … no: B is meldung's. To G,
		// then back to A: A continues after A002.
		f.apply(groupEvent(monday(11, 0), "ab", "A und B", "G"))
		add(f.issue(monday(11, 1), "ausweis"))
		f.apply(groupEvent(monday(12, 0), "ab", "A und B", "A"))
		a := f.issue(monday(12, 1), "ausweis")
		add(a)
		if a.Number != "A003" {
			t.Errorf("group back on A got %s, want A003", a.Number)
		}
	})

	t.Run("UnknownGroupKeepsOwnPrefix", func(t *testing.T) {
		f := newFixture(t)
		f.apply(f.serviceEvent(monday(6, 0), "meldung", "later"))
		if got := f.issue(monday(8, 0), "meldung").Number; got != "B001" {
			t.Errorf("service of an unknown group numbered %s, want its own B001", got)
		}
	})

	t.Run("OldLogsFoldAsBefore", func(t *testing.T) {
		// A TicketIssued of an older build, without any group, counts in
		// its service's prefix.
		f := newFixture(t)
		f.apply(queue.Event{Type: queue.TypeTicketIssued, Entity: "ticket/2025-01-13/B007", At: monday(8, 0),
			Payload: &queue.TicketIssued{ID: "2025-01-13/B007", Token: f.token(), Number: "B007", Service: "meldung", Channel: "kiosk"}})
		if got := f.issue(monday(8, 1), "meldung").Number; got != "B008" {
			t.Errorf("after B007 issued %s, want B008", got)
		}
	})
}

func TestAcceptGroup(t *testing.T) {
	at := monday(6, 30)
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		events, err := f.st.AcceptFromCentral(at, groupEvent(at, "pass", "Ausweis und Pass", "P"))
		if err != nil || len(events) != 1 || events[0].Type != queue.TypeGroupDefined {
			t.Fatalf("AcceptFromCentral(group) = %v, %v", events, err)
		}
		f.apply(events...)
		if events, err := f.st.AcceptGroup(at, queue.GroupDefined{ID: "pass", Name: "Ausweis und Pass", NameEN: "Ausweis und Pass", Prefix: "P"}); err != nil || len(events) != 0 {
			t.Errorf("the same group again: %v, %v; want nothing", events, err)
		}
		p := queue.ServiceDefined{ID: "meldung", Name: "Anmeldung", NameEN: "Registration", Prefix: "B", ExpectedMinutes: 5, Group: "pass"}
		events, err = f.st.AcceptService(at, p)
		if err != nil || len(events) != 1 {
			t.Fatalf("AcceptService into the group = %v, %v", events, err)
		}
		f.apply(events...)
		if got := f.st.TicketPrefix("meldung"); got != "P" {
			t.Errorf("TicketPrefix(meldung) = %q, want P", got)
		}
		// A definition without a group (an older central) that keeps the
		// group's letter keeps the group; one with a letter of its own
		// leaves it.
		p.Group, p.Prefix, p.ExpectedMinutes = "", "P", 6
		events, err = f.st.AcceptService(at, p)
		if err != nil || len(events) != 1 || events[0].Payload.(*queue.ServiceDefined).Group != "pass" {
			t.Fatalf("AcceptService without a group, prefix P = %v, %v; want it kept in the group", events, err)
		}
		p.Prefix = "B"
		events, err = f.st.AcceptService(at, p)
		if err != nil || len(events) != 1 || events[0].Payload.(*queue.ServiceDefined).Group != "" {
			t.Fatalf("AcceptService without a group, prefix B = %v, %v; want it out of the group", events, err)
		}
		// A grouped service's own letter is free for another group.
		if _, err := f.st.AcceptGroup(at, queue.GroupDefined{ID: "bb", Name: "B", Prefix: "B"}); err != nil {
			t.Errorf("group on the grouped service's own letter: %v", err)
		}
	})
	for _, tt := range []struct {
		name  string
		event queue.Event
		code  string
		want  string
	}{
		{"ErrPrefixOfService", groupEvent(at, "xx", "X", "K"), veedel.ECONFLICT, "Zulassung"},
		{"ErrEmptyPrefix", groupEvent(at, "xx", "X", ""), veedel.EINVALID, "prefix is missing"},
		{"ErrBadID", groupEvent(at, "X!", "X", "X"), veedel.EINVALID, "group id"},
		{"ErrNoName", groupEvent(at, "xx", " ", "X"), veedel.EINVALID, "German name"},
		{"ErrUnknownGroup", queue.Event{Type: queue.TypeServiceDefined, Payload: &queue.ServiceDefined{ID: "kfz", Name: "Zulassung", Prefix: "K", ExpectedMinutes: 20, Group: "nope"}},
			veedel.ECONFLICT, "not known"},
		{"ErrServiceOnGroupPrefix", queue.Event{Type: queue.TypeServiceDefined, Payload: &queue.ServiceDefined{ID: "neu", Name: "Neu", Prefix: "P", ExpectedMinutes: 20}},
			veedel.ECONFLICT, "Pass"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.apply(groupEvent(at, "pass", "Pass", "P"))
			_, err := f.st.AcceptFromCentral(at, tt.event)
			if veedel.ErrorCode(err) != tt.code || !strings.Contains(veedel.ErrorMessage(err), tt.want) {
				t.Errorf("error %v, want %s containing %q", err, tt.code, tt.want)
			}
		})
	}
}

// A version 5 snapshot keeps the groups; a version 4 one (before groups)
// restores without them.
func TestSnapshotGroups(t *testing.T) {
	f := newFixture(t)
	f.apply(groupEvent(monday(6, 0), "pass", "Ausweis und Pass", "P"), f.serviceEvent(monday(6, 0), "meldung", "pass"))
	f.issue(monday(8, 0), "meldung")
	restored := restoreViaJSON(t, f.st)
	sameObservation(t, "restored", restored, f.st)
	if got := restored.TicketPrefix("meldung"); got != "P" {
		t.Errorf("restored TicketPrefix(meldung) = %q, want P", got)
	}

	old := newFixture(t)
	old.issue(monday(8, 0), "meldung")
	v4 := old.st.Snapshot()
	v4.Version, v4.Groups = 4, nil
	data, _ := json.Marshal(v4)
	if strings.Contains(string(data), "Group") {
		t.Fatalf("a snapshot without groups mentions them: %s", data)
	}
	var snap4 queue.Snapshot
	if err := json.Unmarshal(data, &snap4); err != nil {
		t.Fatal(err)
	}
	restored, err := queue.Restore(snap4)
	if err != nil {
		t.Fatalf("Restore(version 4): %v", err)
	}
	if len(restored.Groups) != 0 || restored.TicketPrefix("meldung") != "B" {
		t.Errorf("version 4 restored with groups %v, prefix %q", restored.Groups, restored.TicketPrefix("meldung"))
	}
	if got := restored.Snapshot().Version; got != queue.SnapshotVersion {
		t.Errorf("a restored state snapshots as version %d, want %d", got, queue.SnapshotVersion)
	}
}
