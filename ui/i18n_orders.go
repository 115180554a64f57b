package ui

import (
	"fmt"
	"strings"
	"time"
)

// Texts of the certificate orders' back office at the site's desk
// (/desk/orders) and of the letters and slips it prints (internal/pdf).
// The names of kinds, statuses, deliveries and payments (order.*) are the
// citizen's too (ui.CitizenKey), so they exist in all four languages; the
// desk's own texts (orders.*) in German and English. The printed letter
// and slip are German, the language of the city's correspondence (their
// keys: orders.letter.*, orders.slip.*).

var orderTexts = map[string]map[string]string{
	"de": {
		"order.kind.meldebescheinigung":           "Meldebescheinigung",
		"order.kind.meldebescheinigung_erweitert": "Erweiterte Meldebescheinigung",
		"order.kind.geburtsurkunde":               "Geburtsurkunde",
		"order.kind.eheurkunde":                   "Eheurkunde",
		"order.kind.lebenspartnerschaftsurkunde":  "Lebenspartnerschaftsurkunde",
		"order.kind.sterbeurkunde":                "Sterbeurkunde",
		"order.status.received":                   "Eingegangen",
		"order.status.at_site":                    "Neu",
		"order.status.in_progress":                "In Bearbeitung",
		"order.status.ready":                      "Fertig",
		"order.status.dispatched":                 "Verschickt",
		"order.status.collected":                  "Abgeholt",
		"order.status.rejected":                   "Abgelehnt",
		"order.delivery.pickup":                   "Abholung",
		"order.delivery.post":                     "Post",
		"order.payment.at_pickup":                 "bei Abholung zu zahlen",
		"order.payment.online":                    "online bezahlt",

		"orders.link":          "Bestellungen",
		"orders.open.count":    "%d offene Bestellungen",
		"orders.open.one":      "1 offene Bestellung",
		"orders.title":         "Bestellungen",
		"orders.lead":          "Urkunden und Bescheinigungen, die Bürgerinnen und Bürger online bestellt haben und die dieser Standort bearbeitet.",
		"orders.filter":        "Filter",
		"orders.filter.status": "Status",
		"orders.filter.kind":   "Urkunde",
		"orders.filter.open":   "Offen (neu, in Bearbeitung, fertig)",
		"orders.filter.all":    "Alle",
		"orders.filter.kinds":  "Alle Urkunden",
		"orders.filter.show":   "Anzeigen",
		"orders.filter.bad":    "Diesen Filter gibt es nicht. Bitte aus der Liste wählen.",
		"orders.count":         "%d Bestellungen",
		"orders.count.one":     "1 Bestellung",
		"orders.limited":       "Es werden die ältesten %d angezeigt.",
		"orders.none":          "Keine Bestellungen für diesen Filter.",
		"orders.code":          "Bestellcode",
		"orders.kind":          "Urkunde",
		"orders.copies":        "Exemplare",
		"orders.fee":           "Gebühr",
		"orders.delivery":      "Zustellung",
		"orders.status":        "Status",
		"orders.age":           "Alter",
		"orders.staff":         "Bearbeitet von",
		"orders.nobody":        "–",
		"orders.age.minutes":   "%d Min.",
		"orders.age.hours":     "%d Std.",
		"orders.age.days":      "%d Tage",
		"orders.open.detail":   "Bestellung %s öffnen",

		"orders.detail.title":    "Bestellung %s",
		"orders.back":            "← Bestellungen",
		"orders.received":        "Am Standort seit",
		"orders.placed":          "Bestellt am",
		"orders.updated":         "Zuletzt geändert",
		"orders.reason":          "Grund der Ablehnung",
		"orders.ticket":          "Abgeholt mit Nummer",
		"orders.person":          "Persönliche Angaben",
		"orders.person.note":     "Nur für die Bearbeitung dieser Bestellung. Werden %d Tage nach Abschluss gelöscht.",
		"orders.person.erased":   "Die persönlichen Angaben sind nicht mehr vorhanden (gelöscht oder nicht lesbar).",
		"orders.name":            "Name",
		"orders.birth":           "Geboren",
		"orders.birth.place":     "in %s",
		"orders.event":           "Ereignis",
		"orders.register":        "Registernummer",
		"orders.relation":        "Verhältnis zur Person",
		"orders.purpose":         "Zweck",
		"orders.address":         "Anschrift",
		"orders.email":           "E-Mail",
		"orders.phone":           "Mobilnummer",
		"orders.steps":           "Nächste Schritte",
		"orders.steps.none":      "Diese Bestellung ist abgeschlossen.",
		"orders.claim":           "Übernehmen",
		"orders.claim.other":     "Übernehmen (bearbeitet gerade %s)",
		"orders.ready":           "Als fertig markieren",
		"orders.dispatch":        "Als verschickt markieren",
		"orders.collect":         "Als abgeholt markieren",
		"orders.reject":          "Ablehnen",
		"orders.reject.reason":   "Grund der Ablehnung",
		"orders.reject.hint":     "Diesen Text liest die Person auf ihrer Statusseite. Bitte keine persönlichen Daten eintragen (keine Namen, Geburtsdaten, Anschriften). Höchstens %d Zeichen.",
		"orders.print":           "Drucken",
		"orders.print.letter":    "Anschreiben (PDF)",
		"orders.print.slip":      "Abholschein (PDF)",
		"orders.done.claim":      "Sie bearbeiten jetzt diese Bestellung.",
		"orders.done.ready":      "Als fertig markiert. Die Person wird benachrichtigt.",
		"orders.done.dispatch":   "Als verschickt markiert. Die Person wird benachrichtigt.",
		"orders.done.collect":    "Als abgeholt markiert. Die Bestellung ist abgeschlossen.",
		"orders.done.reject":     "Abgelehnt. Die Person liest den Grund auf ihrer Statusseite.",
		"orders.letter.postonly": "Ein Anschreiben gibt es nur für Bestellungen mit Versand per Post.",
		"orders.slip.pickuponly": "Einen Abholschein gibt es nur für Bestellungen zur Abholung.",
		"orders.pdf.erased":      "Die persönlichen Angaben dieser Bestellung sind nicht mehr vorhanden: kein Druck möglich.",

		"orders.letter.title":    "Anschreiben %s",
		"orders.letter.city":     "Stadt Köln",
		"orders.letter.code":     "Bestellcode",
		"orders.letter.date":     "Datum",
		"orders.letter.placed":   "Ihre Bestellung vom",
		"orders.letter.subject":  "Ihre Bestellung %s: %s",
		"orders.letter.greeting": "Guten Tag %s,",
		"orders.letter.body":     "mit diesem Schreiben erhalten Sie die Urkunde, die Sie online bestellt haben. Bitte prüfen Sie die Angaben.",
		"orders.letter.kind":     "Urkunde",
		"orders.letter.copies":   "Exemplare",
		"orders.letter.fee":      "Gebühr",
		"orders.letter.paid":     "%s (online bezahlt)",
		"orders.letter.due":      "%s (noch zu zahlen)",
		"orders.letter.closing":  "Mit freundlichen Grüßen",
		"orders.letter.signed":   "Ihre Stadt Köln, %s",
		"orders.letter.footer":   "Bei Fragen zu dieser Bestellung geben Sie bitte den Bestellcode %s an.",
		"orders.slip.title":      "Abholschein %s",
		"orders.slip.heading":    "Abholschein",
		"orders.slip.kind":       "Urkunde",
		"orders.slip.copies":     "Exemplare",
		"orders.slip.name":       "Name",
		"orders.slip.fee":        "Zu zahlen",
		"orders.slip.paid":       "nichts (%s online bezahlt)",
		"orders.slip.id":         "Bitte bringen Sie zur Abholung Ihren Personalausweis oder Reisepass mit.",
		"orders.slip.kiosk":      "Am Eingang den Bestellcode eingeben oder den QR-Code scannen: Sie erhalten eine Nummer für die Abholung.",
	},
	"en": {
		"order.kind.meldebescheinigung":           "Certificate of registration",
		"order.kind.meldebescheinigung_erweitert": "Extended certificate of registration",
		"order.kind.geburtsurkunde":               "Birth certificate",
		"order.kind.eheurkunde":                   "Marriage certificate",
		"order.kind.lebenspartnerschaftsurkunde":  "Civil partnership certificate",
		"order.kind.sterbeurkunde":                "Death certificate",
		"order.status.received":                   "Received",
		"order.status.at_site":                    "New",
		"order.status.in_progress":                "In progress",
		"order.status.ready":                      "Ready",
		"order.status.dispatched":                 "Sent",
		"order.status.collected":                  "Collected",
		"order.status.rejected":                   "Rejected",
		"order.delivery.pickup":                   "Pickup",
		"order.delivery.post":                     "Post",
		"order.payment.at_pickup":                 "to be paid at pickup",
		"order.payment.online":                    "paid online",

		"orders.link":          "Orders",
		"orders.open.count":    "%d open orders",
		"orders.open.one":      "1 open order",
		"orders.title":         "Orders",
		"orders.lead":          "Certificates citizens ordered online that this site works on.",
		"orders.filter":        "Filter",
		"orders.filter.status": "Status",
		"orders.filter.kind":   "Certificate",
		"orders.filter.open":   "Open (new, in progress, ready)",
		"orders.filter.all":    "All",
		"orders.filter.kinds":  "All certificates",
		"orders.filter.show":   "Show",
		"orders.filter.bad":    "There is no such filter. Please choose from the list.",
		"orders.count":         "%d orders",
		"orders.count.one":     "1 order",
		"orders.limited":       "The oldest %d are shown.",
		"orders.none":          "No orders for this filter.",
		"orders.code":          "Order code",
		"orders.kind":          "Certificate",
		"orders.copies":        "Copies",
		"orders.fee":           "Fee",
		"orders.delivery":      "Delivery",
		"orders.status":        "Status",
		"orders.age":           "Age",
		"orders.staff":         "Handled by",
		"orders.nobody":        "–",
		"orders.age.minutes":   "%d min",
		"orders.age.hours":     "%d h",
		"orders.age.days":      "%d days",
		"orders.open.detail":   "Open order %s",

		"orders.detail.title":    "Order %s",
		"orders.back":            "← Orders",
		"orders.received":        "At this site since",
		"orders.placed":          "Ordered on",
		"orders.updated":         "Last changed",
		"orders.reason":          "Reason for rejection",
		"orders.ticket":          "Collected with number",
		"orders.person":          "Personal details",
		"orders.person.note":     "Only for working on this order. Erased %d days after it is done.",
		"orders.person.erased":   "The personal details are no longer available (erased or unreadable).",
		"orders.name":            "Name",
		"orders.birth":           "Born",
		"orders.birth.place":     "in %s",
		"orders.event":           "Event",
		"orders.register":        "Register number",
		"orders.relation":        "Relation to the person",
		"orders.purpose":         "Purpose",
		"orders.address":         "Address",
		"orders.email":           "E-mail",
		"orders.phone":           "Mobile number",
		"orders.steps":           "Next steps",
		"orders.steps.none":      "This order is done.",
		"orders.claim":           "Claim",
		"orders.claim.other":     "Claim (%s is working on it)",
		"orders.ready":           "Mark as ready",
		"orders.dispatch":        "Mark as sent",
		"orders.collect":         "Mark as collected",
		"orders.reject":          "Reject",
		"orders.reject.reason":   "Reason for rejection",
		"orders.reject.hint":     "The citizen reads this text on their status page. Please do not enter personal data (no names, dates of birth, addresses). At most %d characters.",
		"orders.print":           "Print",
		"orders.print.letter":    "Cover letter (PDF)",
		"orders.print.slip":      "Pickup slip (PDF)",
		"orders.done.claim":      "You are now working on this order.",
		"orders.done.ready":      "Marked as ready. The citizen will be notified.",
		"orders.done.dispatch":   "Marked as sent. The citizen will be notified.",
		"orders.done.collect":    "Marked as collected. The order is done.",
		"orders.done.reject":     "Rejected. The citizen reads the reason on their status page.",
		"orders.letter.postonly": "A cover letter exists only for orders sent by post.",
		"orders.slip.pickuponly": "A pickup slip exists only for orders to be picked up.",
		"orders.pdf.erased":      "This order's personal details are no longer available: nothing to print.",

		"orders.letter.title":    "Cover letter %s",
		"orders.letter.city":     "City of Cologne",
		"orders.letter.code":     "Order code",
		"orders.letter.date":     "Date",
		"orders.letter.placed":   "Your order of",
		"orders.letter.subject":  "Your order %s: %s",
		"orders.letter.greeting": "Hello %s,",
		"orders.letter.body":     "With this letter you receive the certificate you ordered online. Please check the details.",
		"orders.letter.kind":     "Certificate",
		"orders.letter.copies":   "Copies",
		"orders.letter.fee":      "Fee",
		"orders.letter.paid":     "%s (paid online)",
		"orders.letter.due":      "%s (still to be paid)",
		"orders.letter.closing":  "Kind regards",
		"orders.letter.signed":   "Your City of Cologne, %s",
		"orders.letter.footer":   "If you have questions about this order, please quote the order code %s.",
		"orders.slip.title":      "Pickup slip %s",
		"orders.slip.heading":    "Pickup slip",
		"orders.slip.kind":       "Certificate",
		"orders.slip.copies":     "Copies",
		"orders.slip.name":       "Name",
		"orders.slip.fee":        "To pay",
		"orders.slip.paid":       "nothing (%s paid online)",
		"orders.slip.id":         "Please bring your identity card or passport when you collect it.",
		"orders.slip.kiosk":      "At the entrance, type the order code or scan the QR code: you get a number for the pickup.",
	},
	"tr": {
		"order.kind.meldebescheinigung":           "İkamet belgesi",
		"order.kind.meldebescheinigung_erweitert": "Genişletilmiş ikamet belgesi",
		"order.kind.geburtsurkunde":               "Doğum belgesi",
		"order.kind.eheurkunde":                   "Evlilik belgesi",
		"order.kind.lebenspartnerschaftsurkunde":  "Hayat ortaklığı belgesi",
		"order.kind.sterbeurkunde":                "Ölüm belgesi",
		"order.status.received":                   "Alındı",
		"order.status.at_site":                    "Yeni",
		"order.status.in_progress":                "İşleniyor",
		"order.status.ready":                      "Hazır",
		"order.status.dispatched":                 "Gönderildi",
		"order.status.collected":                  "Teslim alındı",
		"order.status.rejected":                   "Reddedildi",
		"order.delivery.pickup":                   "Gelip alma",
		"order.delivery.post":                     "Posta",
		"order.payment.at_pickup":                 "teslim alırken ödenecek",
		"order.payment.online":                    "çevrimiçi ödendi",
	},
	"ar": {
		"order.kind.meldebescheinigung":           "شهادة تسجيل السكن",
		"order.kind.meldebescheinigung_erweitert": "شهادة تسجيل السكن الموسّعة",
		"order.kind.geburtsurkunde":               "شهادة الميلاد",
		"order.kind.eheurkunde":                   "شهادة الزواج",
		"order.kind.lebenspartnerschaftsurkunde":  "شهادة الشراكة المدنية",
		"order.kind.sterbeurkunde":                "شهادة الوفاة",
		"order.status.received":                   "تم الاستلام",
		"order.status.at_site":                    "جديد",
		"order.status.in_progress":                "قيد المعالجة",
		"order.status.ready":                      "جاهز",
		"order.status.dispatched":                 "أُرسل بالبريد",
		"order.status.collected":                  "تم الاستلام من المكتب",
		"order.status.rejected":                   "مرفوض",
		"order.delivery.pickup":                   "الاستلام من المكتب",
		"order.delivery.post":                     "البريد",
		"order.payment.at_pickup":                 "الدفع عند الاستلام",
		"order.payment.online":                    "مدفوع عبر الإنترنت",
	},
}

// This file sorts after i18n_citizen.go, whose init makes texts["tr"] and
// texts["ar"]: package files' init functions run in that order.
func init() {
	for lang, m := range orderTexts {
		if texts[lang] == nil {
			texts[lang] = map[string]string{}
		}
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}

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
	if lang == "en" {
		return d.Format("2 Jan 2006")
	}
	return d.Format("02.01.2006")
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
