package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/veedel/veedel/central/business"
	"github.com/veedel/veedel/internal/login"
)

// dashboardClient logs a clerk of rheinflotte in (password and TOTP) and
// returns a client with the session.
func (b *bizEnv) dashboardClient(t *testing.T) *http.Client {
	t.Helper()
	hash, _ := login.HashPassword("ein langer Satz aus Wörtern")
	if err := b.Biz.PutUser(context.Background(), "rheinflotte", "jana", business.RoleClerk, hash, b.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	post := func(path string, v url.Values) string {
		resp, err := c.PostForm(b.BizURL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	body := post("/unternehmen/anmelden", url.Values{"company": {"rheinflotte"}, "user": {"jana"}, "password": {"ein langer Satz aus Wörtern"}})
	m := regexp.MustCompile(`id="totp-secret" dir="ltr">([A-Z2-7 ]+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no secret shown")
	}
	secret, err := base32NoPad(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	post("/unternehmen/code", url.Values{"code": {business.TOTPCode(secret, business.TOTPStep(b.Clock.Now()))}})
	return c
}

// TestBusinessDashboardPhone: the dashboard's CSV hint names the columns
// as the example file does (semicolons) and says that commas work too;
// the applications table names every cell by its column (data-label: the
// labels a phone shows, with empty alternative text for screen readers,
// which read the table's headers), state and plate right after the row key.
func TestBusinessDashboardPhone(t *testing.T) {
	b := newBizEnv(t, manyLimit)
	if status, _, body := b.upload(t, b.Key, "application/json", bulkRows(1)); status != http.StatusMultiStatus {
		t.Fatalf("upload: %d %s", status, body)
	}
	c := b.dashboardClient(t)
	resp, err := c.Get(b.BizURL + "/unternehmen")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	body := string(data)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/unternehmen" {
		t.Fatalf("dashboard: %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}
	contains(t, "CSV hint", body, strings.Join(business.CSVColumns, ";"), `aria-describedby="file-hint file-format"`,
		"Semikolon (;)", "Komma (,)", "UTF-8")
	if strings.Contains(body, "row_key,process") {
		t.Error("the hint still joins the columns with commas")
	}
	// The file the docs give as the example parses with the hint's separator.
	if _, err := business.ParseCSV(strings.NewReader(strings.Join(business.CSVColumns, ";") + "\nAUF-1;umschreibung\n")); err != nil {
		t.Errorf("the hint's header does not parse: %v", err)
	}
	contains(t, "apps table", body, `<table class="data stack" role="table" id="apps">`,
		`class="app-status" data-label="Stand"`, `class="app-plate" data-label="Kennzeichen"`)
	i := strings.Index(body, `<tr role="row" data-app=`)
	if i < 0 {
		t.Fatal("no application row")
	}
	row, _, _ := strings.Cut(body[i:], "</tr>")
	key, state, plate, process := strings.Index(row, "order-1"), strings.Index(row, `class="app-status"`), strings.Index(row, `class="app-plate"`), strings.Index(row, "Umschreibung")
	if key < 0 || state < key || plate < state || process < plate {
		t.Errorf("cell order (key %d, state %d, plate %d, process %d) in %s", key, state, plate, process, row)
	}
}
