package statcsv_test

import (
	"bytes"
	"encoding/csv"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/internal/statcsv"
)

func TestWrite(t *testing.T) {
	day := queue.DayStats{Day: "2025-01-13",
		Hours: []queue.StatFigures{{Hour: 8, Arrivals: 3, Waited: 3, WaitMean: 32, WaitP90: 35, Served: 2, ServiceMean: 10,
			ServiceP90: 12, NoShows: 1, Estimated: 3, EstimateMAE: 76.0 / 3, OverP90: 3}},
		Total: queue.StatFigures{Hour: -1, Arrivals: 5, Waited: 4, WaitMean: 27.75, WaitP90: 35, Served: 3, ServiceMean: 23.0 / 3,
			ServiceP90: 12, NoShows: 1, Estimated: 4, EstimateMAE: 22.75, OverP90: 4}}
	var buf bytes.Buffer
	// A site name with the separator, a quote and an umlaut must survive.
	if err := statcsv.Write(&buf, []statcsv.Site{{Name: `Köln; "Kalk"`, DayStats: day}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\xEF\xBB\xBF") {
		t.Fatalf("no UTF-8 BOM: %q", out[:min(len(out), 10)])
	}
	lines := strings.Split(strings.TrimPrefix(out, statcsv.BOM), "\r\n")
	want := []string{
		"Standort;Tag;Stunde;Ankünfte;Aufgerufen;Wartezeit Mittel (Min.);Wartezeit P90 (Min.);Bedient;Bearbeitungszeit Mittel (Min.);Bearbeitungszeit P90 (Min.);Nicht erschienen;Mit Schätzung;Schätzfehler Mittel (Min.);Über P90",
		`"Köln; ""Kalk""";2025-01-13;08:00–09:00;3;3;32,0;35,0;2;10,0;12,0;1;3;25,3;3`,
		`"Köln; ""Kalk""";2025-01-13;Gesamt;5;4;27,8;35,0;3;7,7;12,0;1;4;22,8;4`,
		"",
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, lines[i], want[i])
		}
	}
	// A CSV reader with ';' reads it back field for field.
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, statcsv.BOM)))
	r.Comma = ';'
	records, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 3 || records[1][0] != `Köln; "Kalk"` || len(records[1]) != len(statcsv.Header) {
		t.Errorf("read back: %q", records)
	}
}

func TestServe(t *testing.T) {
	w := httptest.NewRecorder()
	if err := statcsv.Serve(w, "veedel-statistik-kalk-2025-01-13.csv", nil); err != nil {
		t.Fatal(err)
	}
	if ct := w.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := w.Header().Get("Content-Disposition"); cd != `attachment; filename=veedel-statistik-kalk-2025-01-13.csv` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	if body := w.Body.String(); !strings.HasPrefix(body, statcsv.BOM+"Standort;") {
		t.Errorf("body = %q", body)
	}
}
