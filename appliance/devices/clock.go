package devices

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/veedel/veedel/appliance/clock"
	"github.com/veedel/veedel/appliance/queue"
)

// ClockWatch records the site's clock, as measured against central's, as
// the device "clock" in the change-log, so that central's fleet view shows
// it. It commits when the clock is found more than a minute off, when an
// off clock's offset moves by a minute, and when an off clock is right
// again; never on every measurement, and nothing for a clock that was
// never off (every report is an entry in the site's log).
type ClockWatch struct {
	Store  Store
	Clock  *clock.Clock
	Logger *slog.Logger
}

// Run records after every measurement until ctx ends.
func (w *ClockWatch) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.Clock.Measured():
		}
		if err := w.Record(ctx); err != nil && ctx.Err() == nil {
			w.logger().Error("record the clock's state", "err", err)
		}
	}
}

// Record commits the clock's report if it changed (nothing before the
// first measurement).
func (w *ClockWatch) Record(ctx context.Context) error {
	st := w.Clock.Status(time.Time{})
	if !st.Measured {
		return nil
	}
	r := ClockReport(st)
	events, err := w.Store.Execute(ctx, func(s *queue.State, at time.Time) ([]queue.Event, error) {
		d := s.Devices[r.Device]
		switch {
		case d == nil && r.Error == "":
			return nil, nil // never off: nothing to tell
		case d != nil && (d.Error == "") == (r.Error == "") &&
			(r.Error == "" || abs(d.ClockOffsetMS-r.ClockOffsetMS) < clock.Tolerance.Milliseconds()):
			return nil, nil
		}
		p := r
		return []queue.Event{{Type: queue.TypeDeviceReported, Entity: "device/" + r.Device, At: at, Payload: &p}}, nil
	})
	if err != nil || len(events) == 0 {
		return err
	}
	if r.Error != "" {
		w.logger().Warn("clock is off central's: going by central's time", "offset", st.Offset.Round(time.Second).String())
	} else {
		w.logger().Info("clock agrees with central's", "offset", st.Offset.Round(time.Second).String())
	}
	return nil
}

func (w *ClockWatch) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.Default()
	}
	return w.Logger
}

// ClockReport is the clock's state as a device report: Error, in words a
// technician can act on, when it is more than clock.Tolerance off.
func ClockReport(st clock.Status) queue.DeviceReported {
	r := queue.DeviceReported{Device: queue.DeviceClock, Kind: queue.DeviceClock, Up: true, ClockOffsetMS: st.Offset.Milliseconds()}
	if st.State == clock.Corrected {
		dir := "ahead of"
		if st.Offset < 0 {
			dir = "behind"
		}
		r.Error = fmt.Sprintf("clock is %s %s central's: the site goes by central's time; set the device's clock (time server, RTC battery)",
			(time.Duration(abs(int64(st.Offset))) / time.Minute * time.Minute).String(), dir)
	}
	return r
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
