package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/ui"
)

// berlin is the portal's time zone for clock times ("Stand 10:42"); live.js
// formats in the same zone.
var berlin = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return loc
	}
	return time.UTC
}()

// portalData is what page_portal.html shows.
type portalData struct {
	Sites  []siteView
	Events string
	Texts  map[string]string // for live.js
}

// siteView is a site as the portal renders it.
type siteView struct {
	central.SiteSummary
	Updated string // "Stand 10:42", or "noch keine Daten"
	Hours   string // today's opening hours, "" if the site has none described
	// Shut: closed by the site's opening hours. The portal then shows no
	// wait in minutes (nobody is called before it opens: issue 14) but
	// Opens, when it opens next ("Wieder geöffnet morgen ab 07:30.").
	Shut  bool
	Opens string
	// Bookable: the site sells appointments online (booking_portal.go).
	Bookable bool
}

// portal renders every site's waiting figures.
func (s *Server) portal(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	now := s.now()
	sites := s.Central.Sites()
	views := make([]siteView, 0, len(sites))
	for _, sum := range sites {
		v := siteView{SiteSummary: sum, Updated: freshness(lang, sum.LastSync, now)}
		s.Central.ViewSite(sum.ID, func(st *queue.State, _ central.SiteCursor) {
			v.Hours = hoursToday(lang, st, now)
			v.Shut, v.Opens = shut(lang, st, now)
			v.Bookable = booksOnline(st)
		})
		views = append(views, v)
	}
	w.Header().Set("Cache-Control", "no-cache")
	s.Renderer.Render(w, http.StatusOK, "portal", ui.Page{
		Lang: lang, Title: ui.Translate(lang, "portal.title"), Surface: "portal", Path: r.URL.Path, Langs: ui.CitizenLangs,
		Data: portalData{Sites: views, Events: "/events", Texts: liveTexts(lang,
			"portal.updated", "portal.never", "portal.waiting", "portal.open", "portal.closed")},
	})
}

// portalEvents streams event "sites" with the JSON of Central.Sites().
func (s *Server) portalEvents(w http.ResponseWriter, r *http.Request) {
	s.stream(w, r, "", func() (string, []byte) {
		data, _ := json.Marshal(s.Central.Sites())
		return "sites", data
	})
}

// freshness says when central last heard from a site: the clock time, with
// the date if that was not today.
func freshness(lang string, last, now time.Time) string {
	if last.IsZero() {
		return ui.Translate(lang, "portal.never")
	}
	l, n := last.In(berlin), now.In(berlin)
	layout := "15:04"
	if l.Format(time.DateOnly) != n.Format(time.DateOnly) {
		layout = "02.01. 15:04"
	}
	return ui.Translate(lang, "portal.updated", l.Format(layout))
}

// hoursToday lists a site's opening hours on now's weekday in the site's
// time zone: "Heute 07:30–12:00, 13:00–18:00" or "Heute geschlossen".
func hoursToday(lang string, st *queue.State, now time.Time) string {
	if len(st.Site.Hours) == 0 {
		return ""
	}
	day := now.In(st.Site.Location).Weekday()
	var today []queue.OpeningHours
	for _, h := range st.Site.Hours {
		if h.Weekday == day && h.Close > h.Open {
			today = append(today, h)
		}
	}
	if len(today) == 0 {
		return ui.Translate(lang, "portal.hours.none")
	}
	slices.SortFunc(today, func(a, b queue.OpeningHours) int { return a.Open - b.Open })
	parts := make([]string, len(today))
	for i, h := range today {
		parts[i] = fmt.Sprintf("%02d:%02d–%02d:%02d", h.Open/60, h.Open%60, h.Close/60, h.Close%60)
	}
	return ui.Translate(lang, "portal.hours", strings.Join(parts, ", "))
}

// shut reports whether a site is closed by its opening hours at now and,
// if so, when it opens next in lang ("Wieder geöffnet morgen ab 07:30.").
// A site without opening hours is never shut: nothing is said about them.
// While shut, citizen pages show no wait in minutes (issue 14); the JSON
// APIs keep their figures, which name no time of opening.
func shut(lang string, st *queue.State, now time.Time) (bool, string) {
	h := st.HoursAt(now)
	if !h.Known || h.Open {
		return false, ""
	}
	return true, ui.Opens(lang, h.NextOpen, now, st.Site.Location)
}

// liveTexts collects the untranslated formats live.js needs, keyed as in
// i18n.go.
func liveTexts(lang string, keys ...string) map[string]string {
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		m[k] = ui.Translate(lang, k)
		// A count's text in each of the language's plural forms, as
		// "key#one", "key#other": live.js picks one with Intl.PluralRules
		// (without them "1 Personen warten").
		forms := ui.Plural(lang, k)
		if forms == nil {
			forms = ui.Plural("de", k)
		}
		for form, text := range forms {
			m[k+"#"+form] = text
		}
	}
	return m
}
