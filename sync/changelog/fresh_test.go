package changelog_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/sync/changelog"
)

// TestSignRequest_NonceAndBoxKey: every signed request has its own nonce,
// and the signature covers the nonce and the box key.
func TestSignRequest_NonceAndBoxKey(t *testing.T) {
	key := testKey(1)
	pub := testKey(1).Public().(ed25519.PublicKey)
	box := []byte(strings.Repeat("b", changelog.BoxKeySize))
	sign := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/sync/outbound?site=kalk&after=0&sms=1", nil)
		r.Header.Set(changelog.HeaderBoxKey, base64.RawURLEncoding.EncodeToString(box))
		changelog.SignRequest(r, "kalk", key, time.Now())
		return r
	}
	a, b := sign(), sign()
	if a.Header.Get(changelog.HeaderNonce) == b.Header.Get(changelog.HeaderNonce) {
		t.Fatal("two requests with the same nonce")
	}
	got, err := changelog.ParseRequest(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Nonce) != changelog.NonceSize || !bytes.Equal(got.BoxKey, box) {
		t.Errorf("claim = %+v, want the nonce and the box key", got)
	}
	if err := got.Verify(pub); err != nil {
		t.Errorf("Verify = %v", err)
	}
	for name, change := range map[string]func(*http.Request){
		"OtherNonce": func(r *http.Request) { r.Header.Set(changelog.HeaderNonce, b.Header.Get(changelog.HeaderNonce)) },
		"OtherBoxKey": func(r *http.Request) {
			r.Header.Set(changelog.HeaderBoxKey, base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte("x"), 32)))
		},
		"NoBoxKey": func(r *http.Request) { r.Header.Del(changelog.HeaderBoxKey) },
		"NoNonce":  func(r *http.Request) { r.Header.Del(changelog.HeaderNonce) }, // a downgrade to v1
	} {
		t.Run("Err"+name, func(t *testing.T) {
			r := sign()
			change(r)
			got, err := changelog.ParseRequest(r)
			if err != nil {
				wantCode(t, err, veedel.EUNAUTHORIZED)
				return
			}
			wantCode(t, got.Verify(pub), veedel.EUNAUTHORIZED)
		})
	}
	t.Run("ErrMalformedNonce", func(t *testing.T) {
		r := sign()
		r.Header.Set(changelog.HeaderNonce, "c2hvcnQ")
		_, err := changelog.ParseRequest(r)
		wantCode(t, err, veedel.EUNAUTHORIZED)
	})
}

// TestBatch_NonceSigned: a batch's nonce is covered by its signature, and
// SignFresh gives every batch a new one.
func TestBatch_NonceSigned(t *testing.T) {
	key := testKey(1)
	now := time.Date(2026, 10, 5, 8, 0, 0, 0, time.UTC)
	var a, b changelog.Batch
	for _, x := range []*changelog.Batch{&a, &b} {
		*x = changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk"}
		if err := x.SignFresh(key, now); err != nil {
			t.Fatal(err)
		}
	}
	if !a.Fresh() || bytes.Equal(a.Nonce, b.Nonce) || !a.SentAt.Time().Equal(now) {
		t.Fatalf("SignFresh: nonces %x, %x, sent %v", a.Nonce, b.Nonce, a.SentAt.Time())
	}
	if err := a.VerifySignature(testKey(1).Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	a.Nonce = nil
	wantCode(t, a.VerifySignature(testKey(1).Public().(ed25519.PublicKey)), veedel.EUNAUTHORIZED)
	a.Nonce = []byte{1, 2, 3}
	wantCode(t, a.Validate(), veedel.EINVALID)
}

// TestCentralClock: the offset follows central's Date header; small
// differences (resolution, round trip) are no offset.
func TestCentralClock(t *testing.T) {
	local := time.Date(2026, 10, 5, 8, 0, 0, 0, time.UTC)
	answer := func(central time.Time) *http.Response {
		return &http.Response{Header: http.Header{"Date": {central.UTC().Format(http.TimeFormat)}}}
	}
	var c changelog.CentralClock
	if c.Observe(answer(local.Add(3*time.Second)), local) || c.Offset() != 0 {
		t.Errorf("3 s off: offset %v, want none", c.Offset())
	}
	if !c.Observe(answer(local.Add(-2*time.Hour)), local) {
		t.Error("2 h behind: not reported as a change")
	}
	if got := c.Now(local); got.Sub(local.Add(-2*time.Hour)).Abs() > time.Second {
		t.Errorf("Now = %v, want about %v", got, local.Add(-2*time.Hour))
	}
	if c.Observe(answer(local.Add(-2*time.Hour+2*time.Second)), local) {
		t.Error("the same offset again reported as a change")
	}
	if !c.Observe(answer(local), local) || c.Offset() != 0 {
		t.Errorf("clock right again: offset %v, want 0", c.Offset())
	}
	if c.Observe(&http.Response{Header: http.Header{}}, local) || c.Offset() != 0 {
		t.Error("an answer without Date changed the offset")
	}
}

// TestSealSMS: only the receiving site's box key opens a sealed number,
// and only for the hand-over it was sealed for.
func TestSealSMS(t *testing.T) {
	site, err := ecdh.X25519().GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := ecdh.X25519().GenerateKey(nil)
	h := changelog.SMSHandover{ID: "h1", Ticket: "2026-10-05/A001", Phone: "+4917012345678", Lang: "de"}
	sealed, err := changelog.SealSMS(h, "kalk", site.PublicKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	data, _ := changelog.Marshal(changelog.Download{Version: 1, Site: "kalk", SMS: []changelog.SMSHandover{sealed}})
	if bytes.Contains(data, []byte("4917012345678")) || sealed.Phone != "" {
		t.Fatal("the number travels in clear")
	}
	if got, err := changelog.OpenSMS(sealed, "kalk", site); err != nil || got.Phone != h.Phone || got.ID != h.ID || got.Sealed != nil {
		t.Fatalf("OpenSMS = %#v, %v; want %#v", got, err, h)
	}
	again, _ := changelog.SealSMS(h, "kalk", site.PublicKey().Bytes())
	if bytes.Equal(again.Sealed, sealed.Sealed) {
		t.Error("sealing twice gives the same bytes")
	}
	for name, tc := range map[string]struct {
		h    changelog.SMSHandover
		site string
		key  *ecdh.PrivateKey
	}{
		"OtherKey":    {sealed, "kalk", other},
		"OtherSite":   {sealed, "porz", site},
		"OtherTicket": {func() changelog.SMSHandover { x := sealed; x.Ticket = "2026-10-05/A002"; return x }(), "kalk", site},
		"OtherID":     {func() changelog.SMSHandover { x := sealed; x.ID = "h2"; return x }(), "kalk", site},
		"Clear":       {h, "kalk", site},
		"Tampered": {func() changelog.SMSHandover {
			x := sealed
			x.Sealed = bytes.Clone(x.Sealed)
			x.Sealed[len(x.Sealed)-1] ^= 1
			return x
		}(), "kalk", site},
	} {
		t.Run("Err"+name, func(t *testing.T) {
			_, err := changelog.OpenSMS(tc.h, tc.site, tc.key)
			wantCode(t, err, veedel.EINVALID)
			if err != nil && strings.Contains(err.Error(), "4917012345678") {
				t.Errorf("error names the number: %v", err)
			}
		})
	}
	if _, err := changelog.SealSMS(h, "kalk", []byte("short")); err == nil {
		t.Error("sealed to a malformed key")
	}
}
