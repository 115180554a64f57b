package vehicle

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/workflow"
)

// The registration site's side of the i-Kfz applications: it takes over
// what central submits (vehicle.application_received), keeps the
// applications table as the projection of its events (site_query.go), and
// decides the back office's steps from it (site_decide.go). Ownership as
// for certificate orders: from vehicle.application_received on, only the
// site changes an application.

// Site is the workflow's part on the appliance.
var Site = workflow.Site{
	Name:       "vehicle",
	Prefix:     Prefix,
	NewPayload: NewPayload,
	Project:    project,
	Accept:     accept,
	Messages:   messages,
	Erase: func(ctx context.Context, q workflow.Querier, now time.Time) (int64, error) {
		n, err := EraseDetails(ctx, q, now.Add(-KeepDetails))
		if err != nil {
			return n, err
		}
		p, err := ErasePermits(ctx, q, now.Add(-KeepDetails))
		return n + p, err
	},
}

// KeepDetails is how long the site keeps an application's personal data
// (the opened application, the applicant's notes, the attached files)
// after it is done: rejected, or approved with its documents posted; and
// the permit PDF after its validity ended. Central keeps its copies of
// the files as long (central/vehicle.go, EraseVehicleFiles).
var KeepDetails = 90 * 24 * time.Hour

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{4,40}$`)

// check refuses a submitted application the site cannot keep.
func (p *ApplicationSubmitted) check() error {
	known := false
	for _, pr := range Processes {
		known = known || pr == p.Process
	}
	switch {
	case !idPattern.MatchString(p.ID):
		return veedel.Errorf(veedel.EINVALID, "Antragsnummer %q ungültig / application id invalid", p.ID)
	case !known:
		return veedel.Errorf(veedel.EINVALID, "Unbekanntes Verfahren %q / unknown process", p.Process)
	case p.PlateMode != "" && p.PlateMode != PlateKeep && p.PlateMode != PlateRandom && p.PlateMode != PlateWish:
		return veedel.Errorf(veedel.EINVALID, "Unbekannte Kennzeichenwahl %q / unknown plate choice", p.PlateMode)
	case len(p.TokenHash) != sha256.Size:
		return veedel.Errorf(veedel.EINVALID, "Antrag %s ohne Status-Token / application %s without status token", p.ID, p.ID)
	case p.PlateMode == PlateWish && !validHash(p.Reservation):
		return veedel.Errorf(veedel.EINVALID, "Reservierung fehlt oder ist fehlerhaft / reservation missing or malformed")
	}
	return checkFiles(p.Attachments)
}

// checkFiles refuses attachments no transfer may carry.
func checkFiles(files []Attachment) error {
	for _, f := range files {
		if err := (&blob.Files{}).CheckRef(f.File); err != nil {
			return err
		}
	}
	return nil
}

func validHash(h string) bool {
	b, err := hex.DecodeString(h)
	return err == nil && len(b) == sha256.Size
}

// accept takes what central sends: a submitted application becomes the
// site's (once, however often it is delivered); a supplement goes back
// into the worklist as vehicle.application_received of the same
// application, carrying the note and the new files.
func accept(ctx context.Context, q workflow.Querier, env workflow.Env, at time.Time, e workflow.Event) ([]workflow.Event, error) {
	switch p := e.Payload.(type) {
	case *ApplicationSubmitted:
		if err := p.check(); err != nil {
			return nil, err
		}
		if _, err := statusOf(ctx, q, p.ID); err == nil {
			return nil, nil // the site has it already
		} else if veedel.ErrorCode(err) != veedel.ENOTFOUND {
			return nil, err
		}
		events := []workflow.Event{{Type: TypeReceived, Entity: Entity(p.ID), At: at, Payload: &ApplicationReceived{ApplicationSubmitted: *p}}}
		if _, err := openApplication(env, p.ID, p.Sealed); err != nil {
			// Sealed to another key (the site was re-enrolled in between):
			// the applicant must learn it rather than wait for nothing.
			events = append(events, workflow.Event{Type: TypeRejected, Entity: Entity(p.ID), At: at,
				Payload: &ApplicationRejected{ID: p.ID, Reason: "Ihre Angaben konnten bei der Zulassungsstelle nicht gelesen werden. Bitte stellen Sie den Antrag erneut."}})
		}
		return events, nil
	case *ApplicationSupplemented:
		if err := checkFiles(p.Attachments); err != nil {
			return nil, err
		}
		return acceptSupplement(ctx, q, at, p)
	}
	return nil, veedel.Errorf(veedel.EINVALID, "Ereignis %s wird von der Zentrale nicht angenommen / event %s is not accepted from central", e.Type, e.Type)
}

func acceptSupplement(ctx context.Context, q workflow.Querier, at time.Time, p *ApplicationSupplemented) ([]workflow.Event, error) {
	a, err := Get(ctx, q, p.ID)
	if err != nil {
		return nil, err
	}
	if a.Status == StatusApproved || a.Status == StatusRejected {
		return nil, veedel.Errorf(veedel.ECONFLICT, "Antrag %s ist schon entschieden (%s) / application %s is decided already (%s)", p.ID, a.Status, p.ID, a.Status)
	}
	digest := supplementDigest(p)
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM vehicle_supplements WHERE digest = ?`, digest).Scan(&n); err != nil {
		return nil, fmt.Errorf("vehicle: supplement: %w", err)
	}
	if n > 0 {
		return nil, nil
	}
	r := &ApplicationReceived{ApplicationSubmitted: ApplicationSubmitted{ID: a.ID, Process: a.Process, Sealed: p.Sealed, Attachments: p.Attachments,
		Submitted: a.SubmittedAt.UnixMilli(), TokenHash: a.tokenHash, Company: a.Company, PlateMode: a.PlateMode, Reservation: a.Reservation, Lang: a.Lang}}
	return []workflow.Event{{Type: TypeReceived, Entity: Entity(a.ID), At: at, Payload: r}}, nil
}

// supplementDigest names a supplement by its content, so that the same
// supplement delivered twice is taken once.
func supplementDigest(p *ApplicationSupplemented) []byte {
	b, _ := cbor.Marshal(p)
	h := sha256.Sum256(b)
	return h[:]
}

// openApplication opens the sealed application.
func openApplication(env workflow.Env, id string, sealed []byte) (*Application, error) {
	if env.Open == nil {
		return nil, veedel.Errorf(veedel.EINVALID, "no box key")
	}
	plain, err := env.Open(SealInfo(env.Site, id), sealed)
	if err != nil {
		return nil, err
	}
	var a Application
	if err := cbor.Unmarshal(plain, &a); err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "application %s: malformed", id)
	}
	return &a, nil
}

// openNote opens a supplement's note: CBOR text, or plain UTF-8.
func openNote(env workflow.Env, id string, sealed []byte) string {
	if len(sealed) == 0 || env.Open == nil {
		return ""
	}
	plain, err := env.Open(SealInfo(env.Site, id), sealed)
	if err != nil {
		return ""
	}
	var s string
	if cbor.Unmarshal(plain, &s) == nil {
		return s
	}
	if utf8.Valid(plain) {
		return string(plain)
	}
	return ""
}

// project keeps the site's tables in step with an event.
func project(ctx context.Context, q workflow.Querier, env workflow.Env, e workflow.Event) error {
	at := e.At.UnixMilli()
	var err error
	switch p := e.Payload.(type) {
	case *ApplicationReceived:
		err = projectReceived(ctx, q, env, at, p)
	case *ApplicationClaimed:
		_, err = q.ExecContext(ctx, `UPDATE vehicle_applications SET status = ?, staff = ?, updated_at = ? WHERE id = ?`, StatusInReview, p.Staff, at, p.ID)
	case *CheckRecorded:
		_, err = q.ExecContext(ctx, `INSERT INTO vehicle_checks (application, name, ok, staff, at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (application, name) DO UPDATE SET ok = excluded.ok, staff = excluded.staff, at = excluded.at`, p.ID, p.Check, p.OK, p.Staff, at)
		if err == nil {
			_, err = q.ExecContext(ctx, `UPDATE vehicle_applications SET updated_at = ? WHERE id = ?`, at, p.ID)
		}
	case *InfoRequested:
		_, err = q.ExecContext(ctx, `UPDATE vehicle_applications SET status = ?, staff = ?, reason = ?, updated_at = ? WHERE id = ?`,
			StatusInfoRequested, p.Staff, p.Reason, at, p.ID)
	case *ApplicationApproved:
		_, err = q.ExecContext(ctx, `UPDATE vehicle_applications SET status = ?, staff = ?, second = ?, plate = ?, fin = ?, code = ?, valid_until = ?,
			permit = ?, permit_size = ?, reason = '', updated_at = ?, decided_at = ? WHERE id = ?`,
			StatusApproved, p.Staff, p.Second, p.Plate, p.FIN, p.Code, p.ValidUntil, p.Permit.SHA256, p.Permit.Size, at, at, p.ID)
		if err == nil && p.Permit.SHA256 != "" {
			err = blob.Hold(ctx, q, Entity(p.ID), p.Permit.SHA256)
		}
	case *ApplicationRejected:
		_, err = q.ExecContext(ctx, `UPDATE vehicle_applications SET status = ?, staff = ?, reason = ?, updated_at = ?, decided_at = ?, done_at = ? WHERE id = ?`,
			StatusRejected, p.Staff, p.Reason, at, at, at, p.ID)
	case *SettingsChanged:
		err = projectSettings(ctx, q, at, p)
	case *DocumentsPosted:
		_, err = q.ExecContext(ctx, `UPDATE vehicle_applications SET posted_at = ?, posted_by = ?, updated_at = ?, done_at = ? WHERE id = ?`, at, p.Staff, at, at, p.ID)
	case *ApplicationSubmitted, *ApplicationSupplemented:
		return fmt.Errorf("%s is central's and never in the site's log", e.Type)
	}
	if err != nil {
		return fmt.Errorf("vehicle: %s: %w", e.Type, err)
	}
	return nil
}

// projectReceived inserts a new application, or files a supplement of one
// the site has (the same id again) and puts it back into the worklist.
func projectReceived(ctx context.Context, q workflow.Querier, env workflow.Env, at int64, p *ApplicationReceived) error {
	var have int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM vehicle_applications WHERE id = ?`, p.ID).Scan(&have); err != nil {
		return err
	}
	if have == 0 {
		var details []byte
		if a, err := openApplication(env, p.ID, p.Sealed); err == nil {
			if details, err = cbor.Marshal(a); err != nil {
				return err
			}
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO vehicle_applications (id, process, plate_mode, reservation, company, token_hash, lang, status, details,
			submitted_at, received_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Process, p.PlateMode, p.Reservation, p.Company, p.TokenHash, p.Lang, StatusAtSite, details, p.Submitted, at, at); err != nil {
			return err
		}
	} else {
		supp := ApplicationSupplemented{ID: p.ID, Sealed: p.Sealed, Attachments: p.Attachments}
		if _, err := q.ExecContext(ctx, `INSERT INTO vehicle_supplements (application, digest, note, at) VALUES (?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING`,
			p.ID, supplementDigest(&supp), openNote(env, p.ID, p.Sealed), at); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `UPDATE vehicle_applications SET status = ?, updated_at = ? WHERE id = ?`, StatusAtSite, at, p.ID); err != nil {
			return err
		}
	}
	for _, f := range p.Attachments {
		if _, err := q.ExecContext(ctx, `INSERT INTO vehicle_attachments (application, sha256, size, type, name, kind, added_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, p.ID, f.File.SHA256, f.File.Size, f.File.Type, f.File.Name, f.Kind, at); err != nil {
			return err
		}
		// The transfer fetches the file from central (sync/blob); the
		// desk shows it once it is here. The application holds it until
		// its erasure releases it.
		if err := blob.Hold(ctx, q, Entity(p.ID), f.File.SHA256); err != nil {
			return err
		}
		if err := blob.Want(ctx, q, f.File); err != nil {
			return err
		}
	}
	return nil
}

// statusOf returns an application's status, ENOTFOUND for an unknown id.
func statusOf(ctx context.Context, q workflow.Querier, id string) (string, error) {
	var st string
	err := q.QueryRowContext(ctx, `SELECT status FROM vehicle_applications WHERE id = ?`, id).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notKnown(id)
	}
	return st, err
}

func notKnown(id string) error {
	return veedel.Errorf(veedel.ENOTFOUND, "Antrag %s ist hier nicht bekannt / application %s is not known here", id, id)
}

// EraseDetails erases the personal data of applications done before
// cutoff and returns how many it erased: the opened application, the
// applicant's notes, and the attachments (their rows, with the names the
// applicant gave, and the files themselves: blob.Release, so that a file
// another application holds stays). Statuses, plates and checks stay
// (statistics, audit).
func EraseDetails(ctx context.Context, q workflow.Querier, cutoff time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, `UPDATE vehicle_applications SET details = NULL WHERE done_at IS NOT NULL AND done_at < ? AND details IS NOT NULL`, cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("vehicle: erase details: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := q.ExecContext(ctx, `UPDATE vehicle_supplements SET note = NULL WHERE note IS NOT NULL AND application IN
		(SELECT id FROM vehicle_applications WHERE done_at IS NOT NULL AND done_at < ?)`, cutoff.UnixMilli()); err != nil {
		return 0, fmt.Errorf("vehicle: erase notes: %w", err)
	}
	files, err := held(ctx, q, `SELECT f.application, f.sha256 FROM vehicle_attachments f JOIN vehicle_applications a ON a.id = f.application
		WHERE a.done_at IS NOT NULL AND a.done_at < ?`, cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("vehicle: erase attachments: %w", err)
	}
	for _, f := range files {
		if _, err := blob.Release(ctx, q, Entity(f.id), f.sha, cutoff.Add(KeepDetails)); err != nil {
			return 0, err
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM vehicle_attachments WHERE application = ? AND sha256 = ?`, f.id, f.sha); err != nil {
			return 0, fmt.Errorf("vehicle: erase attachments: %w", err)
		}
	}
	return n, nil
}

// ErasePermits lets go of the permits (the provisional proofs) whose
// validity ended before cutoff: the PDF is needed while it is valid (the
// applicant prints it; police check its code at /verify, which needs
// central's record, not the PDF) and is kept KeepDetails longer, as the
// application's details are. The application keeps plate, FIN, code and
// validity; its permit column is emptied. It returns how many it let go.
func ErasePermits(ctx context.Context, q workflow.Querier, cutoff time.Time) (int64, error) {
	files, err := held(ctx, q, `SELECT id, permit FROM vehicle_applications WHERE permit != '' AND valid_until != '' AND valid_until < ?`,
		cutoff.UTC().Format(time.DateOnly))
	if err != nil {
		return 0, fmt.Errorf("vehicle: erase permits: %w", err)
	}
	for _, f := range files {
		if _, err := blob.Release(ctx, q, Entity(f.id), f.sha, cutoff.Add(KeepDetails)); err != nil {
			return 0, err
		}
		if _, err := q.ExecContext(ctx, `UPDATE vehicle_applications SET permit = '' WHERE id = ?`, f.id); err != nil {
			return 0, fmt.Errorf("vehicle: erase permits: %w", err)
		}
	}
	return int64(len(files)), nil
}

type heldFile struct{ id, sha string }

func held(ctx context.Context, q workflow.Querier, query string, args ...any) ([]heldFile, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []heldFile
	for rows.Next() {
		var f heldFile
		if err := rows.Scan(&f.id, &f.sha); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
