package modemsim_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/hardware/modem"
	"github.com/veedel/veedel/hardware/modemsim"
)

// The demo's page shows what the modem sent, newest first, with the number
// masked; the text arrives intact through the real driver.
func TestHandler(t *testing.T) {
	t.Parallel()
	sim, err := modemsim.Start(modemsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	m, err := modem.Open("serial://"+sim.Path(), modem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, text := range []string{"A042 bitte zu Platz 3", "Noch ca. 10 Minuten – Größe €"} {
		if err := m.Send(ctx, "+4915123456789", text); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(http.StripPrefix("/sim/modem", sim.Handler()))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/sim/modem/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET = %d", resp.StatusCode)
	}
	newer, older := strings.Index(page, "Noch ca. 10 Minuten – Größe €"), strings.Index(page, "A042 bitte zu Platz 3")
	if newer < 0 || older < 0 || newer > older {
		t.Errorf("page lists the texts at %d and %d, want both, newest first", newer, older)
	}
	if strings.Contains(page, "123456789") || !strings.Contains(page, "UCS-2") || !strings.Contains(page, "eingebucht") {
		t.Errorf("page shows the whole number, or lacks the encoding or the network state:\n%s", page)
	}
	post, err := http.Post(srv.URL+"/sim/modem/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d, want 405", post.StatusCode)
	}
}
