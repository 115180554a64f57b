package central

import "context"

// Several central nodes share one database (peers.go), so a decision that
// reads a scarce thing and then takes it across more than one store call
// (a booking against the online share, cutting a plate block) is taken
// under a lock of the database, not of one process: LockStore.

// LockStore gives locks that exclude every process on the store's
// database: the central nodes on one PostgreSQL, or the processes on one
// SQLite file.
type LockStore interface {
	// Lock takes the lock name, waiting while another process (or
	// another caller here) holds it, and returns the func that releases
	// it; ctx ends the wait. A process that dies releases its locks.
	// Locks do not nest: holding one, take no other.
	Lock(ctx context.Context, name string) (unlock func(), err error)
}

// Lock names.
const (
	// lockPlates: cutting plate blocks and reserving plates (plates.go).
	lockPlates = "plates"
	// lockSell + site: confirming bookings and acknowledging the online
	// share of a site (appointments.go).
	lockSell = "sell "
)
