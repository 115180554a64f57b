package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/veedel/veedel/appliance/devices"
	"github.com/veedel/veedel/appliance/server"
	"github.com/veedel/veedel/hardware/seca"
	"github.com/veedel/veedel/hardware/secasim"
)

// configureScale opens the school-health site's scale at addr
// (serial:///dev/ttyUSB0?baud=9600; empty: none). The port is opened on
// first use, so only a bad address fails here.
func configureScale(cfg *applianceConfig, addr string) error {
	if addr == "" {
		return nil
	}
	sc, err := seca.Open(addr, seca.Options{})
	if err != nil {
		return usageErrorf("appliance: -scale: %v", err)
	}
	cfg.Scale = sc
	return nil
}

// wireScale gives the server and the device monitor the configured scale:
// the exam staff's readings go through the server, the monitor watches
// its health and hears about the readings that failed at the device.
func wireScale(sc *seca.Scale, srv *server.Server, monitor *devices.Monitor) {
	if sc == nil {
		return // a nil *seca.Scale must not become a non-nil interface
	}
	srv.Scale, srv.AfterReading = sc, monitor.ReadingDone
	monitor.Scale, monitor.ScaleAddress = scaleHealth(sc), sc.Address()
}

// scaleHealth turns the driver's health into the monitor's words.
func scaleHealth(sc *seca.Scale) devices.ScaleFunc {
	return func(ctx context.Context) (devices.ScaleHealth, error) {
		h, err := sc.Health(ctx)
		return devices.ScaleHealth{Up: h.Up}, err
	}
}

// demoScale gives the demo's school-health site a simulated seca scale on
// a pseudo-terminal (a link to it in dataDir, as udev's /dev/serial/by-id
// names, so that the cable pulled on the simulator's page and plugged back
// leads to the same address), with its control page at /sim/scale/. Where
// no pseudo-terminal can be had, the site has no scale and the demo says
// so in its log.
func demoScale(cfg *applianceConfig, dataDir string, sims *[]*secasim.Sim) error {
	// The driver takes absolute device paths only, and make load starts
	// the demo with -data var/load.
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	sim, err := secasim.Start(secasim.Options{Link: filepath.Join(dir, cfg.Site+"-scale")})
	if err != nil {
		cfg.Logger.Warn("demo: no simulated scale (exam staff type height and weight)", "err", err)
		return nil
	}
	*sims = append(*sims, sim)
	sim.SetPerson(secasim.Person{WeightKG: 21.4, HeightCM: 118.5, Unstable: 4})
	if err := configureScale(cfg, "serial://"+sim.Path()); err != nil {
		return err
	}
	if cfg.Mount == nil {
		cfg.Mount = map[string]http.Handler{}
	}
	cfg.Mount[simScalePath] = http.StripPrefix(strings.TrimSuffix(simScalePath, "/"), sim.Handler())
	return nil
}

// simScalePath is where the demo's school-health site shows its simulated
// scale's control page.
const simScalePath = "/sim/scale/"
