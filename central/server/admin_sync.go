package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

// The sync page: per site how far its log has arrived at central (acked,
// the site's own last seq, lag in events and seconds, last contact), how
// far it has applied central's outbound log (cursor against head), its
// active key, and the latest rejected batches. The same figures as JSON at
// GET /api/v1/sync/status for monitoring.

// shownRejections is how many rejected batches the page and the JSON list.
const shownRejections = 20

type syncPageData struct {
	Frame      adminFrame
	Now        string
	Sites      []syncRow
	Rejections []rejectionRow
	Problems   int
	Cluster    clusterSection // the central nodes (cluster.go)
}

type syncRow struct {
	central.SiteSync
	State     string // ok, lag, stale, never: a CSS class
	StateText string
	SiteSeqS  string
	LagS      string
	Contact   ago
	LastEntry ago
	Poll      ago
	Cursor    string
	PendingS  string
	KeyID     string
}

// ago is a moment as the page shows it: "vor 12 s" over "10:42:03".
type ago struct {
	Ago, At string
}

// moment is t as an admin page shows it at now, in lang ("–" for never).
func moment(lang string, t, now time.Time) ago {
	if t.IsZero() {
		return ago{Ago: "–"}
	}
	return ago{Ago: ui.Translate(lang, "admin.ago", age(int64(now.Sub(t)/time.Second))), At: when(t, now)}
}

// rejectionRow is one aggregate of rejections: when last and first seen.
type rejectionRow struct {
	central.Rejection
	When, First string
}

func (s *Server) adminSync(w http.ResponseWriter, r *http.Request) {
	lang := ui.Lang(w, r)
	sites, err := s.Central.SyncStatus(r.Context())
	if err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	rejections, err := s.Central.Rejections(r.Context(), shownRejections)
	if err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	keys := map[string]string{}
	if all, err := s.Central.SiteKeys(r.Context()); err == nil {
		for _, k := range all {
			if k.Active() {
				keys[k.Site] = k.KeyID
			}
		}
	} else {
		s.Logger.Error("site keys", "err", err)
	}
	now := s.now()
	d := syncPageData{Frame: s.frame(r, "sync"), Now: when(now, now)}
	for _, site := range sites {
		row := syncRow{SiteSync: site, SiteSeqS: "–", LagS: "–", Cursor: "–", PendingS: "–", KeyID: keys[site.Site]}
		row.Contact, row.LastEntry, row.Poll = moment(lang, site.LastContact, now), moment(lang, site.LastEntryAt, now), moment(lang, site.LastPoll, now)
		if site.SiteSeq != nil {
			row.SiteSeqS = strconv.FormatUint(*site.SiteSeq, 10)
			row.LagS = strconv.FormatUint(*site.LagEvents, 10)
		}
		if site.OutboundCursor != nil {
			row.Cursor = strconv.FormatUint(*site.OutboundCursor, 10)
			row.PendingS = strconv.FormatUint(*site.OutboundPending, 10)
		}
		switch {
		case site.LastContact.IsZero():
			row.State = "never"
		case site.Stale:
			row.State = "stale"
		case site.LagEvents != nil && *site.LagEvents > 0, site.OutboundPending != nil && *site.OutboundPending > 0,
			site.OutboundCursor == nil && site.OutboundHead > 0:
			row.State = "lag"
		default:
			row.State = "ok"
		}
		row.StateText = ui.Translate(lang, "admin.sync.state."+row.State)
		if row.State != "ok" {
			d.Problems++
		}
		d.Sites = append(d.Sites, row)
	}
	for _, rej := range rejections {
		d.Rejections = append(d.Rejections, rejectionRow{Rejection: rej, When: when(rej.At, now), First: when(rej.FirstAt, now)})
	}
	if d.Cluster, err = s.clusterSection(r, lang); err != nil {
		s.renderAdminError(w, r, err)
		return
	}
	s.renderAdmin(w, r, http.StatusOK, "admin_sync", "admin.sync.title", "", "", d)
}

// syncStatus is the JSON of GET /api/v1/sync/status.
type syncStatus struct {
	Now        time.Time           `json:"now"`
	Sites      []central.SiteSync  `json:"sites"`
	Rejections []central.Rejection `json:"rejections"`
}

// apiSyncStatus answers GET /api/v1/sync/status (admin login required):
// every site's sync figures and the latest rejected batches.
func (s *Server) apiSyncStatus(w http.ResponseWriter, r *http.Request) {
	sites, err := s.Central.SyncStatus(r.Context())
	if err != nil {
		web.Error(w, r, err)
		return
	}
	rejections, err := s.Central.Rejections(r.Context(), shownRejections)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	if sites == nil {
		sites = []central.SiteSync{}
	}
	if rejections == nil {
		rejections = []central.Rejection{}
	}
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusOK, syncStatus{Now: s.now(), Sites: sites, Rejections: rejections})
}

// age formats seconds for people: "42 s", "7 min", "3 h 05 min", "2 d 4 h".
func age(sec int64) string {
	switch {
	case sec < 0:
		return "0 s"
	case sec < 120:
		return fmt.Sprintf("%d s", sec)
	case sec < 3600:
		return fmt.Sprintf("%d min", sec/60)
	case sec < 48*3600:
		return fmt.Sprintf("%d h %02d min", sec/3600, sec%3600/60)
	}
	return fmt.Sprintf("%d d %d h", sec/86400, sec%86400/3600)
}

// when formats a time in Cologne: the clock time, with the date when it is
// not today.
func when(t, now time.Time) string {
	if t.IsZero() {
		return "–"
	}
	l, n := t.In(berlin), now.In(berlin)
	if l.Format(time.DateOnly) == n.Format(time.DateOnly) {
		return l.Format("15:04:05")
	}
	return l.Format("02.01.2006 15:04")
}
