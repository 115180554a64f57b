package modemsim

import (
	"embed"
	"html/template"
	"net/http"
	"slices"

	"github.com/veedel/veedel/appliance/notify"
)

//go:embed index.html
var templateFS embed.FS

var indexTemplate = template.Must(template.ParseFS(templateFS, "index.html"))

type indexData struct {
	Path         string
	Network, SIM bool
	Parts        int
	Messages     []messageView
}

type messageView struct {
	To, Text, Encoding string
	Parts              int
}

// Handler serves the demo's view of the modem: its state and the SMS it
// sent, newest first, with the numbers masked as in the appliance's logs
// (a demo screen is still a screen). Mount it under a prefix ending in a
// slash:
//
//	mux.Handle("/sim/modem/", http.StripPrefix("/sim/modem", sim.Handler()))
func (s *Sim) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path != "/" && r.URL.Path != "" {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		d := indexData{Path: s.opt.Link, Network: s.network, SIM: s.sim, Parts: len(s.parts)}
		if d.Path == "" && s.slave != nil {
			d.Path = s.slave.Name()
		}
		for _, m := range slices.Backward(s.messages) {
			d.Messages = append(d.Messages, messageView{To: notify.Mask(m.To), Text: m.Text, Encoding: m.Encoding.String(), Parts: m.Parts})
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := indexTemplate.Execute(w, d); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
}
