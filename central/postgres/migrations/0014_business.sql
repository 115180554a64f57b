-- central/sqlite's 0024 on PostgreSQL: the business portal (central/business):
-- companies, their users (bcrypt
-- password, TOTP secret sealed with central's key), sessions (SHA-256 of
-- the cookie), API keys (SHA-256 of the key), the applications each
-- company submitted (by the row key the client sent, for idempotent
-- retries), and the webhook deliveries: queued durably on every status
-- change, sent at least once, keyed per delivery.
CREATE TABLE business_companies (
    id             TEXT COLLATE "C" PRIMARY KEY,
    name           TEXT    NOT NULL,
    webhook_url    TEXT    NOT NULL DEFAULT '',
    webhook_secret BYTEA, -- sealed with central's business key
    created_at     BIGINT NOT NULL -- Unix milliseconds, as every time below
);

CREATE TABLE business_users (
    company       TEXT    NOT NULL REFERENCES business_companies (id),
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'clerk')),
    password_hash TEXT    NOT NULL,
    totp_secret   BYTEA, -- sealed; NULL until enrolment starts
    totp_enrolled INTEGER NOT NULL DEFAULT 0,
    totp_step     BIGINT NOT NULL DEFAULT 0, -- the last time step used: a code is good once
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (company, name)
);

CREATE TABLE business_sessions (
    hash       BYTEA    PRIMARY KEY,
    company    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    mfa_done   INTEGER NOT NULL DEFAULT 0, -- 0: password only, the TOTP code still due
    expires_at BIGINT NOT NULL
);

CREATE TABLE business_api_keys (
    id         TEXT COLLATE "C" PRIMARY KEY,
    company    TEXT    NOT NULL REFERENCES business_companies (id),
    name       TEXT    NOT NULL,
    hash       BYTEA    NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE business_applications (
    company    TEXT    NOT NULL,
    row_key    TEXT    NOT NULL,
    app_id     TEXT    NOT NULL DEFAULT '', -- '' while the submission is in flight
    created_at BIGINT NOT NULL,
    PRIMARY KEY (company, row_key)
);
CREATE INDEX business_applications_by_time ON business_applications (company, created_at);

CREATE TABLE business_deliveries (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company      TEXT    NOT NULL,
    key          TEXT    NOT NULL UNIQUE, -- the idempotency key the receiver sees
    body         TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      BIGINT NOT NULL,
    last_error   TEXT    NOT NULL DEFAULT '',
    last_status  INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX business_deliveries_due ON business_deliveries (status, next_at);
CREATE INDEX business_deliveries_by_company ON business_deliveries (company, id);
