package ui

import (
	"fmt"
	"time"

	"github.com/veedel/veedel/internal/login"
)

// Texts of the login throttle (internal/login) and of the failed-login
// lists: the desk's /desk/logins (site leads) and central's /admin/logins.

func init() {
	for lang, m := range map[string]map[string]string{"de": {
		"login.throttled.second":  "Zu viele Fehlversuche. Bitte in einer Sekunde erneut versuchen.",
		"login.throttled.seconds": "Zu viele Fehlversuche. Bitte in %d Sekunden erneut versuchen.",
		"login.throttled.minutes": "Zu viele Fehlversuche. Bitte in %d Minuten erneut versuchen.",
		"logins.title":            "Fehlgeschlagene Anmeldungen",
		"logins.link":             "Fehlgeschlagene Anmeldungen",
		"admin.nav.logins":        "Fehlanmeldungen",
		"logins.lead":             "Die neuesten %d fehlgeschlagenen Anmeldungen und Sperren, am Anmeldeformular und über HTTP Basic (API). Passwörter werden nie gespeichert, unbekannte Benutzernamen auch nicht.",
		"logins.rules":            "Regeln: Nach %d Fehlversuchen wird ein Gerät (Adresse) gesperrt, zuerst für %s, mit jedem weiteren Fehlversuch doppelt so lange, höchstens %s. Nach %d Fehlversuchen auf ein Konto wird es für %s bis höchstens %s gesperrt, aber nur für Geräte, von denen aus sich die Person noch nie angemeldet hat: Wer sich an seinem Platz schon einmal angemeldet hat, wird durch Angriffe von anderswo nicht ausgesperrt. Nach %s ohne Fehlversuch ist alles vergessen.",
		"logins.none":             "Keine fehlgeschlagenen Anmeldungen.",
		"logins.at":               "Zeit",
		"logins.name":             "Benutzername",
		"logins.client":           "Gerät (Adresse)",
		"logins.via":              "Weg",
		"logins.reason":           "Grund",
		"logins.via.form":         "Anmeldeformular",
		"logins.via.basic":        "HTTP Basic (API)",
		"logins.reason.password":  "Falsches Passwort",
		"logins.reason.unknown":   "Unbekannter Benutzername (nicht gespeichert)",
		"logins.reason.client":    "Gerät gesperrt bis %s",
		"logins.reason.account":   "Konto für unbekannte Geräte gesperrt bis %s",
		"logins.unknown":          "(unbekannt)",
	}, "en": {
		"login.throttled.second":  "Too many failed attempts. Please try again in a second.",
		"login.throttled.seconds": "Too many failed attempts. Please try again in %d seconds.",
		"login.throttled.minutes": "Too many failed attempts. Please try again in %d minutes.",
		"logins.title":            "Failed logins",
		"logins.link":             "Failed logins",
		"admin.nav.logins":        "Failed logins",
		"logins.lead":             "The newest %d failed logins and locks, on the login form and over HTTP Basic (API). Passwords are never stored, nor are unknown user names.",
		"logins.rules":            "Rules: after %d failed attempts a device (address) is locked, first for %s, twice as long with every further failure, at most %s. After %d failed attempts on an account it is locked for %s up to at most %s, but only for devices the person has never logged in from: whoever has logged in at their desk before is not locked out by attacks from elsewhere. After %s without a failure everything is forgotten.",
		"logins.none":             "No failed logins.",
		"logins.at":               "Time",
		"logins.name":             "User name",
		"logins.client":           "Device (address)",
		"logins.via":              "Via",
		"logins.reason":           "Reason",
		"logins.via.form":         "Login form",
		"logins.via.basic":        "HTTP Basic (API)",
		"logins.reason.password":  "Wrong password",
		"logins.reason.unknown":   "Unknown user name (not stored)",
		"logins.reason.client":    "Device locked until %s",
		"logins.reason.account":   "Account locked for unknown devices until %s",
		"logins.unknown":          "(unknown)",
	}} {
		for k, v := range m {
			texts[lang][k] = v
		}
	}
}

// ThrottledText is a login form's message for a throttled attempt: "Zu
// viele Fehlversuche. Bitte in 30 Sekunden erneut versuchen."
func ThrottledText(lang string, wait time.Duration) string {
	n, de, _ := login.WaitText(wait)
	switch de {
	case "Sekunde":
		return Translate(lang, "login.throttled.second")
	case "Sekunden":
		return Translate(lang, "login.throttled.seconds", n)
	}
	return Translate(lang, "login.throttled.minutes", n)
}

// LoginRow is one failed login or lock as the lists show it.
type LoginRow struct {
	At     string
	Name   string
	Client string
	Via    string
	Reason string
	Lock   bool
}

// LoginList is what the partial "login_failures" (_logins.html) shows.
type LoginList struct {
	Rows  []LoginRow
	Lead  string
	Rules string
}

// LoginFailures prepares failures for the partial "login_failures", times
// in Berlin; shown is how many the list asked for.
func LoginFailures(lang string, failures []login.Failure, shown int) LoginList {
	p := login.DefaultPolicy
	l := LoginList{Lead: Translate(lang, "logins.lead", shown),
		Rules: Translate(lang, "logins.rules", p.ClientFree, span(p.FirstDelay), span(p.ClientMax), p.AccountFree, span(p.FirstDelay), span(p.AccountMax), span(p.Forget))}
	const layout = "02.01.2006 15:04:05"
	for _, f := range failures {
		r := LoginRow{At: f.At.In(berlin).Format(layout), Name: f.Name, Client: f.Client, Via: Translate(lang, "logins.via."+f.Via)}
		if r.Name == "" {
			r.Name = Translate(lang, "logins.unknown")
		}
		until := f.Until.In(berlin).Format("15:04:05")
		switch f.Reason {
		case login.ReasonPassword:
			r.Reason = Translate(lang, "logins.reason.password")
		case login.ReasonUnknownName:
			r.Reason = Translate(lang, "logins.reason.unknown")
		case login.ReasonLockedClient:
			r.Reason, r.Lock = Translate(lang, "logins.reason.client", until), true
		case login.ReasonLockedAccount:
			r.Reason, r.Lock = Translate(lang, "logins.reason.account", until), true
		default:
			r.Reason = f.Reason
		}
		l.Rows = append(l.Rows, r)
	}
	return l
}

// span writes a policy's duration as "30 s" or "15 min".
func span(d time.Duration) string {
	if d < 2*time.Minute {
		return fmt.Sprintf("%d s", int(d/time.Second))
	}
	return fmt.Sprintf("%d min", int(d/time.Minute))
}
