package pdf_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/veedel/veedel/internal/pdf"
)

// An Arabic letter: the text is shaped (joined forms, not the isolated
// letters the font's cmap gives each character) and in visual order, and
// it stays text: pdftotext finds the words again (the presentation forms
// fold back to the letters under NFKC; read right to left, the line is
// the sentence). VEEDEL_SCREENSHOTS keeps the page as PNG.
func TestLetterArabic(t *testing.T) {
	body := "يرجى إحضار دفتر التطعيم إلى موعد الفحص"
	l := pdf.Letter{
		Lang: "ar", Title: "دعوة", Letterhead: []string{"مدينة كولونيا", "دائرة الصحة"},
		ReturnLine: "Stadt Köln · Gesundheitsamt · Neumarkt 15–21 · 50667 Köln",
		Recipient:  []string{"Ayşe Yıldırım", "Venloer Straße 12", "50825 Köln"},
		Info:       []pdf.Fact{{Label: "رمز الحجز", Value: "EPZD4KGBA2"}, {Label: "التاريخ", Value: "06.12.2026"}},
		Subject:    "دعوة لفحص دخول المدرسة",
		Body:       []string{"أعزائي الوالدين،", body},
		Facts:      []pdf.Fact{{Label: "الطفل", Value: "إليف سوده"}, {Label: "العام الدراسي", Value: "2027/28"}},
		Closing:    []string{"مع أطيب التحيات"},
		Date:       time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC),
	}
	b, err := pdf.Bytes(l)
	if err != nil {
		t.Fatal(err)
	}
	file := save(t, b)
	got := text(t, file)
	// pdftotext puts the lines in logical order again (with embedding
	// marks); the presentation forms fold back to the letters.
	all := strings.Map(func(r rune) rune {
		if r >= 0x202a && r <= 0x202e || r == 0x200e || r == 0x200f {
			return -1
		}
		return r
	}, norm.NFKC.String(got))
	for _, want := range []string{body, "دعوة لفحص دخول المدرسة", "مع أطيب التحيات", "رمز الحجز", "EPZD4KGBA2", "50825 Köln", "2027/28"} {
		if !strings.Contains(all, want) {
			t.Errorf("the Arabic letter's text lacks %q:\n%s", want, got)
		}
	}
	// Shaped: joined forms (Arabic Presentation Forms-B), not only the
	// isolated letters of the Arabic block.
	if !strings.ContainsFunc(got, func(r rune) bool { return r >= 0xFE70 && r <= 0xFEFF }) {
		t.Errorf("no joined forms in the Arabic letter: unshaped:\n%s", got)
	}
	if dir := os.Getenv("VEEDEL_SCREENSHOTS"); dir != "" {
		if out, err := exec.Command(poppler(t, "pdftoppm"), "-r", "80", "-png", "-singlefile", file, filepath.Join(dir, "letter-ar")).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v\n%s", err, out)
		}
	}
}

// A right-to-left line with numbers and units (the parents' report's
// measurement): each number stays with its unit, read left to right, and
// the groups come in the line's order, right to left, as the bidi
// algorithm sets them when each is an isolate: on the page, from the
// left, "وزن طبيعي :BMI 16,2 ;21,0 kg ,117,5 cm". pdftotext reads it back
// with each group whole.
func TestLetterArabicNumbersWithUnits(t *testing.T) {
	value := "117,5 cm, 21,0 kg; BMI 16,2: وزن طبيعي"
	l := pdf.Letter{
		Lang: "ar", Title: "تقرير", Letterhead: []string{"مدينة كولونيا"}, ReturnLine: "Stadt Köln",
		Recipient: []string{"Ruth Wendelbrecht"}, Subject: "نتيجة فحص دخول المدرسة",
		Facts: []pdf.Fact{{Label: "القياس", Value: value}},
		Date:  time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC),
	}
	b, err := pdf.Bytes(l)
	if err != nil {
		t.Fatal(err)
	}
	file := save(t, b)
	got := norm.NFKC.String(text(t, file))
	for _, want := range []string{"117,5 cm", "21,0 kg", "BMI 16,2", "وزن طبيعي"} {
		if !strings.Contains(got, want) {
			t.Errorf("the measurement lacks %q whole:\n%s", want, got)
		}
	}
	// Visual order, left to right on the page, as pdftotext gives a run
	// of left-to-right text: the groups right to left.
	if !strings.Contains(got, "BMI 16,2 ;21,0 kg ,117,5 cm") {
		t.Errorf("the measurement's groups are not in right-to-left order:\n%s", got)
	}
	if dir := os.Getenv("VEEDEL_SCREENSHOTS"); dir != "" {
		if out, err := exec.Command(poppler(t, "pdftoppm"), "-r", "110", "-png", "-singlefile", file, filepath.Join(dir, "letter-ar-units")).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v\n%s", err, out)
		}
	}
}
