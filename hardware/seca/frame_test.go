package seca_test

import (
	"errors"
	"testing"

	"github.com/veedel/veedel/hardware/seca"
)

func TestParseFrame(t *testing.T) {
	ok := []struct {
		line string
		want seca.Frame
	}{
		{"S S      25.40 kg", seca.Frame{ID: "S", Status: 'S', Value: 25.4, Unit: "kg"}},
		{"S D      24.9 kg", seca.Frame{ID: "S", Status: 'D', Value: 24.9, Unit: "kg"}},
		{"S S   -0.05 kg", seca.Frame{ID: "S", Status: 'S', Value: -0.05, Unit: "kg"}},
		{"S I", seca.Frame{ID: "S", Status: 'I'}},
		{"S +", seca.Frame{ID: "S", Status: '+'}},
		{"S -", seca.Frame{ID: "S", Status: '-'}},
		{"H S      118.5 cm", seca.Frame{ID: "H", Status: 'S', Value: 118.5, Unit: "cm"}},
		{`I4 A "5851700001"`, seca.Frame{ID: "I4", Status: 'A', Text: "5851700001"}},
		{"ES", seca.Frame{ID: "ES"}},
		{"EL", seca.Frame{ID: "EL"}},
	}
	for _, c := range ok {
		got, err := seca.ParseFrame(c.line)
		if err != nil || got != c.want {
			t.Errorf("ParseFrame(%q) = %+v, %v; want %+v", c.line, got, err, c.want)
		}
	}
	bad := []string{
		"", "\xfe\x8f#\x00~S\x13 k\xe4", "S", "S X 25.4 kg", "S S 25.4", "S S 25,4 kg", "S S 2.5.4 kg",
		"S S 1e3 kg", "S S NaN kg", "S S 25.4 kg extra", "X S 25.4 kg", "S + 25.4 kg", "ES 1",
		"I4 A 585", `I4 "585"`, "S S 1234567890 kg",
	}
	for _, l := range bad {
		if f, err := seca.ParseFrame(l); err == nil {
			t.Errorf("ParseFrame(%q) = %+v, want an error", l, f)
		}
	}
}

func TestFormatParses(t *testing.T) {
	for _, s := range []string{seca.FormatWeight(true, 25.4), seca.FormatWeight(false, 0), seca.FormatHeight(true, 118.5)} {
		if _, err := seca.ParseFrame(s); err != nil {
			t.Errorf("ParseFrame(%q): %v", s, err)
		}
	}
	if got, want := seca.FormatWeight(true, 25.4), "S S      25.40 kg"; got != want {
		t.Errorf("FormatWeight = %q, want %q", got, want)
	}
}

func TestOpenAddress(t *testing.T) {
	for _, a := range []string{"serial:///dev/ttyUSB0", "serial:///dev/ttyUSB0?baud=19200"} {
		s, err := seca.Open(a, seca.Options{})
		if err != nil {
			t.Errorf("Open(%q): %v", a, err)
			continue
		}
		if a == "serial:///dev/ttyUSB0" && s.Address() != "serial:///dev/ttyUSB0?baud=9600" {
			t.Errorf("Address = %q", s.Address())
		}
	}
	for _, a := range []string{"", "tcp://10.0.0.1:9100", "serial://host/dev/ttyUSB0", "serial:///dev/ttyUSB0?baud=x",
		"serial:///dev/ttyUSB0?baud=0", "serial:///dev/ttyUSB0?mode=pdu", "serial://u:p@/dev/ttyUSB0", "serial:///dev/ttyUSB0?baud=1&baud=2", "serial:dev"} {
		if _, err := seca.Open(a, seca.Options{}); !errors.Is(err, seca.ErrBadAddress) {
			t.Errorf("Open(%q) = %v, want ErrBadAddress", a, err)
		}
	}
}
