package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/veedel/veedel/appliance/notify"
	"github.com/veedel/veedel/appliance/registration"

	"github.com/veedel/veedel/internal/mail/mailsim"
	"github.com/veedel/veedel/internal/ratelimit"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/central/business"
	"github.com/veedel/veedel/central/cluster"
	"github.com/veedel/veedel/central/postgres"
	"github.com/veedel/veedel/central/server"
	"github.com/veedel/veedel/central/sqlite"
	"github.com/veedel/veedel/internal/mail"
	"github.com/veedel/veedel/internal/payment"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/ui"
)

type centralConfig struct {
	// DB is central's database: a PostgreSQL URL (postgres://…) or the
	// path of its SQLite file.
	DB     string
	Listen string
	// Brand is the city's name, logo and colours (nil: Cologne's).
	Brand    *ui.Brand
	Logger   *slog.Logger
	Listener net.Listener // optional, overrides Listen (tests)
	Now      func() time.Time
	// TLSCert and TLSKey are PEM files; with both set central serves
	// HTTPS (trust.go), with neither plain HTTP.
	TLSCert, TLSKey string
	// PublicURL is the portal's public address, for the links in the open
	// data; "" = the address each request was sent to.
	PublicURL string
	// Releases is the directory of release bundles the update channel
	// hands out ("": none).
	Releases string
	// PlateLimit bounds the Wunschkennzeichen one client reserves (zero:
	// the portal's default; the fault suite's one client reserves for
	// everyone).
	PlateLimit ratelimit.Limit
	// Timeouts bound slow clients (zero: web.DefaultTimeouts; tests
	// shorten them).
	Timeouts web.Timeouts
	// Admins are created (or their passwords reset) at start, e.g. the
	// demo's; Role is admin or technician.
	Admins []userSpec
	// Mail is how central e-mails citizens (nil or no relay: it does not).
	Mail *mailConfig
	// CivilStatusSite owns the civil-status certificates (the Standesamt);
	// "": they go to the site the citizen chose.
	CivilStatusSite string
	// Mount are extra handlers by path prefix (the demo's /sim/mail/).
	Mount map[string]http.Handler
	// PaymentProvider is the payment provider's base URL and
	// PaymentSecret the secret shared with it (internal/payment): with
	// both, citizens may pay orders online. DemoPayments mounts the demo
	// provider at /sim/pay/ and uses it (with PaymentSecret).
	PaymentProvider string
	PaymentSecret   []byte
	DemoPayments    bool
	// SMSSender sends central's SMS to citizens (an appointment's code
	// and confirmation to a mobile number); nil: none (-sms-gateway).
	SMSSender notify.Sender
	// Cluster joins this node to the other central nodes on the same
	// PostgreSQL database (central/cluster); nil: this node alone.
	Cluster *clusterConfig
	// Plates configures the number plates (zero: plates' defaults).
	Plates plateConfig
	// WebhookAllowPrivate lets the business portal's webhooks reach
	// loopback and private networks, over http:// too
	// (-webhook-allow-private: the demo, tests; never in production).
	WebhookAllowPrivate bool
	// VehicleRoutes send i-Kfz applications by the owner's postcode to
	// a registration site (-vehicle-routes; central/vehicle_routing.go).
	VehicleRoutes []central.VehicleRoute
}

// clusterConfig is a node's part of a cluster of central nodes.
type clusterConfig struct {
	Bind string   // gossip address, HOST:PORT
	Join []string // gossip addresses of running nodes
	Key  []byte   // gossip key (nil only on loopback)
}

// plateConfig is how central hands out Cologne's plates (appliance/plates).
type plateConfig struct {
	Sites      []string      // sites that get blocks (nil: the directory's registration sites)
	BlockSize  int           // plates per block (0: 200)
	LowWater   int           // refill at or below this many (0: 50)
	ReserveFor time.Duration // a Wunschkennzeichen's reservation (0: 90 days)
	Blocked    []string      // letter combinations not issued (nil: vehicle.DefaultBlocked)
	Every      time.Duration // refill check at least this often (0: 5 s)
}

// simPayPath is where the demo payment provider is mounted.
const simPayPath = "/sim/pay/"

type centralNode struct {
	cfg      centralConfig
	store    centralStore
	Central  *central.Central
	listener net.Listener
	tls      *tls.Config // nil: plain HTTP
	URL      string
	outbox   *mail.Outbox // nil: no e-mail
	mailSim  *mailsim.Sim // tests: the stand-in relay of the outbox
}

// openCentral opens central's store, loads the read models and binds the
// listener. Run serves.
func openCentral(ctx context.Context, cfg centralConfig) (*centralNode, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var tlsConfig *tls.Config
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		if cfg.TLSCert == "" || cfg.TLSKey == "" {
			return nil, usageErrorf("central: -tls-cert and -tls-key go together")
		}
		var err error
		if tlsConfig, err = serverTLS(cfg.TLSCert, cfg.TLSKey); err != nil {
			return nil, err
		}
	}
	sendsMail := cfg.Mail != nil && cfg.Mail.Relay != ""
	if cfg.Cluster != nil && !postgres.IsURL(cfg.DB) {
		return nil, usageErrorf("central: -serf-bind joins central nodes on one PostgreSQL database: give -db postgres://… (on SQLite central is one node)")
	}
	store, err := openStore(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	c, err := central.New(ctx, store, cfg.Now, cfg.Logger)
	if err != nil {
		store.Close()
		return nil, err
	}
	c.Workflow(registration.Prefix).(*registration.Central).CivilStatusSite = cfg.CivilStatusSite
	pm := c.Plates()
	pm.BlockSize, pm.LowWater, pm.ReserveFor, pm.Blocked = cfg.Plates.BlockSize, cfg.Plates.LowWater, cfg.Plates.ReserveFor, cfg.Plates.Blocked
	pm.SetSites(cfg.Plates.Sites)
	c.SetVehicleRoutes(cfg.VehicleRoutes)
	for _, a := range cfg.Admins {
		if err := store.CreateAdmin(ctx, a.Name, a.Role, a.Password, time.Now()); err != nil {
			store.Close()
			return nil, err
		}
	}
	l := cfg.Listener
	if l == nil {
		if l, err = net.Listen("tcp", cfg.Listen); err != nil {
			store.Close()
			return nil, usageErrorf("cannot listen on %s: %v", cfg.Listen, err)
		}
	}
	scheme := "http://"
	if tlsConfig != nil {
		scheme = "https://"
	}
	var mailStore mailDB // the outbox's table is in central's database
	if sendsMail {
		mailStore = store.(mailDB)
	}
	outbox, err := cfg.Mail.outbox(mailStore, cfg.Logger)
	if err != nil {
		store.Close()
		l.Close()
		return nil, err
	}
	if outbox != nil {
		outbox.Postgres = postgres.IsURL(cfg.DB)
	}
	return &centralNode{cfg: cfg, store: store, Central: c, listener: l, tls: tlsConfig, URL: scheme + l.Addr().String(), outbox: outbox}, nil
}

// Run serves until ctx ends, then closes the store.
func (n *centralNode) Run(ctx context.Context) error {
	defer n.store.Close()
	renderer, err := ui.NewRenderer()
	if err != nil {
		n.listener.Close()
		return err
	}
	renderer.SetBrand(n.cfg.Brand)
	srv := &server.Server{Central: n.Central, Renderer: renderer, Logger: n.cfg.Logger, Now: n.cfg.Now, PublicURL: n.cfg.PublicURL, Releases: n.cfg.Releases, PlateLimit: n.cfg.PlateLimit}
	srv.Authorize = srv.AuthorizeSite // download polls signed by their site (trust.go)
	var wg sync.WaitGroup
	defer wg.Wait()
	if cc := n.cfg.Cluster; cc != nil {
		cl, err := cluster.Start(cluster.Config{Bind: cc.Bind, Join: cc.Join, Key: cc.Key, HTTP: n.URL,
			Version: veedel.Version, Logger: n.cfg.Logger, Now: n.cfg.Now}, n.Central)
		if err != nil {
			n.listener.Close()
			return err
		}
		n.cfg.Logger.Info("central node in the cluster", "node", cl.Name(), "gossip", cl.Addr(), "join", cc.Join)
		srv.Cluster = cl
		// Stopped after the HTTP server (defers run last to first): the
		// node leaves the cluster once it takes no more requests.
		cctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		wg.Go(func() { cl.Run(cctx) })
		defer stop()
	} else if postgres.IsURL(n.cfg.DB) {
		// Other nodes may write to this database without a cluster to
		// tell this one: follow it.
		wg.Go(func() { n.Central.FollowStore(ctx, cluster.CatchUpEvery) })
	}
	// Work that runs once per cluster runs under the database's lock
	// (postgres.Store.Lead; on SQLite, here).
	if n.outbox != nil {
		wg.Go(func() { n.store.Lead(ctx, "mail-outbox", n.cfg.Logger, n.outbox.Run) })
	}
	if n.outbox != nil || n.cfg.SMSSender != nil {
		srv.Notify = citizenNotifier{outbox: n.outbox, sms: n.cfg.SMSSender}
	} else {
		n.cfg.Logger.Warn("neither -smtp nor -sms-gateway: central sends citizens nothing, and online booking answers 503")
	}
	wg.Go(func() { srv.ExpireHolds(ctx, time.Minute) })
	// Snapshots of the read models, so that a start folds only what came
	// after the last (central/snapshot.go); one node of a cluster takes
	// them.
	wg.Go(func() {
		n.store.Lead(ctx, "read-model-snapshots", n.cfg.Logger, func(ctx context.Context) { n.Central.RunSnapshots(ctx, 0, 0, 0) })
	})
	// The business portal (central/business): its tables are in central's
	// database; the webhook sender runs once per cluster.
	if db, ok := n.store.(mailDB); ok {
		key, err := n.Central.BusinessKey(ctx)
		if err != nil {
			n.listener.Close()
			if ctx.Err() != nil {
				return nil // stopped while starting
			}
			return err
		}
		srv.Business = &business.Store{DB: db.Writer(), Postgres: postgres.IsURL(n.cfg.DB)}
		srv.WebhookAllowPrivate = n.cfg.WebhookAllowPrivate
		srv.Webhooks = &business.Sender{Store: srv.Business, Key: key, Now: n.cfg.Now, Logger: n.cfg.Logger, AllowPrivate: n.cfg.WebhookAllowPrivate}
		wg.Go(func() { n.store.Lead(ctx, "business-webhooks", n.cfg.Logger, srv.Webhooks.Run) })
	}
	mounts := maps.Clone(n.cfg.Mount)
	if provider := n.cfg.PaymentProvider; (provider != "" || n.cfg.DemoPayments) && len(n.cfg.PaymentSecret) > 0 {
		if n.cfg.DemoPayments {
			if mounts == nil {
				mounts = map[string]http.Handler{}
			}
			mounts[simPayPath] = http.StripPrefix(strings.TrimSuffix(simPayPath, "/"), &payment.Demo{Secret: n.cfg.PaymentSecret, Now: n.cfg.Now})
			provider = n.URL + strings.TrimSuffix(simPayPath, "/")
		}
		srv.Payments = &server.Payments{Provider: &payment.Client{BaseURL: provider, Secret: n.cfg.PaymentSecret, Now: n.cfg.Now}, Secret: n.cfg.PaymentSecret}
		wg.Go(func() {
			n.store.Lead(ctx, "payments-expiry", n.cfg.Logger, func(ctx context.Context) { srv.ExpirePayments(ctx, time.Minute) })
		})
	}
	plateEvery := n.cfg.Plates.Every
	if plateEvery <= 0 {
		plateEvery = 5 * time.Second
	}
	wg.Go(func() { n.Central.RunPlates(ctx, plateEvery) })
	// i-Kfz files past their keeping time go (central/vehicle.go).
	wg.Go(func() {
		n.store.Lead(ctx, "vehicle-file-erasure", n.cfg.Logger, func(ctx context.Context) { n.Central.RunVehicleErasure(ctx, time.Hour) })
	})
	handler := srv.Handler()
	if len(mounts) > 0 {
		mux := http.NewServeMux()
		for prefix, h := range mounts {
			mux.Handle(prefix, h)
		}
		mux.Handle("/", handler)
		handler = mux
	}
	httpSrv := web.NewServer(handler, n.cfg.Timeouts)
	l := n.listener
	if n.tls != nil {
		l = tls.NewListener(l, n.tls)
	}
	return web.Serve(ctx, httpSrv, l)
}

func runCentral(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "enroll":
			return runCentralEnroll(ctx, args[1:], stdout, stderr)
		case "revoke":
			return runCentralRevoke(ctx, args[1:], stdout, stderr)
		case "site":
			return runCentralSite(ctx, args[1:], stdout, stderr)
		case "adduser":
			return runCentralAddUser(ctx, args[1:], os.Stdin, stdout, stderr)
		case "company":
			return runCentralCompany(ctx, args[1:], os.Stdin, stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("central", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./var", "directory for central's SQLite file (without -db)")
	db := dbFlag(fs)
	listen := fs.String("listen", "127.0.0.1:8080", "address for the portal, the API and sync")
	verbose := fs.Bool("v", false, "log every request")
	tlsCert := fs.String("tls-cert", "", "PEM certificate (chain) file: serve HTTPS (with -tls-key)")
	tlsKey := fs.String("tls-key", "", "PEM private key file of -tls-cert")
	releases := fs.String("releases", "", "directory of the city's signed release bundles (*.bundle, from veedel release sign) that the appliances' update agents download as the rollout says")
	publicURL := fs.String("public-url", "", "the portal's public address, for the links in /open-data (default: the address requested)")
	mailCfg := mailFlags(fs)
	payProvider := fs.String("payment-provider", "", "the payment provider's base URL: citizens may pay orders online (the shared secret in VEEDEL_PAYMENT_SECRET)")
	smsGateway := fs.String("sms-gateway", os.Getenv("VEEDEL_SMS_GATEWAY"), "URL of an SMS gateway's HTTP API for appointments' codes and confirmations to mobile numbers (or set VEEDEL_SMS_GATEWAY; empty: central sends no SMS); set VEEDEL_SMS_AUTHORIZATION for its Authorization header")
	smsBody := fs.String("sms-body", envOr("VEEDEL_SMS_BODY", notify.DefaultGatewayBody), "the gateway request's body with {to} and {text}, escaped for -sms-content-type (or set VEEDEL_SMS_BODY)")
	smsType := fs.String("sms-content-type", envOr("VEEDEL_SMS_CONTENT_TYPE", "application/json"), "the gateway request's Content-Type (or set VEEDEL_SMS_CONTENT_TYPE)")
	smsMethod := fs.String("sms-method", http.MethodPost, "the gateway request's HTTP method")
	loadBrand := brandFlag(fs)
	plateReserve := fs.Duration("plate-reservation", 90*24*time.Hour, "how long a Wunschkennzeichen stays reserved")
	civil := fs.String("civil-status-site", "", "the site that issues civil-status certificates (the Standesamt): orders for them go there; empty: to the site the citizen chose")
	serfBind := fs.String("serf-bind", "", "join the other central nodes on the same -db PostgreSQL: this node's gossip address HOST:PORT (TCP and UDP, e.g. 10.0.0.5:7946)")
	join := fs.String("join", "", "gossip addresses HOST:PORT[,…] of central nodes already running (with -serf-bind)")
	vehicleRoutes := fs.String("vehicle-routes", "", "where the city has several registration offices: i-Kfz applications by the owner's postcode prefix, PREFIX=SITE,… (e.g. 51=kalk-kfz,50667=zulassung; the longest prefix wins); other applications go to the registration site with the fewest undecided ones, a Wunschkennzeichen's to the site holding its reservation")
	webhookPrivate := fs.Bool("webhook-allow-private", false, "let companies' webhooks reach loopback and private networks (10/8, 192.168/16, 169.254/16, fc00::/7 …) and plain http://; for tests and the demo only: off, central refuses such endpoints when they are saved and at every delivery (docs/SECURITY.md)")
	serfKey := fs.String("serf-key", "", "the cluster's gossip key, base64 of 32 random bytes (openssl rand -base64 32); default VEEDEL_SERF_KEY; required unless -serf-bind is on loopback")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: veedel central [flags]
       veedel central -db postgres://… -serf-bind HOST:PORT [-join HOST:PORT,…] [-serf-key KEY]
       veedel central enroll -site ID [-data DIR | -db URL] [-ttl 24h]
       veedel central revoke -site ID [-data DIR | -db URL]
       veedel central site add -id ID -name NAME [-kind KIND] [-page URL] [-address TEXT] [-data DIR | -db URL]
       veedel central site list [-data DIR | -db URL]
       veedel central adduser -name NAME [-role admin|technician] [-data DIR | -db URL]

Runs the central node: the citizen portal (/), ticket status pages (/t/…),
the JSON API (/api/v1), the open data (/open-data) and the sync endpoint
appliances push to. With -tls-cert and -tls-key it serves HTTPS (the files
are re-read when they change). Its data lives in the SQLite file
central.db in -data, or, with -db postgres://user@host/db (or VEEDEL_DB),
in a PostgreSQL database (PGPASSWORD or ~/.pgpass for the password).

"site add" adds a site to central's directory (a new central knows
Cologne's customer centres), "enroll" prints a one-time token a site's
appliance enrolls its key with, "revoke" revokes a site's key, "adduser"
creates an admin login for /admin (password from stdin or VEEDEL_PASSWORD).
All of them work while central runs.

Several central nodes on one PostgreSQL database form a cluster with
-serf-bind (this node's gossip address, TCP and UDP) and -join (any node
already running); any node takes any request. The gossip is encrypted
with -serf-key or VEEDEL_SERF_KEY (base64 of 32 random bytes, the same
on every node), required unless -serf-bind is on loopback. See
docs/DEPLOY.md.

Companies' webhooks (the business portal, /unternehmen) go to https://
endpoints on the public internet only: central refuses loopback, private,
link-local and other special addresses when an endpoint is saved and again
when it connects (after DNS), and follows no redirect. -webhook-allow-private
lifts that for a test receiver on the same machine (the demo sets it).

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := mailCfg.check(); err != nil {
		return err
	}
	if *publicURL != "" {
		if u, err := url.Parse(*publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageErrorf("-public-url %q is not an http(s) address like https://portal.example", *publicURL)
		}
	}
	var paySecret []byte
	if *payProvider != "" {
		if u, err := url.Parse(*payProvider); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageErrorf("-payment-provider %q is not an http(s) address like https://pay.example/api", *payProvider)
		}
		paySecret = []byte(os.Getenv("VEEDEL_PAYMENT_SECRET"))
		if len(paySecret) < 16 {
			return usageErrorf("-payment-provider needs the secret shared with the provider in VEEDEL_PAYMENT_SECRET (at least 16 characters)")
		}
	}
	routes, err := central.ParseVehicleRoutes(*vehicleRoutes)
	if err != nil {
		return usageErrorf("-vehicle-routes: %s", veedel.ErrorMessage(err))
	}
	if *plateReserve < time.Hour {
		return usageErrorf("-plate-reservation %v: at least an hour, e.g. 2160h for 90 days", *plateReserve)
	}
	var smsSender notify.Sender
	if *smsGateway != "" {
		if u, err := url.Parse(*smsGateway); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageErrorf("-sms-gateway is not an http(s) address like https://sms.example/send")
		}
		header := http.Header{"Content-Type": {*smsType}}
		if auth := os.Getenv("VEEDEL_SMS_AUTHORIZATION"); auth != "" {
			header.Set("Authorization", auth)
		}
		smsSender = &notify.HTTPSender{URL: *smsGateway, Method: *smsMethod, Header: header, Body: *smsBody}
	}
	dbName, err := centralDB(*db, *data)
	if err != nil {
		return err
	}
	clusterCfg, err := parseClusterFlags(*serfBind, *join, *serfKey)
	if err != nil {
		return err
	}
	brand, err := loadBrand()
	if err != nil {
		return err
	}
	node, err := openCentral(ctx, centralConfig{DB: dbName, Listen: *listen, Logger: newLogger(stderr, *verbose), Brand: brand,
		TLSCert: *tlsCert, TLSKey: *tlsKey, PublicURL: *publicURL, Releases: *releases, Mail: mailCfg, CivilStatusSite: *civil,
		PaymentProvider: *payProvider, PaymentSecret: paySecret, SMSSender: smsSender, Cluster: clusterCfg, Plates: plateConfig{ReserveFor: *plateReserve},
		WebhookAllowPrivate: *webhookPrivate, VehicleRoutes: routes})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "central listening on %s\n", node.URL)
	return node.Run(ctx)
}

// parseClusterFlags reads -serf-bind, -join and -serf-key (or
// VEEDEL_SERF_KEY): nil without -serf-bind. Gossip goes unencrypted only
// on loopback (tests, a laptop); elsewhere a key is required.
func parseClusterFlags(bind, join, key string) (*clusterConfig, error) {
	if bind == "" {
		if join != "" || key != "" {
			return nil, usageErrorf("-join and -serf-key go with -serf-bind HOST:PORT")
		}
		return nil, nil
	}
	host, port, err := net.SplitHostPort(bind)
	if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 0 || n > 65535 {
		return nil, usageErrorf("-serf-bind %q is not HOST:PORT (e.g. 10.0.0.5:7946)", bind)
	}
	cfg := &clusterConfig{Bind: bind}
	if cfg.Join, err = cluster.ParseAddrs(join); err != nil {
		return nil, usageErrorf("-join: %s", veedel.ErrorMessage(err))
	}
	if key == "" {
		key = os.Getenv("VEEDEL_SERF_KEY")
	}
	if key != "" {
		if cfg.Key, err = cluster.ParseKey(key); err != nil {
			// Not echoed: it is a secret.
			return nil, usageErrorf("-serf-key (or VEEDEL_SERF_KEY): %s", veedel.ErrorMessage(err))
		}
	} else if host, _, _ := net.SplitHostPort(cfg.Bind); !isLoopback(host) {
		return nil, usageErrorf("-serf-bind %s needs the cluster's gossip key: -serf-key or VEEDEL_SERF_KEY (make one with: openssl rand -base64 32)", cfg.Bind)
	}
	return cfg, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// centralStore is what central runs on: the SQLite file (central/sqlite,
// the default) or PostgreSQL (central/postgres).
type centralStore interface {
	central.LogStore
	central.RangeScanner
	Close() error
	// SetFault is a test seam: a failure before Append commits.
	SetFault(func(ctx context.Context, stage string) error)
	// Lead runs work that must run once per cluster while this node
	// holds the database's lock name (postgres.Store.Lead).
	Lead(ctx context.Context, name string, log *slog.Logger, work func(context.Context))
}

var (
	_ centralStore = (*sqlite.Store)(nil)
	_ centralStore = (*postgres.Store)(nil)
)

// dbFlag adds -db to a central command's flags.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "", "central's PostgreSQL database, postgres://user@host:port/db?sslmode=verify-full (default: VEEDEL_DB; neither: the SQLite file in -data)")
}

// centralDB names central's database from -db (or VEEDEL_DB) and -data:
// a PostgreSQL URL, or the SQLite file central.db in dataDir.
func centralDB(db, dataDir string) (string, error) {
	if db == "" {
		db = os.Getenv("VEEDEL_DB")
	}
	if db == "" {
		return filepath.Join(dataDir, "central.db"), nil
	}
	if !postgres.IsURL(db) {
		// Not echoed: a connection string may hold a password.
		return "", usageErrorf("-db (or VEEDEL_DB) takes a PostgreSQL URL such as postgres://veedel@db.example:5432/veedel; for SQLite leave it out and give -data")
	}
	return db, nil
}

// openStore opens central's database as centralDB named it, creating the
// SQLite file and its directory if need be.
func openStore(ctx context.Context, db string) (centralStore, error) {
	if postgres.IsURL(db) {
		s, err := postgres.Open(ctx, db)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	if err := os.MkdirAll(filepath.Dir(db), 0o750); err != nil {
		return nil, err
	}
	s, err := sqlite.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// dbName is how messages name central's database: the SQLite file's path,
// or the PostgreSQL URL without its password.
func dbName(db string) string {
	if postgres.IsURL(db) {
		return postgres.Redact(db)
	}
	return db
}
