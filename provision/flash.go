package provision

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// Flash writes the disk image img to dst and the record into dst's
// provisioning partition, then reads the record back. dst is a block
// device (device true: every byte is written but slot B's, which holds
// nothing until the first update writes all of it) or a new image file
// (device false: written sparse, zeros are left as holes).
func Flash(img io.ReaderAt, imgSize int64, dst *os.File, device bool, rec *Record) error {
	enc, err := Encode(rec)
	if err != nil {
		return err
	}
	parts, err := ReadGPT(img)
	if err != nil {
		return err
	}
	prov, err := Find(parts, "provision")
	if err != nil {
		return err
	}
	if int64(len(enc)) > prov.Size {
		return fmt.Errorf("provisioning record (%d bytes) does not fit the %d-byte partition", len(enc), prov.Size)
	}
	rootB, err := Find(parts, "root-b")
	if err != nil {
		return err
	}
	if device {
		size, err := dst.Seek(0, io.SeekEnd)
		if err != nil {
			return err
		}
		if size < imgSize {
			return fmt.Errorf("the device holds %d MiB, the image needs %d MiB", size>>20, imgSize>>20)
		}
	}
	const chunk = 1 << 20
	buf := make([]byte, chunk)
	zero := make([]byte, chunk)
	for off := int64(0); off < imgSize; off += chunk {
		n := int(min(chunk, imgSize-off))
		if off >= rootB.Offset && off+int64(n) <= rootB.Offset+rootB.Size {
			continue
		}
		if _, err := img.ReadAt(buf[:n], off); err != nil && err != io.EOF {
			return fmt.Errorf("reading the image: %w", err)
		}
		if !device && bytes.Equal(buf[:n], zero[:n]) {
			continue
		}
		if _, err := dst.WriteAt(buf[:n], off); err != nil {
			return fmt.Errorf("writing: %w", err)
		}
	}
	if !device {
		if err := dst.Truncate(imgSize); err != nil {
			return err
		}
	}
	part := make([]byte, prov.Size)
	copy(part, enc)
	if _, err := dst.WriteAt(part, prov.Offset); err != nil {
		return fmt.Errorf("writing the provisioning record: %w", err)
	}
	if err := dst.Sync(); err != nil {
		return err
	}
	back := make([]byte, len(enc))
	if _, err := dst.ReadAt(back, prov.Offset); err != nil {
		return fmt.Errorf("reading back the provisioning record: %w", err)
	}
	if _, err := Decode(back); err != nil {
		return fmt.Errorf("reading back the provisioning record: %w", err)
	}
	return nil
}
