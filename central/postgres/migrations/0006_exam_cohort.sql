-- central/sqlite's 0014: the school-entry cohort (central/cohort.go) and
-- the district→site table. No personal data of a child in clear: child
-- is the pseudonym, the record went to the site sealed as
-- exam.child_assigned in the same transaction.
CREATE TABLE exam_cohort (
    year        INTEGER NOT NULL,
    child       TEXT COLLATE "C" NOT NULL,
    district    TEXT   NOT NULL,
    site        TEXT COLLATE "C" NOT NULL,
    sex         TEXT   NOT NULL CHECK (sex IN ('w', 'm', 'd')),
    data_mac    BYTEA  NOT NULL,
    code_hash   BYTEA  NOT NULL,
    imported_at BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (year, child)
);
CREATE INDEX exam_cohort_code ON exam_cohort (code_hash);

-- Which school-health site examines the children of a school district;
-- district names are unique regardless of case.
CREATE TABLE exam_districts (
    district   TEXT   NOT NULL,
    site       TEXT COLLATE "C" NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX exam_districts_district ON exam_districts (lower(district));
