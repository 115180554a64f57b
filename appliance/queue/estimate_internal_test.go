package queue

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestNth(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for n := 1; n < 120; n++ {
		a := make([]float64, n)
		for i := range a {
			a[i] = float64(rnd.IntN(20)) // with ties
		}
		sorted := slices.Sorted(slices.Values(a))
		k := rnd.IntN(n)
		if got := nth(a, k); got != sorted[k] {
			t.Fatalf("nth(%d of %d) = %v, want %v", k, n, got, sorted[k])
		}
		if slices.Max(a[:k+1]) != sorted[k] {
			t.Fatalf("nth(%d of %d) left a larger element before k", k, n)
		}
	}
}
