package queue

import (
	"slices"
	"time"

	"github.com/veedel/veedel"
)

// The online share: how many places of each slot of a service central may
// sell online; the site's staff book the rest. The site sets it (at
// /desk/setup), as an event of its log, so that central and the site agree
// on it. Neither side may overbook the other while the WAN is down, also
// while the share changes:
//
//   - Central sells by the newest setting it has received: it receives
//     a setting before it can use it.
//   - The site books by the largest online share central may still be
//     using: every setting from the one central last acknowledged to the
//     newest. Central acknowledges a setting (OnlineShareAcked, in the
//     site's outbound log) once it sells by it, after every booking it sold
//     before; the site takes the acknowledgement over as its own event.
//
// So a larger online share (the site gives places to central) holds at the
// site at once; a smaller one frees the site's places only once central's
// acknowledgement arrives, and the bookings central sold before it are
// there by then. A slot's online bookings beyond a new, smaller share
// still take their places (checkSiteShare).

// Event types: part of the wire format, never renamed.
const (
	// TypeOnlineShareSet is the site's: a service's online share.
	TypeOnlineShareSet = "queue.online_share_set"
	// TypeOnlineShareAcked comes from central: it sells by that setting
	// now. The site takes it over as its own event.
	TypeOnlineShareAcked = "queue.online_share_acked"
)

// ShareDefault as Places is the default share, half of each slot's
// places (OnlineShare).
const ShareDefault = -1

// MaxOnlineShare bounds a setting's places.
const MaxOnlineShare = 99

// OnlineShareSet sets a service's online share: Places of each slot
// (ShareDefault: half; never more than the slot's places). Version counts
// the service's settings from 1.
type OnlineShareSet struct {
	Service string `cbor:"1,keyasint" json:"service"`
	Places  int    `cbor:"2,keyasint" json:"places"`
	Version uint64 `cbor:"3,keyasint" json:"version"`
}

// OnlineShareAcked says central sells by the setting of Version.
type OnlineShareAcked struct {
	Service string `cbor:"1,keyasint"`
	Version uint64 `cbor:"2,keyasint"`
}

// ShareHistory is what a state knows of a service's online share: the
// settings from the acknowledged one (or the default, version 0) to the
// newest, in order.
type ShareHistory struct {
	Settings []OnlineShareSet `json:"settings"`
	Acked    uint64           `json:"acked"`
}

func (h *ShareHistory) latest() OnlineShareSet { return h.Settings[len(h.Settings)-1] }

func resolveShare(places, capacity int) int {
	if places < 0 {
		return OnlineShare(capacity)
	}
	return min(places, capacity)
}

// OnlineShareOf is the online share of a slot of service with capacity
// places: at central the newest setting it has (what it sells by), at
// the site the largest central may still be selling by.
func (s *State) OnlineShareOf(service string, capacity int) int {
	h := s.shares[service]
	if h == nil {
		return OnlineShare(capacity)
	}
	if s.AtCentral {
		return resolveShare(h.latest().Places, capacity)
	}
	share := 0
	for _, v := range h.Settings {
		share = max(share, resolveShare(v.Places, capacity))
	}
	return share
}

// OnlineSetting returns the places of service's newest setting
// (ShareDefault when none) and whether central has acknowledged it.
func (s *State) OnlineSetting(service string) (places int, acked bool) {
	h := s.shares[service]
	if h == nil {
		return ShareDefault, true
	}
	return h.latest().Places, h.Acked == h.latest().Version
}

// SharesToAck returns, per service, the newest setting's version when
// central has not acknowledged it (as far as this fold knows).
func (s *State) SharesToAck() map[string]uint64 {
	out := map[string]uint64{}
	for id, h := range s.shares {
		if v := h.latest().Version; v > h.Acked {
			out[id] = v
		}
	}
	return out
}

// SetOnlineShare sets service's online share to places of each slot
// (ShareDefault: half). No event when it is so already.
func (s *State) SetOnlineShare(at time.Time, service string, places int) ([]Event, error) {
	if s.Services[service] == nil {
		return nil, veedel.Errorf(veedel.EINVALID, "Unbekanntes Anliegen %q / unknown service", service)
	}
	if places < ShareDefault || places > MaxOnlineShare {
		return nil, &veedel.Error{Code: veedel.EINVALID, Message: "Online-Plätze: 0 bis 99 / online places: 0 to 99",
			Fields: map[string]string{"online-" + service: "0 bis 99 / 0 to 99"}}
	}
	var version uint64 = 1
	if h := s.shares[service]; h != nil {
		if h.latest().Places == places {
			return nil, nil
		}
		version = h.latest().Version + 1
	} else if places == ShareDefault {
		return nil, nil
	}
	return []Event{{Type: TypeOnlineShareSet, Entity: "service/" + service, At: at,
		Payload: &OnlineShareSet{Service: service, Places: places, Version: version}}}, nil
}

// AcceptShareAck takes over central's acknowledgement of a setting; none
// when the site has it already or knows no such setting.
func (s *State) AcceptShareAck(at time.Time, p OnlineShareAcked) ([]Event, error) {
	h := s.shares[p.Service]
	if h == nil || p.Version <= h.Acked || p.Version > h.latest().Version {
		return nil, nil
	}
	return []Event{{Type: TypeOnlineShareAcked, Entity: "service/" + p.Service, At: at, Payload: &p}}, nil
}

func (s *State) applyOnlineShareSet(p *OnlineShareSet) {
	h := s.shares[p.Service]
	if h == nil {
		h = &ShareHistory{Settings: []OnlineShareSet{{Service: p.Service, Places: ShareDefault}}}
		if s.shares == nil {
			s.shares = map[string]*ShareHistory{}
		}
		s.shares[p.Service] = h
	}
	if p.Version <= h.latest().Version {
		return
	}
	h.Settings = append(h.Settings, *p)
}

func (s *State) applyOnlineShareAcked(p *OnlineShareAcked) {
	h := s.shares[p.Service]
	if h == nil || p.Version <= h.Acked {
		return
	}
	h.Acked = p.Version
	h.Settings = slices.DeleteFunc(h.Settings, func(v OnlineShareSet) bool { return v.Version < p.Version })
}

func (s *State) snapshotShares() map[string]ShareHistory {
	if len(s.shares) == 0 {
		return nil
	}
	out := map[string]ShareHistory{}
	for id, h := range s.shares {
		out[id] = ShareHistory{Settings: slices.Clone(h.Settings), Acked: h.Acked}
	}
	return out
}

func (s *State) restoreShares(m map[string]ShareHistory) {
	s.shares = nil
	for id, h := range m {
		if len(h.Settings) == 0 {
			continue
		}
		if s.shares == nil {
			s.shares = map[string]*ShareHistory{}
		}
		s.shares[id] = &ShareHistory{Settings: slices.Clone(h.Settings), Acked: h.Acked}
	}
}
