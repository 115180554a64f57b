package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// The kiosk's key is stored with its ticket: a key of any length would
// let one form post fill the store. Over 128 characters it is refused,
// with a message that says so, and no ticket is issued.
func TestKioskIdempotencyKeyIsCapped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	before := h.store.LastSeq()
	res := h.postForm(t, nil, "/kiosk/tickets", "service=ausweis&key="+strings.Repeat("k", 129))
	if res.status != http.StatusBadRequest || !strings.Contains(res.String(), "höchstens 128") {
		t.Fatalf("129-character kiosk key: %d %s", res.status, res)
	}
	if after := h.store.LastSeq(); after != before {
		t.Errorf("a refused key committed %d events", after-before)
	}
	res = h.postJSON(t, "/api/v1/tickets", `{"service":"ausweis"}`, "Idempotency-Key", strings.Repeat("k", 129))
	if res.status != http.StatusBadRequest || !strings.Contains(res.String(), "at most 128") {
		t.Fatalf("129-character API key: %d %s", res.status, res)
	}
	if res := h.postForm(t, nil, "/kiosk/tickets", "service=ausweis&key="+strings.Repeat("k", 128)); res.status != http.StatusSeeOther {
		t.Errorf("128-character key: %d %s", res.status, res)
	}
}
