// Package provision carries a site's settings from the technician's laptop
// to an appliance's first boot: veedel flash writes a Record to the image's
// provisioning partition (a raw partition, no file system, so that it is
// written without mounting anything and without root); at boot veedel
// provision moves it onto the data partition and wipes the partition, so
// the enrollment token exists once, on the box, until the appliance has
// enrolled (then the appliance deletes it).
package provision

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/veedel/veedel/internal/login"
)

// Record is what the technician provisions for one box.
type Record struct {
	Site string `json:"site"`
	// CentralURL is central's base URL (empty: the appliance runs without
	// sync, as at a site that is not connected yet).
	CentralURL string `json:"central_url,omitempty"`
	// CentralCA is PEM: CA certificates to trust for central's HTTPS.
	CentralCA string `json:"central_ca,omitempty"`
	// EnrollToken is the one-time token from veedel central enroll.
	EnrollToken string `json:"enroll_token,omitempty"`
	// AdminPassword is the site lead's first password (login "admin"): the
	// appliance sets it on its first start and deletes it from the box.
	AdminPassword string  `json:"admin_password,omitempty"`
	Network       Network `json:"network"`
	// HealthTimeout is how long a boot has to answer /healthz before it
	// counts as failed (boot counting then falls back to the other slot).
	HealthTimeout Duration `json:"health_timeout,omitempty"`
	// UpdateSwitchAnytime lets the update agent switch to a staged
	// release at once instead of in the site's closing hours (lab and
	// test boxes); UpdatePoll is how often it asks central (0: its
	// default, 5 minutes).
	UpdateSwitchAnytime bool     `json:"update_switch_anytime,omitempty"`
	UpdatePoll          Duration `json:"update_poll,omitempty"`
}

// Network is the LAN configuration: DHCP unless Address is set.
type Network struct {
	// Address with prefix, e.g. 10.20.30.40/24; empty: DHCP.
	Address string   `json:"address,omitempty"`
	Gateway string   `json:"gateway,omitempty"`
	DNS     []string `json:"dns,omitempty"`
	// NTP servers (names or addresses); empty: DHCP's, else Debian's pool.
	NTP []string `json:"ntp,omitempty"`
}

// Duration is a time.Duration that reads and writes as "5m".
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// DefaultHealthTimeout is the time a boot has to become healthy.
const DefaultHealthTimeout = 5 * time.Minute

var siteRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// hostRE is a DNS name or an address, for NTP servers.
var hostRE = regexp.MustCompile(`^[A-Za-z0-9.:-]{1,253}$`)

// Validate says what is wrong with r, in one line a technician can act on.
func (r *Record) Validate() error {
	if !siteRE.MatchString(r.Site) {
		return fmt.Errorf("site %q: want lower-case letters, digits and -, e.g. kalk", r.Site)
	}
	if r.CentralURL != "" {
		u, err := url.Parse(r.CentralURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(r.CentralURL, " \"'\\$\n") {
			return fmt.Errorf("central URL %q: want https://host[:port]", r.CentralURL)
		}
	}
	if r.EnrollToken != "" && r.CentralURL == "" {
		return errors.New("an enrollment token needs central's URL")
	}
	if strings.ContainsAny(r.EnrollToken, " \t\r\n\"'\\$") {
		return errors.New("enrollment token: must not contain spaces or quotes")
	}
	if r.AdminPassword != "" {
		if err := login.CheckNewPassword("admin", r.AdminPassword); err != nil {
			return fmt.Errorf("admin password: %v", err)
		}
	}
	if r.CentralCA != "" {
		if r.CentralURL == "" {
			return errors.New("a CA for central needs central's URL")
		}
		if err := checkPEM([]byte(r.CentralCA)); err != nil {
			return fmt.Errorf("central CA: %v", err)
		}
	}
	if r.HealthTimeout < 0 || (r.HealthTimeout > 0 && time.Duration(r.HealthTimeout) < 10*time.Second) {
		return errors.New("health timeout: want at least 10s, e.g. 5m")
	}
	n := r.Network
	if n.Address == "" {
		if n.Gateway != "" || len(n.DNS) > 0 {
			return errors.New("network: a gateway or DNS server needs a static address (with prefix, e.g. 10.0.0.5/24)")
		}
	} else {
		p, err := netip.ParsePrefix(n.Address)
		if err != nil {
			return fmt.Errorf("network address %q: want an address with prefix, e.g. 10.0.0.5/24", n.Address)
		}
		if n.Gateway != "" {
			g, err := netip.ParseAddr(n.Gateway)
			if err != nil {
				return fmt.Errorf("network gateway %q: want an IP address", n.Gateway)
			}
			if !p.Masked().Contains(g) {
				return fmt.Errorf("network gateway %s is not in %s", g, p.Masked())
			}
		}
		for _, d := range n.DNS {
			if _, err := netip.ParseAddr(d); err != nil {
				return fmt.Errorf("network DNS server %q: want an IP address", d)
			}
		}
	}
	for _, s := range n.NTP {
		if !hostRE.MatchString(s) {
			return fmt.Errorf("NTP server %q: want a host name or IP address", s)
		}
	}
	return nil
}

// checkPEM accepts one or more PEM certificates and nothing else.
func checkPEM(b []byte) error {
	n := 0
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return fmt.Errorf("PEM block %q, want CERTIFICATE", blk.Type)
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			return err
		}
		n++
	}
	if n == 0 || len(bytes.TrimSpace(b)) > 0 {
		return errors.New("want PEM certificates only")
	}
	return nil
}

// The provisioning partition's layout: magic, big-endian length of the
// JSON, its SHA-256, the JSON; the rest zeros. All zeros: no record.
var magic = []byte("VEEDEL-PROVISION-1\n")

// MaxSize is the most a record may take (the partition is 1 MiB).
const MaxSize = 256 << 10

// ErrNone means the partition holds no record (it is all zeros: never
// provisioned, or already taken over).
var ErrNone = errors.New("no provisioning record")

// Encode is the partition's content for r (without the zero padding).
func Encode(r *Record) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	js, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(magic)
	binary.Write(&b, binary.BigEndian, uint32(len(js)))
	sum := sha256.Sum256(js)
	b.Write(sum[:])
	b.Write(js)
	if b.Len() > MaxSize {
		return nil, fmt.Errorf("provisioning record is %d bytes, at most %d fit", b.Len(), MaxSize)
	}
	return b.Bytes(), nil
}

// Decode reads a record from the start of the partition's content: ErrNone
// when it is all zeros, an error when it is damaged or invalid.
func Decode(p []byte) (*Record, error) {
	if len(p) < len(magic)+4+sha256.Size || !bytes.Equal(p[:len(magic)], magic) {
		if len(bytes.Trim(p, "\x00")) == 0 {
			return nil, ErrNone
		}
		return nil, errors.New("provisioning partition holds something that is not a provisioning record")
	}
	p = p[len(magic):]
	n := binary.BigEndian.Uint32(p)
	var sum [sha256.Size]byte
	copy(sum[:], p[4:])
	p = p[4+sha256.Size:]
	if n > MaxSize || int(n) > len(p) {
		return nil, errors.New("provisioning record is truncated")
	}
	js := p[:n]
	if sha256.Sum256(js) != sum {
		return nil, errors.New("provisioning record is damaged (checksum mismatch)")
	}
	var r Record
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("provisioning record: %v", err)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("provisioning record: %v", err)
	}
	return &r, nil
}
