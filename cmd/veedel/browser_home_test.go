package main

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/internal/mail"
	"github.com/veedel/veedel/internal/mail/mailsim"
)

// TestFromHomeToTheCounterInBrowser: the two journeys of issue 10 from
// the citizen's phone to the clerk's desk, with central and Kalk as real
// servers on one shifted clock (a Monday morning, so that the slot is
// today and the kiosk issues):
//
//   - booking on a 390 px phone at central's /termin, the code from the
//     e-mail, the booking code at Kalk's kiosk, the clerk calling it;
//   - ordering a Meldebescheinigung for pickup at /bestellen, the clerk
//     marking it ready, the order code at the kiosk, the clerk calling it
//     and seeing the order.
func TestFromHomeToTheCounterInBrowser(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// Monday 1 March 2027, 07:40 in Cologne; the clock runs from there,
	// and shift moves it on.
	base, t0 := time.Date(2027, 3, 1, 7, 40, 0, 0, berlin), time.Now()
	var shift atomic.Int64
	now := func() time.Time { return base.Add(time.Since(t0) + time.Duration(shift.Load())) }

	browser := newBrowser(t)
	shots := screenshotDir(t)
	dir := t.TempDir()
	sim, err := mailsim.Start("127.0.0.1:0", mailsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	l, err := net.Listen("tcp", freeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	cn, err := openCentral(context.Background(), centralConfig{DB: filepath.Join(dir, "central.db"), Listener: l, Logger: testLogger(t), Now: now,
		Mail: &mailConfig{Relay: sim.Addr(), TLS: mail.TLSOff, From: "Test <noreply@veedel.invalid>"}})
	if err != nil {
		t.Fatal(err)
	}
	cn.mailSim = sim
	cent := serveInBackground(t, cn.URL, cn.Run)
	// Slots from a minute ahead: the journey books one due soon.
	cn.Central.Workflow(appointment.Prefix).(*appointment.Central).LeadTime = time.Minute
	// The enrollment token by central's clock.
	token, err := cn.store.CreateEnrollmentToken(context.Background(), "kalk", now(), now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	app, site := startAppliance(t, applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"), CentralURL: cent.URL, PortalURL: cent.URL,
		Heartbeat: 200 * time.Millisecond, Now: now, EnrollToken: token, Users: []userSpec{{Name: "demo", Password: "demo", Role: "lead"}}})
	eventually(t, 30*time.Second, "central sells kalk's slots of today", func() (bool, string) {
		slots, err := cn.Central.Workflow(appointment.Prefix).(*appointment.Central).Slots(context.Background(), cn.Central, "kalk", "ausweis", base.Format(time.DateOnly), now())
		return err == nil && len(slots) > 0 && slots[0].Available > 0, describe("%v %v", slots, err)
	})
	eventually(t, 30*time.Second, "central knows kalk's box key", func() (bool, string) {
		_, err := cn.Central.BoxKey(context.Background(), "kalk")
		return err == nil, describe("%v", err)
	})

	// 1. Booking on the phone.
	phone := newTab(t, browser)
	var slotID, slotLabel string
	runIn(t, phone, "open the booking", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(cent.URL+"/termin"), screenshot(shots, "home-0-phone-services"))
	runIn(t, phone, "book: service, site, today's first slot",
		chromedp.WaitVisible(chromedp.CSS(`[data-service="ausweis"] a`)),
		chromedp.Click(chromedp.CSS(`[data-service="ausweis"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-site="kalk"] a`)),
		chromedp.Click(chromedp.CSS(`[data-site="kalk"] a`)),
		chromedp.WaitVisible(chromedp.ID("slots")),
		into(&slotID, chromedp.Evaluate[string](`document.querySelector('.slot input').id`)),
		into(&slotLabel, chromedp.Evaluate[string](`document.querySelector('.slot label').textContent.trim()`)),
		screenshot(shots, "home-1-phone-slot"),
	)
	runIn(t, phone, "choose the time",
		chromedp.Click(chromedp.CSS(`label[for="`+slotID+`"]`)),
		chromedp.Click(chromedp.ID("slot-next")),
		chromedp.WaitVisible(chromedp.ID("f-name")),
	)
	runIn(t, phone, "name, e-mail, consent",
		chromedp.SendKeys(chromedp.ID("f-name"), "Erika Muster"),
		chromedp.SendKeys(chromedp.ID("f-email"), "erika.muster@example.de"),
		chromedp.Click(chromedp.ID("f-consent")),
		chromedp.Click(chromedp.ID("book-submit")),
		chromedp.WaitVisible(chromedp.ID("f-code")),
	)
	slot, err := time.ParseInLocation("2006-01-02 15:04", base.Format("2006-01-02")+" "+slotLabel, berlin)
	if err != nil {
		t.Fatalf("the first slot reads %q: %v", slotLabel, err)
	}
	code := cn.sentCode(t, "erika.muster@example.de")
	var bookingCode string
	runIn(t, phone, "confirm with the code from the e-mail",
		chromedp.SendKeys(chromedp.ID("f-code"), code),
		chromedp.Click(chromedp.ID("code-submit")),
		chromedp.WaitVisible(chromedp.ID("booking-code")),
		into(&bookingCode, chromedp.Evaluate[string](`document.getElementById('booking-code').textContent.replace(/\s+/g, '')`)),
		screenshot(shots, "home-2-phone-booked"),
	)
	eventually(t, 10*time.Second, "the booking at Kalk", func() (bool, string) {
		found := false
		app.Store.View(func(st *queue.State) { found = st.BookingByCode(bookingCode) != nil })
		return found, bookingCode
	})

	// 2. At the kiosk, as printed on the phone (grouped, lower case).
	kiosk := newTab(t, browser)
	var apptNumber string
	runIn(t, kiosk, "check in with the booking code",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(site.URL+"/kiosk"),
		chromedp.WaitVisible(chromedp.ID(`booking-code`)),
		chromedp.SendKeys(chromedp.ID(`booking-code`), strings.ToLower(bookingCode[:4]+" "+bookingCode[4:])),
		chromedp.Click(chromedp.ID(`checkin`)),
		chromedp.WaitVisible(chromedp.ID(`ticket-number`)),
		into(&apptNumber, chromedp.Text(chromedp.ID(`ticket-number`))),
		screenshot(shots, "home-3-kiosk-appointment-ticket"),
	)

	// 3. The clerk at counter 1 calls it, a minute before its time.
	if d := slot.Add(-time.Minute).Sub(now()); d > 0 {
		shift.Add(int64(d))
	}
	desk := newTab(t, browser)
	var called string
	runIn(t, desk, "the clerk calls the appointment", append(deskLogin(site.URL, "demo", "demo", "1"),
		chromedp.WaitVisible(chromedp.ID(`call-next`)),
		chromedp.Click(chromedp.ID(`call-next`)),
		until(`/[0-9]/.test(document.getElementById('current-number').textContent)`),
		into(&called, chromedp.Evaluate[string](`document.getElementById('current-number').textContent.trim()`)),
		screenshot(shots, "home-4-desk-called-appointment"),
	)...)
	if called != apptNumber {
		t.Errorf("the clerk called %q, the kiosk gave %q for the appointment", called, apptNumber)
	}
	runIn(t, desk, "finish", chromedp.Click(chromedp.ID(`finish`)), chromedp.WaitVisible(chromedp.ID(`call-next`)))

	// 4. Ordering a Meldebescheinigung for pickup on the phone.
	var orderCode string
	runIn(t, phone, "order for pickup at Kalk",
		chromedp.Navigate(cent.URL+"/bestellen"),
		chromedp.WaitVisible(chromedp.ID("f-kind-meldebescheinigung")),
		chromedp.Click(chromedp.ID("f-kind-meldebescheinigung")),
		chromedp.SendKeys(chromedp.ID("f-person-family_name"), "Kowalczyk-Öztürk"),
		chromedp.SendKeys(chromedp.ID("f-person-given_names"), "Zofia"),
		chromedp.SendKeys(chromedp.ID("f-person-birth_date"), "28.02.1990"),
		chromedp.SetValue(chromedp.ID("f-site"), "kalk"),
		chromedp.SendKeys(chromedp.ID("f-contact-email"), "zofia@example.de"),
		chromedp.Click(chromedp.ID("f-consent")),
		chromedp.Click(chromedp.ID("order-submit")),
		chromedp.WaitVisible(chromedp.ID("order-code")),
		into(&orderCode, chromedp.Evaluate[string](`document.getElementById("order-code").textContent.replace(/\s+/g, "")`)),
		screenshot(shots, "home-5-phone-ordered"),
	)
	eventually(t, 10*time.Second, "the order at Kalk", func() (bool, string) {
		_, err := registration.Get(context.Background(), app.Store.Read(), orderCode)
		return err == nil, describe("%v", err)
	})

	// 5. The clerk claims it and marks it ready.
	runIn(t, desk, "claim and mark ready",
		chromedp.Navigate(site.URL+"/desk/orders/"+orderCode),
		chromedp.WaitVisible(chromedp.ID("claim")),
		chromedp.Click(chromedp.ID("claim")),
		chromedp.WaitVisible(chromedp.ID("ready")),
		chromedp.Click(chromedp.ID("ready")),
		chromedp.WaitVisible(chromedp.ID("collect")),
		screenshot(shots, "home-6-desk-order-ready"),
	)

	// 6. The citizen checks in for pickup with the order code.
	var pickupNumber string
	runIn(t, kiosk, "check in for pickup",
		chromedp.Navigate(site.URL+"/kiosk"),
		chromedp.WaitVisible(chromedp.ID(`booking-code`)),
		chromedp.SendKeys(chromedp.ID(`booking-code`), orderCode),
		chromedp.Click(chromedp.ID(`checkin`)),
		chromedp.WaitVisible(chromedp.ID(`ticket-number`)),
		into(&pickupNumber, chromedp.Text(chromedp.ID(`ticket-number`))),
		screenshot(shots, "home-7-kiosk-pickup-ticket"),
	)

	// 7. The clerk at the counter that serves pickups calls it and sees
	// the order.
	var orderLink string
	runIn(t, desk, "the clerk moves to counter 3",
		chromedp.Navigate(site.URL+"/desk"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/desk/logout"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/desk/logout"] button`)),
		chromedp.WaitVisible(chromedp.ID(`user`)),
	)
	runIn(t, desk, "the clerk calls the pickup", append(deskLogin(site.URL, "demo", "demo", "3"),
		chromedp.WaitVisible(chromedp.ID(`call-next`)),
		chromedp.Click(chromedp.ID(`call-next`)),
		chromedp.WaitVisible(chromedp.ID(`current-order`)),
		into(&called, chromedp.Evaluate[string](`document.getElementById('current-number').textContent.trim()`)),
		into(&orderLink, chromedp.Text(chromedp.ID(`current-order`))),
		screenshot(shots, "home-8-desk-called-pickup"),
	)...)
	if called != pickupNumber || !strings.Contains(orderLink, orderCode) {
		t.Errorf("the clerk called %q (order link %q); the kiosk gave %q for order %s", called, orderLink, pickupNumber, orderCode)
	}

	// The lead's setting of central's share beside the counters.
	runIn(t, desk, "the online share at /desk/setup",
		chromedp.Navigate(site.URL+"/desk/setup#online"),
		chromedp.WaitVisible(chromedp.ID("online-ausweis")),
		screenshot(shots, "home-9-desk-setup-online"),
	)
}
