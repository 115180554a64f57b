package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
)

func plateStore(t *testing.T, s Store) central.PlateStore {
	t.Helper()
	ps, ok := s.(central.PlateStore)
	if !ok {
		t.Fatalf("%T keeps no plate reservations", s)
	}
	return ps
}

func plateReservation(plate, who string, at time.Time, life time.Duration) central.PlateReservation {
	h := sha256.Sum256([]byte(plate + "\n" + who))
	return central.PlateReservation{Plate: plate, TokenHash: h[:], Name: who, Email: who + "@example.de", Site: "zulassung",
		CreatedAt: at, ExpiresAt: at.Add(life)}
}

// Concurrent reservations of one plate: exactly one wins, the others get
// ECONFLICT; the winner's row is what a reader sees, from another
// connection (a restart) too.
func testPlateReservationsConcurrent(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	ps := plateStore(t, s)
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = ps.ReservePlate(ctx, plateReservation("K-AB 123", fmt.Sprintf("p%d", i), start, 90*24*time.Hour))
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("reservations %d and %d of one plate both won", winner, i)
		case err == nil:
			winner = i
		case veedel.ErrorCode(err) != veedel.ECONFLICT:
			t.Errorf("reservation %d: %v, want ECONFLICT", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no reservation won")
	}
	s2 := mustOpen(t, open)
	r, err := plateStore(t, s2).PlateReservation(ctx, "K-AB 123", start.Add(time.Hour))
	if err != nil || r.Name != fmt.Sprintf("p%d", winner) || r.Site != "zulassung" || !r.ExpiresAt.Equal(start.Add(90*24*time.Hour)) {
		t.Errorf("stored reservation = %+v, %v; want p%d's", r, err, winner)
	}
}

// A reservation lives until it expires, is ended, or is expired away
// (with the holder's name and e-mail); an expired one gives way to a new
// reservation of the plate.
func testPlateReservationsLifetime(t *testing.T, open Opener) {
	ctx := context.Background()
	s := mustOpen(t, open)
	ps := plateStore(t, s)
	a := plateReservation("K-X 1", "anna", start, time.Hour)
	b := plateReservation("K-X 2", "bert", start, 2*time.Hour)
	for _, r := range []central.PlateReservation{a, b} {
		if err := ps.ReservePlate(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ps.PlateReservation(ctx, "K-X 1", start.Add(time.Hour)); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Errorf("K-X 1 at its expiry: %v, want ENOTFOUND", err)
	}
	// Expired but not yet deleted: a new reservation replaces it.
	c := plateReservation("K-X 1", "cleo", start.Add(time.Hour), time.Hour)
	if err := ps.ReservePlate(ctx, c); err != nil {
		t.Fatalf("reserving an expired plate again: %v", err)
	}
	if err := ps.ReservePlate(ctx, plateReservation("K-X 1", "dora", start.Add(time.Hour), time.Hour)); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Errorf("reserving a live plate: %v, want ECONFLICT", err)
	}
	if err := ps.EndPlateReservation(ctx, c.TokenHash); err != nil {
		t.Fatal(err)
	}
	if err := ps.EndPlateReservation(ctx, c.TokenHash); err != nil {
		t.Errorf("ending twice: %v", err)
	}
	n, err := ps.ExpirePlateReservations(ctx, start.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Errorf("expired %d, %v; want bert's 1", n, err)
	}
	all, err := ps.PlateReservations(ctx)
	if err != nil || len(all) != 0 {
		t.Errorf("left after ending and expiring: %+v, %v; want none (no names kept)", all, err)
	}
}
