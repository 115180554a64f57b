package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/veedel/veedel/appliance/notify"
	"github.com/veedel/veedel/internal/mail"
	"github.com/veedel/veedel/internal/mail/mailsim"

	"github.com/veedel/veedel/appliance/devices"
	"github.com/veedel/veedel/appliance/sqlite"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/hardware/modem"
	"github.com/veedel/veedel/hardware/modemsim"
	"github.com/veedel/veedel/hardware/printer"
	"github.com/veedel/veedel/hardware/printersim"
	"github.com/veedel/veedel/hardware/secasim"
	"github.com/veedel/veedel/sync/sitekey"
)

// demoSites are the sites the demo runs, on port+1 to port+4: two
// customer centres, the vehicle registration office and the health
// office's school-health site (school-entry exams).
var demoSites = []string{"kalk", "porz", "zulassung", "gesundheitsamt"}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./var/demo", "directory for the SQLite files (central.db, kalk.db, porz.db)")
	port := fs.Int("port", 8080, "central's port; the sites use the next ports")
	printerAddr := fs.String("printer", "", "a real ticket printer for Kalk's kiosk (tcp://, usb:// or serial://); default: every site prints on a simulated printer shown at /sim/printer/")
	verbose := fs.Bool("v", false, "log every request")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: veedel demo [flags]

Runs central on 127.0.0.1:PORT, the customer centres Kalk (PORT+1) and Porz
(PORT+2; also the Standesamt) and the Kfz-Zulassungsstelle "zulassung"
(PORT+3) and the health office's school-health site "gesundheitsamt"
(PORT+4), each on its own SQLite file under -data, syncing to central.
Every site has the staff login demo / demo; the school-health site also
the doctor aerztin / demo and the assistant assistenz / demo (demo / demo
sees no health data there). Its exams are escrowed to a key the demo
makes in -data (exam-escrow.key); central's admin pages (/admin)
have the login admin / admin. The i-Kfz portal is at /kfz; the business
portal at /unternehmen has the company autohaus-demo with its admin
chefin / demo (TOTP set up at the first login); the company's API key is
printed once, at the first start. Webhooks may go to receivers on this
machine (-webhook-allow-private). Each kiosk prints its tickets on a simulated
ESC/POS printer (on PORT+11 to PORT+14) whose tickets are shown at the site's
/sim/printer/ (-printer ADDR: Kalk prints on a real printer instead). Each
kiosk URL it prints pairs the browser as the site's kiosk. Ctrl-C stops
everything cleanly; starting again on the same -data resumes with all data.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if max := 65535 - demoPrinterPorts - len(demoSites); *port < 1 || *port > max {
		return usageErrorf("demo: -port %d out of range (1–%d: the sites and their simulated printers take the ports above it)", *port, max)
	}
	logger := newLogger(stderr, *verbose)
	host := "127.0.0.1"
	centralURL := "http://" + net.JoinHostPort(host, strconv.Itoa(*port))

	// E-mail to citizens goes to an SMTP stand-in that shows what it got
	// at /sim/mail/ (internal/mail/mailsim).
	mailSim, err := mailsim.Start(net.JoinHostPort(host, "0"), mailsim.Options{})
	if err != nil {
		return err
	}
	defer mailSim.Close()
	c, err := openCentral(ctx, centralConfig{DB: filepath.Join(*data, "central.db"), Listen: net.JoinHostPort(host, strconv.Itoa(*port)), Logger: logger,
		Admins: []userSpec{{Name: "admin", Password: "admin", Role: central.RoleAdmin}},
		// Porz is also the civil-status office: birth, marriage and death
		// certificates ordered online go there.
		CivilStatusSite: "porz",
		Mail:            &mailConfig{Relay: mailSim.Addr(), TLS: mail.TLSOff, From: "Stadt Köln (Demo) <noreply@veedel.invalid>", Retention: mail.DefaultRetention},
		Mount:           map[string]http.Handler{simMailPath: http.StripPrefix(strings.TrimSuffix(simMailPath, "/"), mailSim.Handler())},
		// Orders are paid online at the demo provider at /sim/pay/,
		// which notifies central over HTTP like a real one.
		DemoPayments: true, PaymentSecret: demoPaymentSecret,
		// Codes to a mobile number: logged (number masked), as the
		// sites' SMS are without a gateway.
		SMSSender: notify.LogSender{Logger: logger},
		// A company's webhook may go to a receiver on this machine.
		WebhookAllowPrivate: true})
	if err != nil {
		return err
	}
	apiKey, err := demoCompany(ctx, c.store, time.Now())
	if err != nil {
		c.store.Close()
		c.listener.Close()
		return err
	}
	var nodes []*applianceNode
	kioskCodes := map[string]string{}
	var sims []*printersim.Sim
	var modems []*modemsim.Sim
	var scales []*secasim.Sim
	defer func() {
		for _, sim := range sims {
			sim.Close()
		}
		for _, sim := range modems {
			sim.Close()
		}
		for _, sim := range scales {
			sim.Close()
		}
	}()
	for i, site := range demoSites {
		var err error
		cfg := applianceConfig{
			Site: site, DB: filepath.Join(*data, site+".db"), Listen: net.JoinHostPort(host, strconv.Itoa(*port+1+i)),
			CentralURL: centralURL, PortalURL: centralURL, Logger: logger, CentralEnrolls: true,
			Users: []userSpec{{Name: "demo", Password: "demo", Role: sqlite.RoleLead}},
			Mail:  &mailConfig{Relay: mailSim.Addr(), TLS: mail.TLSOff, From: "Stadt Köln " + site + " (Demo) <noreply@veedel.invalid>", Retention: mail.DefaultRetention},
		}
		if site == "gesundheitsamt" {
			cfg.Users = append(cfg.Users, userSpec{Name: "aerztin", Password: "demo", Role: sqlite.RoleDoctor},
				userSpec{Name: "assistenz", Password: "demo", Role: sqlite.RoleAssistant})
			cfg.ExamEscrowPub, err = demoEscrowKey(*data)
		}
		printerListen := net.JoinHostPort(host, strconv.Itoa(*port+demoPrinterPorts+1+i))
		if err == nil {
			err = demoPrinter(&cfg, site == "kalk", *printerAddr, printerListen, &sims)
		}
		if err == nil && site == "kalk" {
			err = demoModem(&cfg, &modems)
		}
		if err == nil && site == "gesundheitsamt" {
			err = demoScale(&cfg, *data, &scales)
		}
		var n *applianceNode
		if err == nil {
			n, err = openAppliance(ctx, cfg)
		}
		if err == nil && site == "gesundheitsamt" {
			err = demoExams(ctx, n.Store)
		}
		if err == nil {
			nodes = append(nodes, n)
			// The demo enrolls its sites itself: a token straight into
			// central's store, used by the appliance on first contact
			// (none when central knows the appliance's key already).
			n.Uplink.EnrollToken, err = enrollmentToken(ctx, c.store, site, sitekey.Public(n.Key), time.Hour)
		}
		if err == nil {
			// A kiosk is a device paired by staff (Desk → Kiosks): the
			// demo creates a code per site, so that the first browser
			// opening the printed link becomes the site's kiosk. /kiosk
			// works without it too, within the anonymous limit and with
			// a hint for staff.
			kioskCodes[site], _, err = n.Store.CreateKioskPairing(ctx, "Demo-Kiosk", "demo")
		}
		if err != nil {
			for _, n := range nodes {
				n.Store.Close()
				n.listener.Close()
			}
			c.store.Close()
			c.listener.Close()
			return err
		}
	}

	fmt.Fprintf(stdout, "\nVeedel demo is running (data in %s). Ctrl-C stops it.\n\n", *data)
	fmt.Fprintf(stdout, "  Citizen portal (central)   %s/\n", c.URL)
	fmt.Fprintf(stdout, "  Book an appointment        %s/termin\n", c.URL)
	fmt.Fprintf(stdout, "  Admin (central)            %s/admin      login: admin / admin\n", c.URL)
	fmt.Fprintf(stdout, "  Order a certificate        %s/bestellen   (civil-status certificates: Porz is the Standesamt)\n", c.URL)
	fmt.Fprintf(stdout, "  E-mail sent (simulated)    %s%s\n", c.URL, simMailPath)
	fmt.Fprintf(stdout, "  Payment (simulated)        %s%s   (delivery by post is paid online there: Bezahlen or Abbrechen)\n", c.URL, simPayPath)
	fmt.Fprintf(stdout, "  Vehicle registration       %s/kfz   (i-Kfz: applications go to the site zulassung, decided at its desk)\n", c.URL)
	fmt.Fprintf(stdout, "  Business portal            %s/unternehmen   company: %s (%s), login: %s / %s (first login: set up the TOTP code with the QR code shown)\n",
		c.URL, demoCompanyID, demoCompanyName, demoCompanyAdmin, demoCompanyPassword)
	if apiKey != "" {
		fmt.Fprintf(stdout, "  Business API key           %s   (shown this once: Authorization: Bearer … on /api/v1/business/vehicle-applications)\n", apiKey)
	} else {
		fmt.Fprintf(stdout, "  Business API key           made at the demo's first start (printed then); a new one: Einstellungen → API-Schlüssel\n")
	}
	for _, n := range nodes {
		fmt.Fprintf(stdout, "\n  Site %s\n", n.cfg.Site)
		fmt.Fprintf(stdout, "    Kiosk          %s/kiosk/pair?code=%s   (pairs this browser as the kiosk: once, within %d min; later: Desk → Kiosks)\n",
			n.URL, kioskCodes[n.cfg.Site], int(sqlite.PairingCodeLifetime/time.Minute))
		fmt.Fprintf(stdout, "    Desk           %s/desk      login: demo / demo\n", n.URL)
		fmt.Fprintf(stdout, "    Call display   %s/display\n", n.URL)
		fmt.Fprintf(stdout, "    API            %s/api/v1/services\n", n.URL)
		if n.cfg.Site == "gesundheitsamt" {
			fmt.Fprintf(stdout, "    Exams          API /api/v1/exams on this site (HTTP Basic)   login: aerztin / demo (doctor), assistenz / demo (assistant); demo / demo sees no health data\n")
			fmt.Fprintf(stdout, "    Escrow key     %s   (private; opens every exam from central's copy)\n", filepath.Join(*data, demoEscrowFile))
			fmt.Fprintf(stdout, "    Exam check-in  invitation codes %s (kiosk: \"Termin? Buchungscode eingeben\")\n", strings.Join(demoExamCodes(demoExamDay(n.Store)), ", "))
		}
		if n.cfg.Mount[simScalePath] != nil {
			fmt.Fprintf(stdout, "    Scale          %s%s   (simulated seca scale, %s)\n", n.URL, simScalePath, n.cfg.Scale.Address())
		}
		if n.cfg.Mount[simModemPath] != nil {
			fmt.Fprintf(stdout, "    SMS sent       %s%s   (simulated GSM modem, %s)\n", n.URL, simModemPath, n.cfg.ModemAddress)
		}
		if n.cfg.Mount[simPrinterPath] != nil {
			fmt.Fprintf(stdout, "    Ticket printer %s%s   (simulated, %s)\n", n.URL, simPrinterPath, n.cfg.PrinterAddress)
		} else if n.cfg.PrinterAddress != "" {
			fmt.Fprintf(stdout, "    Ticket printer %s\n", n.cfg.PrinterAddress)
		}
	}
	fmt.Fprintln(stdout)

	var wg sync.WaitGroup
	errs := make(chan error, len(nodes)+1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := func(run func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil {
				errs <- err
				cancel()
			}
		}()
	}
	start(c.Run)
	for _, n := range nodes {
		start(n.Run)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Veedel demo stopped; all data is in", *data)
	return nil
}

// simMailPath is where the demo's central shows the e-mail it sent.
const simMailPath = "/sim/mail/"

// demoPaymentSecret is the secret central and the demo payment provider
// share: a demo's, public, never for a real provider.
var demoPaymentSecret = []byte("veedel-demo-payment-secret")

// simPrinterPath is where a demo site shows its simulated printer's tickets.
const simPrinterPath = "/sim/printer/"

// demoPrinterPorts: the simulated printer of the site on PORT+1+i listens
// on PORT+demoPrinterPorts+1+i (8091, 8092, … for the default 8080), so a
// firewall or a second printer driver can be pointed at a known port.
const demoPrinterPorts = 10

// demoPrinter gives a demo site its ticket printer: the real one at addr
// for Kalk when given, else a printer simulator on loopback whose tickets
// the site shows at /sim/printer/, listening on listen.
func demoPrinter(cfg *applianceConfig, kalk bool, addr, listen string, sims *[]*printersim.Sim) error {
	if kalk && addr != "" {
		p, err := printer.Open(addr, printer.Options{})
		if err != nil {
			return usageErrorf("demo: -printer: %v", err)
		}
		cfg.Printer, cfg.PrinterAddress = p, p.Address()
		return nil
	}
	sim := printersim.New(printersim.Options{})
	if err := sim.Listen(listen); err != nil {
		return fmt.Errorf("demo: simulated printer: %w (the demo's printers take PORT+%d onwards; choose another -port)", err, demoPrinterPorts+1)
	}
	*sims = append(*sims, sim)
	p, err := printer.Open(sim.Addr(), printer.Options{})
	if err != nil {
		return err
	}
	cfg.Printer, cfg.PrinterAddress = p, p.Address()
	cfg.Mount = map[string]http.Handler{simPrinterPath: http.StripPrefix(strings.TrimSuffix(simPrinterPath, "/"), sim.Handler())}
	return nil
}

// demoModem gives Kalk a simulated GSM modem on a pseudo-terminal as its
// SMS sender, so the demo shows the modem's health on the desk and in
// central's fleet view. Where no pseudo-terminal can be had, Kalk keeps
// the log sender and the demo says so in its log.
func demoModem(cfg *applianceConfig, sims *[]*modemsim.Sim) error {
	sim, err := modemsim.Start(modemsim.Options{})
	if err != nil {
		cfg.Logger.Warn("demo: no simulated GSM modem (SMS are only logged)", "err", err)
		return nil
	}
	*sims = append(*sims, sim)
	m, err := modem.Open("serial://"+sim.Path(), modem.Options{})
	if err != nil {
		return err
	}
	cfg.SMSSender = m
	cfg.Modem, cfg.ModemAddress = modemHealth(m), devices.PublicAddress("serial://"+sim.Path())
	if cfg.Mount == nil {
		cfg.Mount = map[string]http.Handler{}
	}
	cfg.Mount[simModemPath] = http.StripPrefix(strings.TrimSuffix(simModemPath, "/"), sim.Handler())
	return nil
}

// simModemPath is where the demo's Kalk shows the SMS its simulated modem
// sent.
const simModemPath = "/sim/modem/"
