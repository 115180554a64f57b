package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/jackc/pgx/v5"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// The outbound log: per site, gap-free by seq and hash-chained, as on
// SQLite. SQLite has one writer; here several transactions (and later
// several central nodes) write at once, so each takes advisory locks for
// the transaction: the site's before it appends to a site's log (seqs are
// assigned from the head it reads), and the reference data's before it
// reads or changes city_reference and the joined sites (a site that joins
// while a city-wide event goes out gets it exactly once: from the join or
// from the event). The reference lock is always taken before any site's.

// lockReference serialises the city-wide reference data and the joins.
func lockReference(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('veedel outbound reference'))`); err != nil {
		return fmt.Errorf("store: lock reference data: %w", err)
	}
	return nil
}

// lockOutbound serialises the appends to one site's outbound log.
func lockOutbound(ctx context.Context, tx pgx.Tx, site string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('veedel outbound ' || $1))`, site); err != nil {
		return fmt.Errorf("store: lock outbound of %s: %w", site, err)
	}
	return nil
}

// AppendOutbound appends events to one site's outbound log, or, with site
// "", records them as city-wide reference data and appends them to every
// joined site, all in one transaction.
func (s *Store) AppendOutbound(ctx context.Context, site string, events []central.Outgoing, at time.Time, clock func() changelog.HLC) ([]string, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
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
		if err := lockReference(ctx, tx); err != nil {
			return nil, err
		}
		for _, e := range stamped {
			if _, err := tx.Exec(ctx, `INSERT INTO city_reference (entity, type, payload, hlc, updated_at) VALUES ($1, $2, $3, $4, $5)
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
		// join now and get all reference data, these events included.
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
	if err := tx.Commit(ctx); err != nil {
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
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := lockReference(ctx, tx); err != nil {
		return false, err
	}
	joined, err := joinSite(ctx, tx, site, at, clock)
	if err != nil || !joined {
		return false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("store: commit join: %w", err)
	}
	return true, nil
}

// joinSite joins site; the caller holds the reference lock.
func joinSite(ctx context.Context, tx pgx.Tx, site string, at time.Time, clock func() changelog.HLC) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO outbound_sites (site, joined_at) VALUES ($1, $2) ON CONFLICT (site) DO NOTHING`, site, at.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("store: join %s: %w", site, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
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
// site must apply it: dependencies first, then by age (central/sqlite's
// referenceEvents says why).
func referenceEvents(ctx context.Context, tx pgx.Tx) ([]stampedEvent, error) {
	rows, err := tx.Query(ctx, `SELECT entity, type, payload FROM city_reference ORDER BY hlc, entity`)
	if err != nil {
		return nil, fmt.Errorf("store: read reference data: %w", err)
	}
	events, err := collectEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("store: read reference data: %w", err)
	}
	slices.SortStableFunc(events, func(a, b stampedEvent) int {
		return cmp.Compare(central.ReferenceRank(a.Type), central.ReferenceRank(b.Type))
	})
	return events, nil
}

// collectEvents reads (entity, type, payload) rows; it closes rows.
func collectEvents(rows pgx.Rows) ([]stampedEvent, error) {
	defer rows.Close()
	var events []stampedEvent
	for rows.Next() {
		var e stampedEvent
		var payload []byte
		if err := rows.Scan(&e.Entity, &e.Type, &payload); err != nil {
			return nil, err
		}
		e.Payload = cbor.RawMessage(payload)
		events = append(events, e)
	}
	return events, rows.Err()
}

// RejoinSite appends the current reference data to a joined site's
// outbound log again, at most once per request and once per minInterval
// (central.OutboundStore and central/sqlite's RejoinSite say how).
func (s *Store) RejoinSite(ctx context.Context, site string, after uint64, at time.Time, minInterval time.Duration, clock func() changelog.HLC) (bool, int, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, 0, fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := lockReference(ctx, tx); err != nil {
		return false, 0, err
	}
	var lastAfter, lastAt *int64
	err = tx.QueryRow(ctx, `SELECT rejoin_after, rejoined_at FROM outbound_sites WHERE site = $1`, site).Scan(&lastAfter, &lastAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, 0, nil
	case err != nil:
		return false, 0, fmt.Errorf("store: read rejoin of %s: %w", site, err)
	case lastAfter != nil && after <= uint64(*lastAfter):
		return true, 0, nil
	case lastAt != nil && at.Sub(time.UnixMilli(*lastAt)) < minInterval:
		return false, 0, nil
	}
	if err := lockOutbound(ctx, tx, site); err != nil {
		return false, 0, err
	}
	var head int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM outbound WHERE site = $1`, site).Scan(&head); err != nil {
		return false, 0, fmt.Errorf("store: outbound head of %s: %w", site, err)
	}
	if after > uint64(head) {
		// The site applied more than central's log holds (central was
		// restored from a backup): the download refuses that poll anyway.
		return false, 0, nil
	}
	events, err := referenceEvents(ctx, tx)
	if err != nil {
		return false, 0, err
	}
	// Twice, then the site's own newest reference data (central/sqlite's
	// RejoinSite says why).
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
	if _, err := tx.Exec(ctx, `UPDATE outbound_sites SET rejoin_after = $1, rejoined_at = $2 WHERE site = $3`, int64(after), at.UnixMilli(), site); err != nil {
		return false, 0, fmt.Errorf("store: record rejoin of %s: %w", site, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, 0, fmt.Errorf("store: commit rejoin: %w", err)
	}
	return true, len(events), nil
}

// siteReference returns the newest entry of each entity of the site's own
// reference data in its outbound log, oldest first.
func siteReference(ctx context.Context, tx pgx.Tx, site string) ([]stampedEvent, error) {
	var events []stampedEvent
	for _, typ := range central.SiteReferenceTypes {
		rows, err := tx.Query(ctx, `SELECT o.entity, o.type, o.payload FROM outbound o
			WHERE o.site = $1 AND o.type = $2 AND o.seq = (SELECT max(seq) FROM outbound WHERE site = o.site AND entity = o.entity)
			ORDER BY o.seq`, site, typ)
		if err != nil {
			return nil, fmt.Errorf("store: read %s's reference data: %w", site, err)
		}
		own, err := collectEvents(rows)
		if err != nil {
			return nil, fmt.Errorf("store: read %s's reference data: %w", site, err)
		}
		events = append(events, own...)
	}
	return events, nil
}

// appendOutbound appends events to site's outbound log after its head,
// under the site's outbound lock.
func appendOutbound(ctx context.Context, tx pgx.Tx, site string, events []stampedEvent, at time.Time) error {
	if len(events) == 0 {
		return nil
	}
	if err := lockOutbound(ctx, tx, site); err != nil {
		return err
	}
	var prev *changelog.Entry
	var head changelog.Entry
	var seq int64
	err := tx.QueryRow(ctx, `SELECT seq, hash FROM outbound WHERE site = $1 ORDER BY seq DESC LIMIT 1`, site).Scan(&seq, &head.Hash)
	switch {
	case err == nil:
		head.Seq = uint64(seq)
		prev = &head
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("store: outbound head of %s: %w", site, err)
	}
	rows := make([][]any, 0, len(events))
	for _, ev := range events {
		e, err := changelog.NewEntry(site, prev, ev.hlc, ev.Type, ev.Entity, ev.Payload)
		if err != nil {
			return fmt.Errorf("store: outbound entry for %s: %w", site, err)
		}
		rows = append(rows, []any{site, int64(e.Seq), int32(e.Version), int64(e.HLC), e.Type, e.Entity, []byte(e.Payload), e.Prev, e.Hash, at.UnixMilli()})
		prev = &e
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"outbound"},
		[]string{"site", "seq", "version", "hlc", "type", "entity", "payload", "prev", "hash", "created_at"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("store: append outbound for %s: %w", site, err)
	}
	return nil
}

func querySites(ctx context.Context, tx pgx.Tx, query string) ([]string, error) {
	rows, err := tx.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("store: list sites: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: list sites: %w", err)
	}
	return out, nil
}

// Outbound returns up to limit entries of site's outbound log after seq,
// stopping before maxBytes (at least one entry when there is one), and the
// log's head, both from one snapshot.
func (s *Store) Outbound(ctx context.Context, site string, after uint64, limit, maxBytes int) ([]changelog.Entry, uint64, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, 0, fmt.Errorf("store: begin read: %w", err)
	}
	defer tx.Rollback(ctx)
	var head int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM outbound WHERE site = $1`, site).Scan(&head); err != nil {
		return nil, 0, fmt.Errorf("store: outbound head of %s: %w", site, err)
	}
	rows, err := tx.Query(ctx, `SELECT seq, version, hlc, type, entity, payload, prev, hash FROM outbound WHERE site = $1 AND seq > $2 ORDER BY seq LIMIT $3`, site, int64(after), limit)
	if err != nil {
		return nil, 0, fmt.Errorf("store: read outbound of %s: %w", site, err)
	}
	defer rows.Close()
	var out []changelog.Entry
	size := 0
	for rows.Next() {
		e, err := scanEntry(rows, site)
		if err != nil {
			return nil, 0, fmt.Errorf("store: read outbound of %s: %w", site, err)
		}
		size += len(e.Payload) + len(e.Entity) + len(e.Type) + 80
		if len(out) > 0 && size > maxBytes {
			break
		}
		out = append(out, e)
	}
	rows.Close()
	return out, uint64(head), rows.Err()
}

// OutboundHeads returns the head of every site's outbound log.
func (s *Store) OutboundHeads(ctx context.Context) (map[string]uint64, error) {
	rows, err := s.pool.Query(ctx, `SELECT site, max(seq) FROM outbound GROUP BY site`)
	if err != nil {
		return nil, fmt.Errorf("store: outbound heads: %w", err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var site string
		var head int64
		if err := rows.Scan(&site, &head); err != nil {
			return nil, fmt.Errorf("store: outbound heads: %w", err)
		}
		out[site] = uint64(head)
	}
	return out, rows.Err()
}

// CityReference returns the current city-wide reference events of a type,
// payloads as encoded bytes, oldest first.
func (s *Store) CityReference(ctx context.Context, eventType string) ([]central.Outgoing, error) {
	rows, err := s.pool.Query(ctx, `SELECT entity, type, payload FROM city_reference WHERE type = $1 ORDER BY hlc, entity`, eventType)
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
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(hlc), 0) FROM outbound`).Scan(&hlc); err != nil {
		return 0, fmt.Errorf("store: last outbound timestamp: %w", err)
	}
	return changelog.HLC(hlc), nil
}

// OutboundOfType returns the entries of eventType appended to any site's
// outbound log at or after since, without payloads, oldest first.
func (s *Store) OutboundOfType(ctx context.Context, eventType string, since time.Time) ([]changelog.Entry, error) {
	rows, err := s.pool.Query(ctx, `SELECT site, seq, hlc, type, entity FROM outbound WHERE type = $1 AND created_at >= $2 ORDER BY hlc`, eventType, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: outbound of type %s: %w", eventType, err)
	}
	defer rows.Close()
	var out []changelog.Entry
	for rows.Next() {
		var e changelog.Entry
		var seq, hlc int64
		if err := rows.Scan(&e.Site, &seq, &hlc, &e.Type, &e.Entity); err != nil {
			return nil, fmt.Errorf("store: outbound of type %s: %w", eventType, err)
		}
		e.Seq, e.HLC = uint64(seq), changelog.HLC(hlc)
		out = append(out, e)
	}
	return out, rows.Err()
}
