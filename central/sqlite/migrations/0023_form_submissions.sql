-- The portal's forms posted once (central/submissions.go): a booking's or
-- an order's form posted twice (a double tap, a reload of the POST), on
-- this central or another node, holds or places once. key_hash is the
-- SHA-256 of the form's random submission key; result is what the first
-- post gave the citizen (the hold's or order's token), sealed with a key
-- derived from the submission key, which only the citizen's page has.
-- Rows are deleted when they expire. Times are Unix milliseconds.
CREATE TABLE form_submissions (
    key_hash   BLOB    PRIMARY KEY,
    result     BLOB    NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX form_submissions_expiry ON form_submissions (expires_at);
