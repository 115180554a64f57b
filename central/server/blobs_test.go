package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsqlite "github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/sync/changelog"
)

// blobCall is one chunk-protocol request, signed by key for signedFor.
type blobCall struct {
	method, path string // path after blob.PathPrefix, with its query
	body         []byte
	key          ed25519.PrivateKey
	signedFor    string
	unsigned     bool
}

func (e *env) blob(c blobCall) (int, http.Header, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(c.method, e.URL+blob.PathPrefix+c.path, bytes.NewReader(c.body))
	if err != nil {
		e.t.Fatal(err)
	}
	if c.body == nil {
		req.Body, req.ContentLength = nil, 0
	}
	if !c.unsigned {
		key, site := c.key, c.signedFor
		if key == nil {
			key, site = siteKey(siteID), siteID
		}
		changelog.SignRequest(req, site, key, e.Clock.Now())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

func position(t *testing.T, body []byte) blob.Position {
	t.Helper()
	var p blob.Position
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("not a position: %s", body)
	}
	return p
}

func blobPDF(t *testing.T, n int) ([]byte, blob.Ref) {
	data := make([]byte, n)
	rand.Read(data)
	copy(data, "%PDF-1.5\n")
	s := sha256.Sum256(data)
	return data, blob.Ref{SHA256: hex.EncodeToString(s[:]), Size: int64(n), Type: blob.TypePDF}
}

func chunkPath(sha string, i int, query string) string {
	return sha + "/" + strconv.Itoa(i) + "?site=" + siteID + query
}

// Central gives a site only the files its outbound log references, to the
// site's own fresh signature.
func TestBlobDownload(t *testing.T) {
	e := newEnv(t)
	e.enroll("nippes", siteKey("nippes"))
	data, _ := blobPDF(t, blob.ChunkSize+10)
	ref, err := e.Central.Blobs().Put(context.Background(), bytes.NewReader(data), "a.pdf", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	get := blobCall{method: http.MethodGet, path: chunkPath(ref.SHA256, 1, "")}
	if status, _, body := e.blob(get); status != http.StatusForbidden {
		t.Fatalf("a file no entry sent to the site references: %d %s, want 403", status, body)
	}
	e.Central.ReferenceBlob(siteID, blob.Down, ref)
	status, h, body := e.blob(get)
	if status != http.StatusOK || !bytes.Equal(body, blob.ChunkOf(data, 1)) || h.Get(blob.HeaderChunkSum) != blob.ChunkSum(blob.ChunkOf(data, 1)) {
		t.Fatalf("chunk 1: %d, %d bytes, sum %q", status, len(body), h.Get(blob.HeaderChunkSum))
	}
	for name, c := range map[string]blobCall{
		"Unsigned":        {method: http.MethodGet, path: get.path, unsigned: true},
		"AnotherSitesKey": {method: http.MethodGet, path: get.path, key: siteKey("nippes"), signedFor: siteID},
		"AnotherSite":     {method: http.MethodGet, path: ref.SHA256 + "/1?site=nippes", key: siteKey("nippes"), signedFor: "nippes"},
		"NoSuchChunk":     {method: http.MethodGet, path: chunkPath(ref.SHA256, 2, "")},
		"BadHash":         {method: http.MethodGet, path: chunkPath("ABC", 0, "")},
	} {
		t.Run(name, func(t *testing.T) {
			status, _, body := e.blob(c)
			want := map[string]int{"Unsigned": 401, "AnotherSitesKey": 403, "AnotherSite": 403, "NoSuchChunk": 404, "BadHash": 400}[name]
			if status != want || position(t, body).Error == "" {
				t.Fatalf("got %d %s, want %d with a reason", status, body, want)
			}
		})
	}
}

// Central takes a site's chunks only for a file its log references, in
// order, each matching the sum its signature covers; the file is there
// once the whole of it matches.
func TestBlobUpload(t *testing.T) {
	e := newEnv(t)
	data, ref := blobPDF(t, 2*blob.ChunkSize+3)
	put := func(i int, body []byte, sum string) (int, http.Header, blob.Position) {
		status, h, raw := e.blob(blobCall{method: http.MethodPut, path: chunkPath(ref.SHA256, i, "&sum="+sum), body: body})
		return status, h, position(t, raw)
	}
	if status, _, pos := put(0, blob.ChunkOf(data, 0), blob.ChunkSum(blob.ChunkOf(data, 0))); status != http.StatusForbidden {
		t.Fatalf("a file the site's log does not reference: %d %+v, want 403", status, pos)
	}
	e.Central.ReferenceBlob(siteID, blob.Up, ref)
	status, _, raw := e.blob(blobCall{method: http.MethodGet, path: ref.SHA256 + "?site=" + siteID})
	if pos := position(t, raw); status != http.StatusOK || pos.Next != 0 || pos.Chunks != 3 || pos.Complete {
		t.Fatalf("position before: %d %+v", status, pos)
	}
	bad := bytes.Clone(blob.ChunkOf(data, 0))
	bad[100] ^= 1
	if status, h, pos := put(0, bad, blob.ChunkSum(blob.ChunkOf(data, 0))); status != http.StatusBadRequest || h.Get(blob.HeaderCorrupt) == "" || pos.Next != 0 {
		t.Fatalf("a corrupt chunk: %d %+v, want 400 marked corrupt", status, pos)
	}
	if rej, ok := e.rejected("PUT "+blob.PathPrefix+"{sha}/{chunk}", http.StatusBadRequest); !ok || rej.Source != central.SiteSource+siteID {
		t.Fatalf("the corrupt chunk is not recorded as the site's rejection: %+v", rej)
	}
	if status, _, pos := put(1, blob.ChunkOf(data, 1), blob.ChunkSum(blob.ChunkOf(data, 1))); status != http.StatusConflict || pos.Next != 0 {
		t.Fatalf("chunk 1 before 0: %d %+v, want 409 naming 0", status, pos)
	}
	if status, _, pos := put(0, append(bytes.Clone(blob.ChunkOf(data, 0)), 0), ""); status != http.StatusBadRequest || pos.Error == "" {
		t.Fatalf("a chunk over the size: %d %+v, want 400", status, pos)
	}
	for i := range 3 {
		status, _, pos := put(i, blob.ChunkOf(data, i), blob.ChunkSum(blob.ChunkOf(data, i)))
		if status != http.StatusOK || pos.Next != i+1 || pos.Complete != (i == 2) {
			t.Fatalf("chunk %d: %d %+v", i, status, pos)
		}
	}
	rc, _, err := e.Central.Blobs().Open(context.Background(), ref.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(rc); !bytes.Equal(got, data) {
		t.Fatal("central's file differs from the site's")
	}
	// A resend after completion changes nothing.
	if status, _, pos := put(2, blob.ChunkOf(data, 2), blob.ChunkSum(blob.ChunkOf(data, 2))); status != http.StatusOK || !pos.Complete {
		t.Fatalf("a resend: %d %+v", status, pos)
	}
}

// A file central erased (its keeping time is over) is 410 Gone with a
// reason for every chunk request, and a site's transfer that still wants
// it, or still offers it, gives up instead of asking again.
func TestBlobErased(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	data, _ := blobPDF(t, blob.ChunkSize+10)
	ref, err := e.Central.Blobs().Put(ctx, bytes.NewReader(data), "vollmacht.pdf", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	e.Central.ReferenceBlob(siteID, blob.Down, ref)
	e.Central.ReferenceBlob(siteID, blob.Up, ref)
	if err := e.Central.Blobs().Hold(ctx, "vehicle/V1", ref.SHA256); err != nil {
		t.Fatal(err)
	}
	if gone, err := e.Central.Blobs().Release(ctx, "vehicle/V1", ref.SHA256); err != nil || !gone {
		t.Fatalf("release: %v %v", gone, err)
	}
	for name, c := range map[string]blobCall{
		"Chunk":    {method: http.MethodGet, path: chunkPath(ref.SHA256, 0, "")},
		"Position": {method: http.MethodGet, path: ref.SHA256 + "?site=" + siteID},
		"Upload":   {method: http.MethodPut, path: chunkPath(ref.SHA256, 0, "&sum="+blob.ChunkSum(blob.ChunkOf(data, 0))), body: blob.ChunkOf(data, 0)},
	} {
		t.Run(name, func(t *testing.T) {
			status, _, body := e.blob(c)
			if status != http.StatusGone || position(t, body).Error == "" {
				t.Fatalf("got %d %s, want 410 with a reason", status, body)
			}
		})
	}
	if _, _, err := e.Central.Blobs().Open(ctx, ref.SHA256); !errors.Is(err, blob.ErrErased) {
		t.Fatalf("the upload that was refused stored the file again: %v", err)
	}

	// A site (a real appliance store) that wants the file down and
	// offers the same bytes up: both transfers end, marked, at once.
	site, err := appsqlite.Open(ctx, filepath.Join(t.TempDir(), "site.db"), siteID, appsqlite.Options{Now: e.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	if err := blob.Want(ctx, site.Writer(), ref); err != nil {
		t.Fatal(err)
	}
	tr := &blob.Transfer{DB: site.Writer(), Files: site.Blobs(), Site: siteID, CentralURL: e.URL,
		Authorize: func(r *http.Request) error {
			changelog.SignRequest(r, siteID, siteKey(siteID), e.Clock.Now())
			return nil
		}}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { tr.Run(rctx); close(done) }()
	defer func() { stop(); <-done }()
	waitGone := func(n uint64) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for tr.Status().Gone < n {
			if time.Now().After(deadline) {
				t.Fatalf("the transfers did not give up: %+v", tr.Status())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitGone(1)
	// The same bytes at the site, offered up: central takes them no more.
	if _, err := site.Blobs().Put(ctx, bytes.NewReader(data), "", 1<<20); err != nil {
		t.Fatal(err)
	}
	if err := blob.Offer(ctx, site.Writer(), ref); err != nil {
		t.Fatal(err)
	}
	tr.Kick()
	waitGone(2)
	var open int
	var why string
	if err := site.Writer().QueryRowContext(ctx, `SELECT count(*) FROM blob_transfers WHERE done_at IS NULL`).Scan(&open); err != nil || open != 0 {
		t.Fatalf("%d transfers still pending (%v)", open, err)
	}
	site.Writer().QueryRowContext(ctx, `SELECT last_error FROM blob_transfers WHERE direction = 'down'`).Scan(&why)
	if !strings.Contains(why, "410") {
		t.Fatalf("the transfer's reason %q does not say the file is gone", why)
	}
	if st := tr.Status(); st.Done != 0 || st.Chunks != 0 {
		t.Fatalf("something moved: %+v", st)
	}
}
