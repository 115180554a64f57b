package central_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/sync/changelog"
)

// enrollTestKey enrolls a deterministic key for site, as an appliance does
// with a token from veedel central enroll, and returns it for signing.
func enrollTestKey(tb testing.TB, c *central.Central, store central.TrustStore, site string) ed25519.PrivateKey {
	tb.Helper()
	ctx := context.Background()
	seed := sha256.Sum256([]byte("test key of " + site))
	key := ed25519.NewKeyFromSeed(seed[:])
	now := time.Now()
	token, err := store.CreateEnrollmentToken(ctx, site, now, now.Add(time.Hour))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := c.Enroll(ctx, changelog.Enrollment{Site: site, Token: token, PublicKey: key.Public().(ed25519.PublicKey)}); err != nil {
		tb.Fatal(err)
	}
	return key
}

// TestIngest_Trust: Ingest itself refuses what is not signed by the site's
// active key, before storing anything, whoever calls it.
func TestIngest_Trust(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "central.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c, err := central.New(ctx, store, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := enrollTestKey(t, c, store, "kalk")
	log := siteLog(t, 6)
	batch := func(entries []changelog.Entry, key ed25519.PrivateKey) *changelog.Batch {
		b := &changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: entries}
		if key != nil {
			if err := b.Sign(key); err != nil {
				t.Fatal(err)
			}
		}
		return b
	}

	_, err = c.Ingest(ctx, batch(log[:3], nil))
	if got := veedel.ErrorCode(err); got != veedel.EUNAUTHORIZED {
		t.Errorf("unsigned: %v, want %s", err, veedel.EUNAUTHORIZED)
	}
	if ack, err := c.Ingest(ctx, batch(log[:3], key)); err != nil || ack.Acked != 3 {
		t.Fatalf("signed: ack %+v, %v; want acked 3", ack, err)
	}
	if _, err := store.RevokeSiteKeys(ctx, "kalk", time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err = c.Ingest(ctx, batch(log[3:], key))
	if got := veedel.ErrorCode(err); got != veedel.EFORBIDDEN {
		t.Errorf("revoked: %v, want %s", err, veedel.EFORBIDDEN)
	}
	var stored int
	store.Scan(ctx, "kalk", 0, func(changelog.Entry) error { stored++; return nil })
	if stored != 3 {
		t.Errorf("stored %d entries, want 3", stored)
	}
}

// TestIngest_ReplayRefusedAfterRestart: central remembers the nonces it
// took on disk, so a batch replayed right after a restart of central is
// refused as well, stores nothing and is not contact.
func TestIngest_ReplayRefusedAfterRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "central.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := central.New(ctx, store, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := enrollTestKey(t, c, store, "kalk")
	b := &changelog.Batch{Version: changelog.SchemaVersion, Site: "kalk", Entries: siteLog(t, 3)}
	if err := b.SignFresh(key, time.Now()); err != nil {
		t.Fatal(err)
	}
	n := uint64(len(b.Entries))
	if ack, err := c.Ingest(ctx, b); err != nil || ack.Acked != n {
		t.Fatalf("first: %+v, %v; want acked %d", ack, err, n)
	}
	contact := c.Sites()[0].LastSync
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	store, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c, err = central.New(ctx, store, func() time.Time { return time.Now().Add(time.Minute) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ingest(ctx, b); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
		t.Errorf("replay after restart: %v, want %s", err, veedel.EUNAUTHORIZED)
	}
	if s := c.Sites(); len(s) != 1 || s[0].AckedSeq != n || s[0].LastSync.UnixMilli() != contact.UnixMilli() {
		t.Errorf("after the replay: %+v, want acked %d, last contact unchanged", s, n)
	}
}
