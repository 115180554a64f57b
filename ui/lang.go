package ui

import (
	"fmt"
	"html/template"
	"regexp"
	"strings"
)

// Isolated translates key like Translate and wraps every argument in a
// <bdi> element, so that data of its own direction (a ticket number, a
// counter name such as "Platz 3", a time) reads correctly inside Arabic
// text. Text and arguments are HTML-escaped.
func Isolated(lang, key string, args ...any) template.HTML {
	wrapped := make([]any, len(args))
	for i, a := range args {
		wrapped[i] = "<bdi>" + template.HTMLEscapeString(fmt.Sprint(a)) + "</bdi>"
	}
	// Escape the text around the verbs, then put the isolated arguments in.
	s := template.HTMLEscapeString(message(lang, key, args))
	if len(args) == 0 || !strings.Contains(s, "%") {
		return template.HTML(s)
	}
	s = verb.ReplaceAllString(s, "%${1}s")
	return template.HTML(fmt.Sprintf(s, wrapped...))
}

// verb matches the format verbs the texts use: %d and %s, also with an
// argument index (%[2]d).
var verb = regexp.MustCompile(`%(\[\d+\])?[ds]`)

// serviceNames translates the built-in catalogue's services (appliance's
// customerCentreServices) into the languages the sync wire format does not
// carry. Each entry keeps the German name it translates: once an
// administrator renames the service, the translation no longer fits and
// the English (then German) name is shown instead.
var serviceNames = map[string]struct{ de, tr, ar string }{
	"ausweis":       {"Personalausweis und Reisepass", "Kimlik kartı ve pasaport", "بطاقة الهوية وجواز السفر"},
	"meldung":       {"An- und Ummeldung", "Adres kaydı ve adres değişikliği", "تسجيل السكن وتغيير العنوان"},
	"bescheinigung": {"Meldebescheinigung und Führungszeugnis", "İkametgâh belgesi ve adli sicil kaydı", "شهادة السكن وشهادة حسن السيرة والسلوك"},
	"abholung":      {"Abholung von Dokumenten", "Belge teslim alma", "استلام الوثائق"},
	"schuleingang":  {"Schuleingangsuntersuchung", "Okula başlama muayenesi", "فحص دخول المدرسة"},
}

// ServiceName is a service's name in lang: the German name (from data) in
// German, the English name in English; in Turkish and Arabic the
// translation of a built-in service, else English, else German.
func ServiceName(lang, id, name, nameEN string) string {
	if lang != "de" {
		if n, ok := serviceNames[id]; ok && n.de == name {
			switch lang {
			case "tr":
				return n.tr
			case "ar":
				return n.ar
			}
		}
		if nameEN != "" {
			return nameEN
		}
	}
	return name
}

// ServiceNameDE is the German name the translation table holds for a
// built-in service (for the test that keeps it in step with the catalogue).
func ServiceNameDE(id string) (string, bool) {
	n, ok := serviceNames[id]
	return n.de, ok
}

var germanDigits = [10]string{"null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"}

// SpellNumber spells a ticket number for German speech, one character at a
// time, as a clerk reads it out: "A042" is "A null vier zwei". Separate
// digits are clearer over a waiting room's noise than "zweiundvierzig",
// and match the display.
func SpellNumber(number string) string {
	parts := make([]string, 0, len(number))
	for _, r := range number {
		switch {
		case r >= '0' && r <= '9':
			parts = append(parts, germanDigits[r-'0'])
		case r == ' ' || r == '-':
		default:
			parts = append(parts, string(r))
		}
	}
	return strings.Join(parts, " ")
}

// Announcement is the call display's spoken text for a call: tmpl with
// {number} (spelled, see SpellNumber) and {counter} filled in; an empty
// tmpl takes the text "display.announce" (German: the display speaks
// German, with the browser's de-DE voice).
func Announcement(tmpl, number, counter string) string {
	if strings.TrimSpace(tmpl) == "" {
		tmpl = Translate("de", "display.announce")
	}
	return strings.NewReplacer("{number}", SpellNumber(number), "{counter}", counter).Replace(tmpl)
}

// InLang picks lang's half of a two-language message "deutsch / english",
// the form of veedel.Errorf's messages: the German half for "de", the
// English one for "en"; for any other language, or a message not made of
// exactly two halves, the message as it is.
func InLang(lang, msg string) string {
	de, en, ok := strings.Cut(msg, " / ")
	if !ok || strings.Contains(en, " / ") || de == "" || en == "" {
		return msg
	}
	switch lang {
	case "de":
		return de
	case "en":
		return en
	}
	return msg
}
