package main

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
)

// A site may be given several central nodes (-central URL,URL,…: the
// nodes of one central cluster, docs/DEPLOY.md), for when no load
// balancer stands in front of them. The uplink and downlink then talk to
// one node at a time and move on to the next when it does not answer
// (connection refused or reset, timeout) or answers 502, 503 or 504.
// Moving is safe at any point: a batch sent again is stored once (central
// knows its entries by seq and hash), and a poll is a read.

// parseCentralURLs splits -central into its URLs: each http(s) with a
// host, all with the same path (only the node differs).
func parseCentralURLs(s string) ([]*url.URL, error) {
	var out []*url.URL
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		u, err := url.Parse(part)
		if err == nil && u.User != nil {
			// Not echoed: it holds a password.
			return nil, usageErrorf("-central: a central URL takes no user or password (sites sign with their key)")
		}
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, usageErrorf("-central %q is not an http(s) address like https://central.example", part)
		}
		if len(out) > 0 && strings.TrimSuffix(u.Path, "/") != strings.TrimSuffix(out[0].Path, "/") {
			return nil, usageErrorf("-central: the nodes' URLs differ in more than scheme, host and port (%q, %q)", out[0].Path, u.Path)
		}
		out = append(out, u)
	}
	return out, nil
}

// centralFailover is an http.RoundTripper that sends each request to the
// current central node of a list and moves to the next on a failure.
type centralFailover struct {
	base  http.RoundTripper
	nodes []*url.URL
	cur   atomic.Int32
	log   *slog.Logger
}

// newCentralFailover wraps base (nil: http.DefaultTransport).
func newCentralFailover(base http.RoundTripper, nodes []*url.URL, log *slog.Logger) *centralFailover {
	if base == nil {
		base = http.DefaultTransport
	}
	return &centralFailover{base: base, nodes: nodes, log: log}
}

// RoundTrip sends req to the current node (its scheme and host replace
// req's; the request is signed over method, path and query, not host).
func (f *centralFailover) RoundTrip(req *http.Request) (*http.Response, error) {
	i := f.cur.Load()
	node := f.nodes[i]
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = node.Scheme, node.Host, ""
	resp, err := f.base.RoundTrip(r)
	failed := err != nil && req.Context().Err() == nil
	if resp != nil {
		switch resp.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			failed = true
		}
	}
	if failed && len(f.nodes) > 1 {
		next := (i + 1) % int32(len(f.nodes))
		if f.cur.CompareAndSwap(i, next) {
			f.log.Warn("central node does not answer: trying the next", "node", node.Host, "next", f.nodes[next].Host, "err", err)
		}
	}
	return resp, err
}

// Current is the node requests go to now.
func (f *centralFailover) Current() *url.URL { return f.nodes[f.cur.Load()] }
