package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Lock takes the lock name for every process on this database and schema
// (central.LockStore): a session-level advisory lock on a connection of
// its own, opened for it and closed by unlock. Waiters for the same name
// in this process queue here first, so that each name has at most one
// connection of this process waiting; the pool's connections stay free
// for the work done under the lock. A process that dies loses the
// connection, and PostgreSQL releases its locks with it.
func (s *Store) Lock(ctx context.Context, name string) (func(), error) {
	release, err := s.gates.Enter(ctx, name)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		release()
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	// On an error (ctx ended while waiting) the connection is closed, so
	// that a lock granted at that very moment goes with it.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended('veedel central lock ' || current_schema() || ' ' || $1, 0))`, name); err != nil {
		conn.Close(context.Background())
		release()
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	return func() {
		// Closing the session releases the lock, whether or not the
		// connection still answers.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(ctx)
		release()
	}, nil
}
