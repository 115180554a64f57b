package downlink_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/downlink"
	"github.com/veedel/veedel/sync/sitekey"
)

// A download with a malformed SMS hand-over (a central of another
// version, a bug), one whose number travels in clear, or one sealed to
// another site's key, still delivers its entries and its other
// hand-overs: the site refuses each bad one alone (sms_no), without
// logging a number, and opens the one sealed to its own box key.
func TestDownlinkMalformedHandoverRefusedAlone(t *testing.T) {
	at := changelog.HLC(time.Now().UnixMilli()) << 16
	entry, err := changelog.NewEntry("kalk", nil, at, queue.TypeServiceDefined, "service/ausweis",
		&queue.ServiceDefined{ID: "ausweis", Name: "Personalausweis und Reisepass", NameEN: "ID card and passport", Prefix: "A", ExpectedMinutes: 33})
	if err != nil {
		t.Fatal(err)
	}
	box, err := sitekey.BoxKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	otherBox, err := sitekey.BoxKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	seal := func(h changelog.SMSHandover, key []byte) changelog.SMSHandover {
		sealed, err := changelog.SealSMS(h, "kalk", key)
		if err != nil {
			t.Fatal(err)
		}
		return sealed
	}
	bad := changelog.SMSHandover{ID: "bad1", Ticket: "2026-03-04/A001", Phone: "+4917099", Lang: "de"}
	clear := changelog.SMSHandover{ID: "clear1", Ticket: "2026-03-04/A002", Phone: "+4917011111111", Lang: "de"}
	foreign := changelog.SMSHandover{ID: "foreign1", Ticket: "2026-03-04/A003", Phone: "+4917022222222", Lang: "de"}
	good := changelog.SMSHandover{ID: "good1", Ticket: "2026-03-04/A999", Phone: "+4917012345678", Lang: "de"}
	var mu sync.Mutex
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		dl := changelog.Download{Version: changelog.SchemaVersion, Site: "kalk", Head: 1}
		if r.URL.Query().Get("after") == "0" {
			key, err := base64.RawURLEncoding.DecodeString(r.Header.Get(changelog.HeaderBoxKey))
			if err != nil || !bytes.Equal(key, box.PublicKey().Bytes()) {
				t.Errorf("poll's box key %q, want the site's", r.Header.Get(changelog.HeaderBoxKey))
			}
			dl.Entries = []changelog.Entry{entry}
			dl.SMS = []changelog.SMSHandover{seal(bad, key), clear, seal(foreign, otherBox.PublicKey().Bytes()), seal(good, key)}
		} else {
			time.Sleep(50 * time.Millisecond)
		}
		data, _ := changelog.Marshal(dl)
		w.Header().Set("Content-Type", "application/cbor")
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	s := openSite(t)
	var logs bytes.Buffer
	var logMu sync.Mutex
	d := &downlink.Downlink{Inbox: s.store, Site: "kalk", CentralURL: srv.URL, Wait: time.Second, BoxKey: box,
		Logger: slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
			logMu.Lock()
			defer logMu.Unlock()
			return logs.Write(p)
		}), nil))}
	stop := run(t, d)
	eventually(t, 3*time.Second, "the entry is applied", func() bool { return s.minutes() == 33 })
	eventually(t, 3*time.Second, "every hand-over is answered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, q := range queries {
			v, _ := url.ParseQuery(q)
			no := strings.Split(v.Get("sms_no"), ",")
			slices.Sort(no)
			if slices.Equal(no, []string{"bad1", "clear1", "foreign1", "good1"}) {
				return true
			}
		}
		return false
	})
	stop()
	if st := d.Status(); st.Failures != 0 || st.LastError != "" {
		t.Errorf("status %+v, want no failure", st)
	}
	logMu.Lock()
	defer logMu.Unlock()
	for _, id := range []string{"bad1", "clear1", "foreign1"} {
		if !strings.Contains(logs.String(), "malformed sms sign-up from central refused") || !strings.Contains(logs.String(), id) {
			t.Errorf("the refusal of %s is not logged: %s", id, logs.String())
		}
	}
	// The good one opened: the store decided on it (its ticket is unknown).
	if !strings.Contains(logs.String(), "sms sign-up taken from central") || !strings.Contains(logs.String(), "handover=good1 outcome=refused") {
		t.Errorf("the sealed hand-over was not opened and applied: %s", logs.String())
	}
	for _, n := range []string{"4917099", "12345678", "11111111", "22222222"} {
		if strings.Contains(logs.String(), n) {
			t.Errorf("a number in the log: %s", logs.String())
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
