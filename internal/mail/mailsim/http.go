package mailsim

import (
	"embed"
	"encoding/json"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed index.html message.html
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"when": func(t time.Time) string { return t.In(berlin).Format("02.01.2006 15:04:05") },
	"iso":  func(t time.Time) string { return t.Format(time.RFC3339) },
	"size": size,
	"inc":  func(i int) int { return i + 1 },
}).ParseFS(templateFS, "*.html"))

var berlin = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return loc
	}
	return time.Local
}()

// size is n bytes for people: "812 B", "14,2 KiB".
func size(n int) string {
	if n < 1024 {
		return strconv.Itoa(n) + " B"
	}
	return strings.Replace(strconv.FormatFloat(float64(n)/1024, 'f', 1, 64), ".", ",", 1) + " KiB"
}

type indexData struct {
	Addr     string
	Fault    string
	Messages []Message
}

// Handler serves what the Sim received: a list (newest first) at "/", a
// message's decoded headers and bodies at "/{id}", its source at
// "/{id}/raw", its HTML part (sandboxed, no scripts, no remote content)
// at "/{id}/html", its attachments at "/{id}/attachments/{n}", and
// everything as JSON at "/messages.json" for tests. Mount it under a
// prefix ending in a slash:
//
//	mux.Handle("/sim/mail/", http.StripPrefix("/sim/mail", sim.Handler()))
func (s *Sim) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Nur GET / method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		// The pages carry their style inline and no script at all; this
		// policy holds whether or not the node's own middleware runs first.
		w.Header().Set("Content-Security-Policy", pagePolicy)
		switch r.URL.Path {
		case "":
			// Mounted by StripPrefix at "/prefix" without the slash: send
			// the browser to "/prefix/" so that relative links work.
			orig := "/"
			if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
				orig = u.Path
			}
			w.Header().Set("Location", orig[strings.LastIndex(orig, "/")+1:]+"/")
			w.WriteHeader(http.StatusMovedPermanently)
			return
		case "/":
			s.serveIndex(w)
			return
		case "/messages.json":
			s.serveJSON(w)
			return
		}
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
		id, err := strconv.Atoi(parts[0])
		if err != nil || id <= 0 || len(parts) > 3 {
			notFound(w)
			return
		}
		m, ok := s.Message(id)
		if !ok {
			notFound(w)
			return
		}
		switch {
		case len(parts) == 1:
			s.serveMessage(w, m)
		case len(parts) == 2 && parts[1] == "raw":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write(m.Raw)
		case len(parts) == 2 && parts[1] == "html" && m.HTML != "":
			// The HTML is the sender's: shown in a sandbox without scripts,
			// forms or any request leaving the page.
			w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(m.HTML))
		case len(parts) == 3 && parts[1] == "attachments":
			n, err := strconv.Atoi(parts[2])
			if err != nil || n < 1 || n > len(m.Attachments) {
				notFound(w)
				return
			}
			a := m.Attachments[n-1]
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename}))
			w.Header().Set("Content-Security-Policy", "sandbox")
			w.Write(a.Data)
		default:
			notFound(w)
		}
	})
}

const pagePolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func notFound(w http.ResponseWriter) {
	http.Error(w, "Keine solche Nachricht (der Simulator behält nur die letzten) / no such message", http.StatusNotFound)
}

func (s *Sim) serveIndex(w http.ResponseWriter) {
	d := indexData{Messages: s.Messages()}
	slices.Reverse(d.Messages)
	if s.ln != nil {
		d.Addr = s.Addr()
	}
	s.mu.Lock()
	if f := s.fault; f != nil {
		d.Fault = string(f.Stage) + " → " + strconv.Itoa(f.Code)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := templates.ExecuteTemplate(w, "index.html", d); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func (s *Sim) serveMessage(w http.ResponseWriter, m Message) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := templates.ExecuteTemplate(w, "message.html", m); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// JSONMessage is a message in /messages.json.
type JSONMessage struct {
	ID           int              `json:"id"`
	Received     time.Time        `json:"received"`
	EnvelopeFrom string           `json:"envelope_from"`
	EnvelopeTo   []string         `json:"envelope_to"`
	TLS          bool             `json:"tls"`
	User         string           `json:"user,omitempty"`
	Subject      string           `json:"subject"`
	From         string           `json:"from"`
	To           string           `json:"to"`
	Date         string           `json:"date"`
	MessageID    string           `json:"message_id"`
	Text         string           `json:"text"`
	HTML         string           `json:"html,omitempty"`
	Attachments  []JSONAttachment `json:"attachments"`
	Size         int              `json:"size"`
	Problem      string           `json:"problem,omitempty"`
}

// JSONAttachment describes an attachment in /messages.json.
type JSONAttachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
}

func (s *Sim) serveJSON(w http.ResponseWriter) {
	msgs := s.Messages()
	out := make([]JSONMessage, 0, len(msgs))
	for _, m := range msgs {
		j := JSONMessage{ID: m.ID, Received: m.Received, EnvelopeFrom: m.EnvelopeFrom, EnvelopeTo: m.EnvelopeTo,
			TLS: m.TLS, User: m.User, Subject: m.Subject, From: m.From, To: m.To, Date: m.Date, MessageID: m.MessageID,
			Text: m.Text, HTML: m.HTML, Attachments: []JSONAttachment{}, Size: len(m.Raw), Problem: m.Problem}
		for _, a := range m.Attachments {
			j.Attachments = append(j.Attachments, JSONAttachment{Filename: a.Filename, ContentType: a.ContentType, Size: len(a.Data)})
		}
		out = append(out, j)
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}
