package changelog_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"reflect"
	"testing"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/sync/changelog"
)

// testPayload stands in for a domain event payload.
type testPayload struct {
	N    int    `cbor:"1,keyasint"`
	Text string `cbor:"2,keyasint"`
}

// baseHLC is 2025-01-13 08:00 CET, a fixed start for every test clock.
const baseHLC = changelog.HLC(1736751600000) << 16

// mustChain returns entries 1…n of site's log, chained, with fixed times.
func mustChain(tb testing.TB, site string, n int) []changelog.Entry {
	tb.Helper()
	return mustChainText(tb, site, n, "")
}

// mustChainText is mustChain with a text in every payload, so that two
// chains of the same site can differ.
func mustChainText(tb testing.TB, site string, n int, text string) []changelog.Entry {
	tb.Helper()
	entries := make([]changelog.Entry, 0, n)
	var prev *changelog.Entry
	for i := range n {
		e, err := changelog.NewEntry(site, prev, baseHLC+changelog.HLC(i)<<16, "test.happened", fmt.Sprintf("thing/%d", i%3),
			testPayload{N: i, Text: text})
		if err != nil {
			tb.Fatalf("NewEntry %d: %v", i+1, err)
		}
		entries = append(entries, e)
		prev = &entries[len(entries)-1]
	}
	return entries
}

// reseal recomputes an entry's hash after a test changed it on purpose.
func reseal(tb testing.TB, e *changelog.Entry) {
	tb.Helper()
	h, err := e.ComputeHash()
	if err != nil {
		tb.Fatal(err)
	}
	e.Hash = h
}

func wantCode(tb testing.TB, err error, want string) {
	tb.Helper()
	if got := veedel.ErrorCode(err); got != want {
		tb.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
}

func TestNewEntry(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		first, err := changelog.NewEntry("kalk", nil, baseHLC, "queue.ticket_issued", "ticket/A001", testPayload{N: 1})
		if err != nil {
			t.Fatal(err)
		}
		if first.Seq != 1 || first.Prev != nil || first.Version != changelog.SchemaVersion || first.Site != "kalk" {
			t.Errorf("first entry = %+v, want seq 1, no prev, version %d, site kalk", first, changelog.SchemaVersion)
		}
		if got, want := len(first.Hash), 32; got != want {
			t.Errorf("hash length = %d, want %d", got, want)
		}
		if err := first.Verify(); err != nil {
			t.Errorf("Verify(first) = %v, want nil", err)
		}
		wantPayload, _ := changelog.Marshal(testPayload{N: 1})
		if !bytes.Equal(first.Payload, wantPayload) {
			t.Errorf("payload = %x, want %x", []byte(first.Payload), wantPayload)
		}

		second, err := changelog.NewEntry("kalk", &first, baseHLC+1, "queue.ticket_called", "ticket/A001", testPayload{N: 2})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := second.Seq, uint64(2); got != want {
			t.Errorf("second seq = %d, want %d", got, want)
		}
		if !bytes.Equal(second.Prev, first.Hash) {
			t.Errorf("second prev = %x, want first hash %x", second.Prev, first.Hash)
		}
		if !second.Follows(first.Seq, first.Hash) {
			t.Errorf("second.Follows(first) = false, want true")
		}
		if err := second.Verify(); err != nil {
			t.Errorf("Verify(second) = %v, want nil", err)
		}
		if bytes.Equal(first.Hash, second.Hash) {
			t.Errorf("two different entries have the same hash %x", first.Hash)
		}
	})

	t.Run("Follows", func(t *testing.T) {
		c := mustChain(t, "kalk", 3)
		for _, tc := range []struct {
			name string
			seq  uint64
			hash []byte
			want bool
		}{
			{"OK", 2, c[1].Hash, true},
			{"WrongSeq", 1, c[1].Hash, false},
			{"SameSeq", 3, c[1].Hash, false},
			{"WrongHash", 2, c[0].Hash, false},
			{"NoHash", 2, nil, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if got := c[2].Follows(tc.seq, tc.hash); got != tc.want {
					t.Errorf("Follows(%d, %x) = %v, want %v", tc.seq, tc.hash, got, tc.want)
				}
			})
		}
	})

	t.Run("ErrUnencodablePayload", func(t *testing.T) {
		if _, err := changelog.NewEntry("kalk", nil, baseHLC, "t", "e", make(chan int)); err == nil {
			t.Errorf("NewEntry with a channel payload: err = nil, want an error")
		}
	})
}

func TestVerify(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for _, e := range mustChain(t, "kalk", 5) {
			if err := e.Verify(); err != nil {
				t.Errorf("Verify(entry %d) = %v", e.Seq, err)
			}
		}
	})

	// Each change made after sealing must be detected.
	for _, tc := range []struct {
		name   string
		tamper func(e *changelog.Entry)
	}{
		{"ErrPayloadTampered", func(e *changelog.Entry) {
			p, _ := changelog.Marshal(testPayload{N: 99})
			e.Payload = p
		}},
		{"ErrPayloadBitFlip", func(e *changelog.Entry) {
			e.Payload = bytes.Clone(e.Payload)
			e.Payload[len(e.Payload)-1] ^= 1
		}},
		{"ErrTypeTampered", func(e *changelog.Entry) { e.Type = "test.other" }},
		{"ErrEntityTampered", func(e *changelog.Entry) { e.Entity = "thing/x" }},
		{"ErrSeqTampered", func(e *changelog.Entry) { e.Seq++ }},
		{"ErrPrevTampered", func(e *changelog.Entry) {
			e.Prev = bytes.Clone(e.Prev)
			e.Prev[0] ^= 0x80
		}},
		{"ErrHLCTampered", func(e *changelog.Entry) { e.HLC++ }},
		{"ErrSiteTampered", func(e *changelog.Entry) { e.Site = "porz" }},
		{"ErrHashTampered", func(e *changelog.Entry) {
			e.Hash = bytes.Clone(e.Hash)
			e.Hash[31] ^= 1
		}},
		{"ErrNoHash", func(e *changelog.Entry) { e.Hash = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustChain(t, "kalk", 2)[1]
			tc.tamper(&e)
			wantCode(t, e.Verify(), veedel.EINVALID)
		})
	}

	// Shape errors are refused even when the hash fits the content.
	for _, tc := range []struct {
		name   string
		index  int
		change func(e *changelog.Entry)
	}{
		{"ErrSeqZero", 0, func(e *changelog.Entry) { e.Seq = 0 }},
		{"ErrNoSite", 0, func(e *changelog.Entry) { e.Site = "" }},
		{"ErrNoType", 0, func(e *changelog.Entry) { e.Type = "" }},
		{"ErrFirstWithPrev", 0, func(e *changelog.Entry) { e.Prev = make([]byte, 32) }},
		{"ErrSecondWithoutPrev", 1, func(e *changelog.Entry) { e.Prev = nil }},
		{"ErrShortPrev", 1, func(e *changelog.Entry) { e.Prev = e.Prev[:16] }},
		{"ErrPayloadTooLarge", 0, func(e *changelog.Entry) {
			p, _ := changelog.Marshal(testPayload{Text: string(bytes.Repeat([]byte("x"), changelog.MaxPayloadBytes))})
			e.Payload = p
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustChain(t, "kalk", 2)[tc.index]
			tc.change(&e)
			reseal(t, &e)
			wantCode(t, e.Verify(), veedel.EINVALID)
		})
	}

	// Central accepts versions N-2…N (versions start at 1).
	t.Run("Versions", func(t *testing.T) {
		low := max(changelog.SchemaVersion-2, 1)
		for v := 0; v <= changelog.SchemaVersion+2; v++ {
			want := v >= low && v <= changelog.SchemaVersion
			t.Run(fmt.Sprintf("V%d", v), func(t *testing.T) {
				e := mustChain(t, "kalk", 1)[0]
				e.Version = uint(v)
				reseal(t, &e)
				err := e.Verify()
				if got := err == nil; got != want {
					t.Errorf("Verify(version %d) = %v, want accepted = %v (N = %d)", v, err, want, changelog.SchemaVersion)
				}
				if err != nil {
					wantCode(t, err, veedel.EINVALID)
				}
			})
		}
		e := mustChain(t, "kalk", 1)[0]
		e.Version = ^uint(0) // version+2 overflows
		reseal(t, &e)
		wantCode(t, e.Verify(), veedel.EINVALID)
	})
}

func TestMarshal(t *testing.T) {
	t.Run("Deterministic", func(t *testing.T) {
		// Core Deterministic Encoding sorts map keys by their encoding:
		// "a" (61 61) < "b" (61 62) < "aa" (62 61 61), whatever Go's map order.
		m := map[string]int{"b": 1, "aa": 3, "a": 2}
		want, _ := hex.DecodeString("a3616102616201626161" + "03")
		for range 20 {
			got, err := changelog.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Marshal(%v) = %x, want %x", m, got, want)
			}
		}
		// Integers use their shortest form.
		if got, _ := changelog.Marshal(uint64(23)); !bytes.Equal(got, []byte{0x17}) {
			t.Errorf("Marshal(23) = %x, want 17", got)
		}
		if got, _ := changelog.Marshal(uint64(500)); !bytes.Equal(got, []byte{0x19, 0x01, 0xf4}) {
			t.Errorf("Marshal(500) = %x, want 1901f4", got)
		}
	})

	t.Run("EntryRoundTrip", func(t *testing.T) {
		for _, e := range mustChain(t, "kalk", 3) {
			data, err := changelog.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := changelog.Marshal(e)
			if !bytes.Equal(data, again) {
				t.Fatalf("entry %d: Marshal gave %x, then %x", e.Seq, data, again)
			}
			var got changelog.Entry
			if err := changelog.Unmarshal(data, &got); err != nil {
				t.Fatalf("entry %d: Unmarshal: %v", e.Seq, err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Errorf("entry %d: round trip = %+v, want %+v", e.Seq, got, e)
			}
			if err := got.Verify(); err != nil {
				t.Errorf("entry %d: Verify after round trip = %v", e.Seq, err)
			}
			if h, _ := got.ComputeHash(); !bytes.Equal(h, e.Hash) {
				t.Errorf("entry %d: hash after round trip = %x, want %x", e.Seq, h, e.Hash)
			}
			if re, _ := changelog.Marshal(got); !bytes.Equal(re, data) {
				t.Errorf("entry %d: re-encoding = %x, want %x", e.Seq, re, data)
			}
		}
	})

	t.Run("PayloadDecodes", func(t *testing.T) {
		e := mustChainText(t, "kalk", 2, "hallo")[1]
		p, err := changelog.DecodePayload(&e, func(typ string) (any, bool) {
			if typ != "test.happened" {
				return nil, false
			}
			return &testPayload{}, true
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := *p.(*testPayload), (testPayload{N: 1, Text: "hallo"}); got != want {
			t.Errorf("payload = %+v, want %+v", got, want)
		}
		if _, err := changelog.DecodePayload(&e, func(string) (any, bool) { return nil, false }); err == nil {
			t.Errorf("DecodePayload of an unknown type: err = nil, want an error")
		}
	})
}
