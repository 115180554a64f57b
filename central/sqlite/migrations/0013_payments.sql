-- Orders paid online (appliance/registration payment.go, central/payments.go):
-- held here until the payment provider's verified notification says paid,
-- then appended to the owning site's outbound log in the same transaction
-- that records the payment. placed is the OrderPlaced payload (CBOR)
-- without its sealed details: no personal data, kept so that the citizen's
-- status page survives a restart. sealed is the personal part, sealed to
-- the site's box key: NULL once the order went down, failed or expired.
-- Times are Unix milliseconds.
CREATE TABLE payments (
    reference    TEXT PRIMARY KEY,           -- the order code, the provider's merchant reference
    site         TEXT    NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    currency     TEXT    NOT NULL DEFAULT 'EUR',
    status       TEXT    NOT NULL CHECK (status IN ('awaiting', 'paid', 'cancelled', 'failed', 'expired')),
    provider_txn TEXT,                       -- the provider's transaction ID, once reported
    placed       BLOB    NOT NULL,
    sealed       BLOB,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    CHECK (status = 'awaiting' OR sealed IS NULL)
);
CREATE INDEX payments_awaiting ON payments (created_at) WHERE status = 'awaiting';
