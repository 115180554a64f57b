-- A site's last request for a replay of the reference data (a rejoin,
-- docs/SYNC.md "Adding a new outbound event type"): its download cursor
-- when it asked and when central replayed. A request with a cursor at or
-- below rejoin_after is the same request again (its replay still lies
-- ahead of the site) and appends nothing; rejoined_at limits replays to
-- one a minute per site.
ALTER TABLE outbound_sites ADD COLUMN rejoin_after INTEGER;
ALTER TABLE outbound_sites ADD COLUMN rejoined_at INTEGER;
