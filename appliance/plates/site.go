package plates

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/workflow"
)

// Split reads a canonical plate ("K-AB 123") into its letters and digits.
func Split(plate string) (letters string, digits int, ok bool) {
	p, msg := vehicle.ParsePlate(plate, nil)
	if msg != "" || p.String() != plate {
		return "", 0, false
	}
	d, _ := strconv.Atoi(p.Digits)
	return p.Letters, d, true
}

// Name is the canonical plate of letters and digits.
func Name(letters string, digits int) string { return "K-" + letters + " " + strconv.Itoa(digits) }

// TokenHash is the SHA-256 of a reservation token, as it travels.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return h[:]
}

func validBlock(b Block) bool {
	if b.ID <= 0 || b.First < 1 || b.Last > 9999 || b.First > b.Last {
		return false
	}
	if _, _, ok := Split(Name(b.Letters, b.First)); !ok {
		return false
	}
	for _, d := range b.Except {
		if d < b.First || d > b.Last {
			return false
		}
	}
	return true
}

// accept takes what central sends: a block or a reservation becomes the
// site's, each once however often delivered.
func accept(ctx context.Context, q workflow.Querier, env workflow.Env, at time.Time, e workflow.Event) ([]workflow.Event, error) {
	switch p := e.Payload.(type) {
	case *BlockGranted:
		if !validBlock(p.Block) {
			return nil, veedel.Errorf(veedel.EINVALID, "Kennzeichenblock %d fehlerhaft / plate block %d malformed", p.ID, p.ID)
		}
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM plate_blocks WHERE id = ?`, p.ID).Scan(&n); err != nil {
			return nil, fmt.Errorf("plates: block: %w", err)
		}
		if n > 0 {
			return nil, nil
		}
		return []workflow.Event{{Type: TypeBlockReceived, Entity: fmt.Sprintf("plateblock/%d", p.ID), At: at, Payload: &BlockReceived{Block: p.Block}}}, nil
	case *ReservationSent:
		if _, _, ok := Split(p.Plate); !ok || len(p.TokenHash) != sha256.Size || p.Expires <= 0 {
			return nil, veedel.Errorf(veedel.EINVALID, "Reservierung %q fehlerhaft / reservation %q malformed", p.Plate, p.Plate)
		}
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM plate_reservations WHERE token_hash = ?`, p.TokenHash).Scan(&n); err != nil {
			return nil, fmt.Errorf("plates: reservation: %w", err)
		}
		if n > 0 {
			return nil, nil
		}
		return []workflow.Event{{Type: TypeReservationReceived, Entity: entity(p.Plate), At: at, Payload: &ReservationReceived{ReservationSent: *p}}}, nil
	}
	return nil, veedel.Errorf(veedel.EINVALID, "Ereignis %s wird von der Zentrale nicht angenommen / event %s is not accepted from central", e.Type, e.Type)
}

// Reservation statuses at the site.
const (
	ResvReceived = "received"
	ResvAssigned = "assigned"
	ResvReturned = "returned"
)

func project(ctx context.Context, q workflow.Querier, env workflow.Env, e workflow.Event) error {
	at := e.At.UnixMilli()
	var err error
	switch p := e.Payload.(type) {
	case *BlockReceived:
		except := make([]string, len(p.Except))
		for i, d := range p.Except {
			except[i] = strconv.Itoa(d)
		}
		_, err = q.ExecContext(ctx, `INSERT INTO plate_blocks (id, letters, first, last, except_digits, size, received_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			p.ID, p.Letters, p.First, p.Last, strings.Join(except, ","), p.Size(), at)
	case *ReservationReceived:
		_, err = q.ExecContext(ctx, `INSERT INTO plate_reservations (token_hash, plate, expires_at, status, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (token_hash) DO NOTHING`, p.TokenHash, p.Plate, p.Expires, ResvReceived, at)
	case *Assigned:
		_, digits, _ := Split(p.Plate)
		if _, err = q.ExecContext(ctx, `INSERT INTO plate_assignments (plate, block, digits, token_hash, ref, assigned_at)
			VALUES (?, ?, ?, ?, ?, ?)`, p.Plate, p.Block, digits, p.TokenHash, p.Ref, at); err != nil {
			return fmt.Errorf("plates: assign %s: %w", p.Plate, err)
		}
		if p.TokenHash != nil {
			_, err = q.ExecContext(ctx, `UPDATE plate_reservations SET status = ?, updated_at = ? WHERE token_hash = ?`, ResvAssigned, at, p.TokenHash)
		}
	case *Returned:
		if p.Reason == ReturnExpired {
			_, err = q.ExecContext(ctx, `UPDATE plate_reservations SET status = ?, updated_at = ? WHERE token_hash = ?`, ResvReturned, at, p.TokenHash)
		} else {
			_, err = q.ExecContext(ctx, `UPDATE plate_assignments SET returned_at = ? WHERE plate = ? AND returned_at IS NULL`, at, p.Plate)
		}
	case *BlockGranted, *ReservationSent:
		return fmt.Errorf("%s is central's and never in the site's log", e.Type)
	}
	if err != nil {
		return fmt.Errorf("plates: %s: %w", e.Type, err)
	}
	return nil
}

// AssignRequest is what the desk asks for: the next plate of the site's
// blocks, or (Token set) the plate a citizen reserved.
type AssignRequest struct {
	Token string `json:"reservation_token,omitempty"`
	// TokenHash names the reservation by its token's hash instead (an
	// online application carries the hash, never the token).
	TokenHash []byte `json:"-"`
	// Ref is the desk's reference of the registration (a case number);
	// never personal data.
	Ref string `json:"ref,omitempty"`
}

// MaxRef bounds a reference.
const MaxRef = 64

// Assign decides the assignment of a plate at the site. Reservations that
// expired unused go back to central in the same command. EUNAVAILABLE
// when the site's blocks are used up (the next block is on its way).
func Assign(ctx context.Context, q workflow.Querier, at time.Time, req AssignRequest) ([]workflow.Event, *Assigned, error) {
	req.Ref = strings.TrimSpace(req.Ref)
	if len(req.Ref) > MaxRef {
		return nil, nil, &veedel.Error{Code: veedel.EINVALID, Message: "Bitte die markierten Angaben prüfen / please check the fields marked",
			Fields: map[string]string{"ref": fmt.Sprintf("Höchstens %d Zeichen / at most %d characters", MaxRef, MaxRef)}}
	}
	if ch, bad := veedel.UnsafeRune(req.Ref); bad {
		de, en := veedel.DescribeRune(ch)
		return nil, nil, &veedel.Error{Code: veedel.EINVALID, Message: "Bitte die markierten Angaben prüfen / please check the fields marked",
			Fields: map[string]string{"ref": "Enthält " + de + " / contains " + en}}
	}
	events, err := expire(ctx, q, at)
	if err != nil {
		return nil, nil, err
	}
	left, err := Left(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	var a *Assigned
	if strings.TrimSpace(req.Token) != "" || req.TokenHash != nil {
		hash := req.TokenHash
		if hash == nil {
			hash = TokenHash(req.Token)
		}
		var plate, status string
		var expires int64
		err := q.QueryRowContext(ctx, `SELECT plate, status, expires_at FROM plate_reservations WHERE token_hash = ?`, hash).Scan(&plate, &status, &expires)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil, nil, &veedel.Error{Code: veedel.ENOTFOUND, Message: "Diese Reservierung ist hier nicht bekannt / this reservation is not known here",
				Fields: map[string]string{"reservation_token": "Unbekannt an diesem Standort / unknown at this site"}}
		case err != nil:
			return nil, nil, fmt.Errorf("plates: reservation: %w", err)
		case status == ResvAssigned:
			return nil, nil, veedel.Errorf(veedel.ECONFLICT, "Das reservierte Kennzeichen %s ist schon zugeteilt / the reserved plate %s has been assigned already", plate, plate)
		case status == ResvReturned || expires <= at.UnixMilli():
			return nil, nil, veedel.Errorf(veedel.ECONFLICT, "Die Reservierung von %s ist abgelaufen / the reservation of %s has expired", plate, plate)
		}
		a = &Assigned{Plate: plate, TokenHash: hash, Ref: req.Ref, Left: left}
	} else {
		block, plate, err := next(ctx, q)
		if err != nil {
			return nil, nil, err
		}
		a = &Assigned{Plate: plate, Block: block, Ref: req.Ref, Left: left - 1}
	}
	return append(events, workflow.Event{Type: TypeAssigned, Entity: entity(a.Plate), At: at, Payload: a}), a, nil
}

// next finds the next free plate of the site's blocks, the oldest block
// first, each block in order of its digits.
func next(ctx context.Context, q workflow.Querier) (int64, string, error) {
	rows, err := q.QueryContext(ctx, `SELECT b.id, b.letters, b.first, b.last, b.except_digits,
		COALESCE((SELECT max(a.digits) FROM plate_assignments a WHERE a.block = b.id), 0)
		FROM plate_blocks b WHERE b.size > (SELECT count(*) FROM plate_assignments a WHERE a.block = b.id) ORDER BY b.id`)
	if err != nil {
		return 0, "", fmt.Errorf("plates: blocks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b Block
		var except string
		var last int
		if err := rows.Scan(&b.ID, &b.Letters, &b.First, &b.Last, &except, &last); err != nil {
			return 0, "", fmt.Errorf("plates: blocks: %w", err)
		}
		skip := map[int]bool{}
		for _, s := range strings.Split(except, ",") {
			if d, err := strconv.Atoi(s); err == nil {
				skip[d] = true
			}
		}
		for d := max(b.First, last+1); d <= b.Last; d++ {
			if !skip[d] {
				return b.ID, Name(b.Letters, d), nil
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, "", fmt.Errorf("plates: blocks: %w", err)
	}
	return 0, "", veedel.Errorf(veedel.EUNAVAILABLE, "Keine freien Kennzeichen mehr: der nächste Block kommt von der Zentrale, sobald der Standort verbunden ist / no free plates left: the next block comes from central once the site is connected")
}

// Left counts the plates the site's blocks still hold.
func Left(ctx context.Context, q workflow.Querier) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COALESCE((SELECT sum(size) FROM plate_blocks), 0)
		- (SELECT count(*) FROM plate_assignments WHERE block > 0)`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("plates: left: %w", err)
	}
	return n, nil
}

// expire gives back the reservations that ran out unused.
func expire(ctx context.Context, q workflow.Querier, at time.Time) ([]workflow.Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT plate, token_hash FROM plate_reservations WHERE status = ? AND expires_at <= ? ORDER BY expires_at, plate`,
		ResvReceived, at.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("plates: expired: %w", err)
	}
	defer rows.Close()
	var out []workflow.Event
	for rows.Next() {
		var r Returned
		if err := rows.Scan(&r.Plate, &r.TokenHash); err != nil {
			return nil, fmt.Errorf("plates: expired: %w", err)
		}
		r.Reason = ReturnExpired
		out = append(out, workflow.Event{Type: TypeReturned, Entity: entity(r.Plate), At: at, Payload: &r})
	}
	return out, rows.Err()
}

// Return gives an assigned plate back to central (the registration was
// cancelled): the site never assigns it again; central may.
func Return(ctx context.Context, q workflow.Querier, at time.Time, plate string) ([]workflow.Event, error) {
	p, msg := vehicle.ParsePlate(plate, nil)
	if msg != "" {
		return nil, &veedel.Error{Code: veedel.EINVALID, Message: msg, Fields: map[string]string{"plate": msg}}
	}
	var block int64
	err := q.QueryRowContext(ctx, `SELECT block FROM plate_assignments WHERE plate = ? AND returned_at IS NULL`, p.String()).Scan(&block)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, veedel.Errorf(veedel.ENOTFOUND, "%s ist hier nicht zugeteilt / %s is not assigned here", p, p)
	} else if err != nil {
		return nil, fmt.Errorf("plates: return: %w", err)
	}
	return []workflow.Event{{Type: TypeReturned, Entity: entity(p.String()), At: at,
		Payload: &Returned{Plate: p.String(), Reason: ReturnCancelled, Block: block}}}, nil
}

// Overview is the site's plates as the desk sees them.
type Overview struct {
	Blocks       []BlockView `json:"blocks"`
	Left         int         `json:"left"`
	Assigned     int         `json:"assigned"`
	Reservations int         `json:"reservations_open"`
}

// BlockView is one block with how many of its plates are given out.
type BlockView struct {
	ID    int64  `json:"id"`
	From  string `json:"from"`
	To    string `json:"to"`
	Size  int    `json:"size"`
	Used  int    `json:"used"`
	Since int64  `json:"-"`
}

// Summary reads the site's plates.
func Summary(ctx context.Context, q workflow.Querier) (Overview, error) {
	out := Overview{Blocks: []BlockView{}}
	rows, err := q.QueryContext(ctx, `SELECT b.id, b.letters, b.first, b.last, b.size,
		(SELECT count(*) FROM plate_assignments a WHERE a.block = b.id) FROM plate_blocks b ORDER BY b.id`)
	if err != nil {
		return out, fmt.Errorf("plates: summary: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v BlockView
		var letters string
		var first, last int
		if err := rows.Scan(&v.ID, &letters, &first, &last, &v.Size, &v.Used); err != nil {
			return out, fmt.Errorf("plates: summary: %w", err)
		}
		v.From, v.To = Name(letters, first), Name(letters, last)
		out.Left += v.Size - v.Used
		out.Blocks = append(out.Blocks, v)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	err = q.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM plate_assignments WHERE returned_at IS NULL),
		(SELECT count(*) FROM plate_reservations WHERE status = ?)`, ResvReceived).Scan(&out.Assigned, &out.Reservations)
	return out, err
}

// Issued lists every plate the site assigned and has not given back.
func Issued(ctx context.Context, q workflow.Querier) ([]Assigned, error) {
	rows, err := q.QueryContext(ctx, `SELECT plate, block, token_hash, ref FROM plate_assignments WHERE returned_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("plates: issued: %w", err)
	}
	defer rows.Close()
	var out []Assigned
	for rows.Next() {
		var a Assigned
		if err := rows.Scan(&a.Plate, &a.Block, &a.TokenHash, &a.Ref); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
