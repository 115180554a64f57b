package vehicle

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/workflow"
)

// SiteApplication is an application as the registration site's back
// office sees it.
type SiteApplication struct {
	ID          string    `json:"id"`
	Process     string    `json:"process"`
	PlateMode   string    `json:"plate_mode"`
	Reservation string    `json:"-"`
	Company     string    `json:"company,omitempty"`
	Lang        string    `json:"lang,omitempty"`
	Status      string    `json:"status"`
	Staff       string    `json:"staff,omitempty"`
	Second      string    `json:"second,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Plate       string    `json:"plate,omitempty"`
	FIN         string    `json:"fin,omitempty"`
	Code        string    `json:"code,omitempty"`
	ValidUntil  string    `json:"valid_until,omitempty"`
	Permit      *blob.Ref `json:"permit,omitempty"`
	SubmittedAt time.Time `json:"submitted_at"`
	ReceivedAt  time.Time `json:"received_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	DecidedAt   time.Time `json:"decided_at,omitzero"`
	PostedAt    time.Time `json:"posted_at,omitzero"`
	// Details is the application as the applicant filled it in; nil once
	// erased (or when it did not open). Never in the API's list.
	Details   *Application `json:"-"`
	tokenHash []byte
}

const appColumns = `id, process, plate_mode, reservation, company, token_hash, lang, status, staff, second, reason, plate, fin, code, valid_until,
	permit, permit_size, details, submitted_at, received_at, updated_at, COALESCE(decided_at, 0), COALESCE(posted_at, 0)`

func scanApp(row interface{ Scan(...any) error }) (SiteApplication, error) {
	var a SiteApplication
	var permit string
	var size int64
	var details []byte
	var submitted, received, updated, decided, posted int64
	if err := row.Scan(&a.ID, &a.Process, &a.PlateMode, &a.Reservation, &a.Company, &a.tokenHash, &a.Lang, &a.Status, &a.Staff, &a.Second, &a.Reason,
		&a.Plate, &a.FIN, &a.Code, &a.ValidUntil, &permit, &size, &details, &submitted, &received, &updated, &decided, &posted); err != nil {
		return a, err
	}
	a.SubmittedAt, a.ReceivedAt, a.UpdatedAt = time.UnixMilli(submitted), time.UnixMilli(received), time.UnixMilli(updated)
	if decided > 0 {
		a.DecidedAt = time.UnixMilli(decided)
	}
	if posted > 0 {
		a.PostedAt = time.UnixMilli(posted)
	}
	if permit != "" {
		a.Permit = &blob.Ref{SHA256: permit, Size: size, Type: "application/pdf", Name: PermitName(a.ID)}
	}
	if len(details) > 0 {
		var d Application
		if err := cbor.Unmarshal(details, &d); err == nil {
			a.Details = &d
		}
	}
	return a, nil
}

// PermitName is the file name of an application's provisional proof.
func PermitName(id string) string { return "zulassungsnachweis-" + id + ".pdf" }

// Get returns one application, ENOTFOUND for an unknown id.
func Get(ctx context.Context, q workflow.Querier, id string) (SiteApplication, error) {
	a, err := scanApp(q.QueryRowContext(ctx, `SELECT `+appColumns+` FROM vehicle_applications WHERE id = ?`, strings.TrimSpace(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return a, notKnown(id)
	}
	return a, err
}

// StatusOpen selects the applications not decided yet; StatusToPost the
// approved ones whose documents have not gone out.
const (
	StatusOpen   = "open"
	StatusToPost = "to_post"
)

// SiteStatuses are the statuses an application has at the site.
var SiteStatuses = []string{StatusAtSite, StatusInReview, StatusInfoRequested, StatusApproved, StatusRejected}

// ValidFilterStatus reports whether s names a status, "open", "to_post"
// or "" (all).
func ValidFilterStatus(s string) bool {
	return s == "" || s == StatusOpen || s == StatusToPost || slices.Contains(SiteStatuses, s)
}

// ValidProcess reports whether p names a process ("" for all).
func ValidProcess(p string) bool { return p == "" || slices.Contains(Processes, p) }

// Filter selects applications for the worklist.
type Filter struct {
	Status  string // a status, StatusOpen, StatusToPost or "" (all)
	Process string // a process or "" (all)
	Limit   int
}

// Find returns the applications the filter selects, oldest first.
func Find(ctx context.Context, q workflow.Querier, f Filter) ([]SiteApplication, error) {
	query := `SELECT ` + appColumns + ` FROM vehicle_applications WHERE 1 = 1`
	var args []any
	switch f.Status {
	case "":
	case StatusOpen:
		query += ` AND status IN (?, ?, ?)`
		args = append(args, StatusAtSite, StatusInReview, StatusInfoRequested)
	case StatusToPost:
		query += ` AND status = ? AND posted_at IS NULL`
		args = append(args, StatusApproved)
	default:
		query += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Process != "" {
		query += ` AND process = ?`
		args = append(args, f.Process)
	}
	query += ` ORDER BY received_at, id LIMIT ?`
	args = append(args, f.Limit)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("vehicle: list: %w", err)
	}
	defer rows.Close()
	out := []SiteApplication{}
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, fmt.Errorf("vehicle: list: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CountOpen counts the applications not decided yet.
func CountOpen(ctx context.Context, q workflow.Querier) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM vehicle_applications WHERE status IN (?, ?, ?)`,
		StatusAtSite, StatusInReview, StatusInfoRequested).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("vehicle: count: %w", err)
	}
	return n, nil
}

// Any reports whether the site has had an application.
func Any(ctx context.Context, q workflow.Querier) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM vehicle_applications LIMIT 1)`).Scan(&n)
	return n > 0, err
}

// CheckResult is a recorded check.
type CheckResult struct {
	Name  string    `json:"check"`
	OK    bool      `json:"ok"`
	Staff string    `json:"staff"`
	At    time.Time `json:"at"`
}

// Checks returns an application's recorded checks by name.
func Checks(ctx context.Context, q workflow.Querier, id string) (map[string]CheckResult, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, ok, staff, at FROM vehicle_checks WHERE application = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("vehicle: checks: %w", err)
	}
	defer rows.Close()
	out := map[string]CheckResult{}
	for rows.Next() {
		var c CheckResult
		var at int64
		if err := rows.Scan(&c.Name, &c.OK, &c.Staff, &at); err != nil {
			return nil, err
		}
		c.At = time.UnixMilli(at)
		out[c.Name] = c
	}
	return out, rows.Err()
}

// Attachments returns the files of an application, in the order they
// came.
func Attachments(ctx context.Context, q workflow.Querier, id string) ([]Attachment, error) {
	rows, err := q.QueryContext(ctx, `SELECT kind, sha256, size, type, name FROM vehicle_attachments WHERE application = ? ORDER BY added_at, rowid`, id)
	if err != nil {
		return nil, fmt.Errorf("vehicle: attachments: %w", err)
	}
	defer rows.Close()
	var out []Attachment
	for rows.Next() {
		var a Attachment
		if err := rows.Scan(&a.Kind, &a.File.SHA256, &a.File.Size, &a.File.Type, &a.File.Name); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Supplement is what the applicant added after a request for more.
type Supplement struct {
	Note string // "" once erased
	At   time.Time
}

// Supplements returns an application's supplements, oldest first.
func Supplements(ctx context.Context, q workflow.Querier, id string) ([]Supplement, error) {
	rows, err := q.QueryContext(ctx, `SELECT COALESCE(note, ''), at FROM vehicle_supplements WHERE application = ? ORDER BY at, rowid`, id)
	if err != nil {
		return nil, fmt.Errorf("vehicle: supplements: %w", err)
	}
	defer rows.Close()
	var out []Supplement
	for rows.Next() {
		var s Supplement
		var at int64
		if err := rows.Scan(&s.Note, &at); err != nil {
			return nil, err
		}
		s.At = time.UnixMilli(at)
		out = append(out, s)
	}
	return out, rows.Err()
}

// FourEyes reports whether the site asks a second staff member to
// approve (the lead's setting: vehicle.settings_changed in the site's
// log, projected into vehicle_settings).
func FourEyes(ctx context.Context, q workflow.Querier) (bool, error) {
	st, err := Settings(ctx, q)
	return st.FourEyes, err
}

// Settings returns the site's settings as its log last set them (zero:
// never set, four eyes off), with who set them and when.
func Settings(ctx context.Context, q workflow.Querier) (SiteSettings, error) {
	rows, err := q.QueryContext(ctx, `SELECT key, value FROM vehicle_settings WHERE key IN ('four_eyes', 'four_eyes_by', 'four_eyes_at')`)
	if err != nil {
		return SiteSettings{}, fmt.Errorf("vehicle: settings: %w", err)
	}
	defer rows.Close()
	var st SiteSettings
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return SiteSettings{}, fmt.Errorf("vehicle: settings: %w", err)
		}
		switch k {
		case "four_eyes":
			st.FourEyes = v == "1"
		case "four_eyes_by":
			st.By = v
		case "four_eyes_at":
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
				st.At = time.UnixMilli(ms)
			}
		}
	}
	return st, rows.Err()
}

// ChangeSettings decides a site lead's change of the settings as of at:
// vehicle.settings_changed with who changed them, or no event when
// nothing changes. Whether staff may is the caller's check (the desk: a
// site lead or admin).
func ChangeSettings(ctx context.Context, q workflow.Querier, at time.Time, staff string, fourEyes bool) ([]workflow.Event, error) {
	st, err := Settings(ctx, q)
	if err != nil {
		return nil, err
	}
	if st.FourEyes == fourEyes {
		return nil, nil
	}
	return []workflow.Event{{Type: TypeSettingsChanged, Entity: SettingsEntity, At: at, Payload: &SettingsChanged{FourEyes: fourEyes, Staff: staff}}}, nil
}

// projectSettings keeps vehicle_settings in step with the log.
func projectSettings(ctx context.Context, q workflow.Querier, at int64, p *SettingsChanged) error {
	v := "0"
	if p.FourEyes {
		v = "1"
	}
	for k, v := range map[string]string{"four_eyes": v, "four_eyes_by": p.Staff, "four_eyes_at": strconv.FormatInt(at, 10)} {
		if _, err := q.ExecContext(ctx, `INSERT INTO vehicle_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v); err != nil {
			return err
		}
	}
	return nil
}
