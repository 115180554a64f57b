-- Central on PostgreSQL: the schema of central/sqlite's migrations 0001 to
-- 0008 as it stands, in one step (this store starts here). Times are Unix
-- milliseconds (BIGINT), as on SQLite, so that both stores read and write
-- the same values; hashes, keys and payloads are BYTEA. Text compares and
-- sorts by bytes (COLLATE "C"), as on SQLite, whatever the database's
-- locale.

-- Sites known to central and how far their change-log has arrived. Append
-- locks a site's row (SELECT … FOR UPDATE): one batch of a site at a time,
-- also across central nodes.
CREATE TABLE sites (
    id           TEXT COLLATE "C"   PRIMARY KEY,
    acked_seq    BIGINT NOT NULL DEFAULT 0,
    last_hash    BYTEA,
    last_hlc     BIGINT NOT NULL DEFAULT 0,
    last_contact BIGINT NOT NULL DEFAULT 0
);

-- Every site's change-log, exactly as the site committed it. (site, seq) is
-- the idempotency key: a resent entry is recognised by it and its hash.
CREATE TABLE site_log (
    site        TEXT COLLATE "C"    NOT NULL REFERENCES sites (id),
    seq         BIGINT  NOT NULL,
    version     INTEGER NOT NULL,
    hlc         BIGINT  NOT NULL,
    type        TEXT COLLATE "C"    NOT NULL,
    entity      TEXT COLLATE "C"    NOT NULL,
    payload     BYTEA   NOT NULL,
    prev        BYTEA,
    hash        BYTEA   NOT NULL,
    received_at BIGINT  NOT NULL,
    PRIMARY KEY (site, seq)
);
-- Statistics read a site's log one day at a time by HLC.
CREATE INDEX site_log_hlc ON site_log (site, hlc);

-- One-time enrollment tokens (veedel central enroll); only their SHA-256.
CREATE TABLE enrollment_tokens (
    token_hash BYTEA  PRIMARY KEY,
    site       TEXT COLLATE "C"   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    used_key   BYTEA
);

-- The sites' ed25519 public keys; at most one active (revoked_at NULL) per
-- site.
CREATE TABLE site_keys (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site        TEXT COLLATE "C"   NOT NULL,
    key_id      BYTEA  NOT NULL,
    public_key  BYTEA  NOT NULL,
    enrolled_at BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX site_keys_by_key_id ON site_keys (key_id);
CREATE UNIQUE INDEX site_keys_one_active ON site_keys (site) WHERE revoked_at IS NULL;

-- Nonces of signed batches and polls, until their freshness window ends.
CREATE TABLE sync_nonces (
    site       TEXT COLLATE "C"   NOT NULL,
    nonce      BYTEA  NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (site, nonce)
);
CREATE INDEX sync_nonces_by_expiry ON sync_nonces (expires_at);

-- Refused sync requests, one row per source, kind and status (central/sqlite
-- 0006). id orders rows seen at the same millisecond as SQLite's rowid does.
CREATE TABLE sync_rejections (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY UNIQUE,
    source      TEXT COLLATE "C"    NOT NULL,
    kind        TEXT COLLATE "C"    NOT NULL,
    status      INTEGER NOT NULL,
    count       BIGINT  NOT NULL,
    first_at    BIGINT  NOT NULL,
    last_at     BIGINT  NOT NULL,
    site        TEXT COLLATE "C"    NOT NULL,
    key_id      TEXT COLLATE "C"    NOT NULL DEFAULT '',
    reason      TEXT COLLATE "C"    NOT NULL,
    remote_addr TEXT COLLATE "C"    NOT NULL,
    entries     INTEGER NOT NULL,
    PRIMARY KEY (source, kind, status)
);
CREATE INDEX sync_rejections_by_last ON sync_rejections (last_at);

-- Central's outbound log per site: gap-free by seq, hash-chained.
CREATE TABLE outbound (
    site       TEXT COLLATE "C"    NOT NULL,
    seq        BIGINT  NOT NULL,
    version    INTEGER NOT NULL,
    hlc        BIGINT  NOT NULL,
    type       TEXT COLLATE "C"    NOT NULL,
    entity     TEXT COLLATE "C"    NOT NULL,
    payload    BYTEA   NOT NULL,
    prev       BYTEA,
    hash       BYTEA   NOT NULL,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (site, seq)
);
CREATE INDEX outbound_by_type ON outbound (type, created_at);

-- Sites that receive the city-wide reference data, and their last rejoin.
CREATE TABLE outbound_sites (
    site         TEXT COLLATE "C"   PRIMARY KEY,
    joined_at    BIGINT NOT NULL,
    rejoin_after BIGINT,
    rejoined_at  BIGINT
);

-- The city-wide reference data as it stands: the newest event per entity.
CREATE TABLE city_reference (
    entity     TEXT COLLATE "C"   PRIMARY KEY,
    type       TEXT COLLATE "C"   NOT NULL,
    payload    BYTEA  NOT NULL,
    hlc        BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Central's admin users; passwords are bcrypt hashes.
CREATE TABLE admins (
    name          TEXT COLLATE "C"   PRIMARY KEY,
    password_hash TEXT COLLATE "C"   NOT NULL,
    role          TEXT COLLATE "C"   NOT NULL CHECK (role IN ('admin', 'technician')),
    created_at    BIGINT NOT NULL
);

-- Admin sessions; only the SHA-256 of the cookie value.
CREATE TABLE admin_sessions (
    token_hash BYTEA  PRIMARY KEY,
    admin_name TEXT COLLATE "C"   NOT NULL REFERENCES admins (name) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);

-- Failed admin logins and locks (internal/login), newest 10,000 kept.
CREATE TABLE login_failures (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     BIGINT NOT NULL,
    name   TEXT COLLATE "C"   NOT NULL,
    client TEXT COLLATE "C"   NOT NULL,
    via    TEXT COLLATE "C"   NOT NULL,
    reason TEXT COLLATE "C"   NOT NULL,
    until  BIGINT
);

-- Addresses an admin has logged in from (the newest success per pair).
CREATE TABLE login_clients (
    name    TEXT COLLATE "C"   NOT NULL,
    client  TEXT COLLATE "C"   NOT NULL,
    last_ok BIGINT NOT NULL,
    PRIMARY KEY (name, client)
);

-- The site directory (central/sites.go).
CREATE TABLE site_directory (
    id         TEXT COLLATE "C"   PRIMARY KEY,
    name       TEXT COLLATE "C"   NOT NULL,
    kind       TEXT COLLATE "C"   NOT NULL,
    page       TEXT COLLATE "C"   NOT NULL DEFAULT '',
    address    TEXT COLLATE "C"   NOT NULL DEFAULT '',
    added_at   BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Seeds of the directory (central.SiteSeeds), each applied exactly once.
CREATE TABLE site_seeds (
    name       TEXT COLLATE "C" PRIMARY KEY,
    applied_at BIGINT
);
INSERT INTO site_seeds (name) VALUES ('cologne');
