package mail_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/veedel/veedel/internal/mail"
	"github.com/veedel/veedel/internal/mail/mailsim"
	"github.com/veedel/veedel/internal/sqlitedb"
)

var from = mail.Address{Name: "Stadt Köln – Bürgerbüro", Email: "noreply@stadt-koeln.example"}

// mustSim starts an SMTP stand-in on loopback, closed with the test.
func mustSim(tb testing.TB, opt mailsim.Options) *mailsim.Sim {
	tb.Helper()
	sim, err := mailsim.Start("127.0.0.1:0", opt)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sim.Close() })
	return sim
}

// mustOpenDB opens a real SQLite file with the outbox's schema, the way
// the stores open theirs.
func mustOpenDB(tb testing.TB, file string) *sqlitedb.DB {
	tb.Helper()
	db, err := sqlitedb.Open(context.Background(), file, fstest.MapFS{
		"0001_mail_outbox.sql": {Data: []byte(mail.SchemaSQLite)},
	}, sqlitedb.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

func tempDB(tb testing.TB) string { return filepath.Join(tb.TempDir(), "mail.db") }

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)} }
func relayTo(sim *mailsim.Sim) *mail.Relay {
	return &mail.Relay{Addr: sim.Addr(), Helo: "appliance.test", Timeout: 10 * time.Second}
}

// selfSigned returns a server TLS config for 127.0.0.1 and a client pool
// that trusts it.
func selfSigned(tb testing.TB) (*tls.Config, *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailsim"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"relay.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

func fmtAny(v any) string { return fmt.Sprint(v) }
