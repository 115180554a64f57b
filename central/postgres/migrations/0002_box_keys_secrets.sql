-- central/sqlite's 0010 and 0011.

-- The sites' box keys (X25519 public), as their last signed poll carried
-- them: central seals personal data of orders and bookings to the owning
-- site even while the site is offline. Deleted when the site's keys are
-- revoked.
CREATE TABLE site_box_keys (
    site        TEXT COLLATE "C" PRIMARY KEY,
    box_key     BYTEA  NOT NULL,
    recorded_at BIGINT NOT NULL
);

-- Central's own secrets (random keys made on first use), e.g. the key of
-- the appointments' contact hash: the same for every central node on this
-- database and across restarts.
CREATE TABLE secrets (
    name       TEXT COLLATE "C" PRIMARY KEY,
    value      BYTEA  NOT NULL,
    created_at BIGINT NOT NULL
);
