package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
)

// A busy site's month, written straight through the store: for the
// 30-days-offline test and the catch-up benchmark.

// stepClock advances by step on every reading, so that each event the
// store commits gets its own time, spread over the working day.
type stepClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

func (c *stepClock) set(t time.Time, step time.Duration) {
	c.mu.Lock()
	c.t, c.step = t, step
	c.mu.Unlock()
}

// busyMonth is what writeBusyMonth wrote.
type busyMonth struct {
	Entries    uint64
	Tickets    int
	Days       int
	Took       time.Duration
	MaxWALSize int64 // largest size of the site's -wal file seen while writing
}

// writeBusyMonth creates the store of site at path and fills it with the
// seed and then days of work, from 07:00 to 19:00 for days days ending
// yesterday, every counter staffed, tickets issued, called, finished or
// not shown, until the log has at least n entries. Events are committed
// chunk at a time in one transaction each (Store.Execute with many events).
func writeBusyMonth(tb testing.TB, path, site string, n, days, chunk int) busyMonth {
	tb.Helper()
	ctx := context.Background()
	seed, ok := appliance.Catalog[site]
	if !ok {
		tb.Fatalf("unknown site %s", site)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	today := time.Now().In(berlin)
	first := time.Date(today.Year(), today.Month(), today.Day()-days, 7, 0, 0, 0, berlin)
	clock := &stepClock{t: first.Add(-time.Hour), step: time.Millisecond}
	store, err := sqlite.Open(ctx, path, site, sqlite.Options{Now: clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	defer store.Close()
	stopWatch := watchWAL(path + "-wal")

	start := time.Now()
	out := busyMonth{Days: days}
	if _, err := store.Execute(ctx, seedDecider(seed)); err != nil {
		tb.Fatal(err)
	}
	perDay := (n - int(store.LastSeq()) + days - 1) / days
	r := rand.New(rand.NewPCG(uint64(n), uint64(days)))
	for d := range days {
		day := first.AddDate(0, 0, d)
		events, tickets := busyDay(r, seed, day.Format(time.DateOnly), perDay)
		out.Tickets += tickets
		clock.set(day, 12*time.Hour/time.Duration(len(events)))
		for lo := 0; lo < len(events); lo += chunk {
			part := events[lo:min(lo+chunk, len(events))]
			if _, err := store.Execute(ctx, func(*queue.State, time.Time) ([]queue.Event, error) { return part, nil }); err != nil {
				tb.Fatalf("day %d: %v", d, err)
			}
		}
	}
	out.Entries, out.Took, out.MaxWALSize = store.LastSeq(), time.Since(start), stopWatch()
	return out
}

// busyDay returns about n events of one working day at a site: counters
// opened, then tickets issued and served in the order they came.
func busyDay(r *rand.Rand, seed appliance.SiteSeed, day string, n int) ([]queue.Event, int) {
	prefix := map[string]string{}
	for _, s := range seed.Services {
		prefix[s.ID] = s.Prefix
	}
	var events []queue.Event
	for i, c := range seed.Counters {
		events = append(events, queue.Event{Type: queue.TypeCounterOpened, Entity: "counter/" + c.ID,
			Payload: &queue.CounterOpened{Counter: c.ID, Staff: "clerk" + strconv.Itoa(i+1)}})
	}
	type ticket struct{ id, service string }
	var waiting []ticket
	serving := make([]string, len(seed.Counters))
	numbers := map[string]int{}
	tickets := 0
	for len(events) < n {
		i := r.IntN(len(seed.Counters))
		c := seed.Counters[i]
		switch {
		case r.IntN(3) > 0 && serving[i] != "":
			e := queue.Event{Type: queue.TypeTicketFinished, Entity: "ticket/" + serving[i], Payload: &queue.TicketFinished{ID: serving[i], Counter: c.ID}}
			if r.IntN(12) == 0 {
				e = queue.Event{Type: queue.TypeTicketNoShow, Entity: "ticket/" + serving[i], Payload: &queue.TicketNoShow{ID: serving[i], Counter: c.ID}}
			}
			events = append(events, e)
			serving[i] = ""
		case r.IntN(2) == 0 && serving[i] == "" && len(waiting) > 0:
			for j, t := range waiting {
				if slices.Contains(c.Services, t.service) {
					events = append(events, queue.Event{Type: queue.TypeTicketCalled, Entity: "ticket/" + t.id, Payload: &queue.TicketCalled{ID: t.id, Counter: c.ID}})
					serving[i] = t.id
					waiting = append(waiting[:j], waiting[j+1:]...)
					break
				}
			}
		default:
			svc := seed.Services[r.IntN(len(seed.Services))].ID
			// One number range per prefix: services of a group share it.
			numbers[prefix[svc]]++
			number := fmt.Sprintf("%s%03d", prefix[svc], numbers[prefix[svc]])
			id := day + "/" + number
			events = append(events, queue.Event{Type: queue.TypeTicketIssued, Entity: "ticket/" + id,
				Payload: &queue.TicketIssued{ID: id, Token: sqlite.RandomToken(), Number: number, Service: svc, Channel: "kiosk"}})
			waiting = append(waiting, ticket{id, svc})
			tickets++
		}
	}
	return events, tickets
}

// watchWAL samples the size of a -wal file every 20 ms until the returned
// function is called, which returns the largest size seen.
func watchWAL(path string) func() int64 {
	var peak int64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if fi, err := os.Stat(path); err == nil {
				peak = max(peak, fi.Size())
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		<-stopped
		return peak
	}
}

// memPeak samples the Go heap in use and the process's resident set every
// 100 ms until the returned function is called.
func memPeak() func() (heap, rss uint64) {
	var heap, rss uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			heap = max(heap, ms.HeapInuse)
			rss = max(rss, residentBytes())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() (uint64, uint64) {
		close(done)
		<-stopped
		return heap, rss
	}
}

// residentBytes is VmRSS from /proc/self/status (0 where there is none).
func residentBytes() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
