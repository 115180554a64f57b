-- central/sqlite's 0015: online appointments' holds and bookings, shared by
-- every central node on this database. A slot's places taken are its rows
-- with status 'confirmed', or 'held' and not yet expired; a hold counts
-- and inserts under advisory locks of its slot and its contact. contact,
-- sealed and confirm_hash exist only while held. Times are Unix
-- milliseconds.
CREATE TABLE appointments (
    code         TEXT COLLATE "C" PRIMARY KEY,
    token_hash   BYTEA  NOT NULL UNIQUE,
    site         TEXT COLLATE "C" NOT NULL,
    service      TEXT COLLATE "C" NOT NULL,
    start        BIGINT NOT NULL,
    status       TEXT   NOT NULL CHECK (status IN ('held', 'confirmed', 'cancelled', 'expired')),
    contact_hash BYTEA  NOT NULL,
    confirm_hash BYTEA,
    attempts     INTEGER NOT NULL DEFAULT 0,
    expires      BIGINT NOT NULL,
    contact      BYTEA,
    sealed       BYTEA,
    sent_to      TEXT   NOT NULL DEFAULT '',
    lang         TEXT   NOT NULL DEFAULT '',
    replaces     BYTEA,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    CHECK (status = 'held' OR (contact IS NULL AND sealed IS NULL AND confirm_hash IS NULL))
);
CREATE INDEX appointments_slot ON appointments (site, service, start) WHERE status IN ('held', 'confirmed');
CREATE INDEX appointments_contact ON appointments (contact_hash, service) WHERE status IN ('held', 'confirmed');
CREATE INDEX appointments_held ON appointments (expires) WHERE status = 'held';
