package changelog

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/veedel/veedel"
)

// Download is central's answer to a site's downlink poll: the entries of
// the site's outbound log after the site's cursor, in order, as one chain
// (Entry.Site is the receiving site; Prev links them like a site's own log).
// Head is the highest seq of the outbound log, so the site can tell that
// more is waiting when the answer was bounded. Error explains a refusal.
//
// SMS carries the SMS sign-ups citizens left on central's status page for
// this site's tickets (see SMSHandover). It is optional and added after
// version 1 shipped: the decoder ignores map keys it does not know, so a
// site built before it decodes a download with key 5 as before and never
// sees the sign-ups (central only offers them to polls that ask, see
// docs/SYNC.md), and a download without key 5 decodes into this type with
// SMS nil. No version bump: the envelope's meaning is unchanged.
type Download struct {
	Version uint          `cbor:"0,keyasint"`
	Site    string        `cbor:"1,keyasint"`
	Entries []Entry       `cbor:"2,keyasint"`
	Head    uint64        `cbor:"3,keyasint"`
	Error   string        `cbor:"4,keyasint,omitempty"`
	SMS     []SMSHandover `cbor:"5,keyasint,omitempty" json:"-"`
}

// SMSHandover hands one SMS sign-up from central's status page to the
// ticket's site. Phone is personal data: central keeps a hand-over only in
// memory until the site confirms it by ID, and it never enters a change-log,
// a URL or a log line (LogValue masks it). ID is random and carries nothing
// personal, so a site may confirm it in its signed poll's query.
//
// On the wire the number travels sealed to the receiving site (SealSMS):
// Phone is empty and Sealed holds it, readable only with the site's box
// key; the site opens it (OpenSMS) before it applies the hand-over.
type SMSHandover struct {
	ID     string `cbor:"0,keyasint"`
	Ticket string `cbor:"1,keyasint"`           // the site's ticket ID
	Phone  string `cbor:"2,keyasint,omitempty"` // E.164, as notify.NormalizeMobile makes it; empty on the wire
	Lang   string `cbor:"3,keyasint"`           // the citizen's language, for the texts
	Sealed []byte `cbor:"4,keyasint,omitempty"` // the number sealed to the site (SealSMS)
}

// Bounds of the hand-overs of one download.
const (
	MaxSMSHandovers  = 100
	MaxHandoverIDLen = 64
)

// LogValue keeps the number out of logs, whatever logs a hand-over.
func (h SMSHandover) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", h.ID), slog.String("ticket", h.Ticket))
}

// String keeps the number out of fmt's %v as well.
func (h SMSHandover) String() string { return "sms-handover " + h.ID + " ticket " + h.Ticket }

// GoString keeps the number out of fmt's %#v.
func (h SMSHandover) GoString() string {
	return fmt.Sprintf("changelog.SMSHandover{ID:%q, Ticket:%q, Phone:\"…\", Lang:%q}", h.ID, h.Ticket, h.Lang)
}

// ValidHandoverID reports whether id may be a hand-over's ID: 1 to 64
// characters of A-Z, a-z, 0-9, '-' and '_' (base64url), so that it travels
// in a query unescaped and cannot smuggle anything into a signed target.
func ValidHandoverID(id string) bool {
	if id == "" || len(id) > MaxHandoverIDLen {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}

// ValidPhone reports whether phone is a mobile number as a hand-over may
// carry it: E.164, '+' and 8 to 15 digits (notify.NormalizeMobile makes
// such numbers).
func ValidPhone(phone string) bool {
	return len(phone) >= 9 && len(phone) <= 16 && strings.HasPrefix(phone, "+") && strings.Trim(phone[1:], "0123456789") == ""
}

// Validate checks a hand-over's shape; whether its ticket may take it is
// the site's decision. Central checks each before it offers it, the site
// each it receives (a malformed one is refused alone, see
// Download.Validate). No message carries the number.
func (h SMSHandover) Validate() error {
	switch {
	case !ValidHandoverID(h.ID):
		return veedel.Errorf(veedel.EINVALID, "download: sms hand-over with a malformed id")
	case h.Ticket == "" || len(h.Ticket) > 128:
		return veedel.Errorf(veedel.EINVALID, "download: sms hand-over %s without a ticket", h.ID)
	case !ValidPhone(h.Phone):
		return veedel.Errorf(veedel.EINVALID, "download: sms hand-over %s with a malformed number", h.ID)
	case len(h.Lang) > 8:
		return veedel.Errorf(veedel.EINVALID, "download: sms hand-over %s with a malformed language", h.ID)
	}
	return nil
}

// Validate checks the download's own shape and every entry's hash and site,
// and that the entries form one chain; whether they continue the site's
// inbox is the site's check. Of the SMS hand-overs it checks only their
// number: the receiver checks each with SMSHandover.Validate and refuses a
// malformed one alone, so that it cannot hold up the entries.
func (d *Download) Validate() error {
	b := Batch{Version: d.Version, Site: d.Site, Entries: d.Entries}
	if err := b.Validate(); err != nil {
		return err
	}
	if n := len(d.Entries); n > 0 && d.Entries[n-1].Seq > d.Head {
		return veedel.Errorf(veedel.EINVALID, "download: entry %d beyond head %d", d.Entries[n-1].Seq, d.Head)
	}
	if len(d.SMS) > MaxSMSHandovers {
		return veedel.Errorf(veedel.EINVALID, "download: %d sms hand-overs, at most %d", len(d.SMS), MaxSMSHandovers)
	}
	for _, h := range d.SMS {
		if len(h.Sealed) > maxSealedLen {
			return veedel.Errorf(veedel.EINVALID, "download: sms hand-over with %d sealed bytes, at most %d", len(h.Sealed), maxSealedLen)
		}
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
