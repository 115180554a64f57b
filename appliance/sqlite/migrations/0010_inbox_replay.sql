-- The replay of the reference data that central acknowledged to this site
-- (docs/SYNC.md, "Adding a new outbound event type"): after is the cursor
-- of the poll that asked (rejoin=1) and through is central's head in the
-- acknowledging answer, so the replay lies in the outbound log after
-- after, up to through. Kept until the site has applied it and cleared
-- its skipped entries (the row goes in the same transaction), so that an
-- appliance restarted in between resumes applying instead of asking
-- central again, which would append a second replay. Site-local: at most
-- one row.
CREATE TABLE inbox_replay (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    after   INTEGER NOT NULL,
    through INTEGER NOT NULL CHECK (through >= after),
    at      INTEGER NOT NULL
);
