package queue

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// SnapshotVersion changes whenever Snapshot's shape does; Restore refuses
// other versions, and the store then folds the whole log instead.
// Version 2 added ticket classes, slots, targets, start and call-back
// times, and bookings; Restore still reads version 1 (none of those).
// Version 3 added the site's walk-in hours; a version 1 or 2 snapshot
// restores without them (walk-ins whenever open), as its builds knew none.
// The bump keeps older builds from restoring a version 3 snapshot and
// dropping the walk-in hours: they fold the log instead.
// Version 4 added the devices' health; older snapshots restore without
// it (the next report fills it in).
// Version 5 added service groups (and each service's group); older
// snapshots restore without any (every service numbers with its own
// prefix, as their builds did). The bump keeps older builds from
// restoring a version 5 snapshot and dropping the groups.
// Version 6 added what the estimator learned over the days (Learned) and
// the estimate each ticket was shown; older snapshots restore without
// them (the estimator learns afresh, as a new site does).
// Version 7 added the online share settings (OnlineShares); older
// snapshots restore without them (the default share), as their builds
// knew none.
const SnapshotVersion = 7

// Snapshot is a State frozen into plain data, so that a site can start from
// it instead of folding its whole change-log, and can compact old entries
// away. Restore(s.Snapshot()) behaves exactly like s for every later event.
type Snapshot struct {
	Version  int               `json:"version"`
	Site     siteSnapshot      `json:"site"`
	Services []serviceSnapshot `json:"services"`
	Counters []Counter         `json:"counters"`
	Tickets  []Ticket          `json:"tickets"`
	Day      string            `json:"day"`
	Waiting  []string          `json:"waiting"`
	Numbers  map[string]int    `json:"numbers"`
	Recent   []Call            `json:"recent"`
	Applied  uint64            `json:"applied"`
	// Last is the latest event time folded in (zero in older snapshots).
	Last time.Time `json:"last,omitzero"`
	// Bookings are the known appointments, by code (since version 2).
	Bookings []Booking `json:"bookings,omitempty"`
	// Devices are the devices' health in order of first report (since
	// version 4).
	Devices []Device `json:"devices,omitempty"`
	// Groups are the service groups in order of definition (since
	// version 5; the services carry their group).
	Groups []Group `json:"groups,omitempty"`
	// Learned is what the estimator learned over the days (since
	// version 6).
	Learned *Learned `json:"learned,omitempty"`
	// OnlineShares are the services' online share settings (since
	// version 7).
	OnlineShares map[string]ShareHistory `json:"online_shares,omitempty"`
}

type siteSnapshot struct {
	ID       string         `json:"id"`
	Name     string         `json:"name"`
	TimeZone string         `json:"time_zone"`
	Hours    []OpeningHours `json:"hours"`
	// WalkIn are the walk-in hours (since version 3).
	WalkIn []OpeningHours `json:"walk_in,omitempty"`
}

type serviceSnapshot struct {
	Service
	Durations []time.Duration `json:"durations"`
}

// Snapshot freezes the state. Services and counters keep their order of
// definition.
func (s *State) Snapshot() Snapshot {
	snap := Snapshot{
		Version: SnapshotVersion,
		Site:    siteSnapshot{ID: s.Site.ID, Name: s.Site.Name, TimeZone: s.Site.Location.String(), Hours: s.Site.Hours, WalkIn: s.Site.WalkIn},
		Day:     s.Day, Waiting: append([]string(nil), s.waiting...), Numbers: map[string]int{},
		Recent: append([]Call(nil), s.recent...), Applied: s.Applied,
	}
	if !s.last.IsZero() {
		snap.Last = s.last.UTC()
	}
	for i := range snap.Recent {
		snap.Recent[i].At = snap.Recent[i].At.UTC()
	}
	for _, id := range s.ServiceOrder {
		svc := s.Services[id]
		snap.Services = append(snap.Services, serviceSnapshot{Service: *svc, Durations: append([]time.Duration(nil), svc.durations...)})
	}
	for _, id := range s.CounterOrder {
		snap.Counters = append(snap.Counters, *s.Counters[id])
	}
	for _, id := range s.GroupOrder {
		snap.Groups = append(snap.Groups, *s.Groups[id])
	}
	// Tickets in order of issue, so that a snapshot of the same state is
	// always the same bytes.
	for _, t := range s.Tickets {
		c := *t
		c.IssuedAt, c.CalledAt, c.FinishedAt = c.IssuedAt.UTC(), c.CalledAt.UTC(), c.FinishedAt.UTC()
		c.Slot, c.FirstCalledAt, c.LastCalledAt, c.StartedAt = c.Slot.UTC(), c.FirstCalledAt.UTC(), c.LastCalledAt.UTC(), c.StartedAt.UTC()
		snap.Tickets = append(snap.Tickets, c)
	}
	slices.SortFunc(snap.Tickets, func(a, b Ticket) int {
		if c := a.IssuedAt.Compare(b.IssuedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	for k, v := range s.numbers {
		snap.Numbers[k] = v
	}
	for _, b := range s.bookings {
		c := *b
		c.Slot = c.Slot.UTC()
		snap.Bookings = append(snap.Bookings, c)
	}
	slices.SortFunc(snap.Bookings, func(a, b Booking) int { return strings.Compare(a.Code, b.Code) })
	snap.Devices = s.snapshotDevices()
	snap.Learned = s.learn.clone()
	snap.OnlineShares = s.snapshotShares()
	return snap
}

// Restore thaws a snapshot into a State.
func Restore(snap Snapshot) (*State, error) {
	if snap.Version < 1 || snap.Version > SnapshotVersion {
		return nil, fmt.Errorf("queue: snapshot version %d, this build reads %d", snap.Version, SnapshotVersion)
	}
	s := NewState(snap.Site.ID)
	s.Site.Name, s.Site.Hours, s.Site.WalkIn = snap.Site.Name, snap.Site.Hours, snap.Site.WalkIn
	if snap.Site.TimeZone != "" {
		loc, err := time.LoadLocation(snap.Site.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("queue: snapshot time zone: %w", err)
		}
		s.Site.Location = loc
	}
	for _, ss := range snap.Services {
		svc := ss.Service
		svc.durations = ss.Durations
		s.Services[svc.ID] = &svc
		s.ServiceOrder = append(s.ServiceOrder, svc.ID)
	}
	for i := range snap.Groups {
		g := snap.Groups[i]
		s.Groups[g.ID] = &g
		s.GroupOrder = append(s.GroupOrder, g.ID)
	}
	for i := range snap.Counters {
		c := snap.Counters[i]
		s.Counters[c.ID] = &c
		s.CounterOrder = append(s.CounterOrder, c.ID)
	}
	for i := range snap.Tickets {
		t := snap.Tickets[i]
		t.IssuedAt, t.CalledAt, t.FinishedAt = asFolded(t.IssuedAt), asFolded(t.CalledAt), asFolded(t.FinishedAt)
		t.Slot, t.FirstCalledAt, t.LastCalledAt, t.StartedAt = asFolded(t.Slot), asFolded(t.FirstCalledAt), asFolded(t.LastCalledAt), asFolded(t.StartedAt)
		if snap.Version == 1 && t.FirstCalledAt.IsZero() {
			// Version 1 knew one call time per ticket.
			t.FirstCalledAt, t.LastCalledAt = t.CalledAt, t.CalledAt
		}
		s.Tickets[t.ID] = &t
		s.byToken[t.Token] = t.ID
		if !t.CalledAt.IsZero() {
			s.called = append(s.called, t.ID)
		}
	}
	for _, id := range snap.Waiting {
		if s.Tickets[id] == nil {
			return nil, fmt.Errorf("queue: snapshot lists unknown waiting ticket %s", id)
		}
	}
	for i := range snap.Recent {
		snap.Recent[i].At = asFolded(snap.Recent[i].At)
	}
	s.Day, s.waiting, s.recent, s.Applied = snap.Day, snap.Waiting, snap.Recent, snap.Applied
	s.last = asFolded(snap.Last)
	for k, v := range snap.Numbers {
		s.numbers[k] = v
	}
	for i := range snap.Bookings {
		b := snap.Bookings[i]
		b.Slot = asFolded(b.Slot)
		s.bookings[b.Code] = &b
	}
	s.restoreDevices(snap.Devices)
	s.learn = snap.Learned.clone()
	s.restoreShares(snap.OnlineShares)
	return s, nil
}

// asFolded gives a restored time the form a fold gives it (event times come
// from time.UnixMilli, in time.Local), so that a restored state equals a
// folded one field for field, not just instant for instant.
func asFolded(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMilli(t.UnixMilli())
}
