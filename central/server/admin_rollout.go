package server

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/ui"
	"github.com/veedel/veedel/update"
)

// The rollout page (/admin/rollout): which release the boxes should run,
// pilot sites first, paused, pins per site; the same plan as PUT
// /api/v1/rollout. A save names the revision it was made on: a plan
// changed meanwhile is not overwritten (409, the form again).

type rolloutFormData struct {
	Frame    adminFrame
	Plan     central.RolloutPlan
	Releases []update.Release
	// Pilots and Pins as the form shows them.
	Pilots, Pins string
	Field, Error string
}

func (s *Server) adminRollout(w http.ResponseWriter, r *http.Request) {
	st, err := s.rolloutStatus(r)
	if err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	d := rolloutFormData{Frame: s.frame(r, "devices"), Plan: st.Plan, Releases: st.Releases,
		Pilots: strings.Join(st.Plan.Pilots, ", "), Pins: formatPins(st.Plan.Pins)}
	flash := ""
	if r.URL.Query().Get("saved") == "1" {
		flash = ui.Translate(ui.Lang(w, r), "admin.rollout.saved")
	}
	s.renderAdmin(w, r, http.StatusOK, "admin_rollout", "admin.rollout.title", "", flash, d)
}

func formatPins(pins map[string]string) string {
	var lines []string
	for site, v := range pins {
		lines = append(lines, site+" "+v)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// adminSaveRollout stores the form's plan; bad input shows the form again
// with the message next to its field (400, or 409 when the plan changed
// meanwhile) and saves nothing.
func (s *Server) adminSaveRollout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.renderAdminError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	lang := ui.Lang(w, r)
	f := r.PostForm
	rels, err := s.releases()
	if err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	d := rolloutFormData{Frame: s.frame(r, "devices"), Pilots: f.Get("pilots"), Pins: f.Get("pins")}
	for _, rel := range rels {
		d.Releases = append(d.Releases, rel)
	}
	sortReleases(d.Releases)
	d.Plan.Revision, _ = strconv.ParseInt(f.Get("revision"), 10, 64)
	d.Plan.Version, d.Plan.Stage, d.Plan.Paused = f.Get("version"), f.Get("stage"), f.Get("paused") == "1"
	d.Plan.Pilots = append(d.Plan.Pilots, strings.FieldsFunc(d.Pilots, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' })...)
	fail := func(status int, field, key string, args ...any) {
		d.Field, d.Error = field, ui.Translate(lang, key, args...)
		s.renderAdminAt(w, r, "/admin/rollout", status, "admin_rollout", "admin.rollout.title", "", "", d)
	}
	d.Plan.Pins = map[string]string{}
	for _, line := range strings.Split(d.Pins, "\n") {
		fields := strings.Fields(line)
		switch len(fields) {
		case 0:
			continue
		case 2:
			d.Plan.Pins[fields[0]] = fields[1]
		default:
			fail(http.StatusBadRequest, "pins", "admin.rollout.pins.bad", strings.TrimSpace(line))
			return
		}
	}
	if _, ok := rels[d.Plan.Version]; d.Plan.Version != "" && !ok {
		fail(http.StatusBadRequest, "version", "admin.rollout.version.unknown", d.Plan.Version)
		return
	}
	for site, v := range d.Plan.Pins {
		if _, ok := rels[v]; !ok {
			fail(http.StatusBadRequest, "pins", "admin.rollout.pin.unknown", site, v)
			return
		}
	}
	for _, group := range []struct {
		field string
		sites []string
	}{{"pilots", d.Plan.Pilots}, {"pins", mapKeysOf(d.Plan.Pins)}} {
		for _, site := range group.sites {
			if _, err := s.Central.DirectorySite(r.Context(), site); veedel.ErrorCode(err) == veedel.ENOTFOUND {
				fail(http.StatusBadRequest, group.field, "admin.rollout.site.unknown", site)
				return
			}
		}
	}
	saved, err := s.Central.SetRollout(r.Context(), d.Plan)
	switch veedel.ErrorCode(err) {
	case "":
	case veedel.ECONFLICT:
		fail(http.StatusConflict, "", "admin.rollout.conflict")
		return
	case veedel.EINVALID:
		d.Field, d.Error = "version", veedel.ErrorMessage(err)
		s.renderAdminAt(w, r, "/admin/rollout", http.StatusBadRequest, "admin_rollout", "admin.rollout.title", "", "", d)
		return
	default:
		s.renderAdminError(w, r, err)
		return
	}
	s.Logger.Info("admin saved the rollout", "admin", currentAdmin(r).Name, "version", saved.Version, "stage", saved.Stage,
		"paused", saved.Paused, "revision", saved.Revision)
	http.Redirect(w, r, "/admin/rollout?saved=1", http.StatusSeeOther)
}

func mapKeysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
