package seca

import (
	"fmt"
	"strconv"
	"strings"
)

// Frame is one answer line of the scale, parsed.
type Frame struct {
	// ID is the command it answers ("S", "H", "I4") or an error code
	// ("ES", "ET", "EL") with no status.
	ID string
	// Status is the MT-SICS status letter: 'S' stable, 'D' dynamic
	// (unstable), 'I' not possible at present, '+' overload, '-'
	// underload, 'A' for an information answer; 0 for an error code.
	Status byte
	// Value is the measured value in Unit's terms, Unit as sent ("kg").
	Value float64
	Unit  string
	// Text is an information answer's quoted text (I4's serial number).
	Text string
}

// maxLine bounds a frame: anything longer is noise.
const maxLine = 64

// ParseFrame parses one line without its CR LF. A line that is not a
// frame of the protocol is an error (the caller ignores it as noise).
func ParseFrame(line string) (Frame, error) {
	if len(line) == 0 || len(line) > maxLine {
		return Frame{}, fmt.Errorf("%d bytes: not a frame", len(line))
	}
	for i := 0; i < len(line); i++ {
		if c := line[i]; c < 0x20 || c > 0x7e {
			return Frame{}, fmt.Errorf("byte 0x%02x at %d: not a frame", c, i)
		}
	}
	f := strings.Fields(line)
	switch f[0] {
	case "ES", "ET", "EL":
		if len(f) != 1 {
			return Frame{}, fmt.Errorf("%s with arguments: not a frame", f[0])
		}
		return Frame{ID: f[0]}, nil
	case "I4":
		if len(f) < 3 || f[1] != "A" {
			return Frame{}, fmt.Errorf("I4 answer without serial: not a frame")
		}
		// The serial number is quoted and may not contain spaces.
		rest := strings.TrimSpace(line[strings.Index(line, "A")+1:])
		if len(rest) < 2 || rest[0] != '"' || rest[len(rest)-1] != '"' {
			return Frame{}, fmt.Errorf("I4 serial not quoted: not a frame")
		}
		return Frame{ID: "I4", Status: 'A', Text: rest[1 : len(rest)-1]}, nil
	case "S", "H":
	default:
		return Frame{}, fmt.Errorf("unknown identifier: not a frame")
	}
	if len(f) < 2 || len(f[1]) != 1 {
		return Frame{}, fmt.Errorf("%s without status: not a frame", f[0])
	}
	fr := Frame{ID: f[0], Status: f[1][0]}
	switch fr.Status {
	case 'I', '+', '-':
		if len(f) != 2 {
			return Frame{}, fmt.Errorf("%s %c with a value: not a frame", fr.ID, fr.Status)
		}
		return fr, nil
	case 'S', 'D':
	default:
		return Frame{}, fmt.Errorf("%s with unknown status: not a frame", fr.ID)
	}
	if len(f) != 4 {
		return Frame{}, fmt.Errorf("%s %c: want a value and a unit", fr.ID, fr.Status)
	}
	v, err := parseValue(f[2])
	if err != nil {
		return Frame{}, err
	}
	fr.Value, fr.Unit = v, f[3]
	return fr, nil
}

// parseValue reads a decimal value: an optional minus, digits, at most
// one decimal point. No exponents, no "NaN", no commas.
func parseValue(s string) (float64, error) {
	digits, point := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !point:
			point = true
		case c == '-' && i == 0:
		default:
			return 0, fmt.Errorf("value %q: not a number", s)
		}
	}
	if digits == 0 || digits > 9 {
		return 0, fmt.Errorf("value %q: not a number", s)
	}
	return strconv.ParseFloat(s, 64)
}

// kilograms converts a weight frame's value to kg.
func kilograms(f Frame) (float64, error) {
	switch f.Unit {
	case "kg":
		return f.Value, nil
	case "g":
		return f.Value / 1000, nil
	case "lb":
		return f.Value * 0.45359237, nil
	}
	return 0, fmt.Errorf("weight unit %q unknown", f.Unit)
}

// centimetres converts a height frame's value to cm.
func centimetres(f Frame) (float64, error) {
	switch f.Unit {
	case "cm":
		return f.Value, nil
	case "mm":
		return f.Value / 10, nil
	case "m":
		return f.Value * 100, nil
	}
	return 0, fmt.Errorf("height unit %q unknown", f.Unit)
}

// FormatWeight is the scale's answer to SI for kg: "S S     25.40 kg"
// (the value right-aligned in 10 characters, as MT-SICS shows it).
func FormatWeight(stable bool, kg float64) string {
	return fmt.Sprintf("S %c %10.2f kg", status(stable), kg)
}

// FormatHeight is the answer to HI for cm: "H S     118.5 cm".
func FormatHeight(stable bool, cm float64) string {
	return fmt.Sprintf("H %c %10.1f cm", status(stable), cm)
}

func status(stable bool) byte {
	if stable {
		return 'S'
	}
	return 'D'
}
