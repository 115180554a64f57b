-- Central's outbound log: per site, what central sends down (reference
-- data now; bookings and orders later). Gap-free by seq per site and
-- hash-chained like a site's own log; the site's downlink pulls it after its
-- cursor and applies each entry once.
CREATE TABLE outbound (
    site       TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    hlc        INTEGER NOT NULL,
    type       TEXT    NOT NULL,
    entity     TEXT    NOT NULL,
    payload    BLOB    NOT NULL,
    prev       BLOB,
    hash       BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (site, seq)
);

-- Sites that receive the city-wide reference data. A site joins once
-- (when central first stores its log) and then gets all of city_reference.
CREATE TABLE outbound_sites (
    site      TEXT    PRIMARY KEY,
    joined_at INTEGER NOT NULL
);

-- The city-wide reference data as it stands: the newest event per entity
-- that went to every site (e.g. a service of the catalogue).
CREATE TABLE city_reference (
    entity     TEXT    PRIMARY KEY,
    type       TEXT    NOT NULL,
    payload    BLOB    NOT NULL,
    hlc        INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Central's admin users (city IT staff and technicians). Passwords are
-- bcrypt hashes.
CREATE TABLE admins (
    name          TEXT    PRIMARY KEY,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'technician')),
    created_at    INTEGER NOT NULL
);

-- Admin sessions; only the SHA-256 of the cookie value is stored.
CREATE TABLE admin_sessions (
    token_hash BLOB    PRIMARY KEY,
    admin_name TEXT    NOT NULL REFERENCES admins (name) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
