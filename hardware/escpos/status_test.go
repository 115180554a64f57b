package escpos_test

import (
	"bytes"
	"testing"

	"github.com/veedel/veedel/hardware"
	"github.com/veedel/veedel/hardware/escpos"
)

func TestStatusQueries(t *testing.T) {
	got := bytes.Join(escpos.StatusQueries(), nil)
	want := []byte{0x10, 0x04, 0x01, 0x10, 0x04, 0x02, 0x10, 0x04, 0x04}
	if !bytes.Equal(got, want) {
		t.Fatalf("got % X, want % X", got, want)
	}
	escpos.StatusQueries()[0][2] = 9
	if escpos.StatusQueries()[0][2] != 1 {
		t.Fatal("StatusQueries shares its slices between callers")
	}
}

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		printer, offline, paper byte
		want                    hardware.PrinterStatus
	}{
		{"OK", 0x12, 0x12, 0x12, hardware.PrinterStatus{Online: true}},
		{"PaperLow", 0x12, 0x12, 0x1E, hardware.PrinterStatus{Online: true, PaperLow: true}},
		{"PaperOut", 0x1A, 0x32, 0x72, hardware.PrinterStatus{PaperOut: true}},
		{"PaperOutSensorOnly", 0x1A, 0x12, 0x72, hardware.PrinterStatus{PaperOut: true}},
		{"PaperOutAndLow", 0x1A, 0x32, 0x7E, hardware.PrinterStatus{PaperOut: true, PaperLow: true}},
		{"CoverOpen", 0x1A, 0x16, 0x12, hardware.PrinterStatus{CoverOpen: true}},
		{"Error", 0x1A, 0x52, 0x12, hardware.PrinterStatus{Error: true}},
		{"OfflineNoCause", 0x1A, 0x12, 0x12, hardware.PrinterStatus{}},
		// Drawer pin (n=1 bit 2) and feed button (n=2 bit 3): ignored.
		{"IgnoredBits", 0x16, 0x1A, 0x12, hardware.PrinterStatus{Online: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := escpos.ParseStatusStrict(tc.printer, tc.offline, tc.paper)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if lax := escpos.ParseStatus(tc.printer, tc.offline, tc.paper); lax != got {
				t.Fatalf("ParseStatus %+v differs from ParseStatusStrict %+v", lax, got)
			}
		})
	}
}

func TestParseStatusStrict_NotAStatusByte(t *testing.T) {
	for _, b := range []byte{0x00, 0x10, 0x02, 0x13, 0x92, 0xFF, 'A'} {
		if escpos.IsStatusByte(b) {
			t.Errorf("IsStatusByte(0x%02X) = true", b)
		}
		for i := range 3 {
			args := [3]byte{0x12, 0x12, 0x12}
			args[i] = b
			if _, err := escpos.ParseStatusStrict(args[0], args[1], args[2]); err == nil {
				t.Errorf("reply 0x%02X at %d: want an error", b, i)
			}
		}
	}
}
