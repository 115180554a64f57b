package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// The kiosk speaks Arabic right to left, with a menu of four languages;
// ticket numbers and times are isolated from the Arabic text.
func TestKioskArabic(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	client := h.browser(t)
	res := h.get(t, client, "/kiosk?lang=ar")
	if res.status != http.StatusOK {
		t.Fatalf("status = %d", res.status)
	}
	page := res.String()
	for _, want := range []string{
		`<html lang="ar" dir="rtl">`,
		"احصل على رقم انتظار",      // the title
		"بطاقة الهوية وجواز السفر", // the ausweis service
		`<a href="/kiosk?lang=tr" lang="tr" hreflang="tr" dir="ltr">Türkçe</a>`,
		`<a href="/kiosk?lang=ar" lang="ar" hreflang="ar" dir="rtl" aria-current="true">العربية</a>`,
		`hreflang="de" dir="ltr">Deutsch</a>`,
		`hreflang="en" dir="ltr">English</a>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("Arabic kiosk lacks %q", want)
		}
	}
	if got := res.header.Get("Content-Language"); got != "ar" {
		t.Errorf("Content-Language = %q", got)
	}

	// The choice is kept (cookie) for the ticket page.
	res = h.postForm(t, client, "/kiosk/tickets", "service=ausweis&key=ar1")
	if res.status != http.StatusSeeOther {
		t.Fatalf("take ticket: status %d", res.status)
	}
	page = h.get(t, client, res.header.Get("Location")).String()
	for _, want := range []string{`<html lang="ar" dir="rtl">`, "رقم انتظارك", `dir="ltr"><bdi>A001</bdi>`, "عدد المنتظرين قبلك: <bdi>0</bdi>", `href="/kiosk?lang=de" id="done"`} {
		if !strings.Contains(page, want) {
			t.Errorf("Arabic ticket page lacks %q", want)
		}
	}

	// The desk does not offer Arabic: it falls back to German.
	if page := h.get(t, client, "/desk/login").String(); !strings.Contains(page, `<html lang="de" dir="ltr">`) || strings.Contains(page, "hreflang=\"ar\"") {
		t.Errorf("desk login with an Arabic cookie is not German with the de/en switch")
	}
	if page := h.get(t, client, "/desk/login?lang=tr").String(); !strings.Contains(page, `<html lang="de" dir="ltr">`) {
		t.Errorf("desk login offers Turkish")
	}
}

func TestKioskTurkish(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	page := h.get(t, nil, "/kiosk?lang=tr").String()
	for _, want := range []string{`<html lang="tr" dir="ltr">`, "Sıra numarası alın", "Kimlik kartı ve pasaport", "Adres kaydı ve adres değişikliği", "Belge teslim alma"} {
		if !strings.Contains(page, want) {
			t.Errorf("Turkish kiosk lacks %q", want)
		}
	}
}
