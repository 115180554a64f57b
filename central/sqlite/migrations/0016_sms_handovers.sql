-- The SMS hand-overs (central/smshandover.go), in the store so that a
-- citizen's sign-up and the site's poll may reach different central
-- nodes. The number is never stored in clear: sealed holds it sealed to
-- the site's box key (changelog.SealSMS), which central cannot open, and
-- is erased when the hand-over leaves the pending state. n orders the
-- sign-ups of a ticket (the latest is its outcome).
CREATE TABLE sms_handovers (
    n          INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    site       TEXT    NOT NULL,
    ticket     TEXT    NOT NULL,
    lang       TEXT    NOT NULL,
    box_key    BLOB    NOT NULL,
    sealed     BLOB,
    state      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    state_at   INTEGER NOT NULL
);
CREATE INDEX sms_handovers_site_state ON sms_handovers (site, state);
CREATE INDEX sms_handovers_ticket ON sms_handovers (site, ticket);
