package changelog_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/sync/changelog"
)

// mustMarshal encodes v or fails the test.
func mustMarshal(tb testing.TB, v any) []byte {
	tb.Helper()
	data, err := changelog.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// mustBatchBytes encodes a valid batch of site with entries 1…n.
func mustBatchBytes(tb testing.TB, site string, n int) []byte {
	tb.Helper()
	return mustMarshal(tb, changelog.Batch{Version: changelog.SchemaVersion, Site: site, Entries: mustChain(tb, site, n), SentAt: baseHLC + 99<<16})
}

// withDuplicateKey returns the encoded map m (fewer than 23 pairs) with one
// more pair appended; key and value are encoded already.
func withDuplicateKey(tb testing.TB, m []byte, key, value []byte) []byte {
	tb.Helper()
	if m[0] < 0xa0 || m[0] >= 0xb7 {
		tb.Fatalf("not a small map: header %x", m[0])
	}
	out := append([]byte{m[0] + 1}, m[1:]...)
	out = append(out, key...)
	return append(out, value...)
}

// batchFromParts encodes a batch map by hand, so that a test can put
// non-canonical or forbidden items inside; entries is the encoded array.
func batchFromParts(tb testing.TB, site string, entries []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	b.WriteByte(0xa4) // map of 4 pairs
	b.WriteByte(0x00)
	b.Write(mustMarshal(tb, uint(changelog.SchemaVersion)))
	b.WriteByte(0x01)
	b.Write(mustMarshal(tb, site))
	b.WriteByte(0x02)
	b.Write(entries)
	b.WriteByte(0x03)
	b.Write(mustMarshal(tb, baseHLC))
	return b.Bytes()
}

// entryArray encodes entries as a definite array of their encodings.
func entryArray(tb testing.TB, items ...[]byte) []byte {
	tb.Helper()
	if len(items) > 23 {
		tb.Fatal("too many items for a one-byte array header")
	}
	return append([]byte{0x80 + byte(len(items))}, bytes.Join(items, nil)...)
}

func TestUnmarshal(t *testing.T) {
	entry := mustChain(t, "kalk", 1)[0]
	valid := mustMarshal(t, entry)

	t.Run("OK", func(t *testing.T) {
		var got changelog.Entry
		if err := changelog.Unmarshal(valid, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, entry) {
			t.Errorf("got %+v, want %+v", got, entry)
		}
	})

	for _, tc := range []struct {
		name string
		data []byte
	}{
		// {1: "a", 1: "b"}
		{"ErrDuplicateKey", []byte{0xa2, 0x01, 0x61, 'a', 0x01, 0x61, 'b'}},
		// The same key twice with the same value is still a duplicate.
		{"ErrDuplicateKeySameValue", withDuplicateKey(t, valid, []byte{0x01}, mustMarshal(t, "kalk"))},
		// {_ 1: "a"}: indefinite-length map
		{"ErrIndefiniteMap", []byte{0xbf, 0x01, 0x61, 'a', 0xff}},
		// {4: (_ "a", "b")}: indefinite-length text string
		{"ErrIndefiniteString", []byte{0xa1, 0x04, 0x7f, 0x61, 'a', 0x61, 'b', 0xff}},
		// {6: [_ 1]}: indefinite-length array inside a field
		{"ErrIndefiniteArray", []byte{0xa1, 0x06, 0x9f, 0x01, 0xff}},
		// {7: (_ h'00')}: indefinite-length byte string
		{"ErrIndefiniteBytes", []byte{0xa1, 0x07, 0x5f, 0x41, 0x00, 0xff}},
		// {4: 0("2025-01-13")}: tags are not part of the format
		{"ErrTag", append([]byte{0xa1, 0x04, 0xc0, 0x6a}, "2025-01-13"...)},
		{"ErrTrailingBytes", append(bytes.Clone(valid), 0x00)},
		{"ErrTwoValues", append(bytes.Clone(valid), valid...)},
		{"ErrInvalidUTF8", []byte{0xa1, 0x01, 0x62, 0xff, 0xfe}},
		{"ErrEmpty", nil},
		// A map claiming 2^32 pairs.
		{"ErrHugeMap", []byte{0xba, 0xff, 0xff, 0xff, 0xff}},
		// A byte string claiming 2^62 bytes.
		{"ErrHugeBytes", []byte{0xa1, 0x07, 0x5b, 0x40, 0, 0, 0, 0, 0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got changelog.Entry
			wantCode(t, changelog.Unmarshal(tc.data, &got), veedel.EINVALID)
		})
	}

	t.Run("ErrTruncated", func(t *testing.T) {
		for n := range len(valid) {
			var got changelog.Entry
			if err := changelog.Unmarshal(valid[:n], &got); veedel.ErrorCode(err) != veedel.EINVALID {
				t.Fatalf("Unmarshal of the first %d of %d bytes: err = %v, want %s", n, len(valid), err, veedel.EINVALID)
			}
		}
	})

	t.Run("ErrTooDeep", func(t *testing.T) {
		// 20 nested arrays around a 0, into an untyped value.
		data := append(bytes.Repeat([]byte{0x81}, 20), 0x00)
		var got any
		wantCode(t, changelog.Unmarshal(data, &got), veedel.EINVALID)
	})
}

func TestReadBatch(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		want := mustChain(t, "kalk", 5)
		data := mustMarshal(t, changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: want, SentAt: baseHLC})
		b, err := changelog.ReadBatch(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if b.Site != "kalk" || b.SentAt != baseHLC || b.Version != changelog.SchemaVersion {
			t.Errorf("batch = site %q, sent %d, version %d; want kalk, %d, %d", b.Site, b.SentAt, b.Version, baseHLC, changelog.SchemaVersion)
		}
		if !reflect.DeepEqual(b.Entries, want) {
			t.Errorf("entries = %+v, want %+v", b.Entries, want)
		}
	})

	t.Run("Heartbeat", func(t *testing.T) {
		b, err := changelog.ReadBatch(bytes.NewReader(mustBatchBytes(t, "kalk", 0)))
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Entries) != 0 {
			t.Errorf("entries = %d, want 0", len(b.Entries))
		}
	})

	t.Run("ErrTooLarge", func(t *testing.T) {
		// A valid batch followed by padding beyond the limit: refused for
		// its size, whatever the content.
		data := mustBatchBytes(t, "kalk", 3)
		r := io.MultiReader(bytes.NewReader(data), io.LimitReader(zeros{}, changelog.MaxBatchBytes))
		_, err := changelog.ReadBatch(r)
		wantCode(t, err, veedel.EINVALID)
		if !strings.Contains(err.Error(), "larger than") {
			t.Errorf("err = %v, want the size error", err)
		}
	})

	t.Run("ErrTooLargeStopsReading", func(t *testing.T) {
		// An endless stream must not be read to its end.
		r := &countingReader{r: zeros{}}
		_, err := changelog.ReadBatch(r)
		wantCode(t, err, veedel.EINVALID)
		if got, limit := r.n, int64(changelog.MaxBatchBytes)+64<<10; got > limit {
			t.Errorf("read %d bytes of an endless stream, want at most about %d", got, limit)
		}
	})

	t.Run("ErrTooManyEntries", func(t *testing.T) {
		data := mustBatchBytes(t, "kalk", changelog.MaxBatchEntries+1)
		if len(data) > changelog.MaxBatchBytes {
			t.Fatalf("test batch is %d bytes; it must stay under the byte limit to test the entry limit", len(data))
		}
		_, err := changelog.ReadBatch(bytes.NewReader(data))
		wantCode(t, err, veedel.EINVALID)
	})

	t.Run("ErrReader", func(t *testing.T) {
		_, err := changelog.ReadBatch(io.MultiReader(bytes.NewReader([]byte{0xa4}), errReader{}))
		wantCode(t, err, veedel.EINVALID)
	})

	t.Run("ErrTruncated", func(t *testing.T) {
		data := mustBatchBytes(t, "kalk", 3)
		for n := range len(data) {
			if b, err := changelog.ReadBatch(bytes.NewReader(data[:n])); err == nil {
				t.Fatalf("ReadBatch of the first %d of %d bytes = %+v, want an error", n, len(data), b)
			}
		}
	})

	t.Run("ErrTrailingBytes", func(t *testing.T) {
		data := append(mustBatchBytes(t, "kalk", 2), 0xf6)
		_, err := changelog.ReadBatch(bytes.NewReader(data))
		wantCode(t, err, veedel.EINVALID)
	})

	t.Run("ErrDuplicateKey", func(t *testing.T) {
		data := withDuplicateKey(t, mustBatchBytes(t, "kalk", 2), []byte{0x01}, mustMarshal(t, "kalk"))
		_, err := changelog.ReadBatch(bytes.NewReader(data))
		wantCode(t, err, veedel.EINVALID)
	})

	t.Run("ErrDuplicateKeyInEntry", func(t *testing.T) {
		c := mustChain(t, "kalk", 2)
		second := withDuplicateKey(t, mustMarshal(t, c[1]), []byte{0x04}, mustMarshal(t, c[1].Type))
		data := batchFromParts(t, "kalk", entryArray(t, mustMarshal(t, c[0]), second))
		_, err := changelog.ReadBatch(bytes.NewReader(data))
		wantCode(t, err, veedel.EINVALID)
	})

	t.Run("ErrIndefiniteEntries", func(t *testing.T) {
		c := mustChain(t, "kalk", 2)
		var entries []byte
		entries = append(entries, 0x9f)
		entries = append(entries, mustMarshal(t, c[0])...)
		entries = append(entries, mustMarshal(t, c[1])...)
		entries = append(entries, 0xff)
		// The same batch with a definite array is fine: only the
		// indefinite length is refused.
		if _, err := changelog.ReadBatch(bytes.NewReader(batchFromParts(t, "kalk", entryArray(t, mustMarshal(t, c[0]), mustMarshal(t, c[1]))))); err != nil {
			t.Fatalf("control batch: %v", err)
		}
		_, err := changelog.ReadBatch(bytes.NewReader(batchFromParts(t, "kalk", entries)))
		wantCode(t, err, veedel.EINVALID)
	})

	t.Run("ErrOtherSite", func(t *testing.T) {
		b := changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: mustChain(t, "porz", 2)}
		_, err := changelog.ReadBatch(bytes.NewReader(mustMarshal(t, b)))
		wantCode(t, err, veedel.EINVALID)
	})

	t.Run("ErrTamperedEntry", func(t *testing.T) {
		c := mustChain(t, "kalk", 3)
		c[1].Entity = "thing/forged"
		b := changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: c}
		_, err := changelog.ReadBatch(bytes.NewReader(mustMarshal(t, b)))
		wantCode(t, err, veedel.EINVALID)
	})

	t.Run("ErrNotABatch", func(t *testing.T) {
		for _, data := range [][]byte{{0x80}, {0x01}, mustMarshal(t, "kalk"), mustMarshal(t, map[uint]string{1: ""})} {
			if _, err := changelog.ReadBatch(bytes.NewReader(data)); veedel.ErrorCode(err) != veedel.EINVALID {
				t.Errorf("ReadBatch(%x): err = %v, want %s", data, err, veedel.EINVALID)
			}
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }
