-- Files that travel with the workflows' events (sync/blob): attachments
-- central sends down, files sites send up. Stored by their SHA-256 in
-- chunks of 256 KiB; a file is visible only once its blobs row exists,
-- written after every chunk is on disk and the whole hash was checked.
-- Chunks without a blobs row are an incomplete upload from a site; their
-- count is where it resumes.
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
