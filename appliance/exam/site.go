package exam

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// project keeps exam_keys and exams in step with an event.
func project(ctx context.Context, q workflow.Querier, env workflow.Env, e workflow.Event) error {
	switch p := e.Payload.(type) {
	case *KeyCreated:
		key := openKey(env, p)
		// The same key logged again (wrapped to a restored site's new box
		// key, Rewrap) fills in a key this site could not open before.
		_, err := q.ExecContext(ctx, `INSERT INTO exam_keys (id, escrow_pub, key, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET key = excluded.key WHERE exam_keys.key IS NULL AND excluded.key IS NOT NULL`,
			p.Key, p.EscrowPub, key, e.At.UnixMilli())
		return err
	case *Statistics:
		return nil // the record has it already (SignedOff)
	case *ChildLeft:
		if e.Type == TypeDropped {
			// The child went to another site: its record goes (a later
			// assignment back here opens a new one).
			_, err := q.ExecContext(ctx, `DELETE FROM exams WHERE id = ?`, p.Exam)
			return err
		}
		return nil
	case *ChildUnassigned:
		return fmt.Errorf("%s is central's and never in the site's log", e.Type)
	case *ChildAssigned:
		return fmt.Errorf("%s is central's and never in the site's log", e.Type)
	case *Sealed:
		var key []byte
		err := q.QueryRowContext(ctx, `SELECT key FROM exam_keys WHERE id = ?`, p.Key).Scan(&key)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && key == nil) {
			return nil // a key this site cannot open: nothing to fold
		} else if err != nil {
			return err
		}
		inner, err := unseal(env.Site, e, key)
		if err != nil {
			return err
		}
		id := strings.TrimPrefix(e.Entity, "exam/")
		r, err := loadRecord(ctx, q, id)
		if err != nil && veedel.ErrorCode(err) != veedel.ENOTFOUND {
			return err
		}
		if err == nil && r == nil {
			return nil // erased
		}
		r = apply(r, id, inner, e.At.UnixMilli())
		if r == nil {
			return nil
		}
		return saveRecord(ctx, q, r)
	}
	return fmt.Errorf("exam: no projection for %s (%T)", e.Type, e.Payload)
}

// openKey opens a logged data key with the site's box key, or (a site
// restored with the escrow key as its box) with the escrow wrapping; nil
// when neither opens.
func openKey(env workflow.Env, p *KeyCreated) []byte {
	if env.Open == nil {
		return nil
	}
	for _, sealed := range [][]byte{p.ForSite, p.ForEscrow} {
		if k, err := env.Open(keyInfo(env.Site, p.Key), sealed); err == nil && len(k) == 32 {
			return k
		}
	}
	return nil
}

// loadRecord returns an exam's record; nil (no error) once erased.
func loadRecord(ctx context.Context, q workflow.Querier, id string) (*Record, error) {
	var blob []byte
	err := q.QueryRowContext(ctx, `SELECT record FROM exams WHERE id = ?`, id).Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, veedel.Errorf(veedel.ENOTFOUND, "Untersuchung %s ist hier nicht bekannt / exam %s is not known here", id, id)
	} else if err != nil {
		return nil, err
	}
	if blob == nil {
		return nil, nil
	}
	var r Record
	if err := changelog.Unmarshal(blob, &r); err != nil {
		return nil, fmt.Errorf("exam %s: record unreadable: %w", id, err)
	}
	return &r, nil
}

func saveRecord(ctx context.Context, q workflow.Querier, r *Record) error {
	blob, err := changelog.Marshal(r)
	if err != nil {
		return err
	}
	var child any
	if r.Child != "" {
		child = r.Child
	}
	var signed any
	if r.Status == StatusSignedOff {
		signed = r.UpdatedAt
	}
	_, err = q.ExecContext(ctx, `INSERT INTO exams (id, child, code_hash, day, status, record, signed_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET code_hash = excluded.code_hash, day = excluded.day, status = excluded.status,
			record = excluded.record, signed_at = excluded.signed_at, updated_at = excluded.updated_at`,
		r.ID, child, nullBytes(r.CodeHash), r.Day, r.Status, blob, signed, r.UpdatedAt)
	return err
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// accept takes a child central assigned to this site: a new child opens a
// record, a child sent again with other data updates it, the same data
// again changes nothing.
func accept(ctx context.Context, q workflow.Querier, env workflow.Env, at time.Time, e workflow.Event) ([]workflow.Event, error) {
	switch p := e.Payload.(type) {
	case *ParentsQuestionnaire:
		return acceptParents(ctx, q, env, at, p)
	case *ChildUnassigned:
		return acceptUnassigned(ctx, q, at, p)
	}
	p, ok := e.Payload.(*ChildAssigned)
	if !ok {
		return nil, veedel.Errorf(veedel.EINVALID, "Ereignis %s wird von der Zentrale nicht angenommen / event %s is not accepted from central", e.Type, e.Type)
	}
	if p.Child == "" || len(p.Child) > 100 {
		return nil, veedel.Errorf(veedel.EINVALID, "child assignment without a valid child id")
	}
	if p.Year < 2000 || p.Year > 2200 {
		return nil, veedel.Errorf(veedel.EINVALID, "child assignment %s: school year %d out of range", p.Child, p.Year)
	}
	if env.Open == nil {
		return nil, veedel.Errorf(veedel.EINVALID, "child assignment %s: this site has no box key", p.Child)
	}
	plain, err := env.Open(SealInfo(env.Site, p.Child), p.Sealed)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "child assignment %s does not open with this site's box key", p.Child)
	}
	var person Child
	if err := changelog.Unmarshal(plain, &person); err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "child assignment %s: record malformed", p.Child)
	}
	var id string
	var blob []byte
	err = q.QueryRowContext(ctx, `SELECT id, record FROM exams WHERE child = ?`, p.Child).Scan(&id, &blob)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		id = ""
	case err != nil:
		return nil, err
	case blob == nil:
		return nil, nil // erased after its keeping time: not opened again
	}
	s, err := sealerOrWait(ctx, q, env, at)
	if err != nil {
		return nil, err
	}
	if id == "" {
		ev, err := s.event(TypeOpened, NewID(), &Opened{Child: p.Child, Year: p.Year, District: p.District, Lang: p.Lang, CodeHash: p.CodeHash, Person: person})
		if err != nil {
			return nil, err
		}
		return s.events(ev), nil
	}
	var r Record
	if err := changelog.Unmarshal(blob, &r); err != nil {
		return nil, err
	}
	if r.Year == p.Year && r.District == p.District && r.Lang == p.Lang && bytes.Equal(r.CodeHash, p.CodeHash) && r.Person == person {
		return nil, nil
	}
	ev, err := s.event(TypeChildUpdated, id, &ChildUpdated{Year: p.Year, District: p.District, Lang: p.Lang, CodeHash: p.CodeHash, Person: person})
	if err != nil {
		return nil, err
	}
	return s.events(ev), nil
}

// sealerOrWait is newSealer for what central sends: without an escrow key
// (or a box key) the entry waits (workflow.Wait: parked at the site, the
// inbox goes on with the other workflows' entries) rather than being
// refused, and is taken once the key is configured.
func sealerOrWait(ctx context.Context, q workflow.Querier, env workflow.Env, at time.Time) (*sealer, error) {
	s, err := newSealer(ctx, q, env, at)
	if veedel.ErrorCode(err) == veedel.EUNAVAILABLE {
		return nil, workflow.Waits(veedel.ErrorMessage(err))
	}
	return s, err
}

// acceptUnassigned takes a child off this site: its record is dropped,
// unless the child was examined here already (something recorded): then
// the record stays and central is told (TypeKept). A child the site does
// not have, or whose record was erased, changes nothing.
func acceptUnassigned(ctx context.Context, q workflow.Querier, at time.Time, p *ChildUnassigned) ([]workflow.Event, error) {
	if p.Child == "" || len(p.Child) > 100 {
		return nil, veedel.Errorf(veedel.EINVALID, "unassignment without a valid child id")
	}
	var id, status string
	var blob []byte
	err := q.QueryRowContext(ctx, `SELECT id, status, record FROM exams WHERE child = ?`, p.Child).Scan(&id, &status, &blob)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, err
	case blob == nil:
		return nil, nil // erased after its keeping time
	}
	left := &ChildLeft{Child: p.Child, Year: p.Year, Exam: id, To: p.To}
	if status == StatusInProgress || status == StatusSignedOff {
		left.Status = status
		return []workflow.Event{{Type: TypeKept, Entity: entity(id), At: at, Payload: left}}, nil
	}
	return []workflow.Event{{Type: TypeDropped, Entity: entity(id), At: at, Payload: left}}, nil
}

// HashCode returns the hash central sends of a booking code (CodeHash):
// SHA-256 of the code as the kiosk normalises it (NormalizeCode).
func HashCode(code string) []byte {
	sum := sha256.Sum256([]byte(NormalizeCode(code)))
	return sum[:]
}

// NormalizeCode is a booking code as typed, cleaned as the queue cleans
// booking codes: without spaces and dashes, in upper case.
func NormalizeCode(code string) string { return queue.NormalizeBookingCode(code) }

// checkIn takes a child's invitation code at the kiosk or desk: the child
// is queued in CheckInService (and so on the day list).
func checkIn(ctx context.Context, q workflow.Querier, at time.Time, code string) (string, string, error) {
	c := NormalizeCode(code)
	if len(c) < 6 || len(c) > 32 {
		return "", "", veedel.Errorf(veedel.ENOTFOUND, "Code unbekannt / unknown code")
	}
	var id, status string
	var blob []byte
	err := q.QueryRowContext(ctx, `SELECT id, status, record FROM exams WHERE code_hash = ?`, HashCode(c)).Scan(&id, &status, &blob)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", veedel.Errorf(veedel.ENOTFOUND, "Code unbekannt / unknown code")
	} else if err != nil {
		return "", "", err
	}
	switch {
	case blob == nil:
		return "", "", veedel.Errorf(veedel.ECONFLICT, "Diese Einladung ist abgelaufen / this invitation has expired")
	case status == StatusSignedOff:
		return "", "", veedel.Errorf(veedel.ECONFLICT, "Die Untersuchung ist schon abgeschlossen / the exam is done already")
	}
	return entity(id), CheckInService, nil
}

// bookedFor names the exam record of the child an online booking is for
// (appointment.Booked.For is the child's pseudonymous id): the record
// its invitation code checks in to.
func bookedFor(ctx context.Context, q workflow.Querier, child string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM exams WHERE child = ?`, child).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", veedel.Errorf(veedel.ENOTFOUND, "no exam of child %s here", child)
	} else if err != nil {
		return "", fmt.Errorf("exam: booked for %s: %w", child, err)
	}
	return entity(id), nil
}

// EraseRecords erases, at now, the records last signed off before cutoff
// (the child's data and the findings) and returns how many. The row
// stays, without data, so that a re-sent assignment does not open the
// child again.
func EraseRecords(ctx context.Context, q workflow.Querier, now, cutoff time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, `UPDATE exams SET record = NULL, code_hash = NULL, erased_at = ? WHERE signed_at IS NOT NULL AND signed_at < ? AND record IS NOT NULL`,
		now.UnixMilli(), cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("exam: erase records: %w", err)
	}
	return res.RowsAffected()
}

// acceptParents opens the parents' questionnaire central sealed to this
// site and keeps it, sealed again with the exam data key, in the child's
// record. A questionnaire for a child the site does not know (yet) or
// whose record was erased is refused and recorded.
func acceptParents(ctx context.Context, q workflow.Querier, env workflow.Env, at time.Time, p *ParentsQuestionnaire) ([]workflow.Event, error) {
	if p.Child == "" || len(p.Child) > 100 {
		return nil, veedel.Errorf(veedel.EINVALID, "questionnaire without a valid child id")
	}
	if env.Open == nil {
		return nil, veedel.Errorf(veedel.EINVALID, "questionnaire for %s: this site has no box key", p.Child)
	}
	plain, err := env.Open(QuestionnaireInfo(env.Site, p.Child), p.Sealed)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "questionnaire for %s does not open with this site's box key", p.Child)
	}
	var a ParentsAnswers
	if err := changelog.Unmarshal(plain, &a); err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "questionnaire for %s: malformed", p.Child)
	}
	var id string
	var blob []byte
	err = q.QueryRowContext(ctx, `SELECT id, record FROM exams WHERE child = ?`, p.Child).Scan(&id, &blob)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, veedel.Errorf(veedel.ENOTFOUND, "questionnaire for %s: no such child at this site", p.Child)
	case err != nil:
		return nil, err
	case blob == nil:
		return nil, nil // erased after its keeping time
	}
	s, err := sealerOrWait(ctx, q, env, at)
	if err != nil {
		return nil, err
	}
	ev, err := s.event(TypeParentsAnswered, id, &ParentsAnswered{Answers: a, Submitted: p.Submitted})
	if err != nil {
		return nil, err
	}
	return s.events(ev), nil
}
