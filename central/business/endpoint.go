package business

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/veedel/veedel"
)

// A company's webhook endpoint must not let central reach what only
// central can reach (SSRF): its loopback, the city's private networks, the
// cloud's metadata service at 169.254.169.254. CheckEndpoint refuses such
// URLs when a company admin saves one, and Sender dials every delivery
// through Dialer, whose Control sees the address actually connected to,
// after DNS: a name that later resolves elsewhere (DNS rebinding) or an
// address stored before this check gets nowhere either. Redirects are not
// followed at all: a 3xx is the attempt's answer, recorded in the delivery
// log. AllowPrivate (central's -webhook-allow-private, the demo and the
// tests) lets endpoints on such addresses through, and plain http://.

// MaxEndpointLength bounds a webhook URL.
const MaxEndpointLength = 500

// blockedPrefixes are the networks no webhook reaches unless private
// addresses are allowed: besides what netip's predicates name (loopback,
// private, link-local, multicast, unspecified), the special-purpose ones
// of RFC 6890 and its successors. IPv4-mapped IPv6 addresses are checked
// as their IPv4 address; 6to4 and NAT64 addresses by the IPv4 address in
// them.
var blockedPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"10.0.0.0/8",      // RFC 1918
		"100.64.0.0/10",   // carrier-grade NAT, shared address space
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local, the cloud's metadata service
		"172.16.0.0/12",   // RFC 1918
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // TEST-NET-1
		"192.88.99.0/24",  // 6to4 relay anycast
		"192.168.0.0/16",  // RFC 1918
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // TEST-NET-2
		"203.0.113.0/24",  // TEST-NET-3
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, and the broadcast address
		"::/96",           // unspecified, loopback, IPv4-compatible
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard-only
		"2001::/23",       // IETF protocol assignments (Teredo, ORCHID…)
		"2001:db8::/32",   // documentation
		"fc00::/7",        // unique-local (fd00:ec2::254: AWS's metadata)
		"fe80::/10",       // link-local
		"fec0::/10",       // site-local (deprecated)
		"ff00::/8",        // multicast
		"::ffff:0:0:0/96", // IPv4-translated (SIIT)
		"5f00::/16",       // SRv6 SIDs
		"3fff::/20",       // documentation (RFC 9637)
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Prefixes whose addresses carry an IPv4 address that their relay
// reaches: judged by it.
var (
	prefix6to4  = netip.MustParsePrefix("2002::/16")
	prefixNAT64 = netip.MustParsePrefix("64:ff9b::/96")
)

// PrivateAddr reports whether a webhook may not reach addr: any address
// that is not a public unicast address on the internet. It names the
// class for the message ("" when addr is public).
func PrivateAddr(addr netip.Addr) string {
	addr = addr.WithZone("")
	if addr.Is4In6() {
		addr = addr.Unmap()
	}
	if addr.Is6() {
		b := addr.As16()
		// 6to4 (2002:V4::/16) and NAT64 (64:ff9b::V4/96) carry an IPv4
		// address that the relay reaches: judge that.
		if prefix6to4.Contains(addr) {
			if why := PrivateAddr(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})); why != "" {
				return "6to4 → " + why
			}
		}
		if prefixNAT64.Contains(addr) {
			if why := PrivateAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})); why != "" {
				return "NAT64 → " + why
			}
		}
	}
	switch {
	case !addr.IsValid():
		return "ungültig / invalid"
	case addr.IsUnspecified():
		return "unbestimmt / unspecified"
	case addr.IsLoopback():
		return "Loopback / loopback"
	case addr.IsPrivate():
		return "privates Netz / private network"
	case addr.IsLinkLocalUnicast():
		return "link-lokal / link-local"
	case addr.IsMulticast():
		return "Multicast / multicast"
	}
	for _, p := range blockedPrefixes {
		if p.Contains(addr) {
			return "reserviert / reserved (" + p.String() + ")"
		}
	}
	if !addr.IsGlobalUnicast() {
		return "nicht öffentlich / not public"
	}
	return ""
}

// numericHost reports whether host is written as an IPv4 address in any
// form a resolver's inet_aton may take (2130706433, 0177.0.0.1, 0x7f.1,
// 127.1): its last label is a number (WHATWG URL's rule).
func numericHost(host string) bool {
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	last := labels[len(labels)-1]
	if last == "" {
		return false
	}
	if l := strings.ToLower(last); strings.HasPrefix(l, "0x") {
		return strings.Trim(l[2:], "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// Resolver looks a host name up (net.DefaultResolver; tests give their
// own).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckEndpoint checks a webhook URL as a company admin saves it:
// https:// (http:// too when allowPrivate), no user info, and a host that
// is not, and (through r, when not nil) does not now resolve to, an
// address PrivateAddr refuses, unless allowPrivate. A name that does not
// resolve now passes (the delivery checks again). The error is EINVALID
// with the field "webhook_url".
func CheckEndpoint(ctx context.Context, raw string, allowPrivate bool, r Resolver) error {
	refuse := func(de, en string) error {
		return veedel.FieldErrors{"webhook_url": de + " / " + en}.Err("Webhook-Adresse abgelehnt: " + de + " / webhook address refused: " + en)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" || len(raw) > MaxEndpointLength {
		return refuse("bitte eine Adresse wie https://erp.example.de/veedel (höchstens 500 Zeichen)",
			"please give an address like https://erp.example.de/veedel (at most 500 characters)")
	}
	if u.User != nil {
		return refuse("ohne Benutzer und Passwort in der Adresse: die Signatur weist Veedel aus",
			"no user or password in the address: the signature identifies Veedel")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowPrivate:
	default:
		return refuse("nur https://", "https:// only")
	}
	host := u.Hostname()
	if port := u.Port(); port != "" {
		if n, err := netip.ParseAddrPort("0.0.0.0:" + port); err != nil || n.Port() == 0 {
			return refuse("Port ungültig", "invalid port")
		}
	}
	if allowPrivate {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if why := PrivateAddr(a); why != "" {
			return refuse("Adresse nicht öffentlich erreichbar ("+why+")", "address not on the public internet ("+why+")")
		}
		return nil
	}
	if numericHost(host) {
		return refuse("IPv4-Adressen bitte als vier Dezimalzahlen, z. B. 203.0.113.7",
			"write an IPv4 address as four decimal numbers, e.g. 203.0.113.7")
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return refuse("Adresse nicht öffentlich erreichbar (Loopback)", "address not on the public internet (loopback)")
	}
	if r == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if why := PrivateAddr(a); why != "" {
			return refuse("Name zeigt auf eine nicht öffentliche Adresse ("+why+")", "the name points to an address not on the public internet ("+why+")")
		}
	}
	return nil
}

// errPrivateAddr is the dial's refusal of a private address.
var errPrivateAddr = errors.New("private address")

// Dialer returns a dialer whose connections reach only public addresses
// (every address allowed when allowPrivate): its Control runs on the
// address being connected to, after name resolution, for every address
// tried. r resolves names (nil: the system's).
func Dialer(allowPrivate bool, r *net.Resolver) *net.Dialer {
	d := &net.Dialer{Timeout: Timeout, Resolver: r}
	if allowPrivate {
		return d
	}
	d.Control = func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s unreadable", errPrivateAddr, address)
		}
		if why := PrivateAddr(ap.Addr()); why != "" {
			return fmt.Errorf("%w: %s (%s)", errPrivateAddr, ap.Addr(), why)
		}
		return nil
	}
	return d
}

// Client is the HTTP client of the deliveries: no proxy (a proxy would
// connect on central's behalf, out of Control's sight), the guarded
// Dialer, no redirects followed (the 3xx is the answer), Timeout per
// attempt. r resolves names (nil: the system's).
func Client(allowPrivate bool, r *net.Resolver) *http.Client {
	return &http.Client{
		Timeout: Timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           Dialer(allowPrivate, r).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          20,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   Timeout,
			ResponseHeaderTimeout: Timeout,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
