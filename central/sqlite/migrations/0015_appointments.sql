-- Online appointments (appliance/appointment store.go, central/appointments.go):
-- every hold and booking central's portal made, so that a restart loses no
-- held slot and several central nodes sell each place once. A slot's
-- places taken are its rows with status 'confirmed', or 'held' and not yet
-- expired. contact (the name and contact encrypted to central), sealed
-- (the same sealed to the site) and confirm_hash (the keyed hash of the
-- confirmation code) exist only while held: they are set to NULL in the
-- statement that confirms, cancels or expires the row. Times are Unix
-- milliseconds.
CREATE TABLE appointments (
    code         TEXT PRIMARY KEY,             -- the booking code, "T…"
    token_hash   BLOB    NOT NULL UNIQUE,      -- SHA-256 of the citizen's private token
    site         TEXT    NOT NULL,
    service      TEXT    NOT NULL,
    start        INTEGER NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('held', 'confirmed', 'cancelled', 'expired')),
    contact_hash BLOB    NOT NULL,             -- keyed hash of the contact: the per-contact limit
    confirm_hash BLOB,
    attempts     INTEGER NOT NULL DEFAULT 0,   -- wrong codes typed
    expires      INTEGER NOT NULL,             -- a hold ends then
    contact      BLOB,
    sealed       BLOB,
    sent_to      TEXT    NOT NULL DEFAULT '',  -- where the code went, masked ("e…@example.de")
    lang         TEXT    NOT NULL DEFAULT '',
    replaces     BLOB,                         -- token hash of the booking this one moves
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    CHECK (status = 'held' OR (contact IS NULL AND sealed IS NULL AND confirm_hash IS NULL))
);
CREATE INDEX appointments_slot ON appointments (site, service, start) WHERE status IN ('held', 'confirmed');
CREATE INDEX appointments_contact ON appointments (contact_hash, service) WHERE status IN ('held', 'confirmed');
CREATE INDEX appointments_held ON appointments (expires) WHERE status = 'held';
