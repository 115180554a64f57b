package printersim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/veedel/veedel/hardware/printersim"
)

func TestHandler(t *testing.T) {
	s := mustStart(t)
	// One connection, so that the order is fixed.
	send(t, s, append(sample(t).Bytes(), new(job).init().line("<b>&</b>").cut().Bytes()...))
	ts := waitTickets(t, s, 2)
	s.SetPaper(printersim.PaperLow)

	mux := http.NewServeMux()
	mux.Handle("/sim/printer/", http.StripPrefix("/sim/printer", s.Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	get := func(t *testing.T, path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}

	t.Run("Index", func(t *testing.T) {
		resp, body := get(t, "/sim/printer/")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		page := string(body)
		for _, want := range []string{
			`<html lang="de">`,
			"Gedruckte Tickets / Printed tickets",
			"fast leer / low",
			`<img src="2.png" alt="&lt;b&gt;&amp;&lt;/b&gt;">`,
			`alt="Kundenzentrum Kalk; Ummeldung / Wohnsitz ändern;`,
			"QR-Code: https://veedel.koeln/t/kalk/A042",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if strings.Index(page, `src="2.png"`) > strings.Index(page, `src="1.png"`) {
			t.Error("tickets not newest first")
		}
	})
	t.Run("PNG", func(t *testing.T) {
		resp, body := get(t, "/sim/printer/1.png")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !bytes.Equal(body, ts[0].PNG) {
			t.Error("body is not ticket 1's PNG")
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		for _, p := range []string{"/sim/printer/3.png", "/sim/printer/x.png", "/sim/printer/other"} {
			if resp, _ := get(t, p); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", p, resp.StatusCode)
			}
		}
	})
	t.Run("StatusJSON", func(t *testing.T) {
		resp, body := get(t, "/sim/printer/status.json")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var got struct {
			Paper    string `json:"paper"`
			Offline  bool   `json:"offline"`
			CutAfter int    `json:"cutAfter"`
			Printed  int    `json:"printed"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if got.Paper != "low" || got.Offline || got.CutAfter != -1 || got.Printed != 2 {
			t.Errorf("status.json = %s", body)
		}
	})
}

func TestHandlerRedirect(t *testing.T) {
	s := mustStart(t)
	h := http.StripPrefix("/sim/printer", s.Handler())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/sim/printer", nil))
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "printer/" {
		t.Errorf("status %d, Location %q, want 301 to printer/", rec.Code, rec.Header().Get("Location"))
	}
}
