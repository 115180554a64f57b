package sqlite

import (
	"context"
	"sync/atomic"
)

// FaultFunc is a test seam: Append calls it at a named stage ("commit":
// every entry is written, the transaction not yet committed), and an error
// it returns fails Append there, rolling the transaction back as a full
// disk (SQLITE_FULL, ENOSPC) or a crash in the middle of a batch would.
// It may block, e.g. until ctx ends because central is stopping.
type FaultFunc = func(ctx context.Context, stage string) error

// SetFault installs fn (nil removes it). Safe while the store is in use.
func (s *Store) SetFault(fn FaultFunc) {
	if fn == nil {
		s.fault.fn.Store(nil)
		return
	}
	s.fault.fn.Store(&fn)
}

type faultHook struct{ fn atomic.Pointer[FaultFunc] }

func (h *faultHook) before(ctx context.Context, stage string) error {
	if fn := h.fn.Load(); fn != nil {
		return (*fn)(ctx, stage)
	}
	return nil
}
