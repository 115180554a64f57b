// Package namedgate lets one caller at a time through per name, in one
// process, with waiting bounded by a context: what central's stores put
// in front of their database locks, so that one process has at most one
// waiter per lock at the database.
package namedgate

import (
	"context"
	"sync"
)

// Gates is a gate per name; the zero value is ready to use.
type Gates struct {
	mu    sync.Mutex
	gates map[string]*gate
}

type gate struct {
	slot  chan struct{} // holds a token while someone is through
	users int           // inside or waiting; the gate goes at 0
}

// Enter waits until no one else is through name's gate, or ctx ends, and
// returns the func that lets the next one through.
func (g *Gates) Enter(ctx context.Context, name string) (func(), error) {
	g.mu.Lock()
	if g.gates == nil {
		g.gates = map[string]*gate{}
	}
	gt := g.gates[name]
	if gt == nil {
		gt = &gate{slot: make(chan struct{}, 1)}
		g.gates[name] = gt
	}
	gt.users++
	g.mu.Unlock()
	select {
	case gt.slot <- struct{}{}:
		return func() {
			<-gt.slot
			g.leave(name, gt)
		}, nil
	case <-ctx.Done():
		g.leave(name, gt)
		return nil, ctx.Err()
	}
}

func (g *Gates) leave(name string, gt *gate) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gt.users--; gt.users == 0 {
		delete(g.gates, name)
	}
}
