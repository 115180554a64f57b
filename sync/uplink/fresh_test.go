package uplink_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/server"
	censqlite "github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/sync/sitekey"
	"github.com/veedel/veedel/sync/uplink"
)

// TestUplink_ClockOff: central refuses a batch signed more than
// changelog.FreshWindow from its clock. A site whose clock is two hours
// behind (a dead RTC battery) learns central's time from the refusal's
// Date header, signs again at once, and its log arrives; its contact
// counts on the portal.
func TestUplink_ClockOff(t *testing.T) {
	for _, skew := range []time.Duration{-2 * time.Hour, 2 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			ctx := context.Background()
			store, err := censqlite.Open(ctx, filepath.Join(t.TempDir(), "central.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() })
			centralNow := func() time.Time { return time.Now().Add(-skew) } // the site runs skew ahead of central
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			c, err := central.New(ctx, store, centralNow, quiet)
			if err != nil {
				t.Fatal(err)
			}
			key := testKey(5)
			token, err := store.CreateEnrollmentToken(ctx, "kalk", centralNow(), centralNow().Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := store.Enroll(ctx, "kalk", token, sitekey.Public(key), centralNow()); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer((&server.Server{Central: c, Logger: quiet}).Handler())
			t.Cleanup(srv.Close)

			out := newOutbox()
			out.commit(t, 5)
			u := &uplink.Uplink{Outbox: out, Site: "kalk", CentralURL: srv.URL, Key: key, Logger: quiet,
				MaxBackoff: 50 * time.Millisecond, RefusedBackoff: time.Hour}
			ctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); u.Run(ctx) }()
			t.Cleanup(func() { cancel(); <-done })

			// RefusedBackoff is an hour: only the immediate re-signing
			// can get the batch through.
			waitFor(t, "the log acknowledged", func() bool { return u.Status().Acked == 5 })
			if got := u.Status().LastError; got != "" {
				t.Errorf("last error %q after the correction", got)
			}
			sites := c.Sites()
			if len(sites) != 1 || sites[0].Stale || sites[0].AckedSeq != 5 {
				t.Errorf("portal: %+v, want kalk live with 5 entries", sites)
			}
			rej, err := c.Rejections(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(rej) != 1 || rej[0].Count != 1 || rej[0].Status != 401 {
				t.Errorf("rejections %+v, want the one first batch signed with the site's own clock", rej)
			}
		})
	}
}
