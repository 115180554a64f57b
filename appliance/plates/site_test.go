package plates_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
	"github.com/veedel/veedel/workflow"
)

// site is an appliance store on a real SQLite file and central's
// outbound log to it.
type site struct {
	t     *testing.T
	path  string
	store *sqlite.Store
	out   []changelog.Entry
	hlc   changelog.HLC
	now   time.Time
	key   ed25519.PrivateKey
}

func newSite(t *testing.T) *site {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	s := &site{t: t, key: key, path: filepath.Join(t.TempDir(), "site.db"), now: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	s.hlc = changelog.HLC(s.now.UnixMilli()) << 16
	s.open()
	return s
}

func (s *site) open() {
	box, err := sitekey.BoxKey(s.key)
	if err != nil {
		s.t.Fatal(err)
	}
	s.store, err = sqlite.Open(context.Background(), s.path, "zulassung", sqlite.Options{Now: func() time.Time { return s.now }, BoxKey: box})
	if err != nil {
		s.t.Fatal(err)
	}
	st := s.store
	s.t.Cleanup(func() { st.Close() })
}

// send appends an entry to central's outbound log and applies it.
func (s *site) send(typ, entity string, p any) string {
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
	outcome, err := s.store.ApplyInbound(context.Background(), e)
	if err != nil {
		s.t.Fatal(err)
	}
	return outcome
}

func (s *site) assign(token string) (plates.Assigned, error) {
	var out *plates.Assigned
	_, err := s.store.ExecuteTx(context.Background(), func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		events, a, err := plates.Assign(context.Background(), q, at, plates.AssignRequest{Token: token, Ref: "V-1"})
		out = a
		return events, err
	})
	if err != nil {
		return plates.Assigned{}, err
	}
	return *out, nil
}

// A site assigns walk-in plates only from its blocks, in order, leaving
// out the digits central excepted; when they are used up it says so
// (503) instead of inventing one; a block delivered twice counts once.
func TestAssignFromBlocksOnly(t *testing.T) {
	s := newSite(t)
	if _, err := s.assign(""); veedel.ErrorCode(err) != veedel.EUNAVAILABLE {
		t.Fatalf("assign without a block: %v, want EUNAVAILABLE", err)
	}
	b := plates.Block{ID: 1, Letters: "AB", First: 1, Last: 5, Except: []int{2, 4}}
	s.send(plates.TypeBlockGranted, "plateblock/1", &plates.BlockGranted{Block: b})
	// The same block again (central resends): nothing changes.
	s.send(plates.TypeBlockGranted, "plateblock/1", &plates.BlockGranted{Block: b})
	var got []string
	var lefts []int
	for range 3 {
		a, err := s.assign("")
		if err != nil {
			t.Fatal(err)
		}
		got, lefts = append(got, a.Plate), append(lefts, a.Left)
	}
	want := []string{"K-AB 1", "K-AB 3", "K-AB 5"}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("assigned %v, want %v", got, want)
	}
	if lefts[0] != 2 || lefts[2] != 0 {
		t.Errorf("left after each: %v, want 2, 1, 0", lefts)
	}
	if _, err := s.assign(""); veedel.ErrorCode(err) != veedel.EUNAVAILABLE {
		t.Errorf("assign after the block is used up: %v, want EUNAVAILABLE", err)
	}
	s.send(plates.TypeBlockGranted, "plateblock/7", &plates.BlockGranted{Block: plates.Block{ID: 7, Letters: "AC", First: 10, Last: 11}})
	if a, err := s.assign(""); err != nil || a.Plate != "K-AC 10" || a.Block != 7 {
		t.Errorf("after the next block: %+v, %v; want K-AC 10 of block 7", a, err)
	}
	// Replaying the log rebuilds the tables: the store opened again goes on.
	s.store.Close()
	s.open()
	if a, err := s.assign(""); err != nil || a.Plate != "K-AC 11" {
		t.Errorf("after a restart: %+v, %v; want K-AC 11", a, err)
	}
	o, err := plates.Summary(context.Background(), s.store.Read())
	if err != nil || o.Left != 0 || o.Assigned != 5 || len(o.Blocks) != 2 {
		t.Errorf("summary %+v, %v", o, err)
	}
}

// A reserved plate is assigned once, only with its token, only before it
// expires; an expired reservation goes back to central in the next
// command; a cancelled registration gives its plate back, and the site
// never assigns it again.
func TestReservationsAndReturns(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	s.send(plates.TypeReservationSent, "plate/K-XY 7", &plates.ReservationSent{Plate: "K-XY 7", TokenHash: plates.TokenHash("tok-1"),
		Expires: s.now.Add(time.Hour).UnixMilli()})
	s.send(plates.TypeReservationSent, "plate/K-XY 8", &plates.ReservationSent{Plate: "K-XY 8", TokenHash: plates.TokenHash("tok-2"),
		Expires: s.now.Add(time.Minute).UnixMilli()})
	if _, err := s.assign("wrong"); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Errorf("unknown token: %v, want ENOTFOUND", err)
	}
	a, err := s.assign("tok-1")
	if err != nil || a.Plate != "K-XY 7" || a.Block != 0 {
		t.Fatalf("assign reserved: %+v, %v", a, err)
	}
	if _, err := s.assign("tok-1"); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Errorf("the same reservation again: %v, want ECONFLICT", err)
	}
	s.now = s.now.Add(2 * time.Minute)
	s.send(plates.TypeBlockGranted, "plateblock/1", &plates.BlockGranted{Block: plates.Block{ID: 1, Letters: "A", First: 1, Last: 3}})
	before := s.store.LastSeq()
	if _, err := s.assign(""); err != nil {
		t.Fatal(err)
	}
	// The walk-in's command also gave K-XY 8 back (expired).
	entries, err := s.store.EntriesAfter(ctx, before, 10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var returned bool
	for _, e := range entries {
		returned = returned || e.Type == plates.TypeReturned && e.Entity == "plate/K-XY 8"
	}
	if !returned {
		t.Errorf("the expired reservation was not given back: %+v", entries)
	}
	if _, err := s.assign("tok-2"); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Errorf("an expired reservation: %v, want ECONFLICT", err)
	}
	// Cancel K-A 1's registration: it goes back and is not assigned again.
	_, err = s.store.ExecuteTx(ctx, func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		return plates.Return(ctx, q, at, "k a1")
	})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := s.assign(""); err != nil || a.Plate != "K-A 2" {
		t.Errorf("after a return: %+v, %v; want K-A 2 (K-A 1 is central's again)", a, err)
	}
	_, err = s.store.ExecuteTx(ctx, func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		return plates.Return(ctx, q, at, "K-A 1")
	})
	if veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Errorf("returning twice: %v, want ENOTFOUND", err)
	}
}
