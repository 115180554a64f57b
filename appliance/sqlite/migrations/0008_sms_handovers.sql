-- SMS sign-ups handed over from central's status page (docs/SYNC.md, "SMS
-- hand-over"): the random IDs of the hand-overs this site has taken, so
-- that one delivered twice changes nothing. No number here: the number
-- goes to sms_signups (applied) or nowhere (refused). Rows are kept for a
-- day (central gives up a hand-over after 15 minutes) and then deleted at
-- the next day's first event.
CREATE TABLE sms_handovers (
    id         TEXT PRIMARY KEY,
    ticket_id  TEXT    NOT NULL,
    outcome    TEXT    NOT NULL CHECK (outcome IN ('applied', 'refused')),
    created_at INTEGER NOT NULL
);
CREATE INDEX sms_handovers_created ON sms_handovers (created_at);
