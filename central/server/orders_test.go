package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/veedel/veedel/appliance/registration"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/sitekey"
)

const orderBody = `{"kind":"meldebescheinigung","site":"` + siteID + `","delivery":"pickup","copies":2,
 "person":{"family_name":"Kowalczyk-Öztürk","given_names":"Zofia","birth_date":"1990-02-28","birth_place":"Gdańsk"},
 "contact":{"email":"zofia@example.de"},"consent":true}`

func (e *env) postJSON(path, body string) (int, map[string]any) {
	e.t.Helper()
	resp, err := http.Post(e.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		e.t.Fatalf("POST %s: %v in %q", path, err, data)
	}
	return resp.StatusCode, out
}

func (e *env) outboundLog(site string) []changelog.Entry {
	e.t.Helper()
	entries, _, err := e.Store.Outbound(context.Background(), site, 0, 1000, 1<<20)
	if err != nil {
		e.t.Fatal(err)
	}
	return entries
}

// TestOrderFromHome: central refuses a bad order field by field and
// stores nothing; a good one goes into the owning site's outbound log with
// the personal data sealed to the site; the citizen's status follows what
// the site logs, and survives central's restart.
func TestOrderFromHome(t *testing.T) {
	e := newEnv(t)
	log := opening(t, e.Clock)
	e.mustPost(log.batch(1, uint64(len(log.entries))))
	box, err := sitekey.BoxKey(siteKey(siteID))
	if err != nil {
		t.Fatal(err)
	}

	// Before the site ever polled with its box key: nothing can be sealed.
	status, out := e.postJSON("/api/v1/orders", orderBody)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("order before the site's box key: %d %v", status, out)
	}
	if err := e.Central.RecordBoxKey(context.Background(), siteID, box.PublicKey().Bytes()); err != nil {
		t.Fatal(err)
	}
	before := len(e.outboundLog(siteID))

	for _, c := range []struct{ edit, field string }{
		{`"copies":2`, `"copies":0`},
		{`"copies":2`, `"copies":100`},
		{`"consent":true`, `"consent":false`},
		{`"zofia@example.de"`, `"zofia@@example"`},
		{`"1990-02-28"`, `"2090-02-28"`},
		{`"meldebescheinigung"`, `"reisepass"`},
		{`"site":"` + siteID + `"`, `"site":"atlantis"`},
	} {
		status, out := e.postJSON("/api/v1/orders", strings.Replace(orderBody, c.edit, c.field, 1))
		fields, _ := out["fields"].(map[string]any)
		if status != http.StatusBadRequest || len(fields) == 0 || out["error"] == "" {
			t.Errorf("order with %s: %d %v, want 400 with fields", c.field, status, out)
		}
	}
	if got := len(e.outboundLog(siteID)); got != before {
		t.Fatalf("refused orders appended %d entries", got-before)
	}

	status, out = e.postJSON("/api/v1/orders", orderBody)
	if status != http.StatusCreated || out["status"] != registration.StatusReceived || out["fee_cents"] != 2000.0 {
		t.Fatalf("good order: %d %v", status, out)
	}
	token, code := out["token"].(string), out["code"].(string)
	if !strings.HasPrefix(out["status_url"].(string), "/api/v1/orders/") {
		t.Fatalf("status_url %v", out["status_url"])
	}
	entries := e.outboundLog(siteID)
	placed := entries[len(entries)-1]
	if placed.Type != registration.TypeOrderPlaced {
		t.Fatalf("last outbound entry is %s", placed.Type)
	}
	for _, s := range []string{"Kowalczyk", "Zofia", "zofia@example.de", "1990-02-28", "Gdańsk"} {
		if bytes.Contains(placed.Payload, []byte(s)) {
			t.Errorf("outbound entry holds %q in clear", s)
		}
	}
	var p registration.OrderPlaced
	if err := cbor.Unmarshal(placed.Payload, &p); err != nil {
		t.Fatal(err)
	}
	plain, err := changelog.Open(box, "registration.order\n"+siteID+"\n"+code, p.Sealed)
	if err != nil {
		t.Fatalf("the site cannot open its order: %v", err)
	}
	var d registration.Details
	if err := cbor.Unmarshal(plain, &d); err != nil || d.Person.FamilyName != "Kowalczyk-Öztürk" || d.Contact.Email != "zofia@example.de" {
		t.Fatalf("details as the site opens them: %+v, %v", d, err)
	}

	var st server.OrderStatus
	if got := e.getJSON("/api/v1/orders/"+token, &st); got != http.StatusOK || st.Status != registration.StatusReceived || st.Code != code {
		t.Fatalf("status: %d %+v", got, st)
	}
	if got := e.getJSON("/api/v1/orders/not-a-token", &map[string]any{}); got != http.StatusNotFound {
		t.Fatalf("unknown token: %d", got)
	}

	// The site takes it over and works on it.
	log.add(registration.TypeOrderReceived, "order/"+code, &registration.OrderReceived{OrderPlaced: p})
	log.add(registration.TypeOrderClaimed, "order/"+code, &registration.OrderClaimed{Code: code, Staff: "anna"})
	log.add(registration.TypeOrderReady, "order/"+code, &registration.OrderReady{Code: code, Staff: "anna"})
	n := uint64(len(log.entries))
	e.mustPost(log.batch(n-2, n))
	if e.getJSON("/api/v1/orders/"+token, &st); st.Status != registration.StatusReady || st.Stale {
		t.Fatalf("after the site's steps: %+v", st)
	}

	// Central restarts: the status is folded again from the logs.
	c2, err := central.New(context.Background(), e.Store, e.Clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := c2.Workflow(registration.Prefix).(*registration.Central).ByToken(token)
	if !ok || o.Status != registration.StatusReady || o.Code != code {
		t.Fatalf("after restart: %+v %v", o, ok)
	}
}
