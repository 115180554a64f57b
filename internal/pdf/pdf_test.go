package pdf_test

import (
	"bytes"
	"fmt"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/internal/pdf"
	"github.com/veedel/veedel/internal/qrtest"
)

// poppler returns the path of a poppler-utils tool; the test is skipped
// without it, except in CI (.ci/run installs poppler-utils).
func poppler(tb testing.TB, tool string) string {
	tb.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s not installed (Debian package poppler-utils)", tool)
		}
		tb.Skipf("%s not installed (Debian package poppler-utils)", tool)
	}
	return p
}

func letter() pdf.Letter {
	return pdf.Letter{
		Lang:       "de",
		Title:      "Anschreiben UK7M3QX9P",
		Letterhead: []string{"Stadt Köln", "Kundenzentrum Kalk", "Kalker Hauptstraße 247–273", "51103 Köln"},
		ReturnLine: "Stadt Köln · Kundenzentrum Kalk · Kalker Hauptstraße 247–273 · 51103 Köln",
		Recipient:  []string{"Ayşe Yıldırım-Schäfer", "Venloer Straße 12", "50672 Köln"},
		Info:       []pdf.Fact{{Label: "Bestellcode", Value: "UK7M3QX9P"}, {Label: "Datum", Value: "06.12.2026"}},
		Subject:    "Ihre Bestellung: Meldebescheinigung",
		Body:       []string{"Sehr geehrte Damen und Herren,", "anbei erhalten Sie die bestellte Urkunde."},
		Facts:      []pdf.Fact{{Label: "Urkunde", Value: "Meldebescheinigung"}, {Label: "Exemplare", Value: "2"}, {Label: "Gebühr", Value: "20,00 €"}},
		Closing:    []string{"Mit freundlichen Grüßen", "Ihre Stadt Köln"},
		Footer:     []string{"Stadt Köln · Kundenzentrum Kalk"},
		Date:       time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC),
	}
}

func slip() pdf.Slip {
	return pdf.Slip{
		Lang: "de", Title: "Abholschein UK7M3QX9P",
		Letterhead: []string{"Stadt Köln", "Kundenzentrum Kalk"},
		Heading:    "Abholschein",
		Code:       "UK7M3QX9P", QR: "UK7M3QX9P",
		Facts: []pdf.Fact{{Label: "Urkunde", Value: "Geburtsurkunde"}, {Label: "Name", Value: "Ayşe Yıldırım-Schäfer"}, {Label: "Zu zahlen", Value: "18,00 €"}},
		Notes: []string{"Bitte bringen Sie einen Ausweis mit."},
		Date:  time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC),
	}
}

func save(tb testing.TB, b []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "doc.pdf")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

func text(tb testing.TB, file string) string {
	tb.Helper()
	out, err := exec.Command(poppler(tb, "pdftotext"), "-layout", file, "-").CombinedOutput()
	if err != nil {
		tb.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

func TestLetter(t *testing.T) {
	b, err := pdf.Bytes(letter())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", b[:min(len(b), 20)])
	}
	file := save(t, b)
	got := text(t, file)
	for _, want := range []string{"Ayşe Yıldırım-Schäfer", "UK7M3QX9P", "Venloer Straße 12", "50672 Köln", "Meldebescheinigung", "20,00 €", "Kalker Hauptstraße"} {
		if !strings.Contains(got, want) {
			t.Errorf("letter text lacks %q:\n%s", want, got)
		}
	}
	// The font travels in the file: the machine's fonts play no part.
	fonts, err := exec.Command(poppler(t, "pdffonts"), file).CombinedOutput()
	if err != nil {
		t.Fatalf("pdffonts: %v\n%s", err, fonts)
	}
	for _, line := range strings.Split(string(fonts), "\n")[2:] {
		if f := strings.Fields(line); len(f) > 0 && !strings.Contains(line, " yes ") {
			t.Errorf("font not embedded: %s", line)
		}
	}
	t.Logf("letter: %d bytes", len(b))
}

// TestLetterAddressWindow: the address sits in the window of a DL
// envelope (DIN 5008 form B: 20 mm from the left, 45 mm from the top,
// 85 × 45 mm), read back from the rendered page with its coordinates.
func TestLetterAddressWindow(t *testing.T) {
	inWindow(t, letter(), "Yıldırım-Schäfer", "Venloer", "50672")
}

// TestLetterLongNameWraps: a name too long for one line even at 8 pt (the
// register takes 120 characters of given names and 80 of family name)
// wraps between words and stays in the window.
func TestLetterLongNameWraps(t *testing.T) {
	l := letter()
	l.Recipient[0] = "Maria-Magdalena Anneliese Çiğdem Zoë Ευαγγελία Aleksandra Ngozi " + strings.Repeat("Wiederkehr ", 6) + "Oberschwarzenbach-Yıldırım"
	inWindow(t, l, "Maria-Magdalena", "Ευαγγελία", "Oberschwarzenbach-Yıldırım", "Venloer", "50672")
	// More than the window's six lines is refused, never set outside it.
	l.Recipient = append(l.Recipient, "c/o Hausverwaltung", "Hinterhaus, 3. Etage")
	l.Recipient[0] += " " + strings.Repeat("Verylongname ", 12)
	if _, err := pdf.Bytes(l); veedel.ErrorCode(err) != veedel.EINVALID || !strings.Contains(err.Error(), "window holds 6") {
		t.Fatalf("an address of more than six lines: %v", err)
	}
}

// inWindow checks that words lie in the window of a DL envelope.
func inWindow(t *testing.T, l pdf.Letter, words ...string) {
	t.Helper()
	b, err := pdf.Bytes(l)
	if err != nil {
		t.Fatal(err)
	}
	file := save(t, b)
	out, err := exec.Command(poppler(t, "pdftotext"), "-bbox", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext -bbox: %v\n%s", err, out)
	}
	const pt = 72 / 25.4 // points per millimetre
	for _, word := range words {
		i := strings.Index(string(out), ">"+word+"<")
		if i < 0 {
			t.Fatalf("%q not in the page:\n%s", word, out)
		}
		line := string(out)[strings.LastIndex(string(out)[:i], "<word"):i]
		var xMin, yMin, xMax, yMax float64
		if _, err := fmt.Sscanf(line, `<word xMin="%f" yMin="%f" xMax="%f" yMax="%f"`, &xMin, &yMin, &xMax, &yMax); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if xMin < 20*pt || xMax > 105*pt || yMin < 45*pt || yMax > 90*pt {
			t.Errorf("%q at (%.1f, %.1f)–(%.1f, %.1f) mm: outside the window (20–105, 45–90 mm)", word, xMin/pt, yMin/pt, xMax/pt, yMax/pt)
		}
	}
}

func TestLetterTooManyAddressLines(t *testing.T) {
	l := letter()
	l.Recipient = []string{"1", "2", "3", "4", "5", "6", "7"}
	if _, err := pdf.Bytes(l); err == nil {
		t.Fatal("seven address lines accepted")
	}
}

func TestSlipQRDecodes(t *testing.T) {
	b, err := pdf.Bytes(slip())
	if err != nil {
		t.Fatal(err)
	}
	file := save(t, b)
	got := text(t, file)
	for _, want := range []string{"Abholschein", "UK7M3QX9P", "Ayşe Yıldırım-Schäfer", "18,00 €", "Geburtsurkunde"} {
		if !strings.Contains(got, want) {
			t.Errorf("slip text lacks %q:\n%s", want, got)
		}
	}
	if code := decodePage(t, file, 150); code != "UK7M3QX9P" {
		t.Errorf("QR code reads %q, want UK7M3QX9P", code)
	}
}

// decodePage rasterises a PDF's first page at dpi (as a printer or a
// scanner would see it) and reads its QR code.
func decodePage(tb testing.TB, file string, dpi int) string {
	tb.Helper()
	text, err := qrtest.PDFPage(poppler(tb, "pdftoppm"), file, dpi, filepath.Join(tb.TempDir(), "page"))
	if err != nil {
		tb.Fatalf("the slip's QR code: %v", err)
	}
	return text
}

func BenchmarkLetter(b *testing.B) {
	l := letter()
	for b.Loop() {
		if _, err := pdf.Bytes(l); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSlip(b *testing.B) {
	s := slip()
	for b.Loop() {
		if _, err := pdf.Bytes(s); err != nil {
			b.Fatal(err)
		}
	}
}
