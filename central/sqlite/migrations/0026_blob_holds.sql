-- Erasing files (sync/blob, release.go): a file is kept while a record
-- holds it (blob.SQL.Hold; holder is the record's change-log entity,
-- "vehicle/<id>"); Release drops one hold and, when none is left, the
-- file's bytes (complete or partly received) and leaves a tombstone in
-- blob_erased, so that no site fetches it or sends it up again (410).
CREATE TABLE blob_holds (
    sha256 TEXT NOT NULL,
    holder TEXT NOT NULL,
    PRIMARY KEY (sha256, holder)
) STRICT;

CREATE TABLE blob_erased (
    sha256    TEXT    PRIMARY KEY,
    erased_at INTEGER NOT NULL -- Unix milliseconds
) STRICT;
