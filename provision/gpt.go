package provision

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"unicode/utf16"
)

// SectorSize is the image's logical sector size (its GPT is laid out in
// 512-byte sectors, which USB sticks, SATA and NVMe disks present).
const SectorSize = 512

// Partition is one GPT entry: its name and byte range.
type Partition struct {
	Name   string
	Offset int64
	Size   int64
}

// ReadGPT reads the primary GPT of a disk image or device.
func ReadGPT(r io.ReaderAt) ([]Partition, error) {
	hdr := make([]byte, SectorSize)
	if _, err := r.ReadAt(hdr, SectorSize); err != nil {
		return nil, fmt.Errorf("reading the GPT header: %w", err)
	}
	if !bytes.Equal(hdr[:8], []byte("EFI PART")) {
		return nil, errors.New("no GPT (not a Veedel image?)")
	}
	hsize := binary.LittleEndian.Uint32(hdr[12:])
	if hsize < 92 || hsize > SectorSize {
		return nil, errors.New("GPT header has a bad size")
	}
	h := append([]byte(nil), hdr[:hsize]...)
	want := binary.LittleEndian.Uint32(h[16:])
	binary.LittleEndian.PutUint32(h[16:], 0)
	if crc32.ChecksumIEEE(h) != want {
		return nil, errors.New("GPT header is damaged (CRC mismatch)")
	}
	start := int64(binary.LittleEndian.Uint64(hdr[72:]))
	n := binary.LittleEndian.Uint32(hdr[80:])
	esize := binary.LittleEndian.Uint32(hdr[84:])
	if n > 1024 || esize < 128 || esize > 4096 {
		return nil, errors.New("GPT has a bad partition table size")
	}
	table := make([]byte, int(n)*int(esize))
	if _, err := r.ReadAt(table, start*SectorSize); err != nil {
		return nil, fmt.Errorf("reading the GPT entries: %w", err)
	}
	if crc32.ChecksumIEEE(table) != binary.LittleEndian.Uint32(hdr[88:]) {
		return nil, errors.New("GPT partition table is damaged (CRC mismatch)")
	}
	var parts []Partition
	for i := 0; i < int(n); i++ {
		e := table[i*int(esize) : (i+1)*int(esize)]
		if bytes.Equal(e[:16], make([]byte, 16)) {
			continue
		}
		first := int64(binary.LittleEndian.Uint64(e[32:]))
		last := int64(binary.LittleEndian.Uint64(e[40:]))
		u := make([]uint16, 36)
		for j := range u {
			u[j] = binary.LittleEndian.Uint16(e[56+2*j:])
		}
		for len(u) > 0 && u[len(u)-1] == 0 {
			u = u[:len(u)-1]
		}
		parts = append(parts, Partition{Name: string(utf16.Decode(u)), Offset: first * SectorSize, Size: (last - first + 1) * SectorSize})
	}
	return parts, nil
}

// Find is the partition with the name, from ReadGPT.
func Find(parts []Partition, name string) (Partition, error) {
	for _, p := range parts {
		if p.Name == name {
			return p, nil
		}
	}
	return Partition{}, fmt.Errorf("the image has no partition %q (not a Veedel image?)", name)
}
