package payment_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/internal/payment"
)

var (
	secret = []byte("shared-secret-of-the-city-and-the-provider")
	now    = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
)

func good() payment.Notification {
	n := payment.Notification{Reference: "UABCDEFGHJ", AmountCents: 2000, Currency: "EUR", Status: payment.StatusPaid,
		TransactionID: "T123", Timestamp: now.Unix()}
	payment.Sign(secret, &n)
	return n
}

func TestVerify(t *testing.T) {
	n := good()
	if err := payment.Verify(secret, &n, now); err != nil {
		t.Fatalf("good notification: %v", err)
	}
	if err := payment.Expect(&n, "UABCDEFGHJ", 2000); err != nil {
		t.Fatalf("expected amount and reference: %v", err)
	}
	flip := func(s string) string {
		b := []byte(s)
		if b[0] == 'a' {
			b[0] = 'b'
		} else {
			b[0] = 'a'
		}
		return string(b)
	}
	for _, c := range []struct {
		name string
		edit func(*payment.Notification)
		code string
		at   time.Time
	}{
		{"FlippedSignatureByte", func(n *payment.Notification) { n.Signature = flip(n.Signature) }, veedel.EUNAUTHORIZED, now},
		{"AmountRaisedAfterSigning", func(n *payment.Notification) { n.AmountCents = 1 }, veedel.EUNAUTHORIZED, now},
		{"ReferenceChangedAfterSigning", func(n *payment.Notification) { n.Reference = "UZZZZZZZZZ" }, veedel.EUNAUTHORIZED, now},
		{"StatusChangedAfterSigning", func(n *payment.Notification) { n.Status = payment.StatusCancelled }, veedel.EUNAUTHORIZED, now},
		{"OtherSecret", func(n *payment.Notification) { payment.Sign([]byte("guess"), n) }, veedel.EUNAUTHORIZED, now},
		{"NotHex", func(n *payment.Notification) { n.Signature = "zz" }, veedel.EUNAUTHORIZED, now},
		{"Stale", func(n *payment.Notification) {}, veedel.EUNAUTHORIZED, now.Add(payment.MaxAge + time.Second)},
		{"FromTheFuture", func(n *payment.Notification) {}, veedel.EUNAUTHORIZED, now.Add(-payment.MaxAge - time.Second)},
		{"UnknownStatus", func(n *payment.Notification) { n.Status = "maybe"; payment.Sign(secret, n) }, veedel.EINVALID, now},
		{"NoSignature", func(n *payment.Notification) { n.Signature = "" }, veedel.EINVALID, now},
		{"LineBreakInField", func(n *payment.Notification) { n.TransactionID = "T1\npaid"; payment.Sign(secret, n) }, veedel.EINVALID, now},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := good()
			c.edit(&n)
			err := payment.Verify(secret, &n, c.at)
			if veedel.ErrorCode(err) != c.code || veedel.ErrorMessage(err) == "" {
				t.Fatalf("got %v (%s), want %s", err, veedel.ErrorCode(err), c.code)
			}
		})
	}
	if err := payment.Verify(nil, &n, now); veedel.ErrorCode(err) != veedel.EUNAVAILABLE {
		t.Fatalf("no secret: %v", err)
	}
	for _, c := range []struct {
		ref    string
		amount int64
	}{{"UOTHERORDR", 2000}, {"UABCDEFGHJ", 1999}} {
		if err := payment.Expect(&n, c.ref, c.amount); veedel.ErrorCode(err) != veedel.EINVALID || !strings.Contains(err.Error(), "refused") {
			t.Errorf("expect %s %d: %v", c.ref, c.amount, err)
		}
	}
}

// TestDemoProvider: the client creates a payment at the demo over HTTP,
// the browser's "Bezahlen" makes the demo POST a notification that
// verifies, and then sends the browser back; pressing again sends the
// same transaction again.
func TestDemoProvider(t *testing.T) {
	var mu sync.Mutex
	var got []payment.Notification
	mux := http.NewServeMux()
	demo := &payment.Demo{Secret: secret, Now: func() time.Time { return now }}
	mux.Handle("/sim/pay/", http.StripPrefix("/sim/pay", demo))
	mux.HandleFunc("POST /notify", func(w http.ResponseWriter, r *http.Request) {
		var n payment.Notification
		json.NewDecoder(r.Body).Decode(&n)
		if err := payment.Verify(secret, &n, now); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got = append(got, n)
		mu.Unlock()
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	c := &payment.Client{BaseURL: ts.URL + "/sim/pay", Secret: secret, Now: func() time.Time { return now }}
	sess, err := c.Create(context.Background(), payment.Request{Reference: "UABCDEFGHJ", AmountCents: 1250, Description: "Urkundenbestellung UABCDEFGHJ",
		ReturnURL: ts.URL + "/back", NotifyURL: ts.URL + "/notify"})
	if err != nil || !strings.HasPrefix(sess.RedirectURL, ts.URL+"/sim/pay/p/") {
		t.Fatalf("create: %+v %v", sess, err)
	}
	resp, err := http.Get(sess.RedirectURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, s := range []string{"Demo-Bezahldienst", "12,50 €", "Bezahlen", "Abbrechen", "UABCDEFGHJ"} {
		if !strings.Contains(string(page), s) {
			t.Errorf("payment page lacks %q", s)
		}
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range 2 {
		resp, err := noFollow.PostForm(sess.RedirectURL, map[string][]string{"action": {"pay"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != ts.URL+"/back" {
			t.Fatalf("after paying: %s to %q", resp.Status, resp.Header.Get("Location"))
		}
	}
	if len(got) != 2 || got[0].TransactionID != got[1].TransactionID || got[0].Status != payment.StatusPaid || got[0].AmountCents != 1250 {
		t.Fatalf("notifications: %+v", got)
	}

	// A request signed with another secret is refused by the provider.
	bad := &payment.Client{BaseURL: ts.URL + "/sim/pay", Secret: []byte("wrong"), Now: c.Now}
	if _, err := bad.Create(context.Background(), payment.Request{Reference: "U1", AmountCents: 1, ReturnURL: "x", NotifyURL: "y"}); veedel.ErrorCode(err) != veedel.EUNAVAILABLE {
		t.Fatalf("badly signed create: %v", err)
	}
}

// BenchmarkVerify: checking a notification's signature and freshness.
func BenchmarkVerify(b *testing.B) {
	n := good()
	for b.Loop() {
		if err := payment.Verify(secret, &n, now); err != nil {
			b.Fatal(err)
		}
	}
}
