package main

import (
	"os"
	"runtime/debug"
)

// serverGCPercent is the garbage collector's target for the long-running
// commands (appliance, central, demo): the heap may grow to three times
// what is live between collections instead of twice (Go's default 100).
// A site's heap is mostly its queue state (tens of megabytes on a busy
// day), so that costs tens of megabytes on a box with gigabytes, and a
// profile under make load put a fifth of the site's CPU into the
// collector; at 200 the demo's CPU per command fell from 0.93–0.99 ms to
// 0.73 ms (one run each, the same busy machine). GOGC in the environment
// still decides when it is set, and GOMEMLIMIT caps the heap as usual.
const serverGCPercent = 200

// tuneGC applies serverGCPercent unless the operator set GOGC.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serverGCPercent)
	}
}
