package faultproxy

import "testing"

func TestFlipper(t *testing.T) {
	for seed := range uint64(200) {
		fl := newFlipper(seed, 4, 100, 5)
		if len(fl.at) != 4 {
			t.Fatalf("seed %d: %d flips, want 4", seed, len(fl.at))
		}
		seen := map[int64]bool{}
		for i, at := range fl.at {
			if at < 100 || at >= 105 || seen[at] || fl.xor[i] == 0 {
				t.Fatalf("seed %d: flip %d at %d mask %#x: want distinct offsets in [100,105), non-zero masks", seed, i, at, fl.xor[i])
			}
			seen[at] = true
		}
	}
	if fl := newFlipper(1, 10, 0, 3); len(fl.at) != 3 {
		t.Errorf("%d flips in a 3-byte region, want 3", len(fl.at))
	}
	if fl := newFlipper(1, 1, 0, 0); len(fl.at) != 0 {
		t.Error("flips in an empty region")
	}
	// Applied across chunks, every chosen byte flips exactly once.
	fl := newFlipper(3, 3, 10, 20)
	data := make([]byte, 40)
	fl.apply(data[:15], 0)
	fl.apply(data[15:], 15)
	flipped := 0
	for _, b := range data {
		if b != 0 {
			flipped++
		}
	}
	if flipped != 3 {
		t.Errorf("%d bytes flipped, want 3", flipped)
	}
}
