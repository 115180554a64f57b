package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// TestCentralCompanyAdd: while central runs, the command creates a
// company and its admin, who logs in at central's /unternehmen with the
// password and is asked for the second factor; bad input exits 2 with
// one line.
func TestCentralCompanyAdd(t *testing.T) {
	dir := t.TempDir()
	add := func(stdin string, args ...string) (int, string) {
		var stdout, stderr bytes.Buffer
		err := runCentralCompany(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
		switch {
		case err == nil:
			return 0, stdout.String()
		case errors.Is(err, errUsage):
			return 2, err.Error()
		}
		return 1, err.Error()
	}
	_, cent := startCentral(t, dir, freeAddr(t))
	if code, out := add("Domplatte am Rhein\n", "add", "-id", "rheinflotte", "-name", "Rheinflotte GmbH", "-admin", "anna", "-data", dir); code != 0 || !strings.Contains(out, "rheinflotte") {
		t.Fatalf("add: %d %q", code, out)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(cent.URL+"/unternehmen/anmelden", url.Values{"company": {"rheinflotte"}, "user": {"anna"}, "password": {"Domplatte am Rhein"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/unternehmen/code" || !strings.Contains(string(body), `id="totp-qr"`) {
		t.Errorf("after the password: %s %d", resp.Request.URL.Path, resp.StatusCode)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "-id", "rheinflotte", "-name", "x", "-admin", "bert", "-data", dir}, "exists already"},
		{[]string{"add", "-id", "Rhein Flotte", "-name", "x", "-admin", "bert", "-data", dir}, "id: 2–40"},
		{[]string{"add", "-id", "autohaus", "-name", "x", "-data", dir}, "required"},
		{[]string{"remove"}, "want \"add\""},
	} {
		if code, out := add("Domplatte am Rhein\n", c.args...); code != 2 || !strings.Contains(out, c.want) || strings.Count(out, "\n") > 0 {
			t.Errorf("%v: %d %q", c.args, code, out)
		}
	}
	if code, out := add("kurz\n", "add", "-id", "autohaus", "-name", "Autohaus", "-admin", "bert", "-data", dir); code != 2 {
		t.Errorf("short password: %d %q", code, out)
	}
}
