package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/internal/web/webtest"
)

// The exam staff's pages with what central sent: the record and the
// doctor's sign-off with the parents' answers, the day list, and the desk
// of a site without the escrow key saying what waits. axe-core checks
// each, at a desktop's width and at 320 px (no sideways scrolling), in
// German and English; VEEDEL_SCREENSHOTS keeps the screenshots.
func TestBrowser_ExamParentsAndParked(t *testing.T) {
	ctx := webtest.Browser(t, 1280, 900)
	e := newExamSite(t)
	e.assign(t, "kind-w", parentsChild, "EWENDEL123")
	e.questionnaire(t, "kind-w", exam.ParentsAnswers{BirthTerm: exam.ParentsBirthPremature, BirthNotes: "34. Woche, Kaiserschnitt",
		Illnesses: "Pollenallergie\nAsthma-Spray bei Bedarf (Salbutamol), seit dem dritten Lebensjahr in kinderärztlicher Behandlung",
		Checkups:  []string{"U1", "U2", "U3", "U4", "U5", "U6", "U7", "U7a"}, Kita: true, KitaYears: 3, Languages: "Deutsch, Polnisch",
		Support: []string{"logopaedie", "ergotherapie"}, SupportNotes: "Sprachförderung in der Kita", Consent: true}, time.Now())
	recs, _ := exam.Records(t.Context(), e.store.Read())
	var id string
	for k := range recs {
		id = k
	}
	parked := newExamSiteWithoutEscrow(t)
	parked.assign(t, "kind-p", parentsChild, "EPARKED123")

	shots := os.Getenv("VEEDEL_SCREENSHOTS")
	check := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := webtest.Axe(name)(ctx, tg); err != nil {
				return err
			}
			wide, err := chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth + 1`)(ctx, tg)
			if err != nil {
				return err
			}
			if wide {
				return fmt.Errorf("%s scrolls sideways", name)
			}
			if shots == "" {
				return nil
			}
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644)
		})
	}
	login := func(url, user string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(url + "/desk/login"), chromedp.WaitVisible(chromedp.ID("user")),
			chromedp.SendKeys(chromedp.ID("user"), user), chromedp.SendKeys(chromedp.ID("password"), "demo"),
			chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.CSS("main")),
		}
	}
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	run("doctor logs in", login(e.url, "aerztin")...)
	for _, w := range []int64{1280, 320} {
		for _, lang := range []string{"de", "en"} {
			sfx := fmt.Sprintf("%s-%d", lang, w)
			run("exam pages "+sfx,
				chromedp.EmulateViewport(w, 900),
				chromedp.Navigate(e.url+"/desk/exams/"+id+"?lang="+lang), chromedp.WaitVisible(chromedp.ID("parents-answers")),
				check("exam-record-parents-"+sfx),
				chromedp.Navigate(e.url+"/desk/exams/"+id+"/sign-off?lang="+lang), chromedp.WaitVisible(chromedp.ID("parents-answers")),
				check("exam-signoff-parents-"+sfx),
			)
		}
	}
	run("lead at the site without the escrow key", append(login(parked.url, "demo"),
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(parked.url+"/desk?lang=de"), chromedp.WaitVisible(chromedp.ID("parked-alert")), check("desk-parked-de-1280"),
		chromedp.EmulateViewport(320, 900),
		chromedp.Navigate(parked.url+"/desk?lang=en"), chromedp.WaitVisible(chromedp.ID("parked-alert")), check("desk-parked-en-320"),
	)...)
}
