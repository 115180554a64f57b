package provision

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	r := &Record{Site: "kalk", CentralURL: "https://central.example", EnrollToken: "tok-123",
		HealthTimeout: Duration(2 * time.Minute),
		Network:       Network{Address: "10.20.30.40/24", Gateway: "10.20.30.1", DNS: []string{"10.20.30.1"}, NTP: []string{"ntp.example"}}}
	b, err := Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 1<<20)
	copy(part, b)
	got, err := Decode(part)
	if err != nil {
		t.Fatal(err)
	}
	if got.Site != "kalk" || got.EnrollToken != "tok-123" || got.Network.Gateway != "10.20.30.1" || time.Duration(got.HealthTimeout) != 2*time.Minute {
		t.Fatalf("round trip: %+v", got)
	}
	// One flipped byte in the JSON is refused, not half-applied.
	part[len(magic)+4+32+3] ^= 1
	if _, err := Decode(part); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("flipped byte: err %v, want damaged", err)
	}
	if _, err := Decode(make([]byte, 4096)); !errors.Is(err, ErrNone) {
		t.Fatalf("zeros: err %v, want ErrNone", err)
	}
	if _, err := Decode([]byte("garbage that is not zeros")); err == nil || errors.Is(err, ErrNone) {
		t.Fatalf("garbage: err %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		r    Record
		want string
	}{
		{Record{Site: ""}, "site"},
		{Record{Site: "Kalk Nord"}, "site"},
		{Record{Site: "kalk", EnrollToken: "t"}, "needs central"},
		{Record{Site: "kalk", CentralURL: "ftp://x"}, "central URL"},
		{Record{Site: "kalk", CentralURL: "https://c", CentralCA: "not pem"}, "central CA"},
		{Record{Site: "kalk", Network: Network{Address: "10.0.0.5"}}, "with prefix"},
		{Record{Site: "kalk", Network: Network{Address: "10.0.0.5/24", Gateway: "10.1.0.1"}}, "not in"},
		{Record{Site: "kalk", Network: Network{Gateway: "10.0.0.1"}}, "needs a static address"},
		{Record{Site: "kalk", Network: Network{NTP: []string{"a b"}}}, "NTP"},
		{Record{Site: "kalk", HealthTimeout: Duration(time.Second)}, "health timeout"},
		{Record{Site: "kalk", AdminPassword: "short"}, "admin password"},
	} {
		err := tc.r.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.r, err, tc.want)
		}
	}
	if err := (&Record{Site: "kalk"}).Validate(); err != nil {
		t.Errorf("minimal record: %v", err)
	}
}

// makeImage builds a small GPT disk image with the partitions the real one
// has, with sfdisk (as images/build.sh does), and a non-zero pattern in
// each partition.
func makeImage(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("sfdisk"); err != nil {
		t.Skip("sfdisk not installed (apt-get install fdisk)")
	}
	img := filepath.Join(t.TempDir(), "test.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 16<<20); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sfdisk", "-q", "--no-reread", "--no-tell-kernel", img)
	cmd.Stdin = strings.NewReader(`label: gpt
start=1MiB, size=2MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp
size=4MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root-a
size=4MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root-b
size=1MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=provision
size=2MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=data
`)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v: %s", err, out)
	}
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parts, err := ReadGPT(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if p.Name == "provision" {
			continue
		}
		if _, err := f.WriteAt(bytes.Repeat([]byte(p.Name[:1]), 4096), p.Offset); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

func TestReadGPT(t *testing.T) {
	img := makeImage(t)
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parts, err := ReadGPT(f)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range parts {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "esp,root-a,root-b,provision,data" {
		t.Fatalf("partitions %v", names)
	}
	prov, _ := Find(parts, "provision")
	if prov.Offset != 11<<20 || prov.Size != 1<<20 {
		t.Fatalf("provision at %d size %d, want 11 MiB, 1 MiB", prov.Offset, prov.Size)
	}
	// A damaged header is refused rather than trusted.
	b, _ := os.ReadFile(img)
	b[512+40] ^= 0xff
	if _, err := ReadGPT(bytes.NewReader(b)); err == nil {
		t.Fatal("damaged GPT header accepted")
	}
	if _, err := ReadGPT(bytes.NewReader(make([]byte, 4096))); err == nil {
		t.Fatal("no GPT accepted")
	}
}

func TestFlashOutputAndTakeOver(t *testing.T) {
	img := makeImage(t)
	src, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	st, _ := src.Stat()
	out := filepath.Join(t.TempDir(), "flashed.img")
	dst, err := os.OpenFile(out, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	ca := testCA(t)
	rec := &Record{Site: "kalk", CentralURL: "https://central.example", CentralCA: ca, EnrollToken: "secret-token", AdminPassword: "vier Wörter im Satz hier",
		Network: Network{Address: "192.168.7.20/24", Gateway: "192.168.7.1", DNS: []string{"192.168.7.1"}, NTP: []string{"ntp.stadt.example"}}}
	if err := Flash(src, st.Size(), dst, false, rec); err != nil {
		t.Fatal(err)
	}
	dst.Close()

	orig, _ := os.ReadFile(img)
	got, _ := os.ReadFile(out)
	if len(got) != len(orig) {
		t.Fatalf("flashed %d bytes, image has %d", len(got), len(orig))
	}
	parts, _ := ReadGPT(bytes.NewReader(got))
	for _, p := range parts {
		seg := got[p.Offset : p.Offset+p.Size]
		want := orig[p.Offset : p.Offset+p.Size]
		switch p.Name {
		case "provision":
			r, err := Decode(seg)
			if err != nil || r.EnrollToken != "secret-token" {
				t.Fatalf("provisioning partition: %v %+v", err, r)
			}
		case "root-b":
			// Slot B is empty until the first update writes all of it.
		default:
			if !bytes.Equal(seg, want) {
				t.Errorf("partition %s differs from the image", p.Name)
			}
		}
	}
	if !bytes.Equal(got[:1<<20], orig[:1<<20]) {
		t.Error("the GPT differs from the image")
	}

	// First boot: the partition (here: its bytes in a file) is taken over.
	provPart, _ := Find(parts, "provision")
	dev := filepath.Join(t.TempDir(), "provision.part")
	if err := os.WriteFile(dev, got[provPart.Offset:provPart.Offset+provPart.Size], 0o600); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	taken, err := TakeOver(dev, data)
	if err != nil {
		t.Fatal(err)
	}
	if taken.Site != "kalk" {
		t.Fatalf("took over %+v", taken)
	}
	wiped, _ := os.ReadFile(dev)
	if len(wiped) != 1<<20 || len(bytes.Trim(wiped, "\x00")) != 0 {
		t.Fatal("the provisioning partition is not wiped after the take-over")
	}
	if _, err := TakeOver(dev, data); !errors.Is(err, ErrNone) {
		t.Fatalf("second take-over: %v, want ErrNone", err)
	}
	tok, err := os.ReadFile(filepath.Join(data, TokenFile))
	if err != nil || strings.TrimSpace(string(tok)) != "secret-token" {
		t.Fatalf("token file: %q %v", tok, err)
	}
	if pw, err := os.ReadFile(filepath.Join(data, AdminPasswordFile)); err != nil || string(pw) != "vier Wörter im Satz hier" {
		t.Fatalf("admin password file: %q %v", pw, err)
	}
	kept, _ := os.ReadFile(filepath.Join(data, RecordFile))
	if strings.Contains(string(kept), "secret-token") || strings.Contains(string(kept), "Wörter") {
		t.Fatal("the kept record holds the enrollment token or the password")
	}
	if fi, _ := os.Stat(filepath.Join(data, RecordFile)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("record mode %v", fi.Mode())
	}

	r, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	run := t.TempDir()
	if err := Configure(r, data, run); err != nil {
		t.Fatal(err)
	}
	env, _ := os.ReadFile(filepath.Join(run, "veedel", "appliance.env"))
	for _, want := range []string{"VEEDEL_SITE=kalk\n", "VEEDEL_CENTRAL=https://central.example\n", "VEEDEL_CENTRAL_CA=" + filepath.Join(data, CAFile) + "\n", "VEEDEL_HEALTH_TIMEOUT=5m0s\n", "VEEDEL_LISTEN=0.0.0.0:8081\n", "VEEDEL_UPDATE_FLAGS=\n"} {
		if !strings.Contains(string(env), want) {
			t.Errorf("appliance.env lacks %q:\n%s", want, env)
		}
	}
	if strings.Contains(string(env), "secret-token") {
		t.Error("appliance.env holds the token")
	}
	nw, _ := os.ReadFile(filepath.Join(run, "systemd", "network", "10-veedel.network"))
	if !strings.Contains(string(nw), "Address=192.168.7.20/24\n") || !strings.Contains(string(nw), "Gateway=192.168.7.1\n") {
		t.Errorf("network file:\n%s", nw)
	}
	ntp, _ := os.ReadFile(filepath.Join(run, "systemd", "timesyncd.conf.d", "10-veedel.conf"))
	if string(ntp) != "[Time]\nNTP=ntp.stadt.example\n" {
		t.Errorf("timesyncd file: %q", ntp)
	}
	cab, _ := os.ReadFile(filepath.Join(data, CAFile))
	if string(cab) != ca {
		t.Error("CA file differs")
	}
}

func TestFlashRefusesWhatIsNotAnImage(t *testing.T) {
	dst, err := os.Create(filepath.Join(t.TempDir(), "out.img"))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	junk := bytes.Repeat([]byte{1}, 1<<20)
	if err := Flash(bytes.NewReader(junk), int64(len(junk)), dst, false, &Record{Site: "kalk"}); err == nil || !strings.Contains(err.Error(), "GPT") {
		t.Fatalf("err %v", err)
	}
	if fi, _ := dst.Stat(); fi.Size() != 0 {
		t.Fatal("wrote to the target before checking the image")
	}
}

func testCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		BasicConstraintsValid: true, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// The update agent's flags from the record, as veedel-update.service
// splits them ($VEEDEL_UPDATE_FLAGS, unquoted).
func TestConfigureUpdateFlags(t *testing.T) {
	run := t.TempDir()
	r := &Record{Site: "kalk", CentralURL: "http://10.0.2.2:8080", UpdateSwitchAnytime: true, UpdatePoll: Duration(10 * time.Second)}
	if err := Configure(r, t.TempDir(), run); err != nil {
		t.Fatal(err)
	}
	env, _ := os.ReadFile(filepath.Join(run, "veedel", "appliance.env"))
	if !strings.Contains(string(env), "VEEDEL_UPDATE_FLAGS=-switch-anytime -poll=10s\n") {
		t.Errorf("appliance.env:\n%s", env)
	}
}
