package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

// Kiosks are known devices of the site. A site lead creates a one-time
// pairing code on the desk (/desk/kiosks); on the kiosk, /kiosk/pair takes
// the code once and gives the browser a long-lived device cookie (only its
// hash is stored; HttpOnly, SameSite=Strict). A kiosk that is not a
// browser pairs with POST /api/v1/kiosks/pair and sends its device token
// as "Authorization: Bearer …". Paired kiosks and staff issue without
// limit; everyone else is limited per client (kiosk_limit.go). The desk
// lists the kiosks; unpairing one stops its cookie at once.

const kioskCookie = "veedel_kiosk"

// kioskCookieAge is how long the device cookie lasts: browsers keep a
// cookie at most 400 days, and every kiosk page renews it.
const kioskCookieAge = 400 * 24 * time.Hour

// caller is who issues a ticket.
type caller struct {
	kiosk *sqlite.KioskDevice // a paired kiosk
	staff string              // staff with HTTP Basic (API only)
	addr  string              // anonymous: the client's key (kiosk_limit.go)
}

// scope keeps idempotency keys of different callers apart: a key replays
// (and reveals) a ticket only to whoever sent it first.
func (c caller) scope() string {
	switch {
	case c.kiosk != nil:
		return "kiosk#" + strconv.FormatInt(c.kiosk.ID, 10)
	case c.staff != "":
		return "staff#" + c.staff
	}
	return "addr#" + c.addr
}

// deviceToken is the request's kiosk credential: a bearer token (API
// clients) or the device cookie (browsers).
func deviceToken(r *http.Request) string {
	if auth := r.Header.Get("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		return strings.TrimSpace(auth[7:])
	}
	if c, err := r.Cookie(kioskCookie); err == nil {
		return c.Value
	}
	return ""
}

// kioskDevice is the paired kiosk the request comes from, if any.
func (s *Server) kioskDevice(r *http.Request) (*sqlite.KioskDevice, error) {
	token := deviceToken(r)
	if token == "" {
		return nil, nil
	}
	d, err := s.Store.KioskByToken(r.Context(), token)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// apiCaller identifies the caller of an issuing API request: staff (HTTP
// Basic), a paired kiosk (bearer token or cookie) or anonymous. Wrong
// credentials are answered 401 (it returns false), never taken as
// anonymous: an integrator must learn that its kiosk was unpaired.
func (s *Server) apiCaller(w http.ResponseWriter, r *http.Request) (caller, bool) {
	if _, _, ok := r.BasicAuth(); ok {
		name, ok := s.staff(w, r)
		return caller{staff: name}, ok
	}
	d, err := s.kioskDevice(r)
	if err != nil {
		web.Error(w, r, err)
		return caller{}, false
	}
	return caller{kiosk: d, addr: clientKey(r)}, true
}

// kioskCaller identifies the caller at the kiosk pages: a paired kiosk by
// its cookie, else anonymous. A cookie that no longer pairs anything
// (unpaired at the desk) is cleared.
func (s *Server) kioskCaller(w http.ResponseWriter, r *http.Request) caller {
	d, err := s.kioskDevice(r)
	if err != nil {
		if veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
			s.Logger.Error("kiosk device", "route", web.Route(r), "err", err)
		}
		http.SetCookie(w, &http.Cookie{Name: kioskCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	}
	return caller{kiosk: d, addr: clientKey(r)}
}

// admitIssue lets a paired kiosk or staff through and takes one ticket
// from an anonymous client's allowance; when that is used up it reports
// how long to wait.
func (s *Server) admitIssue(c caller) (bool, time.Duration) {
	if c.kiosk != nil || c.staff != "" {
		return true, 0
	}
	return s.issueLimiter.Allow(c.addr, s.now())
}

// tooManyAPI answers 429 with Retry-After and a JSON error.
func tooManyAPI(w http.ResponseWriter, wait time.Duration) {
	secs := retryAfter(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	web.JSON(w, http.StatusTooManyRequests, map[string]string{"error": fmt.Sprintf(
		"too many tickets from this address: try again in %d s, or issue from a kiosk paired at the desk (POST /api/v1/kiosks/pair) or with staff credentials", secs)})
}

// tooManyKiosk shows the kiosk again with the limit's message (429).
func (s *Server) tooManyKiosk(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := retryAfter(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.renderKiosk(w, r, http.StatusTooManyRequests, ui.Translate(ui.Lang(w, r, ui.CitizenLangs...), "kiosk.limited", secs), "")
}

// setKioskCookie gives the browser (or renews) its device cookie.
func setKioskCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{Name: kioskCookie, Value: token, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int(kioskCookieAge / time.Second)})
}

// pairPage is /kiosk/pair: the form for the code, or the device's pairing.
type pairPage struct {
	SiteName string
	Device   *sqlite.KioskDevice // this browser is paired as Device
	Code     string              // typed before an error
	Error    string
	DeskURL  string
}

func (s *Server) renderPair(w http.ResponseWriter, r *http.Request, status int, p pairPage) {
	s.Store.View(func(st *queue.State) { p.SiteName = st.Site.Name })
	p.DeskURL = "/desk/kiosks"
	lang := ui.Lang(w, r)
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, "kiosk_pair", ui.Page{Lang: lang, Title: ui.Translate(lang, "pair.title"), Surface: "kiosk", Path: "/kiosk/pair",
		Data: p})
}

// kioskPairForm shows the pairing form, with ?code= filled in (the desk's
// link), or says that this browser is paired already.
func (s *Server) kioskPairForm(w http.ResponseWriter, r *http.Request) {
	c := s.kioskCaller(w, r)
	if c.kiosk != nil {
		setKioskCookie(w, r, deviceToken(r))
	}
	code := r.URL.Query().Get("code")
	if len(code) > 32 {
		code = ""
	}
	s.renderPair(w, r, http.StatusOK, pairPage{Device: c.kiosk, Code: code})
}

// kioskPair takes a pairing code. Guessing is limited per client; a
// wrong, used or expired code is shown next to the field. A browser that
// was paired before gives up its old pairing.
func (s *Server) kioskPair(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	code := strings.TrimSpace(r.PostForm.Get("code"))
	lang := ui.Lang(w, r)
	if len(code) > 32 {
		code = code[:32]
	}
	if sqlite.NormalizePairingCode(code) == "" {
		s.renderPair(w, r, http.StatusBadRequest, pairPage{Error: ui.Translate(lang, "pair.code.empty")})
		return
	}
	if ok, wait := s.pairLimiter.Allow(clientKey(r), s.now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		s.renderPair(w, r, http.StatusTooManyRequests, pairPage{Code: code, Error: ui.Translate(lang, "pair.code.limited", retryAfter(wait))})
		return
	}
	old, _ := s.kioskDevice(r)
	token, d, err := s.Store.PairKiosk(r.Context(), code)
	if err != nil {
		if veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
			s.renderError(w, r, err)
			return
		}
		s.renderPair(w, r, http.StatusBadRequest, pairPage{Code: code, Error: ui.Translate(lang, "pair.code.wrong")})
		return
	}
	if old != nil {
		if _, err := s.Store.UnpairKiosk(r.Context(), old.ID); err != nil && veedel.ErrorCode(err) != veedel.ENOTFOUND {
			s.Logger.Error("unpair the kiosk's previous pairing", "kiosk", old.ID, "err", err)
		}
	}
	s.Logger.Info("kiosk paired", "kiosk", d.ID, "by", d.PairedBy)
	setKioskCookie(w, r, token)
	http.Redirect(w, r, "/kiosk/pair", http.StatusSeeOther)
}

type pairRequest struct {
	Code string `json:"code"`
}

type pairResponse struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// DeviceToken goes in "Authorization: Bearer …" of every issuing
	// request. It is shown once; the site keeps only its hash.
	DeviceToken string `json:"device_token"`
}

// apiPair pairs a kiosk that is not a browser with a code from the desk.
func (s *Server) apiPair(w http.ResponseWriter, r *http.Request) {
	var req pairRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		web.Error(w, r, err)
		return
	}
	if sqlite.NormalizePairingCode(req.Code) == "" || len(req.Code) > 32 {
		web.Error(w, r, veedel.Errorf(veedel.EINVALID, `field "code" is required: the pairing code shown on the desk's kiosk page (/desk/kiosks)`))
		return
	}
	if ok, wait := s.pairLimiter.Allow(clientKey(r), s.now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		web.JSON(w, http.StatusTooManyRequests, map[string]string{"error": fmt.Sprintf("too many pairing attempts from this address: try again in %d s", retryAfter(wait))})
		return
	}
	token, d, err := s.Store.PairKiosk(r.Context(), req.Code)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	s.Logger.Info("kiosk paired", "kiosk", d.ID, "by", d.PairedBy)
	w.Header().Set("Cache-Control", "no-store")
	web.JSON(w, http.StatusCreated, pairResponse{ID: d.ID, Name: d.Name, DeviceToken: token})
}

// kiosksPage is the desk's list of kiosks (/desk/kiosks).
type kiosksPage struct {
	SiteName string
	Devices  []sqlite.KioskDevice
	Open     []sqlite.KioskPairing
	// New is the code just created, shown once.
	New      *newPairing
	Name     string // typed before an error
	Error    string
	PairURL  string // where the kiosk opens the form: http://<this host>/kiosk/pair
	Limit    int    // anonymous tickets at once
	LimitSec int    // then one every LimitSec seconds
}

type newPairing struct {
	Code    string
	Name    string
	Expires time.Time
	Link    string // PairURL with the code filled in
}

func (s *Server) renderKiosks(w http.ResponseWriter, r *http.Request, status int, p kiosksPage) {
	var err error
	if p.Devices, err = s.Store.KioskDevices(r.Context()); err == nil {
		p.Open, err = s.Store.KioskPairings(r.Context())
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	var loc *time.Location
	s.Store.View(func(st *queue.State) { p.SiteName, loc = st.Site.Name, st.Site.Location })
	if loc != nil {
		for i := range p.Devices {
			p.Devices[i].PairedAt, p.Devices[i].LastSeen = p.Devices[i].PairedAt.In(loc), p.Devices[i].LastSeen.In(loc)
		}
		for i := range p.Open {
			p.Open[i].ExpiresAt = p.Open[i].ExpiresAt.In(loc)
		}
		if p.New != nil {
			p.New.Expires = p.New.Expires.In(loc)
		}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	p.PairURL = scheme + "://" + r.Host + "/kiosk/pair"
	if p.New != nil {
		p.New.Link = p.PairURL + "?code=" + p.New.Code
	}
	p.Limit, p.LimitSec = int(issueLimit.Burst), int(issueLimit.Every/time.Second)
	lang := ui.Lang(w, r)
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, "desk_kiosks", ui.Page{Lang: lang, Title: ui.Translate(lang, "kiosks.title") + " · " + p.SiteName,
		Surface: "desk", Path: r.URL.Path, Data: p})
}

// deskKiosks lists the paired kiosks and open codes.
func (s *Server) deskKiosks(w http.ResponseWriter, r *http.Request) {
	s.renderKiosks(w, r, http.StatusOK, kiosksPage{})
}

// deskKioskCreate creates a pairing code and shows it once.
func (s *Server) deskKioskCreate(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return
	}
	name := r.PostForm.Get("name")
	code, expires, err := s.Store.CreateKioskPairing(r.Context(), name, session(r).User.Name)
	if err != nil {
		if veedel.ErrorCode(err) != veedel.EINVALID {
			s.renderError(w, r, err)
			return
		}
		s.renderKiosks(w, r, http.StatusBadRequest, kiosksPage{Name: name, Error: ui.InLang(ui.Lang(w, r), veedel.ErrorMessage(err))})
		return
	}
	clean, _ := sqlite.KioskName(name)
	s.renderKiosks(w, r, http.StatusOK, kiosksPage{New: &newPairing{Code: code, Name: clean, Expires: expires}})
}

// deskKioskUnpair unpairs a kiosk: its cookie stops working at once.
func (s *Server) deskKioskUnpair(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.ENOTFOUND, "Diesen Kiosk gibt es nicht / no such kiosk"))
		return
	}
	d, err := s.Store.UnpairKiosk(r.Context(), id)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.Logger.Info("kiosk unpaired", "kiosk", d.ID, "by", session(r).User.Name)
	http.Redirect(w, r, "/desk/kiosks", http.StatusSeeOther)
}
