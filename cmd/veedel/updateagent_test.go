package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// veedel update-agent: bad input exits 2 with one line saying what.
func TestUpdateAgentUsageErrors(t *testing.T) {
	dir := t.TempDir()
	notKey := filepath.Join(dir, "city-release.pub")
	os.WriteFile(notKey, []byte("not a key"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"update-agent", "-central", "http://c", "-release-pub", notKey}, "-site, -central and -release-pub (or -release-keys) are required"},
		{[]string{"update-agent", "-site", "kalk", "-central", "http://c"}, "-release-pub (or -release-keys) are required"},
		{[]string{"update-agent", "-site", "kalk", "-central", "http://c", "-release-pub", notKey}, "not a PEM public key"},
		{[]string{"update-agent", "-site", "kalk", "-central", "http://c", "-release-pub", filepath.Join(dir, "missing.pub")}, "no such file"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, &stdout, &stderr)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// The site's closing hours from the catalogue: Kalk is open on Tuesday
// 8–16 (Cologne time); an hour before opening counts as open already.
func TestSiteClosed(t *testing.T) {
	cologne, _ := time.LoadLocation("Europe/Berlin")
	closed := siteClosed("kalk")
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 12, 8, 3, 0, 0, 0, cologne), true},   // Tuesday night
		{time.Date(2026, 12, 8, 7, 30, 0, 0, cologne), false}, // opens within the hour
		{time.Date(2026, 12, 8, 11, 0, 0, 0, cologne), false}, // open
		{time.Date(2026, 12, 8, 16, 30, 0, 0, cologne), true}, // closed since 16:00
		{time.Date(2026, 12, 6, 14, 0, 0, 0, cologne), true},  // Sunday
	} {
		if got := closed(c.at); got != c.want {
			t.Errorf("closed at %s = %v, want %v", c.at.Format("Mon 15:04"), got, c.want)
		}
	}
	if other := siteClosed("not-in-the-catalogue"); other(time.Date(2026, 12, 8, 11, 0, 0, 0, cologne)) || !other(time.Date(2026, 12, 8, 3, 0, 0, 0, cologne)) {
		t.Error("a site without known hours should switch only at night")
	}
}
