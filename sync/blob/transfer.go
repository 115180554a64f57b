package blob

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/retry"
)

// The chunk protocol on the site's signed sync channel (central/server's
// blobs.go answers it). Every request is signed and fresh like a download
// poll (changelog.SignRequest: the signature covers the request target, so
// the chunk's SHA-256 in an upload's query binds its body).
//
//	GET /api/v1/sync/blobs/{sha256}?site=S          → Position (an upload's resume point at central)
//	PUT /api/v1/sync/blobs/{sha256}/{i}?site=S&sum=H  body: chunk i  → Position
//	GET /api/v1/sync/blobs/{sha256}/{i}?site=S       → chunk i, its SHA-256 in HeaderChunkSum
//
// A chunk whose bytes do not match its sum is refused (400) and sent
// again; an upload's chunk that is not the next one central expects is a
// 409 whose Position says where to go on. A file central erased (its
// keeping time is over, release.go) is 410 Gone either way: the site
// gives that transfer up for good.
const (
	HeaderChunkSum = "Veedel-Chunk-Sha256"
	PathPrefix     = "/api/v1/sync/blobs/"
)

// Position is central's answer to an upload's chunk or position request.
type Position struct {
	SHA256   string `json:"sha256"`
	Next     int    `json:"next"`     // the first chunk central does not have
	Chunks   int    `json:"chunks"`   // how many the file has
	Complete bool   `json:"complete"` // central has the whole file, checked
	Error    string `json:"error,omitempty"`
}

// Defaults of Transfer's tuning fields.
const (
	DefaultConcurrency = 2
	DefaultMaxBackoff  = 5 * time.Second
	// RefusedBackoff is the longest pause after central refused a file
	// (a 4xx other than a corrupt chunk): it is not referenced by the
	// site's log at central yet, or the site is not enrolled. The pause
	// starts at 1 s and doubles.
	RefusedBackoff = 30 * time.Second
	// chunkTries is how often a chunk that arrived corrupt is sent or
	// fetched again at once before the file waits its backoff.
	chunkTries = 3
	// scanEvery is how often the transfer looks for new work when nothing
	// wakes it.
	scanEvery = 2 * time.Second
	// wakeGap is the least time between two looks that commits woke: a
	// busy site commits hundreds of times a second, almost none of them
	// with a file, and a look per commit is a query per commit on the
	// site's CPU. A file wanted in a burst starts at most this much later.
	wakeGap = 250 * time.Millisecond
)

// Transfer moves the site's files: it fetches what blob.Want recorded
// from central and sends up what blob.Offer recorded, chunk by chunk,
// resuming where a transfer stopped (the receiver's chunks are durable),
// at most Concurrency files at a time, each failing file waiting a
// jittered backoff like the uplink's.
type Transfer struct {
	// DB is the site's database (its write connection): the table
	// blob_transfers.
	DB         *sql.DB
	Files      *Files
	Site       string
	CentralURL string
	Client     *http.Client
	// Authorize signs each request (cmd/veedel: the site's key, at
	// central's clock); an error wrapping ErrNotReady waits quietly.
	Authorize func(*http.Request) error
	// Central is the site's estimate of central's clock, learnt from the
	// answers' Date headers (shared with the uplink and downlink).
	Central *changelog.CentralClock
	// Wake, when set, tells of new commits at the site (a Want or Offer
	// may have come).
	Wake        <-chan struct{}
	Concurrency int
	MaxBackoff  time.Duration
	Logger      *slog.Logger
	Now         func() time.Time

	mu     sync.Mutex
	status Status
	waits  map[string]wait // file/direction → when it may go again
	kick   chan struct{}
}

// Kick makes Run look for work at once (after a Want or Offer committed
// outside the store's commands, which wake it themselves).
func (t *Transfer) Kick() {
	t.mu.Lock()
	if t.kick == nil {
		t.kick = make(chan struct{}, 1)
	}
	k := t.kick
	t.mu.Unlock()
	select {
	case k <- struct{}{}:
	default:
	}
}

type wait struct {
	until            time.Time
	backoff, refused time.Duration
}

// Status is the transfer's health, for /healthz ("files").
type Status struct {
	Pending   int    `json:"pending"` // files waiting to move (at the last look)
	Done      uint64 `json:"done"`    // files completed since start
	Chunks    uint64 `json:"chunks"`  // chunks moved since start
	Refused   uint64 `json:"refused"` // corrupt chunks refused since start
	Gone      uint64 `json:"gone"`    // transfers given up since start: the file was erased
	LastError string `json:"last_error,omitempty"`
}

// Status returns a snapshot.
func (t *Transfer) Status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status
}

// ErrNotReady is what Authorize returns (wrapped) while the site cannot
// sign yet (its key is not enrolled).
var ErrNotReady = errors.New("not ready to send to central")

// errRefused is a 4xx answer other than a corrupt chunk.
var errRefused = errors.New("refused")

// job is one pending row of blob_transfers.
type job struct {
	ref Ref
	dir string
}

func (j job) key() string { return j.dir + "/" + j.ref.SHA256 }

func (t *Transfer) defaults() {
	if t.Client == nil {
		t.Client = &http.Client{}
	}
	if t.Logger == nil {
		t.Logger = slog.Default()
	}
	if t.Concurrency <= 0 {
		t.Concurrency = DefaultConcurrency
	}
	if t.MaxBackoff <= 0 {
		t.MaxBackoff = DefaultMaxBackoff
	}
	if t.Now == nil {
		t.Now = time.Now
	}
	if t.Central == nil {
		t.Central = &changelog.CentralClock{}
	}
	t.waits = map[string]wait{}
}

// Run moves files until ctx ends.
func (t *Transfer) Run(ctx context.Context) error {
	t.defaults()
	t.mu.Lock()
	if t.kick == nil {
		t.kick = make(chan struct{}, 1)
	}
	kick := t.kick
	t.mu.Unlock()
	for ctx.Err() == nil {
		looked := time.Now()
		if _, err := t.round(ctx); err != nil && ctx.Err() == nil {
			t.setError(err)
		}
		timer := time.NewTimer(t.nextWake())
		select {
		case <-ctx.Done():
		case <-t.Wake:
			if gap := wakeGap - time.Since(looked); gap > 0 {
				t.pause(ctx, kick, timer, gap)
			}
		case <-kick:
		case <-timer.C:
		}
		timer.Stop()
	}
	return nil
}

// pause waits up to gap after a commit woke Run, unless a kick, the next
// timed look or the end comes first.
func (t *Transfer) pause(ctx context.Context, kick <-chan struct{}, timer *time.Timer, gap time.Duration) {
	g := time.NewTimer(gap)
	defer g.Stop()
	select {
	case <-ctx.Done():
	case <-kick:
	case <-timer.C:
	case <-g.C:
	}
}

// nextWake is how long Run may sleep: until the first waiting file may go
// again, at most scanEvery.
func (t *Transfer) nextWake() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := scanEvery
	now := time.Now()
	for _, w := range t.waits {
		d = min(d, max(w.until.Sub(now), 10*time.Millisecond))
	}
	return d
}

// round runs every pending transfer that is not waiting out a backoff,
// Concurrency at a time, and returns how many completed.
func (t *Transfer) round(ctx context.Context) (int, error) {
	if t.waits == nil {
		t.defaults()
	}
	jobs, err := t.pending(ctx)
	if err != nil {
		return 0, err
	}
	t.mu.Lock()
	t.status.Pending = len(jobs)
	t.mu.Unlock()
	sem := make(chan struct{}, t.Concurrency)
	var wg sync.WaitGroup
	var done sync.Mutex
	n := 0
	for _, j := range jobs {
		if !t.due(j) {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := t.move(ctx, j)
			if errors.Is(err, ErrErased) {
				t.giveUp(ctx, j, err)
				return
			}
			if err == nil {
				err = t.markDone(ctx, j)
			}
			t.after(ctx, j, err)
			if err == nil {
				done.Lock()
				n++
				done.Unlock()
			}
		})
	}
	wg.Wait()
	return n, nil
}

func (t *Transfer) due(j job) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	w, ok := t.waits[j.key()]
	return !ok || !time.Now().Before(w.until)
}

// after records a transfer's outcome: its backoff grows from 100 ms to
// MaxBackoff (RefusedBackoff after a refusal), jittered; a success or a
// quiet "not ready" forgets it.
func (t *Transfer) after(ctx context.Context, j job, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case err == nil:
		delete(t.waits, j.key())
		t.status.Done++
		t.status.LastError = ""
		t.Logger.Info("file transferred", "site", t.Site, "direction", j.dir, "sha256", j.ref.SHA256[:12], "size", j.ref.Size)
		return
	case ctx.Err() != nil:
		return
	}
	w := t.waits[j.key()]
	var pause time.Duration
	switch {
	case errors.Is(err, ErrNotReady):
		pause = 250 * time.Millisecond
	case errors.Is(err, errRefused):
		// Mostly an upload whose entry is still on its way to central:
		// soon fine, so from 1 s, doubling up to RefusedBackoff.
		w.refused = min(max(2*w.refused, time.Second), RefusedBackoff)
		pause = w.refused
	default:
		w.backoff = min(max(2*w.backoff, 100*time.Millisecond), t.MaxBackoff)
		pause = w.backoff
	}
	w.until = time.Now().Add(retry.Jittered(pause))
	t.waits[j.key()] = w
	if !errors.Is(err, ErrNotReady) {
		t.status.LastError = err.Error()
		t.Logger.Warn("file transfer interrupted; it resumes", "site", t.Site, "direction", j.dir, "sha256", j.ref.SHA256[:12], "err", err)
		t.DB.ExecContext(ctx, `UPDATE blob_transfers SET tries = tries + 1, last_error = ? WHERE sha256 = ? AND direction = ?`, err.Error(), j.ref.SHA256, j.dir)
	}
}

func (t *Transfer) setError(err error) {
	t.mu.Lock()
	t.status.LastError = err.Error()
	t.mu.Unlock()
}

func (t *Transfer) pending(ctx context.Context) ([]job, error) {
	rows, err := t.DB.QueryContext(ctx, `SELECT sha256, direction, size, type, name FROM blob_transfers WHERE done_at IS NULL ORDER BY rowid`)
	if err != nil {
		return nil, fmt.Errorf("blob: pending transfers: %w", err)
	}
	defer rows.Close()
	var jobs []job
	for rows.Next() {
		var j job
		if err := rows.Scan(&j.ref.SHA256, &j.dir, &j.ref.Size, &j.ref.Type, &j.ref.Name); err != nil {
			return nil, fmt.Errorf("blob: pending transfers: %w", err)
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

// giveUp ends a transfer of a file erased at either end: it is marked
// done with the reason, and never tried again (the file is not coming
// back; a new Want or Offer of the same bytes after a new Hold is a new
// row only once this one is gone, which Release does).
func (t *Transfer) giveUp(ctx context.Context, j job, why error) {
	t.mu.Lock()
	delete(t.waits, j.key())
	t.status.Gone++
	t.mu.Unlock()
	t.Logger.Info("file transfer given up: the file was erased", "site", t.Site, "direction", j.dir, "sha256", j.ref.SHA256[:12])
	if _, err := t.DB.ExecContext(ctx, `UPDATE blob_transfers SET done_at = ?, last_error = ? WHERE sha256 = ? AND direction = ?`,
		t.Now().UnixMilli(), why.Error(), j.ref.SHA256, j.dir); err != nil {
		t.setError(fmt.Errorf("blob: record transfer given up: %w", err))
	}
}

func (t *Transfer) markDone(ctx context.Context, j job) error {
	_, err := t.DB.ExecContext(ctx, `UPDATE blob_transfers SET done_at = ?, last_error = '' WHERE sha256 = ? AND direction = ?`, t.Now().UnixMilli(), j.ref.SHA256, j.dir)
	if err != nil {
		return fmt.Errorf("blob: record transfer done: %w", err)
	}
	return nil
}

func (t *Transfer) move(ctx context.Context, j job) error {
	if j.dir == Down {
		return t.fetch(ctx, j.ref)
	}
	return t.send(ctx, j.ref)
}

// fetch takes a file from central, from the first chunk the site does not
// have (its chunks are durable: a restart resumes there), asking for the
// next chunk while it stores one. A chunk that arrives corrupt is fetched
// again; so is the whole file when it does not match its SHA-256
// (Receive discarded it).
func (t *Transfer) fetch(ctx context.Context, ref Ref) error {
	corrupt := 0
	for {
		next, err := t.Files.Next(ctx, ref)
		if err != nil || next >= NumChunks(ref.Size) {
			return err
		}
		again, err := t.fetchFrom(ctx, ref, next, &corrupt)
		if !again {
			return err
		}
	}
}

// fetched is a chunk as it came from central.
type fetched struct {
	i    int
	data []byte
	sum  string
	err  error
}

// fetchFrom fetches and stores chunks from next on, one ahead; again
// reports a corrupt chunk to fetch again from where the site stands.
func (t *Transfer) fetchFrom(ctx context.Context, ref Ref, next int, corrupt *int) (again bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	chunks := make(chan fetched, 1)
	go func() {
		defer close(chunks)
		for i := next; i < NumChunks(ref.Size); i++ {
			data, sum, err := t.getChunk(ctx, ref.SHA256, i)
			select {
			case chunks <- fetched{i, data, sum, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		cancel()
		for range chunks {
		}
	}()
	for c := range chunks {
		if c.err != nil {
			return false, c.err
		}
		done, err := t.Files.Receive(ctx, ref, c.i, c.data, c.sum)
		if t.counted(err, corrupt) {
			return true, nil
		}
		if err != nil || done {
			return false, err
		}
	}
	return true, nil // look again where the site stands
}

// send gives central a file from the chunk central asks for next.
func (t *Transfer) send(ctx context.Context, ref Ref) error {
	pos, err := t.position(ctx, ref.SHA256)
	corrupt := 0
	for err == nil && !pos.Complete {
		var data []byte
		if _, data, err = t.Files.ReadChunk(ctx, ref.SHA256, pos.Next); err != nil {
			return err
		}
		var p Position
		p, err = t.putChunk(ctx, ref.SHA256, pos.Next, data)
		if t.counted(err, &corrupt) {
			err = nil
			continue // the same chunk again
		}
		pos = p
	}
	return err
}

// counted counts a chunk moved or refused as corrupt, and reports whether
// to try again at once: a corrupt chunk, up to chunkTries in a row.
func (t *Transfer) counted(err error, corrupt *int) bool {
	if err != nil && !errors.Is(err, ErrCorrupt) {
		return false
	}
	t.count(err != nil)
	if err == nil {
		*corrupt = 0
		return false
	}
	*corrupt++
	return *corrupt < chunkTries
}

func (t *Transfer) count(refused bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if refused {
		t.status.Refused++
	} else {
		t.status.Chunks++
	}
}

func (t *Transfer) target(sha string, chunk int, sum string) string {
	p := strings.TrimRight(t.CentralURL, "/") + PathPrefix + sha
	if chunk >= 0 {
		p += "/" + strconv.Itoa(chunk)
	}
	q := url.Values{"site": {t.Site}}
	if sum != "" {
		q.Set("sum", sum)
	}
	return p + "?" + q.Encode()
}

// do signs and sends a request, and signs it again once at once when
// central refused it as not fresh and its Date shows the site's clock off.
func (t *Transfer) do(ctx context.Context, method, target string, body []byte) (*http.Response, error) {
	send := func() (*http.Response, error) {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, target, rd)
		if err != nil {
			return nil, err
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		if t.Authorize != nil {
			if err := t.Authorize(req); err != nil {
				return nil, err
			}
		}
		return t.Client.Do(req)
	}
	resp, err := send()
	if err != nil {
		return nil, err
	}
	if t.Central.Observe(resp, t.Now()) && resp.StatusCode == http.StatusUnauthorized {
		resp.Body.Close()
		if resp, err = send(); err != nil {
			return nil, err
		}
		t.Central.Observe(resp, t.Now())
	}
	return resp, nil
}

func (t *Transfer) getChunk(ctx context.Context, sha string, i int) ([]byte, string, error) {
	resp, err := t.do(ctx, http.MethodGet, t.target(sha, i, ""), nil)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", answerError(resp)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, ChunkSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("chunk %d: %w", i, err)
	}
	return data, resp.Header.Get(HeaderChunkSum), nil
}

func (t *Transfer) position(ctx context.Context, sha string) (Position, error) {
	resp, err := t.do(ctx, http.MethodGet, t.target(sha, -1, ""), nil)
	if err != nil {
		return Position{}, err
	}
	defer resp.Body.Close()
	return readPosition(resp)
}

func (t *Transfer) putChunk(ctx context.Context, sha string, i int, data []byte) (Position, error) {
	resp, err := t.do(ctx, http.MethodPut, t.target(sha, i, ChunkSum(data)), data)
	if err != nil {
		return Position{}, err
	}
	defer resp.Body.Close()
	pos, err := readPosition(resp)
	if resp.StatusCode == http.StatusConflict && pos.SHA256 == sha {
		return pos, nil // not the chunk central expects: go on where it says
	}
	return pos, err
}

// readPosition reads central's Position; an error for any answer but 200.
func readPosition(resp *http.Response) (Position, error) {
	var pos Position
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err == nil {
		err = json.Unmarshal(body, &pos)
	}
	switch {
	case resp.StatusCode == http.StatusOK && err == nil:
		return pos, nil
	case resp.StatusCode == http.StatusOK:
		return pos, fmt.Errorf("central's answer: %w", err)
	case resp.StatusCode == http.StatusConflict && err == nil:
		return pos, fmt.Errorf("central: %s: %s", resp.Status, pos.Error)
	}
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return pos, answerError(resp)
}

// answerError makes an error of a refusal: a 410 wraps ErrErased (give
// the transfer up), a 400 saying the chunk did not match wraps ErrCorrupt
// (send it again at once), another 4xx wraps errRefused.
func answerError(resp *http.Response) error {
	var msg struct {
		Error string `json:"error"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	json.Unmarshal(body, &msg)
	err := fmt.Errorf("central: %s: %s", resp.Status, msg.Error)
	switch {
	case resp.StatusCode == http.StatusGone:
		return fmt.Errorf("%w: %w", err, ErrErased)
	case resp.StatusCode == http.StatusBadRequest && resp.Header.Get(HeaderCorrupt) != "":
		return fmt.Errorf("%w: %w", err, ErrCorrupt)
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		return fmt.Errorf("%w: %w", err, errRefused)
	}
	return err
}

// HeaderCorrupt is set on central's 400 that refuses a chunk whose bytes do
// not match its sum.
const HeaderCorrupt = "Veedel-Chunk-Corrupt"
