package server

import (
	"context"
	"net/http"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/ui"
)

// deviceView is a device's health as the desk shows it.
type deviceView struct {
	Name      string // text key of the device's name
	Device    string
	Address   string
	Healthy   bool
	Attention bool     // works, but look soon (paper low)
	States    []string // text keys, the worst first
	SignalDBM int
	Network   string
	Error     string // what the device complains about now
	LastError string // the last complaint, kept after it cleared
	Since     time.Time
	ErrorAt   time.Time
}

// deviceBanner is the desk's device notice: Alerts need someone now,
// Notices soon.
type deviceBanner struct {
	Alerts  []deviceView
	Notices []deviceView
	// Clock is the site's clock (clock.go; nil: not checked here).
	Clock *clockView
	// Parked is what central sent that waits at this site (nil: nothing).
	Parked *parkedView
}

// parkedView says how many of central's entries wait and for what
// (sqlite.ParkedEntries: the exams without the escrow key).
type parkedView struct {
	N      int
	Reason string
}

// parkedViewOf is the desk's line on the parked entries, in lang; nil
// when none waits.
func (s *Server) parkedViewOf(ctx context.Context, lang string) *parkedView {
	list, err := s.Store.ParkedEntries(ctx)
	if err != nil {
		s.Logger.Error("parked entries", "err", err)
		return nil
	}
	if len(list) == 0 {
		return nil
	}
	v := &parkedView{N: len(list)}
	seen := map[string]bool{}
	for _, p := range list {
		if r := ui.InLang(lang, p.Reason); !seen[r] {
			seen[r] = true
			if v.Reason != "" {
				v.Reason += "; "
			}
			v.Reason += r
		}
	}
	return v
}

// Any reports whether the banner has something to say.
func (b deviceBanner) Any() bool { return len(b.Alerts)+len(b.Notices) > 0 }

// deviceViews requires the store's lock.
func deviceViews(st *queue.State) []deviceView {
	var out []deviceView
	for _, d := range st.DeviceList() {
		if d.Kind == queue.DeviceClock {
			continue // the desk shows the clock as it is now (clock.go)
		}
		v := deviceView{Name: "devices.name." + d.Kind, Device: d.Device, Address: d.Address, Healthy: d.Healthy(), Attention: d.Attention(),
			SignalDBM: d.SignalDBM, Network: d.Network, Error: d.Error, LastError: d.LastError, Since: d.Since, ErrorAt: d.ErrorAt}
		if d.Kind != queue.DevicePrinter && d.Kind != queue.DeviceModem && d.Kind != queue.DeviceScale {
			v.Name = "devices.name.other"
		}
		if !d.Up {
			v.States = append(v.States, "devices.state.down")
		}
		if d.PaperOut {
			v.States = append(v.States, "devices.state.paperout")
		}
		if d.CoverOpen {
			v.States = append(v.States, "devices.state.cover")
		}
		switch d.Network {
		case "", "registered", "roaming":
		case "no SIM", "SIM pin required", "SIM puk required", "SIM failure":
			v.States = append(v.States, "devices.state.nosim")
		default:
			v.States = append(v.States, "devices.state.nonetwork")
		}
		if d.Up && d.Error != "" && len(v.States) == 0 {
			v.States = append(v.States, "devices.state.error")
		}
		if d.PaperLow && !d.PaperOut {
			v.States = append(v.States, "devices.state.paperlow")
		}
		if len(v.States) == 0 {
			v.States = append(v.States, "devices.state.ok")
		}
		out = append(out, v)
	}
	return out
}

// deviceBannerOf sorts the views deviceViews built into alerts and notices.
func deviceBannerOf(views []deviceView) deviceBanner {
	var b deviceBanner
	for _, v := range views {
		switch {
		case !v.Healthy:
			b.Alerts = append(b.Alerts, v)
		case v.Attention:
			b.Notices = append(b.Notices, v)
		}
	}
	return b
}

type devicesPage struct {
	SiteName     string
	Devices      []deviceView
	DeviceBanner deviceBanner
	Printer      bool // a ticket printer is configured here
}

// deskDevices lists the site's devices with their health, since when, and
// what they last complained about.
func (s *Server) deskDevices(w http.ResponseWriter, r *http.Request) {
	p := devicesPage{Printer: s.Printer != nil}
	s.Store.View(func(st *queue.State) {
		p.SiteName, p.Devices = st.Site.Name, deviceViews(st)
		p.DeviceBanner = deviceBannerOf(p.Devices)
	})
	lang := ui.Lang(w, r)
	p.DeviceBanner.Clock = s.clockViewOf(lang)
	w.Header().Set("Cache-Control", "no-store")
	s.Renderer.Render(w, http.StatusOK, "desk_devices", ui.Page{Lang: lang, Title: ui.Translate(lang, "devices.title") + " · " + p.SiteName,
		Surface: "desk", Path: r.URL.Path, Data: p})
}
