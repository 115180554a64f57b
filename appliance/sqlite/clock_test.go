package sqlite_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/clock"
	"github.com/veedel/veedel/appliance/sqlite"
)

// A wall clock set back a year (a dead RTC battery, no time server) must
// not write events: the hybrid logical clock would carry on at the last
// entry's time and the tickets would belong to that day. The store refuses
// every command, with a message for staff, and takes them again once the
// clock is right; nothing before or after is lost.
func TestClockBehindTheLogRefusesCommands(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(time.Date(2026, time.December, 7, 9, 0, 0, 0, berlin))
	open := func() {
		c := clock.New(e.clock.Now)
		s, err := sqlite.Open(context.Background(), e.path, "kalk", sqlite.Options{Now: c.Now, CheckClock: c.Check,
			NewToken: func() string { return fmt.Sprintf("token-%016d", e.tokens.Add(1)) }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		e.store.Close()
		e.store = s
	}
	open()
	e.seed(1)
	first := e.issue("ausweis")
	seq := e.store.LastSeq()
	if got := e.store.LastEntryAt(); !got.Equal(time.Date(2026, time.December, 7, 9, 0, 0, 0, berlin)) {
		t.Fatalf("LastEntryAt = %v", got)
	}

	e.clock.Set(time.Date(2025, time.December, 7, 9, 5, 0, 0, berlin))
	for _, restart := range []bool{false, true} {
		if restart {
			open() // the floor comes from the log itself
		}
		_, _, err := e.store.IssueTicket(context.Background(), "ausweis", "kiosk", "k1")
		wantCode(t, err, veedel.EUNAVAILABLE)
		if msg := veedel.ErrorMessage(err); !strings.Contains(msg, "Die Uhr dieses Geräts geht falsch") || !strings.Contains(msg, "07.12.2026 09:00") {
			t.Fatalf("message %q does not say what is wrong", msg)
		}
		if _, err := e.store.Execute(context.Background(), callNext("1", "clerk")); veedel.ErrorCode(err) != veedel.EUNAVAILABLE {
			t.Fatalf("a desk command with the clock a year behind: %v", err)
		}
		if got := e.store.LastSeq(); got != seq {
			t.Fatalf("refused commands wrote entries: seq %d, want %d", got, seq)
		}
	}

	e.clock.Set(time.Date(2026, time.December, 7, 9, 6, 0, 0, berlin))
	second := e.issue("ausweis")
	if second.Day != first.Day || second.Number != "A002" {
		t.Fatalf("after the clock was set: ticket %s of %s, want A002 of %s", second.Number, second.Day, first.Day)
	}
	all := e.entries() // gap-free, verified
	if got := all[len(all)-1].Seq; got != seq+1 {
		t.Fatalf("last seq %d, want %d", got, seq+1)
	}
}
