-- SMS notifications. Phone numbers are personal data: they live only in
-- sms_signups, a site-local table that is never part of the change-log and
-- never synced, and the row is deleted when the ticket ends.
CREATE TABLE sms_signups (
    ticket_id  TEXT PRIMARY KEY,
    phone      TEXT NOT NULL, -- E.164
    lang       TEXT NOT NULL, -- the language the citizen chose at sign-up
    created_at INTEGER NOT NULL
);

-- The SMS outbox: one row per message kind and ticket (so each message is
-- sent at most once per ticket), with retries. The number is not copied
-- here: sending joins sms_signups, so erasing the sign-up is enough.
CREATE TABLE sms_outbox (
    id         INTEGER PRIMARY KEY,
    ticket_id  TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    text       TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'dropped')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    INTEGER NOT NULL,
    last_error TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    sent_at    INTEGER,
    UNIQUE (ticket_id, kind)
);
CREATE INDEX sms_outbox_due ON sms_outbox (status, next_at);
