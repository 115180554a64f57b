package changelog_test

import (
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/sync/changelog"
)

func TestSignRequest(t *testing.T) {
	key := testKey(1)
	pub := key.Public().(ed25519.PublicKey)
	now := time.Date(2026, 10, 5, 8, 0, 0, 0, time.UTC)

	// received turns a signed client request into what a server sees.
	received := func(r *http.Request) *http.Request {
		srv := httptest.NewRequest(r.Method, r.URL.RequestURI(), nil)
		srv.Header = r.Header.Clone()
		return srv
	}
	signed := func() *http.Request {
		r, _ := http.NewRequest(http.MethodGet, "http://central.example/api/v1/sync/outbound?site=kalk&after=7&wait=25s", nil)
		changelog.SignRequest(r, "kalk", key, now)
		return r
	}

	t.Run("OK", func(t *testing.T) {
		got, err := changelog.ParseRequest(received(signed()))
		if err != nil {
			t.Fatal(err)
		}
		if got.Site != "kalk" || !got.At.Equal(now) || changelog.KeyIDString(got.KeyID) != changelog.KeyIDString(changelog.KeyID(pub)) {
			t.Errorf("claim = %+v", got)
		}
		if err := got.Verify(pub); err != nil {
			t.Errorf("Verify = %v, want nil", err)
		}
		wantCode(t, got.Verify(testKey(2).Public().(ed25519.PublicKey)), veedel.EUNAUTHORIZED)
	})

	for _, tc := range []struct {
		name   string
		change func(*http.Request) *http.Request
	}{
		{"ErrOtherQuery", func(r *http.Request) *http.Request {
			s := received(r)
			s.RequestURI = "/api/v1/sync/outbound?site=kalk&after=0&wait=25s"
			return s
		}},
		{"ErrOtherSite", func(r *http.Request) *http.Request {
			s := received(r)
			s.Header.Set(changelog.HeaderSite, "porz")
			return s
		}},
		{"ErrOtherTime", func(r *http.Request) *http.Request {
			s := received(r)
			s.Header.Set(changelog.HeaderTime, "1")
			return s
		}},
		{"ErrOtherMethod", func(r *http.Request) *http.Request { s := received(r); s.Method = http.MethodDelete; return s }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := changelog.ParseRequest(tc.change(signed()))
			if err != nil {
				t.Fatal(err)
			}
			wantCode(t, got.Verify(pub), veedel.EUNAUTHORIZED)
		})
	}

	for _, header := range []string{changelog.HeaderSite, changelog.HeaderKeyID, changelog.HeaderTime, changelog.HeaderSignature} {
		t.Run("ErrMalformed"+header, func(t *testing.T) {
			for _, v := range []string{"", "%%%"} {
				r := received(signed())
				r.Header.Set(header, v)
				if header == changelog.HeaderSite && v != "" {
					continue // any site parses; the signature then fails
				}
				_, err := changelog.ParseRequest(r)
				wantCode(t, err, veedel.EUNAUTHORIZED)
			}
		})
	}
}
