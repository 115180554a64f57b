package postgres

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// LeadCheck is how often a leader checks that it still holds its lock (its
// connection is alive), and how often the others try to take it.
const LeadCheck = 2 * time.Second

// Lead runs work while this process holds the cluster-wide lock name: a
// session-level PostgreSQL advisory lock on a connection of its own, so
// that work that must run once per cluster (the mail outbox's sender, the
// payments' expiry) runs on one central node at a time. The other nodes
// try again every LeadCheck. A leader whose connection fails has lost the
// lock (PostgreSQL releases it with the session): work's context is
// cancelled and Lead waits for work to return before it tries again.
// log (nil: slog.Default) hears when the lock is taken and lost.
// Lead returns when ctx ends, after work has returned. The lock is of this
// database and schema: tests in schemas of their own do not share it.
func (s *Store) Lead(ctx context.Context, name string, log *slog.Logger, work func(ctx context.Context)) {
	if log == nil {
		log = slog.Default()
	}
	logged := false
	for {
		held, err := s.leadOnce(ctx, name, log, work)
		if ctx.Err() != nil {
			return
		}
		if err != nil && !logged {
			log.Warn("singleton lock", "work", name, "err", err)
			logged = true
		} else if held {
			logged = false
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(LeadCheck):
		}
	}
}

// leadOnce connects, tries the lock and, if it got it, runs work until
// the connection fails or ctx ends. It reports whether it held the lock.
func (s *Store) leadOnce(ctx context.Context, name string, log *slog.Logger, work func(ctx context.Context)) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, LeadCheck*2)
	conn, err := pgx.ConnectConfig(cctx, s.pool.Config().ConnConfig.Copy())
	cancel()
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	for {
		var got bool
		cctx, cancel := context.WithTimeout(ctx, LeadCheck*2)
		err := conn.QueryRow(cctx, `SELECT pg_try_advisory_lock(hashtext('veedel central lead ' || current_database() || ' ' || current_schema() || ' ' || $1))`, name).Scan(&got)
		cancel()
		if err != nil {
			return false, err
		}
		if got {
			break
		}
		select {
		case <-ctx.Done():
			return false, nil
		case <-time.After(LeadCheck):
		}
	}
	// A leader whose session died notices within 2×LeadCheck (a tick and
	// a ping's timeout): give it that long to stop before starting here.
	select {
	case <-ctx.Done():
		return true, nil
	case <-time.After(2*LeadCheck + LeadCheck/2):
	}
	log.Info("singleton work starts here", "work", name)
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { work(wctx) })
	defer func() {
		stop()
		wg.Wait()
	}()
	tick := time.NewTicker(LeadCheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			// Closing the connection releases the lock.
			return true, nil
		case <-tick.C:
		}
		cctx, cancel := context.WithTimeout(ctx, LeadCheck)
		err := conn.Ping(cctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			log.Warn("singleton lock lost: work stops here", "work", name, "err", err)
			return true, err
		}
	}
}
