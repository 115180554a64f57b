package agent_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/update"
	"github.com/veedel/veedel/update/agent"
	"github.com/veedel/veedel/update/slot"
)

// fleet is central on loopback HTTP (a real store file, its releases
// directory) and what the tests watch of the requests.
type fleet struct {
	t        testing.TB
	central  *central.Central
	url      string
	releases string
	priv     ed25519.PrivateKey
	pub      ed25519.PublicKey

	mu       sync.Mutex
	ranges   []string // the bundle requests' Range headers
	cutAfter int64    // cut the next bundle answer after so many bytes (0: don't)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newFleet(t testing.TB) *fleet {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "central.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c, err := central.New(ctx, store, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	f := &fleet{t: t, central: c, releases: t.TempDir()}
	f.pub, f.priv, _ = ed25519.GenerateKey(rand.Reader)
	srv := &server.Server{Central: c, Logger: quiet, Releases: f.releases,
		// The signature is server.AuthorizeSite's business (tested
		// there); here the agent's Authorize names its site.
		Authorize: func(r *http.Request, site string) error {
			if r.Header.Get("X-Test-Site") != site {
				return veedel.Errorf(veedel.EUNAUTHORIZED, "not signed for %s", site)
			}
			return nil
		}}
	h := srv.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/bundle") {
			f.mu.Lock()
			f.ranges = append(f.ranges, r.Header.Get("Range"))
			cut := f.cutAfter
			f.cutAfter = 0
			f.mu.Unlock()
			if cut > 0 {
				w = &cutWriter{ResponseWriter: w, left: cut}
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

// cutWriter breaks the connection after left bytes of the body.
type cutWriter struct {
	http.ResponseWriter
	left int64
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if int64(len(p)) >= c.left {
		n, _ := c.ResponseWriter.Write(p[:c.left])
		c.ResponseWriter.(http.Flusher).Flush()
		_ = n
		panic(http.ErrAbortHandler)
	}
	c.left -= int64(len(p))
	return c.ResponseWriter.Write(p)
}

// release puts a signed bundle of image into central's releases.
func (f *fleet) release(key ed25519.PrivateKey, version, minVersion string, image []byte) []byte {
	var b bytes.Buffer
	if _, err := update.Sign(&b, key, version, minVersion, bytes.NewReader(image), time.Unix(0, 0)); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.releases, version+".bundle"), b.Bytes(), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return b.Bytes()
}

func (f *fleet) plan(p central.RolloutPlan) {
	f.t.Helper()
	old, err := f.central.Rollout(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	p.Revision = old.Revision
	if _, err := f.central.SetRollout(context.Background(), p); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fleet) report(site string) central.UpdateReport {
	f.t.Helper()
	reps, err := f.central.UpdateReports(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	for _, r := range reps {
		if r.Site == site {
			return r
		}
	}
	return central.UpdateReport{}
}

// box is an appliance's disk in files: the ESP with slot A's entry
// (blessed), the two slots, and the data partition's update folder.
type box struct {
	esp          slot.ESP
	slotA, slotB string
	data         string
	reboots      int
	open         bool
}

func newBox(t testing.TB) *box {
	dir := t.TempDir()
	b := &box{esp: slot.ESP{Dir: filepath.Join(dir, "esp")}, slotA: filepath.Join(dir, "root-a"), slotB: filepath.Join(dir, "root-b"), data: filepath.Join(dir, "data", "update")}
	os.MkdirAll(filepath.Join(b.esp.Dir, "loader", "entries"), 0o755)
	os.WriteFile(filepath.Join(b.esp.Dir, "loader", "entries", "veedel-a.conf"), []byte("title Veedel 1.0 (slot A)\n#release 1.0\nversion 1\n"), 0o644)
	os.WriteFile(b.slotA, bytes.Repeat([]byte("A"), 1<<16), 0o644)
	os.WriteFile(b.slotB, make([]byte, 1<<20), 0o644)
	return b
}

func (b *box) entries(t *testing.T) []string {
	des, err := os.ReadDir(filepath.Join(b.esp.Dir, "loader", "entries"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range des {
		out = append(out, d.Name())
	}
	return out
}

// agent is the box's agent running release version from slot.
func (b *box) agent(f *fleet, site, version, slotName string) *agent.Agent {
	target := slot.Target{ESP: b.esp, Current: slotName,
		Device: func(s string) string {
			if s == "a" {
				return b.slotA
			}
			return b.slotB
		},
		PartUUID: func(s string) string { return "uuid-" + s },
		Kernel: func(dev string) (io.ReadCloser, io.ReadCloser, func(), error) {
			return io.NopCloser(strings.NewReader("kernel")), io.NopCloser(strings.NewReader("initrd")), func() {}, nil
		},
	}
	return &agent.Agent{Site: site, CentralURL: f.url, Dir: b.data, Trusted: []ed25519.PublicKey{f.pub},
		Version: version, Slot: slotName, Logger: quiet, Chunk: 64 << 10, Poll: time.Hour,
		Authorize: func(r *http.Request) error { r.Header.Set("X-Test-Site", site); return nil },
		Install: func(bundle string) (update.Manifest, error) {
			m, _, err := target.Apply(bundle, []ed25519.PublicKey{f.pub})
			return m, err
		},
		Closed:   func(time.Time) bool { return !b.open },
		Reboot:   func(context.Context) error { b.reboots++; return nil },
		Bless:    func() error { return b.esp.Bless(slotName) },
		FellBack: func() (string, bool, error) { en, ok, err := b.esp.RolledBack(slotName); return en.Release, ok, err },
		DiskFree: func() int64 { return 123 << 20 },
		BootedAt: time.Now().Add(-time.Hour),
	}
}

// steps runs the agent until it is not busy, polling each time.
func steps(t *testing.T, a *agent.Agent, n int) {
	t.Helper()
	for range n {
		busy, err := a.Step(context.Background())
		if err != nil {
			t.Logf("step: %v", err)
		}
		if !busy && err == nil {
			return
		}
	}
}

func image(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}
