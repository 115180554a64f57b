-- Wunschkennzeichen reserved online (central/plates.go, appliance/plates).
-- One row per plate: the primary key makes two reservations of one plate
-- exclude each other. The holder's name and e-mail live only as long as
-- the reservation: the row is deleted when the plate is assigned, given
-- back or expires. token_hash is the SHA-256 of the citizen's token.
-- Times are Unix milliseconds.
CREATE TABLE plate_reservations (
    plate      TEXT PRIMARY KEY,
    token_hash BLOB    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    email      TEXT    NOT NULL,
    site       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX plate_reservations_expiry ON plate_reservations (expires_at);
