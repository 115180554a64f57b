package server

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/internal/pdf"
	"github.com/veedel/veedel/ui"
)

// The documents the back office prints for an order (internal/pdf): the
// cover letter that goes with a certificate by post, in the window
// envelope, and the pickup slip. Both are German, the language of the
// city's correspondence, and carry personal data: served to logged-in
// staff only, never cached.

// letterLang is the language of printed documents.
const letterLang = "de"

// orderForPrint returns the order the request names, with its details,
// for a document that the order's delivery must match.
func (s *Server) orderForPrint(w http.ResponseWriter, r *http.Request, delivery, wrongKey string) (registration.Order, bool) {
	o, err := registration.Get(r.Context(), s.Store.Read(), chi.URLParam(r, "code"))
	if err != nil {
		s.renderError(w, r, err)
		return o, false
	}
	lang := ui.Lang(w, r)
	switch {
	case o.Delivery != delivery:
		s.renderError(w, r, veedel.Errorf(veedel.ECONFLICT, "%s", ui.Translate(lang, wrongKey)))
		return o, false
	case o.Details == nil:
		s.renderError(w, r, veedel.Errorf(veedel.ECONFLICT, "%s", ui.Translate(lang, "orders.pdf.erased")))
		return o, false
	}
	return o, true
}

// sender is the site's letterhead: the city, the site's name and its
// postal address (SiteAddress, "Street 1, 51103 Köln", one line a part).
func (s *Server) sender() []string {
	var name string
	s.Store.View(func(st *queue.State) { name = st.Site.Name })
	out := []string{s.Renderer.Brand().CityName(letterLang), name}
	for _, part := range strings.Split(s.SiteAddress, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// siteDate is the site's day of t, as printed ("06.12.2026").
func (s *Server) siteDate(t time.Time) string {
	loc := time.Local
	s.Store.View(func(st *queue.State) {
		if st.Site.Location != nil {
			loc = st.Site.Location
		}
	})
	return t.In(loc).Format("02.01.2006")
}

// deskOrderLetter: GET /desk/orders/{code}/letter.pdf.
func (s *Server) deskOrderLetter(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orderForPrint(w, r, registration.DeliveryPost, "orders.letter.postonly")
	if !ok {
		return
	}
	t := func(key string, args ...any) string { return ui.Translate(letterLang, key, args...) }
	d := o.Details
	name := pdf.Join(" ", d.Person.GivenNames, d.Person.FamilyName)
	recipient := []string{name}
	if a := d.Address; a != nil {
		recipient = append(recipient, a.Street, pdf.Join(" ", a.Postcode, a.City))
	}
	head := s.sender()
	now := s.current()
	kind := ui.OrderKind(letterLang, o.Kind)
	fee := ui.Euros(letterLang, o.FeeCents)
	if o.Payment == registration.PaymentOnline {
		fee = t("orders.letter.paid", fee)
	} else {
		fee = t("orders.letter.due", fee)
	}
	doc := pdf.Letter{
		Lang:       letterLang,
		Title:      t("orders.letter.title", o.Code),
		Letterhead: head,
		ReturnLine: pdf.Join(" · ", head...),
		Recipient:  recipient,
		Info: []pdf.Fact{
			{Label: t("orders.letter.code"), Value: o.Code},
			{Label: t("orders.letter.placed"), Value: s.siteDate(o.PlacedAt)},
			{Label: t("orders.letter.date"), Value: s.siteDate(now)},
		},
		Subject: t("orders.letter.subject", o.Code, kind),
		Body:    []string{t("orders.letter.greeting", name), t("orders.letter.body")},
		Facts: []pdf.Fact{
			{Label: t("orders.letter.kind"), Value: kind},
			{Label: t("orders.letter.copies"), Value: strconv.Itoa(o.Copies)},
			{Label: t("orders.letter.fee"), Value: fee},
		},
		Closing: []string{t("orders.letter.closing"), t("orders.letter.signed", head[1])},
		Footer:  []string{t("orders.letter.footer", o.Code), pdf.Join(" · ", head...)},
		Date:    now,
	}
	s.servePDF(w, r, doc, "anschreiben-"+o.Code+".pdf")
}

// deskOrderSlip: GET /desk/orders/{code}/slip.pdf.
func (s *Server) deskOrderSlip(w http.ResponseWriter, r *http.Request) {
	o, ok := s.orderForPrint(w, r, registration.DeliveryPickup, "orders.slip.pickuponly")
	if !ok {
		return
	}
	t := func(key string, args ...any) string { return ui.Translate(letterLang, key, args...) }
	fee := ui.Euros(letterLang, o.FeeCents)
	if o.Payment == registration.PaymentOnline {
		fee = t("orders.slip.paid", fee)
	}
	doc := pdf.Slip{
		Lang:       letterLang,
		Title:      t("orders.slip.title", o.Code),
		Letterhead: s.sender(),
		Heading:    t("orders.slip.heading"),
		Code:       o.Code,
		QR:         o.Code,
		Facts: []pdf.Fact{
			{Label: t("orders.slip.kind"), Value: ui.OrderKind(letterLang, o.Kind)},
			{Label: t("orders.slip.copies"), Value: strconv.Itoa(o.Copies)},
			{Label: t("orders.slip.name"), Value: pdf.Join(" ", o.Details.Person.GivenNames, o.Details.Person.FamilyName)},
			{Label: t("orders.slip.fee"), Value: fee},
		},
		Notes: []string{t("orders.slip.id"), t("orders.slip.kiosk")},
		Date:  s.current(),
	}
	s.servePDF(w, r, doc, "abholschein-"+o.Code+".pdf")
}

// servePDF renders doc in full before it sends anything: a failure is a
// clean error page, never half a document.
func (s *Server) servePDF(w http.ResponseWriter, r *http.Request, doc interface{ Write(io.Writer) error }, filename string) {
	b, err := pdf.Bytes(doc)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="`+filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}
