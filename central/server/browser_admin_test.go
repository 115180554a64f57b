package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
)

// The fleet's devices page no longer reloads itself (axe: meta-refresh):
// it updates in place, keeps focus where it was, says a new fault in its
// polite status region, and its "Aktualisieren" button does the same at
// once. Its wide table is a focusable, labelled region.
func TestBrowser_AdminDevicesUpdateInPlace(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t)
	e.createAdmin("tom", central.RoleTechnician, "technik42")
	l := opening(t, e.Clock)
	l.add(queue.TypeDeviceReported, "device/printer", &queue.DeviceReported{Device: "printer", Kind: queue.DevicePrinter, Address: "tcp://192.0.2.10:9100", Up: true})
	e.mustPost(l.batch(1, 6))

	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	until := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(10*time.Second))(ctx, tg)
			return err
		})
	}
	var refreshes int
	run("log in and open the devices page",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(e.URL+"/admin/login"),
		chromedp.SendKeys(chromedp.ID("user"), "tom"),
		chromedp.SendKeys(chromedp.ID("password"), "technik42"),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS(`.admin-nav`)),
		chromedp.Navigate(e.URL+"/admin/devices"),
		chromedp.WaitVisible(chromedp.ID("devices")),
		chromedp.Evaluate[chromedp.Void](`window.mark = 1`),
	)
	refreshes, _ = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('meta[http-equiv="refresh"]').length`))
	if refreshes != 0 {
		t.Errorf("the devices page has %d meta refresh", refreshes)
	}
	label, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const w = document.querySelector("#devices").closest(".table-wrap"); return w.tabIndex + " " + w.getAttribute("role") + " " + document.getElementById(w.getAttribute("aria-labelledby")).textContent.trim(); })()`))
	if !strings.HasPrefix(label, "0 region Standorte mit Geräten") {
		t.Errorf("table region: %q, want focusable region labelled by its heading", label)
	}

	// The clerk reads the table (focus on it); the printer runs out of
	// paper; the next automatic round (here after 1 s) shows and says it.
	run("focus the table", chromedp.Focus(chromedp.CSS(`.table-wrap`)))
	l.add(queue.TypeDeviceReported, "device/printer", &queue.DeviceReported{Device: "printer", Kind: queue.DevicePrinter, Address: "tcp://192.0.2.10:9100", Up: true, PaperOut: true})
	e.mustPost(l.batch(7, 7))
	run("automatic update",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-refresh]").dataset.refresh = "1"`),
		until(`document.getElementById("refresh-status").textContent === "1 Gerät gestört"`),
		until(`document.querySelector('tr[data-device="printer"]').classList.contains("state-fault")`),
		until(`document.activeElement.classList.contains("table-wrap") && window.mark === 1`),
	)

	// The button: focus stays on it, the status says it is done.
	e.Clock.Add(2 * time.Minute)
	run("refresh button",
		chromedp.Focus(chromedp.ID("refresh")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("refresh-status").textContent = ""`),
		chromedp.KeyEvent("\r"),
		until(`document.getElementById("refresh-status").textContent.startsWith("Aktualisiert") && document.getElementById("refresh-status").textContent.includes("1 Gerät gestört")`),
		until(`document.activeElement.id === "refresh" && window.mark === 1`),
	)
	if dir := os.Getenv("VEEDEL_SCREENSHOTS"); dir != "" {
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err == nil {
			os.WriteFile(filepath.Join(dir, "admin-devices-in-place.png"), buf, 0o644)
		}
	}
}
