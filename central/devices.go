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
