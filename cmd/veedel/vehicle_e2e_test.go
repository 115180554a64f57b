package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/sqlite"
)

// TestVehicleApplicationEndToEnd runs an i-Kfz application through central
// and the registration site over real HTTP and sync, the two halves built
// against one contract: the applicant's power of attorney (two chunks) is
// uploaded at central and reaches the site through the file transfer with
// the same bytes; the clerk claims, records the checks and approves; the
// plate comes from the site's block; the provisional proof the site made
// goes up to central, whose status page links the very same PDF; /verify
// shows plate, FIN and valid-until and nothing of the applicant.
func TestVehicleApplicationEndToEnd(t *testing.T) {
	dir := t.TempDir()
	c, centralRun := startPlateCentral(t, dir, plateConfig{BlockSize: 20, LowWater: 5, Every: 100 * time.Millisecond})
	site, _ := startAppliance(t, applianceConfig{Site: "zulassung", DB: filepath.Join(dir, "zulassung.db"), CentralURL: centralRun.URL,
		Heartbeat: 100 * time.Millisecond, Users: []userSpec{{Name: "lead", Password: "geheim-123", Role: sqlite.RoleLead}}})
	cURL, sURL := c.URL, site.URL
	eventually := func(what string, ok func() bool) {
		t.Helper()
		for start := time.Now(); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Since(start) > 30*time.Second {
				t.Fatalf("%s: not within 30 s", what)
			}
		}
	}
	eventually("a plate block at the site", func() bool {
		_, out := plateCall(t, http.MethodGet, sURL+"/api/v1/plates", "", "lead", "geheim-123")
		left, _ := out["left"].(float64)
		return left > 0
	})

	// The power of attorney: a PDF of 300 KB, more than one chunk.
	doc := append([]byte("%PDF-1.4\n"), make([]byte, 300<<10)...)
	rand.Read(doc[9:])
	req, _ := http.NewRequest(http.MethodPost, cURL+"/api/v1/vehicle-applications/files", bytes.NewReader(doc))
	req.Header.Set("Content-Type", "application/pdf")
	req.Header.Set("Content-Disposition", `attachment; filename="vollmacht.pdf"`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sum := sha256.Sum256(doc)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(b), hex.EncodeToString(sum[:])) {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	status, sub := plateCall(t, http.MethodPost, cURL+"/api/v1/vehicle-applications", `{"process":"umschreibung",`+
		`"owner":{"kind":"person","family_name":"Yıldırım","given_names":"Aylin","birth_date":"1984-03-17","street":"Venloer Str. 12","postcode":"50672","city":"Köln","email":"aylin@example.de"},`+
		`"vehicle":{"fin":"WVWZZZ1JZXW000001","zb1_number":"AB1234567C","zb1_code":"K7QM4XP","zb2_number":"AF7654321","zb2_code":"K7QM4XPA2B3C","current_plate":"K-AB 123"},`+
		`"evb":"A1B2C3D","sepa":{"iban":"DE89370400440532013000","holder":"Aylin Yıldırım"},"plate":{"mode":"random"},`+
		`"attachments":[{"kind":"vollmacht","file":{"sha256":"`+hex.EncodeToString(sum[:])+`"}}]}`, "", "")
	if status != http.StatusCreated {
		t.Fatalf("submit: %d %v", status, sub)
	}
	id, token := sub["id"].(string), sub["token"].(string)

	// At the site: the application, and the file with its bytes.
	eventually("the application at the site", func() bool {
		req, _ := http.NewRequest(http.MethodGet, sURL+"/api/v1/vehicle-applications", nil)
		req.SetBasicAuth("lead", "geheim-123")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), id)
	})
	eventually("the power of attorney at the site", func() bool {
		rc, _, err := site.Store.Blobs().Open(t.Context(), hex.EncodeToString(sum[:]))
		if err != nil {
			return false
		}
		defer rc.Close()
		got, _ := io.ReadAll(rc)
		if !bytes.Equal(got, doc) {
			t.Fatalf("the site's copy differs (%d bytes, sent %d)", len(got), len(doc))
		}
		return true
	})

	// The clerk decides.
	act := func(action, body string) map[string]any {
		t.Helper()
		status, out := plateCall(t, http.MethodPost, sURL+"/api/v1/vehicle-applications/"+id+"/"+action, body, "lead", "geheim-123")
		if status != http.StatusOK {
			t.Fatalf("%s: %d %v", action, status, out)
		}
		return out
	}
	act("claim", `{}`)
	for _, check := range []string{"gebuehren", "kfz_steuer", "evb", "zentrales_register"} {
		act("check", fmt.Sprintf(`{"check":%q,"ok":true}`, check))
	}
	approved := act("approve", `{}`)
	plate, code := approved["plate"].(string), approved["code"].(string)
	permit, _ := approved["permit"].(map[string]any)
	if !strings.HasPrefix(plate, "K-") || code == "" || permit == nil {
		t.Fatalf("approve: %v", approved)
	}

	// At central: approved, the permit the very PDF the site made.
	var view map[string]any
	eventually("the approval at central", func() bool {
		_, view = plateCall(t, http.MethodGet, cURL+"/api/v1/vehicle-applications/"+token, "", "", "")
		return view["status"] == "approved" && view["permit_url"] != nil
	})
	if view["plate"] != plate {
		t.Errorf("central's plate %v, the site's %s", view["plate"], plate)
	}
	var pdf []byte
	eventually("the permit served by central", func() bool {
		resp, err := http.Get(view["permit_url"].(string))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		pdf, _ = io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK
	})
	if got := sha256.Sum256(pdf); hex.EncodeToString(got[:]) != permit["sha256"] || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("central's permit (%d bytes) is not the site's (%v)", len(pdf), permit["sha256"])
	}
	status, v := plateCall(t, http.MethodGet, cURL+"/api/v1/verify/"+code, "", "", "")
	if status != http.StatusOK || v["plate"] != plate || v["fin"] != "WVWZZZ1JZXW000001" || v["valid"] != true {
		t.Errorf("verify: %d %v", status, v)
	}
	for k, val := range v {
		if s, _ := val.(string); strings.Contains(s, "Yıldırım") || strings.Contains(s, "Venloer") || k == "name" {
			t.Errorf("verify shows %s=%v", k, val)
		}
	}
}
