package notify_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/veedel/veedel/appliance/notify"
)

func TestSplit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		text     string
		encoding notify.Encoding
		units    int
		parts    []int // length of each part in septets or UTF-16 units
	}{
		{"Empty", "", notify.GSM7, 0, []int{0}},
		{"German", "Ihre Nummer A042: noch ca. 10 Minuten", notify.GSM7, 37, []int{37}},
		{"Umlauts", "äöüÄÖÜß", notify.GSM7, 7, []int{7}},
		{"AccentsInBasicTable", "é è ù ì ò Ç É à ñ Ñ å Å ø Ø æ Æ", notify.GSM7, 31, []int{31}},
		{"EuroCountsTwo", "5 €", notify.GSM7, 4, []int{4}},
		{"ExtensionTable", "€[]{}\\~^|", notify.GSM7, 18, []int{18}},
		{"Single160", strings.Repeat("a", 160), notify.GSM7, 160, []int{160}},
		{"Concatenated161", strings.Repeat("a", 161), notify.GSM7, 161, []int{153, 8}},
		{"Concatenated306", strings.Repeat("a", 306), notify.GSM7, 306, []int{153, 153}},
		{"Concatenated307", strings.Repeat("a", 307), notify.GSM7, 307, []int{153, 153, 1}},
		{"Euros80", strings.Repeat("€", 80), notify.GSM7, 160, []int{160}},
		// 152 septets then a euro: the escape must not end part one.
		{"EscapeNotSplit", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 10), notify.GSM7, 164, []int{152, 12}},
		{"Turkish", "Numaranız A042: yaklaşık 10 dakika kaldı", notify.UCS2, 40, []int{40}},
		{"Arabic", "رقمك A042", notify.UCS2, 9, []int{9}},
		{"UCS2Single70", strings.Repeat("ş", 70), notify.UCS2, 70, []int{70}},
		{"UCS2Concatenated71", strings.Repeat("ş", 71), notify.UCS2, 71, []int{67, 4}},
		{"UCS2Concatenated134", strings.Repeat("ş", 134), notify.UCS2, 134, []int{67, 67}},
		// 66 units then an emoji (a surrogate pair): the pair moves to part two.
		{"SurrogateNotSplit", strings.Repeat("ş", 66) + "😀" + strings.Repeat("ş", 5), notify.UCS2, 73, []int{66, 7}},
		{"EmojiOnly35", strings.Repeat("😀", 35), notify.UCS2, 70, []int{70}},
		{"Emoji36", strings.Repeat("😀", 36), notify.UCS2, 72, []int{66, 6}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := notify.Split(tt.text)
			if got, want := m.Encoding, tt.encoding; got != want {
				t.Errorf("encoding = %v, want %v", got, want)
			}
			if got, want := m.Units, tt.units; got != want {
				t.Errorf("units = %d, want %d", got, want)
			}
			var sizes []int
			for _, p := range m.Parts {
				sizes = append(sizes, units(t, m.Encoding, p))
			}
			if got, want := sizes, tt.parts; !equal(got, want) {
				t.Errorf("part sizes = %v, want %v", got, want)
			}
			if got := strings.Join(m.Parts, ""); got != tt.text {
				t.Errorf("parts joined = %q, want the text", got)
			}
		})
	}
}

func units(t *testing.T, enc notify.Encoding, part string) int {
	t.Helper()
	if enc == notify.GSM7 {
		s, ok := notify.EncodeGSM7(part)
		if !ok {
			t.Fatalf("part %q is not GSM-7", part)
		}
		return len(s)
	}
	return len(notify.EncodeUCS2(part)) / 2
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEncodeGSM7(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		text string
		want []byte
	}{
		{"@A", []byte{0x00, 0x41}},
		{"Ä ß ü", []byte{0x5B, 0x20, 0x1E, 0x20, 0x7E}},
		{"€", []byte{0x1B, 0x65}},
		{"[~]", []byte{0x1B, 0x3C, 0x1B, 0x3D, 0x1B, 0x3E}},
		{"{|}\\^", []byte{0x1B, 0x28, 0x1B, 0x40, 0x1B, 0x29, 0x1B, 0x2F, 0x1B, 0x14}},
		{"é\n", []byte{0x05, 0x0A}},
	} {
		got, ok := notify.EncodeGSM7(tt.text)
		if !ok || !bytes.Equal(got, tt.want) {
			t.Errorf("EncodeGSM7(%q) = % X, %v; want % X", tt.text, got, ok, tt.want)
		}
	}
	for _, text := range []string{"ş", "ı", "ğ", "`", "ê", "😀", "رقم"} {
		if _, ok := notify.EncodeGSM7(text); ok {
			t.Errorf("EncodeGSM7(%q) is ok, want not GSM-7", text)
		}
	}
}

func TestEncodeUCS2(t *testing.T) {
	t.Parallel()
	got := notify.EncodeUCS2("ş😀")
	want := []byte{0x01, 0x5F, 0xD8, 0x3D, 0xDE, 0x00}
	if !bytes.Equal(got, want) {
		t.Errorf("EncodeUCS2 = % X, want % X", got, want)
	}
	if n := len(utf16.Encode([]rune("😀"))); n != 2 {
		t.Fatalf("emoji is %d units", n)
	}
}

func TestDecodeGSM7(t *testing.T) {
	t.Parallel()
	// Every septet of the basic table and every extension character round-trips.
	var all []byte
	for s := byte(0); s < 0x80; s++ {
		if s != 0x1B {
			all = append(all, s)
		}
	}
	for _, s := range []byte{0x0A, 0x14, 0x28, 0x29, 0x2F, 0x3C, 0x3D, 0x3E, 0x40, 0x65} {
		all = append(all, 0x1B, s)
	}
	text, err := notify.DecodeGSM7(all)
	if err != nil {
		t.Fatalf("DecodeGSM7: %v", err)
	}
	if got, ok := notify.EncodeGSM7(text); !ok || !bytes.Equal(got, all) {
		t.Errorf("EncodeGSM7(DecodeGSM7(all)) = % X, %v; want % X", got, ok, all)
	}
	for _, text := range []string{"", "@A", "Ä ß ü", "€ [~] {|}\\^", "é\n\f", "A042 bitte zu Platz 3"} {
		septets, ok := notify.EncodeGSM7(text)
		if !ok {
			t.Fatalf("EncodeGSM7(%q) not ok", text)
		}
		if got, err := notify.DecodeGSM7(septets); err != nil || got != text {
			t.Errorf("DecodeGSM7(EncodeGSM7(%q)) = %q, %v", text, got, err)
		}
	}
	for _, bad := range [][]byte{{0x80}, {0x41, 0x1B}, {0x1B, 0x41}, {0x1B, 0x1B}} {
		if _, err := notify.DecodeGSM7(bad); err != notify.ErrSeptet {
			t.Errorf("DecodeGSM7(% X) err = %v, want ErrSeptet", bad, err)
		}
	}
}

func TestSplitUCS2(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("€", 140) // GSM-7 by Split
	parts := notify.SplitUCS2(text)
	if got, want := len(parts), 3; got != want {
		t.Fatalf("parts = %d, want %d", got, want)
	}
	if strings.Join(parts, "") != text {
		t.Error("parts joined differ")
	}
	if parts := notify.SplitUCS2("€"); len(parts) != 1 || parts[0] != "€" {
		t.Errorf("SplitUCS2(€) = %q", parts)
	}
	emoji := strings.Repeat("a", 66) + strings.Repeat("😀", 3)
	for i, p := range notify.SplitUCS2(emoji) {
		if n := len(utf16.Encode([]rune(p))); n > 67 {
			t.Errorf("part %d is %d units", i+1, n)
		}
	}
}
