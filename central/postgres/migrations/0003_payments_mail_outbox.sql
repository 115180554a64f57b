-- central/sqlite's 0012 and 0013.

-- The e-mail outbox (internal/mail): one row per message, written in the
-- transaction of the change that causes it, sent by the outbox worker
-- through the SMTP relay; several central nodes share it (a claim is one
-- UPDATE with a lease). recipient and data (the rendered RFC 5322
-- message) are personal data and are set to NULL in the statement that
-- marks a row sent or failed; the rest is kept for the retention time.
-- Times are Unix milliseconds.
CREATE TABLE mail_outbox (
    id          BIGSERIAL PRIMARY KEY,
    dedupe_key  TEXT COLLATE "C" UNIQUE,   -- the caller's Message.Key, NULL if none
    message_id  TEXT   NOT NULL,
    mail_from   TEXT   NOT NULL,
    recipient   TEXT,
    data        BYTEA,
    status      TEXT   NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     BIGINT NOT NULL,           -- pending: not before; during an attempt: its lease
    claimed_at  BIGINT,
    last_error  TEXT   NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    sent_at     BIGINT,
    done_at     BIGINT,
    CHECK (status = 'pending' OR (recipient IS NULL AND data IS NULL AND done_at IS NOT NULL)),
    CHECK (status <> 'pending' OR (recipient IS NOT NULL AND data IS NOT NULL))
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_at);
CREATE INDEX mail_outbox_done ON mail_outbox (done_at) WHERE done_at IS NOT NULL;

-- Orders paid online, held until the provider's verified notification
-- says paid, then appended to the owning site's outbound log in the
-- transaction that records the payment. sealed (the personal part,
-- sealed to the site) is NULL once the order went down, failed or expired.
CREATE TABLE payments (
    reference    TEXT COLLATE "C" PRIMARY KEY,
    site         TEXT COLLATE "C" NOT NULL,
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    currency     TEXT   NOT NULL DEFAULT 'EUR',
    status       TEXT   NOT NULL CHECK (status IN ('awaiting', 'paid', 'cancelled', 'failed', 'expired')),
    provider_txn TEXT,
    placed       BYTEA  NOT NULL,
    sealed       BYTEA,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    CHECK (status = 'awaiting' OR sealed IS NULL)
);
CREATE INDEX payments_awaiting ON payments (created_at) WHERE status = 'awaiting';
