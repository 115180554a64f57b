package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

func held(ref string, at time.Time) central.HeldPayment {
	return central.HeldPayment{Reference: ref, Site: "kalk", AmountCents: 1000, Currency: "EUR", Status: "awaiting",
		Placed: []byte{0xa0}, Sealed: []byte("sealed details"), CreatedAt: at, UpdatedAt: at}
}

func paidDecision(h central.HeldPayment) (string, bool, []central.Outgoing, error) {
	if h.Status == "paid" {
		return "paid", false, nil, nil
	}
	return "paid", true, []central.Outgoing{{Type: "registration.order_placed", Entity: "order/" + h.Reference, Payload: map[string]string{"code": h.Reference}}}, nil
}

// BenchmarkSettlePayment: a paid notification's transaction (read the
// payment, record it, append the order to the site's outbound log) beside
// the bare append of the same event (AppendOutbound, what an order paid at
// pickup costs), on SQLite files with central's pragmas, in one run.
func BenchmarkSettlePayment(b *testing.B) {
	ctx := context.Background()
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	open := func(b *testing.B) (*Store, func() changelog.HLC) {
		s, err := Open(ctx, filepath.Join(b.TempDir(), "central.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s, changelog.NewClock(func() time.Time { return at }, 0).Now
	}
	b.Run("settle", func(b *testing.B) {
		s, clock := open(b)
		for i := range b.N {
			if err := s.HoldPayment(ctx, held(fmt.Sprint("U", i), at)); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for i := range b.N {
			if _, _, err := s.SettlePayment(ctx, fmt.Sprint("U", i), "T", at, clock, paidDecision); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		s, clock := open(b)
		for i := range b.N {
			ref := fmt.Sprint("U", i)
			if _, err := s.AppendOutbound(ctx, "kalk", []central.Outgoing{{Type: "registration.order_placed", Entity: "order/" + ref, Payload: map[string]string{"code": ref}}}, at, clock); err != nil {
				b.Fatal(err)
			}
		}
	})
}
