// Package queue is the waiting-queue workflow of a site: services, counters
// and tickets, the commands a kiosk or a clerk gives, the events those
// commands produce, and the pure reducer that folds events into State.
//
// It imports no SQL, HTTP or hardware. The appliance folds its own events
// into State to decide the next command; central folds the same events,
// received through sync, into the same State to serve the citizen portal.
// Both therefore see one truth by construction.
package queue
