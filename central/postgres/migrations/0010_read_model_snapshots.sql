-- central/postgres's 0010, as central/sqlite's 0020: the newest snapshot
-- of central's read models (central/snapshot.go) and, per site, the last
-- entry of its log and of its outbound log that it covers, written in one
-- transaction. taken_at is Unix milliseconds.
CREATE TABLE read_model_snapshot (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL,
    taken_at BIGINT  NOT NULL,
    data     BYTEA   NOT NULL
);

CREATE TABLE read_model_snapshot_positions (
    site         TEXT   COLLATE "C" PRIMARY KEY,
    log_seq      BIGINT NOT NULL,
    outbound_seq BIGINT NOT NULL
);
