// Package faultproxy puts a faulty network between an appliance and
// central, for the sync engine's fault-injection tests. It has two parts
// that are usually chained:
//
//	appliance ──▶ Handler (HTTP) ──▶ Proxy (TCP) ──▶ central
//
// Proxy is a TCP proxy on loopback. It decides a Fault per accepted
// connection and acts on the raw bytes of that connection: Drop, Delay, Cut
// (the request's head and part of its body, then both sides are closed),
// Corrupt (bytes of the request body flipped), LoseReply (the target
// answers, the client never hears it) and CorruptReply. It reads just
// enough of the HTTP/1.1 framing (the head and Content-Length) to aim Cut
// and Corrupt at the first request's body; later requests on a kept-alive
// connection pass untouched. It cannot duplicate or reorder requests (it
// does not frame responses) and passes those kinds.
//
// Handler is an http.Handler reverse proxy. It decides a Fault per request
// and acts on whole HTTP messages: Duplicate (the request is delivered
// twice, concurrently) and Reorder (the request is held and delivered after
// the next one) exist only here; the other kinds have HTTP equivalents
// (Drop, Cut and LoseReply abort the client's connection). Handler forwards
// every request on a new connection, so a Proxy behind it sees one request
// per connection and its per-connection faults become per-request faults.
//
// Both draw faults from a Schedule. Random builds one from a seed: the fault
// of the n-th connection or request depends only on the seed and n, so a
// schedule is reproducible although goroutines race (timing still varies
// from run to run; the seed fixes what happens, not exactly when).
package faultproxy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Kind is a kind of fault.
type Kind int

// The kinds of fault. Layer: T = Proxy (TCP bytes), H = Handler (HTTP
// messages).
const (
	Pass         Kind = iota // T H: forward unchanged
	Drop                     // T: close the connection before dialing the target; H: abort the client's connection without forwarding
	Delay                    // T: wait Fault.Delay before dialing the target; H: wait before forwarding
	Cut                      // T H: forward the head and Fault.Fraction of the body, then close both sides
	Corrupt                  // T H: flip Fault.Flips bytes of the request body (a request without one passes)
	LoseReply                // T H: forward the request, let the target answer, close the client's side without the answer
	CorruptReply             // T H: flip Fault.Flips bytes of the response body (or of its chunked framing)
	Duplicate                // H: deliver the request twice, concurrently; the client gets the first answer
	Reorder                  // H: abort the client's connection, hold the request and deliver it after the next request (or after Fault.Delay)
	numKinds
)

var kindNames = [...]string{"pass", "drop", "delay", "cut", "corrupt", "lose-reply", "corrupt-reply", "duplicate", "reorder"}

func (k Kind) String() string {
	if k >= 0 && k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Fault is what happens to one connection or request.
type Fault struct {
	Kind Kind
	// Delay is the wait of Delay and the longest hold of Reorder.
	Delay time.Duration
	// Fraction is the share of the body Cut forwards, in [0, 1).
	Fraction float64
	// Flips is how many bytes Corrupt and CorruptReply flip (at least 1).
	Flips int
	// Seed drives the fault's own choices (which bytes to flip), so that a
	// fault always does the same thing to the same bytes.
	Seed uint64
}

func (f Fault) String() string {
	switch f.Kind {
	case Delay, Reorder:
		return fmt.Sprintf("%s %v", f.Kind, f.Delay)
	case Cut:
		return fmt.Sprintf("%s at %.0f%%", f.Kind, f.Fraction*100)
	case Corrupt, CorruptReply:
		return fmt.Sprintf("%s %d bytes", f.Kind, max(f.Flips, 1))
	}
	return f.Kind.String()
}

// Schedule returns the fault for the n-th connection or request, counting
// from 0. It must be safe for concurrent use.
type Schedule func(n uint64) Fault

// Always applies f to every connection or request.
func Always(f Fault) Schedule { return func(uint64) Fault { return f } }

// Script applies faults[n] to the n-th connection or request and passes
// everything after them.
func Script(faults ...Fault) Schedule {
	return func(n uint64) Fault {
		if n < uint64(len(faults)) {
			return faults[n]
		}
		return Fault{}
	}
}

// Rates is the probability of each kind per connection or request; what is
// left to 1 passes.
type Rates map[Kind]float64

// Random returns a schedule drawing faults with the given rates. The n-th
// fault depends only on seed and n. Delays and holds are drawn up to
// maxDelay (500 ms if zero).
func Random(seed uint64, rates Rates, maxDelay time.Duration) Schedule {
	if maxDelay <= 0 {
		maxDelay = 500 * time.Millisecond
	}
	kinds := make([]Kind, 0, len(rates))
	for k := range rates {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds) // map order must not change the outcome
	return func(n uint64) Fault {
		r := rand.New(rand.NewPCG(seed, n))
		x := r.Float64()
		kind := Pass
		for _, k := range kinds {
			if x < rates[k] {
				kind = k
				break
			}
			x -= rates[k]
		}
		return Fault{
			Kind:     kind,
			Delay:    time.Duration(1 + r.Int64N(int64(maxDelay))),
			Fraction: r.Float64() * 0.99,
			Flips:    1 + r.IntN(4),
			Seed:     r.Uint64(),
		}
	}
}

// Stats counts what a Proxy or Handler did.
type Stats struct {
	// Count is the number of connections (Proxy) or requests (Handler).
	Count uint64
	// Faults counts the faults applied, by kind (Pass not included).
	Faults map[Kind]uint64
	// BytesUp and BytesDown count the bytes forwarded towards the target
	// and back (Proxy: everything on the wire; Handler: bodies only).
	BytesUp, BytesDown uint64
}

func (s Stats) String() string {
	out := fmt.Sprintf("%d conns/requests, %d B up, %d B down", s.Count, s.BytesUp, s.BytesDown)
	for k := Kind(1); k < numKinds; k++ {
		if s.Faults[k] > 0 {
			out += fmt.Sprintf(", %s %d", k, s.Faults[k])
		}
	}
	return out
}

// stats is the shared bookkeeping of Proxy and Handler.
type stats struct {
	mu       sync.Mutex
	schedule Schedule
	s        Stats
}

// next counts a connection or request and returns its fault.
func (st *stats) next(supported func(Kind) bool) Fault {
	st.mu.Lock()
	n := st.s.Count
	st.s.Count++
	schedule := st.schedule
	st.mu.Unlock()
	var f Fault
	if schedule != nil {
		f = schedule(n)
	}
	if !supported(f.Kind) {
		f.Kind = Pass
	}
	if f.Kind != Pass {
		st.mu.Lock()
		if st.s.Faults == nil {
			st.s.Faults = map[Kind]uint64{}
		}
		st.s.Faults[f.Kind]++
		st.mu.Unlock()
	}
	return f
}

func (st *stats) setSchedule(s Schedule) {
	st.mu.Lock()
	st.schedule = s
	st.mu.Unlock()
}

func (st *stats) add(up, down int) {
	st.mu.Lock()
	st.s.BytesUp += uint64(up)
	st.s.BytesDown += uint64(down)
	st.mu.Unlock()
}

func (st *stats) snapshot() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.s
	s.Faults = make(map[Kind]uint64, len(st.s.Faults))
	for k, v := range st.s.Faults {
		s.Faults[k] = v
	}
	return s
}

// flipper flips bytes at chosen positions of a stream region.
type flipper struct {
	at  []int64 // stream offsets to flip
	xor []byte  // non-zero masks, one per offset
}

// newFlipper picks n offsets in [start, start+length) from seed. An empty
// region flips nothing.
func newFlipper(seed uint64, n int, start, length int64) flipper {
	var fl flipper
	if length <= 0 {
		return fl
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	for range min(int64(max(n, 1)), length) {
		at := start + r.Int64N(length)
		for slices.Contains(fl.at, at) { // two masks on one byte could cancel
			at = start + (at-start+1)%length
		}
		fl.at = append(fl.at, at)
		fl.xor = append(fl.xor, byte(1+r.IntN(255)))
	}
	return fl
}

// apply flips the chosen bytes of chunk, which starts at stream offset pos.
func (fl flipper) apply(chunk []byte, pos int64) {
	for i, at := range fl.at {
		if at >= pos && at < pos+int64(len(chunk)) {
			chunk[at-pos] ^= fl.xor[i]
		}
	}
}
