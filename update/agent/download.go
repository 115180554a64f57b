package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/veedel/veedel/update"
	"github.com/veedel/veedel/update/slot"
)

// fetch gets the next chunk of the target's bundle with a range request
// from where the partial file ends, and verifies the bundle once it is
// whole. A cut connection loses at most what was not yet synced: the
// next call asks from the file's length again.
func (a *Agent) fetch(ctx context.Context) (bool, error) {
	part := a.partPath(a.st.Target)
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return false, err
	}
	defer f.Close()
	from, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return false, err
	}
	if a.st.Size > 0 && from >= a.st.Size {
		f.Close()
		return a.verify()
	}
	to := from + a.Chunk - 1
	if a.st.Size > 0 {
		to = min(to, a.st.Size-1)
	}
	q := url.Values{}
	q.Set("site", a.Site)
	q.Set("version", a.st.Target)
	resp, err := a.get(ctx, "/api/v1/sync/update/bundle?"+q.Encode(), fmt.Sprintf("bytes=%d-%d", from, to))
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, total, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok || start != from || (a.st.Size > 0 && total != a.st.Size) {
			return false, fmt.Errorf("central answered the range from %d with %q", from, resp.Header.Get("Content-Range"))
		}
	case http.StatusOK:
		// No range support on the way: start over from the beginning.
		if err := f.Truncate(0); err != nil {
			return false, err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return false, err
		}
	case http.StatusRequestedRangeNotSatisfiable:
		// The file is longer than the bundle: it is not this bundle.
		os.Remove(part)
		return false, fmt.Errorf("the partial download of %s was longer than its bundle; starting over", a.st.Target)
	default:
		return false, fmt.Errorf("central answered the download of %s %s: %s", a.st.Target, resp.Status, readError(resp.Body))
	}
	_, copyErr := io.Copy(f, resp.Body)
	// What arrived is kept, also when the connection broke: it is
	// synced, so that the position survives a power cut.
	if err := f.Sync(); err != nil {
		return false, err
	}
	if copyErr != nil {
		return false, fmt.Errorf("download of %s cut at %d bytes: %w", a.st.Target, a.have(), copyErr)
	}
	return true, nil
}

// contentRange parses "bytes START-END/TOTAL".
func contentRange(h string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(h, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	s, _, found2 := strings.Cut(rng, "-")
	if !found || !found2 {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(s, 10, 64)
	total, err2 := strconv.ParseInt(tot, 10, 64)
	return start, total, err1 == nil && err2 == nil
}

// verify checks the whole download (signature by a trusted key, hashes,
// the release central named, the minimum version) before it is staged.
// A bundle that does not hold is deleted; after MaxVerifyFailures the
// release is refused.
func (a *Agent) verify() (bool, error) {
	part := a.partPath(a.st.Target)
	f, err := os.Open(part)
	if err != nil {
		return false, err
	}
	m, err := update.Verify(f, a.Trusted)
	f.Close()
	if err == nil && m.Version != a.st.Target {
		err = fmt.Errorf("%w: the bundle is release %s, central named %s", update.ErrInvalid, m.Version, a.st.Target)
	}
	if err == nil && m.MinVersion != "" && update.CompareVersions(a.Version, m.MinVersion) < 0 {
		err = fmt.Errorf("%w: release %s updates only from %s or newer; this box runs %s", update.ErrInvalid, m.Version, m.MinVersion, a.Version)
	}
	if err != nil {
		os.Remove(part)
		st := a.st
		st.VerifyFailures++
		st.Reason = err.Error()
		if st.VerifyFailures >= a.MaxVerifyFailures || !errors.Is(err, update.ErrInvalid) {
			st.State, st.Refused = Failed, st.Target
		}
		a.Logger.Error("update: bundle refused", "release", a.st.Target, "err", err)
		return false, a.save(st)
	}
	if err := os.Rename(part, a.bundlePath(a.st.Target)); err != nil {
		return false, err
	}
	if err := slot.SyncDir(a.Dir); err != nil {
		return false, err
	}
	a.Logger.Info("update: verified and staged", "release", m.Version)
	return false, a.save(State{State: Staged, Target: a.st.Target, Size: a.st.Size, Refused: a.st.Refused})
}
