package appointment

import (
	"context"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/workflow"
)

// Central's holds and bookings live in its store (central/sqlite,
// central/postgres: table appointments), not in one process's memory: a
// restart loses no held slot, and several central nodes on one database
// sell each place once. The store decides a hold under its own lock
// (SQLite's write lock, PostgreSQL advisory locks per slot and contact);
// confirming and cancelling change a row and append the event for the
// site in one transaction.

// Record is an online appointment as central's store keeps it. The
// personal part (Contact, Sealed) and the confirmation code's hash exist
// only while the appointment is held: they are deleted in the statement
// that confirms, cancels or expires it.
type Record struct {
	Code        string // the booking code, "T…"
	TokenHash   []byte // SHA-256 of the citizen's private token
	Site        string
	Service     string
	Start       time.Time
	Status      string // StatusHeld, StatusConfirmed, StatusCancelled, StatusExpired
	ContactHash []byte // keyed hash of the contact: the per-contact limit
	ConfirmHash []byte // keyed hash of the confirmation code sent
	Attempts    int    // wrong codes typed so far
	Expires     time.Time
	// Contact is the name and contact encrypted to central (for the
	// booking's confirmation message once the code is right), Sealed the
	// same sealed to the site (the Booked event's).
	Contact []byte
	Sealed  []byte
	SentTo  string // where the code went, masked (MaskEmail, MaskPhone)
	Lang    string
	// Replaces is the token hash of the booking this one moves: it is
	// cancelled once this one is confirmed. Nil for none.
	Replaces []byte
	// For is the record the booking is for (Booked.For), "" for none.
	For       string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Live reports whether r takes its place at now: a booking, or a hold not
// yet expired.
func (r Record) Live(now time.Time) bool {
	return r.Status == StatusConfirmed || (r.Status == StatusHeld && now.Before(r.Expires))
}

// Store is central's store of appointments.
type Store interface {
	// HoldSlot stores r, a new hold, when fewer than capacity places of
	// its slot are live (held or booked) and its contact has fewer than
	// perContact live appointments of its service starting after now;
	// otherwise ErrSlotTaken or ErrContactLimit, and nothing is stored.
	// Both counts and the insert are one transaction under a lock of the
	// slot and of the contact, so that of concurrent holds on the last
	// place exactly one wins. Holds expired by now lose their personal
	// data first.
	HoldSlot(ctx context.Context, r Record, capacity, perContact int, now time.Time) error
	// AppointmentByToken returns the record of a token's hash; ENOTFOUND
	// when there is none.
	AppointmentByToken(ctx context.Context, tokenHash []byte) (Record, error)
	// ChangeAppointment reads the record of tokenHash, locked against
	// other changes, and calls decide with it. A non-nil next replaces
	// the record and send is appended to its site's outbound log, in one
	// transaction; decide's error is returned after that commit (so that
	// a wrong code stays counted). It returns the record as stored.
	ChangeAppointment(ctx context.Context, tokenHash []byte, decide func(Record) (next *Record, send []workflow.Event, err error)) (Record, error)
	// SlotsTaken counts the live places of service at site per slot
	// start (Unix milliseconds) for slots starting in [from, to).
	SlotsTaken(ctx context.Context, site, service string, from, to, now time.Time) (map[int64]int, error)
	// RecordBookings stores bookings central sold before its store kept
	// them (folded from the outbound logs), skipping codes it has.
	RecordBookings(ctx context.Context, records []Record) error
	// BookingFor returns the newest confirmed booking for the record
	// forRef (Record.For) that starts after now; ENOTFOUND when there is
	// none.
	BookingFor(ctx context.Context, forRef string, now time.Time) (Record, error)
}

// The store's refusals of a hold.
var (
	ErrSlotTaken = &veedel.Error{Code: veedel.ECONFLICT,
		Message: "Dieser Termin ist gerade vergeben worden: bitte einen anderen wählen / this slot has just been taken: please choose another"}
	ErrContactLimit = &veedel.Error{Code: veedel.ECONFLICT,
		Message: "Für diese Kontaktangabe sind schon genug Termine für dieses Anliegen gebucht / this contact has enough appointments for this service already"}
)
