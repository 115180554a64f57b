package changelog_test

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
)

var update = flag.Bool("update", false, "rewrite the golden change-log fixtures in testdata/")

// fixtureEntries is a short site log as schema version 1 wrote it.
func fixtureEntries(t *testing.T) []changelog.Entry {
	t.Helper()
	at := changelog.HLC(time.Date(2026, 10, 5, 6, 0, 4, 0, time.UTC).UnixMilli()) << 16
	payloads := []struct {
		typ, entity string
		p           any
	}{
		{queue.TypeSiteDescribed, "site/kalk", &queue.SiteDescribed{ID: "kalk", Name: "Kundenzentrum Kalk", TimeZone: "Europe/Berlin",
			Hours: []queue.OpeningHours{{Weekday: time.Monday, Open: 450, Close: 900}}}},
		{queue.TypeServiceDefined, "service/meldung", &queue.ServiceDefined{ID: "meldung", Name: "An- und Ummeldung", NameEN: "Registering an address", Prefix: "B", ExpectedMinutes: 9}},
		{queue.TypeCounterDefined, "counter/3", &queue.CounterDefined{ID: "3", Name: "Platz 3", Services: []string{"meldung"}}},
		{queue.TypeTicketIssued, "ticket/2026-10-05/B001", &queue.TicketIssued{ID: "2026-10-05/B001", Token: "q8Xv2mZ0cC1hS7bq3wYQ4g", Number: "B001", Service: "meldung", Channel: "kiosk"}},
		{queue.TypeCounterOpened, "counter/3", &queue.CounterOpened{Counter: "3", Staff: "demo"}},
		{queue.TypeTicketCalled, "ticket/2026-10-05/B001", &queue.TicketCalled{ID: "2026-10-05/B001", Counter: "3"}},
		{queue.TypeTicketFinished, "ticket/2026-10-05/B001", &queue.TicketFinished{ID: "2026-10-05/B001", Counter: "3"}},
	}
	var out []changelog.Entry
	for i, p := range payloads {
		var prev *changelog.Entry
		if i > 0 {
			prev = &out[i-1]
		}
		e, err := changelog.NewEntry("kalk", prev, at+changelog.HLC(i)<<16*1000, p.typ, p.entity, p.p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// TestSchemaV1Fixture pins the wire format: a batch of version 1 stored in
// testdata/ must decode, verify and keep its hashes in every later build,
// because central accepts versions N-2…N and sites upgrade one by one.
// When the schema changes, SchemaVersion goes up and this fixture stays,
// joined by one for the new version (go test -run Fixture -update).
func TestSchemaV1Fixture(t *testing.T) {
	path := filepath.Join("testdata", "batch-v1.cbor")
	hashesPath := filepath.Join("testdata", "batch-v1.hashes")
	if *update {
		entries := fixtureEntries(t)
		data, err := changelog.Marshal(changelog.Batch{Version: 1, Site: "kalk", Entries: entries})
		if err != nil {
			t.Fatal(err)
		}
		var hashes []string
		for _, e := range entries {
			hashes = append(hashes, hex.EncodeToString(e.Hash))
		}
		os.WriteFile(path, data, 0o644)
		os.WriteFile(hashesPath, []byte(strings.Join(hashes, "\n")+"\n"), 0o644)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := changelog.ReadBatch(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("a version 1 batch is no longer accepted: %v", err)
	}
	want, err := os.ReadFile(hashesPath)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range b.Entries {
		got = append(got, hex.EncodeToString(e.Hash))
		if _, err := changelog.DecodePayload(&e, queue.NewPayload); err != nil {
			t.Errorf("entry %d: payload no longer decodes: %v", e.Seq, err)
		}
	}
	if strings.Join(got, "\n")+"\n" != string(want) {
		t.Errorf("hashes of the version 1 fixture changed:\n got %v\nwant %s", got, want)
	}
	// Re-encoding what was decoded gives the same bytes: the encoding is
	// deterministic across builds, not just within one.
	again, _ := changelog.Marshal(b)
	if !bytes.Equal(again, data) {
		t.Error("re-encoding the version 1 batch gives other bytes")
	}
	// And today's code writes exactly the pinned entries.
	for i, e := range fixtureEntries(t) {
		if hex.EncodeToString(e.Hash) != got[i] {
			t.Errorf("entry %d: this build hashes it as %x, the fixture says %s", e.Seq, e.Hash, got[i])
		}
	}
}

// TestVersionWindow: entries of versions N-2…N are accepted; a newer site's
// entries are refused with a message that says which versions central takes.
func TestVersionWindow(t *testing.T) {
	entries := fixtureEntries(t)
	for _, v := range []uint{changelog.SchemaVersion + 1, changelog.SchemaVersion + 5, 0} {
		e := entries[0]
		e.Version = v
		e.Hash, _ = e.ComputeHash()
		err := e.Verify()
		if veedel.ErrorCode(err) != veedel.EINVALID || !strings.Contains(veedel.ErrorMessage(err), "not supported (accepting") {
			t.Errorf("version %d: got %v, want a refusal that names the accepted versions", v, err)
		}
	}
	for v := max(int(changelog.SchemaVersion)-2, 1); v <= changelog.SchemaVersion; v++ {
		e := entries[0]
		e.Version = uint(v)
		e.Hash, _ = e.ComputeHash()
		if err := e.Verify(); err != nil {
			t.Errorf("version %d refused: %v", v, err)
		}
	}
}
