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
