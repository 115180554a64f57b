-- Erasing files (sync/blob, release.go): a file is kept while a record
-- holds it (blob.Hold, in the workflow's transaction: holder is the
-- record's change-log entity, "vehicle/<id>"); blob.Release drops one
-- hold and, when none is left, the file's bytes (complete or partly
-- received), its pending transfers, and leaves a tombstone in
-- blob_erased, so that nothing fetches, serves or takes the file again
-- (a new hold lifts it).
CREATE TABLE blob_holds (
    sha256 TEXT NOT NULL,
    holder TEXT NOT NULL,
    PRIMARY KEY (sha256, holder)
) STRICT;

CREATE TABLE blob_erased (
    sha256    TEXT    PRIMARY KEY,
    erased_at INTEGER NOT NULL -- Unix milliseconds
) STRICT;

-- The files the vehicle workflow's records named before holds existed.
INSERT INTO blob_holds (sha256, holder)
    SELECT sha256, 'vehicle/' || application FROM vehicle_attachments WHERE true
    ON CONFLICT DO NOTHING;
INSERT INTO blob_holds (sha256, holder)
    SELECT permit, 'vehicle/' || id FROM vehicle_applications WHERE permit IS NOT NULL AND permit != ''
    ON CONFLICT DO NOTHING;
