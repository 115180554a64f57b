package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/mail"
)

// Orders waiting for their payment (central.PaymentStore) and the e-mail
// outbox's table (internal/mail on the store's Writer).

func heldPayment(ref string, at time.Time) central.HeldPayment {
	return central.HeldPayment{Reference: ref, Site: "kalk", AmountCents: 1000, Currency: "EUR", Status: "awaiting",
		Placed: []byte{0xa0}, Sealed: []byte("sealed details"), CreatedAt: at, UpdatedAt: at}
}

func paidDecision(h central.HeldPayment) (string, bool, []central.Outgoing, error) {
	if h.Status == "paid" {
		return "paid", false, nil, nil
	}
	return "paid", true, []central.Outgoing{{Type: "registration.order_placed", Entity: "order/" + h.Reference, Payload: map[string]string{"code": h.Reference}}}, nil
}

// testPayments: paid, the payment and the outbound entry are one
// transaction; the sealed copy is gone; a refusal or a repeat writes
// nothing (also when two nodes take the same notification at once);
// expiry takes only what is due.
func testPayments(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	other := mustOpen(t, open)
	knownSite(t, s, "kalk")
	at := start
	clock := hlcClock()
	for i, ref := range []string{"UA", "UB", "UC"} {
		if err := s.HoldPayment(ctx, heldPayment(ref, at.Add(time.Duration(i)*10*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.HoldPayment(ctx, heldPayment("UA", at)); err == nil {
		t.Fatal("the same reference held twice")
	}
	head := func() uint64 { h, _ := s.OutboundHeads(ctx); return h["kalk"] }
	refused := veedel.Errorf(veedel.EINVALID, "amount")
	if _, _, err := s.SettlePayment(ctx, "UA", "T1", at, clock, func(central.HeldPayment) (string, bool, []central.Outgoing, error) {
		return "", false, nil, refused
	}); err != refused || head() != 0 {
		t.Fatalf("refused: %v, head %d", err, head())
	}
	if _, _, err := s.SettlePayment(ctx, "UNOPE", "T1", at, clock, paidDecision); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Fatalf("unknown reference: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	changes := 0
	for i := range 6 {
		wg.Go(func() {
			node := []Store{s, other}[i%2]
			p, changed, err := node.SettlePayment(ctx, "UA", "T1", at, clock, paidDecision)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || p.Status != "paid" {
				t.Errorf("settle %d: %+v %v", i, p, err)
			}
			if changed {
				changes++
			}
		})
	}
	wg.Wait()
	if changes != 1 || head() != 1 {
		t.Fatalf("six notifications at once: %d changes, outbound head %d; want 1 and 1", changes, head())
	}
	left, err := other.HeldPayments(ctx)
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

// relay is a mail.Sender that keeps what it was given.
type relay struct {
	mu   sync.Mutex
	sent []mail.Envelope
}

func (r *relay) Send(_ context.Context, env mail.Envelope, _ []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, env)
	return nil
}

// testMailOutbox: the outbox works on the store's own database: a message
// exists exactly when its transaction commits, a key queues once, two
// workers (two central nodes) send each message once, and a sent row
// keeps no address.
func testMailOutbox(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	db := s.Writer()
	pg := strings.Contains(fmt.Sprintf("%T", db.Driver()), "stdlib")
	r := &relay{}
	now := func() time.Time { return start }
	outboxes := []*mail.Outbox{
		{DB: db, Postgres: pg, From: mail.Address{Email: "noreply@veedel.invalid"}, Sender: r, Now: now},
		{DB: mustOpen(t, open).Writer(), Postgres: pg, From: mail.Address{Email: "noreply@veedel.invalid"}, Sender: r, Now: now},
	}
	enqueue := func(key, to string, commit bool) bool {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		queued, err := outboxes[0].Enqueue(ctx, tx, mail.Message{To: mail.Address{Email: to}, Subject: "Ihr Termin", Text: "Code T123", Key: key})
		if err != nil {
			t.Fatal(err)
		}
		if commit {
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		return queued
	}
	enqueue("k-rolled-back", "a@example.de", false) // never committed
	if !enqueue("appt:T1:reminder", "b@example.de", true) || enqueue("appt:T1:reminder", "b@example.de", true) {
		t.Fatal("a key queued other than once")
	}
	for i := range 5 {
		enqueue(fmt.Sprint("m", i), fmt.Sprintf("c%d@example.de", i), true)
	}
	var wg sync.WaitGroup
	for _, o := range outboxes {
		wg.Go(func() {
			if _, err := o.Step(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(r.sent) != 6 {
		t.Fatalf("sent %d messages, want 6 (one per committed message): %v", len(r.sent), r.sent)
	}
	for _, e := range r.sent {
		if e.To == "a@example.de" {
			t.Fatal("the rolled-back message went out")
		}
	}
	rec, err := outboxes[1].Lookup(ctx, "appt:T1:reminder")
	if err != nil || rec.Status != "sent" || rec.Attempts != 1 {
		t.Fatalf("lookup: %+v %v", rec, err)
	}
	var left int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM mail_outbox WHERE recipient IS NOT NULL OR data IS NOT NULL`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d sent rows keep an address or text", left)
	}
	if c, err := outboxes[0].Counts(ctx); err != nil || c.Sent != 6 || c.Pending != 0 {
		t.Fatalf("counts: %+v %v", c, err)
	}
}
