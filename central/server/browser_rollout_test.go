package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/web/webtest"
)

// The devices page's software section with a rolled-back box, and the
// rollout form with an error next to its field, pass axe, at desktop
// width and at 320 px.
func TestBrowser_AdminRolloutAndUpdates(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	addRelease(t, e.Releases, "2026.12.1")
	if _, _, err := e.Central.ReportUpdate(t.Context(), central.UpdateReport{Site: "kalk", Version: "2026.11.0", Slot: "a", State: "rolled-back", Target: "2026.12.1",
		Reason: "release 2026.12.1 did not prove itself within 10m0s: no sync round with central since the boot", BootedAt: e.Clock.Now().Add(-3 * time.Hour), DiskFree: 412 << 20}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Central.ReportUpdate(t.Context(), central.UpdateReport{Site: "porz", Version: "2026.11.0", Slot: "b", State: "downloading", Target: "2026.12.1", Progress: 37, DiskFree: 380 << 20, ClockOffsetMS: 2300}); err != nil {
		t.Fatal(err)
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if dir := os.Getenv("VEEDEL_SCREENSHOTS"); dir != "" {
				buf, err := chromedp.FullScreenshot(100)(ctx, tg)
				if err == nil {
					os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
				}
			}
			return nil
		})
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.URL+"/admin/login"),
		chromedp.SendKeys(chromedp.ID("user"), "anna"),
		chromedp.SendKeys(chromedp.ID("password"), "geheim123"),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS(`.admin-nav`)),
	); err != nil {
		t.Fatal(err)
	}
	for _, width := range []int64{1280, 320} {
		if err := chromedp.Do(ctx,
			chromedp.EmulateViewport(width, 800),
			chromedp.Navigate(e.URL+"/admin/devices"),
			chromedp.WaitVisible(chromedp.ID("updates")),
			webtest.Axe("admin devices with updates"),
			shot(fmt.Sprintf("admin-devices-updates-%d", width)),
			chromedp.Click(chromedp.ID("rollout-link")),
			chromedp.WaitVisible(chromedp.ID("rollout-form")),
			chromedp.SendKeys(chromedp.ID("pilots"), "kalk, atlantis"),
			chromedp.Submit(chromedp.ID("pilots")),
			chromedp.WaitVisible(chromedp.ID("pilots-error")),
			webtest.Axe("admin rollout with an error"),
			shot(fmt.Sprintf("admin-rollout-error-%d", width)),
		); err != nil {
			t.Fatalf("width %d: %v", width, err)
		}
	}
}
