-- i-Kfz applications at the registration site (appliance/vehicle): the
-- projection of the vehicle.* events. details holds the opened application
-- (CBOR of vehicle.Application) and the notes of supplements hold what the
-- applicant added; both are erased a keeping time after the application is
-- done (rejected, or approved and its documents posted).
CREATE TABLE vehicle_applications (
    id           TEXT PRIMARY KEY,
    process      TEXT NOT NULL,
    plate_mode   TEXT NOT NULL,
    reservation  TEXT NOT NULL DEFAULT '', -- hex token hash (plate_mode wish)
    company      TEXT NOT NULL DEFAULT '',
    token_hash   BLOB NOT NULL, -- SHA-256 of the applicant's status token
    lang         TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    staff        TEXT NOT NULL DEFAULT '', -- the clerk who claimed it
    second       TEXT NOT NULL DEFAULT '', -- the four-eyes approver
    reason       TEXT NOT NULL DEFAULT '',
    plate        TEXT NOT NULL DEFAULT '',
    fin          TEXT NOT NULL DEFAULT '',
    code         TEXT NOT NULL DEFAULT '', -- the permit's verification code
    valid_until  TEXT NOT NULL DEFAULT '',
    permit       TEXT NOT NULL DEFAULT '', -- the permit PDF's SHA-256
    permit_size  INTEGER NOT NULL DEFAULT 0,
    details      BLOB,
    submitted_at INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    decided_at   INTEGER,
    posted_at    INTEGER,
    posted_by    TEXT NOT NULL DEFAULT '',
    done_at      INTEGER
) STRICT;

CREATE INDEX vehicle_applications_status ON vehicle_applications (status, received_at);
CREATE INDEX vehicle_applications_done ON vehicle_applications (done_at) WHERE done_at IS NOT NULL;

-- The files that came with an application or a supplement (blob refs).
CREATE TABLE vehicle_attachments (
    application TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    type        TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL,
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (application, sha256)
) STRICT;

-- The clerk's recorded checks: the latest result of each check.
CREATE TABLE vehicle_checks (
    application TEXT NOT NULL,
    name        TEXT NOT NULL,
    ok          INTEGER NOT NULL,
    staff       TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (application, name)
) STRICT;

-- What the applicant added after a request for more, once each (digest:
-- SHA-256 of the supplement as central sent it).
CREATE TABLE vehicle_supplements (
    application TEXT NOT NULL,
    digest      BLOB NOT NULL UNIQUE,
    note        TEXT, -- erased with the details
    at          INTEGER NOT NULL
) STRICT;

CREATE INDEX vehicle_supplements_application ON vehicle_supplements (application, at);

-- Site-local settings of the workflow (the lead's): four_eyes = '1' when an
-- approval needs a second staff member.
CREATE TABLE vehicle_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
