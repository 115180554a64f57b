-- Central's own secrets (random keys made on first use), e.g. the key of
-- the appointments' contact hash: the same for every central node on this
-- database and across restarts.
CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
