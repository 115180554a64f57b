// Package qrtest reads QR codes back for tests: a printed ticket's
// raster, a status page's PNG, a PDF's page as pdftoppm renders it. One
// reader for all of them, so every test tries the same readings.
package qrtest

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/png" // the PNGs the pages, printers and pdftoppm make
	"os"
	"os/exec"
	"strconv"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Decode reads the QR code in img. gozxing's finder-pattern search misses
// a few generated codes (about one run in eight, CI 2026-12-06: "(x, y) =
// (76, -4)"); the codes here are clean, so trying harder and then reading
// it as a pure barcode are fair further tries.
func Decode(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	var errs []error
	for _, hints := range []map[gozxing.DecodeHintType]any{
		nil,
		{gozxing.DecodeHintType_TRY_HARDER: true},
		{gozxing.DecodeHintType_PURE_BARCODE: true},
	} {
		r, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
		if err == nil {
			return r.GetText(), nil
		}
		errs = append(errs, err)
	}
	return "", fmt.Errorf("no QR code read: %w", errors.Join(errs...))
}

// DecodePNG reads the QR code in an encoded image (PNG).
func DecodePNG(data []byte) (string, error) {
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("not an image: %w", err)
	}
	return Decode(img)
}

// PDFPage renders the first page of the PDF file with poppler's pdftoppm
// (the path of the tool) at dpi, as a printer or scanner would see it,
// into prefix.png, and reads its QR code.
func PDFPage(pdftoppm, file string, dpi int, prefix string) (string, error) {
	if out, err := exec.Command(pdftoppm, "-r", strconv.Itoa(dpi), "-png", "-singlefile", file, prefix).CombinedOutput(); err != nil {
		return "", fmt.Errorf("pdftoppm: %v\n%s", err, out)
	}
	data, err := os.ReadFile(prefix + ".png")
	if err != nil {
		return "", err
	}
	return DecodePNG(data)
}
