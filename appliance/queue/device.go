package queue

import (
	"slices"
	"time"
)

// TypeDeviceReported records a change in the health of one of the site's
// devices (ticket printer, GSM modem, scale). It lives in the site's change-log
// like every other event, so central sees the fleet's health with the
// same sync and fold as the queue's.
const TypeDeviceReported = "device.reported"

// Device kinds.
const (
	DevicePrinter = "printer"
	DeviceModem   = "modem"
	// DeviceScale is the school-health site's scale and measuring station
	// (hardware/seca).
	DeviceScale = "scale"
	// DeviceClock is the site's clock as measured against central's
	// (appliance/clock): Error says when it is more than a minute off.
	DeviceClock = "clock"
)

// DeviceReported is the whole health of one device at a moment: a report
// replaces the previous one. A site commits one only when something
// changed, never on every poll.
type DeviceReported struct {
	// Device names the device within the site ("printer", "modem").
	Device string `cbor:"1,keyasint"`
	Kind   string `cbor:"2,keyasint"`
	// Address is the configured address without credentials
	// ("tcp://192.0.2.10:9100", "serial:///dev/ttyUSB0").
	Address   string `cbor:"3,keyasint,omitempty"`
	Up        bool   `cbor:"4,keyasint"`
	PaperLow  bool   `cbor:"5,keyasint,omitempty"`
	PaperOut  bool   `cbor:"6,keyasint,omitempty"`
	CoverOpen bool   `cbor:"7,keyasint,omitempty"`
	// SignalDBM is a modem's received signal strength (0: unknown).
	SignalDBM int `cbor:"8,keyasint,omitempty"`
	// Network is a modem's registration: "registered", "roaming",
	// "searching", "denied", "no SIM" ("" for printers).
	Network string `cbor:"9,keyasint,omitempty"`
	// Error is the last error in words a technician can act on, never
	// with personal data (no numbers, no ticket contents).
	Error string `cbor:"10,keyasint,omitempty"`
	// ClockOffsetMS is how far a clock's device time is ahead of
	// central's (negative: behind), in milliseconds, when it was reported.
	ClockOffsetMS int64 `cbor:"11,keyasint,omitempty" json:",omitempty"`
}

// Device is a device's health as the site last reported it.
type Device struct {
	DeviceReported
	// Since is when this health was reported.
	Since time.Time
	// ErrorAt is when the last error was first reported (zero: none yet).
	ErrorAt time.Time
	// LastError stays when a later report clears Error, so staff can see
	// what the device last complained about.
	LastError string
}

// Healthy reports whether the device works without anyone's attention.
func (d *Device) Healthy() bool {
	return d.Up && !d.PaperOut && !d.CoverOpen && d.Error == "" &&
		(d.Kind != DeviceModem || d.Network == "" || d.Network == "registered" || d.Network == "roaming")
}

// Attention reports whether staff should look soon though it still works
// (paper low).
func (d *Device) Attention() bool { return d.Healthy() && d.PaperLow }

func (s *State) applyDevice(p *DeviceReported, at time.Time) {
	if s.Devices == nil {
		s.Devices = map[string]*Device{}
	}
	d, ok := s.Devices[p.Device]
	if !ok {
		d = &Device{}
		s.Devices[p.Device] = d
		s.DeviceOrder = append(s.DeviceOrder, p.Device)
	}
	if p.Error != "" && p.Error != d.Error {
		d.ErrorAt = at
	}
	if p.Error != "" {
		d.LastError = p.Error
	}
	d.DeviceReported, d.Since = *p, at
}

// DeviceList returns the devices in the order they first reported.
func (s *State) DeviceList() []*Device {
	out := make([]*Device, 0, len(s.DeviceOrder))
	for _, id := range s.DeviceOrder {
		out = append(out, s.Devices[id])
	}
	return out
}

func (s *State) snapshotDevices() []Device {
	var out []Device
	for _, d := range s.DeviceList() {
		c := *d
		c.Since, c.ErrorAt = c.Since.UTC(), c.ErrorAt.UTC()
		out = append(out, c)
	}
	return out
}

func (s *State) restoreDevices(ds []Device) {
	for _, d := range ds {
		d.Since, d.ErrorAt = asFolded(d.Since), asFolded(d.ErrorAt)
		if s.Devices == nil {
			s.Devices = map[string]*Device{}
		}
		c := d
		s.Devices[d.Device] = &c
		s.DeviceOrder = append(s.DeviceOrder, d.Device)
	}
	s.DeviceOrder = slices.Clip(s.DeviceOrder)
}
