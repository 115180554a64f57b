package ui

// NetworkName is a modem's network state ("registered", "no SIM", as the
// sites report it) in lang; a state without a text reads "unknown" in
// lang, with the modem's own words in brackets for the technician.
func NetworkName(lang, state string) string {
	if s, ok := Lookup(lang, "devices.net."+state); ok {
		return s
	}
	if state == "" {
		return Translate(lang, "devices.net.unknown")
	}
	return Translate(lang, "devices.net.unknown") + " (" + state + ")"
}
