package update_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/veedel/veedel/update"
)

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.10.0", "1.9.2", 1}, {"1.9.2", "1.10.0", -1}, {"2026.12.1", "2026.12.1", 0},
		{"1.4.0-rc10", "1.4.0-rc2", 1}, {"1.4.0", "1.4", 1}, {"01.2", "1.2", 0}, {"1.2a", "1.2b", -1},
	} {
		if got := update.CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// ScanDir indexes the bundles by their manifests' versions and refuses a
// directory where two files claim one version.
func TestScanDir(t *testing.T) {
	_, priv := keys(t)
	dir := t.TempDir()
	b := bundle(t, priv, []byte("root file system"))
	if err := os.WriteFile(filepath.Join(dir, "any-name.bundle"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a bundle"), 0o644)
	got, err := update.ScanDir(dir)
	if err != nil || len(got) != 1 || got["2026.12.1"].Size != int64(len(b)) || got["2026.12.1"].MinVersion != "2026.11.0" {
		t.Fatalf("ScanDir = %+v, %v", got, err)
	}
	os.WriteFile(filepath.Join(dir, "copy.bundle"), b, 0o644)
	if _, err := update.ScanDir(dir); err == nil {
		t.Error("ScanDir with two bundles of one version: no error")
	}
}
