package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/server"
	"github.com/veedel/veedel/hardware/seca"
)

type stubScale struct {
	rd  seca.Reading
	err error
}

func (s *stubScale) Read(context.Context) (seca.Reading, error) { return s.rd, s.err }

// The assistant's "Von der Waage übernehmen": the scale's stable reading
// fills the measurement form unsaved; saving it records the device. A
// child who does not stand still gets the reason at the form, nothing
// filled in.
func TestExamStationTakesFromScale(t *testing.T) {
	scale := &stubScale{rd: seca.Reading{WeightKG: 21.5, HeightCM: 118.4, At: time.Now()}}
	e := newExamSite(t, func(s *server.Server) { s.Scale = scale })
	_, body := e.do(t, "assistenz", "GET", "/api/v1/exams", nil)
	var day struct{ Day string }
	json.Unmarshal(body, &day)
	code, body := e.do(t, "assistenz", "POST", "/api/v1/exams", map[string]any{"family_name": "Quaxelbrink", "given_names": "Philippa", "birth_date": "2020-11-03",
		"sex": "w", "school_district": "Innenstadt", "year": 2027, "day": day.Day, "slot": "09:30"})
	if code != 201 {
		t.Fatalf("register: %d %s", code, body)
	}
	var created struct{ ID string }
	json.Unmarshal(body, &created)
	base := e.url + "/desk/exams/" + created.ID
	asst := e.browserAs(t, "assistenz")

	_, page, _ := fetch(t, asst, "GET", base, nil)
	if !strings.Contains(page, `id="from-scale"`) {
		t.Fatal("the station form offers no scale button although the site has a scale")
	}
	code, page, _ = fetch(t, asst, "GET", base+"?scale=1", nil)
	for _, want := range []string{`name="height_cm" value="118.4"`, `name="weight_kg" value="21.5"`, `name="device" value="seca"`, "bitte prüfen und speichern"} {
		if code != 200 || !strings.Contains(page, want) {
			t.Fatalf("after the scale button: %d, page lacks %q", code, want)
		}
	}
	if code, _, _ := fetch(t, asst, "POST", base+"/record", url.Values{"section": {"measurement"}, "height_cm": {"118.4"}, "weight_kg": {"21.5"}, "device": {"seca"}}); code != http.StatusSeeOther {
		t.Fatalf("save: %d", code)
	}
	_, body = e.do(t, "assistenz", "GET", "/api/v1/exams/"+created.ID, nil)
	if !strings.Contains(string(body), `"device":"seca"`) {
		t.Errorf("the saved measurement does not name the scale: %s", body)
	}

	scale.err = &seca.Error{Op: "weight", Err: seca.ErrUnstable}
	code, page, _ = fetch(t, asst, "GET", base+"?scale=1", nil)
	if code != 200 || !strings.Contains(page, "ruhig stehen") || strings.Contains(page, `name="device" value="seca"`) {
		t.Errorf("a child who moves: %d, want the reason at the form and nothing taken", code)
	}
}
