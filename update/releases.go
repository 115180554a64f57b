package update

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ReadManifest reads a bundle's manifest WITHOUT checking its signature:
// for central, which only hands bundles out (the appliance verifies them
// with Open before it uses a byte). Never decide anything on it that a
// forged bundle could exploit.
func ReadManifest(r io.Reader) (Manifest, error) {
	br := bufio.NewReader(r)
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(br, head); err != nil || string(head) != magic {
		return Manifest{}, invalid("not a Veedel release bundle")
	}
	var n uint32
	if err := binary.Read(br, binary.BigEndian, &n); err != nil || n == 0 || n > maxManifest {
		return Manifest{}, invalid("manifest length unreadable or out of bounds")
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return Manifest{}, invalid("manifest cut short")
	}
	var m Manifest
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&m); err != nil || !versionPattern.MatchString(m.Version) {
		return Manifest{}, invalid("manifest malformed")
	}
	return m, nil
}

// Release is a bundle file in a releases directory.
type Release struct {
	Manifest
	Path string `json:"-"`
	Size int64  `json:"size"` // the bundle file's size
}

// ScanDir lists the bundles (*.bundle) in dir by version. Two files with
// one version are an error: which one a site gets must not be chance.
func ScanDir(dir string) (map[string]Release, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.bundle"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := map[string]Release{}
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		m, err := ReadManifest(f)
		fi, statErr := f.Stat()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if statErr != nil {
			return nil, statErr
		}
		if prev, ok := out[m.Version]; ok {
			return nil, fmt.Errorf("%s and %s are both release %s: keep one", prev.Path, name, m.Version)
		}
		out[m.Version] = Release{Manifest: m, Path: name, Size: fi.Size()}
	}
	return out, nil
}

// CompareVersions orders release versions: runs of digits compare as
// numbers, everything else byte by byte: "1.10.0" > "1.9.2",
// "1.4.0-rc10" > "1.4.0-rc2".
func CompareVersions(a, b string) int {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return cmp.Compare(len(na), len(nb))
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(int(a[0]), int(b[0]))
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
