package printer_test

import (
	"strings"
	"testing"

	"github.com/veedel/veedel/hardware/printer"
)

func TestOpen_Address(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"tcp://192.168.1.50", "tcp://192.168.1.50:9100"},
		{"tcp://drucker-kalk:9101/", "tcp://drucker-kalk:9101"},
		{"TCP://[fe80::1]:9100", "tcp://[fe80::1]:9100"},
		{"tcp://10.0.0.2?width=384&qr=raster", "tcp://10.0.0.2:9100?qr=raster&width=384"},
		{"usb:///dev/usb/lp0", "usb:///dev/usb/lp0"},
		{"serial:///dev/ttyUSB0", "serial:///dev/ttyUSB0?baud=19200"},
		{"serial:///dev/ttyS1?baud=9600&parity=even&databits=7&stopbits=2", "serial:///dev/ttyS1?baud=9600&databits=7&parity=even&stopbits=2"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			p, err := printer.Open(tc.in, printer.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Address(); got != tc.want {
				t.Fatalf("Address() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOpen_BadAddress(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     string // in the error
	}{
		{"Scheme", "ftp://x", `printer address "ftp://x": scheme must be tcp, usb or serial`},
		{"NoScheme", "192.168.1.50:9100", "scheme must be tcp, usb or serial"},
		{"Empty", "", "scheme must be tcp, usb or serial"},
		{"Unparsable", "tcp://host:port:x", "invalid port"},
		{"NoHost", "tcp://:9100", "host is missing"},
		{"PortNotNumber", "tcp://host:abc", "invalid port"},
		{"PortZero", "tcp://host:0", "port \"0\" must be a number from 1 to 65535"},
		{"PortTooBig", "tcp://host:70000", "from 1 to 65535"},
		{"TCPPath", "tcp://host/lp0", "takes no path"},
		{"UserInfo", "tcp://admin:geheim@host", "user info is not allowed"},
		{"Fragment", "tcp://host#x", "fragment"},
		{"USBHost", "usb://dev/usb/lp0", "takes a device path, not a host"},
		{"USBNoPath", "usb://", "device path is missing"},
		{"USBOpaque", "usb:dev/usb/lp0", "want usb://"},
		{"USBUncleanPath", "usb:///dev/usb/../lp0", "not clean"},
		{"SerialNoPath", "serial:///", "device path is missing"},
		{"Baud", "serial:///dev/ttyUSB0?baud=19220", `baud="19220": must be one of`},
		{"BaudNotNumber", "serial:///dev/ttyUSB0?baud=fast", `baud="fast"`},
		{"Parity", "serial:///dev/ttyUSB0?parity=maybe", "must be none, odd or even"},
		{"DataBits", "serial:///dev/ttyUSB0?databits=9", "must be 7 or 8"},
		{"StopBits", "serial:///dev/ttyUSB0?stopbits=3", "must be 1 or 2"},
		{"BaudOnTCP", "tcp://host?baud=9600", `unknown parameter "baud" (tcp takes qr, width)`},
		{"Typo", "serial:///dev/ttyUSB0?badu=9600", `unknown parameter "badu"`},
		{"Twice", "tcp://host?qr=raster&qr=native", "given 2 times"},
		{"QR", "tcp://host?qr=bitmap", "must be native or raster"},
		{"Width", "tcp://host?width=wide", "must be a number of dots"},
		{"WidthOdd", "tcp://host?width=580", "multiple of 8"},
		{"BadEscape", "tcp://host?qr=%zz", "query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := printer.Open(tc.in, printer.Options{})
			if err == nil {
				t.Fatal("want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "geheim") {
				t.Fatalf("error %q shows the password", err)
			}
		})
	}
}
