-- The e-mail outbox (internal/mail): one row per message, written in the
-- transaction of the change that causes it, sent by the outbox worker
-- through the SMTP relay. recipient and data (the rendered RFC 5322
-- message: names, codes, text) are personal data and are set to NULL in
-- the statement that marks a row sent or failed; the rest (no personal
-- data) is kept for the retention time and then deleted. Times are Unix
-- milliseconds. The same table serves the appliance and central.
CREATE TABLE mail_outbox (
    id          INTEGER PRIMARY KEY,
    dedupe_key  TEXT UNIQUE,            -- the caller's Message.Key, NULL if none
    message_id  TEXT    NOT NULL,       -- the Message-ID header, the same on every attempt
    mail_from   TEXT    NOT NULL,       -- envelope sender: the city's own address
    recipient   TEXT,                   -- envelope recipient; NULL once sent or failed
    data        BLOB,                   -- the rendered message; NULL once sent or failed
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,       -- pending: not before; during an attempt: its lease
    claimed_at  INTEGER,                -- an attempt began then; its outcome is not recorded yet
    last_error  TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER,
    done_at     INTEGER,                -- sent or failed; retention counts from here
    CHECK (status = 'pending' OR (recipient IS NULL AND data IS NULL AND done_at IS NOT NULL)),
    CHECK (status <> 'pending' OR (recipient IS NOT NULL AND data IS NOT NULL))
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_at);
CREATE INDEX mail_outbox_done ON mail_outbox (done_at) WHERE done_at IS NOT NULL;
