package ui

// Texts of the device integration: the kiosk's note on the printed ticket
// (every citizen language) and the desk's device banner and page (German
// and English). Kept apart from i18n.go; merged into texts at start.
var deviceTexts = map[string]map[string]string{
	"de": {
		"ticket.paper.ok":       "Ihr Ticket wurde gedruckt. Bitte nehmen Sie es aus dem Drucker.",
		"ticket.paper.printing": "Ihr Ticket wird gedruckt.",
		"ticket.paper.failed":   "Der Drucker ist gestört. Bitte fotografieren Sie den QR-Code oder lassen Sie sich per SMS benachrichtigen.",

		"devices.link":            "Geräte",
		"devices.title":           "Geräte",
		"devices.banner.alert":    "Ein Gerät braucht Hilfe:",
		"devices.banner.notice":   "Hinweis:",
		"devices.banner.more":     "Alle Geräte ansehen",
		"devices.name.printer":    "Ticketdrucker",
		"devices.name.modem":      "SMS-Modem",
		"devices.name.other":      "Gerät",
		"devices.state.ok":        "in Ordnung",
		"devices.state.down":      "nicht erreichbar",
		"devices.state.paperout":  "Papier leer",
		"devices.state.paperlow":  "Papier geht zur Neige",
		"devices.state.cover":     "Deckel offen",
		"devices.state.nosim":     "keine SIM-Karte",
		"devices.state.nonetwork": "kein Mobilfunknetz",
		"devices.state.error":     "Störung",
		"devices.level.ok":        "OK",
		"devices.level.notice":    "Hinweis",
		"devices.level.alert":     "Gestört",
		"devices.col.device":      "Gerät",
		"devices.col.state":       "Zustand",
		"devices.col.since":       "Seit",
		"devices.col.error":       "Störung",
		"devices.network":         "Netz: %s",
		// A modem's network state (hardware/modem: the registration, or
		// the SIM's trouble), by NetworkName.
		"devices.net.registered":       "eingebucht",
		"devices.net.roaming":          "eingebucht (Roaming)",
		"devices.net.searching":        "sucht ein Netz",
		"devices.net.denied":           "vom Netz abgelehnt",
		"devices.net.not registered":   "nicht eingebucht",
		"devices.net.unknown":          "unbekannt",
		"devices.net.no SIM":           "keine SIM-Karte",
		"devices.net.SIM pin required": "SIM-PIN nötig",
		"devices.net.SIM puk required": "SIM-PUK nötig",
		"devices.net.SIM failure":      "SIM-Karte defekt",
		"devices.signal":               "Signal %d dBm",
		"devices.lasterror":            "zuletzt: %s",
		"devices.none":                 "An diesem Standort ist kein Gerät eingerichtet.",
		"devices.none.yet":             "Die Geräte haben sich noch nicht gemeldet.",
		"devices.help":                 "Papier leer oder Deckel offen: Rolle einlegen, Deckel schließen. Nicht erreichbar: Kabel und Strom prüfen. Bleibt die Störung, bitte die Technik anrufen.",
		"devices.reprint":              "Nachdrucken",
		"devices.reprint.number":       "Ticket %s nachdrucken",
		"devices.reprint.none":         "Hier ist kein Ticketdrucker eingerichtet.",
		"devices.reprint.failed":       "Nachdruck fehlgeschlagen: %s",
	},
	"en": {
		"ticket.paper.ok":       "Your ticket has been printed. Please take it from the printer.",
		"ticket.paper.printing": "Your ticket is being printed.",
		"ticket.paper.failed":   "The printer is out of order. Please take a photo of the QR code or have us notify you by text message.",

		"devices.link":                 "Devices",
		"devices.title":                "Devices",
		"devices.banner.alert":         "A device needs attention:",
		"devices.banner.notice":        "Notice:",
		"devices.banner.more":          "See all devices",
		"devices.name.printer":         "Ticket printer",
		"devices.name.modem":           "SMS modem",
		"devices.name.other":           "Device",
		"devices.state.ok":             "working",
		"devices.state.down":           "not reachable",
		"devices.state.paperout":       "out of paper",
		"devices.state.paperlow":       "paper running low",
		"devices.state.cover":          "cover open",
		"devices.state.nosim":          "no SIM card",
		"devices.state.nonetwork":      "no mobile network",
		"devices.state.error":          "fault",
		"devices.level.ok":             "OK",
		"devices.level.notice":         "Notice",
		"devices.level.alert":          "Fault",
		"devices.col.device":           "Device",
		"devices.col.state":            "State",
		"devices.col.since":            "Since",
		"devices.col.error":            "Fault",
		"devices.network":              "Network: %s",
		"devices.net.registered":       "registered",
		"devices.net.roaming":          "registered (roaming)",
		"devices.net.searching":        "searching",
		"devices.net.denied":           "denied by the network",
		"devices.net.not registered":   "not registered",
		"devices.net.unknown":          "unknown",
		"devices.net.no SIM":           "no SIM card",
		"devices.net.SIM pin required": "SIM PIN required",
		"devices.net.SIM puk required": "SIM PUK required",
		"devices.net.SIM failure":      "SIM card failure",
		"devices.signal":               "signal %d dBm",
		"devices.lasterror":            "last: %s",
		"devices.none":                 "No devices are set up at this site.",
		"devices.none.yet":             "The devices have not reported yet.",
		"devices.help":                 "Out of paper or cover open: load a roll, close the cover. Not reachable: check the cable and power. If the fault stays, please call the technicians.",
		"devices.reprint":              "Reprint",
		"devices.reprint.number":       "Reprint ticket %s",
		"devices.reprint.none":         "No ticket printer is set up here.",
		"devices.reprint.failed":       "Reprint failed: %s",
	},
	"tr": {
		"ticket.paper.ok":       "Biletiniz yazdırıldı. Lütfen yazıcıdan alın.",
		"ticket.paper.printing": "Biletiniz yazdırılıyor.",
		"ticket.paper.failed":   "Yazıcı arızalı. Lütfen QR kodunun fotoğrafını çekin veya SMS ile bildirim alın.",
	},
	"ar": {
		"ticket.paper.ok":       "تمت طباعة تذكرتك. يرجى أخذها من الطابعة.",
		"ticket.paper.printing": "جارٍ طباعة تذكرتك.",
		"ticket.paper.failed":   "الطابعة معطلة. يرجى تصوير رمز QR أو طلب إشعار برسالة نصية.",
	},
}

// This file sorts after i18n_citizen.go, whose init makes texts["tr"] and
// texts["ar"]: package files' init functions run in that order.
func init() {
	for lang, m := range deviceTexts {
		if texts[lang] == nil {
			texts[lang] = map[string]string{}
		}
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}

// NetworkName is a modem's network state ("registered", "no SIM", as the
// sites report it) in lang; a state without a text stays as reported.
func NetworkName(lang, state string) string {
	if s, ok := Lookup(lang, "devices.net."+state); ok {
		return s
	}
	return state
}
