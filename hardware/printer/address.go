package printer

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"go.bug.st/serial"

	"github.com/veedel/veedel/hardware/escpos"
)

// address is a parsed printer address; see Open for the forms.
type address struct {
	scheme string // "tcp", "usb" or "serial"
	host   string // tcp: host:port
	path   string // usb, serial: the device
	serial serial.Mode
	escpos escpos.Options
	// display is the canonical form for logs and screens.
	display string
}

const defaultTCPPort = "9100"

// Serial settings an ESC/POS printer's DIP switches or utility offer.
var baudRates = []int{2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400}

var parities = map[string]serial.Parity{"none": serial.NoParity, "odd": serial.OddParity, "even": serial.EvenParity}

// params lists the query parameters each scheme takes, so a typo
// ("badu=9600") fails at start-up instead of printing garbage at 9600.
var params = map[string][]string{
	"tcp":    {"qr", "width"},
	"usb":    {"qr", "width"},
	"serial": {"qr", "width", "baud", "parity", "databits", "stopbits"},
}

func parseAddress(raw string) (address, error) {
	u, err := url.Parse(raw)
	if err != nil && !strings.Contains(raw, "://") {
		// "192.168.1.50:9100" fails as a URL; what it lacks is the scheme.
		return address{}, addrError(redactRaw(raw), "scheme must be tcp, usb or serial")
	}
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the url.Error repeats the address
		}
		return address{}, addrError(redactRaw(raw), "%v", err)
	}
	shown := u.Redacted()
	fail := func(format string, args ...any) (address, error) {
		return address{}, addrError(shown, format, args...)
	}
	a := address{scheme: strings.ToLower(u.Scheme)}
	allowed, ok := params[a.scheme]
	switch {
	case !ok:
		return fail("scheme must be tcp, usb or serial")
	case u.User != nil:
		// A printer takes no credentials; keep them out of configs and logs.
		return fail("user info is not allowed")
	case u.Fragment != "":
		return fail("fragment is not allowed")
	case u.Opaque != "":
		return fail("want %s://host:port or %s:///dev/...", a.scheme, a.scheme)
	}

	if a.scheme == "tcp" {
		if u.Path != "" && u.Path != "/" {
			return fail("tcp address takes no path, only host and port")
		}
		host, port := u.Hostname(), u.Port()
		if host == "" {
			return fail("host is missing")
		}
		if port == "" {
			port = defaultTCPPort
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fail("port %q must be a number from 1 to 65535", port)
		}
		a.host = net.JoinHostPort(host, port)
	} else {
		switch {
		case u.Host != "":
			return fail("%s address takes a device path, not a host: %s:///dev/...", a.scheme, a.scheme)
		case !path.IsAbs(u.Path) || u.Path == "/":
			return fail("device path is missing")
		case path.Clean(u.Path) != u.Path:
			return fail("device path %q is not clean", u.Path)
		}
		a.path = u.Path
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fail("query: %v", err)
	}
	for k, v := range q {
		if !slices.Contains(allowed, k) {
			return fail("unknown parameter %q (%s takes %s)", k, a.scheme, strings.Join(allowed, ", "))
		}
		if len(v) > 1 {
			return fail("parameter %q given %d times", k, len(v))
		}
	}
	if err := a.parseEscpos(q); err != nil {
		return fail("%v", err)
	}
	if a.scheme == "serial" {
		if err := a.parseSerial(q); err != nil {
			return fail("%v", err)
		}
	}
	a.display = a.canonical(q)
	return a, nil
}

func (a *address) parseEscpos(q url.Values) error {
	switch v := q.Get("qr"); v {
	case "", "native":
		a.escpos.QR = escpos.QRNative
	case "raster":
		a.escpos.QR = escpos.QRRaster
	default:
		return fmt.Errorf("qr=%q: must be native or raster", v)
	}
	if v := q.Get("width"); v != "" {
		w, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("width=%q: must be a number of dots (576 for 80 mm, 384 for 58 mm)", v)
		}
		a.escpos.Width = w
	}
	if err := a.escpos.Validate(); err != nil {
		return err
	}
	return nil
}

func (a *address) parseSerial(q url.Values) error {
	a.serial = serial.Mode{BaudRate: 19200, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit}
	if v := q.Get("baud"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !slices.Contains(baudRates, n) {
			return fmt.Errorf("baud=%q: must be one of %s", v, strings.Trim(fmt.Sprint(baudRates), "[]"))
		}
		a.serial.BaudRate = n
	}
	if v := q.Get("parity"); v != "" {
		p, ok := parities[v]
		if !ok {
			return fmt.Errorf("parity=%q: must be none, odd or even", v)
		}
		a.serial.Parity = p
	}
	switch v := q.Get("databits"); v {
	case "", "8":
	case "7":
		a.serial.DataBits = 7
	default:
		return fmt.Errorf("databits=%q: must be 7 or 8", v)
	}
	switch v := q.Get("stopbits"); v {
	case "", "1":
	case "2":
		a.serial.StopBits = serial.TwoStopBits
	default:
		return fmt.Errorf("stopbits=%q: must be 1 or 2", v)
	}
	return nil
}

// canonical spells the address with its default port and its parameters in
// a fixed order, so the same printer always shows the same way.
func (a *address) canonical(q url.Values) string {
	var s string
	if a.scheme == "tcp" {
		s = "tcp://" + a.host
	} else {
		s = a.scheme + "://" + a.path
	}
	if a.scheme == "serial" {
		q.Set("baud", strconv.Itoa(a.serial.BaudRate))
	}
	if len(q) > 0 {
		s += "?" + q.Encode() // Encode sorts by key
	}
	return s
}

func addrError(shown, format string, args ...any) error {
	return fmt.Errorf("printer address %q: %s", shown, fmt.Sprintf(format, args...))
}

// redactRaw hides what could be a password in an address url.Parse
// rejected, as Redacted cannot be used without a parsed URL.
func redactRaw(raw string) string {
	if i := strings.LastIndex(raw, "@"); i >= 0 {
		if j := strings.Index(raw, "://"); j >= 0 && j < i {
			return raw[:j+3] + "xxxxx" + raw[i:]
		}
	}
	return raw
}
