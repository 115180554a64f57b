package ui

// NetworkName is a modem's network state ("registered", "no SIM", as the
// sites report it) in lang; a state without a text stays as reported.
func NetworkName(lang, state string) string {
	if s, ok := Lookup(lang, "devices.net."+state); ok {
		return s
	}
	return state
}
