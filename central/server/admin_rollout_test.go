package server_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/update"
)

func addRelease(t *testing.T, dir, version string) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	var b bytes.Buffer
	if _, err := update.Sign(&b, priv, version, "", bytes.NewReader([]byte("rootfs "+version)), time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, version+".bundle"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The rollout form: bad input comes back next to its field with 400 and
// saves nothing; a good plan is saved; a save on an old revision is
// refused with 409 instead of overwriting the newer plan.
func TestAdminRollout(t *testing.T) {
	e := newEnv(t)
	e.createAdmin("anna", central.RoleAdmin, "geheim123")
	addRelease(t, e.Releases, "2026.12.1")
	addRelease(t, e.Releases, "2026.11.0")
	a := e.newAdmin()
	a.login("anna", "geheim123")
	resp, body := a.get("/admin/rollout")
	wantStatus(t, "GET", resp, http.StatusOK)
	contains(t, "form", body, `<option value="2026.12.1"`, `<option value="2026.11.0"`, `name="revision" value="0"`)

	form := func(v url.Values) url.Values {
		base := url.Values{"revision": {"0"}, "version": {"2026.12.1"}, "stage": {"pilot"}, "pilots": {"kalk, porz"}, "pins": {"chorweiler 2026.11.0"}}
		for k, x := range v {
			base[k] = x
		}
		return base
	}
	for _, tc := range []struct {
		name string
		v    url.Values
		want []string
	}{
		{"pin line", url.Values{"pins": {"chorweiler"}}, []string{`id="pins-error"`, "chorweiler"}},
		{"unknown release", url.Values{"version": {"9.9"}}, []string{`id="version-error"`, "9.9"}},
		{"pinned to an unknown release", url.Values{"pins": {"chorweiler 9.9"}}, []string{`id="pins-error"`}},
		{"unknown site", url.Values{"pilots": {"kalk, atlantis"}}, []string{`id="pilots-error"`, "atlantis"}},
	} {
		resp, body := a.post("/admin/rollout", form(tc.v))
		wantStatus(t, tc.name, resp, http.StatusBadRequest)
		contains(t, tc.name, body, tc.want...)
	}
	if p, _ := e.Central.Rollout(t.Context()); p.Revision != 0 {
		t.Fatalf("a refused form saved the plan: %+v", p)
	}
	resp, _ = a.post("/admin/rollout", form(nil))
	wantRedirect(t, "save", resp, "/admin/rollout?saved=1")
	p, _ := e.Central.Rollout(t.Context())
	if p.Revision != 1 || p.Version != "2026.12.1" || len(p.Pilots) != 2 || p.Pins["chorweiler"] != "2026.11.0" || p.Paused {
		t.Fatalf("saved plan %+v", p)
	}
	resp, body = a.post("/admin/rollout", form(url.Values{"paused": {"1"}}))
	wantStatus(t, "save on revision 0 again", resp, http.StatusConflict)
	contains(t, "conflict", body, `id="form-error"`)
	if p, _ := e.Central.Rollout(t.Context()); p.Paused || p.Revision != 1 {
		t.Errorf("the stale save overwrote the plan: %+v", p)
	}
}
