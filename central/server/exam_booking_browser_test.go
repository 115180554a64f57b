package server_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/web/webtest"
)

// The parents' way from /schuleingang to the exam's booking in a browser:
// the questionnaire's link straight to the booking, the last step with the
// code filled in from the cookie, and the step refused for a wrong code;
// axe-core checks each in German and Arabic at a desktop's width and at
// 320 px (no sideways scrolling). VEEDEL_SCREENSHOTS keeps screenshots.
func TestBrowser_ExamBooking(t *testing.T) {
	ctx := browser(t)
	b := newExamBookingSite(t)
	key, _ := b.Store.Secret(t.Context(), "exam.cohort", 32, start)
	code := central.InvitationCode(key, central.ChildPseudonym(key, "Yıldırım-Schäfer", "Elif Sude", "2021-03-14"), 2027)
	slots := b.examSlots("2026-03-05")
	step4 := b.api + "/termin?service=schuleingang&site=gesundheitsamt&start=" + url.QueryEscape(slots[1].Start.UTC().Format(time.RFC3339))
	shots := os.Getenv("VEEDEL_SCREENSHOTS")
	shot := func(name string) {
		if shots == "" {
			return
		}
		if buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644)
		}
	}
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if wide, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth + 1`)); wide {
			t.Errorf("%s: the page scrolls sideways", what)
		}
	}
	for _, lang := range []string{"de", "ar"} {
		for _, w := range []int64{1280, 320} {
			name := fmt.Sprintf("%s-%d", lang, w)
			run("code and the way to the booking "+name,
				chromedp.EmulateViewport(w, 900),
				chromedp.Navigate(b.api+"/schuleingang?lang="+lang), chromedp.WaitVisible(chromedp.ID("f-code")),
				chromedp.SendKeys(chromedp.ID("f-code"), code), chromedp.Click(chromedp.ID("code-submit")),
				chromedp.WaitVisible(chromedp.ID("exam-book-direct")), webtest.Axe("parents questionnaire with the booking link "+name),
				chromedp.Click(chromedp.ID("exam-book-direct")), chromedp.WaitVisible(chromedp.CSS("main")),
				webtest.Axe("exam booking's day "+name),
			)
			shot("exam-booking-day-" + name)
			run("last step "+name,
				chromedp.Navigate(step4+"&lang="+lang), chromedp.WaitVisible(chromedp.ID("f-exam-code")),
				webtest.Axe("exam booking's last step "+name),
			)
			if v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("f-exam-code").value`)); v != code {
				t.Errorf("%s: the code field holds %q, want %q from the cookie", name, v, code)
			}
			shot("exam-booking-step4-" + name)
			run("wrong code "+name,
				chromedp.SetValue(chromedp.ID("f-exam-code"), "EZZZZZZZZZ"), chromedp.Click(chromedp.ID("book-submit")),
				chromedp.WaitVisible(chromedp.ID("f-exam-code-error")), webtest.Axe("exam booking refused "+name),
			)
			shot("exam-booking-refused-" + name)
		}
	}
}
