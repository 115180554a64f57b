package modem

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/veedel/veedel/appliance/notify"
)

func TestEncodeAddress(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, number, want string
	}{
		{"InternationalOdd", "+4915123456789", "0D91945121436587F9"},
		{"InternationalEven", "+491511234567", "0C91945111325476"},
		{"National", "01511234567", "0B811015214365F7"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeAddress(tt.number)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.ToUpper(hex.EncodeToString(got)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "+", "+49 151", "+49151abc", "+" + strings.Repeat("1", 21)} {
		if _, err := encodeAddress(bad); err == nil {
			t.Errorf("encodeAddress(%q): no error", bad)
		} else if strings.Contains(err.Error(), "151") {
			t.Errorf("error %q names digits", err)
		}
	}
}

func TestPackSeptets(t *testing.T) {
	t.Parallel()
	s, _ := notify.EncodeGSM7("hellohello")
	if got, want := strings.ToUpper(hex.EncodeToString(packSeptets(s, 0))), "E8329BFD4697D9EC37"; got != want {
		t.Errorf("hellohello = %s, want %s", got, want)
	}
}

func TestSubmitPDU(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		text string
		enc  notify.Encoding
		want string
	}{
		{"GSM7", "hellohello", notify.GSM7, "1100" + "0D91945121436587F9" + "0000AA" + "0A" + "E8329BFD4697D9EC37"},
		// € is ESC 0x65: two septets.
		{"Euro", "€", notify.GSM7, "1100" + "0D91945121436587F9" + "0000AA" + "02" + "9B32"},
		{"Euro5", "5 €", notify.GSM7, "1100" + "0D91945121436587F9" + "0000AA" + "04" + "35D0A60C"},
		{"UCS2", "Größe – ş", notify.UCS2, "1100" + "0D91945121436587F9" + "0008AA" + "12" +
			"0047007200F600DF0065002020130020015F"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pdu, err := submitPDU("+4915123456789", tt.enc, tt.text, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.ToUpper(hex.EncodeToString(pdu)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// unpack is an independent reading of packed septets: septet i at bit
// fill+7i.
func unpack(b []byte, fill, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		var v byte
		for k := 0; k < 7; k++ {
			p := fill + 7*i + k
			if b[p/8]&(1<<(p%8)) != 0 {
				v |= 1 << k
			}
		}
		out[i] = v
	}
	return out
}

func TestSubmitPDUConcatenated(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("0123456789", 30) // 300 septets: 153 + 147
	m := notify.Split(text)
	if len(m.Parts) != 2 || m.Encoding != notify.GSM7 {
		t.Fatalf("split = %d parts %v", len(m.Parts), m.Encoding)
	}
	for i, part := range m.Parts {
		pdu, err := submitPDU("+4915123456789", m.Encoding, part, &concat{ref: 0x2A, total: 2, seq: byte(i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		head := strings.ToUpper(hex.EncodeToString(pdu[:15]))
		if want := "5100" + "0D91945121436587F9" + "0000AA"; head[:len(want)] != want {
			t.Errorf("part %d head = %s, want %s…", i+1, head, want)
		}
		udl := int(pdu[14])
		if got, want := udl, 7+len(part); got != want {
			t.Errorf("part %d UDL = %d, want %d", i+1, got, want)
		}
		ud := pdu[15:]
		if got, want := strings.ToUpper(hex.EncodeToString(ud[:6])), "0500032A02"+[]string{"01", "02"}[i]; got != want {
			t.Errorf("part %d UDH = %s, want %s", i+1, got, want)
		}
		if got, want := len(ud), (49+7*len(part)+7)/8; got != want {
			t.Errorf("part %d UD octets = %d, want %d", i+1, got, want)
		}
		// One fill bit: the first septet starts at bit 49 (septet 7).
		if ud[6]&1 != 0 {
			t.Errorf("part %d fill bit set", i+1)
		}
		septets := unpack(ud, 49, len(part))
		want, _ := notify.EncodeGSM7(part)
		if string(septets) != string(want) {
			t.Errorf("part %d septets differ", i+1)
		}
	}
}

func TestParseAddress(t *testing.T) {
	t.Parallel()
	path, baud, mode, err := parseAddress("serial:///dev/ttyUSB0?baud=9600&mode=text")
	if err != nil || path != "/dev/ttyUSB0" || baud != 9600 || mode != Text {
		t.Errorf("got %q %d %v %v", path, baud, mode, err)
	}
	path, baud, mode, err = parseAddress("serial:///dev/serial/by-id/usb-modem")
	if err != nil || path != "/dev/serial/by-id/usb-modem" || baud != DefaultBaud || mode != PDU {
		t.Errorf("defaults: got %q %d %v %v", path, baud, mode, err)
	}
	for _, bad := range []string{"", "tcp://host:1", "serial://dev/ttyUSB0", "serial:///", "serial:///dev/x?baud=fast",
		"serial:///dev/x?baud=-1", "serial:///dev/x?mode=fax", "serial:///dev/x?parity=even",
		"serial://user:secret@/dev/x", "serial://user@/dev/x", "serial:///dev/x#frag",
		"serial:///dev/x?baud=9600&baud=115200", "serial:///dev/x?mode=pdu&mode=text", "serial:///dev/x?baud=%zz"} {
		if _, _, _, err := parseAddress(bad); !errors.Is(err, ErrBadAddress) {
			t.Errorf("%q: err = %v, want ErrBadAddress", bad, err)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: error names the password: %v", bad, err)
		}
	}
}
