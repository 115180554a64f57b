-- School-entry exams (appliance/exam): the projection of the exam.* events
-- and the site's own records around them. Health data never leaves the
-- site in clear: the change-log carries it sealed with the data keys in
-- exam_keys (themselves logged wrapped to the box and escrow keys).

-- The exam data keys, from exam.key_created. key is NULL when the entry
-- did not open with this site's box key.
CREATE TABLE exam_keys (
    id         TEXT PRIMARY KEY,
    escrow_pub BLOB NOT NULL,
    key        BLOB,
    created_at INTEGER NOT NULL
) STRICT;

-- The health office's escrow public key in force (configuration, not
-- from the log: -exam-escrow-pub).
CREATE TABLE exam_escrow (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    pub BLOB NOT NULL
) STRICT;

-- One row per exam. record is the deterministic CBOR of exam.Record (the
-- child's data and every finding); NULL once erased (erased_at).
CREATE TABLE exams (
    id         TEXT PRIMARY KEY,
    child      TEXT UNIQUE,       -- central's pseudonymous child id; NULL for a child registered here
    code_hash  BLOB,              -- SHA-256 of the invitation's booking code
    day        TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL,
    record     BLOB,
    signed_at  INTEGER,
    updated_at INTEGER NOT NULL,
    erased_at  INTEGER
) STRICT;

CREATE INDEX exams_day ON exams (day);
CREATE INDEX exams_code ON exams (code_hash) WHERE code_hash IS NOT NULL;
CREATE INDEX exams_signed ON exams (signed_at) WHERE signed_at IS NOT NULL AND record IS NOT NULL;

-- Every read and change of a child's record: who, when, what, which
-- record. Site-local (never in the change-log); the data-protection
-- officer exports it as CSV. No health data in it.
CREATE TABLE exam_audit (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    staff  TEXT NOT NULL,
    role   TEXT NOT NULL,
    action TEXT NOT NULL,
    exam   TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX exam_audit_at ON exam_audit (at);

-- The exam staff's roles (sqlite.RoleDoctor, RoleAssistant): the users
-- table's CHECK is widened by rebuilding it, and sessions with it (their
-- foreign key names the table), keeping every row.
CREATE TABLE users_new (
    name          TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('clerk', 'lead', 'admin', 'doctor', 'assistant'))
);
INSERT INTO users_new (name, display_name, password_hash, role) SELECT name, display_name, password_hash, role FROM users;
CREATE TABLE sessions_new (
    token_hash BLOB PRIMARY KEY,
    user_name  TEXT NOT NULL REFERENCES users_new (name) ON DELETE CASCADE,
    counter    TEXT NOT NULL DEFAULT '',
    expires_at INTEGER NOT NULL
);
INSERT INTO sessions_new (token_hash, user_name, counter, expires_at) SELECT token_hash, user_name, counter, expires_at FROM sessions;
DROP TABLE sessions;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
ALTER TABLE sessions_new RENAME TO sessions;
