package downlink_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/downlink"
)

// A download with a malformed SMS hand-over (a central of another
// version, a bug) still delivers its entries and its other hand-overs:
// the site refuses the bad one alone (sms_no), without logging its number.
func TestDownlinkMalformedHandoverRefusedAlone(t *testing.T) {
	at := changelog.HLC(time.Now().UnixMilli()) << 16
	entry, err := changelog.NewEntry("kalk", nil, at, queue.TypeServiceDefined, "service/ausweis",
		&queue.ServiceDefined{ID: "ausweis", Name: "Personalausweis und Reisepass", NameEN: "ID card and passport", Prefix: "A", ExpectedMinutes: 33})
	if err != nil {
		t.Fatal(err)
	}
	bad := changelog.SMSHandover{ID: "bad1", Ticket: "2026-03-04/A001", Phone: "+4917099", Lang: "de"}
	good := changelog.SMSHandover{ID: "good1", Ticket: "2026-03-04/A999", Phone: "+4917012345678", Lang: "de"}
	var mu sync.Mutex
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		dl := changelog.Download{Version: changelog.SchemaVersion, Site: "kalk", Head: 1}
		if r.URL.Query().Get("after") == "0" {
			dl.Entries, dl.SMS = []changelog.Entry{entry}, []changelog.SMSHandover{bad, good}
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
	d := &downlink.Downlink{Inbox: s.store, Site: "kalk", CentralURL: srv.URL, Wait: time.Second,
		Logger: slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
			logMu.Lock()
			defer logMu.Unlock()
			return logs.Write(p)
		}), nil))}
	stop := run(t, d)
	eventually(t, 3*time.Second, "the entry is applied", func() bool { return s.minutes() == 33 })
	eventually(t, 3*time.Second, "both hand-overs are answered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, q := range queries {
			if strings.Contains(q, "sms_no=bad1%2Cgood1") || strings.Contains(q, "sms_no=bad1") && strings.Contains(q, "good1") {
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
	if !strings.Contains(logs.String(), "bad1") {
		t.Errorf("the refusal is not logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), "4917099") || strings.Contains(logs.String(), "12345678") {
		t.Errorf("a number in the log: %s", logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
