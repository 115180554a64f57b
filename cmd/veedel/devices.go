package main

import (
	"context"
	"strings"

	"github.com/veedel/veedel/appliance/devices"
	"github.com/veedel/veedel/hardware/modem"
	"github.com/veedel/veedel/hardware/printer"
)

// configureDevices sets up the appliance's printer and modem from their
// addresses, and which sender the SMS outbox uses: sender is "log",
// "gateway", "modem" or "" (gateway when one is configured, else log).
// It returns the sender chosen (the gateway's HTTPSender is made by the
// caller) and the modem opened, nil without one: the caller closes it
// when the appliance stops.
func configureDevices(cfg *applianceConfig, printerAddr, modemAddr, sender string, gateway bool) (string, *modem.Modem, error) {
	if printerAddr != "" {
		p, err := printer.Open(printerAddr, printer.Options{})
		if err != nil {
			return "", nil, usageErrorf("appliance: -printer: %v", err)
		}
		cfg.Printer, cfg.PrinterAddress = p, p.Address()
	}
	var m *modem.Modem
	if modemAddr != "" {
		var err error
		if m, err = modem.Open(modemAddr, modem.Options{}); err != nil {
			return "", nil, usageErrorf("appliance: -modem: %v", err)
		}
		cfg.Modem, cfg.ModemAddress = modemHealth(m), devices.PublicAddress(modemAddr)
	}
	switch sender {
	case "":
		sender = "log"
		if gateway {
			sender = "gateway"
		}
	case "log":
	case "gateway":
		if !gateway {
			return "", m, usageErrorf("appliance: -sms-sender gateway needs -sms-gateway URL")
		}
	case "modem":
		if m == nil {
			return "", m, usageErrorf("appliance: -sms-sender modem needs -modem serial:///dev/...")
		}
		cfg.SMSSender = m
	default:
		return "", m, usageErrorf("appliance: -sms-sender %q: want log, gateway or modem", sender)
	}
	return sender, m, nil
}

// modemHealth turns the modem driver's health into the monitor's words.
func modemHealth(m *modem.Modem) devices.ModemFunc {
	return func(ctx context.Context) (devices.ModemHealth, error) {
		// The report's error is the current failure only (the site's
		// state keeps the last one for staff).
		h, err := m.Health(ctx)
		out := devices.ModemHealth{Up: h.Up, SignalDBM: h.SignalDBM}
		if !h.Up {
			return out, err
		}
		switch h.SIM {
		case modem.SIMReady, modem.SIMUnknown:
			out.Network = h.Network.String()
		case modem.SIMMissing:
			out.Network = "no SIM"
		default:
			out.Network = "SIM " + string(h.SIM)
		}
		if err != nil {
			out.LastError = strings.TrimSpace(err.Error())
		}
		return out, nil
	}
}
