package server_test

import (
	"net/http"
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
