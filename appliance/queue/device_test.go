package queue_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
)

func TestDeviceReports(t *testing.T) {
	st := queue.NewState("kalk")
	// Event times come from the change-log as time.UnixMilli, as folded.
	at := time.UnixMilli(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC).UnixMilli())
	report := func(at time.Time, p queue.DeviceReported) {
		st.Apply(queue.Event{Type: queue.TypeDeviceReported, Entity: p.Device, At: at, Payload: &p})
	}
	report(at, queue.DeviceReported{Device: "printer", Kind: queue.DevicePrinter, Address: "tcp://192.0.2.10:9100", Up: true})
	report(at.Add(time.Second), queue.DeviceReported{Device: "modem", Kind: queue.DeviceModem, Up: true, SignalDBM: -71, Network: "registered"})
	report(at.Add(time.Minute), queue.DeviceReported{Device: "printer", Kind: queue.DevicePrinter, Up: true, PaperOut: true, Error: "paper out"})

	p := st.Devices["printer"]
	if p == nil || !p.PaperOut || p.Healthy() || p.Error != "paper out" || !p.ErrorAt.Equal(at.Add(time.Minute)) {
		t.Fatalf("printer after paper out = %+v", p)
	}
	if m := st.Devices["modem"]; m == nil || !m.Healthy() || m.SignalDBM != -71 {
		t.Fatalf("modem = %+v", m)
	}
	// Paper refilled: the error clears, but staff still see what it was.
	report(at.Add(5*time.Minute), queue.DeviceReported{Device: "printer", Kind: queue.DevicePrinter, Up: true, PaperLow: true})
	p = st.Devices["printer"]
	if !p.Healthy() || !p.Attention() || p.Error != "" || p.LastError != "paper out" || !p.Since.Equal(at.Add(5*time.Minute)) {
		t.Fatalf("printer after refill = %+v", p)
	}
	if got := st.DeviceList(); len(got) != 2 || got[0].Device != "printer" || got[1].Device != "modem" {
		t.Fatalf("device order = %v", st.DeviceOrder)
	}

	restored := restoreViaJSON(t, st)
	if !reflect.DeepEqual(restored.Devices, st.Devices) || !reflect.DeepEqual(restored.DeviceOrder, st.DeviceOrder) {
		t.Fatalf("restored devices %+v, want %+v", restored.Devices, st.Devices)
	}
}

// A device with no network registration is not healthy.
func TestDeviceModemWithoutNetwork(t *testing.T) {
	d := queue.Device{DeviceReported: queue.DeviceReported{Device: "modem", Kind: queue.DeviceModem, Up: true, Network: "no SIM"}}
	if d.Healthy() {
		t.Fatal("a modem without SIM counts as healthy")
	}
}
