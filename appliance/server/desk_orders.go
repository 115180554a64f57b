package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
	"github.com/veedel/veedel/workflow"
)

// The back office of certificate orders at the desk (/desk/orders): the
// orders this site owns, filtered by status and kind; one order with its
// personal details, the steps its status allows, and its letter or slip
// to print (desk_orders_pdf.go). Every logged-in staff member may work on
// orders; the steps go through orderStep, as the API's do.

// orderStep takes the order code through action for staff: the decision
// (registration.Decide) in the store's command transaction, so the
// change-log entry and the orders table change together or not at all.
func (s *Server) orderStep(ctx context.Context, code, action, staff, reason string) error {
	_, err := s.Store.ExecuteTx(ctx, func(_ *queue.State, q workflow.Querier, at time.Time) ([]queue.Event, error) {
		e, err := registration.Decide(ctx, q, at, code, action, staff, reason, "")
		if err != nil {
			return nil, err
		}
		return []queue.Event{e}, nil
	})
	return err
}

// orderSteps are the back office's steps in the order the page offers them.
var orderSteps = []string{registration.ActionClaim, registration.ActionReady, registration.ActionDispatch,
	registration.ActionCollect, registration.ActionReject}

// openOrders counts the orders not done, for the desk's badge; 0 when the
// count fails (the badge is a hint, the list tells).
func (s *Server) openOrders(ctx context.Context) int {
	n, err := registration.CountOpen(ctx, s.Store.Read())
	if err != nil {
		s.Logger.Warn("count open orders", "err", err)
		return 0
	}
	return n
}

// orderStatuses are the statuses a site's order can have, for the filter.
var orderStatuses = []string{registration.StatusAtSite, registration.StatusInProgress, registration.StatusReady,
	registration.StatusDispatched, registration.StatusCollected, registration.StatusRejected}

type ordersPage struct {
	SiteName string
	List     worklist[orderRow]
}

// orderRow is an order in the list, its figures formatted for the page.
type orderRow struct {
	registration.Order
	Fee string
	Age string
}

// MaxDeskOrders bounds the desk's list (the oldest first: they are due).
const MaxDeskOrders = 200

func (s *Server) deskOrders(w http.ResponseWriter, r *http.Request) {
	lang := ui.Lang(w, r)
	p := ordersPage{List: worklist[orderRow]{ID: "orders", Table: "orders", Action: "/desk/orders",
		Caption: "orders.title", Count: "orders.count", None: "orders.none", Limit: MaxDeskOrders,
		Filters: []worklistFilter{
			{Name: "status", Label: "orders.filter.status", Default: "open", Options: filterOptions("order.status.", orderStatuses,
				worklistOption{"open", "orders.filter.open"}, worklistOption{"", "orders.filter.all"})},
			{Name: "kind", Label: "orders.filter.kind", Options: filterOptions("order.kind.", registration.Kinds,
				worklistOption{"", "orders.filter.kinds"})},
		}}}
	now := s.current()
	status, err := loadWorklist(r, lang, &p.List, func(ctx context.Context, limit int) ([]registration.Order, error) {
		return registration.Find(ctx, s.Store.Read(), registration.Filter{Status: p.List.Value("status"), Kind: p.List.Value("kind"), Limit: limit})
	}, func(o registration.Order) orderRow {
		return orderRow{Order: o, Fee: ui.Euros(lang, o.FeeCents), Age: ui.Age(lang, o.ReceivedAt, now)}
	})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.Store.View(func(st *queue.State) { p.SiteName = st.Site.Name })
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, "desk_orders", ui.Page{Lang: lang, Title: ui.Translate(lang, "orders.title") + " · " + p.SiteName,
		Surface: "desk", Path: r.URL.Path, Data: p})
}

type orderPage struct {
	SiteName string
	Order    registration.Order
	Fee      string
	// Steps are the steps the order's status allows now, as Decide
	// decides them.
	Steps map[string]bool
	// ClaimedByOther names the clerk working on it when it is not the
	// viewer.
	ClaimedByOther string
	Letter, Slip   bool // which document the order prints
	KeepDays       int
	MaxReason      int
	// Reason is the reason typed into a refused rejection, with its fault.
	Reason, ReasonError string
}

// deskOrder: GET /desk/orders/{code}.
func (s *Server) deskOrder(w http.ResponseWriter, r *http.Request) {
	lang := ui.Lang(w, r)
	flash := ""
	if done := r.URL.Query().Get("done"); slices.Contains(orderSteps, done) {
		flash = ui.Translate(lang, "orders.done."+done)
	}
	s.renderOrder(w, r, http.StatusOK, flash, "", orderPage{})
}

// renderOrder shows an order; errMsg is a refused step's message, form
// the rejection form as it was sent.
func (s *Server) renderOrder(w http.ResponseWriter, r *http.Request, status int, flash, errMsg string, form orderPage) {
	lang := ui.Lang(w, r)
	ctx := r.Context()
	o, err := registration.Get(ctx, s.Store.Read(), chi.URLParam(r, "code"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	staff := session(r).User.Name
	p := orderPage{Order: o, Fee: ui.Euros(lang, o.FeeCents), Steps: map[string]bool{},
		KeepDays: int(registration.KeepDetails / (24 * time.Hour)), MaxReason: registration.MaxReason,
		Reason: form.Reason, ReasonError: form.ReasonError}
	// Which steps are open is Decide's to say: asked without committing.
	now := s.current()
	for _, action := range orderSteps {
		_, err := registration.Decide(ctx, s.Store.Read(), now, o.Code, action, staff, "-", "")
		p.Steps[action] = err == nil
	}
	if o.Status == registration.StatusInProgress && o.Staff != staff {
		p.ClaimedByOther = o.Staff
	}
	p.Letter = o.Delivery == registration.DeliveryPost && o.Details != nil
	p.Slip = o.Delivery == registration.DeliveryPickup && o.Details != nil
	s.Store.View(func(st *queue.State) { p.SiteName = st.Site.Name })
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, status, "desk_orders_detail", ui.Page{Lang: lang, Title: ui.Translate(lang, "orders.detail.title", o.Code) + " · " + p.SiteName,
		Surface: "desk", Path: "/desk/orders/" + o.Code, Flash: flash, Error: errMsg, Data: p})
}

// deskOrderStep: POST /desk/orders/{code}/{action}; reject takes the form
// field reason. A step the order's status does not allow shows the order
// again with why; a reason at fault is marked at its field.
func (s *Server) deskOrderStep(w http.ResponseWriter, r *http.Request) {
	action, ok := s.deskStepAction(w, r, orderSteps)
	if !ok {
		return
	}
	code := chi.URLParam(r, "code")
	reason := r.PostForm.Get("reason")
	err := s.orderStep(r.Context(), code, action, session(r).User.Name, reason)
	if err != nil {
		status, msg := web.Status(err), s.stepRefusal(w, r, err)
		switch veedel.ErrorCode(err) {
		case veedel.EINVALID:
			s.renderOrder(w, r, status, "", "", orderPage{Reason: reason, ReasonError: msg})
		case veedel.ECONFLICT:
			s.renderOrder(w, r, status, "", msg, orderPage{})
		default:
			s.renderError(w, r, err)
		}
		return
	}
	code = strings.ToUpper(strings.TrimSpace(code))
	http.Redirect(w, r, "/desk/orders/"+url.PathEscape(code)+"?done="+action, http.StatusSeeOther)
}

// deskStepAction reads the form of a desk step (POST …/{action}, at most
// 8 KiB) and returns its action, one of actions; when the form is
// unreadable or the action unknown it has answered with why, and reports
// false.
func (s *Server) deskStepAction(w http.ResponseWriter, r *http.Request, actions []string) (string, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Formular unlesbar / unreadable form"))
		return "", false
	}
	action := chi.URLParam(r, "action")
	if !slices.Contains(actions, action) {
		s.renderError(w, r, veedel.Errorf(veedel.ENOTFOUND, "Unbekannter Schritt / unknown step"))
		return "", false
	}
	return action, true
}

// stepRefusal is a refused step's message as the desk shows it: the
// page's language's half, as a sentence.
func (s *Server) stepRefusal(w http.ResponseWriter, r *http.Request, err error) string {
	return sentence(ui.InLang(ui.Lang(w, r), veedel.ErrorMessage(err)))
}

// sentence starts msg with a capital letter: the domain's English halves
// start small ("order U… is closed already").
func sentence(msg string) string {
	r, n := utf8.DecodeRuneInString(msg)
	if n == 0 {
		return msg
	}
	return string(unicode.ToUpper(r)) + msg[n:]
}
