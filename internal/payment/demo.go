package payment

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Demo is a payment provider for the demo and the tests, an http.Handler
// to mount under a prefix with the prefix stripped (central mounts it at
// /sim/pay/). It speaks to the merchant only over HTTP, as a real one:
//
//	POST /api/payments   the merchant creates a payment (signed Request) → 201 Session
//	GET  /p/{id}         the page "Demo-Bezahldienst": "Bezahlen" or "Abbrechen"
//	POST /p/{id}         action=pay|cancel: the signed notification is POSTed to
//	                     the merchant's notify URL, then the browser goes back (303)
//
// A session decided once keeps its outcome and transaction ID: pressing
// again sends the same notification again (a real provider's retry).
type Demo struct {
	Secret []byte
	Now    func() time.Time // nil: time.Now
	HTTP   *http.Client     // for the notifications; nil: 10 s timeout

	mu       sync.Mutex
	sessions map[string]*demoSession
}

type demoSession struct {
	Request
	ID      string
	Outcome string // "" until the citizen decided
	TxnID   string
}

// MaxDemoSessions bounds the sessions the demo keeps (oldest forgotten first).
const MaxDemoSessions = 10000

func (d *Demo) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func randomID(prefix string) string {
	b := make([]byte, 10)
	rand.Read(b)
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// ServeHTTP routes the provider's three endpoints.
func (d *Demo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case (r.URL.Path == "/" || r.URL.Path == "") && r.Method == http.MethodGet:
		d.index(w)
	case r.URL.Path == "/api/payments" && r.Method == http.MethodPost:
		d.create(w, r)
	case strings.HasPrefix(r.URL.Path, "/p/") && r.Method == http.MethodGet:
		d.page(w, r, strings.TrimPrefix(r.URL.Path, "/p/"), "")
	case strings.HasPrefix(r.URL.Path, "/p/") && r.Method == http.MethodPost:
		d.decide(w, r, strings.TrimPrefix(r.URL.Path, "/p/"))
	default:
		http.NotFound(w, r)
	}
}

func demoError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (d *Demo) create(w http.ResponseWriter, r *http.Request) {
	var req Request
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<10)).Decode(&req); err != nil {
		demoError(w, http.StatusBadRequest, "body: a JSON payment request")
		return
	}
	if !validSignature(d.Secret, req.canonical(), req.Signature) {
		demoError(w, http.StatusUnauthorized, "signature does not match")
		return
	}
	if at := time.Unix(req.Timestamp, 0); d.now().Sub(at) > MaxAge || at.Sub(d.now()) > MaxAge {
		demoError(w, http.StatusUnauthorized, "timestamp not fresh")
		return
	}
	if req.Reference == "" || req.AmountCents <= 0 || req.Currency != Currency || req.ReturnURL == "" || req.NotifyURL == "" {
		demoError(w, http.StatusBadRequest, "reference, a positive amount, currency EUR, return_url and notify_url are required")
		return
	}
	s := &demoSession{Request: req, ID: randomID("s")}
	d.mu.Lock()
	if d.sessions == nil {
		d.sessions = map[string]*demoSession{}
	}
	if len(d.sessions) >= MaxDemoSessions {
		for k := range d.sessions {
			delete(d.sessions, k)
			break
		}
	}
	d.sessions[s.ID] = s
	d.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(Session{ID: s.ID, RedirectURL: "p/" + s.ID})
}

func (d *Demo) session(id string) (demoSession, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.sessions[id]
	if !ok {
		return demoSession{}, false
	}
	return *s, true
}

var demoPage = template.Must(template.New("pay").Parse(`<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Demo-Bezahldienst</title>
<style>body{font-family:system-ui,sans-serif;max-width:30rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
.amount{font-size:2rem;font-weight:bold}button{font-size:1.1rem;padding:.6rem 1.4rem;margin:.3rem .5rem .3rem 0;min-height:44px}
.pay{background:#0b5;color:#fff;border:0;border-radius:4px}.note{color:#555;font-size:.9rem}.err{color:#b00}</style></head>
<body><main><h1>Demo-Bezahldienst</h1>
<p class="note">Ein nachgebildeter Bezahldienst für die Vorführung: es fließt kein Geld.</p>
{{with .Err}}<p class="err" role="alert">{{.}}</p>{{end}}
<p>Empfänger: Stadt (Händlerreferenz <span dir="ltr">{{.S.Reference}}</span>)<br>{{.S.Description}}</p>
<p class="amount">{{.Amount}} €</p>
{{if .S.Outcome}}<p>Bereits entschieden: {{.S.Outcome}}.</p>{{end}}
<form method="post"><button class="pay" name="action" value="pay">Bezahlen</button><button name="action" value="cancel">Abbrechen</button></form>
</main></body></html>`))

var demoIndex = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Demo-Bezahldienst</title></head>
<body><main><h1>Demo-Bezahldienst</h1><p>Zahlungen, die das Portal hier angelegt hat :</p>
<ul>{{range .}}<li><a href="p/{{.ID}}">{{.Reference}}</a>: {{.AmountCents}} Cent, {{if .Outcome}}{{.Outcome}} ({{.TxnID}}){{else}}offen{{end}}</li>{{else}}<li>noch keine</li>{{end}}</ul>
</main></body></html>`))

// index lists the sessions (references and amounts only).
func (d *Demo) index(w http.ResponseWriter) {
	d.mu.Lock()
	list := make([]demoSession, 0, len(d.sessions))
	for _, s := range d.sessions {
		list = append(list, *s)
	}
	d.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	demoIndex.Execute(w, list)
}

func (d *Demo) page(w http.ResponseWriter, r *http.Request, id, problem string) {
	s, ok := d.session(id)
	if !ok {
		http.Error(w, "Unbekannte Zahlung / unknown payment", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusOK
	if problem != "" {
		status = http.StatusBadGateway
	}
	w.WriteHeader(status)
	demoPage.Execute(w, map[string]any{"S": s, "Err": problem, "Amount": fmt.Sprintf("%d,%02d", s.AmountCents/100, s.AmountCents%100)})
}

func (d *Demo) decide(w http.ResponseWriter, r *http.Request, id string) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
	r.ParseForm()
	outcome := StatusCancelled
	if r.PostForm.Get("action") == "pay" {
		outcome = StatusPaid
	}
	d.mu.Lock()
	s, ok := d.sessions[id]
	if ok && s.Outcome == "" {
		s.Outcome, s.TxnID = outcome, randomID("T")
	}
	var snap demoSession
	if ok {
		snap = *s
	}
	d.mu.Unlock()
	if !ok {
		http.Error(w, "Unbekannte Zahlung / unknown payment", http.StatusNotFound)
		return
	}
	n := Notification{Reference: snap.Reference, AmountCents: snap.AmountCents, Currency: snap.Currency,
		Status: snap.Outcome, TransactionID: snap.TxnID, Timestamp: d.now().Unix()}
	Sign(d.Secret, &n)
	if err := d.notify(r, snap.NotifyURL, &n); err != nil {
		d.page(w, r, id, "Der Händler hat die Benachrichtigung nicht angenommen: "+err.Error())
		return
	}
	http.Redirect(w, r, snap.ReturnURL, http.StatusSeeOther)
}

// notify POSTs the notification, server to server.
func (d *Demo) notify(r *http.Request, to string, n *Notification) error {
	hc := d.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	body, _ := json.Marshal(n)
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, to, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
