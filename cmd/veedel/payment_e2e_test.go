package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/internal/payment"
)

// TestPaymentAcrossProcesses: `veedel central -payment-provider` (its own
// process) with the appliance (another) and a payment provider (this
// test, speaking only HTTP): an order paid online waits at central, also
// through central being killed, and is at the site within 2 s of the
// provider's notification, once.
func TestPaymentAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the veedel binary; skipped with -short")
	}
	bin := buildVeedel(t)
	dir := t.TempDir()
	secret := "e2e-payment-secret-0123456789"
	provider := httptest.NewServer(http.StripPrefix("/pay", &payment.Demo{Secret: []byte(secret)}))
	defer provider.Close()
	t.Setenv("VEEDEL_PAYMENT_SECRET", secret) // inherited by central's process
	centralAddr, siteAddr := freeAddr(t), freeAddr(t)
	centralURL, siteURL := "http://"+centralAddr, "http://"+siteAddr
	cfg := applianceConfig{Site: "kalk", DB: filepath.Join(dir, "kalk.db")}
	st, err := sqlite.Open(context.Background(), cfg.DB, cfg.Site, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(context.Background(), sqlite.User{Name: "anna", DisplayName: "Anna", Role: sqlite.RoleClerk}, "geheim-123456"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	payFlags := []string{"-payment-provider", provider.URL + "/pay"}
	cent := startCentralProcess(t, bin, dir, centralAddr, 0, payFlags...)
	site := startApplianceProcess(t, bin, dir, siteAddr, centralURL, enrollmentTokenFor(t, filepath.Join(dir, "central.db"), cfg), 0)
	waitHealthy(t, site, siteURL)

	body := `{"kind":"meldebescheinigung","site":"kalk","delivery":"post","copies":1,"payment":"online",` +
		`"person":{"family_name":"Nowak","given_names":"Jan","birth_date":"1979-11-02"},` +
		`"address":{"street":"Kalker Hauptstraße 1","postcode":"51103","city":"Köln"},"contact":{"email":"jan.nowak@example.de"},"consent":true}`
	var placed struct {
		Code, Token, Status string
		PaymentURL          string `json:"payment_url"`
	}
	for deadline := time.Now().Add(20 * time.Second); ; { // the site's first signed poll brings its box key
		resp, err := http.Post(centralURL+"/api/v1/orders", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&placed)
		resp.Body.Close()
		if resp.StatusCode == http.StatusCreated {
			break
		}
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("order: %d", resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if placed.Status != registration.StatusAwaitingPayment || !strings.HasPrefix(placed.PaymentURL, provider.URL+"/pay/p/") {
		t.Fatalf("placed: %+v", placed)
	}
	orders := func() []registration.Order {
		req, _ := http.NewRequest(http.MethodGet, siteURL+"/api/v1/orders", nil)
		req.SetBasicAuth("anna", "geheim-123456")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var list []registration.Order
		json.NewDecoder(resp.Body).Decode(&list)
		var out []registration.Order
		for _, o := range list {
			if o.Code == placed.Code {
				out = append(out, o)
			}
		}
		return out
	}

	// Central is killed and started again: the unpaid order is still
	// there, and not at the site.
	stopProcess(t, cent)
	cent = startCentralProcess(t, bin, dir, centralAddr, 1, payFlags...)
	var st1 struct{ Status string }
	if code, err := getJSON(centralURL+"/api/v1/orders/"+placed.Token, &st1); err != nil || code != http.StatusOK || st1.Status != registration.StatusAwaitingPayment {
		t.Fatalf("after central's restart: %d %v %+v", code, err, st1)
	}
	if got := orders(); len(got) != 0 {
		t.Fatalf("an unpaid order is at the site: %+v", got)
	}

	// The citizen pays at the provider, which notifies central over HTTP.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	paid := time.Now()
	resp, err := noFollow.PostForm(placed.PaymentURL, url.Values{"action": {"pay"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != centralURL+"/o/"+placed.Token {
		t.Fatalf("after paying: %s to %q\n%s", resp.Status, resp.Header.Get("Location"), cent.tail())
	}
	for {
		got := orders()
		if len(got) == 1 && got[0].Status == registration.StatusAtSite {
			if got[0].Payment != registration.PaymentOnline || got[0].Details == nil || got[0].Details.Person.FamilyName != "Nowak" {
				t.Fatalf("at the site: %+v", got[0])
			}
			break
		}
		if time.Since(paid) > 2*time.Second {
			t.Fatalf("paid order not at the site 2 s after pressing Bezahlen: %+v\n%s", got, site.tail())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("paid order at the site %v after \"Bezahlen\" (provider → central → site)", time.Since(paid).Round(time.Millisecond))
	// The provider's retry (the citizen presses again) adds nothing.
	resp, err = noFollow.PostForm(placed.PaymentURL, url.Values{"action": {"pay"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	time.Sleep(300 * time.Millisecond)
	if got := orders(); len(got) != 1 {
		t.Fatalf("the order is %d times at the site", len(got))
	}
}
