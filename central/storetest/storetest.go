// Package storetest is the one test suite of central's log stores: every
// store (central/sqlite, central/postgres) runs it from its own tests with
// Run, so that both keep the same rules.
package storetest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
)

// Store is a central store under test.
type Store interface {
	central.LogStore
	central.RangeScanner
	central.PageScanner
	central.SnapshotStore
	Close() error
	// SetFault installs a failure at a stage of Append (nil removes it):
	// "commit" is after every entry is written, before the commit.
	SetFault(func(ctx context.Context, stage string) error)
	// Writer is the database handle the mail outbox writes through.
	Writer() *sql.DB
}

// Opener opens the database a test was given. Every call opens it again,
// as another process would: central after a restart, or veedel central
// adduser while central runs.
type Opener func(ctx context.Context) (Store, error)

// Run runs the suite. newDB gives each test a new, empty database of its
// own (the tests run in parallel) and cleans it up with t.Cleanup.
func Run(t *testing.T, newDB func(t *testing.T) Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"Append", testAppend},
		{"AppendConcurrent", testAppendConcurrent},
		{"FaultBeforeCommit", testFaultBeforeCommit},
		{"ScanRange", testScanRange},
		{"ScanPage", testScanPage},
		{"OutboundLog", testOutboundLog},
		{"CityReference", testCityReference},
		{"OutboundConcurrent", testOutboundConcurrent},
		{"JoinSite_GroupEditedAfterItsService", testJoinSiteGroupEditedAfterItsService},
		{"RejoinSite", testRejoinSite},
		{"Admins", testAdmins},
		{"LoginJournal", testLoginJournal},
		{"Enroll", testEnroll},
		{"Rejections", testRejections},
		{"Nonces", testNonces},
		{"BoxKeysAndSecrets", testBoxKeysAndSecrets},
		{"SiteDirectory_SeededOnce", testSiteDirectorySeededOnce},
		{"SiteDirectory_AddUpdate", testSiteDirectoryAddUpdate},
		{"SiteDirectory_Remove", testSiteDirectoryRemove},
		{"NewEnrollmentToken_UnknownSite", testNewEnrollmentTokenUnknownSite},
		{"Appointments_LastPlace", testAppointmentsLastPlace},
		{"Appointments_Change", testAppointmentsChange},
		{"Appointments_For", testAppointmentsFor},
		{"Payments", testPayments},
		{"MailOutbox", testMailOutbox},
		{"ExamCohort", testExamCohort},
		{"ExamCohortConcurrent", testExamCohortConcurrent},
		{"ExamDistricts", testExamDistricts},
		{"SMSHandovers", testSMSHandovers},
		{"PlateReservations_Concurrent", testPlateReservationsConcurrent},
		{"PlateReservations_Lifetime", testPlateReservationsLifetime},
		{"Snapshot_Store", testSnapshotStore},
		{"Snapshot_EqualsFullFold", testSnapshotEqualsFullFold},
		{"Snapshot_Fallback", testSnapshotFallback},
		{"Snapshot_Large", testSnapshotLarge},
		{"Lock_TwoHandles", testLockTwoHandles},
		{"FormSubmissions", testFormSubmissions},
		{"Business_Accounts", testBusinessAccounts},
		{"Business_RowKeys", testBusinessRowKeys},
		{"Business_Deliveries", testBusinessDeliveries},
		{"Business_SubmitAll", testBusinessSubmitAll},
		{"Blobs_PutOpen", testBlobsPutOpen},
		{"Blobs_Receive", testBlobsReceive},
		{"Blobs_Release", testBlobsRelease},
		{"Rollout_Revisions", testRolloutRevisions},
		{"UpdateReports", testUpdateReports},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newDB(t))
		})
	}
}

var start = time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)

// mustOpen opens the test's database and closes it when the test ends.
func mustOpen(t *testing.T, open Opener) Store {
	t.Helper()
	s, err := open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// hlcClock is a deterministic outbound clock.
func hlcClock() func() changelog.HLC {
	c := changelog.NewClock(func() time.Time { return start }, 0)
	return c.Now
}

func service(id, prefix string, minutes int) central.Outgoing {
	return central.Outgoing{Type: queue.TypeServiceDefined, Entity: "service/" + id,
		Payload: &queue.ServiceDefined{ID: id, Name: id, NameEN: id, Prefix: prefix, ExpectedMinutes: minutes}}
}

func group(id, name, prefix string) central.Outgoing {
	return central.Outgoing{Type: queue.TypeGroupDefined, Entity: "group/" + id,
		Payload: &queue.GroupDefined{ID: id, Name: name, NameEN: name, Prefix: prefix}}
}

// outbound reads a site's whole outbound log and checks it is one chain
// from seq 1 up to the head.
func outbound(t *testing.T, s Store, site string) []changelog.Entry {
	t.Helper()
	entries, head, err := s.Outbound(context.Background(), site, 0, 10_000, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	for i := range entries {
		e := &entries[i]
		if err := e.Verify(); err != nil {
			t.Fatalf("%s outbound %d: %v", site, e.Seq, err)
		}
		if e.Site != site {
			t.Fatalf("%s outbound %d belongs to %q", site, e.Seq, e.Site)
		}
		var prevSeq uint64
		var prevHash []byte
		if i > 0 {
			prevSeq, prevHash = entries[i-1].Seq, entries[i-1].Hash
		}
		if !e.Follows(prevSeq, prevHash) {
			t.Fatalf("%s outbound %d does not follow %d", site, e.Seq, prevSeq)
		}
	}
	if got := uint64(len(entries)); got != head {
		t.Fatalf("%s outbound: %d entries, head %d", site, got, head)
	}
	return entries
}

// knownSite stores one entry of a site's log, as its first batch would.
func knownSite(t *testing.T, s Store, site string) {
	t.Helper()
	e, err := changelog.NewEntry(site, nil, changelog.HLC(start.UnixMilli())<<16, queue.TypeSiteDescribed, "site/"+site, &queue.SiteDescribed{ID: site, Name: site})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Append(context.Background(), &changelog.Batch{Version: changelog.SchemaVersion, Site: site, Entries: []changelog.Entry{e}}, start, true); err != nil {
		t.Fatal(err)
	}
}
