-- Entries of central's outbound log that a workflow cannot take yet
-- (workflow.Wait: the school-entry exams without the health office's
-- escrow key): parked here instead of holding up every entry behind them.
-- The inbox row records the parking (outcome 'parked', so the cursor and
-- the hash chain go on); this table keeps the whole entry (its CBOR, as
-- central signed it: the personal data in it is sealed to the site) until
-- RetryParked applies it, in seq order, and turns the inbox row into what
-- became of it.
CREATE TABLE inbox_parked (
    seq    INTEGER PRIMARY KEY,
    type   TEXT    NOT NULL,
    entry  BLOB    NOT NULL,
    reason TEXT    NOT NULL,
    at     INTEGER NOT NULL
);

-- The inbox's outcome gains 'parked'. SQLite cannot change a CHECK
-- constraint in place: rebuild the table (nothing refers to it).
CREATE TABLE inbox_new (
    seq        INTEGER PRIMARY KEY,
    hash       BLOB    NOT NULL,
    type       TEXT    NOT NULL,
    entity     TEXT    NOT NULL,
    -- applied: it became site events first_seq..last_seq; unchanged: the
    -- site had it already; refused: the site's rules said no (detail says
    -- why); skipped: its type is unknown to the build that took it in;
    -- parked: it waits for what the site lacks (detail; inbox_parked).
    outcome    TEXT    NOT NULL CHECK (outcome IN ('applied', 'unchanged', 'refused', 'skipped', 'parked')),
    detail     TEXT    NOT NULL DEFAULT '',
    first_seq  INTEGER,
    last_seq   INTEGER,
    applied_at INTEGER NOT NULL
);
INSERT INTO inbox_new (seq, hash, type, entity, outcome, detail, first_seq, last_seq, applied_at)
    SELECT seq, hash, type, entity, outcome, detail, first_seq, last_seq, applied_at FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_new RENAME TO inbox;

-- An online appointment for a record (appointment.Booked.For): the
-- school-entry exam's child (central's pseudonym, exams.child), so that
-- the exam's day list shows the booked time and the reminder goes out as
-- the exam's. NULL for an ordinary appointment.
ALTER TABLE appointments ADD COLUMN for_ref TEXT;
CREATE INDEX appointments_for ON appointments (for_ref) WHERE for_ref IS NOT NULL;
