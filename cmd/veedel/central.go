package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

type centralConfig struct {
	DB       string
	Listen   string
	Logger   *slog.Logger
	Listener net.Listener // optional, overrides Listen (tests)
	Now      func() time.Time
}

type centralNode struct {
	cfg      centralConfig
	store    *sqlite.Store
	Central  *central.Central
	listener net.Listener
	URL      string
}

// openCentral opens central's store, loads the read models and binds the
// listener. Run serves.
func openCentral(ctx context.Context, cfg centralConfig) (*centralNode, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(filepath.Dir(cfg.DB), 0o750); err != nil {
		return nil, err
	}
	store, err := sqlite.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	c, err := central.New(ctx, store, cfg.Now, cfg.Logger)
	if err != nil {
		store.Close()
		return nil, err
	}
	l := cfg.Listener
	if l == nil {
		if l, err = net.Listen("tcp", cfg.Listen); err != nil {
			store.Close()
			return nil, usageErrorf("cannot listen on %s: %v", cfg.Listen, err)
		}
	}
	return &centralNode{cfg: cfg, store: store, Central: c, listener: l, URL: "http://" + l.Addr().String()}, nil
}

// Run serves until ctx ends, then closes the store.
func (n *centralNode) Run(ctx context.Context) error {
	defer n.store.Close()
	renderer, err := ui.NewRenderer()
	if err != nil {
		n.listener.Close()
		return err
	}
	srv := &server.Server{Central: n.Central, Renderer: renderer, Logger: n.cfg.Logger, Now: n.cfg.Now}
	httpSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	return web.Serve(ctx, httpSrv, n.listener)
}

func runCentral(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("central", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./var", "directory for central's SQLite file")
	listen := fs.String("listen", "127.0.0.1:8080", "address for the portal, the API and sync")
	verbose := fs.Bool("v", false, "log every request")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: veedel central [flags]

Runs the central node: the citizen portal (/), ticket status pages (/t/…),
the JSON API (/api/v1) and the sync endpoint appliances push to.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	node, err := openCentral(ctx, centralConfig{DB: filepath.Join(*data, "central.db"), Listen: *listen, Logger: newLogger(stderr, *verbose)})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "central listening on %s\n", node.URL)
	return node.Run(ctx)
}
