-- The rollout (central/rollout.go): one plan, kept as its JSON with a
-- revision so that a change made on an older revision is refused, not
-- overwritten; and each site's latest update report (its agent's poll).
-- Times are Unix milliseconds.
CREATE TABLE rollout (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    revision   INTEGER NOT NULL,
    plan       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE update_reports (
    site        TEXT PRIMARY KEY,
    report      TEXT    NOT NULL,
    reported_at INTEGER NOT NULL
) STRICT;
