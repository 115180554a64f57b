package changelog_test

import (
	"bytes"
	"testing"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/sync/changelog"
)

// FuzzReadBatch feeds arbitrary bytes to ReadBatch, the first code that
// touches what a site uploads. It must never panic, must refuse with
// EINVALID, and whatever it accepts must encode again to a batch that is
// accepted and encodes to the same bytes (so hashes stay stable).
//
// Besides the seeds below, testdata/fuzz/FuzzReadBatch holds a valid batch,
// a truncated one and one with a duplicate map key.
func FuzzReadBatch(f *testing.F) {
	valid := mustBatchBytes(f, "kalk", 3)
	c := mustChain(f, "kalk", 2)
	for _, seed := range [][]byte{
		valid,
		mustBatchBytes(f, "kalk", 0),
		mustBatchBytes(f, "porz", 1),
		valid[:len(valid)/2],
		append(bytes.Clone(valid), 0x00),
		withDuplicateKey(f, valid, []byte{0x01}, mustMarshal(f, "kalk")),
		batchFromParts(f, "kalk", entryArray(f, mustMarshal(f, c[0]), mustMarshal(f, c[1]))),
		batchFromParts(f, "kalk", append(append([]byte{0x9f}, mustMarshal(f, c[0])...), 0xff)),
		batchFromParts(f, "kalk", entryArray(f, mustMarshal(f, c[1]), mustMarshal(f, c[0]))),
		mustMarshal(f, changelog.Ack{Site: "kalk", Acked: 3}),
		{},
		{0xa0},
		{0xbf, 0xff},
		{0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := changelog.ReadBatch(bytes.NewReader(data))
		if err != nil {
			if code := veedel.ErrorCode(err); code != veedel.EINVALID {
				t.Fatalf("ReadBatch refused with code %q (%v), want %q", code, err, veedel.EINVALID)
			}
			if b != nil {
				t.Fatalf("ReadBatch returned a batch together with error %v", err)
			}
			return
		}
		if err := b.Validate(); err != nil {
			t.Fatalf("accepted batch does not validate: %v", err)
		}
		enc, err := changelog.Marshal(b)
		if err != nil {
			t.Fatalf("accepted batch does not encode: %v", err)
		}
		again, err := changelog.ReadBatch(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("re-encoded batch %x refused: %v", enc, err)
		}
		if err := again.Validate(); err != nil {
			t.Fatalf("re-encoded batch does not validate: %v", err)
		}
		enc2, err := changelog.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n first %x\nsecond %x", enc, enc2)
		}
		if len(again.Entries) != len(b.Entries) {
			t.Fatalf("entries after re-encoding = %d, want %d", len(again.Entries), len(b.Entries))
		}
		for i := range b.Entries {
			if !bytes.Equal(again.Entries[i].Hash, b.Entries[i].Hash) {
				t.Fatalf("entry %d: hash after re-encoding = %x, want %x", b.Entries[i].Seq, again.Entries[i].Hash, b.Entries[i].Hash)
			}
		}
	})
}
