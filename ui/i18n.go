package ui

import "fmt"

// texts holds every user-visible string, German first. A key missing in
// English falls back to German; a key missing everywhere shows the key, and
// TestTextsComplete catches that.
var texts = map[string]map[string]string{
	"de": {
		"app.name":      "Veedel",
		"city":          "Stadt Köln",
		"lang.switch":   "English",
		"lang.name":     "Deutsch",
		"skip":          "Zum Inhalt springen",
		"minutes":       "%d Min.",
		"minutes.long":  "%d Minuten",
		"error.title":   "Das hat nicht geklappt",
		"back":          "Zurück",
		"notfound":      "Seite nicht gefunden",
		"notfound.text": "Diese Adresse gibt es nicht.",

		"kiosk.title":    "Ticket ziehen",
		"kiosk.lead":     "Bitte wählen Sie Ihr Anliegen.",
		"kiosk.wait":     "Wartezeit ca. %d Min. · %d wartend",
		"kiosk.nowait":   "Keine Wartezeit",
		"ticket.title":   "Ihre Wartenummer",
		"ticket.service": "Anliegen",
		"ticket.time":    "Gezogen um",
		"ticket.ahead":   "Vor Ihnen: %d",
		"ticket.est":     "Voraussichtliche Wartezeit: ca. %d Min.",
		"ticket.qr":      "QR-Code scannen: Sie sehen Ihre Wartezeit auf dem Handy und können den Warteraum verlassen.",
		"ticket.print":   "Drucken",
		"ticket.done":    "Fertig",
		"ticket.again":   "Weiteres Ticket",

		"desk.title":        "Sachbearbeitung",
		"desk.login":        "Anmelden",
		"desk.logout":       "Abmelden",
		"desk.user":         "Benutzername",
		"desk.password":     "Passwort",
		"desk.counter":      "Platz wählen",
		"desk.counter.set":  "An diesem Platz arbeiten",
		"desk.at":           "Sie arbeiten an",
		"desk.change":       "Platz wechseln",
		"desk.current":      "Aufgerufen",
		"desk.none":         "Niemand aufgerufen",
		"desk.callnext":     "Nächste Nummer aufrufen",
		"desk.recall":       "Erneut aufrufen",
		"desk.noshow":       "Nicht erschienen",
		"desk.finish":       "Abschließen",
		"desk.queue":        "Warteschlange heute",
		"desk.waiting":      "%d wartend",
		"desk.waiting.here": "%d wartend für diesen Platz",
		"desk.number":       "Nummer",
		"desk.service":      "Anliegen",
		"desk.since":        "Seit",
		"desk.waited":       "Wartet",
		"desk.empty":        "Niemand wartet.",
		"desk.counters":     "Plätze",
		"desk.open":         "geöffnet",
		"desk.closed":       "geschlossen",

		"display.title":  "Aufrufanzeige",
		"display.now":    "Aktueller Aufruf",
		"display.recent": "Letzte Aufrufe",
		"display.waits":  "Wartezeiten",
		"display.sound":  "Ton einschalten",
		"display.to":     "Platz",
		"display.none":   "Noch keine Aufrufe",

		"portal.title":      "Wartezeiten in den Kundenzentren",
		"portal.lead":       "Aktuelle Wartezeiten ohne Termin. Mit Ihrem Ticket-QR-Code sehen Sie Ihre persönliche Wartezeit.",
		"portal.waiting":    "%d wartend",
		"portal.open":       "Geöffnet",
		"portal.closed":     "Geschlossen",
		"portal.stale":      "Keine aktuellen Daten",
		"portal.stale.long": "Seit %d Minuten keine Verbindung zu diesem Standort. Die Angaben sind nicht aktuell.",
		"portal.updated":    "Stand %s",
		"portal.never":      "noch keine Daten",
		"portal.empty":      "Noch keine Standorte verbunden.",
		"status.title":      "Ihr Ticket",
		"status.position":   "Position",
		"status.est":        "Geschätzte Wartezeit",
		"status.called":     "Sie sind dran! Bitte kommen Sie zu %s.",
		"status.done":       "Erledigt. Vielen Dank für Ihren Besuch.",
		"status.noshow":     "Sie wurden aufgerufen, waren aber nicht da. Bitte wenden Sie sich an die Information.",
		"status.expired":    "Dieses Ticket ist abgelaufen.",
		"status.next":       "Sie sind als Nächstes dran.",
		"status.notfound":   "Dieses Ticket kennen wir nicht (mehr). Bitte prüfen Sie den Link auf Ihrem Ticket.",
		"status.live":       "Aktualisiert sich automatisch.",

		"portal.wait":           "Geschätzte Wartezeit",
		"portal.hours":          "Heute %s",
		"portal.hours.none":     "Heute geschlossen",
		"portal.stale.note":     "Die Verbindung zu diesem Standort ist unterbrochen. Die Angaben sind nicht aktuell.",
		"portal.link":           "Alle Wartezeiten",
		"unit.min":              "Min.",
		"refresh":               "Aktualisieren",
		"status.soon":           "Gleich",
		"status.state.waiting":  "Wartend",
		"status.state.called":   "Aufgerufen",
		"status.state.done":     "Erledigt",
		"status.state.no_show":  "Nicht erschienen",
		"status.state.expired":  "Abgelaufen",
		"status.stale.note":     "Die Verbindung zum Standort ist unterbrochen: Position und Wartezeit sind nicht aktuell. Bitte achten Sie auch auf die Aufrufanzeige vor Ort.",
		"status.notfound.title": "Ticket nicht gefunden",
	},
	"en": {
		"city":          "City of Cologne",
		"lang.switch":   "Deutsch",
		"lang.name":     "English",
		"skip":          "Skip to content",
		"minutes":       "%d min",
		"minutes.long":  "%d minutes",
		"error.title":   "That did not work",
		"back":          "Back",
		"notfound":      "Page not found",
		"notfound.text": "This address does not exist.",

		"kiosk.title":    "Take a ticket",
		"kiosk.lead":     "Please choose your service.",
		"kiosk.wait":     "Wait approx. %d min · %d waiting",
		"kiosk.nowait":   "No waiting time",
		"ticket.title":   "Your ticket number",
		"ticket.service": "Service",
		"ticket.time":    "Issued at",
		"ticket.ahead":   "Ahead of you: %d",
		"ticket.est":     "Estimated wait: approx. %d min",
		"ticket.qr":      "Scan the QR code to follow your wait on your phone; you may leave the waiting room.",
		"ticket.print":   "Print",
		"ticket.done":    "Done",
		"ticket.again":   "Another ticket",

		"desk.title":        "Desk",
		"desk.login":        "Log in",
		"desk.logout":       "Log out",
		"desk.user":         "User name",
		"desk.password":     "Password",
		"desk.counter":      "Choose counter",
		"desk.counter.set":  "Work at this counter",
		"desk.at":           "You are working at",
		"desk.change":       "Change counter",
		"desk.current":      "Called",
		"desk.none":         "Nobody called",
		"desk.callnext":     "Call next number",
		"desk.recall":       "Call again",
		"desk.noshow":       "No-show",
		"desk.finish":       "Finish",
		"desk.queue":        "Today's queue",
		"desk.waiting":      "%d waiting",
		"desk.waiting.here": "%d waiting for this counter",
		"desk.number":       "Number",
		"desk.service":      "Service",
		"desk.since":        "Since",
		"desk.waited":       "Waiting",
		"desk.empty":        "Nobody is waiting.",
		"desk.counters":     "Counters",
		"desk.open":         "open",
		"desk.closed":       "closed",

		"display.title":  "Call display",
		"display.now":    "Now calling",
		"display.recent": "Recent calls",
		"display.waits":  "Waiting times",
		"display.sound":  "Turn sound on",
		"display.to":     "Counter",
		"display.none":   "No calls yet",

		"portal.title":      "Waiting times at the customer centres",
		"portal.lead":       "Current waiting times without an appointment. Your ticket's QR code shows your personal wait.",
		"portal.waiting":    "%d waiting",
		"portal.open":       "Open",
		"portal.closed":     "Closed",
		"portal.stale":      "No current data",
		"portal.stale.long": "No connection to this site for %d minutes. These figures are not current.",
		"portal.updated":    "As of %s",
		"portal.never":      "no data yet",
		"portal.empty":      "No sites connected yet.",
		"status.title":      "Your ticket",
		"status.position":   "Position",
		"status.est":        "Estimated wait",
		"status.called":     "It's your turn! Please go to %s.",
		"status.done":       "Done. Thank you for your visit.",
		"status.noshow":     "You were called but not there. Please ask at the information desk.",
		"status.expired":    "This ticket has expired.",
		"status.next":       "You are next.",
		"status.notfound":   "We do not know this ticket (any more). Please check the link on your ticket.",
		"status.live":       "Updates automatically.",

		"portal.wait":           "Estimated wait",
		"portal.hours":          "Today %s",
		"portal.hours.none":     "Closed today",
		"portal.stale.note":     "The connection to this site is interrupted. These figures are not current.",
		"portal.link":           "All waiting times",
		"unit.min":              "min",
		"refresh":               "Refresh",
		"status.soon":           "Shortly",
		"status.state.waiting":  "Waiting",
		"status.state.called":   "Called",
		"status.state.done":     "Done",
		"status.state.no_show":  "No-show",
		"status.state.expired":  "Expired",
		"status.stale.note":     "The connection to the site is interrupted: position and wait are not current. Please also watch the call display on site.",
		"status.notfound.title": "Ticket not found",
	},
}

// Translate returns the text for key in lang, formatted with args.
func Translate(lang, key string, args ...any) string {
	s, ok := texts[lang][key]
	if !ok {
		if s, ok = texts["de"][key]; !ok {
			s = key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Keys lists the text keys defined for a language.
func Keys(lang string) []string {
	keys := make([]string, 0, len(texts[lang]))
	for k := range texts[lang] {
		keys = append(keys, k)
	}
	return keys
}

// Lookup returns the text for key in lang without fallback.
func Lookup(lang, key string) (string, bool) {
	s, ok := texts[lang][key]
	return s, ok
}
