package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/appliance/queue"
)

// codeBox is a Notifier that keeps the codes sent, as the citizens'
// mailboxes would (the benchmarks measure central's booking, not SMTP).
type codeBox struct {
	mu    sync.Mutex
	codes map[string]string
}

func (c *codeBox) Notify(_ context.Context, to appointment.Contact, _, _, body string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.codes[to.Email] = body[len(body)-6:]
	return nil
}

func (c *codeBox) code(email string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.codes[email]
}

// bookingBench is a synced central and kalk, with the free slots of
// central's share for ausweis over the next weeks.
type bookingBench struct {
	p     syncPair
	appts *appointment.Central
	box   *codeBox
	slots []time.Time
	next  int
	n     atomic.Int64
}

func newBookingBench(b *testing.B) *bookingBench {
	dir := b.TempDir()
	p := startSyncPair(b, dir, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db")})
	p.waitSynced(b, "kalk", 10*time.Second)
	eventually(b, 10*time.Second, "central has kalk's box key", func() (bool, string) {
		_, err := p.central.Central.BoxKey(context.Background(), "kalk")
		return err == nil, fmt.Sprint(err)
	})
	bb := &bookingBench{p: p, appts: p.central.Central.Workflow(appointment.Prefix).(*appointment.Central), box: &codeBox{codes: map[string]string{}}}
	now := time.Now()
	for d := 1; d < 60; d++ {
		day := p.central.Central.DayOf("kalk", now.AddDate(0, 0, d))
		slots, err := bb.appts.Slots(context.Background(), p.central.Central, "kalk", "ausweis", day, now)
		if err != nil {
			b.Fatal(err)
		}
		for _, sl := range slots {
			for range sl.Available {
				bb.slots = append(bb.slots, sl.Start)
			}
		}
	}
	if len(bb.slots) == 0 {
		b.Fatal("kalk has no online places for ausweis")
	}
	return bb
}

// slot returns the next free place.
func (bb *bookingBench) slot(b *testing.B) time.Time {
	if bb.next >= len(bb.slots) {
		b.Fatalf("out of free places after %d", bb.next)
	}
	bb.next++
	return bb.slots[bb.next-1]
}

// hold asks for start with a new contact; confirm confirms what it got.
func (bb *bookingBench) hold(start time.Time) (appointment.Held, string, error) {
	email := fmt.Sprintf("b%d@example.de", bb.n.Add(1))
	h, err := bb.appts.Hold(context.Background(), bb.p.central.Central, bb.box,
		appointment.Request{Site: "kalk", Service: "ausweis", Start: start, Name: "Bench", Email: email, Consent: true}, time.Now())
	return h, email, err
}

func (bb *bookingBench) confirm(b *testing.B, h appointment.Held, email string) appointment.Appt {
	a, _, err := bb.appts.Confirm(context.Background(), bb.p.central.Central, h.Token, bb.box.code(email), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// BenchmarkBookingContention: 16 citizens ask for the same last place at
// once, every op a new place; the one who gets it confirms (sealed, and
// appended durably to the site's outbound log). Baseline in the same run:
// one citizen alone booking a free place (hold + confirm). sold-ratio is
// places sold per second under contention ÷ alone (bigger is better; 1.0:
// contention costs nothing); losers get a 409 and never a place.
func BenchmarkBookingContention(b *testing.B) {
	const racers = 16
	bb := newBookingBench(b)
	defer bb.p.stop()

	// Baseline: alone.
	const alone = 50
	start := time.Now()
	for range alone {
		h, email, err := bb.hold(bb.slot(b))
		if err != nil {
			b.Fatal(err)
		}
		bb.confirm(b, h, email)
	}
	aloneRate := alone / time.Since(start).Seconds()

	var holdLat []time.Duration
	var mu sync.Mutex
	b.ResetTimer()
	t0 := time.Now()
	for range b.N {
		place := bb.slot(b)
		var wg sync.WaitGroup
		var won atomic.Int32
		for range racers {
			wg.Go(func() {
				s := time.Now()
				h, email, err := bb.hold(place)
				d := time.Since(s)
				mu.Lock()
				holdLat = append(holdLat, d)
				mu.Unlock()
				if err == nil {
					won.Add(1)
					bb.confirm(b, h, email)
				}
			})
		}
		wg.Wait()
		if won.Load() != 1 {
			b.Fatalf("%d of %d racers got the last place, want exactly 1", won.Load(), racers)
		}
	}
	b.StopTimer()
	rate := float64(b.N) / time.Since(t0).Seconds()
	p50, p99, _ := percentiles(holdLat)
	b.ReportMetric(rate, "sold/s")
	b.ReportMetric(aloneRate, "alone-sold/s")
	b.ReportMetric(rate/aloneRate, "sold-ratio")
	b.ReportMetric(p50, "hold-p50-ms")
	b.ReportMetric(p99, "hold-p99-ms")
}

// BenchmarkBookingToSite: from a confirmed booking (durable in kalk's
// outbound log) until the site's queue has it: the downlink's long poll
// answered, the entry applied and committed. Each op is 50 bookings, 0–20
// ms apart. Goal (issue 10): at the site at once, p99 well under 2 s.
func BenchmarkBookingToSite(b *testing.B) {
	const bookings = 50
	bb := newBookingBench(b)
	defer bb.p.stop()
	wake, unsubscribe := bb.p.node.Store.Subscribe()
	defer unsubscribe()
	atSite := func(code string) bool {
		ok := false
		bb.p.node.Store.View(func(st *queue.State) { ok = st.BookingByCode(code) != nil })
		return ok
	}
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		for i := range bookings {
			time.Sleep(time.Duration(i%4) * 5 * time.Millisecond)
			h, email, err := bb.hold(bb.slot(b))
			if err != nil {
				b.Fatal(err)
			}
			a := bb.confirm(b, h, email)
			start := time.Now()
			for !atSite(a.Code) {
				select {
				case <-wake:
				case <-time.After(5 * time.Millisecond):
				}
				if time.Since(start) > 30*time.Second {
					b.Fatalf("booking %d not at the site after 30 s", i)
				}
			}
			lat = append(lat, time.Since(start))
		}
	}
	b.StopTimer()
	p50, p99, top := percentiles(lat)
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(top, "max-ms")
}
