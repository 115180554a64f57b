package server

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/payment"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

// Online payment of certificate orders (internal/payment): the order is
// held at central in awaiting_payment, the citizen's browser goes to the
// provider, and only the provider's signed server-to-server notification
// (POST /api/v1/payments/notify) settles it: paid, the order goes down to
// its site; cancelled or failed, it ends in payment_failed. The browser's
// return to the status page proves nothing and changes nothing.

// Payments connects the portal to a payment provider. nil in Server: no
// online payment (Place refuses it, as before).
type Payments struct {
	Provider payment.Provider
	// Secret verifies the provider's notifications (HMAC-SHA256).
	Secret []byte
}

// orderHost is what Place gets: central itself, which holds orders for
// their payment, only when a provider is configured and the store can
// hold them.
func (s *Server) orderHost() registration.Host {
	if s.Payments == nil || s.Payments.Provider == nil || len(s.Payments.Secret) == 0 {
		return hostOnly{s.Central}
	}
	return s.Central
}

// hostOnly hides central's PaymentHolder.
type hostOnly struct{ registration.Host }

var _ registration.PaymentHolder = (*central.Central)(nil)

// startPayment creates the payment of an order awaiting it at the
// provider and returns the URL to send the citizen's browser to.
func (s *Server) startPayment(ctx context.Context, r *http.Request, code, token string, feeCents int) (string, error) {
	if s.Payments == nil || s.Payments.Provider == nil {
		return "", veedel.Errorf(veedel.EUNAVAILABLE, "Online-Bezahlung ist hier nicht eingerichtet / online payment is not set up here")
	}
	base := s.publicBase(r)
	sess, err := s.Payments.Provider.Create(ctx, payment.Request{
		Reference: code, AmountCents: int64(feeCents), Currency: payment.Currency,
		Description: "Urkundenbestellung " + code, // the code only: no personal data to the provider
		ReturnURL:   base + orderPage(token), NotifyURL: base + "/api/v1/payments/notify",
	})
	if err != nil {
		return "", err
	}
	return sess.RedirectURL, nil
}

// deliveryHint is the key of a delivery's hint in the order form: with
// online payment offered, post says it is paid online and pickup that
// the citizen chooses.
func (s *Server) deliveryHint(delivery string) string {
	if _, online := s.orderHost().(registration.PaymentHolder); online {
		return "portal.order.delivery." + delivery + ".hint.online"
	}
	return "portal.order.delivery." + delivery + ".hint"
}

// payAgainPath is the status page's "Erneut bezahlen" link.
func payAgainPath(token string) string { return orderPage(token) + "/bezahlen" }

// payAgain: GET /o/{token}/bezahlen starts a new attempt at the provider
// for an order still awaiting its payment (303 to the provider); any other
// order goes back to its status page.
func (s *Server) payAgain(w http.ResponseWriter, r *http.Request) {
	lang := ui.LangOrBrowser(w, r, ui.CitizenLangs...)
	s.orderHeaders(w)
	o, ok := s.orderByToken(r)
	if !ok {
		s.orderNotFound(w, r, lang)
		return
	}
	token := chi.URLParam(r, "token")
	if o.Status != registration.StatusAwaitingPayment {
		http.Redirect(w, r, orderPage(token), http.StatusSeeOther)
		return
	}
	to, err := s.startPayment(r.Context(), r, o.Code, token, o.FeeCents)
	if err != nil {
		s.Logger.Warn("payment not started", "err", err)
		http.Error(w, ui.Translate(lang, "portal.order.pay.unavailable"), http.StatusServiceUnavailable)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// apiPaymentNotify: POST /api/v1/payments/notify, the provider's signed
// server-to-server notification (payment.Notification as JSON). Refused
// with 4xx, and nothing stored or sent, when malformed (400), the
// signature does not match or the timestamp is not fresh (401), the
// reference is unknown (404), the amount or currency differ from the
// order's (400), or the payment was decided otherwise or expired (409).
// A repeat of an accepted notification gets the same 200 again.
func (s *Server) apiPaymentNotify(w http.ResponseWriter, r *http.Request) {
	var n payment.Notification
	r.Body = http.MaxBytesReader(w, r.Body, payment.MaxNotificationBody)
	err := web.DecodeJSON(r, &n)
	var secret []byte
	if s.Payments != nil {
		secret = s.Payments.Secret
	}
	if err == nil {
		err = payment.Verify(secret, &n, s.Central.Now())
	}
	var status string
	if err == nil {
		status, err = s.Central.SettlePayment(r.Context(), n.Reference,
			registration.PaymentReport{Status: n.Status, TxnID: n.TransactionID},
			func(h central.HeldPayment) error {
				if h.Currency != payment.Currency {
					return veedel.Errorf(veedel.EINVALID, "payment notification refused: order in %s", h.Currency)
				}
				return payment.Expect(&n, h.Reference, h.AmountCents)
			})
	}
	if err != nil {
		if status := web.Status(err); status < 500 {
			// Counted with the refused sync requests (admin: Sync), the
			// logging throttled: a flood of forged notifications cannot
			// flood the log. The order code is no personal data.
			s.reject(r, central.Rejection{Status: status, Reason: veedel.ErrorMessage(err)})
		} else {
			s.Logger.Error("payment notification not recorded", "err", err)
		}
		web.Error(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]string{"reference": n.Reference, "status": status})
}

// ExpireHolds ends the appointment holds that ran out, deleting their
// personal data, every so often until ctx ends.
func (s *Server) ExpireHolds(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Central.ExpireHolds(ctx); err != nil && ctx.Err() == nil {
			s.Logger.Error("expire appointment holds", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ExpirePayments ends, every interval until ctx ends, the orders whose
// payment did not come within registration.PaymentWindow.
func (s *Server) ExpirePayments(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.Central.ExpirePayments(ctx); err != nil {
			s.Logger.Error("expire payments", "err", err)
		} else if n > 0 {
			s.Logger.Info("orders expired unpaid", "orders", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
