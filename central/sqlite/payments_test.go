package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel"
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

// TestSettlePayment: paid, the payment and the outbound entry are one
// transaction; the sealed copy is gone; a refusal or a repeat writes
// nothing; expiry takes only what is due.
func TestSettlePayment(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "central.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	clock := changelog.NewClock(func() time.Time { return at }, 0)
	for i, ref := range []string{"UA", "UB", "UC"} {
		if err := s.HoldPayment(ctx, held(ref, at.Add(time.Duration(i)*10*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.HoldPayment(ctx, held("UA", at)); err == nil {
		t.Fatal("the same reference held twice")
	}
	head := func() uint64 { h, _ := s.OutboundHeads(ctx); return h["kalk"] }
	refused := veedel.Errorf(veedel.EINVALID, "amount")
	if _, _, err := s.SettlePayment(ctx, "UA", "T1", at, clock.Now, func(central.HeldPayment) (string, bool, []central.Outgoing, error) {
		return "", false, nil, refused
	}); err != refused || head() != 0 {
		t.Fatalf("refused: %v, head %d", err, head())
	}
	if _, _, err := s.SettlePayment(ctx, "UNOPE", "T1", at, clock.Now, paidDecision); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("unknown reference: %v", err)
	}
	for i := range 3 {
		p, changed, err := s.SettlePayment(ctx, "UA", "T1", at, clock.Now, paidDecision)
		if err != nil || changed != (i == 0) || p.Status != "paid" || head() != 1 {
			t.Fatalf("settle %d: %+v %v %v head %d", i, p, changed, err, head())
		}
	}
	left, err := s.HeldPayments(ctx)
	if err != nil || len(left) != 2 {
		t.Fatalf("held: %d %v", len(left), err)
	}
	refs, err := s.ExpirePayments(ctx, at.Add(15*time.Minute), at.Add(31*time.Minute))
	if err != nil || len(refs) != 1 || refs[0] != "UB" {
		t.Fatalf("expired %v %v", refs, err)
	}
	left, _ = s.HeldPayments(ctx)
	for _, p := range left {
		if (p.Reference == "UB") != (p.Status == "expired") || (p.Status == "expired") != (p.Sealed == nil) {
			t.Errorf("after expiry: %s %s sealed %v", p.Reference, p.Status, p.Sealed != nil)
		}
	}
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
