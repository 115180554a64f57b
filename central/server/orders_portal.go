package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/ui"
)

// The citizen's certificate order at the portal: a server-rendered form
// (GET/POST /bestellen) that places the order through the same
// registration.Central.Place as the JSON API, a confirmation page, and the
// order's private status page behind its token (/o/{token}, like the
// ticket's /t/{token}). The form works without JavaScript; a failed post
// shows the form again with everything typed, a summary at the top linking
// to each field at fault and the message beside the field, in the page's
// language (Place's messages are the API's German/English: the form maps
// each field and problem to its own text, orderFieldError).

// orderFormPath is the form's address, German like the portal's audience.
const orderFormPath = "/bestellen"

// maxOrderForm bounds the form's body.
const maxOrderForm = 16 << 10

// orderField is one input of the form as the template renders it.
type orderField struct {
	Name         string // the form name: the request's JSON path ("person.family_name")
	ID           string // the element id ("f-person-family_name")
	Label        string
	Hint         string
	Type         string // text, email, tel
	InputMode    string
	Autocomplete string
	Dir          string // "ltr" for e-mail, phone and dates inside Arabic pages
	MaxLength    int
	Optional     bool
	// Conditional: required in one case only (for a person, not a
	// company): marked neither optional nor required.
	Conditional bool
	Value       string
	Error       string // the message in the page's language, "" when fine
	// OptionalText and ErrorPrefix are "freiwillig" and "Fehler" in the
	// page's language.
	OptionalText, ErrorPrefix string
}

// ErrorID is the id of the field's message, for aria-describedby.
func (f orderField) ErrorID() string { return f.ID + "-error" }

// HintID is the id of the field's hint, for aria-describedby.
func (f orderField) HintID() string { return f.ID + "-hint" }

// Described is the field's aria-describedby: its hint and its error.
func (f orderField) Described() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.HintID())
	}
	if f.Error != "" {
		ids = append(ids, f.ErrorID())
	}
	return strings.Join(ids, " ")
}

// orderChoice is one radio button or option of the form.
type orderChoice struct {
	Value   string
	ID      string
	Label   string
	Hint    string // the fee and what one needs, for a kind
	Checked bool
	Civil   bool // a civil-status kind
}

// orderProblem is one line of the error summary.
type orderProblem struct {
	Href    string // "#f-person-family_name"
	Message string
}

// orderFormData is what page_order_form.html shows.
type orderFormData struct {
	Action        string
	Submission    string // the form's one-time key: a repeated post places nothing twice
	Kinds         []orderChoice
	KindError     string
	Deliveries    []orderChoice
	DeliveryError string
	Payments      []orderChoice // at pickup or online, when online payment is offered
	Sites         []orderChoice
	CivilSite     string // the civil-status office's name, when one is set
	Relations     []orderChoice
	F             map[string]*orderField
	Consent       bool
	ConsentError  string
	SiteError     string
	RelationError string
	Problems      []orderProblem
	Failure       string // a form-wide error (site unavailable, central failing)
}

// SiteDescribed is the site select's aria-describedby.
func (d orderFormData) SiteDescribed() string {
	var ids []string
	if d.CivilSite != "" {
		ids = append(ids, "f-site-hint")
	}
	if d.SiteError != "" {
		ids = append(ids, "f-site-error")
	}
	return strings.Join(ids, " ")
}

// Has says whether the form shows any error.
func (d orderFormData) Has() bool { return len(d.Problems) > 0 || d.Failure != "" }

// orderInputs are the form's text inputs in the form's order (the order
// of the error summary).
var orderInputs = []orderField{
	{Name: "copies", Type: "text", InputMode: "numeric", MaxLength: 2, Dir: "ltr"},
	{Name: "person.family_name", Type: "text", Autocomplete: "family-name", MaxLength: 80},
	{Name: "person.given_names", Type: "text", Autocomplete: "given-name", MaxLength: 120},
	{Name: "person.birth_date", Type: "text", InputMode: "numeric", Autocomplete: "bday", MaxLength: 10, Dir: "ltr"},
	{Name: "person.birth_place", Type: "text", MaxLength: 80, Optional: true},
	{Name: "event.date", Type: "text", InputMode: "numeric", MaxLength: 10, Dir: "ltr"},
	{Name: "event.place", Type: "text", MaxLength: 80},
	{Name: "event.register_number", Type: "text", MaxLength: 40, Optional: true, Dir: "ltr"},
	{Name: "purpose", Type: "text", MaxLength: 200, Optional: true},
	{Name: "address.street", Type: "text", Autocomplete: "street-address", MaxLength: 100},
	{Name: "address.postcode", Type: "text", InputMode: "numeric", Autocomplete: "postal-code", MaxLength: 5, Dir: "ltr"},
	{Name: "address.city", Type: "text", Autocomplete: "address-level2", MaxLength: 80},
	{Name: "contact.email", Type: "email", Autocomplete: "email", MaxLength: 254, Dir: "ltr", Optional: true},
	{Name: "contact.phone", Type: "tel", InputMode: "tel", Autocomplete: "tel", MaxLength: 24, Dir: "ltr", Optional: true},
}

// summaryOrder is the order of the error summary: the form's own.
var summaryOrder = []string{"kind", "copies", "purpose", "delivery", "site",
	"person.family_name", "person.given_names", "person.birth_date", "person.birth_place",
	"event.date", "event.place", "event.register_number", "relation",
	"address.street", "address.postcode", "address.city",
	"contact.email", "contact.phone", "consent"}

func fieldID(name string) string { return "f-" + strings.ReplaceAll(name, ".", "-") }

// orderFieldLabels are the fields' label keys where they differ from
// "portal.order."+name.
var orderFieldHints = map[string]string{
	"copies":            "portal.order.copies.hint",
	"person.birth_date": "portal.order.date.hint",
	"event.date":        "portal.order.date.hint",
}

// newOrderForm builds the form in lang with the values typed (form) and the
// errors by field (fields, already in lang).
func (s *Server) newOrderForm(lang string, form url.Values, fields map[string]string) orderFormData {
	orders := s.orders()
	d := orderFormData{Action: orderFormPath, F: map[string]*orderField{}}
	get := func(k string) string { return strings.TrimSpace(form.Get(k)) }
	fees := orders.Fees
	if fees == nil {
		fees = registration.DefaultFees
	}
	for _, k := range registration.Kinds {
		fee := fees[k]
		hint := ui.Translate(lang, "portal.order.fee.each", money(lang, fee.First))
		if fee.Further != fee.First {
			hint = ui.Translate(lang, "portal.order.fee.further", money(lang, fee.First), money(lang, fee.Further))
		}
		d.Kinds = append(d.Kinds, orderChoice{Value: k, ID: "f-kind-" + k, Label: ui.Translate(lang, "portal.order.kind."+k),
			Hint: hint + ". " + ui.Translate(lang, "portal.order.needs."+k), Checked: form.Get("kind") == k, Civil: registration.CivilStatus(k)})
	}
	for _, v := range []string{registration.DeliveryPickup, registration.DeliveryPost} {
		d.Deliveries = append(d.Deliveries, orderChoice{Value: v, ID: "f-delivery-" + v, Label: ui.Translate(lang, "portal.order.delivery."+v),
			Hint: ui.Translate(lang, s.deliveryHint(v)), Checked: form.Get("delivery") == v || (v == registration.DeliveryPickup && form.Get("delivery") == "")})
	}
	if _, online := s.orderHost().(registration.PaymentHolder); online {
		for _, v := range []string{registration.PaymentAtPickup, registration.PaymentOnline} {
			d.Payments = append(d.Payments, orderChoice{Value: v, ID: "f-payment-" + v, Label: ui.Translate(lang, "portal.order.payment."+v),
				Hint: ui.Translate(lang, "portal.order.payment."+v+".hint"), Checked: form.Get("payment") == v || (v == registration.PaymentAtPickup && form.Get("payment") == "")})
		}
	}
	for _, site := range s.Central.Sites() {
		if site.Kind != central.KindCustomerCentre && site.ID != orders.CivilStatusSite {
			continue
		}
		if site.ID == orders.CivilStatusSite {
			d.CivilSite = site.Name
		}
		d.Sites = append(d.Sites, orderChoice{Value: site.ID, Label: site.Name, Checked: form.Get("site") == site.ID})
	}
	for _, r := range registration.Relations {
		d.Relations = append(d.Relations, orderChoice{Value: r, Label: ui.Translate(lang, "portal.order.relation."+r), Checked: form.Get("relation") == r})
	}
	for _, in := range orderInputs {
		f := in
		f.ID = fieldID(f.Name)
		f.Label = ui.Translate(lang, "portal.order."+f.Name)
		if h, ok := orderFieldHints[f.Name]; ok {
			f.Hint = ui.Translate(lang, h)
		}
		f.Value = get(f.Name)
		f.Error = fields[f.Name]
		f.OptionalText, f.ErrorPrefix = ui.Translate(lang, "portal.order.optional"), ui.Translate(lang, "portal.order.errors.prefix")
		d.F[f.Name] = &f
	}
	if form.Get("copies") == "" && fields == nil {
		d.F["copies"].Value = "1"
	}
	d.Consent = form.Get("consent") == "yes"
	d.KindError, d.DeliveryError, d.ConsentError = fields["kind"], fields["delivery"], fields["consent"]
	d.SiteError, d.RelationError = fields["site"], fields["relation"]
	for _, name := range summaryOrder {
		msg, ok := fields[name]
		if !ok {
			continue
		}
		href := "#" + fieldID(name)
		switch name {
		case "kind":
			href = "#f-kind-" + registration.Kinds[0]
		case "delivery":
			href = "#f-delivery-" + registration.DeliveryPickup
		}
		d.Problems = append(d.Problems, orderProblem{Href: href, Message: msg})
	}
	return d
}

// orderForm: GET /bestellen.
func (s *Server) orderForm(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	q := url.Values{}
	if k := r.URL.Query().Get("kind"); k != "" {
		q.Set("kind", k) // a link may preselect the certificate
	}
	d := s.newOrderForm(lang, q, nil)
	d.Submission = newSubmission()
	s.renderOrderForm(w, r, http.StatusOK, lang, d)
}

func (s *Server) renderOrderForm(w http.ResponseWriter, r *http.Request, status int, lang string, d orderFormData) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	title := ui.Translate(lang, "portal.order.title")
	if d.Has() {
		title = ui.Translate(lang, "portal.order.errors.prefix") + ": " + title
	}
	s.Renderer.Render(w, status, "order_form", ui.Page{
		Lang: lang, Title: title, Surface: "portal", Path: orderFormPath, Langs: ui.CitizenLangs, Data: d,
	})
}

// placeOrderForm: POST /bestellen. Bad input shows the form again (400)
// with everything typed and a message per field, and places nothing; a
// placed order goes on to its confirmation (303: a reload does not order
// again). A repeated post of the same form (a double tap, a resend after a
// lost answer) goes to the same order's confirmation. The router's
// cross-origin protection refuses forged posts; nothing typed is logged.
func (s *Server) placeOrderForm(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	r.Body = http.MaxBytesReader(w, r.Body, maxOrderForm)
	if err := r.ParseForm(); err != nil {
		d := s.newOrderForm(lang, url.Values{}, nil)
		d.Submission, d.Failure = newSubmission(), ui.Translate(lang, "portal.order.failed")
		s.renderOrderForm(w, r, http.StatusBadRequest, lang, d)
		return
	}
	form := r.PostForm
	key := form.Get("submission")
	var sub *submission
	for {
		var first bool
		if sub, first = s.orderSubmissions.begin(key, s.now()); first {
			break
		}
		placed, ok := sub.wait(r.Context())
		if ok {
			http.Redirect(w, r, orderPage(placed.Token)+"/bestaetigung", http.StatusSeeOther)
			return
		}
		if r.Context().Err() != nil {
			return
		}
		// The first post of this form failed: this one decides afresh.
	}
	req := orderRequest(form, lang, s.orders().CivilStatusSite)
	placed, err := s.orders().Place(r.Context(), s.orderHost(), req, s.Central.Now())
	s.orderSubmissions.finish(key, sub, placed, err == nil)
	if err == nil {
		to := orderPage(placed.Token) + "/bestaetigung"
		if placed.Status == registration.StatusAwaitingPayment {
			// On to the payment provider; if it cannot be reached, the
			// confirmation offers "Erneut bezahlen".
			if u, err := s.startPayment(r.Context(), r, placed.Code, placed.Token, placed.FeeCents); err == nil {
				to = u
			} else {
				s.Logger.Warn("payment not started", "err", err)
			}
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	fields := map[string]string{}
	status := http.StatusBadRequest
	failure := ""
	switch veedel.ErrorCode(err) {
	case veedel.EINVALID:
		for path, msg := range veedel.ErrorFields(err) {
			target, text := orderFieldError(lang, path, msg)
			if _, ok := fields[target]; !ok {
				fields[target] = text
			}
		}
		if len(fields) == 0 {
			failure = ui.Translate(lang, "portal.order.err.invalid")
		}
	case veedel.EUNAVAILABLE:
		// The owning site has never connected (no box key to seal to).
		status = http.StatusServiceUnavailable
		if registration.CivilStatus(req.Kind) && s.orders().CivilStatusSite != "" {
			failure = ui.Translate(lang, "portal.order.unavailable")
		} else {
			fields["site"] = ui.Translate(lang, "portal.order.err.site.unavailable")
		}
	default:
		s.Logger.Error("order form", "err", err)
		status, failure = http.StatusInternalServerError, ui.Translate(lang, "portal.order.failed")
	}
	d := s.newOrderForm(lang, form, fields)
	d.Submission, d.Failure = newSubmission(), failure
	s.renderOrderForm(w, r, status, lang, d)
}

// orderRequest reads the form into the API's request: the kind's own
// sections only (the event and relation for civil-status kinds, the
// address for post), dates typed as 28.02.1990 in ISO form.
func orderRequest(form url.Values, lang, civilSite string) registration.OrderRequest {
	get := func(k string) string { return strings.TrimSpace(form.Get(k)) }
	req := registration.OrderRequest{
		Kind: get("kind"), Site: get("site"), Delivery: get("delivery"), Purpose: get("purpose"),
		Person: registration.Person{FamilyName: get("person.family_name"), GivenNames: get("person.given_names"),
			BirthDate: isoDate(get("person.birth_date")), BirthPlace: get("person.birth_place")},
		Contact: registration.Contact{Email: get("contact.email"), Phone: get("contact.phone")},
		Consent: form.Get("consent") == "yes",
		Lang:    lang,
	}
	req.Copies, _ = strconv.Atoi(get("copies"))
	if registration.CivilStatus(req.Kind) {
		req.Event = &registration.CivilEvent{Date: isoDate(get("event.date")), Place: get("event.place"), RegisterNumber: get("event.register_number")}
		req.Relation = get("relation")
		if civilSite != "" && req.Site == "" {
			req.Site = civilSite // the Standesamt owns it whatever was chosen
		}
	}
	if req.Delivery == registration.DeliveryPost {
		req.Address = &registration.Address{Street: get("address.street"), Postcode: get("address.postcode"), City: get("address.city")}
		// Post needs online payment: Place says whether it is offered.
		req.Payment = registration.PaymentOnline
	}
	if form.Get("payment") == registration.PaymentOnline {
		req.Payment = registration.PaymentOnline
	}
	return req
}

var germanDate = regexp.MustCompile(`^([0-9]{1,2})\.\s?([0-9]{1,2})\.\s?([0-9]{4})$`)

// isoDate turns a date typed the German way (28.02.1990, 1.3.1990) into
// YYYY-MM-DD; anything else is returned as typed, for Validate to judge.
func isoDate(s string) string {
	m := germanDate.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	pad := func(x string) string {
		if len(x) == 1 {
			return "0" + x
		}
		return x
	}
	return m[3] + "-" + pad(m[2]) + "-" + pad(m[1])
}

// orderFieldError maps one of Place's field errors (JSON path and its
// German/English message) to the form field that shows it and the text in
// lang: "portal.order.err.<field>.<problem>", else "….<field>", else
// "….<problem>", else a general "please check". Fields without an input
// of their own show at the nearest one ("address" at the street,
// "contact" at the e-mail address, "payment" at the delivery).
func orderFieldError(lang, path, msg string) (field, text string) {
	field = path
	switch path {
	case "address":
		field = "address.street"
	case "contact":
		field = "contact.email"
	case "payment":
		field = "delivery"
	case "event":
		field = "event.date"
	case "person":
		field = "person.family_name"
	}
	p := orderProblemOf(path, msg)
	for _, key := range []string{"portal.order.err." + path + "." + p, "portal.order.err." + field + "." + p,
		"portal.order.err." + path, "portal.order.err." + p} {
		if _, ok := ui.Lookup("de", key); ok {
			return field, ui.Translate(lang, key)
		}
	}
	return field, ui.Translate(lang, "portal.order.err.invalid")
}

// orderProblemOf classifies Validate's and Place's messages (German before
// the slash) into the problems the form has texts for.
func orderProblemOf(path, msg string) string {
	de, _, _ := strings.Cut(msg, " / ")
	switch {
	case strings.HasPrefix(de, "Pflichtangabe"), strings.Contains(de, "fehlt"):
		return "required"
	case strings.HasPrefix(de, "Zu lang"):
		return "too_long"
	case strings.HasPrefix(de, "Enthält "):
		return "unsafe"
	case strings.HasPrefix(de, "Datum im Format"):
		return "format"
	case strings.Contains(de, "in der Zukunft"):
		return "future"
	case strings.Contains(de, "zu weit zurück"):
		return "too_old"
	case strings.HasPrefix(de, "Unbekannter Standort"):
		return "unknown"
	case path == "payment":
		return "online"
	}
	return "invalid"
}

// money formats cents as the page's language writes a price.
func money(lang string, cents int) string {
	units, rest := cents/100, cents%100
	frac := strconv.Itoa(rest)
	if rest < 10 {
		frac = "0" + frac
	}
	if lang == "en" {
		return "€" + strconv.Itoa(units) + "." + frac
	}
	return strconv.Itoa(units) + "," + frac + " €"
}

// groupCode splits an order code for reading aloud: "U" and three groups
// of three ("U 4K7 PQR 2MX").
func groupCode(code string) []string {
	if len(code) < 2 {
		return []string{code}
	}
	out := []string{code[:1]}
	for rest := code[1:]; rest != ""; {
		n := min(3, len(rest))
		out = append(out, rest[:n])
		rest = rest[n:]
	}
	return out
}

func orderPage(token string) string { return "/o/" + url.PathEscape(token) }

func newSubmission() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// submissions remembers, for a while, which form post placed which order,
// so that the same form posted twice places one order. Memory only: after
// central restarts a repeat places anew (the citizen sees a second code).
type submissions struct {
	mu sync.Mutex
	m  map[string]*submission
}

type submission struct {
	at     time.Time
	done   chan struct{}
	placed registration.Placed
	ok     bool
}

// submissionTTL is how long a form's key is remembered; maxSubmissions
// bounds the memory (beyond it, repeats are not caught).
const (
	submissionTTL  = 30 * time.Minute
	maxSubmissions = 10000
)

// begin returns the submission of key and whether this call is its first
// (and must finish it). A key that is empty, malformed or over the bound
// is never shared.
func (s *submissions) begin(key string, now time.Time) (*submission, bool) {
	sub := &submission{at: now, done: make(chan struct{})}
	if len(key) != 22 {
		return sub, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*submission{}
	}
	if old, ok := s.m[key]; ok && now.Sub(old.at) < submissionTTL {
		return old, false
	}
	for k, old := range s.m {
		if now.Sub(old.at) >= submissionTTL {
			delete(s.m, k)
		}
	}
	if len(s.m) < maxSubmissions {
		s.m[key] = sub
	}
	return sub, true
}

// finish records the outcome of sub, the submission of key; a failed one
// is forgotten, so that a repeat decides afresh.
func (s *submissions) finish(key string, sub *submission, p registration.Placed, ok bool) {
	s.mu.Lock()
	sub.placed, sub.ok = p, ok
	if !ok && s.m[key] == sub {
		delete(s.m, key)
	}
	s.mu.Unlock()
	close(sub.done)
}

// wait waits for the first post of the same form to finish.
func (s *submission) wait(ctx context.Context) (registration.Placed, bool) {
	select {
	case <-s.done:
		return s.placed, s.ok
	case <-ctx.Done():
		return registration.Placed{}, false
	}
}
