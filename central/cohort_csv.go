package central

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/notify"
)

// The register's file, as German spreadsheets write it: UTF-8 (a
// byte-order mark is skipped), fields separated by semicolons, quoted per
// RFC 4180, the header row first. Dates are YYYY-MM-DD or DD.MM.YYYY.

// CohortColumns is the header the register's file must have, in this
// order; an optional last column "language" gives the parents' language
// (ISO 639-1, "tr"), for the invitation letter.
var CohortColumns = []string{"family_name", "given_names", "birth_date", "sex", "street", "postcode", "city",
	"parent_name", "parent_phone", "parent_email", "school_district"}

// CohortLanguageColumn is the optional column of the parents' language.
const CohortLanguageColumn = "language"

// MaxCohortRows bounds a file's rows.
const MaxCohortRows = 50000

const maxCohortField = 100

var (
	postcodePattern = regexp.MustCompile(`^[0-9]{5}$`)
	langPattern     = regexp.MustCompile(`^[a-z]{2}$`)
	dottedDate      = regexp.MustCompile(`^([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})$`)
)

// ReadCohortCSV reads the register's file: the rows that are valid, and
// the rows refused with the reason (row 1 is the header). A reason names
// the field, never its value: the answer holds no personal data. A file that is
// not such a file at all (no header, wrong columns, not UTF-8) is an
// EINVALID error.
func ReadCohortCSV(r io.Reader) ([]CohortRow, []RejectedRow, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if !utf8.Valid(data) {
		return nil, nil, veedel.Errorf(veedel.EINVALID, "Die Datei ist nicht UTF-8-kodiert: bitte als „CSV UTF-8“ speichern / the file is not UTF-8: please save it as CSV UTF-8")
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = ';'
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, veedel.Errorf(veedel.EINVALID, "Die Datei ist leer / the file is empty")
	} else if err != nil {
		return nil, nil, veedel.Errorf(veedel.EINVALID, "Kopfzeile unlesbar: %v / header row unreadable", err)
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(header[i]))
	}
	want := strings.Join(CohortColumns, ";")
	lang := false
	switch got := strings.Join(header, ";"); got {
	case want:
	case want + ";" + CohortLanguageColumn:
		lang = true
	default:
		return nil, nil, veedel.Errorf(veedel.EINVALID, "Kopfzeile %q passt nicht: erwartet %q (mit „;“ getrennt, optional „;language“ am Ende) / header %q does not match: want %q (separated by „;“, optionally „;language“ at the end)",
			got, want, got, want)
	}
	var rows []CohortRow
	var rejected []RejectedRow
	n := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			rejected = append(rejected, RejectedRow{Row: pe.StartLine, Error: fmt.Sprintf("Zeile unlesbar (Anführungszeichen?): %v / row unreadable (quotes?)", pe.Err)})
			continue
		} else if err != nil {
			return nil, nil, err
		}
		if blank(rec) {
			continue
		}
		if n++; n > MaxCohortRows {
			return nil, nil, veedel.Errorf(veedel.EINVALID, "Mehr als %d Zeilen: bitte die Datei teilen / more than %d rows: please split the file", MaxCohortRows, MaxCohortRows)
		}
		if len(rec) != len(header) {
			rejected = append(rejected, RejectedRow{Row: line, Error: fmt.Sprintf("%d Felder statt %d (Trennzeichen „;“?) / %d fields instead of %d (separator „;“?)", len(rec), len(header), len(rec), len(header))})
			continue
		}
		row, problems := cohortRow(rec, lang)
		if len(problems) > 0 {
			rejected = append(rejected, RejectedRow{Row: line, Error: strings.Join(problems, "; ")})
			continue
		}
		row.Row = line
		rows = append(rows, row)
	}
	return rows, rejected, nil
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// ParseCohortDate reads YYYY-MM-DD or DD.MM.YYYY (also D.M.YYYY) and
// returns the date as YYYY-MM-DD; false when it is not a real date.
func ParseCohortDate(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if m := dottedDate.FindStringSubmatch(s); m != nil {
		s = fmt.Sprintf("%s-%02s-%02s", m[3], m[2], m[1])
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return "", false
	}
	return t.Format(time.DateOnly), true
}

// cohortRow validates one record's fields.
func cohortRow(rec []string, withLang bool) (CohortRow, []string) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	field := func(i int, de, en string, required bool) string {
		v := strings.TrimSpace(rec[i])
		switch {
		case v == "" && required:
			bad("%s fehlt / %s missing", de, en)
		case utf8.RuneCountInString(v) > maxCohortField:
			bad("%s länger als %d Zeichen / %s longer than %d characters", de, maxCohortField, en, maxCohortField)
		case strings.ContainsFunc(v, unicode.IsControl):
			bad("%s enthält Steuerzeichen / %s contains control characters", de, en)
		}
		return v
	}
	var r CohortRow
	r.FamilyName = field(0, "Familienname", "family name", true)
	r.GivenNames = field(1, "Vorname(n)", "given names", true)
	if b := strings.TrimSpace(rec[2]); b == "" {
		bad("Geburtsdatum fehlt / birth date missing")
	} else if d, ok := ParseCohortDate(b); !ok {
		bad("Geburtsdatum ungültig: JJJJ-MM-TT oder TT.MM.JJJJ, und ein Tag, den es gibt / birth date invalid: YYYY-MM-DD or DD.MM.YYYY, and a day that exists")
	} else {
		r.BirthDate = d
	}
	switch sex := strings.ToLower(strings.TrimSpace(rec[3])); sex {
	case exam.SexFemale, exam.SexMale, exam.SexDiverse:
		r.Sex = sex
	case "":
		bad("Geschlecht fehlt (w, m oder d) / sex missing (w, m or d)")
	default:
		bad("Geschlecht ungültig: w, m oder d / sex invalid: w, m or d")
	}
	r.Street = field(4, "Straße", "street", true)
	if pc := strings.TrimSpace(rec[5]); !postcodePattern.MatchString(pc) {
		bad("Postleitzahl ungültig: fünf Ziffern / postcode invalid: five digits")
	} else {
		r.Postcode = pc
	}
	r.City = field(6, "Ort", "city", true)
	r.ParentName = field(7, "Name der Eltern", "parent's name", true)
	if ph := field(8, "Telefon", "phone", false); ph != "" {
		n, err := notify.NormalizeMobile(ph)
		switch {
		case err == nil:
			r.ParentPhone = n
		case errors.Is(err, notify.ErrLandline):
			r.ParentPhone = ph // a landline: kept as written
		default:
			bad("Telefonnummer der Eltern ungültig: z. B. 0221 123456 oder +49 151 2345678 / parent's phone number invalid: e.g. 0221 123456 or +49 151 2345678")
		}
	}
	if em := field(9, "E-Mail", "e-mail", false); em != "" {
		if a, err := mail.ParseAddress(em); err != nil || a.Address != em || len(em) > 254 {
			bad("E-Mail-Adresse der Eltern ungültig (name@beispiel.de) / parent's e-mail address invalid (name@example.com)")
		} else {
			r.ParentEmail = em
		}
	}
	r.SchoolDistrict = field(10, "Schulbezirk", "school district", true)
	if withLang {
		if l := strings.ToLower(strings.TrimSpace(rec[11])); l != "" {
			if !langPattern.MatchString(l) {
				bad("Sprache %q ungültig: ein Kürzel nach ISO 639-1 wie tr / language %q invalid: an ISO 639-1 code such as tr", rec[11], rec[11])
			} else if l != "de" {
				r.Lang = l
			}
		}
	}
	return r, problems
}
