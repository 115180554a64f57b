package escpos

import (
	"bytes"
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// maxQRData is what a version 40 code at error correction M holds in byte
// mode; longer data fits no QR code, printed natively or not.
const maxQRData = 2331

// quietZone is the white border the QR standard asks for, in modules.
const quietZone = 4

func writeQR(b *bytes.Buffer, data string, opt Options) error {
	if len(data) > maxQRData {
		return fmt.Errorf("escpos: status URL of %d bytes is too long for a QR code (at most %d)", len(data), maxQRData)
	}
	if opt.QR == QRRaster {
		return writeQRRaster(b, data, opt)
	}
	writeQRNative(b, data, opt.ModuleSize)
	return nil
}

// writeQRNative writes the GS ( k functions 165, 167, 169, 180 and 181 of
// QR model 2 (cn = 0x31), in the order Epson documents them.
func writeQRNative(b *bytes.Buffer, data string, moduleSize int) {
	qrFunc := func(params ...byte) {
		n := len(params)
		b.Write([]byte{gs, '(', 'k', byte(n), byte(n >> 8)})
		b.Write(params)
	}
	qrFunc(0x31, 0x41, 0x32, 0x00)                       // fn 165: model 2
	qrFunc(0x31, 0x43, byte(moduleSize))                 // fn 167: module size in dots
	qrFunc(0x31, 0x45, 0x31)                             // fn 169: error correction M (15 %)
	qrFunc(append([]byte{0x31, 0x50, 0x30}, data...)...) // fn 180: store
	qrFunc(0x31, 0x51, 0x30)                             // fn 181: print the stored code
}

// writeQRRaster draws the code itself as one GS v 0 image as wide as the
// paper, the code centred in it, so the result does not depend on whether
// the printer applies ESC a to images.
func writeQRRaster(b *bytes.Buffer, data string, opt Options) error {
	q, err := qrcode.New(data, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("escpos: QR code: %w", err)
	}
	// Draw the quiet zone ourselves rather than rely on the library's
	// default border width.
	q.DisableBorder = true
	modules := q.Bitmap()
	side := len(modules) + 2*quietZone // in modules
	scale := opt.ModuleSize
	for scale > 1 && side*scale > opt.Width {
		// Smaller modules rather than a code cut off at the paper's edge.
		scale--
	}
	if side*scale > opt.Width {
		return fmt.Errorf("escpos: QR code of %d modules does not fit %d dots", side, opt.Width)
	}
	rowBytes := opt.Width / 8
	height := side * scale
	left := (opt.Width - side*scale) / 2 // white dots before the code
	bits := make([]byte, 0, rowBytes*height)
	row := make([]byte, rowBytes)
	for y := 0; y < height; y++ {
		clear(row)
		my := y/scale - quietZone
		if my >= 0 && my < len(modules) {
			for mx, black := range modules[my] {
				if !black {
					continue
				}
				x0 := left + (mx+quietZone)*scale
				for x := x0; x < x0+scale; x++ {
					row[x/8] |= 0x80 >> (x % 8)
				}
			}
		}
		bits = append(bits, row...)
	}
	writeRaster(b, rowBytes, height, bits)
	return nil
}
