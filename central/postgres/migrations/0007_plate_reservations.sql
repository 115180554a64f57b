-- central/sqlite's 0017: Wunschkennzeichen reserved online. One row per
-- plate (two reservations of one plate exclude each other by the primary
-- key); the holder's name and e-mail are deleted with the row when the
-- reservation ends. Times are Unix milliseconds.
CREATE TABLE plate_reservations (
    plate      TEXT COLLATE "C" PRIMARY KEY,
    token_hash BYTEA  NOT NULL UNIQUE,
    name       TEXT   NOT NULL,
    email      TEXT   NOT NULL,
    site       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX plate_reservations_expiry ON plate_reservations (expires_at);
