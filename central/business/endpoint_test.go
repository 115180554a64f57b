package business

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/veedel/veedel"
)

// fakeResolver answers names from a table; other names do not resolve.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

// TestCheckEndpoint: the address classes a webhook may not reach, in the
// forms a URL can write them (IPv4, IPv6, IPv4-mapped, 6to4, NAT64,
// decimal, octal and hex IPv4, short forms, names), refused with the
// field's message; public endpoints pass; -webhook-allow-private lets
// loopback and http:// through, not the rest.
func TestCheckEndpoint(t *testing.T) {
	dns := fakeResolver{
		"erp.rheinflotte.example":    {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
		"intern.rheinflotte.example": {"10.0.0.5"},
		"halb.rheinflotte.example":   {"93.184.216.34", "127.0.0.1"},
		"meta.rheinflotte.example":   {"::ffff:169.254.169.254"},
	}
	for _, c := range []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://erp.rheinflotte.example/veedel", false, true},
		{"https://erp.rheinflotte.example:8443/veedel?t=1", false, true},
		{"https://nicht-aufloesbar.example/hook", false, true}, // the delivery checks again
		{"https://93.184.216.34/hook", false, true},
		{"https://8.8.8.8/hook", false, true},
		{"https://[2a00:1450:4001:82b::200e]/hook", false, true},
		{"https://[2002:5db8:d822::1]/hook", false, true}, // 6to4 of 93.184.216.34

		{"http://erp.rheinflotte.example/veedel", false, false}, // https only
		{"ftp://erp.rheinflotte.example/", false, false},
		{"https://jana:geheim@erp.rheinflotte.example/", false, false},
		{"erp.rheinflotte.example/hook", false, false},
		{"https:///hook", false, false},
		{"https://erp.rheinflotte.example:0/", false, false},
		{"https://erp.rheinflotte.example:99999/", false, false},
		{"https://erp.rheinflotte.example/" + strings.Repeat("a", 500), false, false},

		// IPv4 classes
		{"https://127.0.0.1/", false, false},
		{"https://127.8.9.10/", false, false},
		{"https://10.1.2.3/", false, false},
		{"https://172.16.0.1/", false, false},
		{"https://172.31.255.254/", false, false},
		{"https://192.168.178.1/", false, false},
		{"https://169.254.169.254/latest/meta-data/", false, false},
		{"https://100.64.0.1/", false, false},
		{"https://0.0.0.0/", false, false},
		{"https://0.1.2.3/", false, false},
		{"https://255.255.255.255/", false, false},
		{"https://224.0.0.251/", false, false},
		{"https://240.0.0.1/", false, false},
		{"https://192.0.2.10/", false, false},
		{"https://198.18.0.1/", false, false},
		// IPv4 written otherwise
		{"https://2130706433/", false, false},   // decimal 127.0.0.1
		{"https://0177.0.0.1/", false, false},   // octal
		{"https://0x7f000001/", false, false},   // hex
		{"https://0x7f.0.0.1/", false, false},   // hex label
		{"https://127.1/", false, false},        // short form
		{"https://017700000001/", false, false}, // octal whole
		{"https://3232235777/", false, false},   // 192.168.1.1
		{"https://1.2.3.4.5/", false, false},    // not an address, not a name
		// IPv6 classes
		{"https://[::1]/", false, false},
		{"https://[::]/", false, false},
		{"https://[fe80::1]/", false, false},
		{"https://[fe80::1%25eth0]/", false, false},
		{"https://[fc00::1]/", false, false},
		{"https://[fd00:ec2::254]/", false, false}, // AWS's metadata over IPv6
		{"https://[ff02::1]/", false, false},
		{"https://[fec0::1]/", false, false},
		{"https://[2001:db8::1]/", false, false},
		{"https://[::127.0.0.1]/", false, false}, // IPv4-compatible
		// IPv4-mapped and embedded
		{"https://[::ffff:127.0.0.1]/", false, false},
		{"https://[::ffff:7f00:1]/", false, false},
		{"https://[::ffff:169.254.169.254]/", false, false},
		{"https://[::ffff:10.0.0.1]/", false, false},
		{"https://[64:ff9b::a9fe:a9fe]/", false, false}, // NAT64 of 169.254.169.254
		{"https://[2002:7f00:1::1]/", false, false},     // 6to4 of 127.0.0.1
		{"https://[2002:c0a8:101::1]/", false, false},   // 6to4 of 192.168.1.1
		// names
		{"https://localhost/", false, false},
		{"https://LOCALHOST./", false, false},
		{"https://api.localhost/", false, false},
		{"https://intern.rheinflotte.example/hook", false, false},
		{"https://halb.rheinflotte.example/hook", false, false}, // one address private is enough
		{"https://meta.rheinflotte.example/hook", false, false},

		// -webhook-allow-private
		{"http://127.0.0.1:8099/hook", true, true},
		{"https://[::1]:8443/hook", true, true},
		{"https://intern.rheinflotte.example/hook", true, true},
		{"ftp://127.0.0.1/", true, false},
		{"http://jana:geheim@127.0.0.1/", true, false},
	} {
		err := CheckEndpoint(context.Background(), c.url, c.allowPrivate, dns)
		if (err == nil) != c.ok {
			t.Errorf("%.80s (allow private %v): %v, want ok %v", c.url, c.allowPrivate, err, c.ok)
			continue
		}
		if err != nil {
			if veedel.ErrorCode(err) != veedel.EINVALID || veedel.ErrorFields(err)["webhook_url"] == "" {
				t.Errorf("%.80s: %v has no message for webhook_url", c.url, err)
			}
		}
	}
}

// TestPrivateAddr: every class by its address, and the public neighbours
// of the private ranges.
func TestPrivateAddr(t *testing.T) {
	for _, c := range []struct {
		addr    string
		private bool
	}{
		{"9.255.255.255", false}, {"10.0.0.0", true}, {"11.0.0.0", false},
		{"172.15.255.255", false}, {"172.16.0.0", true}, {"172.31.255.255", true}, {"172.32.0.0", false},
		{"192.167.255.255", false}, {"192.168.0.0", true}, {"192.169.0.0", false},
		{"169.253.255.255", false}, {"169.254.0.1", true}, {"169.255.0.0", false},
		{"126.255.255.255", false}, {"127.255.255.255", true}, {"128.0.0.0", false},
		{"100.63.255.255", false}, {"100.64.0.0", true}, {"100.127.255.255", true}, {"100.128.0.0", false},
		{"223.255.255.255", false}, {"224.0.0.0", true}, {"239.255.255.255", true}, {"255.255.255.255", true},
		{"::1", true}, {"::", true}, {"::2", true}, {"fe80::abcd", true}, {"febf::1", true}, {"fc00::", true}, {"fdff::1", true},
		{"ff0e::1", true}, {"::ffff:192.168.0.1", true}, {"::ffff:93.184.216.34", false},
		{"2001:4860:4860::8888", false}, {"2a00:1450::1", false}, {"2002:0808:0808::1", false}, {"2002:0a00:0001::1", true},
		{"64:ff9b::808:808", false}, {"64:ff9b::7f00:1", true}, {"64:ff9b:1::1", true},
	} {
		got := PrivateAddr(netip.MustParseAddr(c.addr)) != ""
		if got != c.private {
			t.Errorf("%s: private %v, want %v", c.addr, got, c.private)
		}
	}
}

// TestClientDialsPublicOnly: the deliveries' client, without private
// addresses allowed, does not connect to a receiver on loopback, by
// address nor by a name that resolves to it, and follows no redirect;
// with them allowed it reaches the receiver.
func TestClientDialsPublicOnly(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/weiter" {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		}
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, u := range []string{srv.URL, "http://localhost:" + port + "/"} {
		resp, err := Client(false, nil).Post(u, "application/json", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: %s, want refused", u, resp.Status)
		} else if !errors.Is(err, errPrivateAddr) {
			t.Errorf("%s: %v, want the private address refused", u, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the receiver on loopback got %d requests", n)
	}
	resp, err := Client(true, nil).Post(srv.URL+"/weiter", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || hits.Load() != 1 {
		t.Errorf("redirect: %s after %d requests, want the 302 itself", resp.Status, hits.Load())
	}
}
