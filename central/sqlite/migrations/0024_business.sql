-- The business portal (central/business): companies, their users (bcrypt
-- password, TOTP secret sealed with central's key), sessions (SHA-256 of
-- the cookie), API keys (SHA-256 of the key), the applications each
-- company submitted (by the row key the client sent, for idempotent
-- retries), and the webhook deliveries: queued durably on every status
-- change, sent at least once, keyed per delivery.
CREATE TABLE business_companies (
    id             TEXT    PRIMARY KEY,
    name           TEXT    NOT NULL,
    webhook_url    TEXT    NOT NULL DEFAULT '',
    webhook_secret BLOB, -- sealed with central's business key
    created_at     INTEGER NOT NULL -- Unix milliseconds, as every time below
) STRICT;

CREATE TABLE business_users (
    company       TEXT    NOT NULL REFERENCES business_companies (id),
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'clerk')),
    password_hash TEXT    NOT NULL,
    totp_secret   BLOB, -- sealed; NULL until enrolment starts
    totp_enrolled INTEGER NOT NULL DEFAULT 0,
    totp_step     INTEGER NOT NULL DEFAULT 0, -- the last time step used: a code is good once
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (company, name)
) STRICT;

CREATE TABLE business_sessions (
    hash       BLOB    PRIMARY KEY,
    company    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    mfa_done   INTEGER NOT NULL DEFAULT 0, -- 0: password only, the TOTP code still due
    expires_at INTEGER NOT NULL
) STRICT;

CREATE TABLE business_api_keys (
    id         TEXT    PRIMARY KEY,
    company    TEXT    NOT NULL REFERENCES business_companies (id),
    name       TEXT    NOT NULL,
    hash       BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

CREATE TABLE business_applications (
    company    TEXT    NOT NULL,
    row_key    TEXT    NOT NULL,
    app_id     TEXT    NOT NULL DEFAULT '', -- '' while the submission is in flight
    created_at INTEGER NOT NULL,
    PRIMARY KEY (company, row_key)
) STRICT;
CREATE INDEX business_applications_by_time ON business_applications (company, created_at);

CREATE TABLE business_deliveries (
    id           INTEGER PRIMARY KEY,
    company      TEXT    NOT NULL,
    key          TEXT    NOT NULL UNIQUE, -- the idempotency key the receiver sees
    body         TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,
    last_error   TEXT    NOT NULL DEFAULT '',
    last_status  INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    delivered_at INTEGER
) STRICT;
CREATE INDEX business_deliveries_due ON business_deliveries (status, next_at);
CREATE INDEX business_deliveries_by_company ON business_deliveries (company, id);
