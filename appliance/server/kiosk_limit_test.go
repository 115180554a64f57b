package server

import (
	"net/http"
	"testing"
)

func TestClientKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7:51234":                   "192.0.2.7",
		"[2001:db8:1:2:aaaa::1]:443":        "2001:db8:1:2::/64",
		"[2001:db8:1:2:bbbb:cccc::9]:80":    "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:51234":          "192.0.2.7",
		"[fe80::1%eth0]:8080":               "fe80::/64",
		"not-an-address":                    "not-an-address",
		"[2001:db8:1:3:aaaa::1]:443":        "2001:db8:1:3::/64",
		"198.51.100.1:1":                    "198.51.100.1",
		"[2001:db8:ffff:ffff:ffff::1]:1234": "2001:db8:ffff:ffff::/64",
	} {
		r := &http.Request{RemoteAddr: addr, Header: http.Header{"X-Forwarded-For": {"203.0.113.9"}}}
		if got := clientKey(r); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", addr, got, want)
		}
	}
}
