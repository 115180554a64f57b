package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/appliance/server"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
	"github.com/veedel/veedel/ui"
)

// BenchmarkDeskOrders measures the back office's pages over loopback at a
// site with a full list (MaxDeskOrders open orders): the list, one order
// (with the steps Decide allows) and its pickup slip as PDF.
func BenchmarkDeskOrders(b *testing.B) {
	ctx := context.Background()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	box, err := sitekey.BoxKey(key)
	if err != nil {
		b.Fatal(err)
	}
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "kalk.db"), "kalk", sqlite.Options{BoxKey: box})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Execute(ctx, func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		return appliance.Catalog["kalk"].Events(at), nil
	}); err != nil {
		b.Fatal(err)
	}
	if err := store.CreateUser(ctx, sqlite.User{Name: "demo", DisplayName: "Demo", Role: sqlite.RoleClerk}, "demo"); err != nil {
		b.Fatal(err)
	}
	token, err := store.CreateSession(ctx, "demo")
	if err != nil {
		b.Fatal(err)
	}
	var prev *changelog.Entry
	hlc := changelog.HLC(time.Now().UnixMilli()) << 16
	for i := range server.MaxDeskOrders {
		o := pickupOrder(fmt.Sprintf("UBENCH%04d", i))
		plain, _ := cbor.Marshal(o.details)
		sealed, err := changelog.Seal(box.PublicKey().Bytes(), "registration.order\nkalk\n"+o.code, plain)
		if err != nil {
			b.Fatal(err)
		}
		hlc += 1 << 16
		e, err := changelog.NewEntry("kalk", prev, hlc, registration.TypeOrderPlaced, "order/"+o.code, &registration.OrderPlaced{
			Code: o.code, Kind: o.kind, Delivery: o.delivery, Copies: o.copies, FeeCents: o.fee, Payment: o.payment,
			Sealed: sealed, Placed: time.Now().UnixMilli(), TokenHash: make([]byte, 32)})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := store.ApplyInbound(ctx, e); err != nil {
			b.Fatal(err)
		}
		prev = &e
	}
	renderer, err := ui.NewRenderer()
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer((&server.Server{Store: store, Renderer: renderer, SiteAddress: kalkAddress}).Handler())
	defer srv.Close()
	get := func(b *testing.B, path string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: "veedel_session", Value: token})
		res, err := srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		return int(n)
	}
	for _, bc := range []struct{ name, path string }{
		{"list", "/desk/orders"},
		{"order", "/desk/orders/UBENCH0100"},
		{"slip", "/desk/orders/UBENCH0100/slip.pdf"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var bytes int
			for b.Loop() {
				bytes = get(b, bc.path)
			}
			b.ReportMetric(float64(bytes), "bytes/page")
		})
	}
}
