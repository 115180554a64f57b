package ui

// Texts of central's fleet view (/admin/devices): staff surfaces, German
// and English only.
func init() {
	for lang, m := range map[string]map[string]string{"de": {
		"admin.nav.devices":             "Geräte",
		"admin.devices.title":           "Geräte der Standorte",
		"admin.devices.lead":            "Drucker und SMS-Modems, wie die Standorte sie zuletzt gemeldet haben (Stand %s; die Seite lädt alle 15 s neu).",
		"admin.devices.sites":           "Standorte mit Geräten",
		"admin.devices.problems":        "%d Gerät(e) gestört",
		"admin.devices.allok":           "Alle Geräte in Ordnung",
		"admin.devices.device":          "Gerät",
		"admin.devices.state":           "Zustand",
		"admin.devices.details":         "Einzelheiten",
		"admin.devices.since":           "Seit",
		"admin.devices.lasterror":       "Letzter Fehler",
		"admin.devices.contact":         "Letzter Kontakt",
		"admin.devices.stale":           "Veraltet: Standort meldet sich nicht",
		"admin.devices.none":            "Noch hat kein Standort ein Gerät gemeldet.",
		"admin.devices.legend":          "Gestört: druckt bzw. sendet nicht. Bitte prüfen: Papier fast leer. Bei veralteten Standorten ist der Zustand so alt wie der letzte Kontakt.",
		"admin.devices.state.ok":        "In Ordnung",
		"admin.devices.state.attention": "Bitte prüfen",
		"admin.devices.state.fault":     "Gestört",
	}, "en": {
		"admin.nav.devices":             "Devices",
		"admin.devices.title":           "Site devices",
		"admin.devices.lead":            "Printers and SMS modems as the sites last reported them (as of %s; the page reloads every 15 s).",
		"admin.devices.sites":           "Sites with devices",
		"admin.devices.problems":        "%d device(s) faulty",
		"admin.devices.allok":           "All devices fine",
		"admin.devices.device":          "Device",
		"admin.devices.state":           "State",
		"admin.devices.details":         "Details",
		"admin.devices.since":           "Since",
		"admin.devices.lasterror":       "Last error",
		"admin.devices.contact":         "Last contact",
		"admin.devices.stale":           "Stale: the site is not reporting",
		"admin.devices.none":            "No site has reported a device yet.",
		"admin.devices.legend":          "Faulty: does not print or send. Check soon: paper low. For stale sites the state is as old as the last contact.",
		"admin.devices.state.ok":        "Fine",
		"admin.devices.state.attention": "Check soon",
		"admin.devices.state.fault":     "Faulty",
	}} {
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}
