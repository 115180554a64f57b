package ui

import (
	"fmt"
	"strings"
	"time"
)

// Formatting for the certificate orders' pages at the desk and central.
// Their texts are in ui/locales: order.* in every citizen language,
// orders.* for the desk in German and English; the printed letter and slip
// (orders.letter.*, orders.slip.*) are German, the language of the city's
// correspondence.

// Euros formats cents as an amount in lang: "20,00 €" in German,
// "€20.00" in English.
func Euros(lang string, cents int) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	if lang == "en" {
		return fmt.Sprintf("%s€%d.%02d", sign, cents/100, cents%100)
	}
	return fmt.Sprintf("%s%d,%02d\u00a0€", sign, cents/100, cents%100)
}

// Age is how long ago since was at now, shortly: "12 Min.", "5 Std.",
// "3 Tage".
func Age(lang string, since, now time.Time) string {
	d := max(now.Sub(since), 0)
	switch {
	case d < time.Hour:
		return Translate(lang, "orders.age.minutes", int(d/time.Minute))
	case d < 48*time.Hour:
		return Translate(lang, "orders.age.hours", int(d/time.Hour))
	}
	return Translate(lang, "orders.age.days", int(d/(24*time.Hour)))
}

// Day is a date of the form YYYY-MM-DD (a birth date, an event's date) as
// lang writes it: "14.03.1987", "14 Mar 1987"; unchanged when it does not
// parse.
func Day(lang, iso string) string {
	d, err := time.Parse(time.DateOnly, iso)
	if err != nil {
		return iso
	}
	return d.Format(dateLayout(lang))
}

// DateTime is a moment as lang writes its date and time, in t's own
// location: "14.03.2026 09:30", "14 Mar 2026, 09:30".
func DateTime(lang string, t time.Time) string {
	if lang == "en" {
		return t.Format(dateLayout(lang) + ", 15:04")
	}
	return t.Format(dateLayout(lang) + " 15:04")
}

// dateLayout is the layout of a date as lang writes it: the one place
// that knows them (Day, DateTime). German's for the languages without
// their own.
func dateLayout(lang string) string {
	if lang == "en" {
		return "2 Jan 2006"
	}
	return "02.01.2006"
}

// OrderKind is the name of a certificate kind in lang (the kind itself
// when unknown).
func OrderKind(lang, kind string) string {
	if s, ok := Lookup(lang, "order.kind."+kind); ok {
		return s
	}
	if s, ok := Lookup("de", "order.kind."+kind); ok {
		return s
	}
	return strings.ReplaceAll(kind, "_", " ")
}

// Day is a YYYY-MM-DD date in the page's language (ui.Day).
func (p Page) Day(iso string) string { return Day(p.Lang, iso) }

// DateTime is DateTime in the page's language.
func (p Page) DateTime(t time.Time) string { return DateTime(p.Lang, t) }

// When is a moment of the site's (Berlin's, as the template functions
// date and clock) as the page's language writes it: the desk's dates.
func (p Page) When(t time.Time) string { return DateTime(p.Lang, t.In(berlin)) }
