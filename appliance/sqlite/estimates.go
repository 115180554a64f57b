package sqlite

import (
	"sync"
	"time"
)

// Wait estimates off the write path. A command never computes estimates:
// it reads the published ones (queue.State.UseEstimates), so that the
// ticket records the very figure its kiosk showed. After a commit the
// estimator waits EstimateDelay for the rest of the burst, copies the
// state under the lock (linear in the state), computes the estimates on
// the copy outside the lock (linear in the queue, estimateRuns forward
// simulations) and publishes them. The estimates shown are never older
// than EstimateBound: counted from the first commit they do not include.

const (
	// EstimateDelay is how long the estimator gathers commits before it
	// recomputes: one recomputation per burst, not per event.
	EstimateDelay = 20 * time.Millisecond
	// maxEstimateDelay caps the delay after a long recomputation.
	maxEstimateDelay = 400 * time.Millisecond
	// EstimateBound is the staleness the docs promise: an estimate shown
	// misses no commit older than this, with up to 1,000 waiting. It is
	// the delay (four times the last recomputation's time, at most
	// 0.4 s) plus one recomputation: at 1,000 waiting one takes about
	// 80 ms of CPU, 0.4 s in all on an idle machine; on an overloaded one
	// the recomputation shares the CPU with the commands and takes up to
	// about 1 s of wall time; TestEstimateStaleness measures it.
	// A wait is told in minutes: a figure seconds old is as good.
	EstimateBound = 2 * time.Second
)

// estimator recomputes a store's estimates in the background.
type estimator struct {
	wake     chan struct{} // one pending wake-up at most
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}

	mu sync.Mutex
	// pending is the time of the first commit after the last copy taken
	// (zero: none); inflight that of the copy being computed (zero: none).
	pending, inflight time.Time
	recomputes        uint64
	maxAge            time.Duration // the oldest estimate ever replaced
}

// EstimateStats are the estimator's figures, for tests and diagnostics.
type EstimateStats struct {
	// Recomputes counts the published recomputations since Open.
	Recomputes uint64
	// Age is how long ago the first commit the estimates shown now do
	// not include was committed (zero: they are up to date).
	Age time.Duration
	// MaxAge is the largest Age an estimate had when it was replaced.
	MaxAge time.Duration
}

// startEstimates publishes the estimates of the loaded state and starts
// the estimator. Requires that nothing else uses s yet.
func (s *Store) startEstimates() {
	s.state.UseEstimates(s.state.ComputeEstimates())
	e := &estimator{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	s.estimator = e
	go s.estimate(e)
}

// stopEstimates stops the estimator and waits for it.
func (s *Store) stopEstimates() {
	if e := s.estimator; e != nil {
		e.stopOnce.Do(func() { close(e.stop) })
		<-e.done
	}
}

// estimatesStale is called after every commit; requires s.mu.
func (s *Store) estimatesStale() {
	e := s.estimator
	if e == nil {
		return
	}
	e.mu.Lock()
	if e.pending.IsZero() {
		e.pending = time.Now()
	}
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (s *Store) estimate(e *estimator) {
	defer close(e.done)
	delay := time.NewTimer(0)
	<-delay.C
	var took time.Duration // the last recomputation's
	for {
		select {
		case <-e.stop:
			return
		case <-e.wake:
		}
		// Gather the burst: the commits of the next EstimateDelay go into
		// the same recomputation (not a sliding delay: a steady stream
		// of commits must not postpone it forever). A long queue's
		// recomputation takes longer than that: then four times as long
		// as the last one took, so that the estimator takes at most a
		// fifth of a core from the commands, but never more than
		// maxEstimateDelay.
		delay.Reset(min(max(EstimateDelay, 4*took), maxEstimateDelay))
		select {
		case <-e.stop:
			return
		case <-delay.C:
		}
		s.mu.Lock()
		copied := s.state.EstimateCopy()
		e.mu.Lock()
		since := e.pending
		e.pending, e.inflight = time.Time{}, since
		e.mu.Unlock()
		s.mu.Unlock()
		if since.IsZero() {
			continue // published already by an earlier round
		}

		began := time.Now()
		est := copied.ComputeEstimates()
		took = time.Since(began)

		s.mu.Lock()
		e.mu.Lock()
		if cur, ok := s.state.PublishedApplied(); !ok || est.Applied() >= cur {
			s.state.UseEstimates(est)
		}
		e.recomputes++
		e.maxAge = max(e.maxAge, time.Since(since))
		e.inflight = time.Time{}
		e.mu.Unlock()
		s.mu.Unlock()
		// Pages that show estimates (the display, status streams, the SMS
		// worker) wake on commits: they learn of new figures the same way.
		s.notify()
	}
}

// EstimateStats reports the estimator's figures.
func (s *Store) EstimateStats() EstimateStats {
	e := s.estimator
	if e == nil {
		return EstimateStats{}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	st := EstimateStats{Recomputes: e.recomputes, MaxAge: e.maxAge}
	oldest := e.inflight
	if oldest.IsZero() || (!e.pending.IsZero() && e.pending.Before(oldest)) {
		oldest = e.pending
	}
	if !oldest.IsZero() {
		st.Age = time.Since(oldest)
	}
	return st
}

// SettleEstimates brings the published estimates up to the current state
// at once, computing them under the lock. Commands never call it: it is
// for tests and tools that need the figures of exactly the state as it is
// (a kiosk shows what was published last, and records that).
func (s *Store) SettleEstimates() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.state.PublishedApplied(); ok && cur == s.state.Applied {
		return
	}
	s.state.UseEstimates(s.state.ComputeEstimates())
	if e := s.estimator; e != nil {
		e.mu.Lock()
		e.pending = time.Time{}
		e.mu.Unlock()
	}
}
