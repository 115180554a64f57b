package modemsim

import (
	"errors"
	"strings"
	"unicode/utf16"

	"github.com/veedel/veedel/appliance/notify"
)

// submit is a decoded SMS-SUBMIT.
type submit struct {
	to         string
	enc        notify.Encoding
	text       string
	ref, total int // 0 when not concatenated
	seq        int
}

var errPDU = errors.New("invalid PDU")

// decodeSubmit decodes an SMS-SUBMIT with its SMSC address prefix; tpduLen
// is the AT+CMGS length, which must match.
func decodeSubmit(b []byte, tpduLen int) (submit, error) {
	var s submit
	if len(b) < 1 || len(b) < 1+int(b[0]) {
		return s, errPDU
	}
	b = b[1+int(b[0]):] // SMSC address
	if len(b) != tpduLen || len(b) < 7 {
		return s, errPDU
	}
	fo := b[0]
	if fo&0x03 != 0x01 {
		return s, errPDU
	}
	udhi := fo&0x40 != 0
	vpf := (fo >> 3) & 0x03
	b = b[2:] // first octet, TP-MR
	digits := int(b[0])
	n := 2 + (digits+1)/2
	if len(b) < n {
		return s, errPDU
	}
	to, err := decodeAddress(b[1], b[2:n], digits)
	if err != nil {
		return s, err
	}
	s.to = to
	b = b[n:]
	if len(b) < 2 {
		return s, errPDU
	}
	dcs := b[1]
	b = b[2:]
	switch vpf {
	case 2:
		b = b[min(1, len(b)):]
	case 1, 3:
		b = b[min(7, len(b)):]
	}
	if len(b) < 1 {
		return s, errPDU
	}
	udl := int(b[0])
	ud := b[1:]
	var hlen int // octets of header incl. its length octet
	if udhi {
		if len(ud) < 1 || len(ud) < 1+int(ud[0]) {
			return s, errPDU
		}
		hlen = 1 + int(ud[0])
		s.ref, s.total, s.seq = concatIE(ud[1:hlen])
	}
	switch dcs & 0x0C {
	case 0x00:
		s.enc = notify.GSM7
		skip := (hlen*8 + 6) / 7 // header septets with fill
		if (udl*7+7)/8 != len(ud) || udl < skip {
			return s, errPDU
		}
		s.text, err = notify.DecodeGSM7(unpack(ud, udl)[skip:])
	case 0x08:
		s.enc = notify.UCS2
		if udl != len(ud) || (udl-hlen)%2 != 0 {
			return s, errPDU
		}
		s.text = decodeUCS2(ud[hlen:])
	default:
		return s, errPDU
	}
	return s, err
}

// concatIE finds a concatenation element (8- or 16-bit reference).
func concatIE(h []byte) (ref, total, seq int) {
	for len(h) >= 2 {
		iei, l := h[0], int(h[1])
		if len(h) < 2+l {
			break
		}
		v := h[2 : 2+l]
		switch {
		case iei == 0x00 && l == 3:
			return int(v[0]), int(v[1]), int(v[2])
		case iei == 0x08 && l == 4:
			return int(v[0])<<8 | int(v[1]), int(v[2]), int(v[3])
		}
		h = h[2+l:]
	}
	return 0, 0, 0
}

func decodeAddress(toa byte, b []byte, digits int) (string, error) {
	var sb strings.Builder
	if toa&0x70 == 0x10 {
		sb.WriteByte('+')
	}
	for i := 0; i < digits; i++ {
		d := b[i/2] >> (4 * (i % 2)) & 0x0F
		if d > 9 {
			return "", errPDU
		}
		sb.WriteByte('0' + d)
	}
	return sb.String(), nil
}

// unpack returns n septets packed LSB first.
func unpack(b []byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		p := 7 * i
		v := uint16(b[p/8])
		if p/8+1 < len(b) {
			v |= uint16(b[p/8+1]) << 8
		}
		out[i] = byte(v>>(p%8)) & 0x7F
	}
	return out
}

func decodeUCS2(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(u))
}
