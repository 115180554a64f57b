package modem

import (
	"errors"

	"github.com/veedel/veedel/appliance/notify"
)

// SMS-SUBMIT fields (3GPP TS 23.040 9.2.2.2).
const (
	foSubmit    = 0x01 // TP-MTI SMS-SUBMIT
	foVPFRel    = 0x10 // TP-VPF relative: one octet of validity period
	foUDHI      = 0x40 // the user data begins with a header
	dcsGSM7     = 0x00
	dcsUCS2     = 0x08
	vp4Days     = 0xAA // relative validity: (0xAA-166) days = 4 days
	toaIntl     = 0x91 // international number, ISDN numbering plan
	toaUnknown  = 0x81 // unknown type (national), ISDN numbering plan
	iei8BitConc = 0x00 // concatenated SMS, 8-bit reference
)

// errAddress is returned for a destination that is not a phone number. It
// names no digits: errors end up in logs.
var errAddress = errors.New("destination is not a phone number")

// encodeAddress returns a TP-DA: the number of digits, the type of
// address and the digits as swapped semi-octets, padded with F. A leading
// "+" makes the number international.
func encodeAddress(number string) ([]byte, error) {
	toa := byte(toaUnknown)
	if len(number) > 0 && number[0] == '+' {
		toa, number = toaIntl, number[1:]
	}
	if len(number) == 0 || len(number) > 20 {
		return nil, errAddress
	}
	out := []byte{byte(len(number)), toa}
	for i := 0; i < len(number); i += 2 {
		lo := number[i]
		if lo < '0' || lo > '9' {
			return nil, errAddress
		}
		hi := byte(0xF)
		if i+1 < len(number) {
			if c := number[i+1]; c >= '0' && c <= '9' {
				hi = c - '0'
			} else {
				return nil, errAddress
			}
		}
		out = append(out, hi<<4|(lo-'0'))
	}
	return out, nil
}

// packSeptets packs septets LSB first into octets, the first septet
// starting fill bits into the output (fill lets the septets after a user
// data header start on a septet boundary).
func packSeptets(septets []byte, fill int) []byte {
	nbits := fill + 7*len(septets)
	out := make([]byte, (nbits+7)/8)
	for i, s := range septets {
		p := fill + 7*i
		s &= 0x7F
		out[p/8] |= s << (p % 8)
		if p%8 > 1 {
			out[p/8+1] |= s >> (8 - p%8)
		}
	}
	return out
}

// concat is a part's place in a concatenated SMS.
type concat struct {
	ref, total, seq byte
}

// udh is the user data header of a part: one 8-bit reference
// concatenation element (05 00 03 ref total seq).
func (c concat) udh() []byte {
	return []byte{5, iei8BitConc, 3, c.ref, c.total, c.seq}
}

// submitPDU builds the TPDU of an SMS-SUBMIT (without the SMSC address,
// which the caller prefixes as 00: use the SIM's). text must fit one
// segment of enc (notify.Split's parts do); c is nil for a single SMS.
func submitPDU(to string, enc notify.Encoding, text string, c *concat) ([]byte, error) {
	da, err := encodeAddress(to)
	if err != nil {
		return nil, err
	}
	fo := byte(foSubmit | foVPFRel)
	var udh []byte
	if c != nil {
		fo |= foUDHI
		udh = c.udh()
	}
	pdu := []byte{fo, 0x00} // TP-MR 0: the modem assigns the reference
	pdu = append(pdu, da...)
	pdu = append(pdu, 0x00) // TP-PID: plain SMS
	switch enc {
	case notify.GSM7:
		septets, ok := notify.EncodeGSM7(text)
		if !ok {
			return nil, errors.New("text has no GSM 03.38 form")
		}
		// The header occupies whole septets: fill up to the next boundary.
		hbits := 8 * len(udh)
		fill := (7 - hbits%7) % 7
		udl := (hbits+fill)/7 + len(septets)
		if udl > 160 {
			return nil, errors.New("text too long for one segment")
		}
		pdu = append(pdu, dcsGSM7, vp4Days, byte(udl))
		pdu = append(pdu, udh...)
		pdu = append(pdu, packSeptets(septets, fill)...)
	case notify.UCS2:
		ud := append(udh, notify.EncodeUCS2(text)...)
		if len(ud) > 140 {
			return nil, errors.New("text too long for one segment")
		}
		pdu = append(pdu, dcsUCS2, vp4Days, byte(len(ud)))
		pdu = append(pdu, ud...)
	default:
		return nil, errors.New("unknown encoding")
	}
	return pdu, nil
}
