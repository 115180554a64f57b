package downlink_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/server"
	censqlite "github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/downlink"
	"github.com/veedel/veedel/sync/sitekey"
)

// TestDownlink_ClockOff: central refuses a poll signed more than
// changelog.FreshWindow from its clock. A site whose clock is two hours
// off learns central's time from the refusal's Date header and signs the
// poll again at once (the refused-poll pause is 30 s), so central's
// entries arrive.
func TestDownlink_ClockOff(t *testing.T) {
	for _, skew := range []time.Duration{-2 * time.Hour, 2 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			ctx := context.Background()
			store, err := censqlite.Open(ctx, filepath.Join(t.TempDir(), "central.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() })
			centralNow := func() time.Time { return time.Now().Add(-skew) }
			c, err := central.New(ctx, store, centralNow, quiet())
			if err != nil {
				t.Fatal(err)
			}
			key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
			token, err := store.CreateEnrollmentToken(ctx, "kalk", centralNow(), centralNow().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := store.Enroll(ctx, "kalk", token, sitekey.Public(key), centralNow()); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer((&server.Server{Central: c, Logger: quiet()}).Handler()) // AuthorizeSite
			t.Cleanup(srv.Close)
			env := &centralEnv{t: t, URL: srv.URL, Central: c, Store: store}
			env.sendMinutes(41)

			s := openSite(t)
			clock := &changelog.CentralClock{}
			d := &downlink.Downlink{Inbox: s.store, Site: "kalk", CentralURL: srv.URL, Logger: quiet(), Wait: time.Second, Central: clock,
				Authorize: func(r *http.Request) error {
					changelog.SignRequest(r, "kalk", key, clock.Now(time.Now()))
					return nil
				}}
			run(t, d)
			eventually(t, 10*time.Second, "central's entry applied", func() bool { return s.minutes() == 41 })
			if off := clock.Offset(); off > -skew+time.Minute || off < -skew-time.Minute {
				t.Errorf("measured offset %v, want about %v", off, -skew)
			}
		})
	}
}
