package main

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"github.com/veedel/veedel/sync/blob"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/appliance"
	"github.com/veedel/veedel/appliance/clock"
	"github.com/veedel/veedel/appliance/devices"
	"github.com/veedel/veedel/appliance/exam"
	"github.com/veedel/veedel/appliance/notify"
	"github.com/veedel/veedel/appliance/server"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/hardware"
	"github.com/veedel/veedel/hardware/seca"
	"github.com/veedel/veedel/internal/login"
	"github.com/veedel/veedel/internal/mail"
	"github.com/veedel/veedel/internal/web"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/sync/downlink"
	"github.com/veedel/veedel/sync/sitekey"
	"github.com/veedel/veedel/sync/uplink"
	"github.com/veedel/veedel/ui"
)

// applianceConfig is everything an appliance node needs.
type applianceConfig struct {
	Site       string
	DB         string // SQLite file
	Listen     string // host:port for the LAN UI and API
	CentralURL string // where the uplink pushes ("" = no sync)
	PortalURL  string // public portal base for QR codes
	// Users are created (or their passwords reset) at start, e.g. the demo's.
	Users []userSpec
	// Brand is the city's name, logo and colours (nil: Cologne's).
	Brand *ui.Brand
	// ExamEscrowPub is the health office's escrow public key file
	// (veedel exam escrow-keygen): the school-entry exams' data keys are
	// escrowed to it ("" = keep the one configured before, if any).
	ExamEscrowPub string
	Logger        *slog.Logger
	Listener      net.Listener // optional, overrides Listen (tests)
	// Uplink tuning for tests; zero values are production defaults.
	Heartbeat    time.Duration
	BatchEntries int
	// RefusedBackoff is the uplink's pause after a refused batch (tests).
	RefusedBackoff time.Duration
	// Now is the site's wall clock for its log and uplink (nil: time.Now);
	// tests skew it.
	Now func() time.Time
	// SeedFile, when set, is a JSON site seed used instead of the built-in
	// catalogue on the first start.
	SeedFile string
	// Retention is how long acknowledged change-log entries are kept (0:
	// for ever, with snapshots only).
	Retention time.Duration
	// NoShowGrace is how long after a call a no-show may be marked (0: 3 minutes).
	NoShowGrace time.Duration
	// KioskIdle is how long the kiosk waits for a touch before it returns
	// to its German start page (0: server.DefaultKioskIdle).
	KioskIdle time.Duration
	// KeyFile holds the site's ed25519 key, created on first start
	// ("" = <directory of DB>/<site>.key).
	KeyFile string
	// EnrollToken is the one-time token from `veedel central enroll`; the
	// uplink enrolls the key with it once (see sync/uplink/enroll.go).
	EnrollToken string
	// CentralEnrolls is set by the demo, which enrolls a new key at its
	// central itself: the log then does not ask the operator to.
	CentralEnrolls bool
	// TLSCert and TLSKey are PEM files; with both set the appliance serves
	// its LAN (kiosk, desk, display, API) over HTTPS, re-reading them when
	// they change, as central does.
	TLSCert, TLSKey string
	// CentralCA is a PEM file of CA certificates trusted for central's
	// HTTPS besides the system's ("" = system roots only).
	CentralCA string
	// Announce is the call display's spoken text with {number} and
	// {counter} ("" = the built-in German text).
	Announce string
	// SMSSender sends the citizens' SMS (nil: notify.LogSender, the demo's:
	// it only logs, with the number masked).
	SMSSender notify.Sender
	// SMSLead is how long before the expected call the "noch ca. 10
	// Minuten" SMS goes out (0: notify.DefaultLead).
	SMSLead time.Duration
	// SMSBackoff is the SMS outbox's pause after a failed send (tests; 0:
	// notify.DefaultBackoff).
	SMSBackoff time.Duration
	// Printer is the kiosk's ticket printer (nil: none, the kiosk offers
	// the browser's print view), at PrinterAddress (for display).
	Printer        hardware.Printer
	PrinterAddress string
	// Modem is the GSM modem whose health is watched (nil: none), at
	// ModemAddress.
	Modem        devices.Modem
	ModemAddress string
	// Scale is the school-health site's scale (nil: none; scale.go).
	Scale *seca.Scale
	// DeviceInterval is how often the devices are polled (0: 15 s).
	DeviceInterval time.Duration
	// Timeouts bound slow clients (zero: web.DefaultTimeouts; tests
	// shorten them).
	Timeouts web.Timeouts
	// Mount are extra handlers on the appliance's router by path prefix
	// (the demo's printer simulator under /sim/printer/).
	Mount map[string]http.Handler
	// Mail is how the site e-mails citizens (orders ready, dispatched,
	// rejected); nil or no relay: it does not.
	Mail *mailConfig
}

type userSpec struct {
	Name, Password, Role string
}

// applianceNode is a running appliance.
type applianceNode struct {
	cfg      applianceConfig
	Store    *sqlite.Store
	Uplink   *uplink.Uplink
	Downlink *downlink.Downlink // applies central's outbound log (nil without sync)
	Blobs    *blob.Transfer     // moves the workflows' files (nil without sync)
	Clock    *clock.Clock       // the site's clock, checked against central's
	Key      ed25519.PrivateKey // the site's key, signs every batch
	// centralClock is central's clock as the uplink and downlink measure
	// it from its answers: batches and polls are signed with it, so that
	// they are fresh at central however far off the site's clock is.
	centralClock *changelog.CentralClock
	listener     net.Listener
	URL          string
	outbox       *mail.Outbox // nil: no e-mail
}

// keyFile is where the site's key is kept.
func (cfg applianceConfig) keyFile() string {
	if cfg.KeyFile != "" {
		return cfg.KeyFile
	}
	return filepath.Join(filepath.Dir(cfg.DB), cfg.Site+".key")
}

// openAppliance opens the store, commits the site's seed if the log is new,
// ensures configured users, and binds the listener. Run serves.
func openAppliance(ctx context.Context, cfg applianceConfig) (*applianceNode, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	seed, ok := appliance.Catalog[cfg.Site]
	if cfg.SeedFile != "" {
		f, err := os.Open(cfg.SeedFile)
		if err != nil {
			return nil, usageErrorf("-seed: %v", err)
		}
		seed, err = appliance.ReadSeed(f)
		f.Close()
		if err != nil {
			return nil, usageErrorf("-seed %s: %v", cfg.SeedFile, err)
		}
		if seed.Site.ID != cfg.Site {
			return nil, usageErrorf("-seed %s describes site %q, not %q", cfg.SeedFile, seed.Site.ID, cfg.Site)
		}
	} else if !ok {
		return nil, usageErrorf("appliance: unknown site %q: known sites are %s (or give -seed FILE)", cfg.Site, strings.Join(siteIDs(), ", "))
	}
	if dir := filepath.Dir(cfg.DB); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
	}
	data, err := checkDataDir(cfg)
	if err != nil {
		return nil, err
	}
	key, created, err := sitekey.LoadOrCreate(cfg.keyFile())
	if err != nil {
		return nil, err
	}
	if created {
		msg := "created the site's key: enroll it at central with a token from veedel central enroll"
		switch {
		case cfg.CentralEnrolls:
			msg = "created the site's key"
		case cfg.EnrollToken != "":
			msg = "created the site's key: enrolling it at central with the given token"
		}
		cfg.Logger.Info(msg, "site", cfg.Site, "file", cfg.keyFile(), "key_id", changelog.KeyIDString(changelog.KeyID(sitekey.Public(key))))
	}
	client, err := centralClient(cfg.CentralCA)
	if err != nil {
		return nil, err
	}
	// The site goes by its checked clock: central's time when its own is
	// off, read from the Date of every answer central gives (appliance/clock).
	clk := clock.New(cfg.Now)
	box, err := sitekey.BoxKey(key)
	if err != nil {
		return nil, err
	}
	store, err := sqlite.Open(ctx, cfg.DB, cfg.Site, sqlite.Options{Now: clk.Now, CheckClock: clk.Check, NoShowGrace: cfg.NoShowGrace, Logger: cfg.Logger, BoxKey: box})
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*applianceNode, error) {
		store.Close()
		return nil, err
	}
	if err := data.afterOpen(store.LastSeq()); err != nil {
		return fail(err)
	}
	if store.LastSeq() == 0 {
		if _, err := store.Execute(ctx, seedDecider(seed)); err != nil {
			return fail(fmt.Errorf("seed site %s: %w", cfg.Site, err))
		}
	}
	for _, u := range cfg.Users {
		if err := store.CreateUser(ctx, sqlite.User{Name: u.Name, DisplayName: u.Name, Role: u.Role}, u.Password); err != nil {
			return fail(err)
		}
	}
	if cfg.ExamEscrowPub != "" {
		pub, err := exam.ReadEscrowPublic(cfg.ExamEscrowPub)
		if err != nil {
			return fail(usageErrorf("-exam-escrow-pub: %s", veedel.ErrorMessage(err)))
		}
		if err := exam.UseEscrow(ctx, store.Writer(), pub); err != nil {
			return fail(err)
		}
	}
	l := cfg.Listener
	if l == nil {
		if l, err = net.Listen("tcp", cfg.Listen); err != nil {
			return fail(usageErrorf("cannot listen on %s: %v", cfg.Listen, err))
		}
	}
	scheme := "http://"
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		// Desk passwords and session cookies cross the site's LAN: HTTPS
		// keeps them from a citizen's phone on the same network.
		if cfg.TLSCert == "" || cfg.TLSKey == "" {
			l.Close()
			return fail(usageErrorf("appliance: -tls-cert and -tls-key go together"))
		}
		tlsConfig, err := serverTLS(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			l.Close()
			return fail(err)
		}
		l, scheme = tls.NewListener(l, tlsConfig), "https://"
	}
	cfg.Now = clk.Now // everything below goes by the checked clock
	// The uplink and downlink also keep the residual offset to central's
	// clock for signing (changelog.CentralClock): near zero once clk goes
	// by central's time, it lets the first request after a start that
	// central refused as not fresh be signed again at once.
	outbox, err := cfg.Mail.outbox(store, cfg.Logger)
	if err != nil {
		l.Close()
		return fail(err)
	}
	store.UseMail(outbox)
	n := &applianceNode{cfg: cfg, Store: store, Clock: clk, Key: key, centralClock: &changelog.CentralClock{}, listener: l, URL: scheme + l.Addr().String(), outbox: outbox}
	if cfg.CentralURL != "" {
		// Several central nodes: one at a time, the next when it fails
		// (centralurls.go).
		nodes, err := parseCentralURLs(cfg.CentralURL)
		if err != nil || len(nodes) == 0 {
			l.Close()
			return fail(usageErrorf("appliance: -central %q is not a URL (or a comma-separated list of them)", cfg.CentralURL))
		}
		cfg.CentralURL = nodes[0].String()
		if len(nodes) > 1 {
			if client == nil {
				client = &http.Client{}
			}
			failover := *client
			failover.Transport = newCentralFailover(client.Transport, nodes, cfg.Logger)
			client = &failover
		}
		n.Uplink = &uplink.Uplink{Outbox: store, Site: cfg.Site, CentralURL: cfg.CentralURL, Logger: cfg.Logger,
			Heartbeat: cfg.Heartbeat, BatchEntries: cfg.BatchEntries, RefusedBackoff: cfg.RefusedBackoff, Now: cfg.Now,
			Client: clk.Client(client, 15*time.Second), Key: key, EnrollToken: cfg.EnrollToken, Enrollments: store, Central: n.centralClock}
		n.Downlink = &downlink.Downlink{Inbox: store, Site: cfg.Site, CentralURL: cfg.CentralURL, Logger: cfg.Logger,
			Client: clk.Client(client, 0), Now: cfg.Now, Authorize: n.signPoll, BoxKey: box, Central: n.centralClock}
		n.Blobs = &blob.Transfer{DB: store.Writer(), Files: store.Blobs(), Site: cfg.Site, CentralURL: cfg.CentralURL,
			Client: clk.Client(client, time.Minute), Authorize: n.signBlob, Central: n.centralClock, Logger: cfg.Logger, Now: cfg.Now}
	}
	return n, nil
}

// signPoll signs a download poll with the site's key, fresh at central's
// clock as measured (central checks it: server.Server.AuthorizeSite). Until the uplink has enrolled the key the
// poll is not sent: central would refuse it.
func (n *applianceNode) signPoll(r *http.Request) error {
	if !n.Uplink.Status().Enrolled {
		return fmt.Errorf("%w: waiting for the enrollment at central", downlink.ErrNotReady)
	}
	changelog.SignRequest(r, n.cfg.Site, n.Key, n.centralClock.Now(n.now()))
	return nil
}

// signBlob signs a request of the file transfer as signPoll signs a poll.
func (n *applianceNode) signBlob(r *http.Request) error {
	if !n.Uplink.Status().Enrolled {
		return fmt.Errorf("%w: waiting for the enrollment at central", blob.ErrNotReady)
	}
	changelog.SignRequest(r, n.cfg.Site, n.Key, n.centralClock.Now(n.now()))
	return nil
}

// now is the site's clock: cfg.Now in tests, the wall clock otherwise.
func (n *applianceNode) now() time.Time {
	if n.cfg.Now != nil {
		return n.cfg.Now()
	}
	return time.Now()
}

// Run serves HTTP and runs the uplink until ctx ends, then closes the store.
func (n *applianceNode) Run(ctx context.Context) error {
	defer n.Store.Close()
	renderer, err := ui.NewRenderer()
	if err != nil {
		n.listener.Close()
		return err
	}
	renderer.SetBrand(n.cfg.Brand)
	srv := &server.Server{Store: n.Store, Renderer: renderer, Logger: n.cfg.Logger, PortalURL: strings.TrimRight(n.cfg.PortalURL, "/"),
		Announce: n.cfg.Announce, Clock: n.Clock, KioskIdle: n.cfg.KioskIdle, SiteAddress: siteAddress(n.cfg.Site)}
	var wg sync.WaitGroup
	if n.outbox != nil {
		wg.Go(func() { n.outbox.Run(ctx) })
	}
	if n.Uplink != nil {
		srv.SyncStatus = n.Uplink.Status
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.Uplink.Run(ctx)
		}()
	}
	if n.Downlink != nil {
		srv.DownlinkStatus = n.Downlink.Status
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.Downlink.Run(ctx); err != nil {
				n.cfg.Logger.Error("downlink stopped", "site", n.cfg.Site, "err", err)
			}
		}()
	}
	if n.Blobs != nil {
		wake, stop := n.Store.Subscribe()
		defer stop()
		n.Blobs.Wake = wake
		srv.BlobStatus = n.Blobs.Status
		wg.Go(func() { n.Blobs.Run(ctx) })
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		n.retentionLoop(ctx, time.Hour)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		(&devices.ClockWatch{Store: n.Store, Clock: n.Clock, Logger: n.cfg.Logger}).Run(ctx)
	}()
	monitor := &devices.Monitor{Store: n.Store, Printer: n.cfg.Printer, PrinterAddress: n.cfg.PrinterAddress,
		Modem: n.cfg.Modem, ModemAddress: n.cfg.ModemAddress, Interval: n.cfg.DeviceInterval, Logger: n.cfg.Logger}
	srv.Printer, srv.AfterPrint = n.cfg.Printer, monitor.PrintDone
	wireScale(n.cfg.Scale, srv, monitor)
	wg.Add(1)
	go func() {
		defer wg.Done()
		monitor.Run(ctx)
	}()
	sms := &notify.Worker{Store: n.Store, Sender: n.cfg.SMSSender, Logger: n.cfg.Logger, Lead: n.cfg.SMSLead, Now: n.cfg.Now,
		Backoff: n.cfg.SMSBackoff}
	if sms.Sender == nil {
		sms.Sender = notify.LogSender{Logger: n.cfg.Logger}
	}
	// The workflows' messages to a mobile number (reminders, orders
	// ready, dispatched, rejected) go out through the same sender.
	n.Store.UseSMS()
	wg.Add(1)
	go func() {
		defer wg.Done()
		sms.Run(ctx)
	}()
	handler := srv.Handler()
	if len(n.cfg.Mount) > 0 {
		mux := http.NewServeMux()
		for prefix, h := range n.cfg.Mount {
			mux.Handle(prefix, h)
		}
		mux.Handle("/", handler)
		handler = mux
	}
	httpSrv := web.NewServer(handler, n.applianceTimeouts())
	err = web.Serve(ctx, httpSrv, n.listener)
	wg.Wait()
	return err
}

// applianceTimeouts are the configured timeouts, with room to answer
// after a print: a kiosk request waits for its ticket's print (up to
// server.DefaultPrintTimeout) before it answers, and must not lose its
// answer to the general write timeout.
func (n *applianceNode) applianceTimeouts() web.Timeouts {
	t := n.cfg.Timeouts
	if n.cfg.Printer != nil && t.Write == 0 {
		t.Write = server.DefaultPrintTimeout + web.DefaultTimeouts.Write
	}
	return t
}

func runAppliance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "restore" {
		return runApplianceRestore(ctx, args[1:], stdout, stderr) // restore.go
	}
	fs := flag.NewFlagSet("appliance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	site := fs.String("site", "", "site ID (required): a built-in site ("+strings.Join(siteIDs(), ", ")+") or, with -seed, any other")
	data := fs.String("data", "./var", "directory for the site's SQLite file")
	listen := fs.String("listen", "127.0.0.1:8081", "address for the kiosk, desk, display and API")
	central := fs.String("central", "", "central's URL for sync, e.g. https://central.example, or the URLs of several central nodes, comma-separated (one at a time, the next when one fails); empty: no sync")
	portal := fs.String("portal", "", "public portal URL that ticket QR codes link to (default: the -central URL)")
	noShowGrace := fs.Duration("no-show-grace", 3*time.Minute, "how long after a call a clerk must wait before marking a no-show")
	seedFile := fs.String("seed", "", "JSON file with the site's first configuration (site, services, counters, hours), used on the first start instead of the built-in catalogue; e.g. cmd/veedel/testdata/seed-kfz-poll.json")
	retention := fs.Duration("retention", DefaultRetention, "keep change-log entries central has acknowledged this long, then compact them into a snapshot (0: keep all)")
	enrollToken := fs.String("enroll-token", "", "one-time token from veedel central enroll (or set VEEDEL_ENROLL_TOKEN)")
	adminPasswordFile := fs.String("admin-password-file", "", "file holding the site lead's first password (the image's provisioning): sets the login admin like VEEDEL_ADMIN_PASSWORD, then deletes the file")
	enrollTokenFile := fs.String("enroll-token-file", "", "file holding the enrollment token (the image's provisioning): deleted once the site's key is enrolled")
	centralCA := fs.String("central-ca", "", "PEM file of CA certificates to trust for central's HTTPS, besides the system's")
	tlsCert := fs.String("tls-cert", "", "PEM certificate (chain) file: serve the kiosk, desk, display and API over HTTPS (with -tls-key)")
	tlsKey := fs.String("tls-key", "", "PEM private key file of -tls-cert")
	examEscrow := fs.String("exam-escrow-pub", "", "the health office's escrow public key file (FILE.pub of veedel exam escrow-keygen); a school-health site records no exam before it has one")
	announce := fs.String("announce", os.Getenv("VEEDEL_ANNOUNCE"), "the call display's spoken German text, with {number} (spelled digit by digit) and {counter} (or set VEEDEL_ANNOUNCE; default \"Nummer {number}, bitte zu {counter}.\")")
	smsGateway := fs.String("sms-gateway", os.Getenv("VEEDEL_SMS_GATEWAY"), "URL of an SMS gateway's HTTP API (or set VEEDEL_SMS_GATEWAY; empty: SMS are only logged, number masked); set VEEDEL_SMS_AUTHORIZATION for its Authorization header")
	smsBody := fs.String("sms-body", envOr("VEEDEL_SMS_BODY", notify.DefaultGatewayBody), "the gateway request's body with {to} and {text}, escaped for -sms-content-type (or set VEEDEL_SMS_BODY)")
	smsType := fs.String("sms-content-type", envOr("VEEDEL_SMS_CONTENT_TYPE", "application/json"), "the gateway request's Content-Type: JSON and form bodies escape {to} and {text} (or set VEEDEL_SMS_CONTENT_TYPE)")
	smsMethod := fs.String("sms-method", http.MethodPost, "the gateway request's HTTP method")
	smsLead := fs.Duration("sms-lead", notify.DefaultLead, "send the \"noch ca. 10 Minuten\" SMS when the estimated wait drops to this")
	printerAddr := fs.String("printer", os.Getenv("VEEDEL_PRINTER"), "the kiosk's ESC/POS ticket printer: tcp://host[:9100], usb:///dev/usb/lp0 or serial:///dev/ttyUSB0?baud=19200 (add qr=raster for printers without QR codes; or set VEEDEL_PRINTER; empty: no printer, the kiosk offers the browser's print view)")
	modemAddr := fs.String("modem", os.Getenv("VEEDEL_MODEM"), "the GSM modem for SMS: serial:///dev/ttyUSB2?baud=115200 (or set VEEDEL_MODEM); its health is shown to staff")
	scaleAddr := fs.String("scale", os.Getenv("VEEDEL_SCALE"), "the school-health site's seca scale for the exam staff: serial:///dev/ttyUSB0?baud=9600 (or set VEEDEL_SCALE); its health is shown to staff")
	smsSender := fs.String("sms-sender", "", "what sends the SMS: log (only logs them, number masked), gateway (-sms-gateway) or modem (-modem); default: gateway when -sms-gateway is set, else log")
	deviceInterval := fs.Duration("device-interval", devices.DefaultInterval, "how often the printer, modem and scale are asked for their health")
	kioskIdle := fs.Duration("kiosk-idle", server.DefaultKioskIdle, "how long the kiosk waits for a touch before it returns to its German start page for the next citizen")
	verbose := fs.Bool("v", false, "log every request")
	mailCfg := mailFlags(fs)
	loadBrand := brandFlag(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: veedel appliance -site ID [flags]

Runs one site's appliance: kiosk (/kiosk), desk (/desk), call display
(/display) and JSON API (/api/v1), on its own SQLite file, syncing to central
when it can. On first start it seeds the site from the built-in catalogue,
or from -seed FILE for any other site.
Set VEEDEL_ADMIN_PASSWORD to create (or reset) the site lead's login "admin".
The site's signing key is kept in <data>/<site>.key (created on first start);
central accepts the site's batches once the appliance has enrolled it with a
one-time token (-enroll-token or VEEDEL_ENROLL_TOKEN; veedel central enroll).
Outside a demo, serve the LAN over HTTPS with -tls-cert and -tls-key: staff
passwords and sessions cross it (the files are re-read when they change).
A replacement for a lost appliance restores the site from central first:
veedel appliance restore -help.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := mailCfg.check(); err != nil {
		return err
	}
	if *site == "" {
		return usageErrorf("appliance: -site is required (one of %s)", strings.Join(siteIDs(), ", "))
	}
	if *central != "" {
		nodes, err := parseCentralURLs(*central)
		if err != nil {
			return err
		}
		if *portal == "" && len(nodes) > 0 {
			*portal = nodes[0].String()
		}
	}
	if *retention < 0 {
		return usageErrorf("appliance: -retention must not be negative")
	}
	if *enrollToken == "" {
		*enrollToken = os.Getenv("VEEDEL_ENROLL_TOKEN")
	}
	if *enrollTokenFile != "" && *enrollToken == "" {
		b, err := os.ReadFile(*enrollTokenFile)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("appliance: -enroll-token-file: %v", err)
		}
		*enrollToken = string(b)
	}
	if *noShowGrace <= 0 {
		return usageErrorf("appliance: -no-show-grace must be positive, e.g. 3m")
	}
	if *kioskIdle < time.Second {
		return usageErrorf("appliance: -kiosk-idle must be at least 1s, e.g. 60s")
	}
	brand, err := loadBrand()
	if err != nil {
		return err
	}
	cfg := applianceConfig{Brand: brand, Site: *site, DB: filepath.Join(*data, *site+".db"), Listen: *listen, Retention: *retention, SeedFile: *seedFile, NoShowGrace: *noShowGrace, KioskIdle: *kioskIdle,
		CentralURL: *central, PortalURL: *portal, Logger: newLogger(stderr, *verbose),
		EnrollToken: strings.TrimSpace(*enrollToken), CentralCA: *centralCA, Announce: *announce, ExamEscrowPub: *examEscrow, TLSCert: *tlsCert, TLSKey: *tlsKey, Mail: mailCfg}
	if *smsLead <= 0 {
		return usageErrorf("appliance: -sms-lead must be positive")
	}
	cfg.SMSLead = *smsLead
	if *deviceInterval <= 0 {
		return usageErrorf("appliance: -device-interval must be positive, e.g. 15s")
	}
	cfg.DeviceInterval = *deviceInterval
	sender, m, err := configureDevices(&cfg, *printerAddr, *modemAddr, *smsSender, *smsGateway != "")
	if m != nil {
		defer m.Close()
	}
	if err != nil {
		return err
	}
	if err := configureScale(&cfg, *scaleAddr); err != nil {
		return err
	}
	if cfg.Scale != nil {
		defer cfg.Scale.Close()
	}
	if sender == "gateway" {
		header := http.Header{"Content-Type": {*smsType}}
		if auth := os.Getenv("VEEDEL_SMS_AUTHORIZATION"); auth != "" {
			header.Set("Authorization", auth)
		}
		cfg.SMSSender = &notify.HTTPSender{URL: *smsGateway, Method: *smsMethod, Header: header, Body: *smsBody}
	}
	pw := os.Getenv("VEEDEL_ADMIN_PASSWORD")
	pwFromFile := false
	if pw == "" && *adminPasswordFile != "" {
		b, err := os.ReadFile(*adminPasswordFile)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("appliance: -admin-password-file: %v", err)
		}
		pw, pwFromFile = string(b), len(b) > 0
	}
	if pw != "" {
		if err := login.CheckNewPassword("admin", pw); err != nil {
			return usageErrorf("appliance: VEEDEL_ADMIN_PASSWORD: %v", err)
		}
		cfg.Users = append(cfg.Users, userSpec{Name: "admin", Password: pw, Role: sqlite.RoleLead})
	}
	node, err := openAppliance(ctx, cfg)
	if err != nil {
		return err
	}
	if pwFromFile {
		// The login exists now (openAppliance created it): the password
		// must not stay on the box in the clear.
		if err := os.Remove(*adminPasswordFile); err != nil {
			cfg.Logger.Warn("could not delete the admin password's file", "file", *adminPasswordFile, "err", err)
		}
	}
	if ok, _ := node.Store.HasUsers(ctx); !ok {
		cfg.Logger.Warn("no staff logins yet: start once with VEEDEL_ADMIN_PASSWORD set to create the user admin")
	}
	fmt.Fprintf(stdout, "appliance %s listening on %s\n", *site, node.URL)
	if *enrollTokenFile != "" {
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			eraseTokenWhenEnrolled(runCtx, node.Store, *enrollTokenFile, time.Second, cfg.Logger)
		}()
		defer func() { cancel(); <-done }()
	}
	return node.Run(ctx)
}

// eraseTokenWhenEnrolled deletes the one-time enrollment token's file once
// the site's key is enrolled at central (at once when it already is): the
// token must not outlive its use on the box.
func eraseTokenWhenEnrolled(ctx context.Context, store uplink.Enrollments, file string, every time.Duration, log *slog.Logger) {
	for {
		if keyID, _, err := store.EnrolledKey(ctx); err == nil && keyID != "" {
			if err := os.Remove(file); err == nil {
				log.Info("enrolled: deleted the enrollment token", "file", file)
			} else if !errors.Is(err, os.ErrNotExist) {
				log.Warn("enrolled, but could not delete the enrollment token", "file", file, "err", err)
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

var errUsage = errors.New("usage")

// envOr is the environment variable's value, or def when it is unset.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
