package registration_test

import (
	"context"
	"slices"
	"testing"

	"github.com/veedel/veedel/appliance/registration"
)

// TestFind: the back office's filter by status and kind, and the count of
// open orders its badge shows.
func TestFind(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	for _, code := range []string{"UAAAAAAAA2", "UBBBBBBBB3", "UCCCCCCCC4"} {
		if _, err := s.store.ApplyInbound(ctx, s.place(code, s.box)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.act("UBBBBBBBB3", registration.ActionReject, "anna", "Doppelt bestellt."); err != nil {
		t.Fatal(err)
	}
	if err := s.act("UCCCCCCCC4", registration.ActionClaim, "anna", ""); err != nil {
		t.Fatal(err)
	}
	codes := func(f registration.Filter) []string {
		t.Helper()
		if f.Limit == 0 {
			f.Limit = 10
		}
		orders, err := registration.Find(ctx, s.store.Read(), f)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, o := range orders {
			out = append(out, o.Code)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		filter registration.Filter
		want   []string
	}{
		{"open", registration.Filter{Status: "open"}, []string{"UAAAAAAAA2", "UCCCCCCCC4"}},
		{"all", registration.Filter{}, []string{"UAAAAAAAA2", "UBBBBBBBB3", "UCCCCCCCC4"}},
		{"rejected", registration.Filter{Status: registration.StatusRejected}, []string{"UBBBBBBBB3"}},
		{"in progress", registration.Filter{Status: registration.StatusInProgress}, []string{"UCCCCCCCC4"}},
		{"kind", registration.Filter{Kind: registration.KindMelde}, []string{"UAAAAAAAA2", "UBBBBBBBB3", "UCCCCCCCC4"}},
		{"other kind", registration.Filter{Kind: registration.KindGeburt}, []string{}},
		{"open and kind", registration.Filter{Status: "open", Kind: registration.KindMelde}, []string{"UAAAAAAAA2", "UCCCCCCCC4"}},
		{"limit", registration.Filter{Limit: 1}, []string{"UAAAAAAAA2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := codes(tc.filter); !slices.Equal(got, tc.want) {
				t.Errorf("Find(%+v) = %v, want %v", tc.filter, got, tc.want)
			}
		})
	}
	if n, err := registration.CountOpen(ctx, s.store.Read()); err != nil || n != 2 {
		t.Errorf("CountOpen = %d, %v; want 2", n, err)
	}
	if registration.ValidKind("fuehrerschein") || !registration.ValidKind("") || !registration.ValidKind(registration.KindSterbe) {
		t.Error("ValidKind")
	}
}
