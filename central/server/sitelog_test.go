package server_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/sync/changelog"
)

// TestSiteLog: an enrolled site reads its own log back from central, page
// by page, byte for byte as it sent it; nobody else does, and a request
// without a nonce (which could be replayed) gets nothing.
func TestSiteLog(t *testing.T) {
	e := newEnv(t)
	l := opening(t, e.Clock)
	call(l)
	e.mustPost(l.batch(1, 7))

	fetch := func(site string, key ed25519.PrivateKey, after uint64, limit int, sign func(*http.Request)) (int, *changelog.Download) {
		t.Helper()
		target := e.URL + "/api/v1/sync/log?site=" + site + "&after=" + strconv.FormatUint(after, 10)
		if limit > 0 {
			target += "&limit=" + strconv.Itoa(limit)
		}
		req, _ := http.NewRequest(http.MethodGet, target, nil)
		if sign != nil {
			sign(req)
		} else if key != nil {
			changelog.SignRequest(req, site, key, e.Clock.Now())
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		d, err := changelog.ReadDownload(resp.Body)
		if err != nil {
			t.Fatalf("answer unreadable: %v", err)
		}
		return resp.StatusCode, d
	}

	// Three pages of 3, 3 and 1 entries, then an empty one at the head.
	var got []changelog.Entry
	for after := uint64(0); ; {
		code, d := fetch(siteID, siteKey(siteID), after, 3, nil)
		if code != http.StatusOK || d.Head != 7 || d.Validate() != nil {
			t.Fatalf("after %d: %d %+v", after, code, d)
		}
		if len(d.Entries) == 0 {
			break
		}
		if len(d.Entries) > 3 {
			t.Fatalf("page of %d entries, limit 3", len(d.Entries))
		}
		got = append(got, d.Entries...)
		after = d.Entries[len(d.Entries)-1].Seq
	}
	want := l.slice(1, 7)
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Seq != want[i].Seq || got[i].HLC != want[i].HLC || !bytes.Equal(got[i].Payload, want[i].Payload) || !bytes.Equal(got[i].Hash, want[i].Hash) || !bytes.Equal(got[i].Prev, want[i].Prev) {
			t.Fatalf("entry %d differs from what the site sent", i+1)
		}
	}

	// A new key (the replacement appliance, enrolled again) reads it too;
	// the old one is revoked with that.
	newKey := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	e.enroll(siteID, newKey)
	if code, d := fetch(siteID, newKey, 0, 0, nil); code != http.StatusOK || len(d.Entries) != 7 {
		t.Fatalf("new key: %d, %d entries", code, len(d.Entries))
	}
	e.enroll("kz-porz", siteKey("kz-porz"))
	for name, tc := range map[string]struct {
		site string
		key  ed25519.PrivateKey
		sign func(*http.Request)
		want int
	}{
		"Unsigned":       {siteID, nil, nil, http.StatusUnauthorized},
		"OldKeyRevoked":  {siteID, siteKey(siteID), nil, http.StatusForbidden},
		"OtherSitesKey":  {siteID, nil, func(r *http.Request) { changelog.SignRequest(r, "kz-porz", siteKey("kz-porz"), e.Clock.Now()) }, http.StatusForbidden},
		"UnknownKey":     {siteID, siteKey("stranger"), nil, http.StatusUnauthorized},
		"BadSite":        {"Kalk!", newKey, nil, http.StatusBadRequest},
		"StaleSignature": {siteID, nil, func(r *http.Request) { changelog.SignRequest(r, siteID, newKey, e.Clock.Now().Add(-time.Hour)) }, http.StatusUnauthorized},
		"NoNonce": {siteID, nil, func(r *http.Request) {
			changelog.SignRequest(r, siteID, newKey, e.Clock.Now())
			r.Header.Del(changelog.HeaderNonce) // as an appliance built before nonces: v1 signature
			at := r.Header.Get(changelog.HeaderTime)
			sig := ed25519.Sign(newKey, []byte("veedel-request-v1\nGET\n"+r.URL.RequestURI()+"\n"+siteID+"\n"+at))
			r.Header.Set(changelog.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
		}, http.StatusUnauthorized},
	} {
		t.Run(name, func(t *testing.T) {
			code, d := fetch(tc.site, tc.key, 0, 0, tc.sign)
			if code != tc.want || len(d.Entries) != 0 || d.Error == "" {
				t.Fatalf("%d (%d entries, %q), want %d", code, len(d.Entries), d.Error, tc.want)
			}
			if name == "NoNonce" && !strings.Contains(d.Error, "nonce") {
				t.Fatalf("refused for another reason: %q", d.Error)
			}
		})
	}
	// A site central has no log of: nothing, head 0.
	code, d := fetch("kz-porz", siteKey("kz-porz"), 0, 0, nil)
	if code != http.StatusOK || d.Head != 0 || len(d.Entries) != 0 {
		t.Fatalf("site without a log: %d %+v", code, d)
	}
}
