package storetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// A token enrolls one key once (a retry with the same key succeeds again),
// not for another site, not after it expired; enrolling again revokes the
// previous key; revoking leaves no active key.
func testEnroll(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	pub1, _, _ := ed25519.GenerateKey(nil)
	pub2, _, _ := ed25519.GenerateKey(nil)
	token, err := s.CreateEnrollmentToken(ctx, "kalk", start, start.Add(time.Hour))
	if err != nil || len(token) < 26 {
		t.Fatalf("CreateEnrollmentToken = %q, %v", token, err)
	}
	if _, err := s.CreateEnrollmentToken(ctx, "", start, start.Add(time.Hour)); veedel.ErrorCode(err) != veedel.EINVALID {
		t.Errorf("token without site: %v, want EINVALID", err)
	}
	if _, err := s.Enroll(ctx, "porz", token, pub1, start); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
		t.Errorf("kalk's token for porz: %v, want EUNAUTHORIZED", err)
	}
	if _, err := s.Enroll(ctx, "kalk", "wrong", pub1, start); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
		t.Errorf("unknown token: %v, want EUNAUTHORIZED", err)
	}
	k1, err := s.Enroll(ctx, "kalk", token, pub1, start)
	if err != nil || k1.Site != "kalk" || !k1.PublicKey.Equal(pub1) || k1.KeyID != changelog.KeyIDString(changelog.KeyID(pub1)) || !k1.Active() {
		t.Fatalf("Enroll = %+v, %v", k1, err)
	}
	if again, err := s.Enroll(ctx, "kalk", token, pub1, start.Add(time.Minute)); err != nil || again.KeyID != k1.KeyID {
		t.Errorf("retry with the same key = %+v, %v; want the key again", again, err)
	}
	if _, err := s.Enroll(ctx, "kalk", token, pub2, start); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
		t.Errorf("used token, other key: %v, want EUNAUTHORIZED", err)
	}
	expired, _ := s.CreateEnrollmentToken(ctx, "kalk", start, start.Add(time.Hour))
	if _, err := s.Enroll(ctx, "kalk", expired, pub2, start.Add(time.Hour)); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
		t.Errorf("expired token: %v, want EUNAUTHORIZED", err)
	}

	token2, _ := s.CreateEnrollmentToken(ctx, "kalk", start, start.Add(time.Hour))
	if _, err := s.Enroll(ctx, "kalk", token2, pub2, start.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	keys, err := s.SiteKeys(ctx)
	if err != nil || len(keys) != 2 || keys[0].Active() || !keys[1].Active() || !keys[1].PublicKey.Equal(pub2) {
		t.Fatalf("SiteKeys after re-enrolling = %+v, %v; want the first revoked, the second active", keys, err)
	}
	byID, err := s.KeysByID(ctx, changelog.KeyID(pub1))
	if err != nil || len(byID) != 1 || byID[0].Active() || !byID[0].RevokedAt.Equal(start.Add(time.Minute)) {
		t.Errorf("KeysByID(first) = %+v, %v; want it revoked when the second enrolled", byID, err)
	}
	revoked, err := s.RevokeSiteKeys(ctx, "kalk", start.Add(time.Hour))
	if err != nil || len(revoked) != 1 || !revoked[0].PublicKey.Equal(pub2) {
		t.Errorf("RevokeSiteKeys = %+v, %v; want the second key", revoked, err)
	}
	if revoked, err := s.RevokeSiteKeys(ctx, "kalk", start.Add(time.Hour)); err != nil || len(revoked) != 0 {
		t.Errorf("RevokeSiteKeys again = %+v, %v; want none", revoked, err)
	}
	if _, err := s.Enroll(ctx, "kalk", token2, pub2, start.Add(2*time.Hour)); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
		t.Errorf("retry with a revoked key: %v, want EUNAUTHORIZED", err)
	}
}

// Rejections add up per source, kind and status; the newest is the
// sample; the sites' own come first.
func testRejections(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	rec := func(source string, at time.Time, reason string) {
		t.Helper()
		r := central.Rejection{Source: source, Kind: "batch", Status: 401, Count: 1, FirstAt: at, At: at, Site: "kalk", Reason: reason, RemoteAddr: "192.0.2.1", Entries: 3}
		if err := s.RecordRejection(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	rec("192.0.2.1", start.Add(time.Minute), "second")
	rec("192.0.2.1", start, "first") // late: counted, not the sample
	rec("192.0.2.9", start.Add(2*time.Minute), "other")
	rec(central.SiteSource+"kalk", start, "own")
	got, err := s.Rejections(ctx, 10)
	if err != nil || len(got) != 3 {
		t.Fatalf("Rejections = %+v, %v; want 3 aggregates", got, err)
	}
	if got[0].Source != central.SiteSource+"kalk" || got[1].Source != "192.0.2.9" {
		t.Errorf("order = %s, %s, %s; want the site's own, then newest first", got[0].Source, got[1].Source, got[2].Source)
	}
	a := got[2]
	if a.Count != 2 || a.Reason != "second" || !a.FirstAt.Equal(start) || !a.At.Equal(start.Add(time.Minute)) {
		t.Errorf("aggregate = %+v; want 2, sample second, from start to a minute later", a)
	}
	if got, _ := s.Rejections(ctx, 1); len(got) != 1 {
		t.Errorf("Rejections(1) = %d, want 1", len(got))
	}
}

// A nonce is taken once until it expires.
func testNonces(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	use := func(site, nonce string, now time.Time) bool {
		t.Helper()
		ok, err := s.UseNonce(ctx, site, []byte(nonce), now, now.Add(5*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, tc := range []struct {
		site, nonce string
		at          time.Duration
		want        bool
	}{
		{"kalk", "n1", 0, true},
		{"kalk", "n1", time.Minute, false},
		{"porz", "n1", time.Minute, true},
		{"kalk", "n2", time.Minute, true},
		{"kalk", "n1", 6 * time.Minute, true}, // expired, forgotten
	} {
		if got := use(tc.site, tc.nonce, start.Add(tc.at)); got != tc.want {
			t.Errorf("UseNonce(%s, %s) after %v = %v, want %v", tc.site, tc.nonce, tc.at, got, tc.want)
		}
	}
}

// A site's box key is replaced by a newer one and goes with its keys'
// revocation; a secret is made once and is the same for every process on
// the database, also when several ask for it first at once.
func testBoxKeysAndSecrets(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	if key, err := s.BoxKey(ctx, "kalk"); err != nil || key != nil {
		t.Errorf("BoxKey before any = %x, %v; want none", key, err)
	}
	for _, key := range []string{"first box key", "second box key"} {
		if err := s.RecordBoxKey(ctx, "kalk", []byte(key), start); err != nil {
			t.Fatal(err)
		}
	}
	if key, err := s.BoxKey(ctx, "kalk"); err != nil || string(key) != "second box key" {
		t.Errorf("BoxKey = %q, %v; want the second", key, err)
	}
	if _, err := s.RevokeSiteKeys(ctx, "kalk", start); err != nil {
		t.Fatal(err)
	}
	if key, err := s.BoxKey(ctx, "kalk"); err != nil || key != nil {
		t.Errorf("BoxKey after revoking = %x, %v; want none", key, err)
	}

	others := []Store{s, mustOpen(t, open), mustOpen(t, open)}
	got := make([][]byte, len(others))
	var wg sync.WaitGroup
	for i, o := range others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if got[i], err = o.Secret(ctx, "contact-hash", 32, start); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range got {
		if len(got[i]) != 32 || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("Secret from process %d = %x, want the same 32 bytes as %x", i, got[i], got[0])
		}
	}
	again, err := s.Secret(ctx, "contact-hash", 32, start.Add(time.Hour))
	if err != nil || !bytes.Equal(again, got[0]) {
		t.Errorf("Secret later = %x, %v; want the one made first", again, err)
	}
	if other, err := s.Secret(ctx, "other", 16, start); err != nil || len(other) != 16 || bytes.Equal(other, got[0][:16]) {
		t.Errorf("another secret = %x, %v; want 16 bytes of its own", other, err)
	}
}
