-- Kiosks are known devices of the site, paired once by a site lead at the
-- desk (appliance/server/pairing.go). Site-local like sessions: not in the
-- change-log. Only SHA-256 hashes of the one-time pairing codes and of the
-- devices' cookies are stored, so a copy of the database pairs nothing.
CREATE TABLE kiosk_pairings (
    code_hash  BLOB PRIMARY KEY,
    name       TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE kiosk_devices (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    paired_by  TEXT    NOT NULL,
    paired_at  INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
);
