package notify

import (
	"errors"
	"strings"
	"unicode/utf16"
)

// Encoding is how an SMS's text travels: GSM 03.38 7-bit or UCS-2.
type Encoding int

const (
	GSM7 Encoding = iota // GSM 03.38 default alphabet with its extension table
	UCS2                 // UTF-16 big-endian, 16 bits per unit
)

func (e Encoding) String() string {
	if e == UCS2 {
		return "UCS-2"
	}
	return "GSM-7"
}

// Segment sizes (3GPP TS 23.040): a single SMS carries 160 septets or 70
// UCS-2 units; a part of a concatenated SMS loses 6 bytes to its user data
// header and carries 153 septets or 67 units.
const (
	gsmSingle  = 160
	gsmPart    = 153
	ucs2Single = 70
	ucs2Part   = 67
)

// escape is the GSM escape to the extension table.
const escape = 0x1B

// gsmBasic is the GSM 03.38 default alphabet, indexed by septet. 0x1B is
// the escape and has no character of its own.
var gsmBasic = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', -1, 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// gsmExtension maps the characters of the extension table to the septet
// that follows the escape.
var gsmExtension = map[rune]byte{
	'\f': 0x0A, '^': 0x14, '{': 0x28, '}': 0x29, '\\': 0x2F,
	'[': 0x3C, '~': 0x3D, ']': 0x3E, '|': 0x40, '€': 0x65,
}

// gsmIndex maps the basic table's characters to their septets.
var gsmIndex = func() map[rune]byte {
	m := make(map[rune]byte, 127)
	for i, r := range gsmBasic {
		if r >= 0 {
			m[r] = byte(i)
		}
	}
	return m
}()

// gsmSeptets returns the septets of r (one, or the escape and one), or nil
// when r is not in GSM 03.38.
func gsmSeptets(r rune) []byte {
	if b, ok := gsmIndex[r]; ok {
		return []byte{b}
	}
	if b, ok := gsmExtension[r]; ok {
		return []byte{escape, b}
	}
	return nil
}

// EncodeGSM7 returns text as unpacked GSM 03.38 septets (one byte each,
// extension characters as the escape and their septet), or false when a
// character has no GSM 03.38 form. Packing 8 septets into 7 bytes is the
// transport's business (a modem's PDU mode).
func EncodeGSM7(text string) ([]byte, bool) {
	out := make([]byte, 0, len(text))
	for _, r := range text {
		s := gsmSeptets(r)
		if s == nil {
			return nil, false
		}
		out = append(out, s...)
	}
	return out, true
}

// ErrSeptet is returned by DecodeGSM7 for a septet with no GSM 03.38
// character.
var ErrSeptet = errors.New("septet outside GSM 03.38")

// DecodeGSM7 returns the text of unpacked GSM 03.38 septets (one byte
// each, extension characters as the escape and their septet): the inverse
// of EncodeGSM7. A byte above 0x7F, an escape at the end or an escape
// before a septet the extension table leaves empty is ErrSeptet.
func DecodeGSM7(septets []byte) (string, error) {
	var sb strings.Builder
	for i := 0; i < len(septets); i++ {
		s := septets[i]
		if s == escape {
			i++
			if i == len(septets) {
				return "", ErrSeptet
			}
			r, ok := gsmExtensionRune(septets[i])
			if !ok {
				return "", ErrSeptet
			}
			sb.WriteRune(r)
			continue
		}
		if s >= 0x80 {
			return "", ErrSeptet
		}
		sb.WriteRune(gsmBasic[s])
	}
	return sb.String(), nil
}

// gsmExtensionRune returns the extension table's character for septet b.
func gsmExtensionRune(b byte) (rune, bool) {
	for r, s := range gsmExtension {
		if s == b {
			return r, true
		}
	}
	return 0, false
}

// EncodeUCS2 returns text as UTF-16 big-endian (characters beyond the
// basic plane as surrogate pairs, as phones read UCS-2 today).
func EncodeUCS2(text string) []byte {
	units := utf16.Encode([]rune(text))
	out := make([]byte, 0, 2*len(units))
	for _, u := range units {
		out = append(out, byte(u>>8), byte(u))
	}
	return out
}

// Message is a text ready to send: its encoding and the parts it needs.
type Message struct {
	Encoding Encoding
	// Parts are the texts of the segments, in order; one for a text that
	// fits a single SMS.
	Parts []string
	// Units is the length of the whole text in septets (GSM-7) or UTF-16
	// units (UCS-2).
	Units int
}

// Split chooses the encoding of text (GSM-7 when every character has a
// GSM 03.38 form, UCS-2 otherwise) and splits it into segments: GSM-7 160
// septets single or 153 per part, an extension character counting 2 and
// never split from its escape; UCS-2 70 units single or 67 per part, a
// surrogate pair never split. An empty text is one empty segment.
func Split(text string) Message {
	if septets, ok := EncodeGSM7(text); ok {
		return split(text, GSM7, len(septets), gsmSingle, gsmPart, func(r rune) int { return len(gsmSeptets(r)) })
	}
	return splitUCS2(text)
}

// SplitUCS2 splits text into UCS-2 segments (70 units single, 67 per
// part, a surrogate pair never split) whatever its characters, for a
// transport that cannot carry a GSM-7 text as Split chose it.
func SplitUCS2(text string) []string { return splitUCS2(text).Parts }

func splitUCS2(text string) Message {
	units := len(utf16.Encode([]rune(text)))
	return split(text, UCS2, units, ucs2Single, ucs2Part, utf16.RuneLen)
}

func split(text string, enc Encoding, total, single, part int, size func(rune) int) Message {
	m := Message{Encoding: enc, Units: total}
	if total <= single {
		m.Parts = []string{text}
		return m
	}
	start, used := 0, 0
	for i, r := range text {
		n := size(r)
		if used+n > part {
			m.Parts = append(m.Parts, text[start:i])
			start, used = i, 0
		}
		used += n
	}
	m.Parts = append(m.Parts, text[start:])
	return m
}
