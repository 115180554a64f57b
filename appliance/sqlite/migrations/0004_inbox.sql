-- Central's outbound log for this site as the downlink applied it: one row
-- per entry, written in the same transaction as the site events the entry
-- became, so that a crash can neither lose an entry nor apply it twice.
-- The highest seq is the downlink's cursor; hash continues central's chain.
CREATE TABLE inbox (
    seq        INTEGER PRIMARY KEY,
    hash       BLOB    NOT NULL,
    type       TEXT    NOT NULL,
    entity     TEXT    NOT NULL,
    -- applied: it became site events first_seq..last_seq; unchanged: the
    -- site had it already; refused: the site's rules said no (detail says why).
    outcome    TEXT    NOT NULL CHECK (outcome IN ('applied', 'unchanged', 'refused')),
    detail     TEXT    NOT NULL DEFAULT '',
    first_seq  INTEGER,
    last_seq   INTEGER,
    applied_at INTEGER NOT NULL
);
