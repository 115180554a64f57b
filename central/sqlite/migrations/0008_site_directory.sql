-- The site directory: every site central has been told about (veedel
-- central site add, the admin pages, or a seed), with what the portal and
-- the open data say about it. Only a site in the directory can be
-- enrolled. kind is central.SiteKind; page the site's public page ('' =
-- the portal); times are Unix milliseconds.
CREATE TABLE site_directory (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    page       TEXT    NOT NULL DEFAULT '',
    address    TEXT    NOT NULL DEFAULT '',
    added_at   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Seeds of the directory (central.SiteSeeds) and when the store applied
-- them: each exactly once, on the first start after this migration, so
-- that a site an admin changed stays changed.
CREATE TABLE site_seeds (
    name       TEXT PRIMARY KEY,
    applied_at INTEGER
);
INSERT INTO site_seeds (name) VALUES ('cologne');
