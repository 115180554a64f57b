// Package agent is the appliance's update agent: it polls central's update
// channel (signed like the download's poll) with its state, downloads the
// release the rollout gives its site in the background and resumably
// (range requests; the position is the partial file's length on the data
// partition), verifies the whole bundle before anything is written
// (signature by a trusted release key, hashes, the minimum version to
// update from), installs it into the inactive slot in the site's closing
// hours and reboots. After the boot the new release has to prove itself
// within a set time before its boot is marked good; otherwise it reboots,
// the boot loader's counter runs out and the old slot boots, whose agent
// reports "rolled back" with the reason the new one recorded.
//
// Everything the agent must remember across a reboot or a crash is in
// Dir (state.json, written atomically, and the download).
package agent

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/veedel/veedel/update"
	"github.com/veedel/veedel/update/slot"
)

// States the agent reports (central.UpdateStates).
const (
	Idle        = "idle"
	Downloading = "downloading"
	Staged      = "staged"
	Switching   = "switching"
	Healthy     = "healthy"
	RolledBack  = "rolled-back"
	Failed      = "failed"
)

// Agent is one appliance's update agent. Set the fields, then Run.
type Agent struct {
	Site       string
	CentralURL string
	Client     *http.Client
	// Authorize signs a request with the site's key (changelog.SignRequest).
	Authorize func(*http.Request) error
	// Dir keeps the state and the download (on the data partition).
	Dir string
	// Trusted are the city's release keys.
	Trusted []ed25519.PublicKey
	// Version is the running release, Slot the booted slot.
	Version, Slot string
	// Install writes a verified bundle into the inactive slot and makes
	// it the next boot's (slot.Target.Apply).
	Install func(bundle string) (update.Manifest, error)
	// Closed says whether the site is outside its opening hours at t:
	// only then does the agent switch and reboot.
	Closed func(t time.Time) bool
	// Reboot restarts the box (systemctl reboot).
	Reboot func(ctx context.Context) error
	// Prove checks, after a switch, that the new release works (service
	// up, store opens, a sync round); it is called until it passes or
	// ProveWithin has passed since the agent started.
	Prove       func(ctx context.Context) error
	ProveWithin time.Duration
	// Bless marks the running slot's boot good (slot.ESP.Bless).
	Bless func() error
	// MarkBad, when set, marks the running slot's boot entry failed
	// (slot.ESP.MarkBad) after a failed proof, before the reboot: the
	// next boot takes the old slot at once instead of using up the boot
	// loader's remaining tries on a release that answered but did not
	// prove itself. Without it every try is used.
	MarkBad func() error
	// FellBack reports whether this boot is a fallback from the other
	// slot (slot.ESP.RolledBack), and that slot's release.
	FellBack func() (release string, ok bool, err error)
	// DiskFree is the data partition's free bytes; BootedAt the boot's time.
	DiskFree func() int64
	BootedAt time.Time
	// Poll is how often the agent asks central (default 5 minutes);
	// Chunk the most one range request fetches (default 8 MiB), so that
	// the reported progress moves and a cut costs little.
	Poll  time.Duration
	Chunk int64
	Now   func() time.Time
	// MaxVerifyFailures is how often a downloaded bundle of one release
	// may fail verification before the agent refuses that release (a
	// bundle damaged on the way is fetched again; a forged one is not
	// fetched for ever). Default 2.
	MaxVerifyFailures int
	Logger            *slog.Logger

	st        State
	clockMS   int64
	lastPoll  time.Time
	lastAns   Answer
	proveFrom time.Time
}

// State is what the agent keeps in Dir/state.json.
type State struct {
	State  string `json:"state"`
	Target string `json:"target,omitempty"`
	Size   int64  `json:"size,omitempty"` // the target bundle's length
	// From is the release that installed Target (to tell, after the
	// reboot, the new release from the old one).
	From   string `json:"from,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Refused is a release the agent will not try again (it rolled
	// back, or its bundle did not verify).
	Refused        string `json:"refused,omitempty"`
	VerifyFailures int    `json:"verify_failures,omitempty"`
}

// Answer is central's answer to a poll (central/server.UpdateAnswer).
type Answer struct {
	Version    string `json:"version"`
	Why        string `json:"why"`
	MinVersion string `json:"min_version"`
	Size       int64  `json:"size"`
}

func (a *Agent) defaults() {
	if a.Client == nil {
		a.Client = &http.Client{Timeout: 10 * time.Minute}
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	if a.Poll <= 0 {
		a.Poll = 5 * time.Minute
	}
	if a.Chunk <= 0 {
		a.Chunk = 8 << 20
	}
	if a.MaxVerifyFailures <= 0 {
		a.MaxVerifyFailures = 2
	}
	if a.Logger == nil {
		a.Logger = slog.Default()
	}
	if a.ProveWithin <= 0 {
		a.ProveWithin = 10 * time.Minute
	}
}

// PollNow makes the next Step ask central at once.
func (a *Agent) PollNow() { a.lastPoll = time.Time{} }

// Status is the agent's state as kept.
func (a *Agent) Status() State { return a.st }

// Start reads the kept state and settles what the boot means: the new
// release proving itself, a fallback to report, or an install a crash
// cut short (back to staged). Run calls it.
func (a *Agent) Start() error {
	a.defaults()
	if err := os.MkdirAll(a.Dir, 0o700); err != nil {
		return err
	}
	b, err := os.ReadFile(a.statePath())
	switch {
	case errors.Is(err, os.ErrNotExist):
		a.st = State{State: Idle}
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(b, &a.st); err != nil {
			a.Logger.Warn("update state unreadable; starting idle", "err", err)
			a.st = State{State: Idle}
		}
	}
	a.proveFrom = a.Now()
	if a.st.State != Switching {
		return nil
	}
	if a.st.Target == a.Version {
		return nil // the new release: Run proves it
	}
	// The old release runs again after a switch: a fallback, or the
	// install never finished.
	if a.FellBack != nil {
		rel, ok, err := a.FellBack()
		if err != nil {
			return err
		}
		if ok && (rel == a.st.Target || rel == "") {
			reason := a.st.Reason
			if reason == "" {
				reason = "release " + a.st.Target + " did not boot to a healthy state"
			}
			a.Logger.Warn("rolled back", "from", a.st.Target, "reason", reason)
			return a.save(State{State: RolledBack, Target: a.st.Target, Reason: reason, Refused: a.st.Target})
		}
	}
	if _, err := os.Stat(a.bundlePath(a.st.Target)); err == nil {
		a.Logger.Warn("the install was cut short; it is staged again", "release", a.st.Target)
		return a.save(State{State: Staged, Target: a.st.Target, Size: a.st.Size})
	}
	return a.save(State{State: Idle})
}

// Run polls and works until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	if err := a.Start(); err != nil {
		return err
	}
	for {
		busy, err := a.Step(ctx)
		if err != nil && ctx.Err() == nil {
			a.Logger.Warn("update agent", "err", err)
		}
		wait := a.Poll
		if a.st.State == Switching && a.st.Target == a.Version {
			wait = 5 * time.Second // proving: try again soon
		}
		if busy && err == nil {
			wait = 0
		} else if busy {
			wait = min(a.Poll, 10*time.Second)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Step does the next piece of work: poll when due, prove a new release,
// fetch one chunk, verify, or switch. busy: call again at once.
func (a *Agent) Step(ctx context.Context) (busy bool, err error) {
	if a.st.State == "" {
		if err := a.Start(); err != nil {
			return false, err
		}
	}
	if a.st.State == Switching && a.st.Target == a.Version {
		return a.prove(ctx)
	}
	if a.lastPoll.IsZero() || a.Now().Sub(a.lastPoll) >= a.Poll {
		ans, err := a.poll(ctx)
		if err != nil {
			return false, err
		}
		a.lastAns, a.lastPoll = ans, a.Now()
		if err := a.follow(ans); err != nil {
			return false, err
		}
	}
	switch a.st.State {
	case Downloading:
		return a.fetch(ctx)
	case Staged:
		if a.Closed != nil && !a.Closed(a.Now()) {
			return false, nil // the site is open: switch later
		}
		return false, a.switchOver(ctx)
	}
	return false, nil
}

// follow takes central's answer: a new target starts a download, none
// (or the running release) ends whatever was under way.
func (a *Agent) follow(ans Answer) error {
	t := ans.Version
	switch {
	case t == "" || t == a.Version:
		if a.st.State == Downloading || a.st.State == Staged {
			a.removeDownloads("")
			return a.save(State{State: Idle, Refused: a.st.Refused})
		}
		return nil
	case t == a.st.Refused:
		return nil
	case t == a.st.Target && (a.st.State == Downloading || a.st.State == Staged):
		return nil
	}
	if ans.MinVersion != "" && update.CompareVersions(a.Version, ans.MinVersion) < 0 {
		return a.save(State{State: Failed, Target: t, Refused: t,
			Reason: fmt.Sprintf("release %s updates only from %s or newer; this box runs %s", t, ans.MinVersion, a.Version)})
	}
	a.removeDownloads(t)
	a.Logger.Info("update: downloading", "release", t, "size", ans.Size)
	return a.save(State{State: Downloading, Target: t, Size: ans.Size, Refused: a.st.Refused})
}

// poll reports the state and asks for the site's release.
func (a *Agent) poll(ctx context.Context) (Answer, error) {
	q := url.Values{}
	q.Set("site", a.Site)
	q.Set("version", a.Version)
	q.Set("slot", a.Slot)
	q.Set("state", a.st.State)
	if a.st.Target != "" {
		q.Set("target", a.st.Target)
	}
	if a.st.State == Downloading && a.st.Size > 0 {
		q.Set("progress", strconv.FormatInt(a.have()*100/a.st.Size, 10))
	}
	if a.st.Reason != "" {
		q.Set("reason", a.st.Reason)
	}
	if !a.BootedAt.IsZero() {
		q.Set("booted", strconv.FormatInt(a.BootedAt.UnixMilli(), 10))
	}
	if a.DiskFree != nil {
		q.Set("disk_free", strconv.FormatInt(a.DiskFree(), 10))
	}
	q.Set("clock_ms", strconv.FormatInt(a.clockMS, 10))
	resp, err := a.get(ctx, "/api/v1/sync/update?"+q.Encode(), "")
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Answer{}, fmt.Errorf("central answered the update poll %s: %s", resp.Status, readError(resp.Body))
	}
	var ans Answer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&ans); err != nil {
		return Answer{}, fmt.Errorf("central's update answer: %w", err)
	}
	return ans, nil
}

func (a *Agent) get(ctx context.Context, path, rangeHeader string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(a.CentralURL, "/")+path, nil)
	if err != nil {
		return nil, err
	}
	if rangeHeader != "" {
		req.Header.Set("Range", rangeHeader)
	}
	if a.Authorize != nil {
		if err := a.Authorize(req); err != nil {
			return nil, err
		}
	}
	sent := a.Now()
	resp, err := a.Client.Do(req)
	if err != nil {
		return nil, err
	}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		a.clockMS = sent.Sub(d).Milliseconds()
	}
	return resp, nil
}

func readError(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 1024))
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	return strings.TrimSpace(string(b))
}

func (a *Agent) statePath() string          { return filepath.Join(a.Dir, "state.json") }
func (a *Agent) partPath(v string) string   { return filepath.Join(a.Dir, v+".part") }
func (a *Agent) bundlePath(v string) string { return filepath.Join(a.Dir, v+".bundle") }

// have is how much of the target's bundle is on disk.
func (a *Agent) have() int64 {
	if fi, err := os.Stat(a.partPath(a.st.Target)); err == nil {
		return fi.Size()
	}
	if fi, err := os.Stat(a.bundlePath(a.st.Target)); err == nil {
		return fi.Size()
	}
	return 0
}

// removeDownloads deletes every download but keep's.
func (a *Agent) removeDownloads(keep string) {
	names, _ := filepath.Glob(filepath.Join(a.Dir, "*.part"))
	more, _ := filepath.Glob(filepath.Join(a.Dir, "*.bundle"))
	for _, n := range append(names, more...) {
		if keep != "" && (n == a.partPath(keep) || n == a.bundlePath(keep)) {
			continue
		}
		os.Remove(n)
	}
}

// save writes the state atomically (slot.WriteFile) before the agent acts
// on it.
func (a *Agent) save(st State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := slot.WriteFile(a.statePath(), bytes.NewReader(b)); err != nil {
		return err
	}
	a.st = st
	return nil
}

// ReadState reads the state an agent keeps in dir (idle when there is
// none yet): for the boot's health check, which must not let a new
// release's boot be marked good before the agent's proof.
func ReadState(dir string) (State, error) {
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return State{State: Idle}, nil
	}
	if err != nil {
		return State{}, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, fmt.Errorf("%s: %w", filepath.Join(dir, "state.json"), err)
	}
	return st, nil
}

// AwaitsProof says whether release version was switched to and has not
// proved itself yet: its boot must not be marked good before the agent
// says so (a box's first boot from flashing, or a boot after the proof,
// awaits none).
func (st State) AwaitsProof(version string) bool {
	return st.State == Switching && st.Target == version
}
