-- central/sqlite's 0023: the portal's forms posted once
-- (central/submissions.go). key_hash is the SHA-256 of the form's random
-- submission key; result is what the first post gave the citizen, sealed
-- with a key derived from the submission key. Times are Unix milliseconds.
CREATE TABLE form_submissions (
    key_hash   BYTEA  PRIMARY KEY,
    result     BYTEA  NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX form_submissions_expiry ON form_submissions (expires_at);
