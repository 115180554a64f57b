-- The queue state frozen at one entry of the change-log, so that start-up
-- folds only what came after it and acknowledged old entries can be
-- compacted away. One row: the newest snapshot.
CREATE TABLE snapshots (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    seq      INTEGER NOT NULL,
    hlc      INTEGER NOT NULL,
    hash     BLOB    NOT NULL,
    state    BLOB    NOT NULL,
    taken_at INTEGER NOT NULL
);
