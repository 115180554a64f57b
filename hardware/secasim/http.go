package secasim

import (
	"embed"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

//go:embed index.html
var templateFS embed.FS

var indexTemplate = template.Must(template.ParseFS(templateFS, "index.html"))

type indexData struct {
	State
	// Next fills the form: the person on the scale, or a child of six.
	Next Person
}

// faultCount is how many answers Noise and Garbled spoil from the page.
const faultCount = 20

// Handler serves the demo's control page of the scale: its state, a form
// that puts the next child on it and one that injects a fault. Mount it
// under a prefix ending in a slash:
//
//	mux.Handle("/sim/scale/", http.StripPrefix("/sim/scale", sim.Handler()))
//
// The forms post to the page's own origin only (a cross-site form cannot
// pull the demo's cable).
func (s *Sim) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case (r.URL.Path == "/" || r.URL.Path == "") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			s.index(w)
		case r.Method != http.MethodPost:
			w.Header().Set("Allow", "GET, HEAD, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		case !sameOrigin(r):
			http.Error(w, "cross-site request refused", http.StatusForbidden)
		case r.URL.Path == "/person":
			s.postPerson(w, r)
		case r.URL.Path == "/fault":
			f := Fault(r.PostFormValue("fault"))
			switch f {
			case None, Noise, Garbled, Silent, PullCable:
			default:
				http.Error(w, "fault: want pull, silent, noise, garbled or empty", http.StatusBadRequest)
				return
			}
			s.Inject(f, faultCount)
			back(w, r)
		case r.URL.Path == "/replug":
			if err := s.Replug(); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			back(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

func (s *Sim) index(w http.ResponseWriter) {
	d := indexData{State: s.State()}
	d.Next = d.Person
	if d.Next.WeightKG == 0 {
		d.Next = Person{WeightKG: 21.4, HeightCM: 118.5}
	}
	if d.Next.Unstable == 0 {
		d.Next.Unstable = 4
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := indexTemplate.Execute(w, d); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func (s *Sim) postPerson(w http.ResponseWriter, r *http.Request) {
	num := func(name string, max float64) (float64, bool) {
		v := strings.TrimSpace(strings.ReplaceAll(r.PostFormValue(name), ",", "."))
		if v == "" {
			return 0, true
		}
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil && f >= 0 && f <= max && !math.IsNaN(f)
	}
	var p Person
	var ok bool
	if p.WeightKG, ok = num("weight_kg", 2*Capacity); !ok {
		http.Error(w, "weight_kg: a number of kg, 0 to 600", http.StatusBadRequest)
		return
	}
	if p.HeightCM, ok = num("height_cm", 250); !ok {
		http.Error(w, "height_cm: a number of cm, 0 to 250", http.StatusBadRequest)
		return
	}
	u, ok := num("unstable", 1000)
	if !ok || u != math.Trunc(u) {
		http.Error(w, "unstable: a whole number, 0 to 1000", http.StatusBadRequest)
		return
	}
	p.Unstable = int(u)
	s.SetPerson(p)
	back(w, r)
}

// sameOrigin reports whether a POST comes from the page itself: the
// browser's Sec-Fetch-Site, else its Origin against the Host.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin" || site == "none"
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		return err == nil && u.Host == r.Host
	}
	return true // not a browser: curl, tests
}

// back answers a form with the page again (POST-redirect-GET). The
// Location stays relative, so that the browser resolves it under the
// prefix the page is mounted at (http.Redirect would resolve it against
// the stripped path).
func back(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Location", "./")
	w.WriteHeader(http.StatusSeeOther)
}
