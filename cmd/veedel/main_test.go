package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("VEEDEL_PAYMENT_SECRET", "") // PaymentProviderWithoutSecret
	paleBrand := filepath.Join(dir, "pale.json")
	if err := os.WriteFile(paleBrand, []byte(`{"colors": {"brand": "#ff9999"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string // in stderr, on the last line for usage errors
		wantOut  string
	}{
		{"NoCommand", nil, 2, "no command given", ""},
		{"Help", []string{"-help"}, 0, "", "Usage: veedel"},
		{"UnknownCommand", []string{"frobnicate"}, 2, `unknown command "frobnicate"`, ""},
		{"Version", []string{"version"}, 0, "", "veedel "},
		{"ApplianceHelp", []string{"appliance", "-help"}, 0, "Usage: veedel appliance", ""},
		{"CentralHelp", []string{"central", "--help"}, 0, "Usage: veedel central", ""},
		{"DemoHelp", []string{"demo", "-h"}, 0, "Usage: veedel demo", ""},
		{"BadFlag", []string{"central", "-nope"}, 2, "central: flag provided but not defined: -nope", ""},
		{"BadApplianceFlag", []string{"appliance", "-site"}, 2, "appliance: flag needs an argument: -site", ""},
		{"BadAdduserFlag", []string{"central", "adduser", "-nope"}, 2, "central adduser: flag provided but not defined: -nope", ""},
		{"BadEnrollFlag", []string{"central", "enroll", "-ttl", "soon"}, 2, "central enroll: invalid value", ""},
		{"BadRevokeFlag", []string{"central", "revoke", "-x"}, 2, "central revoke: flag provided but not defined: -x", ""},
		{"ApplianceWithoutSite", []string{"appliance", "-data", dir}, 2, "appliance: -site is required", ""},
		{"RestoreHelp", []string{"appliance", "restore", "-help"}, 0, "Usage: veedel appliance restore", ""},
		{"RestoreWithoutSite", []string{"appliance", "restore", "-data", dir}, 2, "appliance restore: -site is required", ""},
		{"RestoreWithoutCentral", []string{"appliance", "restore", "-site", "kalk", "-data", dir}, 2, "appliance restore: -central is required", ""},
		{"RestoreBadFlag", []string{"appliance", "restore", "-restore"}, 2, "appliance restore: flag provided but not defined: -restore", ""},
		{"UnknownSite", []string{"appliance", "-site", "atlantis", "-data", dir}, 2, `appliance: unknown site "atlantis"`, ""},
		{"StrayArgument", []string{"demo", "now"}, 2, `unexpected argument "now"`, ""},
		{"BadPort", []string{"demo", "-port", "70000", "-data", dir}, 2, "-port 70000 out of range", ""},
		{"BusyPort", []string{"central", "-listen", "256.0.0.1:1", "-data", filepath.Join(dir, "c")}, 2, "cannot listen on 256.0.0.1:1", ""},
		{"BadPrinter", []string{"appliance", "-site", "kalk", "-data", dir, "-printer", "lpt1"}, 2, "appliance: -printer: printer address \"lpt1\": scheme must be tcp, usb or serial", ""},
		{"PrinterWithPassword", []string{"appliance", "-site", "kalk", "-data", dir, "-printer", "tcp://u:secret@192.0.2.1"}, 2, "user info is not allowed", ""},
		{"BadModem", []string{"appliance", "-site", "kalk", "-data", dir, "-modem", "tcp://192.0.2.1"}, 2, "appliance: -modem: modem: bad address", ""},
		{"BadSMSSender", []string{"appliance", "-site", "kalk", "-data", dir, "-sms-sender", "pigeon"}, 2, `-sms-sender "pigeon": want log, gateway or modem`, ""},
		{"ModemSenderWithoutModem", []string{"appliance", "-site", "kalk", "-data", dir, "-sms-sender", "modem"}, 2, "-sms-sender modem needs -modem", ""},
		{"GatewaySenderWithoutGateway", []string{"appliance", "-site", "kalk", "-data", dir, "-sms-sender", "gateway", "-sms-gateway", ""}, 2, "-sms-sender gateway needs -sms-gateway", ""},
		{"BadDeviceInterval", []string{"appliance", "-site", "kalk", "-data", dir, "-device-interval", "0s"}, 2, "-device-interval must be positive", ""},
		{"BadKioskIdle", []string{"appliance", "-site", "kalk", "-data", dir, "-kiosk-idle", "500ms"}, 2, "-kiosk-idle must be at least 1s", ""},
		{"BadPublicURL", []string{"central", "-public-url", "portal.example", "-data", filepath.Join(dir, "c")}, 2, `-public-url "portal.example" is not an http(s) address`, ""},
		{"BadVehicleRoutes", []string{"central", "-vehicle-routes", "51=Kalk", "-data", filepath.Join(dir, "c")}, 2, `-vehicle-routes: "51=Kalk": "Kalk" is not a site id`, ""},
		{"CentralHelpWebhooks", []string{"central", "-h"}, 0, "-webhook-allow-private", ""},
		{"BadPaymentProvider", []string{"central", "-payment-provider", "pay.example", "-data", filepath.Join(dir, "c")}, 2, `-payment-provider "pay.example" is not an http(s) address`, ""},
		{"PaymentProviderWithoutSecret", []string{"central", "-payment-provider", "https://pay.example/api", "-data", filepath.Join(dir, "c")}, 2, "-payment-provider needs the secret shared with the provider in VEEDEL_PAYMENT_SECRET", ""},
		{"MissingBrand", []string{"central", "-brand", filepath.Join(dir, "nope.json"), "-data", filepath.Join(dir, "c")}, 2, "-brand: brand file: open", ""},
		{"PaleBrand", []string{"appliance", "-site", "kalk", "-data", dir, "-brand", paleBrand}, 2, "colors.brand: #ff9999 has a contrast of", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr: %s)", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.wantErr)
			}
			// A usage error is one line, never the whole usage text.
			if tt.wantCode == 2 {
				if lines := strings.Split(strings.TrimSpace(stderr.String()), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "veedel: ") {
					t.Errorf("stderr should be one line starting with \"veedel: \", got %d lines:\n%s", len(lines), stderr.String())
				}
				// The line says what is wrong, not that it is a usage error.
				if strings.HasPrefix(stderr.String(), "veedel: usage:") {
					t.Errorf("stderr starts with a \"usage:\" label: %s", stderr.String())
				}
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("stdout %q does not contain %q", stdout.String(), tt.wantOut)
			}
		})
	}
}
