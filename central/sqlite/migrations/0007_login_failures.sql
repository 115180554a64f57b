-- Failed admin logins (form and HTTP Basic), and the locks they caused (internal/login):
-- what admins see at /admin/logins. No password ever, and
-- no name when no account has the name tried (people type their password
-- into the name field). client is the address as central saw it (IPv6:
-- its /64): admins need it to find the machine; the log lines carry no
-- address. The store keeps the newest 10,000 rows.
CREATE TABLE login_failures (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    name   TEXT    NOT NULL,
    client TEXT    NOT NULL,
    via    TEXT    NOT NULL,
    reason TEXT    NOT NULL,
    until  INTEGER
);

-- Addresses an admin has logged in from (the newest success per
-- pair): a lock of the account after failures elsewhere does not keep
-- them out. Rows older than 90 days are deleted.
CREATE TABLE login_clients (
    name    TEXT    NOT NULL,
    client  TEXT    NOT NULL,
    last_ok INTEGER NOT NULL,
    PRIMARY KEY (name, client)
);
