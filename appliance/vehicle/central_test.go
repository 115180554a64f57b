package vehicle_test

import (
	"crypto/sha256"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/sync/blob"
	"github.com/veedel/veedel/workflow"
)

func ev(t string, at int, p any) workflow.Event {
	return workflow.Event{Type: t, Entity: "x", At: time.UnixMilli(int64(at)), Payload: p}
}

func submitted(id, token string) *vehicle.ApplicationSubmitted {
	h := sha256.Sum256([]byte(token))
	return &vehicle.ApplicationSubmitted{ID: id, Process: vehicle.ProcessTransfer, TokenHash: h[:], Company: "rheinflotte", Submitted: 1}
}

func TestCentralFoldsTheStatuses(t *testing.T) {
	c := vehicle.NewCentral()
	var changes []string
	c.OnChange(func(s vehicle.StatusChange) { changes = append(changes, s.Status) })
	status := func() string {
		a, ok := c.ByToken("tok")
		if !ok {
			t.Fatal("application not found by its token")
		}
		return a.Status
	}
	c.Sent("zulassung", ev(vehicle.TypeSubmitted, 1, submitted("V1", "tok")))
	if got := status(); got != vehicle.StatusSubmitted {
		t.Fatalf("after submit: %s", got)
	}
	c.Sent("kalk-kfz", ev(vehicle.TypeSubmitted, 1, submitted("V2", "tok2")))
	if got := c.Open(); !maps.Equal(got, map[string]int{"zulassung": 1, "kalk-kfz": 1}) {
		t.Errorf("open after two submissions: %v", got)
	}
	c.FromSite("zulassung", ev(vehicle.TypeReceived, 2, &vehicle.ApplicationReceived{*submitted("V1", "tok")}))
	c.FromSite("zulassung", ev(vehicle.TypeClaimed, 3, &vehicle.ApplicationClaimed{ID: "V1", Staff: "demo"}))
	c.FromSite("zulassung", ev(vehicle.TypeCheckRecorded, 4, &vehicle.CheckRecorded{ID: "V1", Check: "evb", OK: true}))
	c.FromSite("zulassung", ev(vehicle.TypeInfoRequested, 5, &vehicle.InfoRequested{ID: "V1", Reason: "Vollmacht fehlt"}))
	if a, _ := c.ByToken("tok"); a.Status != vehicle.StatusInfoRequested || a.Reason != "Vollmacht fehlt" {
		t.Fatalf("info requested: %+v", a)
	}
	c.Sent("zulassung", ev(vehicle.TypeSupplemented, 6, &vehicle.ApplicationSupplemented{ID: "V1"}))
	c.FromSite("zulassung", ev(vehicle.TypeReceived, 7, &vehicle.ApplicationReceived{*submitted("V1", "tok")}))
	c.FromSite("zulassung", ev(vehicle.TypeClaimed, 8, &vehicle.ApplicationClaimed{ID: "V1", Staff: "demo"}))
	permit := blob.Ref{SHA256: "ab", Size: 10, Type: "application/pdf"}
	c.FromSite("zulassung", ev(vehicle.TypeApproved, 9, &vehicle.ApplicationApproved{ID: "V1", Plate: "K-AB 123", FIN: "WVWZZZ1JZXW000001",
		Code: "QR7", ValidUntil: "2026-12-16", Permit: permit}))
	// Late or foreign steps change nothing decided.
	c.FromSite("zulassung", ev(vehicle.TypeRejected, 10, &vehicle.ApplicationRejected{ID: "V1", Reason: "no"}))
	c.FromSite("zulassung", ev(vehicle.TypeReceived, 11, &vehicle.ApplicationReceived{*submitted("V1", "tok")}))
	c.FromSite("buergeramt", ev(vehicle.TypeClaimed, 12, &vehicle.ApplicationClaimed{ID: "V1"}))
	c.FromSite("zulassung", ev(vehicle.TypeSentByPost, 13, &vehicle.DocumentsPosted{ID: "V1"}))

	want := []string{"submitted", "submitted", "at_site", "in_review", "info_requested", "submitted", "at_site", "in_review", "approved"}
	// Decided, and the late steps count nothing twice: only V2 is open.
	if got := c.Open(); !maps.Equal(got, map[string]int{"kalk-kfz": 1}) {
		t.Errorf("open after the decision: %v", got)
	}
	if !slices.Equal(changes, want) {
		t.Errorf("changes %v, want %v", changes, want)
	}
	a, _ := c.ByToken("tok")
	v := a.View("/v/tok/permit.pdf")
	if v.Status != vehicle.StatusApproved || v.Plate != "K-AB 123" || v.ValidUntil != "2026-12-16" || v.PermitURL == "" || !a.Posted || a.Company != "rheinflotte" {
		t.Errorf("approved: %+v %+v", a, v)
	}
	got, ok := c.Verify("QR7")
	if !ok || got != (vehicle.Verification{Plate: "K-AB 123", FIN: "WVWZZZ1JZXW000001", ValidUntil: "2026-12-16"}) {
		t.Errorf("verify: %+v %v", got, ok)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if !got.Valid(time.Date(2026, 12, 16, 23, 30, 0, 0, berlin), berlin) || got.Valid(time.Date(2026, 12, 17, 0, 0, 1, 0, berlin), berlin) {
		t.Error("valid through the last day and not after")
	}
	if _, ok := c.Verify("nope"); ok {
		t.Error("an unknown code verified")
	}
	if _, ok := c.ByToken("other"); ok {
		t.Error("a wrong token found an application")
	}
}

// The site's log may be folded before central's outbound log (a central
// node starting): the site's received step makes the application.
func TestCentralSiteLogFirst(t *testing.T) {
	c := vehicle.NewCentral()
	c.FromSite("zulassung", ev(vehicle.TypeReceived, 2, &vehicle.ApplicationReceived{*submitted("V2", "t2")}))
	c.FromSite("zulassung", ev(vehicle.TypeRejected, 3, &vehicle.ApplicationRejected{ID: "V2", Reason: "HU abgelaufen"}))
	c.Sent("zulassung", ev(vehicle.TypeSubmitted, 1, submitted("V2", "t2")))
	a, ok := c.ByToken("t2")
	if !ok || a.Status != vehicle.StatusRejected || a.Reason != "HU abgelaufen" {
		t.Errorf("%+v %v", a, ok)
	}
	if v := a.View("/permit"); v.PermitURL != "" {
		t.Error("a rejected application has a permit")
	}
}
