package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/veedel/veedel/appliance/queue"
)

// kioskTicket takes a ticket at the kiosk with client and returns its path.
func (h *harness) kioskTicket(t *testing.T, client *http.Client, key string) string {
	t.Helper()
	res := h.postForm(t, client, "/kiosk/tickets", "service=ausweis&key="+key)
	if res.status != http.StatusSeeOther {
		t.Fatalf("take ticket: status %d: %s", res.status, res)
	}
	return res.header.Get("Location")
}

func (h *harness) ticketID(t *testing.T, path string) string {
	t.Helper()
	token := strings.TrimPrefix(path, "/kiosk/tickets/")
	var id string
	h.store.View(func(st *queue.State) {
		if tk := st.TicketByToken(token); tk != nil {
			id = tk.ID
		}
	})
	if id == "" {
		t.Fatalf("no ticket behind %s", path)
	}
	return id
}

func (h *harness) signedUp(t *testing.T, id string) bool {
	t.Helper()
	ok, err := h.store.SMSSignedUp(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestKioskSMSSignUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	client := h.browser(t)
	path := h.kioskTicket(t, client, "sms1")

	page := h.get(t, client, path).String()
	for _, want := range []string{
		`<h2 id="sms-title">SMS-Benachrichtigung</h2>`,
		`<form method="post" action="` + path + `/sms" class="sms-form">`,
		`type="tel" inputmode="tel" autocomplete="tel"`,
		`<input type="checkbox" id="sms-consent" name="consent" value="yes" required>`,
		"gelöscht, sobald das Ticket endet",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("ticket page lacks %q", want)
		}
	}

	res := h.postForm(t, client, path+"/sms", url.Values{"phone": {"0151 23456789"}, "consent": {"yes"}}.Encode())
	if got, want := res.status, http.StatusSeeOther; got != want {
		t.Fatalf("sign up: status = %d, want %d: %s", got, want, res)
	}
	if got, want := res.header.Get("Location"), path+"#sms"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	id := h.ticketID(t, path)
	if !h.signedUp(t, id) {
		t.Fatalf("no sign-up stored")
	}
	signups, err := h.store.SMSSignups(context.Background())
	if err != nil || len(signups) != 1 || signups[0].Lang != "de" {
		t.Errorf("sign-ups = %+v, %v; want one in German", signups, err)
	}

	page = h.get(t, client, path).String()
	if !strings.Contains(page, `id="sms-ok"`) || strings.Contains(page, `class="sms-form"`) {
		t.Errorf("ticket page after sign-up: no confirmation, or the form again")
	}
	for _, form := range []string{"23456789", "+4915123456789"} {
		if strings.Contains(page, form) {
			t.Errorf("ticket page shows the number (%s)", form)
		}
		if strings.Contains(h.logs.String(), form) {
			t.Errorf("logs contain the number (%s):\n%s", form, h.logs)
		}
	}
}

func TestKioskSMSRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tt := range []struct {
		name, lang, phone, consent, want string
	}{
		{"Malformed", "de", "12345", "yes", "Das ist keine gültige Handynummer."},
		{"Letters", "en", "0151 CALLME", "yes", "This is not a valid mobile number."},
		{"Landline", "de", "0221 221-0", "yes", "Das sieht nach einer Festnetznummer aus."},
		{"LandlineTurkish", "tr", "+49 221 2210", "yes", "Bu bir sabit hat numarasına benziyor."},
		{"NoConsent", "de", "0151 23456789", "", "Bitte stimmen Sie zu"},
		{"NoConsentArabic", "ar", "0151 23456789", "", "يُرجى الموافقة على حفظ رقمك"},
		{"Empty", "de", "", "yes", "Das ist keine gültige Handynummer."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client := h.kioskBrowser(t) // seven tickets in a row: the site's kiosk
			h.get(t, client, "/kiosk?lang="+tt.lang)
			path := h.kioskTicket(t, client, "refused-"+tt.name)
			form := url.Values{"phone": {tt.phone}}
			if tt.consent != "" {
				form.Set("consent", tt.consent)
			}
			res := h.postForm(t, client, path+"/sms", form.Encode())
			if got, want := res.status, http.StatusBadRequest; got != want {
				t.Fatalf("status = %d, want %d", got, want)
			}
			page := res.String()
			if !strings.Contains(page, `<p class="error" role="alert" id="sms-error">`+tt.want) {
				t.Errorf("page lacks the message %q", tt.want)
			}
			if !strings.Contains(page, `class="sms-form"`) || !strings.Contains(page, `lang="`+tt.lang+`"`) {
				t.Errorf("page does not offer the form again in %s", tt.lang)
			}
			// The field the message is about is marked, described by it and
			// focused; consent given stays ticked.
			field := `<input id="sms-phone"`
			if tt.consent == "" {
				field = `<input type="checkbox" id="sms-consent"`
			}
			if i := strings.Index(page, field); i < 0 || !strings.Contains(page[i:i+strings.Index(page[i:], ">")], `aria-invalid="true" aria-describedby="sms-error" autofocus`) {
				t.Errorf("the field %s is not marked invalid, described and focused", field)
			}
			if got := strings.Count(page, `aria-invalid="true"`); got != 1 {
				t.Errorf("%d fields marked invalid, want 1", got)
			}
			if tt.consent != "" && !strings.Contains(page, `value="yes" required checked`) {
				t.Errorf("the consent given is not kept ticked")
			}
			if tt.phone != "" && strings.Contains(page, tt.phone) {
				t.Errorf("page echoes the number")
			}
			if h.signedUp(t, h.ticketID(t, path)) {
				t.Errorf("refused sign-up was stored")
			}
		})
	}
}

func TestKioskSMSEndedTicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	path := h.kioskTicket(t, nil, "ended")
	h.counterAction(t, "1", "call-next")
	if res := h.counterAction(t, "1", "finish"); res.status != http.StatusOK {
		t.Fatalf("finish: %d %s", res.status, res)
	}
	if strings.Contains(h.get(t, nil, path).String(), `class="sms-form"`) {
		t.Errorf("a finished ticket offers the SMS sign-up")
	}
	res := h.postForm(t, nil, path+"/sms", "phone=015123456789&consent=yes")
	if got, want := res.status, http.StatusConflict; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
	if h.signedUp(t, h.ticketID(t, path)) {
		t.Errorf("sign-up for a finished ticket was stored")
	}
	if res := h.postForm(t, nil, "/kiosk/tickets/nosuchtoken/sms", "phone=015123456789&consent=yes"); res.status != http.StatusNotFound {
		t.Errorf("unknown token: status %d, want 404", res.status)
	}
}
