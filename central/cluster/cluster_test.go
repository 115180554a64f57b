package cluster_test

import (
	"strings"
	"testing"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central/cluster"
)

func TestParseKey(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int // bytes; 0: refused
	}{
		{"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 32},
		{"AAAAAAAAAAAAAAAAAAAAAA==", 16},
		{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 24},
		{"AAAA", 0},               // 3 bytes
		{"not base64 at all!", 0}, // not base64
		{"", 0},                   // empty
	} {
		key, err := cluster.ParseKey(tc.in)
		if tc.want == 0 {
			if veedel.ErrorCode(err) != veedel.EINVALID || !strings.Contains(err.Error(), "openssl rand -base64 32") {
				t.Errorf("ParseKey(%q) = %v, want EINVALID that says how to make one", tc.in, err)
			}
			continue
		}
		if err != nil || len(key) != tc.want {
			t.Errorf("ParseKey(%q) = %d bytes, %v; want %d", tc.in, len(key), err, tc.want)
		}
	}
}

func TestParseTags(t *testing.T) {
	ok := map[string]string{"role": "central", "version": "1.4.0", "http": "https://central-2.example:8443"}
	if got, err := cluster.ParseTags(ok); err != nil || got.HTTP != ok["http"] || got.Version != "1.4.0" {
		t.Errorf("ParseTags(%v) = %+v, %v", ok, got, err)
	}
	for name, change := range map[string][2]string{
		"OtherRole":   {"role", "consul"},
		"NoVersion":   {"version", ""},
		"LongVersion": {"version", strings.Repeat("1", 65)},
		"NotHTTP":     {"http", "ftp://x"},
		"NoHost":      {"http", "http://"},
		"Garbage":     {"http", "::"},
	} {
		m := map[string]string{}
		for k, v := range ok {
			m[k] = v
		}
		m[change[0]] = change[1]
		if _, err := cluster.ParseTags(m); veedel.ErrorCode(err) != veedel.EINVALID {
			t.Errorf("%s: ParseTags(%v) = %v, want EINVALID", name, m, err)
		}
	}
}

func TestParseAddrs(t *testing.T) {
	got, err := cluster.ParseAddrs(" 10.0.0.1:7946, central-2 ,[::1]:8000,")
	if err != nil || strings.Join(got, " ") != "10.0.0.1:7946 central-2:7946 [::1]:8000" {
		t.Errorf("ParseAddrs = %v, %v", got, err)
	}
	for _, bad := range []string{"host:0", "host:99999", ":7946"} {
		if _, err := cluster.ParseAddrs(bad); veedel.ErrorCode(err) != veedel.EINVALID {
			t.Errorf("ParseAddrs(%q) = %v, want EINVALID", bad, err)
		}
	}
}

// TestStart_KeyRequiredOffLoopback: gossip in clear only on loopback.
func TestStart_KeyRequiredOffLoopback(t *testing.T) {
	_, err := cluster.Start(cluster.Config{Bind: "0.0.0.0:0", HTTP: "http://127.0.0.1:1", Version: "test"}, nil)
	if veedel.ErrorCode(err) != veedel.EINVALID || !strings.Contains(err.Error(), "VEEDEL_SERF_KEY") {
		t.Errorf("Start without a key on 0.0.0.0 = %v, want EINVALID naming VEEDEL_SERF_KEY", err)
	}
}
