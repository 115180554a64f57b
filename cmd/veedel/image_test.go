package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/sqlite"
)

// The one-time token's file stays until the site's key is enrolled, and is
// deleted then.
func TestEraseTokenWhenEnrolled(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "kalk.db"), "kalk", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tok := filepath.Join(dir, "enroll-token")
	if err := os.WriteFile(tok, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		eraseTokenWhenEnrolled(ctx, store, tok, 10*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat(tok); err != nil {
		t.Fatalf("token deleted before the enrollment: %v", err)
	}
	if err := store.SetEnrolledKey(ctx, "key-1", "hash"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the token was not deleted after the enrollment")
	}
	if _, err := os.Stat(tok); !os.IsNotExist(err) {
		t.Fatalf("token still there: %v", err)
	}
}

func TestFlashUsageErrors(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "x.img")
	os.WriteFile(img, bytes.Repeat([]byte{1}, 4096), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"flash", "-output", "o.img", "-site", "kalk"}, "-image is required"},
		{[]string{"flash", "-image", img, "-site", "kalk"}, "either -device or -output"},
		{[]string{"flash", "-image", img, "-output", filepath.Join(dir, "o.img")}, "-site is required"},
		{[]string{"flash", "-image", img, "-output", filepath.Join(dir, "o.img"), "-site", "Kalk!"}, "site"},
		{[]string{"flash", "-image", img, "-output", filepath.Join(dir, "o.img"), "-site", "kalk", "-enroll-token", "t"}, "needs central"},
		{[]string{"flash", "-image", img, "-output", filepath.Join(dir, "o.img"), "-site", "kalk", "-address", "10.0.0.5"}, "with prefix"},
		{[]string{"flash", "-image", img, "-output", filepath.Join(dir, "o.img"), "-site", "kalk"}, "no GPT"},
		{[]string{"flash", "-image", filepath.Join(dir, "missing.img"), "-output", filepath.Join(dir, "o.img"), "-site", "kalk"}, "-image"},
		{[]string{"flash", "-image", img, "-device", img, "-site", "kalk"}, "no GPT"},
		{[]string{"health", "-timeout", "0s"}, "-timeout must be positive"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, &stdout, &stderr)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

func TestHealthWaitsForOK(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls < 2 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"health", "-url", srv.URL, "-timeout", "10s"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if calls != 2 {
		t.Fatalf("%d calls, want 2", calls)
	}
	srv.Close()
	stderr.Reset()
	if code := run(context.Background(), []string{"health", "-url", srv.URL, "-timeout", "1500ms"}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "not healthy") {
		t.Fatalf("closed server: exit %d: %s", code, stderr.String())
	}
}

// The image's provisioning hands the lead's first password over in a file:
// the appliance creates the login admin with it and deletes the file.
func TestAppliancePasswordFile(t *testing.T) {
	t.Setenv("VEEDEL_ADMIN_PASSWORD", "")
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "admin-password")
	if err := os.WriteFile(pwFile, []byte("vier Wörter im Satz hier"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var stdout, stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"appliance", "-site", "kalk", "-data", dir, "-listen", "127.0.0.1:0", "-admin-password-file", pwFile}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(pwFile); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("the password file is still there: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("appliance exit %d: %s", code, stderr.String())
	}
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "kalk.db"), "kalk", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if ok, err := store.HasUsers(context.Background()); err != nil || !ok {
		t.Fatalf("no login after the password file: %v", err)
	}
}
