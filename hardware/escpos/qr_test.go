package escpos_test

import (
	"bytes"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/veedel/veedel/hardware"
	"github.com/veedel/veedel/hardware/escpos"
	"github.com/veedel/veedel/internal/qrtest"
)

func TestQRNative_StoreLength(t *testing.T) {
	// 300 bytes: the store function's length needs its high byte.
	url := "https://termine.stadt-koeln.de/t/" + strings.Repeat("z", 300-33)
	b := MustTicket(t, hardware.Ticket{StatusURL: url}, escpos.Options{})
	store := []byte{0x1D, 0x28, 0x6B, 0x2F, 0x01, 0x31, 0x50, 0x30} // 303 = 0x012F
	i := bytes.Index(b, store)
	if i < 0 {
		t.Fatalf("no store function with length 2F 01 in\n% X", b)
	}
	if got := string(b[i+len(store) : i+len(store)+len(url)]); got != url {
		t.Fatalf("stored %q, want the URL", got)
	}
	print := []byte{0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30}
	if !bytes.HasPrefix(b[i+len(store)+len(url):], print) {
		t.Fatal("the print function does not follow the stored data")
	}
}

func TestQRNative_ModuleSize(t *testing.T) {
	b := MustTicket(t, hardware.Ticket{StatusURL: "https://x"}, escpos.Options{ModuleSize: 9})
	if !bytes.Contains(b, []byte{0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x09}) {
		t.Fatal("no module size 9")
	}
}

// raster is one GS v 0 image read back from a ticket.
type raster struct {
	rowBytes, height int
	bits             []byte
}

func (r raster) black(x, y int) bool {
	return r.bits[y*r.rowBytes+x/8]&(0x80>>(x%8)) != 0
}

// MustRaster finds the ticket's only GS v 0 image and checks that it ends
// where the ticket's tail (LF, feed, cut) begins.
func MustRaster(tb testing.TB, b []byte) raster {
	tb.Helper()
	i := bytes.Index(b, []byte{0x1D, 0x76, 0x30, 0x00})
	if i < 0 || bytes.Contains(b, []byte{0x1D, 0x28, 0x6B}) {
		tb.Fatal("want one GS v 0 image and no GS ( k")
	}
	h := b[i+4 : i+8]
	r := raster{rowBytes: int(h[0]) | int(h[1])<<8, height: int(h[2]) | int(h[3])<<8}
	start := i + 8
	end := start + r.rowBytes*r.height
	if end > len(b) {
		tb.Fatalf("image of %dx%d bytes runs past the ticket's end", r.rowBytes, r.height)
	}
	r.bits = b[start:end]
	if tail := b[end:]; !bytes.Equal(tail, []byte{0x0A, 0x1B, 0x64, 0x03, 0x1D, 0x56, 0x42, 0x00}) {
		tb.Fatalf("after the image: % X", tail)
	}
	return r
}

func (r raster) image() image.Image {
	img := image.NewGray(image.Rect(0, 0, r.rowBytes*8, r.height))
	for y := 0; y < r.height; y++ {
		for x := 0; x < r.rowBytes*8; x++ {
			c := color.Gray{Y: 0xFF}
			if r.black(x, y) {
				c.Y = 0
			}
			img.SetGray(x, y, c)
		}
	}
	return img
}

func decodeQR(tb testing.TB, img image.Image) string {
	tb.Helper()
	text, err := qrtest.Decode(img)
	if err != nil {
		tb.Fatalf("decode the raster QR code: %v", err)
	}
	return text
}

func TestQRRaster_Decodes(t *testing.T) {
	long := "https://termine.stadt-koeln.de/t/" + strings.Repeat("q", 300)
	for _, tc := range []struct {
		name string
		url  string
		opt  escpos.Options
	}{
		{"80mm", "https://termine.stadt-koeln.de/t/tk_3f9a1c7e5b2d", escpos.Options{QR: escpos.QRRaster}},
		{"58mm", "https://termine.stadt-koeln.de/t/tk_3f9a1c7e5b2d", escpos.Options{QR: escpos.QRRaster, Width: 384}},
		// Too wide at module size 6 for 58 mm paper: drawn smaller.
		{"58mmLong", long, escpos.Options{QR: escpos.QRRaster, Width: 384}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := MustTicket(t, hardware.Ticket{StatusURL: tc.url}, tc.opt)
			r := MustRaster(t, b)
			width := tc.opt.Width
			if width == 0 {
				width = 576
			}
			if r.rowBytes*8 != width {
				t.Fatalf("image is %d dots wide, want the paper's %d", r.rowBytes*8, width)
			}
			if got := decodeQR(t, r.image()); got != tc.url {
				t.Fatalf("decoded %q, want %q", got, tc.url)
			}
		})
	}
}

func TestQRRaster_CentredWithQuietZone(t *testing.T) {
	b := MustTicket(t, hardware.Ticket{StatusURL: "https://x.de/t/1"}, escpos.Options{QR: escpos.QRRaster})
	r := MustRaster(t, b)
	left, right, top := r.rowBytes*8, -1, -1
	for y := 0; y < r.height; y++ {
		for x := 0; x < r.rowBytes*8; x++ {
			if r.black(x, y) {
				left, right = min(left, x), max(right, x)
				if top < 0 {
					top = y
				}
			}
		}
	}
	// 4 modules of 6 dots of quiet zone on every side, and the square
	// centred in the paper's width.
	pad := (576 - r.height) / 2
	if top != 24 {
		t.Fatalf("code starts at row %d, want 24", top)
	}
	if wantL, wantR := pad+24, pad+r.height-24-1; left != wantL || right != wantR {
		t.Fatalf("code spans dots %d to %d, want %d to %d", left, right, wantL, wantR)
	}
}
