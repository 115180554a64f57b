-- The school-entry cohort (central/cohort.go, issue 12): no personal data
-- of a child in clear. child is the pseudonym (an HMAC of the normalised
-- name and birth date under central's secret "exam.cohort"); the record
-- itself went to the site sealed, in the same transaction, as
-- exam.child_assigned in the site's outbound log. data_mac is a keyed MAC
-- of what was sent, so that an unchanged re-import sends nothing;
-- code_hash the SHA-256 of the invitation's booking code. Times are Unix
-- milliseconds.
CREATE TABLE exam_cohort (
    year        INTEGER NOT NULL,
    child       TEXT    NOT NULL,
    district    TEXT    NOT NULL,
    site        TEXT    NOT NULL,
    sex         TEXT    NOT NULL CHECK (sex IN ('w', 'm', 'd')),
    data_mac    BLOB    NOT NULL,
    code_hash   BLOB    NOT NULL,
    imported_at INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (year, child)
);
-- The parents' booking finds the child by the hash of the code they type.
CREATE INDEX exam_cohort_code ON exam_cohort (code_hash);

-- Which school-health site examines the children of a school district;
-- a district not listed goes to the default (the one school-health site).
CREATE TABLE exam_districts (
    district   TEXT PRIMARY KEY COLLATE NOCASE,
    site       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
