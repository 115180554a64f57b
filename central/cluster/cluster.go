// Package cluster joins several central nodes on one PostgreSQL database
// into a serf cluster (hashicorp/serf, LAN profile, gossip encrypted with a
// keyring): for membership (the admin pages show the nodes), and to fan
// out what one node committed, so that every node's read models, event
// streams and long polls wake within a second (central.Peers). The fan-out
// is best effort: a node that missed events (a partition, a restart)
// catches up from the database, every CatchUpEvery and whenever a member
// joins or leaves (central.Central.CatchUp). serf lives only in this
// package.
package cluster

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/serf/serf"
	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
)

// Defaults.
const (
	// DefaultPort is serf's gossip port (TCP and UDP) unless -serf-bind
	// names another.
	DefaultPort = 7946
	// CatchUpEvery is how often a node compares the database's per-site
	// positions with its own, for what the gossip did not bring.
	CatchUpEvery = 2 * time.Second
	// eventBuffer bounds the serf events waiting for the loop; serf drops
	// none (it blocks), so the loop keeps up by doing little per event.
	eventBuffer = 1024
	// catchUpTimeout bounds one catch-up's reads.
	catchUpTimeout = 10 * time.Second
)

// Tag names and the role of a central node.
const (
	TagRole     = "role"
	TagVersion  = "version"
	TagHTTP     = "http"
	RoleCentral = "central"
)

// User event names (the fan-out).
const (
	eventAdvanced = "veedel-advanced" // site X advanced to seq N
	eventOutbound = "veedel-outbound" // outbound appended for site X
	eventSMS      = "veedel-sms"      // SMS hand-over of site X
)

// Config is a node's part of the cluster.
type Config struct {
	// Name is the node's name in the cluster, unique among the nodes
	// (default: host name and gossip port).
	Name string
	// Bind is the gossip address, HOST:PORT (port 0: any free one).
	Bind string
	// Advertise is the address the others reach this node at (default:
	// Bind's, which must then be a concrete address).
	Advertise string
	// Join are the gossip addresses of nodes already running (any one is
	// enough); none: this node starts the cluster.
	Join []string
	// Key is the gossip encryption key (16, 24 or 32 bytes, ParseKey);
	// nil only on loopback (tests, a laptop).
	Key []byte
	// HTTP is this node's HTTP address for the others and the admin page.
	HTTP string
	// Version is this node's veedel version.
	Version string
	// Logger gets serf's and the cluster's messages.
	Logger *slog.Logger
	// Now is the clock of "last event seen" (default time.Now).
	Now func() time.Time
}

// ParseKey decodes a gossip key given base64 (as `openssl rand -base64
// 32` or `consul keygen` print it): 16, 24 or 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "the serf key is not base64 (make one with: openssl rand -base64 32)")
	}
	switch len(key) {
	case 16, 24, 32:
		return key, nil
	}
	return nil, veedel.Errorf(veedel.EINVALID, "the serf key has %d bytes, it must have 16, 24 or 32 (make one with: openssl rand -base64 32)", len(key))
}

// ParseAddrs splits a comma-separated list of HOST:PORT (PORT defaults to
// DefaultPort).
func ParseAddrs(s string) ([]string, error) {
	var out []string
	for a := range strings.SplitSeq(s, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a); err != nil {
			a = net.JoinHostPort(a, strconv.Itoa(DefaultPort))
		}
		host, port, err := net.SplitHostPort(a)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return nil, veedel.Errorf(veedel.EINVALID, "%q is not HOST:PORT", a)
		}
		out = append(out, a)
	}
	return out, nil
}

// onLoopback reports whether addr's host is a loopback address.
func onLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Tags are a central node's serf tags, parsed.
type Tags struct {
	Role    string
	Version string
	HTTP    string
}

// Map is the tags as serf carries them.
func (t Tags) Map() map[string]string {
	return map[string]string{TagRole: t.Role, TagVersion: t.Version, TagHTTP: t.HTTP}
}

// ParseTags reads a member's tags: a central node's role, a version and
// an http(s) address; anything else is an EINVALID error (a member of
// another kind joined with the same key, or a broken node).
func ParseTags(m map[string]string) (Tags, error) {
	t := Tags{Role: m[TagRole], Version: m[TagVersion], HTTP: m[TagHTTP]}
	if t.Role != RoleCentral {
		return t, veedel.Errorf(veedel.EINVALID, "role %q, want %q", t.Role, RoleCentral)
	}
	if t.Version == "" || len(t.Version) > 64 {
		return t, veedel.Errorf(veedel.EINVALID, "version %q", t.Version)
	}
	u, err := url.Parse(t.HTTP)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(t.HTTP) > 256 {
		return t, veedel.Errorf(veedel.EINVALID, "http address %q", t.HTTP)
	}
	return t, nil
}

// Node is one central node as the cluster sees it.
type Node struct {
	Name string `json:"name"`
	// Addr is its gossip address.
	Addr string `json:"addr"`
	// State: alive, suspect, failed, left (or leaving).
	State   string `json:"state"`
	Version string `json:"version"`
	HTTP    string `json:"http"`
	// TagsError says why its tags are not a central node's.
	TagsError string            `json:"tags_error,omitempty"`
	Tags      map[string]string `json:"tags"`
	Self      bool              `json:"self"`
}

// Cluster is this node's membership. It implements central.Peers.
type Cluster struct {
	cfg    Config
	c      *central.Central
	serf   *serf.Serf
	events chan serf.Event
	log    *slog.Logger

	mu        sync.Mutex
	lastEvent time.Time // the last user event from another node
	lastName  string
	caughtAt  time.Time // the last catch-up that ran to its end
	catchErr  error

	pending map[string]uint8 // sites named by events, to catch up (pendingLog, pendingOutbound)

	kick chan struct{} // pending has sites
	wake chan struct{} // a member joined or left: catch up on everything
	done chan struct{} // closed when Run returns
}

var _ central.Peers = (*Cluster)(nil)

// Start joins the cluster (or starts it) and installs itself as c's
// Peers. Run must then drain its events.
func Start(cfg Config, c *central.Central) (*Cluster, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Key == nil && !onLoopback(cfg.Bind) {
		return nil, veedel.Errorf(veedel.EINVALID, "a cluster on %s needs a gossip key: -serf-key or VEEDEL_SERF_KEY (make one with: openssl rand -base64 32); only on loopback does it run without", cfg.Bind)
	}
	tags := Tags{Role: RoleCentral, Version: cfg.Version, HTTP: cfg.HTTP}
	if _, err := ParseTags(tags.Map()); err != nil {
		return nil, fmt.Errorf("cluster: this node's tags: %w", err)
	}
	host, portS, err := net.SplitHostPort(cfg.Bind)
	if err != nil {
		return nil, veedel.Errorf(veedel.EINVALID, "-serf-bind %q is not HOST:PORT", cfg.Bind)
	}
	port, err := strconv.Atoi(portS)
	if err != nil || port < 0 || port > 65535 {
		return nil, veedel.Errorf(veedel.EINVALID, "-serf-bind %q is not HOST:PORT", cfg.Bind)
	}
	if port == 0 {
		// memberlist takes port 0 as "any" for TCP and UDP apart; find a
		// port free for both.
		if port, err = freePort(host); err != nil {
			return nil, err
		}
	}
	if cfg.Name == "" {
		cfg.Name = net.JoinHostPort(host, strconv.Itoa(port))
	}

	conf := serf.DefaultConfig()
	conf.Init()
	conf.NodeName = cfg.Name
	conf.Tags = tags.Map()
	conf.MemberlistConfig = memberlist.DefaultLANConfig()
	conf.MemberlistConfig.BindAddr, conf.MemberlistConfig.BindPort = host, port
	conf.MemberlistConfig.AdvertisePort = port
	if cfg.Advertise != "" {
		ah, ap, err := net.SplitHostPort(cfg.Advertise)
		n, perr := strconv.Atoi(ap)
		if err != nil || perr != nil {
			return nil, veedel.Errorf(veedel.EINVALID, "-serf-advertise %q is not HOST:PORT", cfg.Advertise)
		}
		conf.MemberlistConfig.AdvertiseAddr, conf.MemberlistConfig.AdvertisePort = ah, n
	}
	if cfg.Key != nil {
		kr, err := memberlist.NewKeyring(nil, cfg.Key)
		if err != nil {
			return nil, veedel.Errorf(veedel.EINVALID, "serf key: %v", err)
		}
		conf.MemberlistConfig.Keyring = kr
		conf.MemberlistConfig.GossipVerifyIncoming = true
		conf.MemberlistConfig.GossipVerifyOutgoing = true
	}
	sl := serfLogger(cfg.Logger)
	conf.Logger = sl
	conf.MemberlistConfig.Logger = sl
	// A failed node is kept on the page for an hour, not serf's day.
	conf.ReconnectTimeout = time.Hour
	conf.TombstoneTimeout = time.Hour
	events := make(chan serf.Event, eventBuffer)
	conf.EventCh = events
	s, err := serf.Create(conf)
	if err != nil {
		return nil, fmt.Errorf("cluster: start serf on %s: %w", cfg.Bind, err)
	}
	cl := &Cluster{cfg: cfg, c: c, serf: s, events: events, log: cfg.Logger, kick: make(chan struct{}, 1), wake: make(chan struct{}, 1), done: make(chan struct{})}
	if len(cfg.Join) > 0 {
		n, err := s.Join(cfg.Join, true)
		if n == 0 {
			// The others may not be up yet: run alone and keep trying
			// (Run), since the database is the truth anyway.
			cl.log.Warn("cluster: joined no node yet, retrying", "join", cfg.Join, "err", err)
		} else {
			cl.log.Info("cluster: joined", "nodes", n)
		}
	}
	c.SetPeers(cl)
	return cl, nil
}

// freePort finds a port free for both TCP and UDP on host.
func freePort(host string) (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, fmt.Errorf("cluster: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort(host, strconv.Itoa(port)))
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, errors.New("cluster: no free gossip port")
}

// serfLogger routes serf's and memberlist's log lines to logger, at debug
// level but for warnings and errors.
func serfLogger(logger *slog.Logger) *log.Logger {
	return log.New(writerFunc(func(p []byte) (int, error) {
		line := strings.TrimSpace(string(p))
		switch {
		case strings.Contains(line, "[ERR]"):
			logger.Error("serf", "msg", line)
		case strings.Contains(line, "[WARN]"):
			logger.Warn("serf", "msg", line)
		default:
			logger.Debug("serf", "msg", line)
		}
		return len(p), nil
	}), "", 0)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

var _ io.Writer = writerFunc(nil)

// Name is this node's name.
func (cl *Cluster) Name() string { return cl.cfg.Name }

// Addr is this node's gossip address.
func (cl *Cluster) Addr() string {
	m := cl.serf.LocalMember()
	return net.JoinHostPort(m.Addr.String(), strconv.Itoa(int(m.Port)))
}

// Run drains serf's events until ctx ends; then it leaves the cluster
// (the others see "left", not "failed") and shuts serf down. The loop
// does nothing slow itself (serf waits while the buffer is full): the
// sites that events name are collected, and a worker reads them from the
// database, together with the periodic catch-up.
func (cl *Cluster) Run(ctx context.Context) {
	defer close(cl.done)
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		if err := cl.serf.Leave(); err != nil {
			cl.log.Warn("cluster: leave", "err", err)
		}
		cl.serf.Shutdown()
	}()
	wg.Go(func() { cl.catchUpLoop(ctx) })
	rejoin := time.NewTicker(10 * CatchUpEvery)
	defer rejoin.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-cl.events:
			cl.handle(e)
		case <-rejoin.C:
			if len(cl.cfg.Join) > 0 && cl.serf.NumNodes() < 2 {
				if n, err := cl.serf.Join(cl.cfg.Join, true); n > 0 {
					cl.log.Info("cluster: joined", "nodes", n)
				} else {
					cl.log.Debug("cluster: join", "err", err)
				}
			}
		}
	}
}

// Kinds of pending catch-up of a site.
const (
	pendingLog      = 1 << iota // the site's log advanced
	pendingOutbound             // its outbound log grew
)

// handle takes one serf event: a member change wakes a full catch-up (a
// node that came back may have committed while it was apart), a user
// event from another node queues a catch-up of the site it names (an SMS
// hand-over wakes this node's polls and pages at once: it reads nothing).
func (cl *Cluster) handle(e serf.Event) {
	switch e := e.(type) {
	case serf.MemberEvent:
		for _, m := range e.Members {
			cl.log.Info("cluster: member "+memberVerb(e.Type), "node", m.Name, "addr", m.Addr.String())
		}
		select {
		case cl.wake <- struct{}{}:
		default:
		}
	case serf.UserEvent:
		origin, site, err := parsePayload(e.Payload)
		if err != nil {
			cl.log.Warn("cluster: malformed event", "name", e.Name, "err", err)
			return
		}
		if origin == cl.cfg.Name {
			return // serf hands a node its own events too
		}
		cl.mu.Lock()
		cl.lastEvent, cl.lastName = cl.cfg.Now(), e.Name
		cl.mu.Unlock()
		var kind uint8
		switch e.Name {
		case eventAdvanced:
			kind = pendingLog
		case eventOutbound:
			kind = pendingOutbound
		case eventSMS:
			cl.c.SMSChanged(site)
			return
		default:
			return
		}
		cl.mu.Lock()
		if cl.pending == nil {
			cl.pending = map[string]uint8{}
		}
		cl.pending[site] |= kind
		cl.mu.Unlock()
		select {
		case cl.kick <- struct{}{}:
		default:
		}
	}
}

// catchUpLoop reads from the database what the events named, every
// CatchUpEvery all sites' positions, and everything when a member joined
// or left.
func (cl *Cluster) catchUpLoop(ctx context.Context) {
	tick := time.NewTicker(CatchUpEvery)
	defer tick.Stop()
	full := func() {
		cctx, cancel := context.WithTimeout(ctx, catchUpTimeout)
		defer cancel()
		sites, err := cl.c.CatchUp(cctx)
		cl.mu.Lock()
		cl.catchErr = err
		if err == nil {
			cl.caughtAt = cl.cfg.Now()
		}
		cl.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			cl.log.Error("cluster: catch up from the database", "err", err)
		} else if len(sites) > 0 {
			// The gossip missed these (or was slower than the tick).
			cl.log.Info("cluster: caught up from the database", "sites", sites)
		}
	}
	full()
	for {
		select {
		case <-ctx.Done():
			return
		case <-cl.kick:
			cl.mu.Lock()
			pending := cl.pending
			cl.pending = nil
			cl.mu.Unlock()
			for site, kind := range pending {
				cctx, cancel := context.WithTimeout(ctx, catchUpTimeout)
				if kind&pendingLog != 0 {
					if _, err := cl.c.CatchUpSite(cctx, site, time.Time{}); err != nil && ctx.Err() == nil {
						cl.log.Error("cluster: catch up site", "site", site, "err", err)
					}
				}
				if kind&pendingOutbound != 0 {
					if err := cl.c.CatchUpOutbound(cctx, site); err != nil && ctx.Err() == nil {
						cl.log.Error("cluster: catch up outbound", "site", site, "err", err)
					}
				}
				cancel()
			}
		case <-cl.wake:
			full()
		case <-tick.C:
			full()
		}
	}
}

func memberVerb(t serf.EventType) string {
	switch t {
	case serf.EventMemberJoin:
		return "joined"
	case serf.EventMemberLeave:
		return "left"
	case serf.EventMemberFailed:
		return "failed"
	case serf.EventMemberUpdate:
		return "updated"
	case serf.EventMemberReap:
		return "reaped"
	}
	return "changed"
}

// The payload of a user event: the origin node's name and the site, one
// line each (serf bounds a user event at 512 bytes; both are short).
func payload(origin, site string) []byte { return []byte(origin + "\n" + site) }

func parsePayload(p []byte) (origin, site string, err error) {
	origin, site, ok := strings.Cut(string(p), "\n")
	if !ok || origin == "" || site == "" || strings.Contains(site, "\n") {
		return "", "", errors.New("not origin and site")
	}
	return origin, site, nil
}

// fire sends a user event; a failure is logged, the catch-up covers it.
func (cl *Cluster) fire(name, site string) {
	if err := cl.serf.UserEvent(name, payload(cl.cfg.Name, site), false); err != nil {
		cl.log.Warn("cluster: fan out", "event", name, "site", site, "err", err)
	}
}

// SiteAdvanced tells the others that site's log is stored further
// (central.Peers).
func (cl *Cluster) SiteAdvanced(site string, acked uint64) { cl.fire(eventAdvanced, site) }

// OutboundAppended tells the others that site's outbound log grew
// (central.Peers).
func (cl *Cluster) OutboundAppended(site string) { cl.fire(eventOutbound, site) }

// SMSHandover tells the others that a hand-over of site changed
// (central.Peers).
func (cl *Cluster) SMSHandover(site string) { cl.fire(eventSMS, site) }

// Status is the cluster as one node sees it: GET /api/v1/cluster.
type Status struct {
	// Self is this node's name.
	Self  string `json:"self"`
	Nodes []Node `json:"nodes"`
	// LastEvent is when this node last heard a fan-out event of another
	// node, and its name.
	LastEvent     time.Time `json:"last_event,omitzero"`
	LastEventName string    `json:"last_event_name,omitempty"`
	// CaughtUpAt is this node's last complete catch-up from the database.
	CaughtUpAt time.Time `json:"caught_up_at,omitzero"`
	CatchUpErr string    `json:"catch_up_error,omitempty"`
	Encrypted  bool      `json:"encrypted"`
}

// Status reports the members and this node's fan-out.
func (cl *Cluster) Status() Status {
	suspect := map[string]bool{}
	for _, n := range cl.serf.Memberlist().Members() {
		if n.State == memberlist.StateSuspect {
			suspect[n.Name] = true
		}
	}
	var st Status
	st.Self, st.Encrypted = cl.cfg.Name, cl.serf.EncryptionEnabled()
	for _, m := range cl.serf.Members() {
		n := Node{Name: m.Name, Addr: net.JoinHostPort(m.Addr.String(), strconv.Itoa(int(m.Port))), Tags: m.Tags, Self: m.Name == cl.cfg.Name}
		switch m.Status {
		case serf.StatusAlive:
			n.State = "alive"
			if suspect[m.Name] {
				n.State = "suspect"
			}
		case serf.StatusLeaving:
			n.State = "leaving"
		case serf.StatusLeft:
			n.State = "left"
		case serf.StatusFailed:
			n.State = "failed"
		default:
			n.State = "unknown"
		}
		t, err := ParseTags(m.Tags)
		n.Version, n.HTTP = t.Version, t.HTTP
		if err != nil {
			n.TagsError = veedel.ErrorMessage(err)
		}
		st.Nodes = append(st.Nodes, n)
	}
	slices.SortFunc(st.Nodes, func(a, b Node) int { return strings.Compare(a.Name, b.Name) })
	cl.mu.Lock()
	st.LastEvent, st.LastEventName, st.CaughtUpAt = cl.lastEvent, cl.lastName, cl.caughtAt
	if cl.catchErr != nil {
		st.CatchUpErr = cl.catchErr.Error()
	}
	cl.mu.Unlock()
	return st
}
