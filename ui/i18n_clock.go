package ui

import "time"

// ClockOffset is a clock's offset (either way) in lang: "3 Min.",
// "24 Std. 5 Min.", "365 Tage"; under a minute "unter 1 Min.".
func ClockOffset(lang string, d time.Duration) string {
	if d < 0 {
		d = -d
	}
	if d >= time.Minute {
		d = d.Round(time.Minute)
	}
	switch {
	case d < time.Minute:
		return Translate(lang, "clock.dur.under")
	case d < time.Hour:
		return Translate(lang, "clock.dur.minutes", int(d/time.Minute))
	case d < 48*time.Hour:
		return Translate(lang, "clock.dur.hours", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return Translate(lang, "clock.dur.days", int(d/(24*time.Hour)))
}

// Texts of the site's clock check (appliance/clock): the kiosk's notice
// while the clock is wrong (every citizen language), the desk's banner and
// devices page section (German and English), and central's fleet view.
// Merged into texts at start.
var clockTexts = map[string]map[string]string{
	"de": {
		"kiosk.clock": "Tickets können gerade nicht ausgegeben werden. Bitte wenden Sie sich an das Personal.",

		"clock.wrong":           "Die Uhr dieses Geräts geht falsch (sie zeigt %s, der letzte Eintrag ist vom %s). Bitte Zeit prüfen.",
		"clock.wrong.reset":     "Die Uhr dieses Geräts geht falsch (sie zeigt %s). Bitte Zeit prüfen.",
		"clock.wrong.todo":      "Bis dahin gibt der Kiosk keine Tickets aus und am Schalter kann niemand aufgerufen werden. Datum und Uhrzeit des Geräts richtig stellen (oder die Technik anrufen), oder die Verbindung zur Zentrale herstellen: sobald die Zentrale antwortet, gilt ihre Zeit.",
		"clock.ahead":           "Die Uhr dieses Geräts geht %s vor (verglichen mit der Zentrale um %s).",
		"clock.behind":          "Die Uhr dieses Geräts geht %s nach (verglichen mit der Zentrale um %s).",
		"clock.corrected.todo":  "Veedel rechnet bis dahin mit der Zeit der Zentrale: Wartenummern, Öffnungszeiten und Datum stimmen. Bitte die Uhr des Geräts richtig stellen lassen (Technik).",
		"clock.logahead":        "Im Protokoll stehen Einträge mit einer Zeit bis zu %s nach jetzt (die Uhr ging vor); bis diese Zeit erreicht ist, erhalten neue Einträge dieselbe Zeit. Bitte die Technik informieren.",
		"clock.more":            "Uhr ansehen",
		"clock.title":           "Uhr",
		"clock.state":           "Zustand",
		"clock.state.ok":        "stimmt mit der Zentrale überein",
		"clock.state.unchecked": "noch nicht mit der Zentrale verglichen",
		"clock.state.corrected": "geht falsch: es gilt die Zeit der Zentrale",
		"clock.state.wrong":     "geht falsch: keine Tickets",
		"clock.wall":            "Uhr des Geräts",
		"clock.used":            "Es gilt",
		"clock.offset":          "Abweichung von der Zentrale",
		"clock.measured":        "gemessen um %s",
		"clock.unmeasured":      "seit dem Start noch nicht gemessen (keine Antwort der Zentrale)",
		"clock.help":            "Jede Antwort der Zentrale nennt ihre Uhrzeit. Geht die Uhr des Geräts mehr als eine Minute falsch, gilt die Zeit der Zentrale. Ohne Verbindung gilt die Uhr des Geräts, außer sie steht vor dem letzten Eintrag: dann werden keine Tickets ausgegeben, bis sie richtig gestellt ist.",
		"clock.dur.under":       "unter 1 Min.",
		"clock.dur.minutes":     "%d Min.",
		"clock.dur.hours":       "%d Std. %d Min.",
		"clock.dur.days":        "%d Tage",

		"devices.name.clock":   "Uhr",
		"devices.clock.ahead":  "geht %s vor; der Standort rechnet mit der Zeit der Zentrale",
		"devices.clock.behind": "geht %s nach; der Standort rechnet mit der Zeit der Zentrale",
		"devices.clock.ok":     "Abweichung %s",
		// The fleet view's "last error" of a clock, in place of the site's
		// own (English) words.
		"devices.clock.lasterror": "Uhr falsch: am Gerät richtig stellen lassen (Zeitserver, RTC-Batterie)",
	},
	"en": {
		"kiosk.clock": "Tickets cannot be issued right now. Please ask a member of staff.",

		"clock.wrong":           "This device's clock is wrong (it shows %s, the last entry is from %s). Please check the time.",
		"clock.wrong.reset":     "This device's clock is wrong (it shows %s). Please check the time.",
		"clock.wrong.todo":      "Until then the kiosk issues no tickets and no one can be called at the desk. Set the device's date and time (or call the technicians), or connect it to central: as soon as central answers, its time applies.",
		"clock.ahead":           "This device's clock is %s fast (compared with central at %s).",
		"clock.behind":          "This device's clock is %s slow (compared with central at %s).",
		"clock.corrected.todo":  "Until it is set, Veedel goes by central's time: ticket numbers, opening hours and dates are right. Please have the device's clock set (technicians).",
		"clock.logahead":        "The log has entries up to %s later than now (the clock was fast); until that time is reached, new entries get the same time. Please tell the technicians.",
		"clock.more":            "See the clock",
		"clock.title":           "Clock",
		"clock.state":           "State",
		"clock.state.ok":        "agrees with central",
		"clock.state.unchecked": "not yet compared with central",
		"clock.state.corrected": "wrong: central's time applies",
		"clock.state.wrong":     "wrong: no tickets",
		"clock.wall":            "Device clock",
		"clock.used":            "Time used",
		"clock.offset":          "Offset from central",
		"clock.measured":        "measured at %s",
		"clock.unmeasured":      "not measured since the start (no answer from central)",
		"clock.help":            "Every answer from central gives its time. When the device's clock is more than a minute off, central's time applies. Without a connection the device's clock applies, unless it is before the last entry: then no tickets are issued until it is set.",
		"clock.dur.under":       "less than 1 min",
		"clock.dur.minutes":     "%d min",
		"clock.dur.hours":       "%d h %d min",
		"clock.dur.days":        "%d days",

		"devices.name.clock":      "Clock",
		"devices.clock.ahead":     "%s fast; the site goes by central's time",
		"devices.clock.behind":    "%s slow; the site goes by central's time",
		"devices.clock.ok":        "offset %s",
		"devices.clock.lasterror": "clock off: have it set on the device (time server, RTC battery)",
	},
	"tr": {
		"kiosk.clock": "Şu anda bilet verilemiyor. Lütfen personele başvurun.",
	},
	"ar": {
		"kiosk.clock": "لا يمكن إصدار التذاكر حاليًا. يرجى التوجه إلى أحد الموظفين.",
	},
}

// This file sorts after i18n_citizen.go, whose init makes texts["tr"] and
// texts["ar"]: package files' init functions run in that order.
func init() {
	for lang, m := range clockTexts {
		if texts[lang] == nil {
			texts[lang] = map[string]string{}
		}
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}
