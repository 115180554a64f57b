-- Fresh, single-use sync requests and aggregated rejections (issue 9).

-- Nonces of signed batches and polls central has taken, until the signed
-- time plus the freshness window (changelog.FreshWindow): a replay within
-- the window is refused by its nonce, later by its time, also after a
-- restart. Expired rows are deleted as new ones arrive.
CREATE TABLE sync_nonces (
    site       TEXT    NOT NULL,
    nonce      BLOB    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (site, nonce)
) WITHOUT ROWID;
CREATE INDEX sync_nonces_by_expiry ON sync_nonces (expires_at);

-- Refused sync requests, one row per source (remote host, IPv6 by /64),
-- kind (route) and status: how many, first and last seen, and the newest
-- one as a sample. A flood from one source is one row that counts up, so
-- it cannot push another source's rejection out (rejected_batches kept
-- single rows, the newest 10,000).
CREATE TABLE sync_rejections (
    source      TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    first_at    INTEGER NOT NULL,
    last_at     INTEGER NOT NULL,
    site        TEXT    NOT NULL,
    key_id      TEXT    NOT NULL DEFAULT '',
    reason      TEXT    NOT NULL,
    remote_addr TEXT    NOT NULL,
    entries     INTEGER NOT NULL,
    PRIMARY KEY (source, kind, status)
);
CREATE INDEX sync_rejections_by_last ON sync_rejections (last_at);

-- The single rows recorded so far, aggregated by address and status (their
-- route was not recorded), the newest of each as the sample.
INSERT INTO sync_rejections (source, kind, status, count, first_at, last_at, site, key_id, reason, remote_addr, entries)
SELECT remote_addr, 'before aggregation', status, COUNT(*), MIN(at), MAX(at), site, key_id, reason, remote_addr, entries
FROM rejected_batches GROUP BY remote_addr, status;
DROP TABLE rejected_batches;
