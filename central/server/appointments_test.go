package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/veedel/veedel/internal/mail"
	"github.com/veedel/veedel/internal/mail/mailsim"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance/appointment"
	"github.com/veedel/veedel/appliance/notify"
	"github.com/veedel/veedel/appliance/queue"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/internal/ratelimit"
	"github.com/veedel/veedel/sync/sitekey"
)

// codes is a Notifier that keeps the last code sent to each contact, as a
// phone or mailbox would.
type codes struct {
	mu    sync.Mutex
	sent  map[string]string // e-mail or phone -> body
	count map[string]int    // e-mail or phone -> messages
}

func (c *codes) Notify(_ context.Context, to appointment.Contact, _, _, body string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent[to.Email+to.Phone] = body
	if c.count == nil {
		c.count = map[string]int{}
	}
	c.count[to.Email+to.Phone]++
	return nil
}

// last returns the last message to contact and how many it got.
func (c *codes) last(contact string) (string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent[contact], c.count[contact]
}

func (c *codes) code(contact string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	body := c.sent[contact]
	i := strings.LastIndex(body, ": ")
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(body[i+2:])
}

// bookingSite is a real appliance store for siteID with three counters for
// ausweis (10-minute slots, one place online, two the site's), its log
// uploaded to central, and central's booking API on its own server.
type bookingSite struct {
	*env
	id    string // the site's id (siteID unless said otherwise)
	store *sqlite.Store
	codes *codes
	api   string
	sent  uint64 // the site's last seq uploaded
}

func newBookingSite(t *testing.T) *bookingSite {
	e := newEnv(t)
	box, err := sitekey.BoxKey(siteKey(siteID))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "site.db"), siteID, sqlite.Options{Now: e.Clock.Now, BoxKey: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var hours []queue.OpeningHours
	for d := time.Monday; d <= time.Friday; d++ {
		hours = append(hours, queue.OpeningHours{Weekday: d, Open: 8 * 60, Close: 12 * 60})
	}
	if _, err := st.Execute(context.Background(), func(_ *queue.State, at time.Time) ([]queue.Event, error) {
		evs := []queue.Event{
			{Type: queue.TypeSiteDescribed, Entity: "site/" + siteID, At: at, Payload: &queue.SiteDescribed{ID: siteID, Name: siteName, TimeZone: "Europe/Berlin", Hours: hours}},
			{Type: queue.TypeServiceDefined, Entity: "service/ausweis", At: at, Payload: &queue.ServiceDefined{ID: "ausweis", Name: "Personalausweis", NameEN: "ID card", Prefix: "A", ExpectedMinutes: 10}},
		}
		for _, c := range []string{"1", "2", "3"} {
			evs = append(evs, queue.Event{Type: queue.TypeCounterDefined, Entity: "counter/" + c, At: at, Payload: &queue.CounterDefined{ID: c, Name: "Platz " + c, Services: []string{"ausweis"}}})
		}
		return evs, nil
	}); err != nil {
		t.Fatal(err)
	}
	c := &codes{sent: map[string]string{}}
	ts := httptest.NewServer((&server.Server{Central: e.Central, Notify: c, Now: e.Clock.Now, BookLimit: ratelimit.Limit{Burst: 1000, Every: time.Millisecond}}).Handler())
	t.Cleanup(ts.Close)
	b := &bookingSite{env: e, id: siteID, store: st, codes: c, api: ts.URL}
	b.upload()
	if err := e.Central.RecordBoxKey(context.Background(), siteID, box.PublicKey().Bytes()); err != nil {
		t.Fatal(err)
	}
	return b
}

// upload sends the site's new entries to central, as its uplink does.
func (b *bookingSite) upload() {
	b.t.Helper()
	entries, err := b.store.EntriesAfter(context.Background(), b.sent, 1000, 1<<20)
	if err != nil {
		b.t.Fatal(err)
	}
	if len(entries) == 0 {
		return
	}
	b.mustPost(mustBatch(b.t, b.Clock, b.id, entries))
	b.sent = entries[len(entries)-1].Seq
}

// download applies central's outbound entries, as the downlink does.
func (b *bookingSite) download() {
	b.t.Helper()
	cursor, err := b.store.InboxCursor(context.Background())
	if err != nil {
		b.t.Fatal(err)
	}
	entries, _, err := b.Store.Outbound(context.Background(), b.id, cursor, 1000, 1<<20)
	if err != nil {
		b.t.Fatal(err)
	}
	for _, e := range entries {
		if _, err := b.store.ApplyInbound(context.Background(), e); err != nil {
			b.t.Fatal(err)
		}
	}
}

func (b *bookingSite) call(method, path, body string) (int, map[string]any) {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.api+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(data, &out)
	return resp.StatusCode, out
}

func (b *bookingSite) slots(day string) []appointment.SlotView {
	b.t.Helper()
	resp, err := http.Get(b.api + "/api/v1/booking/slots?site=" + siteID + "&service=ausweis&date=" + day)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []appointment.SlotView
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil {
		b.t.Fatalf("slots: %d", resp.StatusCode)
	}
	return out
}

func holdBody(start time.Time, email string) string {
	return fmt.Sprintf(`{"site":%q,"service":"ausweis","start":%q,"name":"Jan Nowak","email":%q,"consent":true}`, siteID, start.Format(time.RFC3339), email)
}

// TestLastSlotSoldOnce: 50 citizens ask for the last free place at once:
// exactly one gets it, 49 get a clear 409; confirmed, it is the site's
// booking; cancelled, the place is free again on both sides.
func TestLastSlotSoldOnce(t *testing.T) {
	b := newBookingSite(t)
	day := "2026-03-05" // the Thursday after start
	slots := b.slots(day)
	if len(slots) != 24 || slots[0].Available != 1 {
		t.Fatalf("Thursday 8–12 in 10-minute slots, one place online each: %+v", slots)
	}
	start := slots[5].Start

	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	var token, winner string
	for i := range 50 {
		wg.Go(func() {
			email := fmt.Sprintf("c%d@example.de", i)
			status, out := b.call(http.MethodPost, "/api/v1/appointments", holdBody(start, email))
			mu.Lock()
			defer mu.Unlock()
			statuses[status]++
			switch status {
			case http.StatusCreated:
				token, winner = out["token"].(string), email
				if out["status"] != appointment.StatusHeld || out["ics_url"] == "" || out["status_url"] == "" {
					t.Errorf("hold: %v", out)
				}
			case http.StatusConflict:
				if msg, _ := out["error"].(string); !strings.Contains(msg, "vergeben") {
					t.Errorf("409 without a clear message: %v", out)
				}
			}
		})
	}
	wg.Wait()
	if statuses[http.StatusCreated] != 1 || statuses[http.StatusConflict] != 49 {
		t.Fatalf("50 requests for the last place: %v, want one 201 and 49 409", statuses)
	}
	if got := b.slots(day)[5].Available; got != 0 {
		t.Fatalf("held slot shows %d free", got)
	}
	if status, out := b.call(http.MethodPost, "/api/v1/appointments/"+token+"/confirm", `{"code":"000000x"}`); status != http.StatusBadRequest || out["fields"] == nil {
		t.Fatalf("wrong code: %d %v", status, out)
	}
	confirmation := b.codes.code(winner)
	status, out := b.call(http.MethodPost, "/api/v1/appointments/"+token+"/confirm", `{"code":"`+confirmation+`"}`)
	if status != http.StatusOK || out["status"] != appointment.StatusConfirmed {
		t.Fatalf("confirm: %d %v", status, out)
	}
	code := out["code"].(string)
	// The API's confirmation sends the booking, as the portal's form does.
	msg, n := b.codes.last(winner)
	if n != 2 || !strings.Contains(msg, code) || !strings.Contains(msg, "/b/"+token) {
		t.Fatalf("after confirming: %d messages, the last %q; want the booking with its code and link", n, msg)
	}
	// Confirming again is the same answer, sells nothing twice and sends
	// nothing again.
	if status, out := b.call(http.MethodPost, "/api/v1/appointments/"+token+"/confirm", `{"code":"`+confirmation+`"}`); status != http.StatusOK || out["code"] != code {
		t.Fatalf("confirm again: %d %v", status, out)
	}
	if _, n := b.codes.last(winner); n != 2 {
		t.Fatalf("confirming again sent another message (%d in all)", n)
	}
	b.download()
	var booked *queue.Booking
	b.store.View(func(st *queue.State) {
		if bk := st.BookingByCode(code); bk != nil {
			c := *bk
			booked = &c
		}
	})
	if booked == nil || !booked.Online || !booked.Slot.Equal(start) {
		t.Fatalf("at the site: %+v", booked)
	}
	b.upload()
	if _, out := b.call(http.MethodGet, "/api/v1/appointments/"+token, ""); out["status"] != appointment.StatusAtSite {
		t.Fatalf("after the site took it: %v", out)
	}
	resp, err := http.Get(b.api + "/api/v1/appointments/" + token + "/ics")
	if err != nil {
		t.Fatal(err)
	}
	ics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(ics), "DTSTART:"+start.UTC().Format("20060102T150405Z")) || strings.Contains(string(ics), "Nowak") {
		t.Fatalf("ics: %s", ics)
	}

	if status, out := b.call(http.MethodPost, "/api/v1/appointments/"+token+"/cancel", ""); status != http.StatusOK || out["status"] != appointment.StatusCancelled {
		t.Fatalf("cancel: %d %v", status, out)
	}
	b.download()
	b.store.View(func(st *queue.State) {
		if st.BookingByCode(code) != nil {
			t.Error("cancelled booking still at the site")
		}
	})
	if got := b.slots(day)[5].Available; got != 1 {
		t.Fatalf("cancelled slot shows %d free, want 1", got)
	}
}

// TestNeitherSideOverbooks: while the site is offline, central sells its
// place and the desk books the site's two; neither can take more, and
// once both have synced the slot holds exactly its capacity.
func TestNeitherSideOverbooks(t *testing.T) {
	b := newBookingSite(t)
	start := b.slots("2026-03-05")[3].Start
	book := func(email string) int {
		status, out := b.call(http.MethodPost, "/api/v1/appointments", holdBody(start, email))
		if status != http.StatusCreated {
			return status
		}
		status, _ = b.call(http.MethodPost, "/api/v1/appointments/"+out["token"].(string)+"/confirm", `{"code":"`+b.codes.code(email)+`"}`)
		return status
	}
	if got := book("a@example.de"); got != http.StatusOK {
		t.Fatalf("central's place: %d", got)
	}
	if got := book("b@example.de"); got != http.StatusConflict {
		t.Fatalf("a second online booking: %d, want 409", got)
	}
	desk := func(code string, slot time.Time) error {
		_, err := b.store.Execute(context.Background(), func(st *queue.State, at time.Time) ([]queue.Event, error) {
			e, err := st.CreateBooking(at, code, "ausweis", slot)
			return []queue.Event{e}, err
		})
		return err
	}
	for i, code := range []string{"DESK0001", "DESK0002"} {
		if err := desk(code, start.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatalf("the site's place %d: %v", i+1, err)
		}
	}
	if err := desk("DESK0003", start); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("a third desk booking: %v, want ECONFLICT", err)
	}
	// The WAN is back: both sides sync.
	b.download()
	b.upload()
	count := func(st *queue.State) int {
		sl, _ := st.SlotOf("ausweis", start)
		return st.Booked("ausweis", sl, true) + st.Booked("ausweis", sl, false)
	}
	b.store.View(func(st *queue.State) {
		if got := count(st); got != 3 {
			t.Errorf("the site has %d bookings in a slot of 3", got)
		}
	})
	if !b.Central.ViewSite(siteID, func(st *queue.State, _ central.SiteCursor) {
		if got := count(st); got != 3 {
			t.Errorf("central sees %d bookings in a slot of 3", got)
		}
	}) {
		t.Fatal("central has no model of the site")
	}
}

// TestReminderOnce: the day before, the site queues one reminder per
// appointment, however often it asks.
func TestReminderOnce(t *testing.T) {
	b := newBookingSite(t)
	sim, err := mailsim.Start("127.0.0.1:0", mailsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	outbox := &mail.Outbox{DB: b.store.Writer(), From: mail.Address{Email: "noreply@veedel.invalid"}, Sender: &mail.Relay{Addr: sim.Addr(), TLS: mail.TLSOff}}
	b.store.UseMail(outbox)
	start := b.slots("2026-03-05")[5].Start // 22 h 50 min after the env's clock
	status, out := b.call(http.MethodPost, "/api/v1/appointments", holdBody(start, "r@example.de"))
	if status != http.StatusCreated {
		t.Fatalf("hold: %d %v", status, out)
	}
	if status, out := b.call(http.MethodPost, "/api/v1/appointments/"+out["token"].(string)+"/confirm", `{"code":"`+b.codes.code("r@example.de")+`"}`); status != http.StatusOK {
		t.Fatalf("confirm: %d %v", status, out)
	}
	b.download()
	for i, want := range []int{1, 0} {
		n, err := b.store.SendDue(context.Background())
		if err != nil || n != want {
			t.Fatalf("SendDue #%d = %d, %v; want %d", i+1, n, err, want)
		}
	}
	if _, err := outbox.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs := sim.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Subject, "Erinnerung") || !strings.Contains(msgs[0].Text, start.In(berlin).Format("15:04")) {
		t.Fatalf("reminders sent: %+v", msgs)
	}
}

// smsGateway records the SMS handed to it.
type smsGateway struct {
	mu   sync.Mutex
	sent []string // "to: text"
}

func (g *smsGateway) Send(_ context.Context, to, text string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sent = append(g.sent, to+": "+text)
	return nil
}

// TestReminderBySMS: booked with a mobile number only, the reminder goes
// out by SMS through the site's sender, once, and the number is gone from
// the site's outbox once it went.
func TestReminderBySMS(t *testing.T) {
	b := newBookingSite(t)
	b.store.UseSMS()
	start := b.slots("2026-03-05")[5].Start // 22 h 50 min after the env's clock
	status, out := b.call(http.MethodPost, "/api/v1/appointments", fmt.Sprintf(`{"site":%q,"service":"ausweis","start":%q,"name":"Jan Nowak","phone":"0151 2345 6789","consent":true}`,
		siteID, start.Format(time.RFC3339)))
	if status != http.StatusCreated {
		t.Fatalf("hold: %d %v", status, out)
	}
	if status, out := b.call(http.MethodPost, "/api/v1/appointments/"+out["token"].(string)+"/confirm", `{"code":"`+b.codes.code("0151 2345 6789")+`"}`); status != http.StatusOK {
		t.Fatalf("confirm: %d %v", status, out)
	}
	b.download()
	for i, want := range []int{1, 0} {
		n, err := b.store.SendDue(context.Background())
		if err != nil || n != want {
			t.Fatalf("SendDue #%d = %d, %v; want %d", i+1, n, err, want)
		}
	}
	gw := &smsGateway{}
	w := &notify.Worker{Store: b.store, Sender: gw, Now: b.Clock.Now}
	for range 2 {
		if err := w.DrainMessages(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(gw.sent) != 1 || !strings.HasPrefix(gw.sent[0], "+4915123456789: Erinnerung") || !strings.Contains(gw.sent[0], start.In(berlin).Format("15:04")) {
		t.Fatalf("SMS sent: %q", gw.sent)
	}
	var left int
	if err := b.store.Writer().QueryRow(`SELECT count(*) FROM message_sms WHERE phone IS NOT NULL OR text IS NOT NULL`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d rows keep a number or text (%v)", left, err)
	}
}

// TestOnlineShareChangeNeverOverbooks: the site changes the online share
// of its slots (3 places, 1 online by default) while offline and online:
// a larger share holds at the site at once and at central once it has the
// setting; a smaller one frees the site's places only when central's
// acknowledgement arrives, after the bookings central sold before it, and
// a hold made under the larger share is not confirmed beyond the smaller
// one. No slot ever holds more than its three places.
func TestOnlineShareChangeNeverOverbooks(t *testing.T) {
	b := newBookingSite(t)
	slots := b.slots("2026-03-05")
	a, c := slots[3].Start, slots[6].Start
	setShare := func(places int) {
		t.Helper()
		if _, err := b.store.Execute(context.Background(), func(st *queue.State, at time.Time) ([]queue.Event, error) {
			return st.SetOnlineShare(at, "ausweis", places)
		}); err != nil {
			t.Fatal(err)
		}
	}
	desk := func(code string, slot time.Time) error {
		_, err := b.store.Execute(context.Background(), func(st *queue.State, at time.Time) ([]queue.Event, error) {
			e, err := st.CreateBooking(at, code, "ausweis", slot)
			return []queue.Event{e}, err
		})
		return err
	}
	free := func(slot time.Time) int {
		for _, sl := range b.slots("2026-03-05") {
			if sl.Start.Equal(slot) {
				return sl.Available
			}
		}
		return -1
	}
	hold := func(email string, slot time.Time) string {
		t.Helper()
		status, out := b.call(http.MethodPost, "/api/v1/appointments", holdBody(slot, email))
		if status != http.StatusCreated {
			t.Fatalf("hold for %s: %d %v", email, status, out)
		}
		return out["token"].(string)
	}
	confirm := func(email, token string) int {
		status, _ := b.call(http.MethodPost, "/api/v1/appointments/"+token+"/confirm", `{"code":"`+b.codes.code(email)+`"}`)
		return status
	}
	count := func(st *queue.State, slot time.Time) int {
		sl, _ := st.SlotOf("ausweis", slot)
		return st.Booked("ausweis", sl, true) + st.Booked("ausweis", sl, false)
	}

	// Two of three online: the site keeps one place at once, offline.
	setShare(2)
	if err := desk("DESK0001", a); err != nil {
		t.Fatal(err)
	}
	if err := desk("DESK0002", a); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("a second desk booking under a larger online share: %v", err)
	}
	if got := free(a); got != 1 {
		t.Fatalf("central sells %d before it has the setting, want 1", got)
	}
	b.upload()
	if got := free(a); got != 2 {
		t.Fatalf("central sells %d with the setting, want 2", got)
	}
	for _, email := range []string{"a1@example.de", "a2@example.de"} {
		if got := confirm(email, hold(email, a)); got != http.StatusOK {
			t.Fatalf("central's place for %s: %d", email, got)
		}
	}
	late := hold("c1@example.de", c) // under the larger share, not yet confirmed

	// None online, set while offline: the site may not book central's
	// places until central says it stopped selling them.
	setShare(0)
	if err := desk("DESK0003", c); err != nil {
		t.Fatal(err)
	}
	if err := desk("DESK0004", c); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("the site booked central's places before central acknowledged: %v", err)
	}
	b.upload() // central has the setting and acknowledges it
	if got := free(c); got != 0 {
		t.Fatalf("central still sells %d after a share of 0", got)
	}
	if got := confirm("c1@example.de", late); got != http.StatusConflict {
		t.Fatalf("a hold beyond the smaller share confirmed: %d, want 409", got)
	}
	b.download()
	for _, code := range []string{"DESK0004", "DESK0005"} {
		if err := desk(code, c); err != nil {
			t.Fatalf("the site's places after the acknowledgement: %v", err)
		}
	}
	// The slot central sold two of: the site has one place, not three.
	if err := desk("DESK0006", a); veedel.ErrorCode(err) != veedel.ECONFLICT {
		t.Fatalf("a desk booking over central's earlier bookings: %v", err)
	}
	b.upload()
	b.download()
	b.store.View(func(st *queue.State) {
		for _, slot := range []time.Time{a, c} {
			if got := count(st, slot); got != 3 {
				t.Errorf("the site has %d bookings at %s, want 3", got, slot.Format("15:04"))
			}
		}
	})
	b.Central.ViewSite(siteID, func(st *queue.State, _ central.SiteCursor) {
		for _, slot := range []time.Time{a, c} {
			if got := count(st, slot); got > 3 {
				t.Errorf("central sees %d bookings at %s in a slot of 3", got, slot.Format("15:04"))
			}
		}
	})
}
