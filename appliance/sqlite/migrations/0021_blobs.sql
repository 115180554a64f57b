-- Files that travel with the workflows' events (sync/blob), stored by
-- their SHA-256 in chunks of 256 KiB. A file is visible (Store.Open) only
-- once its blobs row exists, which is written after every chunk is on
-- disk and the whole file's hash was checked; chunks without a blobs row
-- are an incomplete transfer, and their count is where it resumes.
CREATE TABLE blobs (
    sha256     TEXT    PRIMARY KEY,
    size       INTEGER NOT NULL,
    type       TEXT    NOT NULL,
    name       TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL -- Unix milliseconds
) STRICT;

CREATE TABLE blob_chunks (
    sha256 TEXT    NOT NULL,
    idx    INTEGER NOT NULL,
    data   BLOB    NOT NULL,
    PRIMARY KEY (sha256, idx)
) STRICT;

-- What the site's transfer moves: files the site wants from central
-- (blob.Want, direction 'down') and files it offers up (blob.Offer, 'up'),
-- written in the workflow's transaction; done_at once the file is
-- complete at the other end.
CREATE TABLE blob_transfers (
    sha256     TEXT    NOT NULL,
    direction  TEXT    NOT NULL CHECK (direction IN ('down', 'up')),
    size       INTEGER NOT NULL,
    type       TEXT    NOT NULL,
    name       TEXT    NOT NULL DEFAULT '',
    done_at    INTEGER, -- Unix milliseconds
    tries      INTEGER NOT NULL DEFAULT 0,
    last_error TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (sha256, direction)
) STRICT;

CREATE INDEX blob_transfers_pending ON blob_transfers (done_at) WHERE done_at IS NULL;
