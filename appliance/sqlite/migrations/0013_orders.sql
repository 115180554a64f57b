-- Certificate orders (appliance/registration): the projection of the
-- registration.* events. details holds the opened personal part (CBOR) and
-- is erased a keeping time after the order is done (retention).
CREATE TABLE orders (
    code        TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    delivery    TEXT NOT NULL,
    copies      INTEGER NOT NULL,
    fee_cents   INTEGER NOT NULL,
    payment     TEXT NOT NULL,
    lang        TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL,
    staff       TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    ticket      TEXT NOT NULL DEFAULT '',
    details     BLOB,
    placed_at   INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    done_at     INTEGER
) STRICT;

CREATE INDEX orders_status ON orders (status, received_at);
CREATE INDEX orders_done ON orders (done_at) WHERE done_at IS NOT NULL;
