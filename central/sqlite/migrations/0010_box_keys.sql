-- The sites' box keys (X25519 public), as their last signed poll carried
-- them: central seals personal data of orders and bookings to the owning
-- site even while the site is offline. Deleted when the site's keys are
-- revoked.
CREATE TABLE site_box_keys (
    site        TEXT PRIMARY KEY,
    box_key     BLOB NOT NULL,
    recorded_at INTEGER NOT NULL
);
