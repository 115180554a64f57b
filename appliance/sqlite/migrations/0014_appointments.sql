-- Appointments booked online (appliance/appointment): the projection of
-- the appointment.* events. The name and contact (CBOR) are erased a
-- keeping time after the appointment's day.
CREATE TABLE appointments (
    code       TEXT PRIMARY KEY,
    service    TEXT NOT NULL,
    start      INTEGER NOT NULL,
    status     TEXT NOT NULL,
    lang       TEXT NOT NULL DEFAULT '',
    contact    BLOB,
    booked_at  INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX appointments_start ON appointments (start);
