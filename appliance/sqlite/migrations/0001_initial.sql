-- The change-log: every committed event of this site, gap-free by seq and
-- hash-chained. It is the source of truth; the tables below are projections
-- kept in the same transaction.
CREATE TABLE changelog (
    seq      INTEGER PRIMARY KEY,
    version  INTEGER NOT NULL,
    hlc      INTEGER NOT NULL,
    type     TEXT    NOT NULL,
    entity   TEXT    NOT NULL,
    payload  BLOB    NOT NULL,
    prev     BLOB,
    hash     BLOB    NOT NULL
);

-- Tickets as the desk and statistics read them.
CREATE TABLE tickets (
    id          TEXT PRIMARY KEY,
    day         TEXT NOT NULL,
    token       TEXT NOT NULL UNIQUE,
    number      TEXT NOT NULL,
    service     TEXT NOT NULL,
    channel     TEXT NOT NULL,
    status      TEXT NOT NULL,
    counter     TEXT NOT NULL DEFAULT '',
    recalls     INTEGER NOT NULL DEFAULT 0,
    issued_at   INTEGER NOT NULL,
    called_at   INTEGER,
    finished_at INTEGER
);
CREATE INDEX tickets_day ON tickets (day, status);

-- A retried kiosk or API request with the same Idempotency-Key gets the
-- ticket of the first request instead of a second ticket.
CREATE TABLE idempotency_keys (
    key        TEXT PRIMARY KEY,
    request    TEXT NOT NULL,
    ticket_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Staff accounts of this site. Passwords are bcrypt hashes.
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('clerk', 'lead', 'admin'))
);

-- Desk sessions; only the SHA-256 of the cookie value is stored.
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_name  TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    counter    TEXT NOT NULL DEFAULT '',
    expires_at INTEGER NOT NULL
);

-- Small durable settings, e.g. the sync cursor (highest seq central acked).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
