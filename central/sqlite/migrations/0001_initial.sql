-- Sites known to central and how far their change-log has arrived.
CREATE TABLE sites (
    id           TEXT PRIMARY KEY,
    acked_seq    INTEGER NOT NULL DEFAULT 0,
    last_hash    BLOB,
    last_hlc     INTEGER NOT NULL DEFAULT 0,
    last_contact INTEGER NOT NULL DEFAULT 0
);

-- Every site's change-log, exactly as the site committed it. (site, seq) is
-- the idempotency key: a resent entry is recognised by it and its hash.
CREATE TABLE site_log (
    site        TEXT    NOT NULL REFERENCES sites (id),
    seq         INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    hlc         INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    entity      TEXT    NOT NULL,
    payload     BLOB    NOT NULL,
    prev        BLOB,
    hash        BLOB    NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (site, seq)
);
