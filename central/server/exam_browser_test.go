package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/web/webtest"
)

// The exam pages with a cohort and statistics, checked by axe-core at a
// desktop's width and reflowed at 320 px (no sideways scrolling of the
// page: wide tables scroll in their own region), in German and English.
func TestBrowser_AdminExam(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t)
	e.examSetup(true)
	e.postCohort("amt", "geheim1", "?year=2027", "text/csv", cohortFile)
	l := newSiteLog(t, e.Clock)
	for i := range 30 {
		bmi := []string{exam.BMINormal, exam.BMINormal, exam.BMINormal, exam.BMIOverweight, exam.BMIUnderweight}[i%5]
		d := []string{"Kalk", "Porz", "Ehrenfeld"}[i%3]
		id := fmt.Sprintf("b%02d", i)
		l.add(exam.TypeStatistics, "exam/"+id, statsRecord(id, d, bmi, i%7 != 0, exam.Vaccines[:i%12+1]...))
	}
	e.mustPost(l.batch(1, uint64(len(l.entries))))
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	run("log in",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(e.URL+"/admin/login"),
		chromedp.SendKeys(chromedp.ID("user"), "amt"),
		chromedp.SendKeys(chromedp.ID("password"), "geheim1"),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS(`.admin-nav`)),
	)
	shot := func(name string) {
		if dir := os.Getenv("VEEDEL_SCREENSHOTS"); dir != "" {
			if buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
				os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
			}
			if buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
				os.WriteFile(filepath.Join(dir, name+"-top.png"), buf, 0o644)
			}
		}
	}
	// The parents' way: code, questionnaire (German and Arabic, at 320 px).
	key, _ := e.Store.Secret(t.Context(), "exam.cohort", 32, start)
	code := central.InvitationCode(key, central.ChildPseudonym(key, "Yıldırım-Schäfer", "Elif Sude", "2021-03-14"), 2027)
	for _, lang := range []string{"de", "ar"} {
		for _, w := range []int64{1280, 320} {
			name := fmt.Sprintf("parents-%s-%d", lang, w)
			run(name,
				chromedp.EmulateViewport(w, 800),
				chromedp.Navigate(e.URL+"/schuleingang?lang="+lang),
				chromedp.WaitVisible(chromedp.ID("f-code")),
				webtest.Axe("parents code "+name),
				chromedp.SendKeys(chromedp.ID("f-code"), code),
				chromedp.Click(chromedp.ID("code-submit")),
				chromedp.WaitVisible(chromedp.ID("f-consent")),
				webtest.Axe("parents questionnaire "+name),
			)
			if wide, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth + 1`)); wide {
				t.Errorf("%s: the questionnaire scrolls sideways", name)
			}
			shot("parents-questionnaire-" + name)
		}
	}
	run("parents submit without consent",
		chromedp.Click(chromedp.ID("questions-submit")),
		chromedp.WaitVisible(chromedp.ID("error-summary")),
		webtest.Axe("parents questionnaire refused"),
	)
	shot("parents-refused")
	for _, w := range []int64{1280, 320} {
		for _, lang := range []string{"de", "en"} {
			for _, p := range []struct{ name, path, wait string }{
				{"exam", "/admin/exam?year=2027&lang=" + lang, "import-form"},
				{"exam-stats", "/admin/exam/statistics?year=2027&lang=" + lang, "t-bmi"},
			} {
				name := fmt.Sprintf("%s-%s-%d", p.name, lang, w)
				run(name,
					chromedp.EmulateViewport(w, 800),
					chromedp.Navigate(e.URL+p.path),
					chromedp.WaitVisible(chromedp.ID(p.wait)),
					webtest.Axe("admin "+name),
				)
				wide, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth + 1`))
				if wide {
					who, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !(e.parentElement && e.parentElement.closest(".table-wrap"))).slice(0, 8).map(e => e.tagName + "." + e.className + "#" + e.id + " " + Math.round(e.getBoundingClientRect().right)).join(", ")`))
					dims, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.scrollWidth + " " + document.documentElement.clientWidth + " " + document.body.scrollWidth`))
					t.Errorf("%s: the page scrolls sideways (%s): %s", name, dims, who)
				}
				if lang == "de" {
					shot("admin-" + name)
				}
			}
		}
	}
}
