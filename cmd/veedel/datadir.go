package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/veedel/veedel/sync/sitekey"
)

// dataCheck is the appliance's start-up check of its data directory: it
// refuses, with one line naming the file and what to do, a directory that
// cannot be right, before anything in it is changed. A site whose key file
// exists has made its change-log before (the key is written at the first
// start), so an empty or missing database next to it means the site's data
// was lost: seeding a fresh site would fork its log, which central refuses,
// while the appliance looked healthy. (A read-only or damaged database is
// refused by sqlitedb.Open, an unreadable key here.)
type dataCheck struct {
	db, key string
	// logExpected: the key and a non-empty database existed before this
	// start, so the database must hold the site's log.
	logExpected bool
}

// checkDataDir checks cfg's database and key file before the appliance
// opens them.
func checkDataDir(cfg applianceConfig) (*dataCheck, error) {
	c := &dataCheck{db: cfg.DB, key: cfg.keyFile()}
	if _, err := os.Stat(c.key); errors.Is(err, fs.ErrNotExist) {
		return c, nil // a new site, or a lost key: a new one is made and enrolled
	}
	if _, err := sitekey.Load(c.key); err != nil {
		return nil, err
	}
	fi, err := os.Stat(c.db)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Even with an enrollment token: one left in the configuration
		// must not turn a lost database into a silent fork.
		return nil, c.lost("is missing")
	case err != nil:
		return nil, fmt.Errorf("cannot read the site database %s (%v): make it readable for the user running veedel", c.db, pathless(err))
	case fi.IsDir():
		return nil, fmt.Errorf("the site database %s is a directory: remove it or choose another -data", c.db)
	case fi.Size() == 0:
		return nil, c.lost("is empty (0 bytes)")
	}
	c.logExpected = true
	return c, nil
}

// afterOpen checks the opened database: one the site had used must hold
// its change-log.
func (c *dataCheck) afterOpen(lastSeq uint64) error {
	if c.logExpected && lastSeq == 0 {
		return c.lost("holds no change-log")
	}
	return nil
}

// lost is the error for a site database that lost the site's data.
func (c *dataCheck) lost(what string) error {
	return fmt.Errorf("the site database %s %s, but the site's key %s exists: the site's data was lost; restore %s from the backup, or from central with veedel appliance restore (a new log would fork the site's log at central, which refuses it); only if this appliance never served anybody, remove %s to start anew",
		c.db, what, c.key, filepath.Base(c.db), c.key)
}

// pathless is err without the path an *fs.PathError repeats.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
