package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/sqlite"
)

// TestExamDayInBrowser walks an exam day at the school-health site in
// chromium: the assistant checks the day list and records at the
// stations, the doctor signs off; the assistant's login cannot open the
// sign-off. Every page is checked with axe-core (German and English,
// desktop and phone) and photographed (VEEDEL_SCREENSHOTS keeps them).
func TestExamDayInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	dir := t.TempDir()
	escrow := filepath.Join(dir, "escrow.key")
	if _, err := exam.WriteEscrowKey(escrow); err != nil {
		t.Fatal(err)
	}
	_, app := startAppliance(t, applianceConfig{Site: "gesundheitsamt", DB: filepath.Join(dir, "gesundheitsamt.db"), ExamEscrowPub: escrow + ".pub",
		Users: []userSpec{{Name: "demo", Password: "demo", Role: sqlite.RoleLead}, {Name: "aerztin", Password: "demo", Role: sqlite.RoleDoctor},
			{Name: "assistenz", Password: "demo", Role: sqlite.RoleAssistant}}})
	auth := map[string]string{"Authorization": "Basic " + basicAuth("assistenz", "demo")}
	resp, body := postJSON(t, app.URL+"/api/v1/exams", map[string]any{"family_name": "Yılmaz", "given_names": "Elif", "birth_date": "2020-10-14", "sex": "w",
		"parent_name": "Ayşe Yılmaz", "school_district": "Innenstadt", "year": 2027, "day": time.Now().Format(time.DateOnly), "slot": "08:30"}, auth)
	var created struct{ ID string }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &created) != nil {
		t.Fatalf("register: %d %s", resp.StatusCode, body)
	}
	record := app.URL + "/desk/exams/" + created.ID
	shots := screenshotDir(t)
	browser := newBrowser(t)
	run := func(what string, actions ...step) {
		t.Helper()
		ctx, cancel := context.WithTimeout(browser, 60*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	login := func(user string) []step {
		return []step{
			chromedp.Navigate(app.URL + "/desk/login"), chromedp.WaitVisible(chromedp.ID("user")),
			chromedp.SendKeys(chromedp.ID("user"), user), chromedp.SendKeys(chromedp.ID("password"), "demo"),
			chromedp.Submit(chromedp.ID("password")), chromedp.WaitVisible(chromedp.ID("exams-link")),
		}
	}
	run("assistant", append(login("assistenz"),
		chromedp.EmulateViewport(1280, 900),
		chromedp.Click(chromedp.ID("exams-link")), chromedp.WaitVisible(chromedp.ID("exams")), screenshot(shots, "exam-day-list"),
		chromedp.Navigate(record), chromedp.WaitVisible(chromedp.ID("height_cm")),
		chromedp.SendKeys(chromedp.ID("height_cm"), "116,2"), chromedp.SendKeys(chromedp.ID("weight_kg"), "20,4"),
		chromedp.Click(chromedp.ID("save-measurement")), chromedp.WaitVisible(chromedp.ID("bmi-result")),
		chromedp.SendKeys(chromedp.ID("vision_right_without"), "1,0"), chromedp.SendKeys(chromedp.ID("vision_left_without"), "0,63"),
		chromedp.Click(chromedp.ID("save-vision")), chromedp.WaitVisible(chromedp.ID("vision-result")),
		chromedp.SendKeys(chromedp.ID("sopess_sprache_0"), "x"),
		chromedp.Click(chromedp.ID("save-sopess")), chromedp.WaitVisible(chromedp.CSS(`[aria-invalid="true"]`)), screenshot(shots, "exam-station-error"),
		chromedp.Navigate(record), chromedp.WaitVisible(chromedp.ID("impfpass_shown")),
		chromedp.Click(chromedp.ID("impfpass_shown")), chromedp.SendKeys(chromedp.ID("vaccinations_doses_masern"), "2"),
		chromedp.Click(chromedp.ID("save-vaccinations")), chromedp.WaitVisible(chromedp.ID("measles-result")),
		screenshot(shots, "exam-station"),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(record+"?lang=en"), chromedp.WaitVisible(chromedp.ID("height_cm")),
		screenshot(shots, "exam-station-phone-en"),
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(record+"/sign-off?lang=de"), chromedp.WaitVisible(chromedp.CSS("main")),
	)...)
	var page string
	run("assistant's sign-off", into(&page, chromedp.OuterHTML("body")))
	if strings.Contains(page, "signoff-form") || !strings.Contains(page, "Nur die Ärztin") {
		t.Fatalf("the assistant's login opened the sign-off:\n%.500s", page)
	}
	// The doctor in a browser of her own (another profile: no cookies).
	browser = newBrowser(t)
	run("doctor", append([]step{chromedp.EmulateViewport(1280, 900)},
		append(login("aerztin"),
			chromedp.Navigate(record+"/sign-off"), chromedp.WaitVisible(chromedp.ID("signoff-form")), screenshot(shots, "exam-signoff"),
			chromedp.SendKeys(chromedp.ID("finding_sehen"), "Visus links 0,63: augenärztliche Kontrolle"),
			chromedp.Click(chromedp.ID("save-findings")), chromedp.WaitVisible(chromedp.ID("height_cm")),
			chromedp.Navigate(record+"/sign-off"), chromedp.WaitVisible(chromedp.ID("signoff-form")),
			chromedp.Click(chromedp.ID("recommend-schulfaehig_mit_foerderung")), chromedp.Click(chromedp.ID("support-sehen")),
			chromedp.SendKeys(chromedp.ID("referrals"), "Augenärztin"),
			chromedp.Click(chromedp.ID("sign-off")), chromedp.WaitVisible(chromedp.ID("exam-recommendation")),
			screenshot(shots, "exam-signed-off"),
			chromedp.Navigate(record+"/sign-off?lang=en"), chromedp.WaitVisible(chromedp.ID("signoff-form")), screenshot(shots, "exam-signoff-en"),
		)...)...)
}
