package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/veedel/veedel/appliance/queue"
)

// A site outside the built-in catalogue starts from a JSON seed file.
func TestApplianceSeedFile(t *testing.T) {
	dir := t.TempDir()
	n, err := openAppliance(context.Background(), applianceConfig{Site: "kfz-poll", DB: filepath.Join(dir, "kfz-poll.db"),
		Listen: "127.0.0.1:0", SeedFile: filepath.Join("testdata", "seed-kfz-poll.json"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Store.Close()
	defer n.listener.Close()
	n.Store.View(func(st *queue.State) {
		if st.Site.Name != "Kfz-Zulassungsstelle Poll" || len(st.ServiceOrder) != 4 || len(st.CounterOrder) != 3 {
			t.Errorf("seeded site %q with %d services and %d counters, want Kfz-Zulassungsstelle Poll, 4, 3",
				st.Site.Name, len(st.ServiceOrder), len(st.CounterOrder))
		}
		if got := st.Services["ausserbetrieb"]; got == nil || got.Prefix != "X" || got.Name != "Außerbetriebsetzung" {
			t.Errorf("service ausserbetrieb = %+v", got)
		}
		if len(st.Site.WalkIn) != 2 {
			t.Errorf("walk-in hours %v, want Monday and Wednesday", st.Site.WalkIn)
		}
	})
}

func TestApplianceSeedFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, _ := os.ReadFile(filepath.Join("testdata", "seed-kfz-poll.json"))
	tests := []struct {
		name, site, file, want string
	}{
		{"Missing", "kfz-poll", filepath.Join(dir, "nope.json"), "-seed: open"},
		{"Malformed", "kfz-poll", write("bad.json", "{"), "unexpected EOF"},
		{"UnknownField", "kfz-poll", write("field.json", `{"site":{"id":"x","name":"X"},"colour":"red"}`), "unknown field"},
		{"OtherSite", "kalk", write("good.json", string(good)), `describes site "kfz-poll", not "kalk"`},
		{"BadPrefix", "kfz-poll", write("prefix.json", strings.Replace(string(good), `"prefix": "X"`, `"prefix": "xx"`, 1)), "prefix"},
		{"UnknownService", "kfz-poll", write("svc.json", strings.Replace(string(good), `["ausserbetrieb", "wunschkennzeichen"]`, `["mars"]`, 1)), `unknown service "mars"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run(context.Background(), []string{"appliance", "-site", tt.site, "-data", t.TempDir(), "-listen", "127.0.0.1:0", "-seed", tt.file}, &stdout, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tt.want)
			}
		})
	}
}
