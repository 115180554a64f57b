package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel/appliance/plates"
	"github.com/veedel/veedel/appliance/server"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
	"github.com/veedel/veedel/ui"
)

// BenchmarkVehicleDecision measures a decision over the staff API on
// loopback: approve (plate from the block, the permit PDF rendered twice,
// stored and offered, the decision committed) against request-info, the
// baseline (the same command path without plate or PDF). Lower is better;
// the ratio is approve's cost over the baseline's.
func BenchmarkVehicleDecision(b *testing.B) {
	for _, action := range []string{vehicle.ActionRequestInfo, vehicle.ActionApprove} {
		b.Run(action, func(b *testing.B) {
			ctx := context.Background()
			_, key, _ := ed25519.GenerateKey(rand.Reader)
			box, err := sitekey.BoxKey(key)
			if err != nil {
				b.Fatal(err)
			}
			store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "zulassung.db"), "zulassung", sqlite.Options{BoxKey: box})
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			if err := store.CreateUser(ctx, sqlite.User{Name: "demo", DisplayName: "Demo", Role: sqlite.RoleClerk}, "demo"); err != nil {
				b.Fatal(err)
			}
			renderer, err := ui.NewRenderer()
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer((&server.Server{Store: store, Renderer: renderer, PortalURL: portal}).Handler())
			defer srv.Close()
			var prev *changelog.Entry
			hlc := changelog.HLC(time.Now().UnixMilli()) << 16
			deliver := func(typ, entity string, p any) {
				hlc += 1 << 16
				e, err := changelog.NewEntry("zulassung", prev, hlc, typ, entity, p)
				if err != nil {
					b.Fatal(err)
				}
				prev = &e
				if _, err := store.ApplyInbound(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
			deliver(plates.TypeBlockGranted, "plateblock/1", &plates.BlockGranted{Block: plates.Block{ID: 1, Letters: "AB", First: 1, Last: 9999}})
			post := func(path, body string) {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.SetBasicAuth("demo", "demo")
				res, err := srv.Client().Do(req)
				if err != nil {
					b.Fatal(err)
				}
				msg, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d %s", path, res.StatusCode, msg)
				}
			}
			ready := func(i int) string {
				id := fmt.Sprintf("B%05d", i)
				app := vehicle.Application{Process: vehicle.ProcessNew, Owner: vehicle.Owner{Kind: "person", FamilyName: "Muster", GivenNames: "Erika",
					Street: "Weg 1", Postcode: "50667", City: "Köln", Email: "erika@example.de"},
					Vehicle: vehicle.VehicleData{FIN: "WVWZZZ1JZXW000001"}, Plate: vehicle.PlateChoice{Mode: vehicle.PlateRandom}}
				plain, _ := cbor.Marshal(app)
				sealed, err := changelog.Seal(box.PublicKey().Bytes(), vehicle.SealInfo("zulassung", id), plain)
				if err != nil {
					b.Fatal(err)
				}
				tok := sha256.Sum256([]byte(id))
				deliver(vehicle.TypeSubmitted, "vehicle/"+id, &vehicle.ApplicationSubmitted{ID: id, Process: app.Process, Sealed: sealed,
					Submitted: time.Now().UnixMilli(), TokenHash: tok[:], PlateMode: vehicle.PlateRandom})
				post("/api/v1/vehicle-applications/"+id+"/claim", "")
				for _, c := range vehicle.RequiredChecks(app.Process) {
					post("/api/v1/vehicle-applications/"+id+"/check", `{"check":"`+c+`","ok":true}`)
				}
				return id
			}
			body := ""
			if action == vehicle.ActionRequestInfo {
				body = `{"reason":"Bitte die Vollmacht hochladen."}`
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				id := ready(i)
				b.StartTimer()
				post("/api/v1/vehicle-applications/"+id+"/"+action, body)
			}
		})
	}
}
