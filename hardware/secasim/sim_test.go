package secasim_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/hardware/secasim"
)

// The wire as the driver sees it: wobbling answers, then the stable one;
// the height; the serial number; ES for what the scale does not know.
func TestSession(t *testing.T) {
	t.Parallel()
	sim, err := secasim.Start(secasim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	f, err := os.OpenFile(sim.Path(), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(f)
	ask := func(cmd string) string {
		t.Helper()
		f.WriteString(cmd + "\r\n")
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		return strings.TrimRight(l, "\r\n")
	}
	if got := ask("SI"); got != "S S       0.00 kg" {
		t.Errorf("empty scale: %q", got)
	}
	sim.SetPerson(secasim.Person{WeightKG: 21.4, HeightCM: 118.5, Unstable: 2})
	for i := range 2 {
		if got := ask("SI"); !strings.HasPrefix(got, "S D ") || strings.HasSuffix(got, " 21.40 kg") {
			t.Errorf("answer %d while settling: %q, want S D with another weight", i+1, got)
		}
	}
	if got := ask("SI"); got != "S S      21.40 kg" {
		t.Errorf("settled: %q", got)
	}
	if got := ask("HI"); got != "H S      118.5 cm" {
		t.Errorf("height: %q", got)
	}
	if got := ask("I4"); got != `I4 A "5851700001"` {
		t.Errorf("serial: %q", got)
	}
	if got := ask("XYZ"); got != "ES" {
		t.Errorf("unknown command: %q", got)
	}
	sim.SetPerson(secasim.Person{WeightKG: 400})
	if got := ask("SI"); got != "S +" {
		t.Errorf("overload: %q", got)
	}
	if n := sim.State().Readings; n != 1 {
		t.Errorf("readings = %d, want 1", n)
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	sim, err := secasim.Start(secasim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	mux := http.NewServeMux()
	mux.Handle("/sim/scale/", http.StripPrefix("/sim/scale", sim.Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values, site string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	res := post("/sim/scale/person", url.Values{"weight_kg": {"22,5"}, "height_cm": {"119"}, "unstable": {"3"}}, "same-origin")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "./" {
		t.Errorf("person: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if p := sim.State().Person; p.WeightKG != 22.5 || p.HeightCM != 119 || p.Unstable != 3 {
		t.Errorf("person = %+v", p)
	}
	for _, bad := range []url.Values{{"weight_kg": {"x"}}, {"weight_kg": {"-1"}}, {"weight_kg": {"20"}, "height_cm": {"900"}}, {"weight_kg": {"20"}, "unstable": {"1.5"}}} {
		if res := post("/sim/scale/person", bad, ""); res.StatusCode != http.StatusBadRequest {
			t.Errorf("person %v: %d, want 400", bad, res.StatusCode)
		}
	}
	if res := post("/sim/scale/fault", url.Values{"fault": {"pull"}}, "cross-site"); res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site fault: %d, want 403", res.StatusCode)
	}
	if res := post("/sim/scale/fault", url.Values{"fault": {"melt"}}, ""); res.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown fault: %d, want 400", res.StatusCode)
	}
	post("/sim/scale/fault", url.Values{"fault": {"silent"}}, "")
	if f := sim.State().Fault; f != secasim.Silent {
		t.Errorf("fault = %q", f)
	}
	res, err = http.Get(srv.URL + "/sim/scale/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b := new(strings.Builder)
	bufio.NewReader(res.Body).WriteTo(b)
	for _, want := range []string{"22.50 kg, 119.0 cm", "silent", sim.Path()} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
