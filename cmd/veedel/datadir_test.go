package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/sqlite"
)

// seededSite leaves a site's data directory as a first start does: the
// key file and a seeded database, closed again.
func seededSite(t *testing.T) (dir, db, key string) {
	t.Helper()
	dir = t.TempDir()
	cfg := applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db"), Listen: "127.0.0.1:0", Logger: testLogger(t)}
	n, err := openAppliance(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.listener.Close()
	n.Store.Close()
	return dir, cfg.DB, cfg.keyFile()
}

// runAppliance runs `veedel appliance` on dir through run() and returns
// its exit code and stderr. A node that starts is stopped after a while
// (and the test then fails on the exit code): the bound is only there so
// that a missing check cannot hang the test.
func runApplianceOn(t *testing.T, dir string, extra ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	args := append([]string{"appliance", "-site", "kalk", "-data", dir, "-listen", "127.0.0.1:0"}, extra...)
	code := run(ctx, args, &stdout, &stderr)
	if code == 0 {
		t.Errorf("the appliance started on a data directory that cannot be right: %s", stdout.String())
	}
	return code, stderr.String()
}

// wantOneLine checks a refusal: exit code 1, one line on stderr that
// contains every want.
func wantOneLine(t *testing.T, code int, stderr string, want ...string) {
	t.Helper()
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "veedel: ") {
		t.Errorf("stderr is not one line starting with \"veedel: \": %q", stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q does not say %q", stderr, w)
		}
	}
}

func TestStartRefusesLostSiteData(t *testing.T) {
	t.Run("ZeroLengthDatabase", func(t *testing.T) {
		dir, db, key := seededSite(t)
		for _, f := range []string{db, db + "-wal", db + "-shm"} {
			os.Remove(f)
		}
		if err := os.WriteFile(db, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		code, stderr := runApplianceOn(t, dir)
		wantOneLine(t, code, stderr, db, "is empty", key, "restore kalk.db from the backup")
		if fi, err := os.Stat(db); err != nil || fi.Size() != 0 {
			t.Errorf("the refused start changed the empty file: %v %v", fi.Size(), err)
		}
	})
	t.Run("MissingDatabase", func(t *testing.T) {
		dir, db, key := seededSite(t)
		for _, f := range []string{db, db + "-wal", db + "-shm"} {
			os.Remove(f)
		}
		code, stderr := runApplianceOn(t, dir)
		wantOneLine(t, code, stderr, db, "is missing", key, "restore kalk.db from the backup")
		// A token left in the configuration changes nothing: the data is
		// still lost.
		code, stderr = runApplianceOn(t, dir, "-enroll-token", "left-over-token")
		wantOneLine(t, code, stderr, db, "is missing", key)
		if _, err := os.Stat(db); err == nil {
			t.Errorf("the refused start created %s", db)
		}
	})
	t.Run("DatabaseWithoutLog", func(t *testing.T) {
		dir, db, key := seededSite(t)
		for _, f := range []string{db, db + "-wal", db + "-shm"} {
			os.Remove(f)
		}
		// A database with the schema but no entries (what re-seeding
		// would start from), as a half-restored copy would leave it.
		other := t.TempDir()
		store, err := sqlite.Open(context.Background(), filepath.Join(other, "kalk.db"), "kalk", sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		store.Close()
		copyFile(t, filepath.Join(other, "kalk.db"), db)
		code, stderr := runApplianceOn(t, dir)
		wantOneLine(t, code, stderr, db, "holds no change-log", key)
	})
	t.Run("DamagedDatabase", func(t *testing.T) {
		dir, db, _ := seededSite(t)
		f, err := os.OpenFile(db, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		junk := bytes.Repeat([]byte{0xa5}, 4096)
		for off := int64(4096); off < fi.Size(); off += 4096 {
			f.WriteAt(junk, off)
		}
		f.Close()
		code, stderr := runApplianceOn(t, dir)
		wantOneLine(t, code, stderr, db, "is damaged", "restore the last backup")
	})
	t.Run("DamagedKey", func(t *testing.T) {
		dir, _, key := seededSite(t)
		if err := os.WriteFile(key, []byte("not a key\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, stderr := runApplianceOn(t, dir)
		wantOneLine(t, code, stderr, key, "no site key", "restore it from the backup")
	})
	t.Run("HealthyRestartStillStarts", func(t *testing.T) {
		dir, db, _ := seededSite(t)
		n, err := openAppliance(context.Background(), applianceConfig{Site: "kalk", DB: db, Listen: "127.0.0.1:0", Logger: testLogger(t)})
		if err != nil {
			t.Fatalf("restart on %s: %v", dir, err)
		}
		n.listener.Close()
		n.Store.Close()
	})
}

// The read-only database and the unreadable key need a user the file
// modes apply to: as root the real binary runs as nobody.
func TestStartRefusesUnwritableDataAndUnreadableKey(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildVeedel(t)
	t.Run("ReadOnlyDatabase", func(t *testing.T) {
		dir, db, _ := seededSite(t)
		os.Remove(db + "-wal")
		os.Remove(db + "-shm")
		runBinaryPrepare(t, dir)
		if err := os.Chmod(db, 0o444); err != nil {
			t.Fatal(err)
		}
		code, stderr := runBinaryOn(t, bin, dir)
		wantOneLine(t, code, stderr, db, "cannot be written", "make it writable")
	})
	t.Run("ReadOnlyDirectory", func(t *testing.T) {
		dir, db, _ := seededSite(t)
		os.Remove(db + "-wal")
		os.Remove(db + "-shm")
		runBinaryPrepare(t, dir)
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		code, stderr := runBinaryOn(t, bin, dir)
		wantOneLine(t, code, stderr, dir, "cannot be written", "directory")
	})
	t.Run("UnreadableKey", func(t *testing.T) {
		dir, _, key := seededSite(t)
		runBinaryPrepare(t, dir)
		if os.Geteuid() == 0 {
			os.Chown(key, 0, 0) // root's, mode 0600: nobody cannot read it
		} else if err := os.Chmod(key, 0); err != nil {
			t.Fatal(err)
		}
		code, stderr := runBinaryOn(t, bin, dir)
		wantOneLine(t, code, stderr, key, "cannot read the site's key", "make it readable")
	})
}

// runBinaryPrepare hands dir to the user the binary runs as.
func runBinaryPrepare(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	letThrough(filepath.Dir(dir))
	filepath.Walk(dir, func(path string, _ os.FileInfo, _ error) error { return os.Chown(path, 65534, 65534) })
}

// letThrough opens the 0700 directories t.TempDir makes, up from path,
// to other users (as root: for nobody).
func letThrough(path string) {
	for d := path; d != filepath.Dir(d) && d != os.TempDir(); d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			os.Chmod(d, 0o755)
		}
	}
}

// runBinaryOn runs the built binary on dir (as nobody when the test runs
// as root: runBinaryPrepare first) and returns its exit code and stderr.
func runBinaryOn(t *testing.T, bin, dir string) (int, string) {
	t.Helper()
	if os.Geteuid() == 0 {
		letThrough(filepath.Dir(bin))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "appliance", "-site", "kalk", "-data", dir, "-listen", "127.0.0.1:0")
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if code == -1 {
		t.Fatalf("running %s: %v", bin, err)
	}
	if ctx.Err() != nil {
		t.Errorf("the appliance started on a data directory that cannot be right (%v): %s", err, stderr.String())
	}
	return code, stderr.String()
}
