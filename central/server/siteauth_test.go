package server_test

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/sync/changelog"
)

// TestAuthorizeSite: a download poll must be signed by the site it asks for.
func TestAuthorizeSite(t *testing.T) {
	const target = "/api/v1/sync/outbound?site=" + siteID + "&after=3&wait=25s"
	sign := func(e *env, site string, key ed25519.PrivateKey, at time.Time) *http.Request {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		changelog.SignRequest(r, site, key, at)
		return r
	}
	for _, tc := range []struct {
		name     string
		request  func(e *env) *http.Request
		wantCode string
	}{
		{"OK", func(e *env) *http.Request { return sign(e, siteID, siteKey(siteID), e.Clock.Now()) }, ""},
		{"OKClockFourMinutesOff", func(e *env) *http.Request { return sign(e, siteID, siteKey(siteID), e.Clock.Now().Add(-4*time.Minute)) }, ""},
		{"OKClockFourMinutesAhead", func(e *env) *http.Request { return sign(e, siteID, siteKey(siteID), e.Clock.Now().Add(4*time.Minute)) }, ""},
		// Beyond the window either way: the appliance signs with central's
		// clock as measured from the Date header (changelog.CentralClock).
		{"ErrClockAnHourBehind", func(e *env) *http.Request { return sign(e, siteID, siteKey(siteID), e.Clock.Now().Add(-time.Hour)) }, veedel.EUNAUTHORIZED},
		{"ErrFutureDated", func(e *env) *http.Request { return sign(e, siteID, siteKey(siteID), e.Clock.Now().Add(6*time.Minute)) }, veedel.EUNAUTHORIZED},
		{"ErrUnsigned", func(e *env) *http.Request { return httptest.NewRequest(http.MethodGet, target, nil) }, veedel.EUNAUTHORIZED},
		{"ErrStale", func(e *env) *http.Request { return sign(e, siteID, siteKey(siteID), e.Clock.Now().Add(-3*time.Hour)) }, veedel.EUNAUTHORIZED},
		{"ErrUnknownKey", func(e *env) *http.Request { return sign(e, siteID, siteKey("stranger"), e.Clock.Now()) }, veedel.EUNAUTHORIZED},
		{"ErrTampered", func(e *env) *http.Request {
			r := sign(e, siteID, siteKey(siteID), e.Clock.Now())
			r.RequestURI = strings.Replace(r.RequestURI, "after=3", "after=0", 1)
			return r
		}, veedel.EUNAUTHORIZED},
		{"ErrOtherSitesPoll", func(e *env) *http.Request {
			e.enroll("kz-porz", siteKey("kz-porz"))
			return sign(e, "kz-porz", siteKey("kz-porz"), e.Clock.Now())
		}, veedel.EFORBIDDEN},
		{"ErrOtherSitesKey", func(e *env) *http.Request {
			e.enroll("kz-porz", siteKey("kz-porz"))
			return sign(e, siteID, siteKey("kz-porz"), e.Clock.Now())
		}, veedel.EFORBIDDEN},
		{"ErrRevoked", func(e *env) *http.Request {
			e.Store.RevokeSiteKeys(context.Background(), siteID, e.Clock.Now())
			return sign(e, siteID, siteKey(siteID), e.Clock.Now())
		}, veedel.EFORBIDDEN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s := &server.Server{Central: e.Central, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: e.Clock.Now}
			err := s.AuthorizeSite(tc.request(e), siteID)
			if got := veedel.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("AuthorizeSite = %v, want code %q", err, tc.wantCode)
			}
			if rej := e.rejections(); (tc.wantCode == "") != (len(rej) == 0) {
				t.Errorf("rejections = %+v", rej)
			}
		})
	}
}
