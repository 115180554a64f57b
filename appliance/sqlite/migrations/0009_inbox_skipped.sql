-- Entries of central's outbound log of a type this build cannot apply
-- (docs/SYNC.md, "Adding a new outbound event type"): the inbox skips them
-- instead of stopping, so the entries behind them (catalogue edits,
-- citizens' cancel requests) still arrive. The inbox row records the skip
-- (outcome 'skipped', so the cursor and the hash chain go on); this table
-- lists the skips still to catch up. When a later build applies one of
-- these types, the downlink asks central to replay the city's reference
-- data and deletes the rows of the types it now knows once it has applied
-- that replay. No payload: central's replay brings the current state.
CREATE TABLE inbox_skipped (
    seq  INTEGER PRIMARY KEY,
    type TEXT    NOT NULL,
    at   INTEGER NOT NULL
);

-- The inbox's outcome gains 'skipped'. SQLite cannot change a CHECK
-- constraint in place: rebuild the table (nothing refers to it).
CREATE TABLE inbox_new (
    seq        INTEGER PRIMARY KEY,
    hash       BLOB    NOT NULL,
    type       TEXT    NOT NULL,
    entity     TEXT    NOT NULL,
    -- applied: it became site events first_seq..last_seq; unchanged: the
    -- site had it already; refused: the site's rules said no (detail says
    -- why); skipped: its type is unknown to the build that took it in.
    outcome    TEXT    NOT NULL CHECK (outcome IN ('applied', 'unchanged', 'refused', 'skipped')),
    detail     TEXT    NOT NULL DEFAULT '',
    first_seq  INTEGER,
    last_seq   INTEGER,
    applied_at INTEGER NOT NULL
);
INSERT INTO inbox_new (seq, hash, type, entity, outcome, detail, first_seq, last_seq, applied_at)
    SELECT seq, hash, type, entity, outcome, detail, first_seq, last_seq, applied_at FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_new RENAME TO inbox;
