package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Issue 14: while its site is closed by its opening hours, a ticket's
// status page shows no wait in minutes but when the site opens.
func TestStatusPageClosed(t *testing.T) {
	e := newEnv(t)
	e.mustPost(opening(t, e.Clock).batch(1, 5))

	e.Clock.Add(11 * time.Hour) // Wednesday 21:00: closed until Thursday 07:30
	body := e.html("/t/"+tokenB, http.StatusOK)
	contains(t, "status at night", body, `data-field="state">Wartend<`, `data-field="position">1<`,
		"<dt>Jetzt geschlossen.</dt>", `data-field="opens">Wieder geöffnet morgen ab 07:30.<`, " data-shut")
	for _, minutes := range []string{`data-field="wait"`, `data-field="wait-unit"`, `class="p90"`} {
		if strings.Contains(body, minutes) {
			t.Errorf("status at night shows a wait in minutes (%s):\n%s", minutes, body)
		}
	}
	contains(t, "status at night in Arabic", e.html("/t/"+tokenB+"?lang=ar", http.StatusOK),
		`data-field="opens">يفتح مجددًا غدًا من الساعة 07:30.<`)

	e.Clock.Add(11 * time.Hour) // Thursday 08:00: open, minutes as before
	body = e.html("/t/"+tokenB, http.StatusOK)
	contains(t, "status when open", body, `data-field="wait-unit">Min.<`)
	if strings.Contains(body, " data-shut") || strings.Contains(body, `data-field="opens"`) {
		t.Errorf("open site's status page says when it opens:\n%s", body)
	}
}
