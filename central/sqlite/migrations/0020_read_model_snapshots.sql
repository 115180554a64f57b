-- central/sqlite's 0020: the newest snapshot of central's read models
-- (central/snapshot.go), so that a start folds only the log entries after
-- it. One snapshot at a time (id 1); snapshot_positions holds, per site,
-- the last entry of its log and of its outbound log the snapshot covers,
-- written in the same transaction. taken_at is Unix milliseconds.
CREATE TABLE read_model_snapshot (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL,
    taken_at INTEGER NOT NULL,
    data     BLOB    NOT NULL
);

CREATE TABLE read_model_snapshot_positions (
    site         TEXT    PRIMARY KEY,
    log_seq      INTEGER NOT NULL,
    outbound_seq INTEGER NOT NULL
);
