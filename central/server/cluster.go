package server

import (
	"net/http"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central/cluster"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

// The central nodes: GET /api/v1/cluster (admins) and a section of the
// admin sync page. With several nodes (package cluster) every member with
// its state (alive, suspect, failed, left), tags and version, when this
// node last heard another's fan-out and last caught up from the database,
// and how far this node's read models are behind the database per site;
// with one node (no cluster) that node.

// ClusterStatus is the cluster this node is part of (cluster.Cluster).
type ClusterStatus interface {
	Status() cluster.Status
}

// clusterView is the JSON of GET /api/v1/cluster.
type clusterView struct {
	Now time.Time `json:"now"`
	// Clustered: several nodes joined with serf; false: this node alone.
	Clustered bool `json:"clustered"`
	cluster.Status
	// Lags: per site, how far this node's read models are behind the
	// database (log entries and outbound entries not folded here).
	Lags []siteLag `json:"lags"`
}

type siteLag struct {
	Site     string `json:"site"`
	Stored   uint64 `json:"stored"`
	Folded   uint64 `json:"folded"`
	Lag      uint64 `json:"lag"`
	Outbound uint64 `json:"outbound_lag"`
}

func (s *Server) clusterView(r *http.Request) (clusterView, error) {
	v := clusterView{Now: s.now()}
	if s.Cluster != nil {
		v.Clustered, v.Status = true, s.Cluster.Status()
	} else {
		scheme := "http://"
		if r.TLS != nil {
			scheme = "https://"
		}
		v.Status = cluster.Status{Self: r.Host, Nodes: []cluster.Node{{Name: r.Host, State: "alive", Version: veedel.Version,
			HTTP: scheme + r.Host, Self: true, Tags: map[string]string{}}}}
	}
	lags, err := s.Central.Lags(r.Context())
	if err != nil {
		return v, err
	}
	v.Lags = make([]siteLag, 0, len(lags))
	for _, l := range lags {
		sl := siteLag{Site: l.Site, Stored: l.Stored, Folded: l.Folded, Outbound: l.Outbound}
		if l.Stored > l.Folded {
			sl.Lag = l.Stored - l.Folded
		}
		v.Lags = append(v.Lags, sl)
	}
	return v, nil
}

// apiCluster answers GET /api/v1/cluster (admin login required).
func (s *Server) apiCluster(w http.ResponseWriter, r *http.Request) {
	v, err := s.clusterView(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, v)
}

// clusterSection is the sync page's section of the central nodes.
type clusterSection struct {
	Clustered  bool
	Nodes      []clusterRow
	LastEvent  ago
	EventName  string
	CaughtUp   ago
	CatchUpErr string
	Behind     []siteLag // only the sites this node is behind on
}

type clusterRow struct {
	cluster.Node
	StateText string
	Class     string // a CSS class: ok, lag, stale
}

func (s *Server) clusterSection(r *http.Request, lang string) (clusterSection, error) {
	v, err := s.clusterView(r)
	if err != nil {
		return clusterSection{}, err
	}
	now := s.now()
	d := clusterSection{Clustered: v.Clustered, LastEvent: moment(lang, v.LastEvent, now), EventName: v.LastEventName,
		CaughtUp: moment(lang, v.CaughtUpAt, now), CatchUpErr: v.CatchUpErr}
	for _, n := range v.Nodes {
		row := clusterRow{Node: n, StateText: ui.Translate(lang, "admin.cluster.state."+n.State), Class: "ok"}
		switch n.State {
		case "suspect", "leaving":
			row.Class = "lag"
		case "failed", "unknown":
			row.Class = "stale"
		case "left":
			row.Class = "never"
		}
		d.Nodes = append(d.Nodes, row)
	}
	for _, l := range v.Lags {
		if l.Lag > 0 || l.Outbound > 0 {
			d.Behind = append(d.Behind, l)
		}
	}
	return d, nil
}
