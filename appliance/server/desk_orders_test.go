package server_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	_ "image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel/appliance/notify"
	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/appliance/server"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/internal/qrtest"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
	"github.com/veedel/veedel/ui"
)

// ordersHarness is the appliance harness with the site's box key, so that
// orders central sealed to it open, and central's outbound log to it.
type ordersHarness struct {
	*harness
	box []byte
	out []changelog.Entry
	hlc changelog.HLC
	// ahead moves the store's clock forward (erasure after the keeping
	// time), without touching package state other tests read.
	ahead *atomic.Int64
}

const kalkAddress = "Kalker Hauptstraße 247–273, 51103 Köln"

func newOrdersHarness(t *testing.T) *ordersHarness {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	box, err := sitekey.BoxKey(key)
	if err != nil {
		t.Fatal(err)
	}
	ahead := new(atomic.Int64)
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	h := newHarnessOpts(t, sqlite.Options{NoShowGrace: -1, BoxKey: box, Now: now})
	// The same store behind a server that knows the site's address, the
	// sender of its letters.
	renderer, err := ui.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&server.Server{Store: h.store, Renderer: renderer, PortalURL: portal, SiteAddress: kalkAddress}).Handler())
	t.Cleanup(srv.Close)
	h.url, h.transport = srv.URL, srv.Client().Transport
	return &ordersHarness{harness: h, box: box.PublicKey().Bytes(), hlc: changelog.HLC(time.Now().UnixMilli()) << 16, ahead: ahead}
}

// order is what central places: the clear part and the sealed details.
type testOrder struct {
	code, kind, delivery, payment string
	copies, fee                   int
	details                       registration.Details
}

func pickupOrder(code string) testOrder {
	return testOrder{code: code, kind: registration.KindMelde, delivery: registration.DeliveryPickup, payment: registration.PaymentAtPickup,
		copies: 2, fee: 2000, details: registration.Details{
			Person:  registration.Person{FamilyName: "Yıldırım-Schäfer", GivenNames: "Ayşe Marie", BirthDate: "1987-03-14", BirthPlace: "Köln"},
			Contact: registration.Contact{Email: "ayse@example.de"}}}
}

func postOrder(code string) testOrder {
	return testOrder{code: code, kind: registration.KindGeburt, delivery: registration.DeliveryPost, payment: registration.PaymentOnline,
		copies: 1, fee: 1200, details: registration.Details{
			Person:   registration.Person{FamilyName: "Łukowski", GivenNames: "Jörg Çağrı", BirthDate: "1990-05-01", BirthPlace: "Düsseldorf"},
			Event:    &registration.CivilEvent{Date: "1990-05-01", Place: "Düsseldorf", RegisterNumber: "G 1234/1990"},
			Relation: "self",
			Address:  &registration.Address{Street: "Venloer Straße 12", Postcode: "50672", City: "Köln"},
			Contact:  registration.Contact{Phone: "0171 1234567"}}}
}

// place seals the order to the site and delivers it as the downlink does.
func (h *ordersHarness) place(t *testing.T, o testOrder) {
	t.Helper()
	plain, err := cbor.Marshal(o.details)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := changelog.Seal(h.box, "registration.order\nkalk\n"+o.code, plain)
	if err != nil {
		t.Fatal(err)
	}
	tok := sha256.Sum256([]byte("token-" + o.code))
	p := &registration.OrderPlaced{Code: o.code, Kind: o.kind, Delivery: o.delivery, Copies: o.copies, FeeCents: o.fee,
		Payment: o.payment, Sealed: sealed, Placed: time.Now().UnixMilli(), TokenHash: tok[:]}
	var prev *changelog.Entry
	if n := len(h.out); n > 0 {
		prev = &h.out[n-1]
	}
	h.hlc += 1 << 16
	e, err := changelog.NewEntry("kalk", prev, h.hlc, registration.TypeOrderPlaced, "order/"+o.code, p)
	if err != nil {
		t.Fatal(err)
	}
	h.out = append(h.out, e)
	if got, err := h.store.ApplyInbound(context.Background(), e); err != nil || got != sqlite.InboxApplied {
		t.Fatalf("deliver %s: %q, %v", o.code, got, err)
	}
}

func (h *ordersHarness) status(t *testing.T, code string) string {
	t.Helper()
	o, err := registration.Get(context.Background(), h.store.Read(), code)
	if err != nil {
		t.Fatal(err)
	}
	return o.Status
}

func wantCode(t *testing.T, res response, want int) {
	t.Helper()
	if res.status != want {
		t.Fatalf("status = %d, want %d: %s", res.status, want, res)
	}
}

func wantPage(t *testing.T, res response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(res.String(), p) {
			t.Errorf("page lacks %q", p)
		}
	}
}

// TestDeskOrdersNeedLogin: the orders, their personal data and their
// documents are for logged-in staff only, as every desk page.
func TestDeskOrdersNeedLogin(t *testing.T) {
	t.Parallel()
	h := newOrdersHarness(t)
	h.place(t, pickupOrder("UPICKUP234"))
	anon := h.browser(t)
	for _, path := range []string{"/desk/orders", "/desk/orders/UPICKUP234", "/desk/orders/UPICKUP234/slip.pdf", "/desk/orders/UPICKUP234/letter.pdf"} {
		res := h.get(t, anon, path)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/desk/login" {
			t.Errorf("GET %s without login: %d %q, want 303 to /desk/login", path, res.status, res.header.Get("Location"))
		}
		if strings.Contains(res.String(), "Yıldırım") {
			t.Errorf("GET %s without login shows the name", path)
		}
	}
	seq := h.store.LastSeq()
	res := h.postForm(t, anon, "/desk/orders/UPICKUP234/claim", "")
	wantCode(t, res, http.StatusUnauthorized)
	if h.store.LastSeq() != seq || h.status(t, "UPICKUP234") != registration.StatusAtSite {
		t.Error("a claim without login changed the order")
	}
}

// TestDeskOrderCrossSite: a logged-in clerk's browser sent to post a step
// from another site (CSRF) is refused, as every desk form.
func TestDeskOrderCrossSite(t *testing.T) {
	t.Parallel()
	h := newOrdersHarness(t)
	h.place(t, pickupOrder("UPICKUP234"))
	b := h.browser(t)
	h.login(t, b)
	seq := h.store.LastSeq()
	for _, header := range [][2]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
		req := h.newRequest(t, http.MethodPost, "/desk/orders/UPICKUP234/reject", strings.NewReader("reason=Spam"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(header[0], header[1])
		wantCode(t, h.send(t, b, req), http.StatusForbidden)
	}
	if h.store.LastSeq() != seq || h.status(t, "UPICKUP234") != registration.StatusAtSite {
		t.Error("a cross-site post changed the order")
	}
}

// TestDeskOrdersList: the list shows the open orders by default, filters
// by status and kind, refuses an unknown filter at its field, and the
// desk's navigation counts the open orders.
func TestDeskOrdersList(t *testing.T) {
	t.Parallel()
	h := newOrdersHarness(t)
	h.place(t, pickupOrder("UPICKUP234"))
	h.place(t, postOrder("UPOST23456"))
	done := pickupOrder("UDONE23456")
	done.kind = registration.KindMeldeErweitert
	h.place(t, done)
	b := h.browser(t)
	h.login(t, b)
	if res := h.postForm(t, b, "/desk/orders/UDONE23456/reject", "reason=Bitte+pers%C3%B6nlich+vorsprechen."); res.status != http.StatusSeeOther {
		t.Fatalf("reject: %d %s", res.status, res)
	}

	res := h.get(t, b, "/desk/orders")
	wantCode(t, res, http.StatusOK)
	wantPage(t, res, `id="order-UPICKUP234"`, `id="order-UPOST23456"`, "Meldebescheinigung", "Geburtsurkunde", "20,00\u00a0€", "12,00\u00a0€", "Abholung", "Post", "Neu", "2 Bestellungen")
	if strings.Contains(res.String(), "UDONE23456") {
		t.Error("the open list shows a rejected order")
	}
	// No personal data in the list.
	if strings.Contains(res.String(), "Yıldırım") || strings.Contains(res.String(), "Venloer") {
		t.Error("the list shows personal data")
	}

	res = h.get(t, b, "/desk/orders?status=rejected")
	wantPage(t, res, "UDONE23456", "Abgelehnt", "Erweiterte Meldebescheinigung", ">demo<")
	if strings.Contains(res.String(), "UPICKUP234") {
		t.Error("status=rejected shows an open order")
	}
	res = h.get(t, b, "/desk/orders?status=&kind=geburtsurkunde")
	wantPage(t, res, "UPOST23456", "1 Bestellung<")
	if strings.Contains(res.String(), "UPICKUP234") || strings.Contains(res.String(), "UDONE23456") {
		t.Error("kind=geburtsurkunde shows another kind")
	}
	res = h.get(t, b, "/desk/orders?status=ready")
	wantPage(t, res, `id="orders-none"`)

	// An unknown filter: 400, marked at its field, in the page's language.
	res = h.get(t, b, "/desk/orders?status=lost")
	wantCode(t, res, http.StatusBadRequest)
	wantPage(t, res, `id="filter-status" name="status" aria-invalid="true" aria-describedby="filter-error"`, `id="filter-error">Diesen Filter gibt es nicht.`)
	res = h.get(t, b, "/desk/orders?kind=fuehrerschein&lang=en")
	wantCode(t, res, http.StatusBadRequest)
	wantPage(t, res, `id="filter-kind" name="kind" aria-invalid="true"`, "There is no such filter.")

	// The desk's navigation: a link with the count of open orders.
	res = h.get(t, b, "/desk?lang=de")
	wantPage(t, res, `href="/desk/orders" id="orders-link"`, `<span aria-hidden="true">2</span><span class="visually-hidden">2 offene Bestellungen</span>`)
}

// TestDeskOrderSteps: claim, ready, collect through the desk's forms, each
// one change-log entry; a step the status does not allow is refused with
// why and changes nothing; the page offers only the steps Decide allows.
func TestDeskOrderSteps(t *testing.T) {
	t.Parallel()
	h := newOrdersHarness(t)
	h.place(t, pickupOrder("UPICKUP234"))
	b := h.browser(t)
	h.login(t, b)

	res := h.get(t, b, "/desk/orders/UPICKUP234")
	wantCode(t, res, http.StatusOK)
	wantPage(t, res, `id="person-name">Ayşe Marie Yıldırım-Schäfer<`, "14.03.1987 in Köln", "ayse@example.de", `id="claim"`, `id="reject-form"`, `id="slip"`)
	for _, absent := range []string{`id="ready"`, `id="collect"`, `id="dispatch"`, `id="letter"`} {
		if strings.Contains(res.String(), absent) {
			t.Errorf("a new pickup order offers %s", absent)
		}
	}
	if got := res.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}

	// Ready before claim: refused, nothing written.
	seq := h.store.LastSeq()
	res = h.postForm(t, b, "/desk/orders/UPICKUP234/ready", "")
	wantCode(t, res, http.StatusConflict)
	// The refusal's page switches language on the order, not on the step.
	wantPage(t, res, `role="alert">Bestellung UPICKUP234 erst übernehmen<`, `href="/desk/orders/UPICKUP234?lang=en"`)
	if h.store.LastSeq() != seq {
		t.Error("a refused step wrote to the change-log")
	}

	for _, step := range []struct{ action, status, flash string }{
		{"claim", registration.StatusInProgress, "Sie bearbeiten jetzt diese Bestellung."},
		{"ready", registration.StatusReady, "Als fertig markiert."},
		{"collect", registration.StatusCollected, "Als abgeholt markiert."},
	} {
		seq := h.store.LastSeq()
		res := h.postForm(t, b, "/desk/orders/upickup234/"+step.action, "")
		wantCode(t, res, http.StatusSeeOther)
		if got, want := res.header.Get("Location"), "/desk/orders/UPICKUP234?done="+step.action; got != want {
			t.Errorf("%s: Location = %q, want %q", step.action, got, want)
		}
		if got := h.store.LastSeq(); got != seq+1 {
			t.Errorf("%s: %d change-log entries, want 1", step.action, got-seq)
		}
		if got := h.status(t, "UPICKUP234"); got != step.status {
			t.Errorf("after %s: status %q, want %q", step.action, got, step.status)
		}
		page := h.get(t, b, res.header.Get("Location"))
		wantPage(t, page, `class="flash" role="status">`+step.flash)
	}
	res = h.get(t, b, "/desk/orders/UPICKUP234")
	wantPage(t, res, `id="steps-none"`, "Abgeholt")
	if strings.Contains(res.String(), `id="reject-form"`) {
		t.Error("a collected order offers rejection")
	}
	// Unknown steps and orders.
	wantCode(t, h.postForm(t, b, "/desk/orders/UPICKUP234/burn", ""), http.StatusNotFound)
	wantCode(t, h.get(t, b, "/desk/orders/UNKNOWN234"), http.StatusNotFound)
}

// TestDeskOrderDispatch: an order by post is dispatched, never collected;
// the page offers the steps for its delivery.
func TestDeskOrderDispatch(t *testing.T) {
	t.Parallel()
	h := newOrdersHarness(t)
	h.place(t, postOrder("UPOST23456"))
	b := h.browser(t)
	h.login(t, b)
	res := h.get(t, b, "/desk/orders/UPOST23456")
	wantPage(t, res, `id="letter"`, "Venloer Straße 12", "01.05.1990, Düsseldorf", "G 1234/1990", "0171 1234567")
	if strings.Contains(res.String(), `id="slip"`) {
		t.Error("an order by post offers a pickup slip")
	}
	wantCode(t, h.postForm(t, b, "/desk/orders/UPOST23456/claim", ""), http.StatusSeeOther)
	res = h.get(t, b, "/desk/orders/UPOST23456")
	wantPage(t, res, `id="ready"`, `id="dispatch"`)
	if strings.Contains(res.String(), `id="collect"`) {
		t.Error("an order by post offers collection")
	}
	res = h.postForm(t, b, "/desk/orders/UPOST23456/collect", "")
	wantCode(t, res, http.StatusConflict)
	wantPage(t, res, "wird verschickt, nicht abgeholt")
	wantCode(t, h.postForm(t, b, "/desk/orders/UPOST23456/dispatch", ""), http.StatusSeeOther)
	if got := h.status(t, "UPOST23456"); got != registration.StatusDispatched {
		t.Errorf("status %q, want dispatched", got)
	}
	wantPage(t, h.get(t, b, "/desk/orders/UPOST23456?done=dispatch"), "Als verschickt markiert.", "Verschickt", `id="steps-none"`)
}

// TestDeskOrderReject: the reason is required, bounded and shown to the
// citizen; a refused reason is marked at its field in the page's language,
// kept in the field, and nothing is written.
func TestDeskOrderReject(t *testing.T) {
	t.Parallel()
	h := newOrdersHarness(t)
	h.place(t, postOrder("UPOST23456"))
	b := h.browser(t)
	h.login(t, b)
	seq := h.store.LastSeq()

	res := h.postForm(t, b, "/desk/orders/UPOST23456/reject", "reason=+++")
	wantCode(t, res, http.StatusBadRequest)
	wantPage(t, res, `aria-describedby="reason-hint reason-error" aria-invalid="true"`, `id="reason-error">Bitte einen Grund angeben, den die Person lesen kann<`,
		"Bitte keine persönlichen Daten eintragen")
	res = h.postForm(t, b, "/desk/orders/UPOST23456/reject?lang=en", "reason="+strings.Repeat("x", registration.MaxReason+1))
	wantCode(t, res, http.StatusBadRequest)
	wantPage(t, res, `id="reason-error">Reason too long<`, ">"+strings.Repeat("x", registration.MaxReason+1)+"</textarea>", "Please do not enter personal data")
	res = h.postForm(t, b, "/desk/orders/UPOST23456/reject?lang=de", "reason=Unterlagen+fehlen%E2%80%AE")
	wantCode(t, res, http.StatusBadRequest)
	wantPage(t, res, `id="reason-error">Grund enthält`)
	if h.store.LastSeq() != seq || h.status(t, "UPOST23456") != registration.StatusAtSite {
		t.Fatal("a refused reason changed the order")
	}

	res = h.postForm(t, b, "/desk/orders/UPOST23456/reject", "reason=Bitte+reichen+Sie+die+Geburtsurkunde+der+Eltern+nach.")
	wantCode(t, res, http.StatusSeeOther)
	o, err := registration.Get(context.Background(), h.store.Read(), "UPOST23456")
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != registration.StatusRejected || o.Reason != "Bitte reichen Sie die Geburtsurkunde der Eltern nach." || o.Staff != "demo" {
		t.Errorf("rejected order: %+v", o)
	}
	res = h.get(t, b, "/desk/orders/UPOST23456")
	wantPage(t, res, `id="order-reason">Bitte reichen Sie die Geburtsurkunde der Eltern nach.<`)
}

// TestDeskOrderDocuments: the pickup slip and the cover letter are PDFs
// that name the person and the code, the slip's QR code reads back to the
// order code, the letter's address is the citizen's; each document only
// for its delivery, and none once the details are erased.
func TestDeskOrderDocuments(t *testing.T) {
	t.Parallel()
	h := newOrdersHarness(t)
	h.place(t, pickupOrder("UPICKUP234"))
	h.place(t, postOrder("UPOST23456"))
	b := h.browser(t)
	h.login(t, b)

	res := h.get(t, b, "/desk/orders/UPICKUP234/slip.pdf")
	wantCode(t, res, http.StatusOK)
	if ct, cc := res.header.Get("Content-Type"), res.header.Get("Cache-Control"); ct != "application/pdf" || cc != "no-store" {
		t.Errorf("slip: Content-Type %q, Cache-Control %q", ct, cc)
	}
	slip := savePDF(t, res.body)
	text := pdfText(t, slip)
	for _, want := range []string{"Abholschein", "UPICKUP234", "Ayşe Marie Yıldırım-Schäfer", "Meldebescheinigung", "20,00 €", "Kundenzentrum Kalk", "Kalker Hauptstraße 247–273"} {
		if !strings.Contains(text, want) {
			t.Errorf("slip lacks %q:\n%s", want, text)
		}
	}
	if got := pdfQR(t, slip); got != "UPICKUP234" {
		t.Errorf("slip's QR code reads %q, want UPICKUP234", got)
	}

	res = h.get(t, b, "/desk/orders/UPOST23456/letter.pdf")
	wantCode(t, res, http.StatusOK)
	text = pdfText(t, savePDF(t, res.body))
	for _, want := range []string{"Jörg Çağrı Łukowski", "Venloer Straße 12", "50672 Köln", "UPOST23456", "Geburtsurkunde", "12,00 € (online bezahlt)",
		"Stadt Köln · Kundenzentrum Kalk · Kalker Hauptstraße 247–273 · 51103 Köln"} {
		if !strings.Contains(text, want) {
			t.Errorf("letter lacks %q:\n%s", want, text)
		}
	}

	// Each document for its delivery only.
	wantCode(t, h.get(t, b, "/desk/orders/UPICKUP234/letter.pdf"), http.StatusConflict)
	wantCode(t, h.get(t, b, "/desk/orders/UPOST23456/slip.pdf"), http.StatusConflict)
	wantCode(t, h.get(t, b, "/desk/orders/UNKNOWN234/slip.pdf"), http.StatusNotFound)

	// Done and past the keeping time: the details are gone, and so are
	// the documents.
	if res := h.postForm(t, b, "/desk/orders/UPOST23456/reject", "reason=Doppelt+bestellt."); res.status != http.StatusSeeOther {
		t.Fatalf("reject: %d", res.status)
	}
	h.ahead.Store(int64(registration.KeepDetails + time.Hour))
	n, err := h.store.ErasePersonalData(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("erase: %d, %v", n, err)
	}
	h.login(t, b) // the session ended meanwhile

	res = h.get(t, b, "/desk/orders/UPOST23456/letter.pdf")
	wantCode(t, res, http.StatusConflict)
	wantPage(t, res, "nicht mehr vorhanden")
	res = h.get(t, b, "/desk/orders/UPOST23456")
	wantPage(t, res, `id="person-erased"`)
	if strings.Contains(res.String(), "Łukowski") {
		t.Error("erased details still shown")
	}
}

// poppler returns a poppler-utils tool; skipped without it, except in CI.
func poppler(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (Debian package poppler-utils)", tool)
		}
		t.Skipf("%s not installed (Debian package poppler-utils)", tool)
	}
	return p
}

func savePDF(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pdfText(t *testing.T, file string) string {
	t.Helper()
	out, err := exec.Command(poppler(t, "pdftotext"), "-layout", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return strings.ReplaceAll(string(out), "\u00a0", " ")
}

// pdfQR reads the QR code of a PDF's first page rasterised at 150 dpi.
func pdfQR(t *testing.T, file string) string {
	t.Helper()
	text, err := qrtest.PDFPage(poppler(t, "pdftoppm"), file, 150, filepath.Join(t.TempDir(), "page"))
	if err != nil {
		t.Fatalf("the PDF's QR code: %v", err)
	}
	return text
}

// TestPickupAtTheCounter: an order ready for pickup, its code typed at the
// kiosk, queues the citizen for the pickup; the clerk who calls the ticket
// sees which order it is, with the way to it, and closes it as collected.
func TestPickupAtTheCounter(t *testing.T) {
	t.Parallel()
	h := newOrdersHarness(t)
	h.place(t, pickupOrder("UPICKUP235"))
	b := h.browser(t)
	h.login(t, b)
	for _, step := range []string{"claim", "ready"} {
		wantCode(t, h.postForm(t, b, "/desk/orders/UPICKUP235/"+step, ""), http.StatusSeeOther)
	}
	res := h.postJSON(t, "/api/v1/checkins", `{"code":"upickup-235"}`)
	wantCode(t, res, http.StatusCreated)
	if !strings.Contains(res.String(), `"service":"abholung"`) {
		t.Fatalf("check-in with the order code: %s", res.String())
	}
	// Counter 4 serves pickups at Kalk.
	wantCode(t, h.postForm(t, b, "/desk/counter", "counter=4"), http.StatusSeeOther)
	wantCode(t, h.postForm(t, b, "/desk/call-next", ""), http.StatusSeeOther)
	desk := h.get(t, b, "/desk")
	wantPage(t, desk, `id="current-order" href="/desk/orders/UPICKUP235">Abholung der Bestellung UPICKUP235<`)
	wantCode(t, h.postForm(t, b, "/desk/orders/UPICKUP235/collect", ""), http.StatusSeeOther)
	if got := h.status(t, "UPICKUP235"); got != registration.StatusCollected {
		t.Fatalf("after collect: %s", got)
	}
}

// smsRecorder is an SMS sender that keeps what it sends.
type smsRecorder struct {
	mu   sync.Mutex
	sent []string
}

func (r *smsRecorder) Send(_ context.Context, to, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, to+": "+text)
	return nil
}

// TestDeskOrderStepsBySMS: an order whose citizen gave only a mobile
// number: marking it dispatched queues one SMS with the step (in the
// transaction of the step), the site's sender sends it once, and then
// neither number nor text stays in the outbox.
func TestDeskOrderStepsBySMS(t *testing.T) {
	t.Parallel()
	h := newOrdersHarness(t)
	h.store.UseSMS()
	h.place(t, postOrder("UPOST34567"))
	b := h.browser(t)
	h.login(t, b)
	wantCode(t, h.postForm(t, b, "/desk/orders/UPOST34567/claim", ""), http.StatusSeeOther)
	wantCode(t, h.postForm(t, b, "/desk/orders/UPOST34567/dispatch", ""), http.StatusSeeOther)
	rec := &smsRecorder{}
	w := &notify.Worker{Store: h.store, Sender: rec}
	for range 2 {
		if err := w.DrainMessages(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.sent) != 1 || !strings.HasPrefix(rec.sent[0], "+491711234567: ") || !strings.Contains(rec.sent[0], "UPOST34567") || !strings.Contains(rec.sent[0], "per Post") {
		t.Fatalf("SMS sent: %q", rec.sent)
	}
	var left int
	if err := h.store.Writer().QueryRow(`SELECT count(*) FROM message_sms WHERE phone IS NOT NULL OR text IS NOT NULL`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d rows keep a number or text (%v)", left, err)
	}
}
