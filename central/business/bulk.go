package business

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/vehicle"
)

// Bulk submission: up to MaxRows applications per request, as a JSON
// array of rows or as CSV (CSVColumns), each row validated and submitted
// on its own; the answer has a result per row.

// MaxRows is the most rows one request may carry.
const MaxRows = 500

// MaxBody bounds a bulk request's body.
const MaxBody = 4 << 20

// Row is one application of a bulk upload: the Application's JSON with
// an optional row_key. A row key (at most 100 characters, chosen by the
// client: its own order number, say) makes the row idempotent: a row
// whose key the company used before is not submitted again; its result
// names the application submitted then ("replayed": true).
type Row struct {
	Key string `json:"row_key,omitempty"`
	vehicle.Application
}

// RowResult is one row's outcome.
type RowResult struct {
	Row       int               `json:"row"` // 1 for the first application (CSV: the line after the header)
	Key       string            `json:"row_key,omitempty"`
	Status    int               `json:"status"` // 201 submitted, 200 replayed, 422 invalid, 409 in doubt, 503 try again
	ID        string            `json:"id,omitempty"`
	Token     string            `json:"token,omitempty"` // the applicant's status token: in this answer only
	StatusURL string            `json:"status_url,omitempty"`
	Replayed  bool              `json:"replayed,omitempty"`
	Error     string            `json:"error,omitempty"`
	Fields    map[string]string `json:"fields,omitempty"` // by JSON path, as the single API
}

// Results is the answer to a bulk upload (HTTP 207).
type Results struct {
	Submitted int         `json:"submitted"` // new applications
	Replayed  int         `json:"replayed"`
	Failed    int         `json:"failed"`
	Rows      []RowResult `json:"results"`
}

// Item is one row of a parsed upload, or the problem found reading it.
type Item struct {
	Row Row
	Err error
}

// ParseJSON reads a JSON array of rows. A row that is not an application
// (unknown field, wrong type) fails alone; a body that is not an array, or
// holds more than MaxRows, fails as a whole.
func ParseJSON(r io.Reader) ([]Item, error) {
	var raw []json.RawMessage
	dec := json.NewDecoder(r)
	if err := dec.Decode(&raw); err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "Erwartet wird ein JSON-Array von Anträgen / expected a JSON array of applications: %v", err)
	}
	if dec.More() {
		return nil, veedel.Errorf(veedel.EINVALID, "Nach dem Array folgt noch etwas / data after the array")
	}
	if err := checkCount(len(raw)); err != nil {
		return nil, err
	}
	out := make([]Item, len(raw))
	for i, m := range raw {
		d := json.NewDecoder(bytes.NewReader(m))
		d.DisallowUnknownFields()
		if err := d.Decode(&out[i].Row); err != nil {
			out[i].Err = veedel.Errorf(veedel.EINVALID, "Zeile ist kein Antrag / row is not an application: %v", err)
		}
	}
	return out, nil
}

// ErrTooMany is the error of an upload with more than MaxRows rows.
var ErrTooMany = veedel.Errorf(veedel.EINVALID, "Höchstens %d Anträge je Anfrage: bitte aufteilen / at most %d applications per request: please split the upload", MaxRows, MaxRows)

func checkCount(n int) error {
	if n == 0 {
		return veedel.Errorf(veedel.EINVALID, "Keine Anträge in der Anfrage / no applications in the request")
	}
	if n > MaxRows {
		return ErrTooMany
	}
	return nil
}

// CSVColumns are the CSV upload's columns: the Application's JSON paths
// (docs/business-upload.csv is an example). The header row names them in
// any order; columns left out are empty. Attachments cannot travel in
// CSV: rows that need them go through the JSON API. Fields are separated
// by "," or ";" (as the header shows), UTF-8 with or without BOM.
var CSVColumns = []string{"row_key", "process", "owner.kind", "owner.family_name", "owner.given_names", "owner.birth_date",
	"owner.company_name", "owner.register", "owner.street", "owner.postcode", "owner.city", "owner.email", "owner.phone",
	"vehicle.fin", "vehicle.zb1_number", "vehicle.zb1_code", "vehicle.zb2_number", "vehicle.zb2_code", "vehicle.hu_due",
	"vehicle.current_plate", "vehicle.plate_seal_code", "evb", "sepa.iban", "sepa.holder", "plate.mode", "plate.plate",
	"plate.reservation", "lang"}

// field is where a CSV column goes in a row.
func field(r *Row, col string) *string {
	a := &r.Application
	switch col {
	case "row_key":
		return &r.Key
	case "process":
		return &a.Process
	case "owner.kind":
		return &a.Owner.Kind
	case "owner.family_name":
		return &a.Owner.FamilyName
	case "owner.given_names":
		return &a.Owner.GivenNames
	case "owner.birth_date":
		return &a.Owner.BirthDate
	case "owner.company_name":
		return &a.Owner.CompanyName
	case "owner.register":
		return &a.Owner.Register
	case "owner.street":
		return &a.Owner.Street
	case "owner.postcode":
		return &a.Owner.Postcode
	case "owner.city":
		return &a.Owner.City
	case "owner.email":
		return &a.Owner.Email
	case "owner.phone":
		return &a.Owner.Phone
	case "vehicle.fin":
		return &a.Vehicle.FIN
	case "vehicle.zb1_number":
		return &a.Vehicle.ZB1
	case "vehicle.zb1_code":
		return &a.Vehicle.ZB1Code
	case "vehicle.zb2_number":
		return &a.Vehicle.ZB2
	case "vehicle.zb2_code":
		return &a.Vehicle.ZB2Code
	case "vehicle.hu_due":
		return &a.Vehicle.HUDue
	case "vehicle.current_plate":
		return &a.Vehicle.Plate
	case "vehicle.plate_seal_code":
		return &a.Vehicle.PlateSeal
	case "evb":
		return &a.EVB
	case "sepa.iban", "sepa.holder":
		if a.SEPA == nil {
			a.SEPA = &vehicle.SEPA{}
		}
		if col == "sepa.iban" {
			return &a.SEPA.IBAN
		}
		return &a.SEPA.Holder
	case "plate.mode":
		return &a.Plate.Mode
	case "plate.plate":
		return &a.Plate.Plate
	case "plate.reservation":
		return &a.Plate.Reservation
	case "lang":
		return &a.Lang
	}
	return nil
}

// ParseCSV reads a CSV upload: a header row of CSVColumns, then one
// application per line.
func ParseCSV(r io.Reader) ([]Item, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	first, _, _ := bytes.Cut(data, []byte("\n"))
	cr := csv.NewReader(bytes.NewReader(data))
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "CSV ohne Kopfzeile / CSV without a header row")
	}
	for i, h := range header {
		header[i] = strings.TrimSpace(h)
		if field(&Row{}, header[i]) == nil {
			return nil, veedel.Errorf(veedel.EINVALID, "Unbekannte Spalte %q (Spalten: %s) / unknown column %q", header[i], strings.Join(CSVColumns, ","), header[i])
		}
	}
	var out []Item
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if len(out) == MaxRows {
			return nil, ErrTooMany
		}
		var p Item
		if err != nil {
			p.Err = veedel.Errorf(veedel.EINVALID, "CSV-Zeile unlesbar / unreadable CSV line: %v", err)
		} else if len(rec) != len(header) {
			p.Err = veedel.Errorf(veedel.EINVALID, "Zeile hat %d Felder, die Kopfzeile %d / the line has %d fields, the header %d", len(rec), len(header), len(rec), len(header))
		} else {
			for i, v := range rec {
				*field(&p.Row, header[i]) = strings.TrimSpace(v)
			}
			if s := p.Row.SEPA; s != nil && s.IBAN == "" && s.Holder == "" {
				p.Row.SEPA = nil
			}
		}
		out = append(out, p)
	}
	if err := checkCount(len(out)); err != nil {
		return nil, err
	}
	return out, nil
}

// Parse reads an upload by its Content-Type: text/csv, else JSON.
func Parse(contentType string, r io.Reader) ([]Item, error) {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "text/csv") {
		return ParseCSV(r)
	}
	return ParseJSON(r)
}

// Submitter submits one application for a company: central.Central.
type Submitter interface {
	SubmitVehicleApplication(ctx context.Context, app vehicle.Application, company string) (vehicle.Submitted, error)
}

// StatusPath is the business API's path of one of a company's
// applications.
func StatusPath(id string) string { return "/api/v1/business/vehicle-applications/" + id }

// SubmitAll submits the parsed rows for company one by one and returns
// their results; each row stands alone (one that fails, also for want of
// the database, fails with its own result).
func (s *Store) SubmitAll(ctx context.Context, sub Submitter, company string, rows []Item, now func() time.Time) Results {
	var res Results
	checked := make([]error, len(rows))
	for i, p := range rows {
		checked[i] = precheck(p)
	}
	var carried *Claim // the claim of row i, made with row i-1's record
	for i, p := range rows {
		nextKey := ""
		if i+1 < len(rows) && checked[i+1] == nil {
			nextKey = rows[i+1].Row.Key
		}
		r, next := s.submitRow(ctx, sub, company, i+1, p, checked[i], carried, nextKey, now)
		carried = next
		switch {
		case r.Status == http.StatusCreated:
			res.Submitted++
		case r.Replayed:
			res.Replayed++
		default:
			res.Failed++
		}
		res.Rows = append(res.Rows, r)
	}
	return res
}

// precheck is what a row must pass before anything is claimed for it.
func precheck(p Item) error {
	if p.Err != nil {
		return p.Err
	}
	if err := checkRow(p.Row); err != nil {
		return err
	}
	if len(p.Row.Key) > 100 {
		return veedel.FieldErrors{"row_key": "höchstens 100 Zeichen / at most 100 characters"}.Err("Zeilenschlüssel ungültig / invalid row key")
	}
	return nil
}

// submitRow submits one row: its key claimed (claim, when the previous
// row's record claimed it already), the application submitted, then
// recorded together with the claim of nextKey, which it returns.
func (s *Store) submitRow(ctx context.Context, sub Submitter, company string, n int, p Item, checked error, claim *Claim, nextKey string, now func() time.Time) (RowResult, *Claim) {
	r := RowResult{Row: n, Key: p.Row.Key}
	fail := func(err error) (RowResult, *Claim) {
		r.Status, r.Error, r.Fields = statusOf(err), veedel.ErrorMessage(err), veedel.ErrorFields(err)
		return r, nil
	}
	if checked != nil {
		return fail(checked)
	}
	if r.Key != "" {
		if claim == nil {
			c, err := s.ClaimRow(ctx, company, r.Key, now())
			if err != nil {
				return fail(err)
			}
			claim = &c
		}
		if claim.InDoubt {
			return fail(veedel.Errorf(veedel.ECONFLICT, "Dieser Zeilenschlüssel wurde schon verwendet; ob der Antrag ankam, ist unklar: bitte im Dashboard prüfen / this row key was used before and it is unclear whether the application arrived: please check the dashboard"))
		}
		if claim.AppID != "" {
			r.Status, r.ID, r.StatusURL, r.Replayed = http.StatusOK, claim.AppID, StatusPath(claim.AppID), true
			return r, nil
		}
	}
	got, err := sub.SubmitVehicleApplication(ctx, p.Row.Application, company)
	if err != nil {
		if r.Key != "" {
			if rerr := s.ReleaseRow(ctx, company, r.Key); rerr != nil {
				return fail(rerr)
			}
		}
		return fail(err)
	}
	next, err := s.recordAndClaim(ctx, company, r.Key, got.ID, nextKey, now())
	if err != nil {
		return fail(fmt.Errorf("business: record %s: %w", got.ID, err))
	}
	r.Status, r.ID, r.Token, r.StatusURL = http.StatusCreated, got.ID, got.Token, StatusPath(got.ID)
	if nextKey == "" {
		return r, nil
	}
	return r, &next
}

// statusOf is a row's HTTP-like status for an error.
func statusOf(err error) int {
	switch veedel.ErrorCode(err) {
	case veedel.EINVALID:
		return http.StatusUnprocessableEntity
	case veedel.ECONFLICT:
		return http.StatusConflict
	case veedel.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
