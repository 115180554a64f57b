-- Number plates (appliance/plates): the blocks central granted this site,
-- the Wunschkennzeichen reserved for it (token hashes only: no name, no
-- e-mail at the site), and every plate the site assigned. A plate is
-- assigned here at most once while not given back (the unique index).
CREATE TABLE plate_blocks (
    id            INTEGER PRIMARY KEY, -- central's block number
    letters       TEXT NOT NULL,
    first         INTEGER NOT NULL,
    last          INTEGER NOT NULL,
    except_digits TEXT NOT NULL DEFAULT '', -- digits left out, comma-separated
    size          INTEGER NOT NULL,
    received_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE plate_reservations (
    token_hash BLOB PRIMARY KEY,
    plate      TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    status     TEXT NOT NULL, -- received, assigned, returned
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE plate_assignments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    plate       TEXT NOT NULL,
    block       INTEGER NOT NULL, -- 0: from a reservation
    digits      INTEGER NOT NULL,
    token_hash  BLOB,
    ref         TEXT NOT NULL DEFAULT '',
    assigned_at INTEGER NOT NULL,
    returned_at INTEGER
) STRICT;

CREATE UNIQUE INDEX plate_assignments_live ON plate_assignments (plate) WHERE returned_at IS NULL;
CREATE INDEX plate_assignments_block ON plate_assignments (block, digits);
