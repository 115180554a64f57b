package central

import (
	"slices"
	"strings"
	"time"

	"github.com/veedel/veedel/appliance/queue"
)

// SiteDevices is one site's devices as its change-log last reported them:
// the fleet view's row. A stale site's devices are as old as its last
// contact and are shown as such, never as current.
type SiteDevices struct {
	Site        string         `json:"site"`
	Name        string         `json:"name"`
	LastContact time.Time      `json:"last_contact"`
	Stale       bool           `json:"stale"`
	Devices     []queue.Device `json:"devices"`
	// Clock is the site's clock as the site last measured it against
	// central's (nil: never reported).
	Clock *SiteClock `json:"clock,omitempty"`
}

// SiteClock is a site's clock in the fleet view. The site measures it
// from the Date header of central's answers and reports a change (within
// a minute, or off; an off clock's offset moving by a minute) as the
// device "clock"; a report stays true while the site keeps in contact, so
// Stale is the site's.
type SiteClock struct {
	// OffsetSeconds is how far the site's own clock is ahead of central's
	// (negative: behind) when it was reported.
	OffsetSeconds int64 `json:"offset_seconds"`
	// Warn: more than a minute off; the site goes by central's time.
	Warn       bool      `json:"warn"`
	ReportedAt time.Time `json:"reported_at"`
	Stale      bool      `json:"stale"`
}

// NeedsAttention counts the devices that are not healthy.
func (s SiteDevices) NeedsAttention() int {
	n := 0
	for i := range s.Devices {
		if !s.Devices[i].Healthy() {
			n++
		}
	}
	return n
}

// Devices lists every site that has reported at least one device, sites
// with unhealthy devices first, then by name.
func (c *Central) Devices() []SiteDevices {
	models := c.siteModels()
	now := c.now()
	var out []SiteDevices
	for _, m := range models {
		m.mu.Lock()
		if len(m.state.DeviceOrder) > 0 {
			row := SiteDevices{Site: m.state.Site.ID, Name: m.state.Site.Name, LastContact: m.cursor.LastContact,
				Stale: now.Sub(m.cursor.LastContact) > StaleAfter}
			for _, d := range m.state.DeviceList() {
				row.Devices = append(row.Devices, *d)
				if d.Kind == queue.DeviceClock {
					row.Clock = &SiteClock{OffsetSeconds: d.ClockOffsetMS / 1000, Warn: !d.Healthy(), ReportedAt: d.Since, Stale: row.Stale}
				}
			}
			out = append(out, row)
		}
		m.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b SiteDevices) int {
		if x, y := a.NeedsAttention() > 0, b.NeedsAttention() > 0; x != y {
			if x {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}
