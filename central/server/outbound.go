package server

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/sync/changelog"
)

// Download limits: how long a poll may be held, and the answer's size.
const (
	MaxOutboundWait    = 60 * time.Second
	maxOutboundEntries = changelog.MaxBatchEntries
)

// RejoinedHeader acknowledges a poll's rejoin=1: its value is the poll's
// after, and the replay of the reference data lies in the outbound log
// after it, up to the answer's Head at most.
const RejoinedHeader = "Veedel-Rejoined"

var sitePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// getOutbound is the download endpoint the appliance's downlink long-polls.
// The contract:
//
//   - request: GET /api/v1/sync/outbound?site=kalk&after=N&wait=25s[&limit=M]
//     after is the site's cursor (the last outbound seq it applied, 0 for
//     none); wait (a Go duration, at most 60s, default 0) is how long central
//     may hold the request when nothing is new; limit bounds the entries
//     (default 500, at most 2000; the answer also stays under about 1 MiB);
//   - response: one CBOR changelog.Download (JSON when Accept prefers
//     application/json): Site, Version, Entries (consecutive, from after+1,
//     hash-chained, Entry.Site the receiving site), Head (the log's highest
//     seq). It comes at once when entries are waiting, as soon as one is
//     appended while the request waits, or empty when the wait ends;
//   - 503: central is shutting down; poll again;
//   - 400: bad parameters; 401/403: Authorize refused the site; 409: after
//     is beyond central's head (central's outbound log is older than the
//     site's inbox: restored from a backup); Error says why.
//
// SMS hand-overs (central/smshandover.go, docs/SYNC.md): a poll with sms=1
// and a box key (changelog.HeaderBoxKey, signed with a nonce) asks for
// them; its answer (CBOR only) carries the sign-ups waiting for the site
// in Download.SMS, each number sealed to that key (changelog.SealSMS, at
// sign-up), and
// comes at once when one is waiting or is added while the poll waits.
// sms_ok and sms_no list the hand-over IDs (comma-separated) the site
// recorded or refused since its last answered poll; they are taken only
// after the poll's signature is checked.
//
// Rejoin (docs/SYNC.md, "Adding a new outbound event type"): a poll with
// rejoin=1 asks central to append the current reference data to the
// site's outbound log again, because the site's build now applies a type
// its inbox skipped before. Central does so at most once per request
// (the same after again is the same request) and once a minute per site
// (central.Central.Rejoin), and, when the replay lies in the log after
// after, says so in the answer's header RejoinedHeader (the value is
// after); a poll whose answer lacks it asks again. A failed rejoin is
// logged and does not fail the download.
//
// Every poll is recorded as the site's download position (admin sync page).
func (s *Server) getOutbound(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	site := q.Get("site")
	if !sitePattern.MatchString(site) {
		s.writeDownload(w, r, http.StatusBadRequest, changelog.Download{Error: "site must be a site id (a-z, 0-9, -)"})
		return
	}
	after, err := parseUint(q.Get("after"))
	if err != nil {
		s.writeDownload(w, r, http.StatusBadRequest, changelog.Download{Site: site, Error: "after must be a seq (0 or more)"})
		return
	}
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		if wait, err = time.ParseDuration(v); err != nil || wait < 0 || wait > MaxOutboundWait {
			s.writeDownload(w, r, http.StatusBadRequest, changelog.Download{Site: site, Error: "wait must be a duration from 0s to 60s, e.g. 25s"})
			return
		}
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxOutboundEntries {
			s.writeDownload(w, r, http.StatusBadRequest, changelog.Download{Site: site, Error: "limit must be a number from 1 to " + strconv.Itoa(maxOutboundEntries)})
			return
		}
		limit = n
	}
	smsOK, okErr := handoverIDs(q.Get("sms_ok"))
	smsNo, noErr := handoverIDs(q.Get("sms_no"))
	if okErr != nil || noErr != nil {
		s.writeDownload(w, r, http.StatusBadRequest, changelog.Download{Site: site, Error: "sms_ok and sms_no must list sms hand-over ids, separated by commas"})
		return
	}
	// The poll must be signed by the site's enrolled key (Authorize), so
	// that nobody reads another site's work.
	if err := s.Authorize(r, site); err != nil {
		s.writeDownload(w, r, web.Status(err), changelog.Download{Site: site, Error: veedel.ErrorMessage(err)})
		return
	}
	if q.Get("rejoin") == "1" {
		done, err := s.Central.Rejoin(r.Context(), site, after)
		switch {
		case err != nil:
			s.Logger.Error("rejoin", "site", site, "after", after, "err", err)
		case done:
			w.Header().Set(RejoinedHeader, strconv.FormatUint(after, 10))
		}
	}
	// Hand-overs travel in CBOR only (Download.SMS is not in the JSON),
	// each number sealed to the box key the poll's signature covers: only
	// the site can read it, and a poll without a nonce (which could be
	// replayed) or without a box key gets none.
	boxKey := sealTo(r)
	if boxKey != nil {
		// Kept durably, so that orders and bookings for this site can be
		// sealed to it while it is offline.
		if err := s.Central.RecordBoxKey(r.Context(), site, boxKey); err != nil {
			s.Logger.Error("record box key", "site", site, "err", err)
		}
	}
	takesSMS := q.Get("sms") == "1" && !wantsJSON(r) && boxKey != nil
	s.Central.ConfirmSMS(site, takesSMS, smsOK, smsNo)

	// Take the wake-up channel before reading, so that an entry appended
	// between the read and the wait is not missed; wait again after a
	// wake-up that brought nothing for this cursor.
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	var dl changelog.Download
	for {
		changed := s.Central.OutboundChanged(site)
		dl, err = s.Central.Outbound(r.Context(), site, after, limit)
		if err == nil && takesSMS {
			// Sealed to the site's box key at sign-up (central cannot
			// read them); only those sealed to this poll's key.
			dl.SMS, err = s.Central.SMSHandovers(r.Context(), site, boxKey)
		}
		if err != nil || len(dl.Entries) > 0 || len(dl.SMS) > 0 || wait == 0 {
			break
		}
		select {
		case <-changed:
			continue
		case <-deadline.C:
		case <-r.Context().Done():
			// The site went away, or central is shutting down: say so
			// (if anyone still listens) instead of an empty 200.
			s.writeDownload(w, r, http.StatusServiceUnavailable, changelog.Download{Site: site, Error: "central is shutting down"})
			return
		}
		break
	}
	switch veedel.ErrorCode(err) {
	case "":
		s.writeDownload(w, r, http.StatusOK, dl)
	case veedel.ECONFLICT:
		s.Logger.Warn("download conflict", "site", site, "after", after, "head", dl.Head, "err", err)
		dl.Entries, dl.SMS, dl.Error = nil, nil, veedel.ErrorMessage(err)
		s.writeDownload(w, r, http.StatusConflict, dl)
	default:
		s.Logger.Error("download", "site", site, "err", err)
		s.writeDownload(w, r, http.StatusInternalServerError, changelog.Download{Site: site, Error: veedel.ErrorMessage(err)})
	}
}

// handoverIDs parses a comma-separated list of SMS hand-over IDs.
func handoverIDs(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	ids := strings.Split(v, ",")
	if len(ids) > 2*changelog.MaxSMSHandovers {
		return nil, veedel.Errorf(veedel.EINVALID, "too many sms hand-over ids")
	}
	for _, id := range ids {
		if !changelog.ValidHandoverID(id) {
			return nil, veedel.Errorf(veedel.EINVALID, "malformed sms hand-over id")
		}
	}
	return ids, nil
}

func parseUint(v string) (uint64, error) {
	if v == "" {
		return 0, nil
	}
	return strconv.ParseUint(v, 10, 64)
}

// writeDownload sends a Download as CBOR, or as JSON when the client
// prefers it, dated by central's clock (syncDate).
func (s *Server) writeDownload(w http.ResponseWriter, r *http.Request, status int, d changelog.Download) {
	s.syncDate(w)
	w.Header().Set("Cache-Control", "no-store")
	if d.Version == 0 {
		d.Version = changelog.SchemaVersion
	}
	if wantsJSON(r) {
		web.JSON(w, status, d)
		return
	}
	data, err := changelog.Marshal(d)
	if err != nil {
		s.Logger.Error("encode download", "err", err)
		web.JSON(w, http.StatusInternalServerError, map[string]string{"error": veedel.ErrorMessage(err)})
		return
	}
	w.Header().Set("Content-Type", "application/cbor")
	w.WriteHeader(status)
	w.Write(data)
}

// syncDate sets an answer's Date header from central's clock just before it
// is written: the site signs its next request with it
// (changelog.CentralClock), however far off its own clock is.
func (s *Server) syncDate(w http.ResponseWriter) {
	w.Header().Set("Date", s.Central.Now().UTC().Format(http.TimeFormat))
}
