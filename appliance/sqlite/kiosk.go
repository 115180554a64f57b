package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/internal/login"
)

// Kiosk pairing: a site lead creates a one-time pairing code at the desk
// (CreateKioskPairing); the kiosk's browser sends it once (PairKiosk) and
// from then on carries a long-lived device cookie (KioskByToken). Only
// hashes of codes and cookies are stored. UnpairKiosk ends a device.

// PairingCodeLifetime is how long a pairing code can be used.
const PairingCodeLifetime = 15 * time.Minute

// kioskSeenEvery is how stale a device's last_seen may get before a
// request writes it again: the desk's list needs no more.
const kioskSeenEvery = time.Minute

// pairingAlphabet has no 0/O and 1/I: a code read off a screen is typed
// right. 8 characters of 32 are 40 bits; codes live 15 minutes, are
// single-use, and guessing is throttled per client (the server).
const pairingAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// KioskDevice is a paired kiosk.
type KioskDevice struct {
	ID       int64
	Name     string
	PairedBy string
	PairedAt time.Time
	LastSeen time.Time
}

// KioskPairing is an open pairing code (the code itself is not kept).
type KioskPairing struct {
	Name      string
	CreatedBy string
	ExpiresAt time.Time
}

var errPairingCode = veedel.Errorf(veedel.EUNAUTHORIZED, "Kopplungscode unbekannt, schon benutzt oder abgelaufen: bitte am Schalter einen neuen erzeugen / pairing code unknown, used or expired: create a new one at the desk")

// NormalizePairingCode makes a typed code comparable: upper case, without
// spaces and dashes.
func NormalizePairingCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, code)
}

// KioskName checks and trims a kiosk's name: 1 to 60 characters, no
// control or bidi formatting characters.
func KioskName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 60 {
		return "", veedel.Errorf(veedel.EINVALID, "Bitte einen Namen mit 1 bis 60 Zeichen angeben, z. B. „Kiosk Eingang“ / please give a name of 1 to 60 characters")
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", veedel.Errorf(veedel.EINVALID, "Der Name enthält Steuerzeichen / the name contains control characters")
		}
	}
	return name, nil
}

func pairingHash(code string) []byte {
	sum := sha256.Sum256([]byte("veedel-kiosk-pairing\x00" + NormalizePairingCode(code)))
	return sum[:]
}

// CreateKioskPairing creates a one-time code that pairs one kiosk under
// name, valid for PairingCodeLifetime. It returns the code as shown
// ("K7QM-4XPA") and when it expires.
func (s *Store) CreateKioskPairing(ctx context.Context, name, by string) (string, time.Time, error) {
	name, err := KioskName(name)
	if err != nil {
		return "", time.Time{}, err
	}
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = pairingAlphabet[int(b[i])%len(pairingAlphabet)]
	}
	code := string(b[:4]) + "-" + string(b[4:])
	now := s.now()
	expires := now.Add(PairingCodeLifetime)
	_, err = s.db.Write.ExecContext(ctx, `DELETE FROM kiosk_pairings WHERE expires_at <= ?`, now.UnixMilli())
	if err == nil {
		_, err = s.db.Write.ExecContext(ctx, `INSERT INTO kiosk_pairings (code_hash, name, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			pairingHash(code), name, by, now.UnixMilli(), expires.UnixMilli())
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("store: create kiosk pairing: %w", err)
	}
	return code, expires, nil
}

// PairKiosk uses a pairing code: in one transaction the code is deleted
// and the device recorded. It returns the device's cookie value (256
// random bits; only its hash is stored) and the device. An unknown, used
// or expired code is EUNAUTHORIZED and changes nothing.
func (s *Store) PairKiosk(ctx context.Context, code string) (string, KioskDevice, error) {
	now := s.now()
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return "", KioskDevice{}, fmt.Errorf("store: pair kiosk: %w", err)
	}
	defer tx.Rollback()
	var d KioskDevice
	err = tx.QueryRowContext(ctx, `DELETE FROM kiosk_pairings WHERE code_hash = ? AND expires_at > ? RETURNING name, created_by`,
		pairingHash(code), now.UnixMilli()).Scan(&d.Name, &d.PairedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return "", KioskDevice{}, errPairingCode
	} else if err != nil {
		return "", KioskDevice{}, fmt.Errorf("store: pair kiosk: %w", err)
	}
	token, hash := login.NewSession()
	d.PairedAt, d.LastSeen = time.UnixMilli(now.UnixMilli()), time.UnixMilli(now.UnixMilli())
	if err := tx.QueryRowContext(ctx, `INSERT INTO kiosk_devices (token_hash, name, paired_by, paired_at, last_seen) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		hash, d.Name, d.PairedBy, now.UnixMilli(), now.UnixMilli()).Scan(&d.ID); err != nil {
		return "", KioskDevice{}, fmt.Errorf("store: pair kiosk: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", KioskDevice{}, fmt.Errorf("store: pair kiosk: %w", err)
	}
	return token, d, nil
}

// KioskByToken returns the paired device a cookie value belongs to
// (EUNAUTHORIZED: none, e.g. unpaired), and notes that it was seen.
func (s *Store) KioskByToken(ctx context.Context, token string) (KioskDevice, error) {
	if token == "" || len(token) > 100 {
		return KioskDevice{}, errNotPaired
	}
	hash := login.SessionHash(token)
	if d, ok := s.kiosks.get(string(hash), s.now()); ok {
		return d, nil
	}
	gen := s.kiosks.generation()
	var d KioskDevice
	var pairedAt, lastSeen int64
	err := s.db.Read.QueryRowContext(ctx, `SELECT id, name, paired_by, paired_at, last_seen FROM kiosk_devices WHERE token_hash = ?`, hash).
		Scan(&d.ID, &d.Name, &d.PairedBy, &pairedAt, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return KioskDevice{}, errNotPaired
	} else if err != nil {
		return KioskDevice{}, fmt.Errorf("store: kiosk device: %w", err)
	}
	d.PairedAt, d.LastSeen = time.UnixMilli(pairedAt), time.UnixMilli(lastSeen)
	if now := s.now(); now.Sub(d.LastSeen) >= kioskSeenEvery {
		if _, err := s.db.Write.ExecContext(ctx, `UPDATE kiosk_devices SET last_seen = ? WHERE id = ?`, now.UnixMilli(), d.ID); err != nil {
			return KioskDevice{}, fmt.Errorf("store: kiosk device seen: %w", err)
		}
		d.LastSeen = time.UnixMilli(now.UnixMilli())
	}
	s.kiosks.put(gen, string(hash), d)
	return d, nil
}

var errNotPaired = veedel.Errorf(veedel.EUNAUTHORIZED, "Dieses Gerät ist nicht (mehr) als Kiosk gekoppelt / this device is not (any longer) paired as a kiosk")

// KioskDevices lists the paired kiosks, oldest first.
func (s *Store) KioskDevices(ctx context.Context) ([]KioskDevice, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT id, name, paired_by, paired_at, last_seen FROM kiosk_devices ORDER BY paired_at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: list kiosks: %w", err)
	}
	defer rows.Close()
	var out []KioskDevice
	for rows.Next() {
		var d KioskDevice
		var pairedAt, lastSeen int64
		if err := rows.Scan(&d.ID, &d.Name, &d.PairedBy, &pairedAt, &lastSeen); err != nil {
			return nil, fmt.Errorf("store: list kiosks: %w", err)
		}
		d.PairedAt, d.LastSeen = time.UnixMilli(pairedAt), time.UnixMilli(lastSeen)
		out = append(out, d)
	}
	return out, rows.Err()
}

// KioskPairings lists the pairing codes not used and not expired yet.
func (s *Store) KioskPairings(ctx context.Context) ([]KioskPairing, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT name, created_by, expires_at FROM kiosk_pairings WHERE expires_at > ? ORDER BY expires_at`, s.now().UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: list kiosk pairings: %w", err)
	}
	defer rows.Close()
	var out []KioskPairing
	for rows.Next() {
		var p KioskPairing
		var expires int64
		if err := rows.Scan(&p.Name, &p.CreatedBy, &expires); err != nil {
			return nil, fmt.Errorf("store: list kiosk pairings: %w", err)
		}
		p.ExpiresAt = time.UnixMilli(expires)
		out = append(out, p)
	}
	return out, rows.Err()
}

// UnpairKiosk forgets a paired kiosk: its cookie stops working at once.
func (s *Store) UnpairKiosk(ctx context.Context, id int64) (KioskDevice, error) {
	var d KioskDevice
	err := s.db.Write.QueryRowContext(ctx, `DELETE FROM kiosk_devices WHERE id = ? RETURNING id, name`, id).Scan(&d.ID, &d.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return d, veedel.Errorf(veedel.ENOTFOUND, "Diesen Kiosk gibt es nicht (mehr) / no such kiosk (any more)")
	} else if err != nil {
		return d, fmt.Errorf("store: unpair kiosk: %w", err)
	}
	s.kiosks.forget()
	return d, nil
}

// kioskCache remembers the paired kiosks a request was seen from, so that
// a kiosk's every ticket does not look its cookie up in the database: an
// entry lasts until the device's last_seen is due to be written again
// (kioskSeenEvery). Unpairing empties it, and a lookup that began before
// an unpairing does not put its answer in (gen), so an unpaired kiosk's
// cookie stops working at once.
type kioskCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]KioskDevice // by token hash
}

func (c *kioskCache) get(hash string, now time.Time) (KioskDevice, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.m[hash]
	if !ok || now.Sub(d.LastSeen) >= kioskSeenEvery {
		return KioskDevice{}, false
	}
	return d, true
}

func (c *kioskCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *kioskCache) put(gen uint64, hash string, d KioskDevice) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil {
		c.m = map[string]KioskDevice{}
	}
	c.m[hash] = d
}

func (c *kioskCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}
