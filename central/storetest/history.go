package storetest

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/sync/changelog"
)

// history writes a site's log as months of ordinary days: the site, a
// service and a counter described once, then every business day the
// counter opens, tickets are issued, called and finished two behind (two
// wait at closing and expire the next morning), and the counter closes;
// every tenth ticket (every) brings an event of a workflow (an order taken over,
// an appointment taken over, a plate assigned, an exam's statistics).
// Its state at the end is one day's, whatever the length: what central
// folds for years of a site's operation.
type history struct {
	site   string
	perDay int
	every  int // tickets per workflow event
	prev   *changelog.Entry
	seq    int
	at     time.Time
	day    int
	ticket int
}

// HistoryLog returns the first n entries of site's history with perDay
// tickets a day (about 3 entries each).
func HistoryLog(tb testing.TB, site string, n, perDay int) []changelog.Entry {
	tb.Helper()
	return historyLog(tb, &history{site: site, perDay: perDay, every: 10, at: start}, n)
}

// historyLog returns the first n entries of h.
func historyLog(tb testing.TB, h *history, n int) []changelog.Entry {
	tb.Helper()
	out := make([]changelog.Entry, 0, n)
	err := h.each(n, func(e changelog.Entry) error { out = append(out, e); return nil })
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// HistoryBatches calls fn with site's history of n entries in batches of
// size, without holding more than a batch in memory (for logs of
// millions of entries).
func HistoryBatches(site string, n, perDay, size int, fn func([]changelog.Entry) error) error {
	h := &history{site: site, perDay: perDay, every: 10, at: start}
	batch := make([]changelog.Entry, 0, size)
	err := h.each(n, func(e changelog.Entry) error {
		batch = append(batch, e)
		if len(batch) == size {
			if err := fn(batch); err != nil {
				return err
			}
			batch = make([]changelog.Entry, 0, size)
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = fn(batch)
	}
	return err
}

// each generates n entries, calling emit with each.
func (h *history) each(n int, emit func(changelog.Entry) error) error {
	add := func(typ, entity string, p any) error {
		if h.seq >= n {
			return errHistoryDone
		}
		h.at = h.at.Add(7 * time.Second)
		e, err := changelog.NewEntry(h.site, h.prev, changelog.HLCAt(h.at), typ, entity, p)
		if err != nil {
			return err
		}
		h.seq++
		h.prev = &e
		return emit(e)
	}
	err := func() error {
		if err := add(queue.TypeSiteDescribed, "site/"+h.site, &queue.SiteDescribed{ID: h.site, Name: "Site " + h.site, TimeZone: "Europe/Berlin"}); err != nil {
			return err
		}
		if err := add(queue.TypeServiceDefined, "service/meldung", &queue.ServiceDefined{ID: "meldung", Name: "Meldewesen", Prefix: "A", ExpectedMinutes: 6}); err != nil {
			return err
		}
		if err := add(queue.TypeCounterDefined, "counter/c1", &queue.CounterDefined{ID: "c1", Name: "Platz 1", Services: []string{"meldung"}}); err != nil {
			return err
		}
		for {
			if err := h.businessDay(add); err != nil {
				return err
			}
		}
	}()
	if err == errHistoryDone {
		return nil
	}
	return err
}

var errHistoryDone = fmt.Errorf("history done")

func (h *history) businessDay(add func(typ, entity string, p any) error) error {
	date := start.AddDate(0, 0, h.day)
	h.day++
	h.at = time.Date(date.Year(), date.Month(), date.Day(), 7, 0, 0, 0, time.UTC)
	if err := add(queue.TypeCounterOpened, "counter/c1", &queue.CounterOpened{Counter: "c1", Staff: "s1"}); err != nil {
		return err
	}
	day := date.Format(time.DateOnly)
	id := func(i int) string { return fmt.Sprintf("%s/A%03d", day, i+1) }
	for i := range h.perDay {
		h.ticket++
		if err := add(queue.TypeTicketIssued, "ticket/"+id(i), &queue.TicketIssued{ID: id(i), Token: fmt.Sprintf("token-%s-%09d", h.site, h.ticket),
			Number: fmt.Sprintf("A%03d", i+1), Service: "meldung", Channel: "kiosk"}); err != nil {
			return err
		}
		if i >= 2 {
			if err := add(queue.TypeTicketCalled, "ticket/"+id(i-2), &queue.TicketCalled{ID: id(i - 2), Counter: "c1"}); err != nil {
				return err
			}
			if err := add(queue.TypeTicketFinished, "ticket/"+id(i-2), &queue.TicketFinished{ID: id(i - 2), Counter: "c1"}); err != nil {
				return err
			}
		}
		if h.ticket%h.every == 0 {
			if err := h.workflowEvent(add); err != nil {
				return err
			}
		}
	}
	return add(queue.TypeCounterClosed, "counter/c1", &queue.CounterClosed{Counter: "c1"})
}

// workflowEvent adds one workflow's event, in turn.
func (h *history) workflowEvent(add func(typ, entity string, p any) error) error {
	n := h.ticket / h.every
	code := fmt.Sprintf("%s-%07d", h.site, n)
	token := sha256.Sum256([]byte("token " + code))
	switch n % 4 {
	case 0:
		return add(registration.TypeOrderReceived, "order/"+code, &registration.OrderReceived{OrderPlaced: registration.OrderPlaced{
			Code: code, Kind: "meldebescheinigung", Delivery: "pickup", Copies: 1, FeeCents: 500, Payment: registration.PaymentAtPickup,
			Placed: h.at.UnixMilli(), TokenHash: token[:]}})
	case 1:
		return add(appointment.TypeReceived, "appointment/"+code, &appointment.Received{Booked: appointment.Booked{
			Code: code, Service: "meldung", Start: h.at.Add(time.Hour).UnixMilli(), TokenHash: token[:], BookedAt: h.at.UnixMilli()}})
	case 2:
		return add(plates.TypeAssigned, "plate/K-"+code, &plates.Assigned{Plate: fmt.Sprintf("K AB %d", n%9999+1)})
	default:
		return add(exam.TypeStatistics, "exam/"+code, &exam.Statistics{Exam: code, Year: 2026, District: "Kalk", AgeMonths: 70, Sex: "f"})
	}
}
