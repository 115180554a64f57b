package exam

import (
	"context"
	"crypto/ecdh"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/workflow"
)

// Restoring a site from central's copy of its log (docs/SYNC.md,
// "Restoring a site"): the old appliance's box key is gone with it, so the
// data keys its exam.key_created entries carry are opened with the health
// office's escrow private key (EscrowOpener, while the entries are
// restored), and then wrapped again to the new appliance's box key
// (Rewrap), so that the new appliance reads its own log from then on.

// EscrowOpener returns an opener for sqlite.Store.Restore: it opens what
// was sealed to any of escrows (the exam data keys' escrow wrapping).
func EscrowOpener(escrows []*ecdh.PrivateKey) func(info string, sealed []byte) ([]byte, error) {
	return func(info string, sealed []byte) ([]byte, error) {
		var err error = veedel.Errorf(veedel.EINVALID, "no escrow key given")
		for _, k := range escrows {
			var plain []byte
			if plain, err = changelog.Open(k, info, sealed); err == nil {
				return plain, nil
			}
		}
		return nil, err
	}
}

// Unopened returns the ids of the logged data keys this site cannot open
// (neither its box key nor the escrow keys given to the restore opened
// them): the records sealed with them are missing.
func Unopened(ctx context.Context, q workflow.Querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM exam_keys WHERE key IS NULL ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Rewrap returns, for every data key the site holds, an exam.key_created
// event that logs the same key (same id, same escrow wrapping) wrapped to
// the site's box key (env.Seal): a restored site's new box key. It is a
// command's decision (no writes); the event's projection keeps the key
// the site has.
func Rewrap(ctx context.Context, q workflow.Querier, env workflow.Env, at time.Time) ([]workflow.Event, error) {
	if env.Seal == nil {
		return nil, veedel.Errorf(veedel.EUNAVAILABLE, "Dieser Standort hat keinen Box-Schlüssel / this site has no box key")
	}
	rows, err := q.QueryContext(ctx, `SELECT id, escrow_pub, key FROM exam_keys WHERE key IS NOT NULL ORDER BY created_at, rowid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []workflow.Event
	for rows.Next() {
		var id string
		var pub, key []byte
		if err := rows.Scan(&id, &pub, &key); err != nil {
			return nil, err
		}
		forSite, err := env.Seal(keyInfo(env.Site, id), key)
		if err != nil {
			return nil, err
		}
		forEscrow, err := changelog.Seal(pub, keyInfo(env.Site, id), key)
		if err != nil {
			return nil, fmt.Errorf("exam: key %s: escrow key: %w", id, err)
		}
		evs = append(evs, workflow.Event{Type: TypeKeyCreated, Entity: "exam.key/" + id, At: at,
			Payload: &KeyCreated{Key: id, EscrowPub: pub, ForSite: forSite, ForEscrow: forEscrow}})
	}
	return evs, rows.Err()
}

// EscrowInForce returns the escrow public key of the newest data key the
// site holds (nil for none): what a restored site keeps escrowing to when
// no -exam-escrow-pub is given.
func EscrowInForce(ctx context.Context, q workflow.Querier) ([]byte, error) {
	var pub []byte
	err := q.QueryRowContext(ctx, `SELECT escrow_pub FROM exam_keys WHERE key IS NOT NULL ORDER BY created_at DESC, rowid DESC LIMIT 1`).Scan(&pub)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return pub, err
}
