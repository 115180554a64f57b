-- SMS to citizens about their appointments and orders (the reminder the
-- day before; an order ready, dispatched or rejected): the workflows'
-- messages (workflow.Message with a Phone), queued in the transaction of
-- the event that causes them, sent by the SMS worker (appliance/notify)
-- through the site's modem or gateway. phone and text are personal data
-- and are set to NULL in the statement that marks a row sent or failed;
-- the rest (no personal data) is kept 30 days for the dedupe key, then
-- deleted. Times are Unix milliseconds.
CREATE TABLE message_sms (
    id         INTEGER PRIMARY KEY,
    dedupe_key TEXT    NOT NULL UNIQUE,     -- the message's Key, e.g. "appt:T…:reminder"
    phone      TEXT,                        -- as the citizen gave it; NULL once sent or failed
    text       TEXT,                        -- NULL once sent or failed
    status     TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    INTEGER NOT NULL,
    last_error TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    done_at    INTEGER,
    CHECK (status = 'pending' OR (phone IS NULL AND text IS NULL AND done_at IS NOT NULL)),
    CHECK (status <> 'pending' OR (phone IS NOT NULL AND text IS NOT NULL))
);
CREATE INDEX message_sms_due ON message_sms (next_at) WHERE status = 'pending';
