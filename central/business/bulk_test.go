package business

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/vehicle"
)

// TestParseCSVExample: the documented example file reads into
// applications field by field; every column of it is a known JSON path.
func TestParseCSVExample(t *testing.T) {
	f, err := os.Open("../../docs/business-upload.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := ParseCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Err != nil || rows[0].Row.Key != "AUF-2026-0001" || rows[0].Row.SEPA == nil || rows[0].Row.SEPA.IBAN != "DE89370400440532013000" || rows[0].Row.Vehicle.FIN != "WVWZZZ1JZXW000001" {
		t.Fatalf("%+v", rows)
	}
	if r := rows[1].Row; r.SEPA != nil || r.Process != "ausserbetriebsetzung" || r.Vehicle.PlateSeal == "" {
		t.Errorf("second row %+v", r)
	}
	// A company copies the example: every row of it is a valid application.
	for _, r := range rows {
		if fields := vehicle.Validate(r.Row.Application, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), nil); len(fields) > 0 {
			t.Errorf("row %s of the example is refused: %v", r.Row.Key, fields)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for name, c := range map[string]struct {
		contentType, body, want string
	}{
		"not an array":   {"application/json", `{"process":"x"}`, "JSON-Array"},
		"empty":          {"application/json", `[]`, "Keine Anträge"},
		"trailing":       {"application/json", `[{}] []`, "Nach dem Array"},
		"unknown column": {"text/csv", "row_key,colour\nx,red\n", `"colour"`},
		"no header":      {"text/csv", "", "Kopfzeile"},
		"too many":       {"text/csv", "row_key\n" + strings.Repeat("x\n", MaxRows+1), "Höchstens 500"},
	} {
		_, err := Parse(c.contentType, strings.NewReader(c.body))
		if veedel.ErrorCode(err) != veedel.EINVALID || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A row that is not an application fails alone.
	rows, err := ParseJSON(strings.NewReader(`[{"process":"umschreibung"},{"colour":"red"},{"process":3}]`))
	if err != nil || len(rows) != 3 || rows[0].Err != nil || rows[1].Err == nil || rows[2].Err == nil {
		t.Errorf("%+v %v", rows, err)
	}
	// A line with too few fields fails alone.
	rows, err = ParseCSV(strings.NewReader("row_key;process\na;umschreibung\nb\n"))
	if err != nil || len(rows) != 2 || rows[0].Err != nil || rows[1].Err == nil {
		t.Errorf("%+v %v", rows, err)
	}
}

// TestUnsafeCharacters: a bidi override in a row is refused by its JSON
// path, as the single API refuses it.
func TestUnsafeCharacters(t *testing.T) {
	var r Row
	r.Owner.FamilyName = "Schmitz\u202e"
	err := checkRow(r)
	if f := veedel.ErrorFields(err); f["owner.family_name"] == "" {
		t.Errorf("%v %v", err, f)
	}
	r.Owner.FamilyName, r.Key = "Schmitz", "a\x00"
	if f := veedel.ErrorFields(checkRow(r)); f["row_key"] == "" {
		t.Errorf("row key: %v", f)
	}
	r.Key = "AUF-1"
	if err := checkRow(r); err != nil {
		t.Error(err)
	}
}
