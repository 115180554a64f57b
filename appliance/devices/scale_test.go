package devices_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/veedel/veedel/appliance/devices"
	"github.com/veedel/veedel/appliance/queue"
)

// fakeScale answers Health with what the test set.
type fakeScale struct {
	mu  sync.Mutex
	up  bool
	err error
}

func (s *fakeScale) Health(context.Context) (devices.ScaleHealth, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return devices.ScaleHealth{Up: s.up}, s.err
}

func (s *fakeScale) set(up bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.up, s.err = up, err
}

// A failed reading stays in the scale's report until a reading works,
// even when the scale answers its health again: a cable pulled and
// plugged back between two polls is still seen.
func TestScaleReadingFailureStays(t *testing.T) {
	ctx := context.Background()
	store := mustOpenStore(t)
	sc := &fakeScale{up: true}
	m := &devices.Monitor{Store: store, Scale: sc, ScaleAddress: "serial:///dev/ttyUSB0?baud=9600", Logger: quiet}
	m.Poll(ctx)
	d, ok := device(store, queue.DeviceScale)
	if !ok || !d.Healthy() || d.Kind != queue.DeviceScale || d.Address != "serial:///dev/ttyUSB0?baud=9600" {
		t.Fatalf("first poll: %+v (found %v), want a healthy scale", d, ok)
	}
	seq := store.LastSeq()
	m.Poll(ctx)
	if store.LastSeq() != seq {
		t.Error("unchanged scale reported again")
	}

	m.ReadingDone(errors.New("seca: weight: connection to the scale lost: frame cut off after 8 bytes"))
	m.Poll(ctx)
	d, _ = device(store, queue.DeviceScale)
	if d.Healthy() || d.Error == "" || !d.Up {
		t.Errorf("after a failed reading with the scale answering: %+v, want the failure reported", d)
	}
	sc.set(false, errors.New("seca: open /dev/ttyUSB0: no scale at the address"))
	m.Poll(ctx)
	if d, _ = device(store, queue.DeviceScale); d.Up || d.Healthy() {
		t.Errorf("scale gone: %+v", d)
	}
	sc.set(true, nil)
	m.Poll(ctx)
	if d, _ = device(store, queue.DeviceScale); d.Healthy() {
		t.Errorf("scale back, no reading yet: %+v, want the failed reading still shown", d)
	}
	m.ReadingDone(nil)
	m.Poll(ctx)
	if d, _ = device(store, queue.DeviceScale); !d.Healthy() || d.LastError == "" {
		t.Errorf("after a reading worked: %+v, want healthy with the last error kept", d)
	}
}
