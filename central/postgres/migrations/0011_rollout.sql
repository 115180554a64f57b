-- central/sqlite's 0021: the rollout (central/rollout.go): one plan, kept as its JSON with a
-- revision so that a change made on an older revision is refused, not
-- overwritten; and each site's latest update report (its agent's poll).
-- Times are Unix milliseconds.
CREATE TABLE rollout (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    revision   BIGINT  NOT NULL,
    plan       TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL
);

CREATE TABLE update_reports (
    site        TEXT COLLATE "C" PRIMARY KEY,
    report      TEXT    NOT NULL,
    reported_at BIGINT  NOT NULL
);
