package exam

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// Get returns an exam's record: ENOTFOUND for an unknown or erased one.
func Get(ctx context.Context, q workflow.Querier, id string) (*Record, error) {
	r, err := loadRecord(ctx, q, id)
	if err == nil && r == nil {
		return nil, veedel.Errorf(veedel.ENOTFOUND, "Die Untersuchung wurde nach Ablauf der Aufbewahrung gelöscht / the exam was erased")
	}
	return r, err
}

// Entry is a line of the day list.
type Entry struct {
	ID         string `json:"id"`
	FamilyName string `json:"family_name"`
	GivenNames string `json:"given_names"`
	BirthDate  string `json:"birth_date"`
	Sex        string `json:"sex"`
	Day        string `json:"day"`
	Slot       string `json:"slot,omitempty"`
	Status     string `json:"status"`
	// Ticket is the queue number when the child checked in that day.
	Ticket string `json:"ticket,omitempty"`
	// Booking is the code of the parents' online booking (Day and Slot
	// are its time then), "" when the desk scheduled the exam.
	Booking string `json:"booking,omitempty"`
	// Done lists what is recorded: measurement, vision, hearing, sopess,
	// vaccinations, findings.
	Done []string `json:"done"`
}

// bookedExams is exams with the parents' online booking of each (the
// newest live one, appliance/appointment's table: appointments.for_ref is
// the child): columns record, booking code, start and contact (NULL
// without one).
const bookedExams = `SELECT e.record, a.code, a.start, a.contact FROM exams e
	LEFT JOIN appointments a ON a.code = (SELECT code FROM appointments
		WHERE for_ref = e.child AND status = 'at_site' ORDER BY booked_at DESC, code LIMIT 1)`

// Day returns the exams of day (YYYY-MM-DD in loc) plus those whose ids
// are in also (children checked in that day without an appointment), by
// slot and name. An exam the parents booked online is on its booking's
// day, at its time.
func Day(ctx context.Context, q workflow.Querier, day string, loc *time.Location, also []string) ([]Entry, error) {
	from, err := time.ParseInLocation(time.DateOnly, day, loc)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "Datum JJJJ-MM-TT / date YYYY-MM-DD")
	}
	to := from.AddDate(0, 0, 1)
	query := bookedExams + ` WHERE e.record IS NOT NULL AND ((a.start IS NULL AND e.day = ?) OR (a.start >= ? AND a.start < ?)`
	args := []any{day, from.UnixMilli(), to.UnixMilli()}
	if len(also) > 0 {
		query += ` OR e.id IN (?` + strings.Repeat(`, ?`, len(also)-1) + `)`
		for _, id := range also {
			args = append(args, id)
		}
	}
	rows, err := q.QueryContext(ctx, query+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []Entry{}
	for rows.Next() {
		var blob, contact []byte
		var code sql.NullString
		var start sql.NullInt64
		if err := rows.Scan(&blob, &code, &start, &contact); err != nil {
			return nil, err
		}
		var r Record
		if err := changelog.Unmarshal(blob, &r); err != nil {
			return nil, err
		}
		e := Entry{ID: r.ID, FamilyName: r.Person.FamilyName, GivenNames: r.Person.GivenNames, BirthDate: r.Person.BirthDate, Sex: r.Person.Sex,
			Day: r.Day, Slot: r.Slot, Status: r.Status, Done: []string{}}
		if code.Valid {
			at := time.UnixMilli(start.Int64).In(loc)
			e.Booking, e.Day, e.Slot = code.String, at.Format(time.DateOnly), at.Format("15:04")
		}
		for _, part := range []struct {
			name string
			ok   bool
		}{{"measurement", r.Measurement != nil}, {"vision", r.Vision != nil}, {"hearing", r.Hearing != nil},
			{"sopess", len(r.SOPESS) > 0}, {"vaccinations", r.Vaccination != nil}, {"findings", len(r.Findings) > 0}} {
			if part.ok {
				e.Done = append(e.Done, part.name)
			}
		}
		list = append(list, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sortEntries(list)
	return list, nil
}

func sortEntries(list []Entry) {
	less := func(a, b Entry) bool {
		if a.Slot != b.Slot {
			return a.Slot < b.Slot
		}
		if a.FamilyName != b.FamilyName {
			return a.FamilyName < b.FamilyName
		}
		return a.ID < b.ID
	}
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && less(list[j], list[j-1]); j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
}

// Audit actions.
const (
	AuditList    = "list"
	AuditRead    = "read"
	AuditRecord  = "record"
	AuditSignOff = "sign_off"
	AuditReport  = "report"
	AuditExport  = "audit_export"
	AuditDenied  = "denied"
)

// Audit writes one line of the audit log (w: the store's writer). detail
// must hold no health data (which parts were recorded, not their values).
func Audit(ctx context.Context, w workflow.Querier, at time.Time, staff, role, action, exam, detail string) error {
	_, err := w.ExecContext(ctx, `INSERT INTO exam_audit (at, staff, role, action, exam, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		at.UnixMilli(), staff, role, action, exam, detail)
	if err != nil {
		return fmt.Errorf("exam: audit: %w", err)
	}
	return nil
}

// AuditCSV writes the audit log from..to (Unix ms, to exclusive) as CSV for
// German spreadsheets (UTF-8 with BOM, ';', CRLF).
func AuditCSV(ctx context.Context, q workflow.Querier, from, to time.Time, loc *time.Location, out io.Writer) (int, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, at, staff, role, action, exam, detail FROM exam_audit WHERE at >= ? AND at < ? ORDER BY seq`, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	if _, err := io.WriteString(out, "\ufeff"); err != nil {
		return 0, err
	}
	w := csv.NewWriter(out)
	w.Comma, w.UseCRLF = ';', true
	w.Write([]string{"nr", "zeit", "mitarbeiter", "rolle", "aktion", "untersuchung", "detail"})
	n := 0
	for rows.Next() {
		var seq, at int64
		var staff, role, action, exam, detail string
		if err := rows.Scan(&seq, &at, &staff, &role, &action, &exam, &detail); err != nil {
			return n, err
		}
		w.Write([]string{fmt.Sprint(seq), time.UnixMilli(at).In(loc).Format("2006-01-02 15:04:05"), staff, role, action, exam, detail})
		n++
	}
	w.Flush()
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, w.Error()
}

// Records returns the CBOR of every record the site keeps, by exam id (for
// the restore check).
func Records(ctx context.Context, q workflow.Querier) (map[string][]byte, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, record FROM exams WHERE record IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var id string
		var blob []byte
		if err := rows.Scan(&id, &blob); err != nil {
			return nil, err
		}
		out[id] = blob
	}
	return out, rows.Err()
}

// OpenWithEscrow folds a site's change-log as central stores it (entries
// in seq order) into the site's exam records with the health office's
// escrow private key alone, and returns their CBOR by exam id: the same
// bytes the site's exams table holds (Records). Entries of other
// workflows are skipped.
func OpenWithEscrow(escrow *ecdh.PrivateKey, entries []changelog.Entry) (map[string][]byte, error) {
	return OpenWithEscrowKeys([]*ecdh.PrivateKey{escrow}, entries)
}

// OpenWithEscrowKeys is OpenWithEscrow for a log whose data keys were
// escrowed to several keys in turn (the escrow key was replaced): each
// data key opens with the one of escrows it was wrapped to.
func OpenWithEscrowKeys(escrows []*ecdh.PrivateKey, entries []changelog.Entry) (map[string][]byte, error) {
	keys := map[string][]byte{}
	recs := map[string]*Record{}
	for i := range entries {
		e := &entries[i]
		if !strings.HasPrefix(e.Type, Prefix) {
			continue
		}
		p, err := changelog.DecodePayload(e, NewPayload)
		if err != nil {
			return nil, err
		}
		switch p := p.(type) {
		case *KeyCreated:
			for _, escrow := range escrows {
				if !bytes.Equal(escrow.PublicKey().Bytes(), p.EscrowPub) {
					continue
				}
				if k, err := changelog.Open(escrow, keyInfo(e.Site, p.Key), p.ForEscrow); err == nil {
					keys[p.Key] = k
				}
			}
			if keys[p.Key] == nil {
				return nil, fmt.Errorf("exam: key %s (entry %d) was escrowed to a key not given", p.Key, e.Seq)
			}
		case *Sealed:
			key, ok := keys[p.Key]
			if !ok {
				return nil, fmt.Errorf("exam: entry %d sealed with key %s, which the log has not introduced", e.Seq, p.Key)
			}
			ev := workflow.Event{Type: e.Type, Entity: e.Entity, At: e.At(), Payload: p}
			inner, err := unseal(e.Site, ev, key)
			if err != nil {
				return nil, fmt.Errorf("exam: entry %d: %w", e.Seq, err)
			}
			id := strings.TrimPrefix(e.Entity, "exam/")
			if r := apply(recs[id], id, inner, ev.At.UnixMilli()); r != nil {
				recs[id] = r
			}
		case *ChildLeft:
			if e.Type == TypeDropped {
				delete(recs, p.Exam) // went to another site
			}
		}
	}
	out := map[string][]byte{}
	for id, r := range recs {
		blob, err := changelog.Marshal(r)
		if err != nil {
			return nil, err
		}
		out[id] = blob
	}
	return out, nil
}
