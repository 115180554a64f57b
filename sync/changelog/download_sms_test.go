package changelog_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/veedel/veedel/sync/changelog"
)

// downloadV1 is the shape of Download that sites built before the SMS
// hand-over decode into: keys 0 to 4 only.
type downloadV1 struct {
	Version uint              `cbor:"0,keyasint"`
	Site    string            `cbor:"1,keyasint"`
	Entries []changelog.Entry `cbor:"2,keyasint"`
	Head    uint64            `cbor:"3,keyasint"`
	Error   string            `cbor:"4,keyasint,omitempty"`
}

// TestDownloadSMSWireCompatible: the optional key 5 keeps the download
// readable both ways, so sites and central upgrade one by one.
func TestDownloadSMSWireCompatible(t *testing.T) {
	entries := fixtureEntries(t)
	t.Run("OlderShapeDecodes", func(t *testing.T) {
		data, err := changelog.Marshal(downloadV1{Version: 1, Site: "kalk", Entries: entries, Head: uint64(len(entries))})
		if err != nil {
			t.Fatal(err)
		}
		d, err := changelog.ReadDownload(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		if d.SMS != nil || len(d.Entries) != len(entries) {
			t.Errorf("got %d entries and sms %v, want %d and none", len(d.Entries), d.SMS, len(entries))
		}
	})
	t.Run("WithoutSMSSameBytes", func(t *testing.T) {
		// omitempty: a download without hand-overs is byte for byte what
		// version 1 sent.
		old, _ := changelog.Marshal(downloadV1{Version: 1, Site: "kalk", Entries: entries, Head: 7})
		now, _ := changelog.Marshal(changelog.Download{Version: 1, Site: "kalk", Entries: entries, Head: 7})
		if !bytes.Equal(old, now) {
			t.Error("a download without sms hand-overs encodes differently from version 1")
		}
	})
	t.Run("OlderSiteIgnoresSMS", func(t *testing.T) {
		data, err := changelog.Marshal(changelog.Download{Version: 1, Site: "kalk", Entries: entries, Head: 7,
			SMS: []changelog.SMSHandover{{ID: "h1", Ticket: "2026-10-05/B001", Phone: "+4915123456789", Lang: "de"}}})
		if err != nil {
			t.Fatal(err)
		}
		var d downloadV1
		if err := changelog.Unmarshal(data, &d); err != nil {
			t.Fatalf("a site of the older shape cannot read a download with sms hand-overs: %v", err)
		}
		if d.Head != 7 || len(d.Entries) != len(entries) {
			t.Errorf("got head %d and %d entries", d.Head, len(d.Entries))
		}
		nd, err := changelog.ReadDownload(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if err := nd.Validate(); err != nil {
			t.Fatal(err)
		}
		if len(nd.SMS) != 1 || nd.SMS[0].Phone != "+4915123456789" {
			t.Errorf("got %+v", nd.SMS)
		}
	})
}

func TestSMSHandoverValidate(t *testing.T) {
	ok := changelog.SMSHandover{ID: "aZ09-_", Ticket: "2026-10-05/B001", Phone: "+4915123456789", Lang: "de"}
	for name, mod := range map[string]func(*changelog.SMSHandover){
		"ErrID":         func(h *changelog.SMSHandover) { h.ID = "a&b=c" },
		"ErrIDEmpty":    func(h *changelog.SMSHandover) { h.ID = "" },
		"ErrIDLong":     func(h *changelog.SMSHandover) { h.ID = strings.Repeat("a", 65) },
		"ErrTicket":     func(h *changelog.SMSHandover) { h.Ticket = "" },
		"ErrPhone":      func(h *changelog.SMSHandover) { h.Phone = "015123456789" },
		"ErrPhoneText":  func(h *changelog.SMSHandover) { h.Phone = "+49151abc6789" },
		"ErrPhoneShort": func(h *changelog.SMSHandover) { h.Phone = "+12" },
		"ErrLang":       func(h *changelog.SMSHandover) { h.Lang = strings.Repeat("x", 9) },
	} {
		t.Run(name, func(t *testing.T) {
			h := ok
			mod(&h)
			if err := h.Validate(); err == nil {
				t.Error("valid, want an error")
			} else if strings.Contains(err.Error(), "23456789") {
				t.Errorf("number in %q", err)
			}
			// The download stays valid: the site refuses the hand-over
			// alone, and the entries are not held up.
			d := changelog.Download{Version: 1, Site: "kalk", Entries: fixtureEntries(t), Head: 7, SMS: []changelog.SMSHandover{ok, h}}
			if err := d.Validate(); err != nil {
				t.Errorf("download with one malformed hand-over: %v, want valid", err)
			}
		})
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("OK: %v", err)
	}
	d := changelog.Download{Version: 1, Site: "kalk", SMS: make([]changelog.SMSHandover, changelog.MaxSMSHandovers+1)}
	if err := d.Validate(); err == nil {
		t.Errorf("download with %d hand-overs valid, want an error", len(d.SMS))
	}
	// Neither slog nor fmt shows the number.
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "h", ok)
	if s := buf.String() + fmt.Sprint(ok) + fmt.Sprintf("%v %s %#v %+v", ok, ok, ok, ok) + fmt.Sprintf("%#v", []changelog.SMSHandover{ok}); strings.Contains(s, "23456789") {
		t.Errorf("number in %q", s)
	}
	if s := fmt.Sprintf("%#v", ok); !strings.Contains(s, ok.ID) || !strings.Contains(s, ok.Ticket) {
		t.Errorf("%%#v = %q, want the id and the ticket", s)
	}
}
