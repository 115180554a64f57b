package changelog

import (
	"io"

	"github.com/veedel/veedel"
)

// Download is central's answer to a site's downlink poll: the entries of
// the site's outbound log after the site's cursor, in order, as one chain
// (Entry.Site is the receiving site; Prev links them like a site's own log).
// Head is the highest seq of the outbound log, so the site can tell that
// more is waiting when the answer was bounded. Error explains a refusal.
type Download struct {
	Version uint    `cbor:"0,keyasint"`
	Site    string  `cbor:"1,keyasint"`
	Entries []Entry `cbor:"2,keyasint"`
	Head    uint64  `cbor:"3,keyasint"`
	Error   string  `cbor:"4,keyasint,omitempty"`
}

// Validate checks the download's own shape and every entry's hash and site,
// and that the entries form one chain; whether they continue the site's
// inbox is the site's check.
func (d *Download) Validate() error {
	b := Batch{Version: d.Version, Site: d.Site, Entries: d.Entries}
	if err := b.Validate(); err != nil {
		return err
	}
	if n := len(d.Entries); n > 0 && d.Entries[n-1].Seq > d.Head {
		return veedel.Errorf(veedel.EINVALID, "download: entry %d beyond head %d", d.Entries[n-1].Seq, d.Head)
	}
	return nil
}

// ReadDownload reads and decodes one download from r, reading at most
// MaxBatchBytes. It does not validate: a refusal (with Error set) carries
// no entries and may lack a version.
func ReadDownload(r io.Reader) (*Download, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBatchBytes+1))
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "download unreadable: %v", err)
	}
	if len(data) > MaxBatchBytes {
		return nil, veedel.Errorf(veedel.EINVALID, "download larger than %d bytes", MaxBatchBytes)
	}
	var d Download
	if err := Unmarshal(data, &d); err != nil {
		return nil, err
	}
	return &d, nil
}
