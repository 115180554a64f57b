-- Trust: enrollment tokens, the sites' public keys, rejected batches.

-- One-time enrollment tokens from `veedel central enroll`. Only the SHA-256
-- of a token is stored. used_at and used_key (the key id enrolled with it)
-- are set when an appliance consumes the token.
CREATE TABLE enrollment_tokens (
    token_hash BLOB PRIMARY KEY,
    site       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    used_key   BLOB
);

-- The sites' ed25519 public keys. key_id is the first 8 bytes of the key's
-- SHA-256, as batches name it. A site has at most one active key (revoked_at
-- NULL); enrolling again revokes the previous one.
CREATE TABLE site_keys (
    id          INTEGER PRIMARY KEY,
    site        TEXT    NOT NULL,
    key_id      BLOB    NOT NULL,
    public_key  BLOB    NOT NULL,
    enrolled_at INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX site_keys_by_key_id ON site_keys (key_id);
CREATE UNIQUE INDEX site_keys_one_active ON site_keys (site) WHERE revoked_at IS NULL;

-- Batches and enrollments central refused, newest kept, for the admin page.
-- site and key_id are as the client claimed them.
CREATE TABLE rejected_batches (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    site        TEXT    NOT NULL,
    key_id      TEXT    NOT NULL DEFAULT '',
    status      INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    remote_addr TEXT    NOT NULL,
    entries     INTEGER NOT NULL
);
