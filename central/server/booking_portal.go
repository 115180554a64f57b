package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/ratelimit"
	"github.com/veedel/veedel/ui"
)

// The citizen's booking pages (appliance/appointment through the same
// Central.Slots, Hold, Confirm and Cancel as the JSON API): four steps as
// separate GET pages whose query holds no personal data (service, site,
// date, start), the name and contact only in the POST body of the last
// step; then the booking's private page behind its token (/b/{token},
// booking_portal_status.go), which asks for the code sent while the slot
// is held and shows the booking once confirmed. Every page works without
// JavaScript; a failed post shows the step again with an error summary
// (focused) linking to each field and the message beside the field, in the
// page's language. The router's cross-origin protection refuses forged
// posts.

const (
	// bookingPath is the booking's start, German like the portal's audience.
	bookingPath = "/termin"
	// bookingDays is how far ahead the day choice reaches.
	bookingDays = 14
	// maxBookingForm bounds the form's body.
	maxBookingForm = 8 << 10
	// maxNameRunes is appointment's bound on a name.
	maxNameRunes = 80
)

// phonePattern is appointment's (central.go) check of a mobile number.
var bookingPhonePattern = regexp.MustCompile(`^\+?[0-9][0-9 /-]{5,19}$`)

// bookingProblem is one line of the error summary: a link to the field.
type bookingProblem struct {
	Href    string
	Message string
}

// bookingStepView is one step of the progress list.
type bookingStepView struct {
	N       int
	Label   string
	Href    string // a link back to a step done; "" for the current and later ones
	Current bool
}

// bookingService is a service as step 1 offers it.
type bookingService struct {
	ID      string
	Name    string
	Minutes int    // how long it takes, about
	Bring   string // what to bring
	Href    string
}

// bookingSite is a site as step 2 offers it, with its walk-in wait.
type bookingSite struct {
	ID, Name, Address string
	Open, Shut, Stale bool
	Opens, Updated    string
	Waiting, Minutes  int
	Href              string
}

// bookingDay is a day of step 3.
type bookingDay struct {
	Date    string // YYYY-MM-DD
	Label   string // "Donnerstag, 05.03."
	Free    int    // slots with a free place
	Href    string
	Current bool
}

// bookingSlot is a free time of the chosen day.
type bookingSlot struct {
	Value   string // RFC 3339, the form's value
	ID      string
	Label   string // "08:50"
	Checked bool
}

// bookingField is a personal field of step 4.
type bookingField struct {
	Value, Error string
}

// bookingPage is what page_booking_*.html show.
type bookingPage struct {
	Step     int
	Steps    []bookingStepView
	LangBase string // the page's address with its query, ready for "lang=…"
	Problems []bookingProblem
	Failure  string // a problem of no one field, for the summary

	Services     []bookingService
	ServiceError string
	Service      bookingService
	Sites        []bookingSite
	SiteError    string
	Site         bookingSite
	Days         []bookingDay
	DateError    string
	Day          bookingDay
	Slots        []bookingSlot
	StartError   string
	Start        string        // RFC 3339
	When         string        // "Donnerstag, 05.03.2026, 08:50 Uhr"
	WhenHTML     template.HTML // When with the date and time isolated (<bdi>)
	Back         string        // the previous step

	Name, Email, Phone bookingField
	// Texts: central sends codes by SMS too, so a mobile number may
	// stand in for the e-mail address.
	Texts        bool
	Consent      bool
	ConsentError string
	Action       string
	// Move is the token of a booking this one replaces ("" for none):
	// it is cancelled once the new one is confirmed. MoveWhen says when
	// the booking moved from is.
	Move, MoveWhen string
	carry          func(string) string // adds the move to a step's address
	// Submission names this rendering of the form: the same form posted
	// twice (a double tap) holds one slot (holdSubmissions).
	Submission string
	// Exam: the service is the school-entry exam, booked with the
	// invitation's code (exam_booking.go), ExamCode the code's field.
	Exam     bool
	ExamCode bookingField
}

// Has reports whether the page shows an error summary.
func (p bookingPage) Has() bool { return len(p.Problems) > 0 || p.Failure != "" }

func (p *bookingPage) problem(href, msg string) {
	p.Problems = append(p.Problems, bookingProblem{Href: href, Message: msg})
}

// bookingQuery is a step's address: the choices so far, never personal data.
func bookingQuery(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return bookingPath
	}
	return bookingPath + "?" + q.Encode()
}

// langBase is path with its query but lang, ending in "?" or "&".
func langBase(path string, q url.Values) string {
	q = maps(q)
	q.Del("lang")
	if len(q) == 0 {
		return path + "?"
	}
	return path + "?" + q.Encode() + "&"
}

func maps(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

// bookableServices lists the catalogue's services some site sells online
// (its online share of a slot is at least one place), in catalogue order.
func (s *Server) bookableServices(ctx context.Context, lang string) ([]bookingService, error) {
	catalog, err := s.Central.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	var out []bookingService
	for _, cs := range catalog {
		if len(s.bookableSites(cs.ID)) == 0 {
			continue
		}
		out = append(out, bookingService{ID: cs.ID, Name: ui.ServiceName(lang, cs.ID, cs.Name, cs.NameEN),
			Minutes: cs.ExpectedMinutes, Bring: bring(lang, cs.ID), Href: bookingQuery("service", cs.ID)})
	}
	return out, nil
}

// bring says what to bring for a service, in lang.
func bring(lang, service string) string {
	if s, ok := ui.Lookup(lang, "portal.book.bring."+service); ok {
		return s
	}
	if _, ok := ui.Lookup("de", "portal.book.bring."+service); ok {
		return ui.Translate(lang, "portal.book.bring."+service)
	}
	return ui.Translate(lang, "portal.book.bring.default")
}

// booksOnline reports whether a site sells appointments online: it has
// opening hours and, for some service, counters enough for an online share.
func booksOnline(st *queue.State) bool {
	if len(st.Site.Hours) == 0 {
		return false
	}
	for id := range st.Services {
		if st.OnlineShareOf(id, st.SlotCapacity(id)) > 0 {
			return true
		}
	}
	return false
}

// bookableSites are the IDs of the sites that sell service online: they
// have opening hours, and counters enough for an online share.
func (s *Server) bookableSites(service string) []string {
	var out []string
	for _, sum := range s.Central.Sites() {
		ok := false
		s.Central.ViewSite(sum.ID, func(st *queue.State, _ central.SiteCursor) {
			ok = st.Services[service] != nil && len(st.Site.Hours) > 0 && st.OnlineShareOf(service, st.SlotCapacity(service)) > 0
		})
		if ok {
			out = append(out, sum.ID)
		}
	}
	return out
}

// siteChoices renders the sites of service with their walk-in waits.
func (s *Server) siteChoices(lang, service string) []bookingSite {
	ids := s.bookableSites(service)
	now := s.now()
	var out []bookingSite
	for _, sum := range s.Central.Sites() {
		if !slices.Contains(ids, sum.ID) {
			continue
		}
		v := bookingSite{ID: sum.ID, Name: sum.Name, Address: sum.Address, Open: sum.Open, Stale: sum.Stale,
			Waiting: sum.Waiting, Minutes: sum.EstimatedWaitMinutes, Updated: freshness(lang, sum.LastSync, now),
			Href: bookingQuery("service", service, "site", sum.ID)}
		v.Shut, v.Opens = s.siteShut(lang, sum.ID)
		out = append(out, v)
	}
	return out
}

// siteLocation is the site's time zone (the city's when unknown).
func (s *Server) siteLocation(site string) *time.Location {
	loc := s.Central.Location()
	s.Central.ViewSite(site, func(st *queue.State, _ central.SiteCursor) {
		if st.Site.Location != nil {
			loc = st.Site.Location
		}
	})
	return loc
}

// bookingDays are the next bookingDays days at site, from today, with the
// number of free slots each.
func (s *Server) bookingDays(lang, service, site string) []bookingDay {
	now := s.now()
	loc := s.siteLocation(site)
	today := now.In(loc)
	var out []bookingDay
	for i := range bookingDays {
		d := time.Date(today.Year(), today.Month(), today.Day()+i, 12, 0, 0, 0, loc)
		day := d.Format(time.DateOnly)
		free := 0
		if slots, err := s.appointments().Slots(context.Background(), s.Central, site, service, day, now); err == nil {
			for _, sl := range slots {
				if sl.Available > 0 {
					free++
				}
			}
		}
		out = append(out, bookingDay{Date: day, Label: dayLabel(lang, d), Free: free,
			Href: bookingQuery("service", service, "site", site, "date", day) + "#slots"})
	}
	return out
}

// dayLabel is "Donnerstag, 05.03." in lang.
func dayLabel(lang string, d time.Time) string {
	return ui.Translate(lang, "portal.book.wd."+strconv.Itoa(int(d.Weekday()))) + ", " + d.Format("02.01.")
}

// whenLabel is "Donnerstag, 05.03.2026, 08:50 Uhr" in lang.
func whenLabel(lang string, t time.Time, loc *time.Location) string {
	l := t.In(loc)
	return ui.Translate(lang, "portal.book.when", ui.Translate(lang, "portal.book.wd."+strconv.Itoa(int(l.Weekday()))), l.Format("02.01.2006"), l.Format("15:04"))
}

// whenHTML is whenLabel with the date and the time isolated, so that
// they keep their order inside Arabic text.
func whenHTML(lang string, t time.Time, loc *time.Location) template.HTML {
	l := t.In(loc)
	return ui.Isolated(lang, "portal.book.when", ui.Translate(lang, "portal.book.wd."+strconv.Itoa(int(l.Weekday()))), l.Format("02.01.2006"), l.Format("15:04"))
}

// freeSlots are the slots of day with a free place.
func (s *Server) freeSlots(service, site, day string) ([]appointment.SlotView, error) {
	slots, err := s.appointments().Slots(context.Background(), s.Central, site, service, day, s.now())
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(slots, func(sl appointment.SlotView) bool { return sl.Available <= 0 }), nil
}

// bookingForm serves GET /termin: the step its query has reached.
func (s *Server) bookingForm(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	q := r.URL.Query()
	p := bookingPage{LangBase: langBase(bookingPath, q)}
	status := s.bookingStep(r.Context(), lang, &p, q.Get("service"), q.Get("site"), q.Get("date"), q.Get("start"), q.Has("start"))
	s.bookingMove(lang, &p, q.Get("move"))
	if p.Exam = isExamService(p.Service.ID); p.Exam {
		p.ExamCode.Value = examCodeOf(r)
	}
	s.renderBooking(w, status, lang, p)
}

// bookingMove makes the page move the booking of token (booking another
// time for it) when token names a booking that can still move; a token
// that does not is said so and dropped.
func (s *Server) bookingMove(lang string, p *bookingPage, token string) {
	if token == "" {
		return
	}
	a, ok := s.apptByToken(context.Background(), token)
	if !ok || (a.Status != appointment.StatusConfirmed && a.Status != appointment.StatusAtSite) {
		if p.Failure == "" {
			p.Failure = ui.Translate(lang, "portal.book.move.gone")
		}
		return
	}
	p.Move, p.MoveWhen = token, whenLabel(lang, a.Start, s.siteLocation(a.Site))
	carry := func(href string) string {
		if href == "" {
			return ""
		}
		path, frag, _ := strings.Cut(href, "#")
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		out := path + sep + "move=" + url.QueryEscape(token)
		if frag != "" {
			out += "#" + frag
		}
		return out
	}
	for i := range p.Services {
		p.Services[i].Href = carry(p.Services[i].Href)
	}
	for i := range p.Sites {
		p.Sites[i].Href = carry(p.Sites[i].Href)
	}
	for i := range p.Days {
		p.Days[i].Href = carry(p.Days[i].Href)
	}
	p.Back = carry(p.Back)
	p.carry = carry
}

// bookingStep fills p with the step the choices reach, checking each: a
// choice that does not fit shows its own step with the message beside it.
// It returns the page's status.
func (s *Server) bookingStep(ctx context.Context, lang string, p *bookingPage, service, site, date, start string, startGiven bool) int {
	services, err := s.bookableServices(ctx, lang)
	if err != nil {
		s.Logger.Error("booking: catalogue", "err", err)
		p.Step, p.Failure = 1, ui.Translate(lang, "portal.book.err.unavailable")
		return http.StatusInternalServerError
	}
	p.Services = services
	p.Step = 1
	if service == "" {
		if site != "" {
			// Chosen beside a site on the portal: its services only.
			p.Services = slices.DeleteFunc(p.Services, func(sv bookingService) bool { return !slices.Contains(s.bookableSites(sv.ID), site) })
			for i := range p.Services {
				p.Services[i].Href = bookingQuery("service", p.Services[i].ID, "site", site)
			}
			if len(p.Services) == 0 {
				p.Services = services
				p.SiteError = ui.Translate(lang, "portal.book.err.site")
				p.problem("#services", p.SiteError)
				return http.StatusBadRequest
			}
		}
		return http.StatusOK
	}
	i := slices.IndexFunc(services, func(sv bookingService) bool { return sv.ID == service })
	if i < 0 {
		p.ServiceError = ui.Translate(lang, "portal.book.err.service")
		p.problem("#services", p.ServiceError)
		return http.StatusBadRequest
	}
	p.Service = services[i]
	p.Step, p.Back = 2, bookingPath
	p.Sites = s.siteChoices(lang, service)
	if site == "" {
		return http.StatusOK
	}
	j := slices.IndexFunc(p.Sites, func(v bookingSite) bool { return v.ID == site })
	if j < 0 {
		p.SiteError = ui.Translate(lang, "portal.book.err.site")
		p.problem("#sites", p.SiteError)
		return http.StatusBadRequest
	}
	p.Site = p.Sites[j]
	p.Step, p.Back = 3, bookingQuery("service", service)
	p.Days = s.bookingDays(lang, service, site)
	loc := s.siteLocation(site)
	if date == "" && start != "" {
		if t, err := time.Parse(time.RFC3339, start); err == nil {
			date = t.In(loc).Format(time.DateOnly)
		}
	}
	if date == "" {
		// The first day with a free slot, chosen for the citizen.
		for _, d := range p.Days {
			if d.Free > 0 {
				date = d.Date
				break
			}
		}
		if date == "" {
			return http.StatusOK // the page says there is no free slot
		}
	}
	_, err = time.ParseInLocation(time.DateOnly, date, loc)
	today := s.now().In(loc).Format(time.DateOnly)
	switch {
	case err != nil:
		p.DateError = ui.Translate(lang, "portal.book.err.date")
	case date < today:
		p.DateError = ui.Translate(lang, "portal.book.err.past")
	case date > p.Days[len(p.Days)-1].Date:
		p.DateError = ui.Translate(lang, "portal.book.err.far", bookingDays)
	}
	if p.DateError != "" {
		p.problem("#days", p.DateError)
		return http.StatusBadRequest
	}
	for k := range p.Days {
		if p.Days[k].Date == date {
			p.Days[k].Current = true
			p.Day = p.Days[k]
		}
	}
	free, err := s.freeSlots(service, site, date)
	if err != nil {
		s.Logger.Error("booking: slots", "err", err)
		p.Failure = ui.Translate(lang, "portal.book.err.unavailable")
		return http.StatusInternalServerError
	}
	for _, sl := range free {
		v := sl.Start.UTC().Format(time.RFC3339)
		p.Slots = append(p.Slots, bookingSlot{Value: v, ID: "slot-" + sl.Start.In(loc).Format("1504"), Label: sl.Start.In(loc).Format("15:04")})
	}
	if !startGiven {
		return http.StatusOK
	}
	t, err := time.Parse(time.RFC3339, start)
	if err != nil {
		p.StartError = ui.Translate(lang, "portal.book.err.start")
		p.problem("#slots", p.StartError)
		return http.StatusBadRequest
	}
	k := slices.IndexFunc(free, func(sl appointment.SlotView) bool { return sl.Start.Equal(t) })
	if k < 0 {
		if t.Before(s.now()) {
			p.StartError = ui.Translate(lang, "portal.book.err.past")
			p.problem("#slots", p.StartError)
			return http.StatusBadRequest
		}
		p.StartError = ui.Translate(lang, "portal.book.err.taken")
		p.problem("#slots", p.StartError)
		return http.StatusConflict
	}
	for i := range p.Slots {
		p.Slots[i].Checked = p.Slots[i].Value == t.UTC().Format(time.RFC3339)
	}
	p.Step = 4
	p.Start = t.UTC().Format(time.RFC3339)
	p.When, p.WhenHTML = whenLabel(lang, t, loc), whenHTML(lang, t, loc)
	p.Back = bookingQuery("service", service, "site", site, "date", date) + "#slots"
	p.Action = bookingPath
	p.Submission = newSubmissionKey()
	return http.StatusOK
}

// holdBooking serves POST /termin: step 4's form. The slot is held and the
// code sent only when every field is right; otherwise the step shows again
// with what was typed and the messages, and nothing is held.
func (s *Server) holdBooking(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	r.Body = http.MaxBytesReader(w, r.Body, maxBookingForm)
	if err := r.ParseForm(); err != nil {
		p := bookingPage{LangBase: bookingPath + "?"}
		s.bookingStep(r.Context(), lang, &p, "", "", "", "", false)
		p.Failure = ui.Translate(lang, "portal.book.err.form")
		s.renderBooking(w, http.StatusBadRequest, lang, p)
		return
	}
	f := r.PostForm
	// The same form posted twice holds once, on whichever central node: a
	// repeat waits for the first post and goes where it went (the slot it
	// holds is no longer free, so this comes before the choices are
	// checked again).
	token, repeat, err := s.Central.SubmitOnce(r.Context(), "booking", f.Get("submission"), appointment.DefaultHoldFor+time.Minute,
		func() (string, error) { return s.holdBookingForm(w, r, lang, f) })
	switch {
	case repeat:
		http.Redirect(w, r, "/b/"+url.PathEscape(token), http.StatusSeeOther)
	case err != nil && !errors.Is(err, errAnswered):
		// The database, before the form was looked at.
		s.Logger.Error("booking: form submission", "err", err)
		p := bookingPage{LangBase: bookingPath + "?"}
		s.bookingStep(r.Context(), lang, &p, "", "", "", "", false)
		p.Failure = ui.Translate(lang, "portal.book.err.unavailable")
		s.renderBooking(w, http.StatusServiceUnavailable, lang, p)
	}
}

// errAnswered: a form's handler has answered the post with a page saying
// what is wrong; nothing was made.
var errAnswered = errors.New("answered")

// holdBookingForm checks step 4's form and holds the slot: on success it
// redirects to the code page and returns the hold's token; otherwise it
// shows the step again with what was typed and the messages and returns
// errAnswered.
func (s *Server) holdBookingForm(w http.ResponseWriter, r *http.Request, lang string, f url.Values) (string, error) {
	key := f.Get("submission")
	service, site, start := f.Get("service"), f.Get("site"), f.Get("start")
	p := bookingPage{LangBase: bookingQuery("service", service, "site", site, "start", start, "move", f.Get("move"))}
	p.LangBase += map[bool]string{true: "?", false: "&"}[p.LangBase == bookingPath]
	status := s.bookingStep(r.Context(), lang, &p, service, site, "", start, true)
	s.bookingMove(lang, &p, f.Get("move"))
	if p.Step != 4 {
		if status == http.StatusOK {
			status = http.StatusBadRequest
		}
		s.renderBooking(w, status, lang, p)
		return "", errAnswered
	}
	name := strings.TrimSpace(f.Get("name"))
	email := strings.TrimSpace(f.Get("email"))
	phone := strings.TrimSpace(f.Get("phone"))
	p.Name.Value, p.Email.Value, p.Phone.Value = name, email, phone
	p.Consent = f.Get("consent") == "yes"
	switch {
	case name == "":
		p.Name.Error = ui.Translate(lang, "portal.book.err.name")
	case utf8.RuneCountInString(name) > maxNameRunes:
		p.Name.Error = ui.Translate(lang, "portal.book.err.name.long", maxNameRunes)
	default:
		if _, bad := veedel.UnsafeRune(name); bad {
			p.Name.Error = ui.Translate(lang, "portal.book.err.name.char")
		}
	}
	switch {
	case email == "" && phone != "" && s.textsCodes():
		// The code goes by SMS (appointment's Hold checks the number).
	case email == "" && s.textsCodes():
		p.Email.Error = ui.Translate(lang, "portal.book.err.contact")
	case email == "":
		p.Email.Error = ui.Translate(lang, "portal.book.err.email")
	case !validEmail(email):
		p.Email.Error = ui.Translate(lang, "portal.book.err.email.invalid")
	}
	if phone != "" && !bookingPhonePattern.MatchString(phone) {
		p.Phone.Error = ui.Translate(lang, "portal.book.err.phone")
	}
	if !p.Consent {
		p.ConsentError = ui.Translate(lang, "portal.book.err.consent")
	}
	forRef := ""
	if p.Exam = isExamService(service); p.Exam {
		p.ExamCode.Value = strings.TrimSpace(f.Get("exam_code"))
		var err error
		if forRef, err = s.examBooking(r.Context(), ratelimit.ClientKey(r), site, p.ExamCode.Value); err != nil {
			if veedel.ErrorCode(err) == veedel.EINTERNAL {
				s.Logger.Error("booking: exam code", "err", err)
			}
			p.ExamCode.Error = s.examCodeError(r.Context(), lang, err)
		}
	}
	if s.bookingFieldProblems(&p) {
		s.renderBooking(w, http.StatusBadRequest, lang, p)
		return "", errAnswered
	}

	client := ratelimit.ClientKey(r)
	if ok, wait := s.bookLimiter.Peek(client, s.Central.Now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfter(wait)))
		p.Failure = ui.Translate(lang, "portal.book.err.toomany")
		s.renderBooking(w, http.StatusTooManyRequests, lang, p)
		return "", errAnswered
	}
	p.Submission = key
	t, _ := time.Parse(time.RFC3339, start)
	// The code goes by e-mail (the per-contact limit counts mailboxes);
	// the phone, optional, goes sealed to the site with the name.
	held, err := s.appointments().Hold(r.Context(), s.Central, s.Notify, appointment.Request{
		Site: site, Service: service, Start: t, Name: name, Email: email, Phone: phone, Consent: true, Lang: lang, Replaces: p.Move, For: forRef,
	}, s.Central.Now())
	if err != nil {
		status := s.bookingHoldFailed(lang, &p, err)
		s.renderBooking(w, status, lang, p)
		return "", errAnswered
	}
	s.bookLimiter.Allow(client, s.Central.Now())
	http.Redirect(w, r, "/b/"+url.PathEscape(held.Token), http.StatusSeeOther)
	return held.Token, nil
}

func newSubmissionKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// textsCodes reports whether central can send a confirmation code by SMS
// (veedel central -sms-gateway): then a mobile number alone will do.
func (s *Server) textsCodes() bool {
	rn, ok := s.Notify.(interface {
		CanReach(appointment.Contact) error
	})
	return ok && rn.CanReach(appointment.Contact{Phone: "0171 1234567"}) == nil
}

// validEmail is appointment's check of an address.
func validEmail(addr string) bool {
	a, err := mail.ParseAddress(addr)
	return err == nil && a.Address == addr && len(addr) <= 254
}

// bookingFieldProblems puts step 4's field messages in the summary; false
// when there are none.
func (s *Server) bookingFieldProblems(p *bookingPage) bool {
	p.Problems = nil
	for _, f := range []struct {
		id, msg string
	}{{"f-exam-code", p.ExamCode.Error}, {"f-name", p.Name.Error}, {"f-email", p.Email.Error}, {"f-phone", p.Phone.Error}, {"f-consent", p.ConsentError}} {
		if f.msg != "" {
			p.problem("#"+f.id, f.msg)
		}
	}
	return len(p.Problems) > 0
}

// bookingHoldFailed shows why Hold refused, in lang, and returns the status.
func (s *Server) bookingHoldFailed(lang string, p *bookingPage, err error) int {
	var fields map[string]string
	if e, ok := err.(*veedel.Error); ok {
		fields = e.Fields
	}
	switch veedel.ErrorCode(err) {
	case veedel.EINVALID:
		for field := range fields {
			switch field {
			case "name":
				p.Name.Error = ui.Translate(lang, "portal.book.err.name.char")
			case "email":
				p.Email.Error = ui.Translate(lang, "portal.book.err.email.invalid")
			case "phone":
				p.Phone.Error = ui.Translate(lang, "portal.book.err.phone")
			case "consent":
				p.ConsentError = ui.Translate(lang, "portal.book.err.consent")
			}
		}
		if !s.bookingFieldProblems(p) {
			// The slot: too soon or gone from the plan since the page.
			p.Failure = ui.Translate(lang, "portal.book.err.taken")
		}
		return http.StatusBadRequest
	case veedel.ECONFLICT:
		if strings.Contains(veedel.ErrorMessage(err), "Kontaktangabe") {
			p.Email.Error = ui.Translate(lang, "portal.book.err.limit", s.appointmentLimit())
			s.bookingFieldProblems(p)
		} else {
			p.Failure = ui.Translate(lang, "portal.book.err.taken")
			p.problem(p.Back, ui.Translate(lang, "portal.book.other"))
		}
		return http.StatusConflict
	case veedel.EUNAVAILABLE:
		p.Failure = ui.Translate(lang, "portal.book.err.unavailable")
		return http.StatusServiceUnavailable
	case veedel.ENOTFOUND:
		p.Failure = ui.Translate(lang, "portal.book.err.site")
		return http.StatusNotFound
	}
	s.Logger.Error("booking: hold", "code", veedel.ErrorCode(err), "err", veedel.ErrorMessage(err))
	p.Failure = ui.Translate(lang, "portal.book.err.unavailable")
	return http.StatusInternalServerError
}

func (s *Server) appointmentLimit() int {
	if n := s.appointments().PerContact; n > 0 {
		return n
	}
	return appointment.DefaultPerContact
}

// renderBooking renders a step of the booking.
func (s *Server) renderBooking(w http.ResponseWriter, status int, lang string, p bookingPage) {
	p.Texts = s.textsCodes()
	labels := []string{"portal.book.step.service", "portal.book.step.site", "portal.book.step.slot", "portal.book.step.details"}
	hrefs := []string{bookingPath, bookingQuery("service", p.Service.ID), bookingQuery("service", p.Service.ID, "site", p.Site.ID, "date", p.Day.Date), ""}
	for i, l := range labels {
		v := bookingStepView{N: i + 1, Label: ui.Translate(lang, l), Current: i+1 == p.Step}
		if i+1 < p.Step {
			v.Href = hrefs[i]
			if p.carry != nil {
				v.Href = p.carry(v.Href)
			}
		}
		p.Steps = append(p.Steps, v)
	}
	page := "booking_choose"
	if p.Step == 4 {
		page = "booking_details"
	}
	title := ui.Translate(lang, "portal.book.title")
	if p.Has() {
		title = ui.Translate(lang, "portal.book.errors.title") + ": " + title
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	s.Renderer.Render(w, status, page, ui.Page{
		Lang: lang, Title: title, Surface: "portal", Path: bookingPath, Langs: ui.CitizenLangs, Data: p,
	})
}
