package server

import (
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/update"
)

// The update channel (central/rollout.go, update/agent): a site's update
// agent polls GET /api/v1/sync/update with its state in the query (signed
// like the download's poll, so nobody else reports for it) and is told the
// release it should run; it fetches that release's bundle from GET
// /api/v1/sync/update/bundle in as many range requests as its line needs.
// Central does not check the bundles' signatures (the appliance does,
// before it writes anything); it only hands out what is in its releases
// directory (Server.Releases, veedel central -releases).

// UpdateAnswer is what a site's poll of the update channel gets.
type UpdateAnswer struct {
	// Version is the release the site should run ("": stay); the rest
	// describes its bundle.
	Version    string `json:"version"`
	Why        string `json:"why"`
	MinVersion string `json:"min_version,omitempty"`
	Size       int64  `json:"size,omitempty"`
}

func (s *Server) releases() (map[string]update.Release, error) {
	if s.Releases == "" {
		return map[string]update.Release{}, nil
	}
	return update.ScanDir(s.Releases)
}

// getUpdate answers a site's update poll and records its report.
func (s *Server) getUpdate(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	site := q.Get("site")
	if err := s.Authorize(r, site); err != nil {
		web.Error(w, r, err)
		return
	}
	rep := central.UpdateReport{Site: site, Version: q.Get("version"), Slot: q.Get("slot"), State: q.Get("state"),
		Target: q.Get("target"), Reason: q.Get("reason")}
	rep.Progress, _ = strconv.Atoi(q.Get("progress"))
	rep.DiskFree, _ = strconv.ParseInt(q.Get("disk_free"), 10, 64)
	rep.ClockOffsetMS, _ = strconv.ParseInt(q.Get("clock_ms"), 10, 64)
	if ms, err := strconv.ParseInt(q.Get("booted"), 10, 64); err == nil && ms > 0 {
		rep.BootedAt = time.UnixMilli(ms).UTC()
	}
	version, why, err := s.Central.ReportUpdate(r.Context(), rep)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	ans := UpdateAnswer{Why: why}
	if version != "" && version != rep.Version {
		rels, err := s.releases()
		if err != nil {
			s.Logger.Error("releases directory", "err", err)
			web.Error(w, r, err)
			return
		}
		rel, ok := rels[version]
		if !ok {
			ans.Why = "release " + version + " is not on central yet"
		} else {
			ans.Version, ans.MinVersion, ans.Size = version, rel.MinVersion, rel.Size
		}
	}
	web.JSON(w, http.StatusOK, ans)
}

// getUpdateBundle serves the bundle of the release the plan gives the
// site (and only that one), with range requests for resumption.
func (s *Server) getUpdateBundle(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	site, version := q.Get("site"), q.Get("version")
	if err := s.Authorize(r, site); err != nil {
		web.Error(w, r, err)
		return
	}
	p, err := s.Central.Rollout(r.Context())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if want, _ := p.For(site); want != version {
		web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "release %q is not the one the rollout gives site %s", version, site))
		return
	}
	rels, err := s.releases()
	if err != nil {
		web.Error(w, r, err)
		return
	}
	rel, ok := rels[version]
	if !ok {
		web.Error(w, r, veedel.Errorf(veedel.ENOTFOUND, "release %q is not on central", version))
		return
	}
	f, err := os.Open(rel.Path)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// rolloutStatus is GET /api/v1/rollout: the plan, the releases central
// has and every site's last update report.
type rolloutStatus struct {
	Plan     central.RolloutPlan    `json:"plan"`
	Releases []update.Release       `json:"releases"`
	Reports  []central.UpdateReport `json:"reports"`
}

func (s *Server) apiRollout(w http.ResponseWriter, r *http.Request) {
	st, err := s.rolloutStatus(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, st)
}

func (s *Server) rolloutStatus(r *http.Request) (rolloutStatus, error) {
	p, err := s.Central.Rollout(r.Context())
	if err != nil {
		return rolloutStatus{}, err
	}
	rels, err := s.releases()
	if err != nil {
		return rolloutStatus{}, err
	}
	reps, err := s.Central.UpdateReports(r.Context())
	if err != nil {
		return rolloutStatus{}, err
	}
	st := rolloutStatus{Plan: p, Releases: []update.Release{}, Reports: reps}
	for _, rel := range rels {
		st.Releases = append(st.Releases, rel)
	}
	sortReleases(st.Releases)
	if st.Reports == nil {
		st.Reports = []central.UpdateReport{}
	}
	return st, nil
}

func sortReleases(rels []update.Release) {
	for i := 1; i < len(rels); i++ {
		for j := i; j > 0 && update.CompareVersions(rels[j].Version, rels[j-1].Version) > 0; j-- {
			rels[j], rels[j-1] = rels[j-1], rels[j]
		}
	}
}

// apiSetRollout is PUT /api/v1/rollout: the whole plan, with the revision
// it was read at (409 when someone changed it meanwhile).
func (s *Server) apiSetRollout(w http.ResponseWriter, r *http.Request) {
	var p central.RolloutPlan
	if err := web.DecodeJSON(r, &p); err != nil {
		web.Error(w, r, err)
		return
	}
	if p.Version != "" {
		rels, err := s.releases()
		if err != nil {
			web.Error(w, r, err)
			return
		}
		if _, ok := rels[p.Version]; !ok {
			web.Error(w, r, veedel.Errorf(veedel.EINVALID, "version: release %q is not in central's releases directory", p.Version))
			return
		}
	}
	saved, err := s.Central.SetRollout(r.Context(), p)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, saved)
}
