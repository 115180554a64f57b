package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/devices"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/hardware"
	"github.com/veedel/veedel/ui"
)

// DefaultPrintTimeout bounds one ticket's printing: the citizen waits for
// it in front of the kiosk, and the page must say whether it printed. It
// must not cut short a printer that is slow but works (a cut ticket is
// marked failed, and staff reprint: two tickets), so it covers the
// driver's own worst case for a ticket with hardware/printer's default
// Options: connecting (5 s), sending the ticket (20 s: an 18 kB raster
// ticket takes 10 s at 19200 baud) and the status replies before and
// after it (1 s each, five of them). A printer that cannot print still
// fails fast, on the driver's own timeouts: refused at once, unreachable
// after the dial timeout, paper out or cover open at the first status
// reply, silent after one reply timeout.
const DefaultPrintTimeout = 5*time.Second + 20*time.Second + 5*time.Second

// printView is what the ticket page says about the paper ticket.
type printView struct {
	Printer bool   // the kiosk has a ticket printer
	State   string // "" (not printed), or a sqlite.Print* state
}

// Failed reports whether the printer failed this ticket: the page shows
// the ticket on screen with the QR code and offers the SMS.
func (p printView) Failed() bool { return p.Printer && p.State == sqlite.PrintFailed }

func (s *Server) printTimeout() time.Duration {
	if s.PrintTimeout > 0 {
		return s.PrintTimeout
	}
	return DefaultPrintTimeout
}

// printFirst prints a newly issued ticket unless it has been printed (or
// tried) before: a replayed request or a second tap finds the first
// attempt's record and reports it. A failed print is not retried: the
// citizen may have walked away with the screen's QR code; staff reprint.
// It returns whether the ticket is on paper and, if not, a short reason.
func (s *Server) printFirst(ctx context.Context, t queue.Ticket, lang string) (printed bool, reason string) {
	if s.Printer == nil {
		return false, "no ticket printer configured"
	}
	job, claimed, err := s.Store.BeginPrint(ctx, t.ID)
	if err != nil {
		s.Logger.Error("record ticket print", "ticket", t.ID, "err", err)
		return false, "print not recorded"
	}
	if !claimed {
		switch job.State {
		case sqlite.PrintPrinted:
			return true, ""
		case sqlite.PrintPrinting:
			return false, "printing"
		}
		return false, job.Error
	}
	return s.print(ctx, t.ID, lang)
}

// print sends a claimed print job to the printer and records its outcome.
// ctx's values are kept but not its end: only the print timeout ends it.
func (s *Server) print(ctx context.Context, ticketID, lang string) (printed bool, reason string) {
	var paper hardware.Ticket
	found := false
	s.Store.View(func(st *queue.State) {
		if t := st.Tickets[ticketID]; t != nil {
			paper, found = s.paperTicket(st, t, lang), true
		}
	})
	var err error
	if !found {
		err = errors.New("ticket gone")
	} else {
		// The job is claimed: from here the ticket is printed whole even
		// when the request ends (a client timeout, a closed browser). The
		// driver closes the printer's connection when its context ends,
		// which would cut the ticket short, and a claimed job is never
		// printed again on its own.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.printTimeout())
		err = s.Printer.Print(pctx, paper)
		cancel()
	}
	reason = devices.Reason(err)
	if err != nil && reason == "" {
		reason = "failed"
	}
	// Record the outcome even when the request is gone meanwhile.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if ferr := s.Store.FinishPrint(rctx, ticketID, reason); ferr != nil {
		s.Logger.Error("record ticket print", "ticket", ticketID, "err", ferr)
	}
	if err != nil {
		// The ticket's ID only: its number and the citizen's language are
		// nobody's business in a log.
		s.Logger.Warn("ticket not printed", "ticket", ticketID, "reason", reason)
	}
	if s.AfterPrint != nil {
		s.AfterPrint(err)
	}
	return err == nil, reason
}

// paperLang is the language a ticket's text lines are printed in: the
// printer's code page (CP858) has German and English letters but not
// Turkish ı, ş, ğ or Arabic, so those tickets print German text and the
// same again in the citizen's language as images (hardware.LocalText).
func paperLang(lang string) string {
	if lang == "en" {
		return "en"
	}
	return "de"
}

// paperTicket is what the printer prints for t; requires the store's lock.
func (s *Server) paperTicket(st *queue.State, t *queue.Ticket, lang string) hardware.Ticket {
	v := s.holderView(st, t, s.current(), lang) // the paper's QR code is the status page, in the kiosk's language
	loc := st.Site.Location
	if loc == nil {
		loc = time.Local
	}
	text := paperLang(lang)
	p := hardware.Ticket{Site: st.Site.Name, Service: ui.ServiceName(text, v.Service, v.ServiceName, v.ServiceNameEN),
		Number: t.Number, IssuedAt: t.IssuedAt.In(loc), StatusURL: v.StatusURL, Lines: s.paperLines(st, t, v, text, loc)}
	if text != lang && slices.Contains(ui.Langs(), lang) {
		p.Local = &hardware.LocalText{Lang: lang, Service: ui.ServiceName(lang, v.Service, v.ServiceName, v.ServiceNameEN),
			Lines: s.paperLines(st, t, v, lang, loc)}
	}
	return p
}

// paperLines are the lines under a ticket's time in lang: the appointment,
// or the wait (when the site opens instead, if it is closed).
func (s *Server) paperLines(st *queue.State, t *queue.Ticket, v TicketView, lang string, loc *time.Location) []string {
	var lines []string
	if t.Class == queue.ClassAppointment && !t.Slot.IsZero() {
		return append(lines, ui.Translate(lang, "ticket.appointment", t.Slot.In(loc).Format("15:04")))
	}
	if t.Status != queue.StatusWaiting {
		return nil
	}
	ahead := max(v.Position-1, 0)
	now := s.now()
	switch h := st.HoursAt(now); {
	case h.Known && !h.Open:
		// Closed: no minutes, but when the site opens (issue 14).
		lines = append(lines, ui.Translate(lang, "kiosk.closed"))
		if o := ui.Opens(lang, h.NextOpen, now, loc); o != "" {
			lines = append(lines, o)
		}
		lines = append(lines, ui.Translate(lang, "ticket.ahead", ahead))
	case ahead == 0 && v.EstimatedWaitMinutes == 0:
		// "ca. 0 Min." reads like a fault on paper.
		lines = append(lines, ui.Translate(lang, "kiosk.nowait"))
	default:
		lines = append(lines, ui.Translate(lang, "ticket.est", v.EstimatedWaitMinutes))
		if v.EstimatedWaitP90Minutes > v.EstimatedWaitMinutes {
			lines = append(lines, ui.Translate(lang, "ticket.p90", v.EstimatedWaitP90Minutes))
		}
		lines = append(lines, ui.Translate(lang, "ticket.ahead", ahead))
	}
	return lines
}

// printState is a ticket's print record for its page.
func (s *Server) printState(r *http.Request, ticketID string) printView {
	v := printView{Printer: s.Printer != nil}
	if !v.Printer {
		return v
	}
	job, ok, err := s.Store.PrintJob(r.Context(), ticketID)
	if err != nil {
		s.Logger.Error("read ticket print", "ticket", ticketID, "err", err)
	}
	if ok {
		v.State = job.State
	}
	return v
}

// deskReprint prints a ticket again at a clerk's request (the citizen lost
// it, or the printer failed it). Only here is a ticket printed twice.
func (s *Server) deskReprint(w http.ResponseWriter, r *http.Request) {
	if s.Printer == nil {
		s.renderDesk(w, r, http.StatusConflict, ui.Translate(ui.Lang(w, r), "devices.reprint.none"))
		return
	}
	// A ticket's ID has a slash ("2026-11-29/A042"): the desk escapes it.
	id, err := url.PathUnescape(chi.URLParam(r, "id"))
	if err != nil {
		s.renderError(w, r, veedel.Errorf(veedel.EINVALID, "Ungültige Ticket-ID / invalid ticket id"))
		return
	}
	if err := s.Store.ReprintTicket(r.Context(), id); err != nil {
		if code := veedel.ErrorCode(err); code == veedel.ECONFLICT || code == veedel.ENOTFOUND {
			s.renderDesk(w, r, http.StatusConflict, veedel.ErrorMessage(err))
			return
		}
		s.renderError(w, r, err)
		return
	}
	// Reprinted in German: the kiosk's language is not kept.
	if ok, reason := s.print(r.Context(), id, "de"); !ok {
		s.renderDesk(w, r, http.StatusServiceUnavailable, ui.Translate(ui.Lang(w, r), "devices.reprint.failed", reason))
		return
	}
	http.Redirect(w, r, "/desk", http.StatusSeeOther)
}
