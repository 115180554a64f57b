package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Lock takes the lock name for every process on this database file
// (central.LockStore): an exclusive flock(2) on one of 256 files in the
// directory <database>-locks, picked by the name's hash (names that share
// a file wait for each other, which is safe as locks do not nest), which
// the kernel releases when the process dies. SQLite's write lock does not serve: the work done under the lock
// writes through the store's one writer connection. Waiters in this
// process queue first, then poll the file lock until ctx ends.
func (s *Store) Lock(ctx context.Context, name string) (func(), error) {
	release, err := s.gates.Enter(ctx, name)
	if err != nil {
		return nil, err
	}
	dir := s.db.Path + "-locks"
	if err := os.MkdirAll(dir, 0o750); err != nil {
		release()
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	sum := sha256.Sum256([]byte(name))
	f, err := os.OpenFile(filepath.Join(dir, hex.EncodeToString(sum[:1])), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		release()
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			release()
			return nil, fmt.Errorf("store: lock %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			release()
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return func() {
		f.Close() // releases the flock
		release()
	}, nil
}
