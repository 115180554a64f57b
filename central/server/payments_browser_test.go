package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veedel/veedel/internal/payment"
)

// TestBrowser_PaymentJourney: on a phone, a citizen orders a
// Meldebescheinigung by post, is sent to the demo provider, pays and
// comes back to the status page, where the payment is the first step,
// done. A second order left unpaid shows "Bezahlung ausstehend" with
// "Erneut bezahlen"; that leads to the provider again, "Abbrechen" ends
// it in "Bezahlung fehlgeschlagen".
func TestBrowser_PaymentJourney(t *testing.T) {
	e := newPaymentEnv(t)
	ctx := browser(t)
	shots := orderShots(t)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		for i, a := range actions {
			if err := chromedp.Do(c, a); err != nil {
				t.Fatalf("%s, step %d: %v", what, i+1, err)
			}
		}
	}
	var problems, text, state string
	var ok bool
	check := func(page string) {
		t.Helper()
		run("a11y "+page, orderEval(&problems, a11yProblems))
		if problems != "" {
			t.Errorf("%s: %s", page, problems)
		}
	}

	run("order by post",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(e.URL+"/bestellen"),
		chromedp.WaitVisible(chromedp.ID("f-kind-meldebescheinigung")),
		chromedp.Click(chromedp.ID("f-kind-meldebescheinigung")),
		chromedp.Click(chromedp.ID("f-delivery-post")),
		orderEval(&text, `document.getElementById("f-delivery-post-hint").textContent`),
		chromedp.SendKeys(chromedp.ID("f-person-family_name"), "Kowalczyk-Öztürk"),
		chromedp.SendKeys(chromedp.ID("f-person-given_names"), "Zofia"),
		chromedp.SendKeys(chromedp.ID("f-person-birth_date"), "28.02.1990"),
		chromedp.SetValue(chromedp.ID("f-site"), siteID),
		chromedp.SendKeys(chromedp.ID("f-address-street"), "Kalker Hauptstraße 1"),
		chromedp.SendKeys(chromedp.ID("f-address-postcode"), "51103"),
		chromedp.SendKeys(chromedp.ID("f-address-city"), "Köln"),
		chromedp.SendKeys(chromedp.ID("f-contact-email"), "zofia@example.de"),
		chromedp.Click(chromedp.ID("f-consent")),
		orderShot(shots, "payment-0-form"),
		orderEval(&problems, a11yProblems),
		chromedp.Click(chromedp.ID("order-submit")),
		chromedp.WaitVisible(chromedp.CSS(`button[value="pay"]`)),
		orderEval(&state, `document.title`),
		orderShot(shots, "payment-1-provider"),
	)
	if problems != "" {
		t.Errorf("form: %s", problems)
	}
	if state != "Demo-Bezahldienst" {
		t.Errorf("after ordering the browser is at %q, want the provider's page", state)
	}
	if !strings.Contains(text, "online") {
		t.Errorf("post's hint %q does not say it is paid online", text)
	}
	run("pay",
		orderEval(&text, `document.querySelector(".amount").textContent`),
		chromedp.Click(chromedp.CSS(`button[value="pay"]`)),
		chromedp.WaitVisible(chromedp.ID("order")),
		orderEval(&state, `document.querySelector('[data-field="state"]').textContent + " | " + document.querySelector(".order-steps").textContent`),
		orderShot(shots, "payment-2-paid-status"),
	)
	if text != "20,00 €" && text != "10,00 €" {
		t.Errorf("amount on the provider's page: %q", text)
	}
	if !strings.Contains(state, "eingegangen") || !strings.Contains(state, "Bezahlt") || strings.Contains(state, "ausstehend") {
		t.Errorf("status after paying: %q", state)
	}
	check("status after paying")

	_, token, _ := e.placeOnline()
	run("awaiting payment",
		chromedp.Navigate(e.URL+"/o/"+token),
		chromedp.WaitVisible(chromedp.ID("pay-again")),
		orderEval(&state, `document.querySelector('[data-field="state"]').textContent`),
		orderShot(shots, "payment-3-awaiting"),
	)
	if !strings.Contains(state, "Bezahlung ausstehend") {
		t.Errorf("status awaiting payment: %q", state)
	}
	check("status awaiting payment")
	var dir string
	run("awaiting payment, in Arabic",
		chromedp.Navigate(e.URL+"/o/"+token+"?lang=ar"),
		chromedp.WaitVisible(chromedp.ID("pay-again")),
		orderEval(&dir, `document.documentElement.dir + " " + document.getElementById("pay-again").textContent`),
		orderEval(&ok, noSideways),
		orderShot(shots, "payment-3-awaiting-ar"),
		chromedp.Navigate(e.URL+"/o/"+token+"?lang=de"),
		chromedp.WaitVisible(chromedp.ID("pay-again")),
	)
	if dir != "rtl الدفع مرة أخرى" || !ok {
		t.Errorf("Arabic status page: %q, reflows %v", dir, ok)
	}
	run("pay again, then cancel",
		chromedp.Click(chromedp.ID("pay-again")),
		chromedp.WaitVisible(chromedp.CSS(`button[value="cancel"]`)),
		chromedp.Click(chromedp.CSS(`button[value="cancel"]`)),
		chromedp.WaitVisible(chromedp.ID("order")),
		orderEval(&state, `document.querySelector('[data-field="state"]').textContent`),
		orderEval(&text, `String(document.getElementById("pay-again"))`),
		orderShot(shots, "payment-4-failed"),
	)
	if !strings.Contains(state, "Bezahlung fehlgeschlagen") || text != "null" {
		t.Errorf("status after cancelling: %q, pay-again %q", state, text)
	}
	check("status after cancelling")

	// The status page left open while the citizen pays elsewhere follows
	// the notification at once (well before its 30 s refresh).
	code3, token3, _ := e.placeOnline()
	run("open status page", chromedp.Navigate(e.URL+"/o/"+token3), chromedp.WaitVisible(chromedp.ID("pay-again")),
		orderUntil(`!document.querySelector("#order .js-only").hidden`))
	if status, out := e.notify(e.signed(payment.Notification{Reference: code3, AmountCents: 2000, Currency: "EUR", Status: payment.StatusPaid,
		TransactionID: "T-live", Timestamp: e.Clock.Now().Unix()})); status != 200 {
		t.Fatalf("notify: %d %v", status, out)
	}
	run("live update", orderUntil(`document.querySelector('[data-field="state"]').textContent.indexOf("eingegangen") >= 0`))
}
