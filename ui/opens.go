package ui

import "time"

// NextDay says on which day next lies, seen from now in loc: "today",
// "tomorrow" or "later"; "" when next is zero (no opening known).
func NextDay(next, now time.Time, loc *time.Location) string {
	if next.IsZero() {
		return ""
	}
	if loc == nil {
		loc = time.Local
	}
	n, t := next.In(loc), now.In(loc)
	y, m, d := t.Date()
	switch n.Format(time.DateOnly) {
	case time.Date(y, m, d, 12, 0, 0, 0, loc).Format(time.DateOnly):
		return "today"
	case time.Date(y, m, d+1, 12, 0, 0, 0, loc).Format(time.DateOnly):
		return "tomorrow"
	}
	return "later"
}

// Opens says when a closed site opens next, in lang: "Geöffnet heute ab
// 07:30.", "Wieder geöffnet morgen ab 07:30." or "… am 20.01. ab 07:30.";
// "" when next is zero. Plain text, for paper and for pages that render
// it whole.
func Opens(lang string, next, now time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	n := next.In(loc)
	switch NextDay(next, now, loc) {
	case "today":
		return Translate(lang, "kiosk.closed.today", n.Format("15:04"))
	case "tomorrow":
		return Translate(lang, "kiosk.closed.tomorrow", n.Format("15:04"))
	case "later":
		return Translate(lang, "kiosk.closed.later", n.Format("02.01."), n.Format("15:04"))
	}
	return ""
}
