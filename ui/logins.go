package ui

import (
	"fmt"
	"time"

	"github.com/veedel/veedel/internal/login"
)

// The login throttle's message (internal/login) and the failed-login
// lists: the desk's /desk/logins (site leads) and central's /admin/logins.

// ThrottledText is a login form's message for a throttled attempt: "Zu
// viele Fehlversuche. Bitte in 30 Sekunden erneut versuchen."
func ThrottledText(lang string, wait time.Duration) string {
	n, de, _ := login.WaitText(wait)
	if de == "Minuten" {
		return Translate(lang, "login.throttled.minutes", n)
	}
	return Translate(lang, "login.throttled.seconds", n)
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
