-- Ticket printing: one row per ticket the kiosk (or an API client) asked
-- to print, so that one press never prints two tickets. Site-local: never
-- part of the change-log, never synced; it holds no personal data.
--   printing: handed to the printer, no answer yet (or the appliance
--             stopped meanwhile: the ticket may or may not be on paper)
--   printed:  the printer took the whole ticket
--   failed:   the printer refused or broke off; never retried on its own
CREATE TABLE print_jobs (
    ticket_id  TEXT PRIMARY KEY,
    state      TEXT    NOT NULL CHECK (state IN ('printing', 'printed', 'failed')),
    error      TEXT    NOT NULL DEFAULT '',
    attempts   INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
