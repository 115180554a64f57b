package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

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
