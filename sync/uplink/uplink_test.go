package uplink_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/uplink"
)

// memOutbox is a site's change-log in memory.
type memOutbox struct {
	mu      sync.Mutex
	entries []changelog.Entry
	acked   uint64
	wake    chan struct{}
	clock   *changelog.Clock
}

func newOutbox() *memOutbox {
	return &memOutbox{wake: make(chan struct{}, 1), clock: changelog.NewClock(nil, 0)}
}

func (o *memOutbox) commit(t *testing.T, n int) {
	t.Helper()
	o.mu.Lock()
	for range n {
		var prev *changelog.Entry
		if len(o.entries) > 0 {
			prev = &o.entries[len(o.entries)-1]
		}
		seq := len(o.entries) + 1
		e, err := changelog.NewEntry("kalk", prev, o.clock.Now(), queue.TypeTicketIssued, fmt.Sprintf("ticket/%d", seq),
			&queue.TicketIssued{ID: fmt.Sprint(seq), Token: fmt.Sprintf("token-%018d", seq), Number: fmt.Sprintf("B%03d", seq), Service: "meldung"})
		if err != nil {
			t.Fatal(err)
		}
		o.entries = append(o.entries, e)
	}
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *memOutbox) EntriesAfter(_ context.Context, after uint64, limit, _ int) ([]changelog.Entry, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if after >= uint64(len(o.entries)) {
		return nil, nil
	}
	end := min(int(after)+limit, len(o.entries))
	return append([]changelog.Entry(nil), o.entries[after:end]...), nil
}

func (o *memOutbox) AckedSeq(context.Context) (uint64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.acked, nil
}

func (o *memOutbox) SetAckedSeq(_ context.Context, seq uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.acked = seq
	return nil
}

func (o *memOutbox) LastSeq() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return uint64(len(o.entries))
}

func (o *memOutbox) Subscribe() (<-chan struct{}, func()) { return o.wake, func() {} }

// fakeCentral speaks the sync endpoint's wire protocol: CBOR batch in, CBOR
// ack out; it stores entries by seq, checks the chain, and can be told to
// be down, to refuse, or to have lost entries.
type fakeCentral struct {
	mu        sync.Mutex
	stored    []changelog.Entry
	down      bool
	refuse    string // non-empty: answer 400 with this message
	inflate   uint64 // added to every ack: a damaged or forged answer
	requests  int
	maxBatch  int
	heartbeat int
}

func (c *fakeCentral) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	c.requests++
	b, err := changelog.ReadBatch(r.Body)
	reply := func(status int, ack changelog.Ack) {
		data, _ := changelog.Marshal(ack)
		w.Header().Set("Content-Type", "application/cbor")
		w.WriteHeader(status)
		w.Write(data)
	}
	acked := uint64(len(c.stored))
	if err != nil {
		reply(http.StatusBadRequest, changelog.Ack{Error: err.Error()})
		return
	}
	if c.refuse != "" {
		reply(http.StatusBadRequest, changelog.Ack{Site: b.Site, Acked: acked, Error: c.refuse})
		return
	}
	c.maxBatch = max(c.maxBatch, len(b.Entries))
	if len(b.Entries) == 0 {
		c.heartbeat++
	}
	for _, e := range b.Entries {
		switch {
		case e.Seq <= acked:
			continue // a resend
		case e.Seq != acked+1:
			reply(http.StatusConflict, changelog.Ack{Site: b.Site, Acked: acked, Error: "gap"})
			return
		}
		c.stored = append(c.stored, e)
		acked++
	}
	reply(http.StatusOK, changelog.Ack{Site: b.Site, Acked: acked + c.inflate})
}

func (c *fakeCentral) set(f func(*fakeCentral)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c)
}

func (c *fakeCentral) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.stored)
}

func start(t *testing.T, out *memOutbox, central *fakeCentral, tune func(*uplink.Uplink)) *uplink.Uplink {
	t.Helper()
	srv := httptest.NewServer(central)
	t.Cleanup(srv.Close)
	u := &uplink.Uplink{Outbox: out, Site: "kalk", CentralURL: srv.URL, MaxBackoff: 50 * time.Millisecond,
		RefusedBackoff: 100 * time.Millisecond, Heartbeat: time.Hour}
	if tune != nil {
		tune(u)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { u.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return u
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestUplink(t *testing.T) {
	t.Run("PushesAfterCommitInBoundedBatches", func(t *testing.T) {
		out, central := newOutbox(), &fakeCentral{}
		start(t, out, central, func(u *uplink.Uplink) { u.BatchEntries = 10 })
		out.commit(t, 95)
		waitFor(t, "central has all 95", func() bool { return central.count() == 95 })
		waitFor(t, "the cursor moves to 95", func() bool { a, _ := out.AckedSeq(context.Background()); return a == 95 })
		if central.maxBatch > 10 {
			t.Errorf("largest batch had %d entries, want at most 10", central.maxBatch)
		}
		out.commit(t, 1)
		waitFor(t, "a single new entry follows", func() bool { return central.count() == 96 })
	})

	t.Run("CentralDownThenUp", func(t *testing.T) {
		out, central := newOutbox(), &fakeCentral{down: true}
		u := start(t, out, central, nil)
		out.commit(t, 20)
		waitFor(t, "failures are counted", func() bool { return u.Status().Failures >= 2 })
		if st := u.Status(); st.Pending != 20 || st.Acked != 0 || st.LastError == "" {
			t.Errorf("status while central is down = %+v, want 20 pending, 0 acked, an error", st)
		}
		central.set(func(c *fakeCentral) { c.down = false })
		waitFor(t, "central catches up", func() bool { return central.count() == 20 })
		waitFor(t, "the status clears", func() bool { st := u.Status(); return st.Failures == 0 && st.Pending == 0 })
	})

	t.Run("ResendsFromCentralsAckAfterConflict", func(t *testing.T) {
		out, central := newOutbox(), &fakeCentral{}
		start(t, out, central, nil)
		out.commit(t, 30)
		waitFor(t, "central has 30", func() bool { return central.count() == 30 })
		// Central lost its newest entries (restored from a backup): the
		// next batch is a gap, central answers 409 with its position, and
		// the site resends from there.
		central.set(func(c *fakeCentral) { c.stored = c.stored[:12] })
		out.commit(t, 5)
		waitFor(t, "central is whole again", func() bool { return central.count() == 35 })
		central.mu.Lock()
		defer central.mu.Unlock()
		for i, e := range central.stored {
			if e.Seq != uint64(i+1) || e.Hash == nil {
				t.Fatalf("central's entry %d has seq %d", i, e.Seq)
			}
		}
	})

	t.Run("RefusedKeepsEverythingAndSaysWhy", func(t *testing.T) {
		out, central := newOutbox(), &fakeCentral{refuse: "schema version 4 not supported (accepting 1…3)"}
		u := start(t, out, central, nil)
		out.commit(t, 7)
		waitFor(t, "the refusal shows", func() bool { return strings.Contains(u.Status().LastError, "schema version 4 not supported") })
		if a, _ := out.AckedSeq(context.Background()); a != 0 || out.LastSeq() != 7 {
			t.Errorf("after a refusal: acked %d, %d entries; want 0 acked and all 7 kept", a, out.LastSeq())
		}
		// Central is upgraded: the site syncs without anyone touching it.
		central.set(func(c *fakeCentral) { c.refuse = "" })
		waitFor(t, "sync after the upgrade", func() bool { return central.count() == 7 })
	})

	t.Run("IgnoresAckBeyondWhatTheSiteWrote", func(t *testing.T) {
		out, central := newOutbox(), &fakeCentral{inflate: 1 << 20}
		u := start(t, out, central, nil)
		out.commit(t, 5)
		waitFor(t, "the damaged ack shows", func() bool { return strings.Contains(u.Status().LastError, "ignoring the answer") })
		if a, _ := out.AckedSeq(context.Background()); a != 0 {
			t.Fatalf("cursor moved to %d on an ack beyond the site's last seq 5", a)
		}
		central.set(func(c *fakeCentral) { c.inflate = 0 })
		waitFor(t, "a sound ack moves the cursor", func() bool { a, _ := out.AckedSeq(context.Background()); return a == 5 })
	})

	t.Run("RetriesARefusalQuicklyFirst", func(t *testing.T) {
		// A batch damaged on the way is refused like a bad one; the first
		// retries must not wait the long refusal pause.
		out, central := newOutbox(), &fakeCentral{refuse: "entry 1: hash does not match its content"}
		start(t, out, central, func(u *uplink.Uplink) { u.RefusedBackoff = time.Hour })
		out.commit(t, 3)
		waitFor(t, "three quick retries", func() bool { central.mu.Lock(); defer central.mu.Unlock(); return central.requests >= 3 })
		central.set(func(c *fakeCentral) { c.refuse = "" })
		time.Sleep(300 * time.Millisecond)
		central.mu.Lock()
		n := central.requests
		central.mu.Unlock()
		if n > 5 {
			t.Errorf("%d requests: after the quick retries the uplink should wait the long pause", n)
		}
	})

	t.Run("HeartbeatWhenIdle", func(t *testing.T) {
		out, central := newOutbox(), &fakeCentral{}
		u := start(t, out, central, func(u *uplink.Uplink) { u.Heartbeat = 30 * time.Millisecond })
		waitFor(t, "heartbeats", func() bool { central.mu.Lock(); defer central.mu.Unlock(); return central.heartbeat >= 3 })
		if u.Status().LastContact.IsZero() {
			t.Error("heartbeats do not count as contact")
		}
	})

	t.Run("ResumesFromDurableCursor", func(t *testing.T) {
		out, central := newOutbox(), &fakeCentral{}
		out.commit(t, 10)
		central.stored = append(central.stored, out.entries[:10]...)
		out.acked = 10
		out.commit(t, 3)
		start(t, out, central, nil)
		waitFor(t, "the rest arrives", func() bool { return central.count() == 13 })
		central.mu.Lock()
		defer central.mu.Unlock()
		if central.requests != 1 {
			t.Errorf("%d requests, want 1: a restarted uplink resends nothing central acknowledged", central.requests)
		}
	})
}

// A burst of commits, one every millisecond, travels as a few batches: the
// uplink lets entries gather after a push that was not full, instead of
// making central verify, store and fold one small batch per commit. Every
// entry still arrives, and the first entry after a quiet spell goes at once.
func TestUplinkGathersABurst(t *testing.T) {
	pushes := func(gather time.Duration) (requests int, first, burst time.Duration) {
		out, central := newOutbox(), &fakeCentral{}
		start(t, out, central, func(u *uplink.Uplink) { u.Gather = gather })
		began := time.Now()
		out.commit(t, 1)
		waitFor(t, "the first entry", func() bool { return central.count() == 1 })
		first = time.Since(began)
		began = time.Now()
		for range 300 {
			out.commit(t, 1)
			time.Sleep(time.Millisecond)
		}
		burst = time.Since(began)
		waitFor(t, "all 301 entries", func() bool { return central.count() == 301 })
		central.mu.Lock()
		defer central.mu.Unlock()
		return central.requests, first, burst
	}
	gathered, first, burst := pushes(50 * time.Millisecond)
	// At most one push per 50 ms of the burst, plus the first and the last
	// (the burst takes longer than 300 ms on a slow machine: count by it).
	if most := int(burst/(50*time.Millisecond)) + 3; gathered > most {
		t.Errorf("a %v burst went as %d pushes with a 50 ms gather, want at most %d", burst, gathered, most)
	}
	if first > time.Second {
		t.Errorf("the first entry after a quiet spell took %v to arrive", first)
	}
	eager, _, _ := pushes(-1)
	if eager <= gathered {
		t.Errorf("without gathering the burst went as %d pushes, with it %d: the test does not measure gathering", eager, gathered)
	}
	t.Logf("pushes for a 300-commit burst: %d without gathering, %d with 50 ms", eager, gathered)
}
