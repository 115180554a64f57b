package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// The status page speaks Turkish and Arabic (right to left), with the
// counter isolated in the call. The fixture's service is named
// "Personalausweis", not the catalogue's "Personalausweis und Reisepass":
// the built-in translation no longer fits, so the English name shows.
func TestStatusPageTurkishArabic(t *testing.T) {
	e := newEnv(t)
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, 5))
	contains(t, "Turkish waiting ticket", e.html("/t/"+tokenB+"?lang=tr", http.StatusOK),
		`<html lang="tr" dir="ltr">`, "Sıra numaranız", "Identity card", `data-field="state">Bekliyor<`,
		`hreflang="ar" dir="rtl">العربية</a>`, `"status.state.called":"Çağrıldı"`)

	call(l)
	e.mustPost(l.batch(6, 7))
	contains(t, "Turkish called ticket", e.html("/t/"+tokenA+"?lang=tr", http.StatusOK),
		`<span data-field="called">Sıra sizde! Lütfen şu bankoya gelin: <bdi>Platz 3</bdi></span>`, `data-field="state">Çağrıldı<`)
	contains(t, "Arabic called ticket", e.html("/t/"+tokenA+"?lang=ar", http.StatusOK),
		`<html lang="ar" dir="rtl">`, "Identity card", `dir="ltr"><bdi>A001</bdi>`,
		`<span data-field="called">حان دورك! يُرجى التوجّه إلى <bdi>Platz 3</bdi>.</span>`)
	contains(t, "Arabic portal", e.html("/?lang=ar", http.StatusOK), `<html lang="ar" dir="rtl">`, "مدد الانتظار في مراكز خدمة المواطنين")
}

// A citizen's phone opens the status page and the portal in its own
// language (Accept-Language) when nothing else has chosen; the QR link's
// ?lang= (the kiosk's language) and a cookie from the language menu win.
func TestCitizenPagesFollowAcceptLanguage(t *testing.T) {
	e := newEnv(t)
	l := opening(t, e.Clock)
	e.mustPost(l.batch(1, 5))
	arabicPhone := "ar-EG,ar;q=0.9,en-US;q=0.8,en;q=0.7"
	tests := []struct {
		what, path string
		header     []string
		want       string
	}{
		{"status, Arabic phone", "/t/" + tokenB, []string{"Accept-Language", arabicPhone}, `<html lang="ar" dir="rtl">`},
		{"status, Turkish phone", "/t/" + tokenB, []string{"Accept-Language", "tr-TR,tr;q=0.9"}, `<html lang="tr" dir="ltr">`},
		{"status, q-values decide", "/t/" + tokenB, []string{"Accept-Language", "de;q=0.3,en;q=0.9"}, `<html lang="en" dir="ltr">`},
		{"status, French phone", "/t/" + tokenB, []string{"Accept-Language", "fr-FR,fr;q=0.9"}, `<html lang="de" dir="ltr">`},
		{"status, no header", "/t/" + tokenB, nil, `<html lang="de" dir="ltr">`},
		{"status, kiosk's ?lang= wins", "/t/" + tokenB + "?lang=tr", []string{"Accept-Language", arabicPhone}, `<html lang="tr" dir="ltr">`},
		{"status, cookie wins", "/t/" + tokenB, []string{"Accept-Language", arabicPhone, "Cookie", "lang=en"}, `<html lang="en" dir="ltr">`},
		{"portal, Arabic phone", "/", []string{"Accept-Language", arabicPhone}, `<html lang="ar" dir="rtl">`},
		{"unknown ticket, Arabic phone", "/t/nope", []string{"Accept-Language", arabicPhone}, `<html lang="ar" dir="rtl">`},
	}
	for _, tt := range tests {
		resp, body := e.get(tt.path, tt.header...)
		contains(t, tt.what, body, tt.want)
		if got := resp.Header.Get("Content-Language"); !strings.Contains(tt.want, `"`+got+`"`) {
			t.Errorf("%s: Content-Language %q, want the page's", tt.what, got)
		}
		// The header's guess is not remembered: only a choice sets the cookie.
		if set := resp.Cookies(); len(set) > 0 && !strings.Contains(tt.path, "lang=") {
			t.Errorf("%s: set cookies %v", tt.what, set)
		}
	}
}
