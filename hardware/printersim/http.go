package printersim

import (
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

//go:embed index.html
var templateFS embed.FS

var indexTemplate = template.Must(template.ParseFS(templateFS, "index.html"))

type indexData struct {
	Addr               string
	Mode               Mode
	Printed, Discarded int
	Tickets            []ticketView
}

type ticketView struct {
	Seq      int
	Received string
	Alt      string
	Partial  bool
	Errors   []string
}

// statusJSON is what /status.json serves.
type statusJSON struct {
	Mode
	Printed   int `json:"printed"`
	Discarded int `json:"discarded"`
}

// Handler serves a view of the printer for the demo: "./" lists the
// tickets newest first as images with their text as alt text, "{n}.png"
// is ticket n's image and "status.json" the mode. Links are relative, so
// mount it under a prefix ending in a slash:
//
//	mux.Handle("/sim/printer/", http.StripPrefix("/sim/printer", sim.Handler()))
func (s *Sim) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	name := p[strings.LastIndex(p, "/")+1:]
	switch {
	case p == "":
		// Mounted by StripPrefix at "/prefix" without the slash: send the
		// browser to "/prefix/" so that relative links work.
		orig := "/"
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
			orig = u.Path
		}
		w.Header().Set("Location", orig[strings.LastIndex(orig, "/")+1:]+"/")
		w.WriteHeader(http.StatusMovedPermanently)
	case name == "":
		s.serveIndex(w)
	case name == "status.json":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		s.mu.Lock()
		st := statusJSON{Mode: s.mode, Printed: s.printed, Discarded: s.discarded}
		s.mu.Unlock()
		json.NewEncoder(w).Encode(st)
	case strings.HasSuffix(name, ".png"):
		seq, err := strconv.Atoi(strings.TrimSuffix(name, ".png"))
		t, ok := s.Ticket(seq)
		if err != nil || !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(t.PNG)
	default:
		http.NotFound(w, r)
	}
}

func (s *Sim) serveIndex(w http.ResponseWriter) {
	ts := s.Tickets()
	s.mu.Lock()
	d := indexData{Mode: s.mode, Printed: s.printed, Discarded: s.discarded}
	if s.network != "" {
		d.Addr = s.network + "://" + s.address
	}
	s.mu.Unlock()
	for i := len(ts) - 1; i >= 0; i-- {
		t := ts[i]
		d.Tickets = append(d.Tickets, ticketView{
			Seq:      t.Seq,
			Received: t.Received.Format("02.01.2006 15:04:05"),
			Alt:      altText(t),
			Partial:  t.Partial,
			Errors:   t.Errors,
		})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// The status line is sent: a failed write has nowhere to go.
	_ = indexTemplate.Execute(w, d)
}

// altText is the ticket's printed text for screen readers.
func altText(t Ticket) string {
	parts := append([]string(nil), t.Text...)
	for _, q := range t.QR {
		parts = append(parts, "QR-Code: "+q)
	}
	if t.Images > 0 {
		parts = append(parts, strconv.Itoa(t.Images)+" Bild(er) / image(s)")
	}
	if len(parts) == 0 {
		return "Leeres Ticket / empty ticket"
	}
	return strings.Join(parts, "; ")
}
