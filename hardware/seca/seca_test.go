package seca_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/hardware/seca"
	"github.com/veedel/veedel/hardware/secasim"
)

// start runs a simulator with a udev-like link and a driver on it.
func start(t *testing.T, opt secasim.Options) (*secasim.Sim, *seca.Scale) {
	t.Helper()
	opt.Link = filepath.Join(t.TempDir(), "ttyUSB0")
	sim, err := secasim.Start(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	sc, err := seca.Open("serial://"+sim.Path(), seca.Options{AnswerTimeout: 2 * time.Second, SettleTimeout: 3 * time.Second, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close() })
	return sim, sc
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// The reading is the stable one: the wobbling answers before it are
// ignored, whatever they said.
func TestReadIgnoresUnstable(t *testing.T) {
	t.Parallel()
	sim, sc := start(t, secasim.Options{})
	sim.SetPerson(secasim.Person{WeightKG: 21.35, HeightCM: 117.4, Unstable: 5})
	before := time.Now()
	r, err := sc.Read(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.WeightKG != 21.35 || r.HeightCM != 117.4 {
		t.Errorf("reading = %+v, want 21.35 kg, 117.4 cm", r)
	}
	if r.At.Before(before) {
		t.Errorf("reading at %v, before the call at %v", r.At, before)
	}
	if n := sim.State().Readings; n != 1 {
		t.Errorf("stable weights answered = %d, want 1 (the unstable ones are not readings)", n)
	}
	// The next child: a new reading, not the last one kept.
	sim.SetPerson(secasim.Person{WeightKG: 19.8, HeightCM: 112, Unstable: 2})
	if r, err = sc.Read(ctx(t)); err != nil || r.WeightKG != 19.8 || r.HeightCM != 112 {
		t.Errorf("second reading = %+v, %v", r, err)
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	t.Run("ErrUnstable", func(t *testing.T) {
		t.Parallel()
		sim, sc := start(t, secasim.Options{})
		sim.SetPerson(secasim.Person{WeightKG: 21.35, HeightCM: 117.4, Unstable: 1 << 20})
		_, err := sc.Read(ctx(t))
		if !errors.Is(err, seca.ErrUnstable) || seca.Fault(err) {
			t.Errorf("never settling: %v, want ErrUnstable, no device fault", err)
		}
		if strings.Contains(err.Error(), "21") {
			t.Errorf("error %q shows a reading", err)
		}
	})
	t.Run("ErrEmpty", func(t *testing.T) {
		t.Parallel()
		_, sc := start(t, secasim.Options{})
		if _, err := sc.Read(ctx(t)); !errors.Is(err, seca.ErrEmpty) || seca.Fault(err) {
			t.Errorf("nobody on the scale: %v, want ErrEmpty", err)
		}
	})
	t.Run("ErrNoHeight", func(t *testing.T) {
		t.Parallel()
		sim, sc := start(t, secasim.Options{})
		sim.SetPerson(secasim.Person{WeightKG: 20})
		if _, err := sc.Read(ctx(t)); !errors.Is(err, seca.ErrNoHeight) || seca.Fault(err) {
			t.Errorf("head-piece not lowered: %v, want ErrNoHeight", err)
		}
	})
	t.Run("ErrOverload", func(t *testing.T) {
		t.Parallel()
		sim, sc := start(t, secasim.Options{})
		sim.SetPerson(secasim.Person{WeightKG: secasim.Capacity + 1})
		if _, err := sc.Read(ctx(t)); !errors.Is(err, seca.ErrOverload) || !seca.Fault(err) {
			t.Errorf("overload: %v", err)
		}
	})
	t.Run("ErrNoAnswer", func(t *testing.T) {
		t.Parallel()
		sim, sc := start(t, secasim.Options{})
		sim.SetPerson(secasim.Person{WeightKG: 20, HeightCM: 110})
		sim.Inject(secasim.Silent, 0)
		if _, err := sc.Read(ctx(t)); !errors.Is(err, seca.ErrNoAnswer) || !seca.Fault(err) {
			t.Errorf("silent scale: %v, want ErrNoAnswer", err)
		}
		if h, err := sc.Health(ctx(t)); h.Up || !errors.Is(err, seca.ErrNoAnswer) {
			t.Errorf("health of a silent scale = %+v, %v", h, err)
		}
		sim.Inject(secasim.None, 0)
		if r, err := sc.Read(ctx(t)); err != nil || r.WeightKG != 20 {
			t.Errorf("after it answers again: %+v, %v", r, err)
		}
	})
	t.Run("ErrNoDevice", func(t *testing.T) {
		t.Parallel()
		sc, err := seca.Open("serial://"+filepath.Join(t.TempDir(), "ttyUSB9"), seca.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sc.Read(ctx(t)); !errors.Is(err, seca.ErrNoDevice) {
			t.Errorf("no device: %v", err)
		}
		if h, err := sc.Health(ctx(t)); h.Up || !errors.Is(err, seca.ErrNoDevice) {
			t.Errorf("health without a device = %+v, %v", h, err)
		}
	})
}

// Noise before an answer is skipped; answers that are all noise are
// ErrGarbled, a device fault.
func TestGarbage(t *testing.T) {
	t.Parallel()
	sim, sc := start(t, secasim.Options{})
	sim.SetPerson(secasim.Person{WeightKG: 23.1, HeightCM: 120.2, Unstable: 2})
	sim.Inject(secasim.Noise, 4)
	r, err := sc.Read(ctx(t))
	if err != nil || r.WeightKG != 23.1 || r.HeightCM != 120.2 {
		t.Fatalf("reading through noise = %+v, %v", r, err)
	}
	sim.Inject(secasim.Garbled, 1000)
	_, err = sc.Read(ctx(t))
	if !errors.Is(err, seca.ErrGarbled) || !seca.Fault(err) {
		t.Errorf("garbled answers: %v, want ErrGarbled", err)
	}
	sim.Inject(secasim.None, 0)
	if r, err := sc.Read(ctx(t)); err != nil || r.WeightKG != 23.1 {
		t.Errorf("after the line is clean again: %+v, %v", r, err)
	}
}

// The cable pulled in the middle of a frame: the reading fails with
// ErrDisconnected (not a wrong number from half a frame), Health says the
// scale is down, and after the cable is back the scale is used again
// without a restart.
func TestCablePulledMidReading(t *testing.T) {
	t.Parallel()
	sim, sc := start(t, secasim.Options{})
	sim.SetPerson(secasim.Person{WeightKG: 22.6, HeightCM: 119, Unstable: 1})
	if h, err := sc.Health(ctx(t)); err != nil || !h.Up || h.Serial != "5851700001" {
		t.Fatalf("health = %+v, %v", h, err)
	}
	sim.Inject(secasim.PullCable, 0)
	_, err := sc.Read(ctx(t))
	if !errors.Is(err, seca.ErrDisconnected) || !seca.Fault(err) {
		t.Fatalf("cable pulled: %v, want ErrDisconnected", err)
	}
	if !strings.Contains(err.Error(), "cut off") {
		t.Errorf("error %q does not say the frame was cut off", err)
	}
	h, err := sc.Health(ctx(t))
	if h.Up || !errors.Is(err, seca.ErrNoDevice) {
		t.Errorf("health after the cable was pulled = %+v, %v, want down, ErrNoDevice", h, err)
	}
	if err := sim.Replug(); err != nil {
		t.Fatal(err)
	}
	if h, err := sc.Health(ctx(t)); err != nil || !h.Up {
		t.Errorf("health after replug = %+v, %v", h, err)
	}
	if r, err := sc.Read(ctx(t)); err != nil || r.WeightKG != 22.6 {
		t.Errorf("reading after replug = %+v, %v", r, err)
	}
}

func TestNoHeightRod(t *testing.T) {
	t.Parallel()
	sim, sc := start(t, secasim.Options{NoRod: true})
	sim.SetPerson(secasim.Person{WeightKG: 24, HeightCM: 121})
	if r, err := sc.Read(ctx(t)); err != nil || r.WeightKG != 24 || r.HeightCM != 0 {
		t.Errorf("scale without rod: %+v, %v", r, err)
	}
}

// Health does not wait behind a reading that waits for a child to stand
// still: it returns the last health seen.
func TestHealthDoesNotWaitForReading(t *testing.T) {
	t.Parallel()
	sim, sc := start(t, secasim.Options{})
	if _, err := sc.Health(ctx(t)); err != nil {
		t.Fatal(err)
	}
	sim.SetPerson(secasim.Person{WeightKG: 20, Unstable: 1 << 20})
	done := make(chan error)
	go func() { _, err := sc.Read(ctx(t)); done <- err }()
	time.Sleep(50 * time.Millisecond)
	c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	h, err := sc.Health(c)
	if err != nil || !h.Up {
		t.Errorf("health while reading = %+v, %v, want the last (up)", h, err)
	}
	if err := <-done; !errors.Is(err, seca.ErrUnstable) {
		t.Errorf("reading: %v", err)
	}
}
