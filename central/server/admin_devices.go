package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

// The fleet view: every site's ticket printers, SMS modems and scales as the sites
// last reported them (device.reported events in their change-logs), faults
// first, so a technician sees a printer out of paper before the citizens
// do. The same data as JSON at GET /api/v1/devices for monitoring.

type devicesPageData struct {
	Frame    adminFrame
	Now      string
	Sites    []deviceSiteRow
	Problems int
	// Rollout and Updates: the software of the boxes (update.go).
	Rollout central.RolloutPlan
	Updates []updateRow
}

// updateRow is one site's box as its update agent last reported it.
type updateRow struct {
	central.UpdateReport
	StateText, Uptime, DiskFree, Clock string
	Reported                           ago
	Problem                            bool
}

type deviceSiteRow struct {
	central.SiteDevices
	Contact ago
	Devices []deviceRow
}

type deviceRow struct {
	queue.Device
	// Name is the device's kind in words ("Ticketdrucker").
	Name string
	// State is ok, attention or fault: a CSS class; StateText says it.
	State, StateText string
	// Details are the reasons in words ("Papier fast leer", "-71 dBm").
	Details []string
	Since   ago
	ErrorAt ago
}

func (s *Server) adminDevices(w http.ResponseWriter, r *http.Request) {
	lang := ui.Lang(w, r)
	now := s.now()
	d := devicesPageData{Frame: s.frame(r, "devices"), Now: when(now, now)}
	for _, site := range s.Central.Devices() {
		row := deviceSiteRow{SiteDevices: site, Contact: moment(lang, site.LastContact, now)}
		for _, dev := range site.Devices {
			dr := deviceRow{Device: dev, Name: deviceName(lang, dev.Kind), Since: moment(lang, dev.Since, now), ErrorAt: moment(lang, dev.ErrorAt, now), Details: deviceDetails(lang, dev)}
			if dev.Kind == queue.DeviceClock && dev.LastError != "" {
				// The site reports its clock in English, for its log;
				// the page says it in its own language.
				dr.LastError = ui.Translate(lang, "devices.clock.lasterror")
			}
			switch {
			case !dev.Healthy():
				dr.State = "fault"
				d.Problems++
			case dev.Attention():
				dr.State = "attention"
			default:
				dr.State = "ok"
			}
			dr.StateText = ui.Translate(lang, "admin.devices.state."+dr.State)
			row.Devices = append(row.Devices, dr)
		}
		d.Sites = append(d.Sites, row)
	}
	if st, err := s.rolloutStatus(r); err != nil {
		s.Logger.Error("devices page: rollout", "err", err)
	} else {
		d.Rollout = st.Plan
		for _, rep := range st.Reports {
			u := updateRow{UpdateReport: rep, Reported: moment(lang, rep.ReportedAt, now),
				StateText: ui.Translate(lang, "admin.updates.state."+rep.State),
				DiskFree:  fmt.Sprintf("%d MiB", rep.DiskFree>>20),
				Clock:     ui.ClockOffset(lang, time.Duration(rep.ClockOffsetMS)*time.Millisecond),
				Problem:   rep.State == "rolled-back" || rep.State == "failed"}
			if !rep.BootedAt.IsZero() {
				u.Uptime = ui.Translate(lang, "admin.updates.uptime", int64(now.Sub(rep.BootedAt).Hours()))
			}
			d.Updates = append(d.Updates, u)
		}
	}
	s.renderAdmin(w, r, http.StatusOK, "admin_devices", "admin.devices.title", "", "", d)
}

// deviceName is a device's kind in lang, in the desk's words.
func deviceName(lang, kind string) string {
	if kind != queue.DevicePrinter && kind != queue.DeviceModem && kind != queue.DeviceClock && kind != queue.DeviceScale {
		kind = "other"
	}
	return ui.Translate(lang, "devices.name."+kind)
}

// deviceDetails says what is wrong or notable with a device, in lang.
func deviceDetails(lang string, d queue.Device) []string {
	var out []string
	add := func(key string, args ...any) { out = append(out, ui.Translate(lang, key, args...)) }
	if !d.Up {
		add("devices.state.down")
	}
	if d.PaperOut {
		add("devices.state.paperout")
	} else if d.PaperLow {
		add("devices.state.paperlow")
	}
	if d.CoverOpen {
		add("devices.state.cover")
	}
	if d.Kind == queue.DeviceModem {
		if d.Network != "" {
			add("devices.network", ui.NetworkName(lang, d.Network))
		}
		if d.SignalDBM != 0 {
			add("devices.signal", d.SignalDBM)
		}
	}
	if d.Kind == queue.DeviceClock {
		// The site's own words are for technicians at the site; say the
		// offset here in the page's language.
		off := time.Duration(d.ClockOffsetMS) * time.Millisecond
		switch {
		case d.Healthy():
			add("devices.clock.ok", ui.ClockOffset(lang, off))
		case off < 0:
			add("devices.clock.behind", ui.ClockOffset(lang, off))
		default:
			add("devices.clock.ahead", ui.ClockOffset(lang, off))
		}
		return out
	}
	if d.Error != "" {
		out = append(out, d.Error)
	}
	return out
}

// devicesStatus is the JSON of GET /api/v1/devices.
type devicesStatus struct {
	Now   time.Time             `json:"now"`
	Sites []central.SiteDevices `json:"sites"`
	// Rollout is GET /api/v1/rollout's: the plan, the releases and the
	// boxes' update reports.
	Rollout rolloutStatus `json:"rollout"`
}

// apiDevices answers GET /api/v1/devices (admin login required).
func (s *Server) apiDevices(w http.ResponseWriter, r *http.Request) {
	sites := s.Central.Devices()
	if sites == nil {
		sites = []central.SiteDevices{}
	}
	for i := range sites {
		if sites[i].Devices == nil {
			sites[i].Devices = []queue.Device{}
		}
	}
	st, err := s.rolloutStatus(r)
	if err != nil {
		web.Error(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, devicesStatus{Now: s.now().UTC(), Sites: sites, Rollout: st})
}
