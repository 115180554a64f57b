package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReleaseCommands: keygen, sign and verify as an operator runs them;
// verify exits 1 with one line for a bundle that does not hold, 2 for a
// wrong call.
func TestReleaseCommands(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	veedelRun := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, &out, &errOut)
		return code, out.String() + errOut.String()
	}
	if err := os.WriteFile(at("rootfs.img"), bytes.Repeat([]byte("veedel rootfs "), 50_000), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"release", "keygen", "-out", at("city-release.key")}, 0, "public key to"},
		{[]string{"release", "keygen", "-out", at("city-release.key")}, 2, "never overwritten"},
		{[]string{"release", "keygen", "-out", at("other.key")}, 0, ""},
		{[]string{"release", "sign", "-key", at("city-release.key"), "-version", "2026.12.1", "-rootfs", at("rootfs.img"), "-out", at("v.bundle")}, 0, "sha256"},
		{[]string{"release", "sign", "-key", at("city-release.key"), "-version", "1 0", "-rootfs", at("rootfs.img"), "-out", at("x.bundle")}, 2, "version"},
		{[]string{"release", "sign", "-key", at("missing.key"), "-version", "1.0", "-rootfs", at("rootfs.img"), "-out", at("x.bundle")}, 2, "no such file"},
		{[]string{"release", "verify", "-pub", at("city-release.pub"), at("v.bundle")}, 0, "good"},
		{[]string{"release", "verify", "-pub", at("other.pub"), "-pub", at("city-release.pub"), at("v.bundle")}, 0, "good"},
		{[]string{"release", "verify", "-pub", at("other.pub"), at("v.bundle")}, 1, "not signed by a trusted release key"},
		{[]string{"release", "verify", at("v.bundle")}, 2, "give -pub"},
		{[]string{"release", "verify", "-pub", at("city-release.key"), at("v.bundle")}, 2, "not a PEM public key"},
	} {
		code, said := veedelRun(c.args...)
		if code != c.code || !strings.Contains(said, c.says) {
			t.Errorf("veedel %s: exit %d %q, want exit %d saying %q", strings.Join(c.args, " "), code, said, c.code, c.says)
		}
	}
	data, err := os.ReadFile(at("v.bundle"))
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-1000] ^= 0x20
	if err := os.WriteFile(at("bad.bundle"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, said := veedelRun("release", "verify", "-pub", at("city-release.pub"), at("bad.bundle"))
	if code != 1 || !strings.Contains(said, "SHA-256 does not match") || strings.Count(strings.TrimSpace(said), "\n") != 0 {
		t.Errorf("a flipped byte: exit %d %q, want exit 1 and one line", code, said)
	}
}
