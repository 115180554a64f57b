-- central/sqlite's 0026: who holds a file (sync/blob, release.go), and
-- the tombstones of erased files (a site asking for one gets 410).
CREATE TABLE blob_holds (
    sha256 TEXT COLLATE "C" NOT NULL,
    holder TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (sha256, holder)
);

CREATE TABLE blob_erased (
    sha256    TEXT COLLATE "C" PRIMARY KEY,
    erased_at BIGINT NOT NULL
);
