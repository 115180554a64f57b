-- central/sqlite's 0019: files that travel with the workflows' events
-- (sync/blob), by SHA-256, in chunks of 256 KiB; visible only once the
-- blobs row exists (written after every chunk and the whole hash).
CREATE TABLE blobs (
    sha256     TEXT COLLATE "C" PRIMARY KEY,
    size       BIGINT NOT NULL,
    type       TEXT   NOT NULL,
    name       TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE blob_chunks (
    sha256 TEXT COLLATE "C" NOT NULL,
    idx    INTEGER NOT NULL,
    data   BYTEA   NOT NULL,
    PRIMARY KEY (sha256, idx)
);
