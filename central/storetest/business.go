package storetest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/vehicle"
	"github.com/veedel/veedel/central/business"
)

// The business portal's tables (central/business) on both databases.

func businessStore(s Store) *business.Store {
	db := s.Writer()
	return &business.Store{DB: db, Postgres: strings.Contains(fmt.Sprintf("%T", db.Driver()), "stdlib")}
}

// testBusinessAccounts: companies, users, a TOTP code good once, sessions
// with and without the second factor, API keys revoked at once.
func testBusinessAccounts(t *testing.T, open Opener) {
	ctx := context.Background()
	st := businessStore(mustOpen(t, open))
	if err := st.CreateCompany(ctx, "rheinflotte", "Rheinflotte GmbH", start); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateCompany(ctx, "rheinflotte", "again", start); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Errorf("same id again: %v", err)
	}
	if err := st.PutUser(ctx, "nobody", "anna", business.RoleAdmin, "hash", start); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Errorf("user of an unknown company: %v", err)
	}
	if err := st.PutUser(ctx, "rheinflotte", "anna", business.RoleAdmin, "hash", start); err != nil {
		t.Fatal(err)
	}
	if err := st.StartTOTP(ctx, "rheinflotte", "anna", []byte("sealed")); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		step int64
		want bool
	}{{100, true}, {100, false}, {99, false}, {101, true}} {
		if got, err := st.UseTOTPStep(ctx, "rheinflotte", "anna", c.step); err != nil || got != c.want {
			t.Errorf("use %d: step %d: %v %v, want %v", i, c.step, got, err, c.want)
		}
	}
	u, err := st.User(ctx, "rheinflotte", "anna")
	if err != nil || !u.TOTPEnrolled || string(u.TOTPSealed) != "sealed" || u.Role != business.RoleAdmin {
		t.Errorf("user %+v %v", u, err)
	}
	// A reset password starts the enrolment again.
	if err := st.PutUser(ctx, "rheinflotte", "anna", business.RoleClerk, "hash2", start); err != nil {
		t.Fatal(err)
	}
	if u, _ := st.User(ctx, "rheinflotte", "anna"); u.TOTPEnrolled || u.TOTPSealed != nil || u.Role != business.RoleClerk {
		t.Errorf("after the reset %+v", u)
	}

	half, _ := st.NewSession(ctx, "rheinflotte", "anna", false, start.Add(time.Minute))
	full, _ := st.NewSession(ctx, "rheinflotte", "anna", true, start.Add(time.Hour))
	if _, mfa, err := st.Session(ctx, half, start); err != nil || mfa {
		t.Errorf("half session: %v %v", mfa, err)
	}
	if u, mfa, err := st.Session(ctx, full, start); err != nil || !mfa || u.Name != "anna" {
		t.Errorf("full session: %v %v", mfa, err)
	}
	if _, _, err := st.Session(ctx, half, start.Add(2*time.Minute)); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
		t.Errorf("expired: %v", err)
	}
	if err := st.PutUser(ctx, "rheinflotte", "anna", business.RoleClerk, "hash3", start); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Session(ctx, full, start); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
		t.Errorf("session after a password reset: %v", err)
	}

	k, key, err := st.CreateAPIKey(ctx, "rheinflotte", "ERP", start)
	if err != nil || !strings.HasPrefix(key, business.APIKeyPrefix) {
		t.Fatal(key, err)
	}
	if c, err := st.Authenticate(ctx, key); err != nil || c != "rheinflotte" {
		t.Errorf("key: %q %v", c, err)
	}
	if err := st.RevokeAPIKey(ctx, "other", k.ID, start); veedel.ErrorCode(err) != veedel.ENOTFOUND {
		t.Errorf("another company's revocation: %v", err)
	}
	if err := st.RevokeAPIKey(ctx, "rheinflotte", k.ID, start); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(ctx, key); veedel.ErrorCode(err) != veedel.EUNAUTHORIZED {
		t.Errorf("revoked key: %v", err)
	}
	if ks, _ := st.APIKeys(ctx, "rheinflotte"); len(ks) != 1 || ks[0].Revoked.IsZero() {
		t.Errorf("keys %+v", ks)
	}
}

// testBusinessRowKeys: 20 claims of one row key at once through two
// handles: one submits, the others are told it is in flight; once
// recorded, every claim names the application.
func testBusinessRowKeys(t *testing.T, open Opener) {
	ctx := context.Background()
	sts := []*business.Store{businessStore(mustOpen(t, open)), businessStore(mustOpen(t, open))}
	if err := sts[0].CreateCompany(ctx, "rheinflotte", "Rheinflotte GmbH", start); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	fresh := 0
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			c, err := sts[i%2].ClaimRow(ctx, "rheinflotte", "order-1", start)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if !c.InDoubt && c.AppID == "" {
				fresh++
			}
		})
	}
	wg.Wait()
	if fresh != 1 {
		t.Fatalf("%d claims won, want 1", fresh)
	}
	if err := sts[0].RecordApplication(ctx, "rheinflotte", "order-1", "V1", start); err != nil {
		t.Fatal(err)
	}
	if c, _ := sts[1].ClaimRow(ctx, "rheinflotte", "order-1", start); c.AppID != "V1" || c.InDoubt {
		t.Errorf("after the record: %+v", c)
	}
	// A refused row gives its key back.
	sts[0].ClaimRow(ctx, "rheinflotte", "order-2", start)
	if err := sts[0].ReleaseRow(ctx, "rheinflotte", "order-2"); err != nil {
		t.Fatal(err)
	}
	if c, _ := sts[0].ClaimRow(ctx, "rheinflotte", "order-2", start); c.InDoubt || c.AppID != "" {
		t.Errorf("released key: %+v", c)
	}
	sts[0].RecordApplication(ctx, "rheinflotte", "", "V2", start.Add(time.Second))
	if list, _ := sts[1].Applications(ctx, "rheinflotte", 10); len(list) != 2 || list[0].AppID != "V2" || list[0].RowKey != "" || list[1].RowKey != "order-1" {
		t.Errorf("applications %+v", list)
	}
	if ok, _ := sts[1].OwnsApplication(ctx, "other", "V1"); ok {
		t.Error("another company owns V1")
	}
}

// testBusinessDeliveries: a change is queued once however often it is
// folded; a company's deliveries go in order, the second only after the
// first; a failure is retried later with the same key.
func testBusinessDeliveries(t *testing.T, open Opener) {
	ctx := context.Background()
	st := businessStore(mustOpen(t, open))
	st.CreateCompany(ctx, "rheinflotte", "Rheinflotte GmbH", start)
	var mu sync.Mutex
	var keys []string
	fail := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, r.Header.Get(business.HeaderKey))
		if fail {
			fail = false
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	key := make([]byte, 32)
	_, sealed, _ := business.NewWebhookSecret(key, "rheinflotte")
	if err := st.SetWebhook(ctx, "rheinflotte", srv.URL, sealed); err != nil {
		t.Fatal(err)
	}
	a := vehicle.StatusChange{ID: "V1", Company: "rheinflotte", Status: vehicle.StatusSubmitted, At: start.UnixMilli()}
	b := a
	b.Status, b.At = vehicle.StatusAtSite, a.At+1000
	for i, c := range []vehicle.StatusChange{a, b, a, {ID: "V9", Status: "submitted"}} {
		queued, err := st.EnqueueChange(ctx, c, start)
		if err != nil || queued != (i < 2) {
			t.Errorf("change %d: queued %v, %v", i, queued, err)
		}
	}
	now := start
	sender := &business.Sender{Store: st, Key: key, Now: func() time.Time { return now }, Backoff: 10 * time.Second,
		AllowPrivate: true} // the receiver is on loopback
	step := func() bool {
		sent, err := sender.Step(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return sent
	}
	if !step() || step() {
		t.Fatal("the second was sent while the first failed")
	}
	now = now.Add(11 * time.Second)
	// Each step sends at most one: two go after the backoff, no third.
	first, second, third := step(), step(), step()
	if !first || !second || third {
		t.Fatal("not two after the backoff")
	}
	ka, kb := fmt.Sprintf("vehicle:V1:submitted:%d", a.At), fmt.Sprintf("vehicle:V1:at_site:%d", b.At)
	if strings.Join(keys, " ") != ka+" "+ka+" "+kb {
		t.Errorf("attempts %v", keys)
	}
	ds, _ := st.Deliveries(ctx, "rheinflotte", 10)
	if len(ds) != 2 || ds[0].Status != "delivered" || ds[1].Attempts != 2 || ds[1].Status != "delivered" {
		t.Errorf("deliveries %+v", ds)
	}
}

// fakeSubmitter numbers the applications it is given; a row whose family
// name is "refuse" is invalid.
type fakeSubmitter struct{ n int }

func (f *fakeSubmitter) SubmitVehicleApplication(ctx context.Context, app vehicle.Application, company string) (vehicle.Submitted, error) {
	if app.Owner.FamilyName == "refuse" {
		return vehicle.Submitted{}, veedel.FieldErrors{"owner.family_name": "no"}.Err("invalid")
	}
	f.n++
	return vehicle.Submitted{ID: fmt.Sprintf("V%d", f.n), Token: "t"}, nil
}

// testBusinessSubmitAll: a bulk upload's rows on the database (each
// row's record in one transaction with the next row's claim): submitted,
// refused (its key free again), a key twice, and the whole upload again.
func testBusinessSubmitAll(t *testing.T, open Opener) {
	ctx := context.Background()
	st := businessStore(mustOpen(t, open))
	st.CreateCompany(ctx, "rheinflotte", "Rheinflotte GmbH", start)
	row := func(key, name string) business.Item {
		var it business.Item
		it.Row.Key, it.Row.Owner.FamilyName = key, name
		return it
	}
	rows := []business.Item{row("k1", "a"), row("k2", "refuse"), row("k3", "b"), row("k3", "b"), row("", "c"), row("k4", "d")}
	sub := &fakeSubmitter{}
	now := func() time.Time { return start }
	res := st.SubmitAll(ctx, sub, "rheinflotte", rows, now)
	var got []string
	for _, r := range res.Rows {
		got = append(got, fmt.Sprintf("%d:%s", r.Status, r.ID))
	}
	if strings.Join(got, " ") != "201:V1 422: 201:V2 200:V2 201:V3 201:V4" {
		t.Errorf("first upload %v", got)
	}
	rows[1] = row("k2", "fixed")
	res = st.SubmitAll(ctx, sub, "rheinflotte", rows, now)
	got = nil
	for _, r := range res.Rows {
		got = append(got, fmt.Sprintf("%d:%s", r.Status, r.ID))
	}
	if strings.Join(got, " ") != "200:V1 201:V5 200:V2 200:V2 201:V6 200:V4" {
		t.Errorf("again %v", got)
	}
	if list, _ := st.Applications(ctx, "rheinflotte", 100); len(list) != 6 {
		t.Errorf("%d applications recorded", len(list))
	}
}
