package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// The outbound log: per site, gap-free by seq and hash-chained. Seqs are
// assigned inside the writer's transaction from the site's current head;
// the primary key (site, seq) refuses a second writer racing for the same
// seq (which the PostgreSQL store will retry).

// AppendOutbound appends events to one site's outbound log, or, with site
// "", records them as city-wide reference data and appends them to every
// joined site, all in one transaction.
func (s *Store) AppendOutbound(ctx context.Context, site string, events []central.Outgoing, at time.Time, clock func() changelog.HLC) ([]string, error) {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	// One timestamp per event: every site's copy of it carries the same.
	stamped := make([]stampedEvent, len(events))
	for i, e := range events {
		payload, err := changelog.Marshal(e.Payload)
		if err != nil {
			return nil, fmt.Errorf("store: encode %s: %w", e.Type, err)
		}
		stamped[i] = stampedEvent{Outgoing: central.Outgoing{Type: e.Type, Entity: e.Entity, Payload: cbor.RawMessage(payload)}, hlc: clock()}
	}

	var sites []string
	if site != "" {
		if err := appendOutbound(ctx, tx, site, stamped, at); err != nil {
			return nil, err
		}
		sites = []string{site}
	} else {
		for _, e := range stamped {
			if _, err := tx.ExecContext(ctx, `INSERT INTO city_reference (entity, type, payload, hlc, updated_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (entity) DO UPDATE SET type = excluded.type, payload = excluded.payload, hlc = excluded.hlc, updated_at = excluded.updated_at`,
				e.Entity, e.Type, []byte(e.Payload.(cbor.RawMessage)), int64(e.hlc), at.UnixMilli()); err != nil {
				return nil, fmt.Errorf("store: record reference %s: %w", e.Entity, err)
			}
		}
		joined, err := querySites(ctx, tx, `SELECT site FROM outbound_sites ORDER BY site`)
		if err != nil {
			return nil, err
		}
		for _, js := range joined {
			if err := appendOutbound(ctx, tx, js, stamped, at); err != nil {
				return nil, err
			}
		}
		// Sites whose log central stores but that have not joined yet
		// (their log arrived before the outbound log existed) join now and
		// get all reference data, which includes these events already.
		late, err := querySites(ctx, tx, `SELECT id FROM sites WHERE acked_seq > 0 AND id NOT IN (SELECT site FROM outbound_sites) ORDER BY id`)
		if err != nil {
			return nil, err
		}
		for _, ls := range late {
			if _, err := joinSite(ctx, tx, ls, at, clock); err != nil {
				return nil, err
			}
		}
		sites = append(joined, late...)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: commit outbound: %w", err)
	}
	return sites, nil
}

type stampedEvent struct {
	central.Outgoing // Payload is a cbor.RawMessage
	hlc              changelog.HLC
}

// JoinSite lets site receive the city-wide reference data; the first time
// it appends all of it to the site's outbound log.
func (s *Store) JoinSite(ctx context.Context, site string, at time.Time, clock func() changelog.HLC) (bool, error) {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	joined, err := joinSite(ctx, tx, site, at, clock)
	if err != nil || !joined {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: commit join: %w", err)
	}
	return true, nil
}

func joinSite(ctx context.Context, tx *sql.Tx, site string, at time.Time, clock func() changelog.HLC) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO outbound_sites (site, joined_at) VALUES (?, ?) ON CONFLICT (site) DO NOTHING`, site, at.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("store: join %s: %w", site, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	events, err := referenceEvents(ctx, tx)
	if err != nil {
		return false, err
	}
	for i := range events {
		events[i].hlc = clock()
	}
	return true, appendOutbound(ctx, tx, site, events, at)
}

// referenceEvents returns the city's current reference data in the order a
// site must apply it. Rows are updated in place, so age alone would put a
// group edited after its services behind them, and the site would refuse
// the services: dependencies first, then by age.
func referenceEvents(ctx context.Context, tx *sql.Tx) ([]stampedEvent, error) {
	rows, err := tx.QueryContext(ctx, `SELECT entity, type, payload FROM city_reference ORDER BY hlc, entity`)
	if err != nil {
		return nil, fmt.Errorf("store: read reference data: %w", err)
	}
	defer rows.Close()
	var events []stampedEvent
	for rows.Next() {
		var e stampedEvent
		var payload []byte
		if err := rows.Scan(&e.Entity, &e.Type, &payload); err != nil {
			return nil, fmt.Errorf("store: read reference data: %w", err)
		}
		e.Payload = cbor.RawMessage(payload)
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read reference data: %w", err)
	}
	slices.SortStableFunc(events, func(a, b stampedEvent) int {
		return cmp.Compare(central.ReferenceRank(a.Type), central.ReferenceRank(b.Type))
	})
	return events, nil
}

// RejoinSite appends the current reference data to a joined site's
// outbound log again: the city's, in the order a join uses, then the
// newest entry of each entity of the site's own reference data
// (central.SiteReferenceTypes) from its log. after is the site's download
// cursor when it asked. A request with after at or below the last
// replayed request's is that request again (its replay still lies ahead of
// the site's cursor): nothing is appended and it counts as done. Another
// replay within minInterval of the last one is not done yet (the site asks
// again). It reports whether the request is done and how many entries it
// appended; a site that has not joined is not done.
func (s *Store) RejoinSite(ctx context.Context, site string, after uint64, at time.Time, minInterval time.Duration, clock func() changelog.HLC) (bool, int, error) {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return false, 0, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	var lastAfter, lastAt sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT rejoin_after, rejoined_at FROM outbound_sites WHERE site = ?`, site).Scan(&lastAfter, &lastAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, 0, nil
	case err != nil:
		return false, 0, fmt.Errorf("store: read rejoin of %s: %w", site, err)
	case lastAfter.Valid && after <= uint64(lastAfter.Int64):
		return true, 0, nil
	case lastAt.Valid && at.Sub(time.UnixMilli(lastAt.Int64)) < minInterval:
		return false, 0, nil
	}
	var head uint64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM outbound WHERE site = ?`, site).Scan(&head); err != nil {
		return false, 0, fmt.Errorf("store: outbound head of %s: %w", site, err)
	}
	if after > head {
		// The site applied more than central's log holds (central was
		// restored from a backup): the download refuses that poll anyway.
		return false, 0, nil
	}
	events, err := referenceEvents(ctx, tx)
	if err != nil {
		return false, 0, err
	}
	// Twice: the site refused edits while it skipped, so its letters may
	// differ from central's, and a group can be refused on the first pass
	// only because a service that the same pass moves still holds its
	// letter. What the site has by the second pass is "unchanged" there.
	events = append(events, events...)
	own, err := siteReference(ctx, tx, site)
	if err != nil {
		return false, 0, err
	}
	events = append(events, own...)
	for i := range events {
		events[i].hlc = clock()
	}
	if err := appendOutbound(ctx, tx, site, events, at); err != nil {
		return false, 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE outbound_sites SET rejoin_after = ?, rejoined_at = ? WHERE site = ?`, after, at.UnixMilli(), site); err != nil {
		return false, 0, fmt.Errorf("store: record rejoin of %s: %w", site, err)
	}
	if err := tx.Commit(); err != nil {
		return false, 0, fmt.Errorf("store: commit rejoin: %w", err)
	}
	return true, len(events), nil
}

// siteReference returns the newest entry of each entity of the site's own
// reference data in its outbound log, oldest first.
func siteReference(ctx context.Context, tx *sql.Tx, site string) ([]stampedEvent, error) {
	var events []stampedEvent
	for _, typ := range central.SiteReferenceTypes {
		rows, err := tx.QueryContext(ctx, `SELECT o.entity, o.type, o.payload FROM outbound o
			WHERE o.site = ? AND o.type = ? AND o.seq = (SELECT max(seq) FROM outbound WHERE site = o.site AND entity = o.entity)
			ORDER BY o.seq`, site, typ)
		if err != nil {
			return nil, fmt.Errorf("store: read %s's reference data: %w", site, err)
		}
		for rows.Next() {
			var e stampedEvent
			var payload []byte
			if err := rows.Scan(&e.Entity, &e.Type, &payload); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: read %s's reference data: %w", site, err)
			}
			e.Payload = cbor.RawMessage(payload)
			events = append(events, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: read %s's reference data: %w", site, err)
		}
	}
	return events, nil
}

// appendOutbound appends events to site's outbound log after its head.
func appendOutbound(ctx context.Context, tx *sql.Tx, site string, events []stampedEvent, at time.Time) error {
	if len(events) == 0 {
		return nil
	}
	var prev *changelog.Entry
	var head changelog.Entry
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM outbound WHERE site = ? ORDER BY seq DESC LIMIT 1`, site).Scan(&head.Seq, &head.Hash)
	switch {
	case err == nil:
		prev = &head
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("store: outbound head of %s: %w", site, err)
	}
	for _, ev := range events {
		e, err := changelog.NewEntry(site, prev, ev.hlc, ev.Type, ev.Entity, ev.Payload)
		if err != nil {
			return fmt.Errorf("store: outbound entry for %s: %w", site, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbound (site, seq, version, hlc, type, entity, payload, prev, hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			site, e.Seq, e.Version, int64(e.HLC), e.Type, e.Entity, []byte(e.Payload), e.Prev, e.Hash, at.UnixMilli()); err != nil {
			return fmt.Errorf("store: append outbound %d for %s: %w", e.Seq, site, err)
		}
		prev = &e
	}
	return nil
}

func querySites(ctx context.Context, tx *sql.Tx, query string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("store: list sites: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var site string
		if err := rows.Scan(&site); err != nil {
			return nil, fmt.Errorf("store: list sites: %w", err)
		}
		out = append(out, site)
	}
	return out, rows.Err()
}

// Outbound returns up to limit entries of site's outbound log after seq,
// stopping before maxBytes (at least one entry when there is one), and the
// log's head.
func (s *Store) Outbound(ctx context.Context, site string, after uint64, limit, maxBytes int) ([]changelog.Entry, uint64, error) {
	// Read the head and the entries in one transaction, so that the head
	// is never behind the entries.
	tx, err := s.db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, fmt.Errorf("store: begin read: %w", err)
	}
	defer tx.Rollback()
	var head uint64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM outbound WHERE site = ?`, site).Scan(&head); err != nil {
		return nil, 0, fmt.Errorf("store: outbound head of %s: %w", site, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, version, hlc, type, entity, payload, prev, hash FROM outbound WHERE site = ? AND seq > ? ORDER BY seq LIMIT ?`, site, after, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("store: read outbound of %s: %w", site, err)
	}
	defer rows.Close()
	var out []changelog.Entry
	size := 0
	for rows.Next() {
		e := changelog.Entry{Site: site}
		var hlc int64
		if err := rows.Scan(&e.Seq, &e.Version, &hlc, &e.Type, &e.Entity, &e.Payload, &e.Prev, &e.Hash); err != nil {
			return nil, 0, fmt.Errorf("store: read outbound of %s: %w", site, err)
		}
		e.HLC = changelog.HLC(hlc)
		if len(e.Prev) == 0 {
			e.Prev = nil
		}
		size += len(e.Payload) + len(e.Entity) + len(e.Type) + 80
		if len(out) > 0 && size > maxBytes {
			break
		}
		out = append(out, e)
	}
	return out, head, rows.Err()
}

// OutboundHeads returns the head of every site's outbound log.
func (s *Store) OutboundHeads(ctx context.Context) (map[string]uint64, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT site, max(seq) FROM outbound GROUP BY site`)
	if err != nil {
		return nil, fmt.Errorf("store: outbound heads: %w", err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var site string
		var head uint64
		if err := rows.Scan(&site, &head); err != nil {
			return nil, fmt.Errorf("store: outbound heads: %w", err)
		}
		out[site] = head
	}
	return out, rows.Err()
}

// CityReference returns the current city-wide reference events of a type,
// payloads as encoded bytes, oldest first.
func (s *Store) CityReference(ctx context.Context, eventType string) ([]central.Outgoing, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT entity, type, payload FROM city_reference WHERE type = ? ORDER BY hlc, entity`, eventType)
	if err != nil {
		return nil, fmt.Errorf("store: reference data: %w", err)
	}
	defer rows.Close()
	var out []central.Outgoing
	for rows.Next() {
		var o central.Outgoing
		var payload []byte
		if err := rows.Scan(&o.Entity, &o.Type, &payload); err != nil {
			return nil, fmt.Errorf("store: reference data: %w", err)
		}
		o.Payload = payload
		out = append(out, o)
	}
	return out, rows.Err()
}

// LastOutboundHLC is the highest timestamp of any outbound entry.
func (s *Store) LastOutboundHLC(ctx context.Context) (changelog.HLC, error) {
	var hlc int64
	if err := s.db.Read.QueryRowContext(ctx, `SELECT coalesce(max(hlc), 0) FROM outbound`).Scan(&hlc); err != nil {
		return 0, fmt.Errorf("store: last outbound timestamp: %w", err)
	}
	return changelog.HLC(hlc), nil
}

// OutboundOfType returns the entries of eventType appended to any site's
// outbound log at or after since, without payloads, oldest first.
func (s *Store) OutboundOfType(ctx context.Context, eventType string, since time.Time) ([]changelog.Entry, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT site, seq, hlc, type, entity FROM outbound WHERE type = ? AND created_at >= ? ORDER BY hlc`, eventType, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: outbound of type %s: %w", eventType, err)
	}
	defer rows.Close()
	var out []changelog.Entry
	for rows.Next() {
		var e changelog.Entry
		var hlc int64
		if err := rows.Scan(&e.Site, &e.Seq, &hlc, &e.Type, &e.Entity); err != nil {
			return nil, fmt.Errorf("store: outbound of type %s: %w", eventType, err)
		}
		e.HLC = changelog.HLC(hlc)
		out = append(out, e)
	}
	return out, rows.Err()
}
