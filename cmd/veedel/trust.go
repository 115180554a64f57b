package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/central"
	"github.com/veedel/veedel/sync/changelog"
	"github.com/veedel/veedel/ui"
)

// Trust on the command line: `veedel central enroll` and `veedel central
// revoke` work on central's database directly (also while central runs: on
// SQLite, WAL and a busy timeout let both write), and the TLS set-up of central and
// of the appliance's uplink.

func runCentralEnroll(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("central enroll", flag.ContinueOnError)
	fs.SetOutput(stderr)
	site := fs.String("site", "", "site ID (required): a site of central's directory (veedel central site list)")
	data := fs.String("data", "./var", "directory of central's SQLite file (as for veedel central)")
	db := dbFlag(fs)
	ttl := fs.Duration("ttl", central.DefaultEnrollTTL, "how long the token stays valid")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: veedel central enroll -site ID [flags]

Creates a one-time enrollment token for a site's appliance and prints it
(only the token, on stdout). The site must be in central's directory: a
new central knows Cologne's customer centres; add any other site first
with veedel central site add. Give it to the appliance once, with
-enroll-token or VEEDEL_ENROLL_TOKEN: on its first contact with central it
registers its public key with the token. Enrolling a site again replaces
its appliance: the previous key is revoked as soon as the new one enrolls.
Works while central runs. Central stores only the token's SHA-256.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *site == "" {
		return usageErrorf("central enroll: -site is required (veedel central site list shows the sites)")
	}
	if *ttl <= 0 {
		return usageErrorf("central enroll: -ttl %v must be positive", *ttl)
	}
	store, path, err := openCentralFile(ctx, "central enroll", *db, *data, true)
	if err != nil {
		return err
	}
	defer store.Close()
	now := time.Now()
	token, err := central.NewEnrollmentToken(ctx, store, *site, now, *ttl)
	if veedel.ErrorCode(err) == veedel.ENOTFOUND {
		return usageErrorf("central enroll: %s", ui.InLang("en", veedel.ErrorMessage(err)))
	} else if err != nil {
		return err
	}
	fmt.Fprintln(stdout, token)
	fmt.Fprintf(stderr, "Enrollment token for site %s (central database %s), single use, valid until %s.\nOn the appliance: VEEDEL_ENROLL_TOKEN=<token> veedel appliance -site %s -central <central URL> …\n",
		*site, path, now.Add(*ttl).Format(time.RFC3339), *site)
	return nil
}

func runCentralRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("central revoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	site := fs.String("site", "", "site ID (required)")
	data := fs.String("data", "./var", "directory of central's SQLite file (as for veedel central)")
	db := dbFlag(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: veedel central revoke -site ID [flags]

Revokes the site's active key: central refuses the site's batches from now
on (what it already stored stays) until an appliance enrolls for the site
again with a new token from veedel central enroll. Works while central runs.

`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *site == "" {
		return usageErrorf("central revoke: -site is required")
	}
	store, _, err := openCentralFile(ctx, "central revoke", *db, *data, false)
	if err != nil {
		return err
	}
	defer store.Close()
	revoked, err := store.RevokeSiteKeys(ctx, *site, time.Now())
	if err != nil {
		return err
	}
	if len(revoked) == 0 {
		return fmt.Errorf("central revoke: site %s has no active key", *site)
	}
	for _, k := range revoked {
		fmt.Fprintf(stdout, "revoked key %s of site %s (enrolled %s)\n", k.KeyID, k.Site, k.EnrolledAt.Format(time.RFC3339))
	}
	return nil
}

// enrollmentToken returns a new enrollment token for site when central's
// store has no active key pub for it, and "" when the appliance with that
// key is enrolled already. The demo and the tests enroll their sites so.
func enrollmentToken(ctx context.Context, store centralStore, site string, pub ed25519.PublicKey, ttl time.Duration) (string, error) {
	keys, err := store.KeysByID(ctx, changelog.KeyID(pub))
	if err != nil {
		return "", err
	}
	for _, k := range keys {
		if k.Site == site && k.Active() && bytes.Equal(k.PublicKey, pub) {
			return "", nil
		}
	}
	return central.NewEnrollmentToken(ctx, store, site, time.Now(), ttl)
}

// serverTLS loads central's certificate and key for HTTPS. The files are
// read again when they change (a renewed certificate needs no restart).
func serverTLS(certFile, keyFile string) (*tls.Config, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	if _, err := r.get(); err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"}, // HTTP/2: many SSE streams per browser
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return r.get()
		},
	}, nil
}

type certReloader struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime time.Time
}

func (r *certReloader) get() (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var mod time.Time
	for _, f := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			if r.cert != nil {
				return r.cert, nil // keep serving while a renewal replaces the files
			}
			return nil, fmt.Errorf("TLS: %w", err)
		}
		if fi.ModTime().After(mod) {
			mod = fi.ModTime()
		}
	}
	if r.cert != nil && mod.Equal(r.modTime) {
		return r.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		if r.cert != nil {
			return r.cert, nil // half-written renewal: keep the old one
		}
		return nil, fmt.Errorf("TLS: %w", err)
	}
	r.cert, r.modTime = &cert, mod
	return r.cert, nil
}

// centralClient is the HTTP client an appliance talks to central with: the
// system's root certificates plus, when caFile is set, the CA certificates
// in that PEM file (a city's own CA). nil when there is nothing to add.
func centralClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("central CA: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("central CA: no PEM certificate in %s", caFile)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Timeout: 15 * time.Second, Transport: transport}, nil
}
