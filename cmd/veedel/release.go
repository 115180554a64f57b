package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/update"
)

// veedel release keygen | sign | verify: the city's release tooling for
// signed update bundles (package update).

const releaseUsage = `Usage: veedel release keygen -out city-release.key
       veedel release sign -key city-release.key -version V [-min-version V] -rootfs FILE -out BUNDLE
       veedel release verify -pub city-release.pub [-pub other.pub] BUNDLE

keygen makes the city's release key (PKCS #8 PEM, mode 0600) and its public
half beside it (.pub); it never overwrites a key. sign writes a bundle of a
root filesystem image and its manifest (version, SHA-256, size, the oldest
version that may update to it), signed with the key. verify exits 0 when
the bundle is signed by one of the given public keys and the image's size
and SHA-256 match its manifest, else 1 with one line saying what does not
hold. Nothing expires and no clock is consulted: a key is retired by
leaving it out of the appliances' trusted keys; two may be trusted at once.
`

func runRelease(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("release: keygen, sign or verify (see veedel release -help)")
	}
	switch args[0] {
	case "keygen":
		return runReleaseKeygen(args[1:], stdout, stderr)
	case "sign":
		return runReleaseSign(args[1:], stdout, stderr)
	case "verify":
		return runReleaseVerify(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, releaseUsage)
		return nil
	}
	return usageErrorf("release: unknown subcommand %q (want keygen, sign or verify)", args[0])
}

func releaseFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("release "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, releaseUsage+"\n")
		fs.PrintDefaults()
	}
	return fs
}

func runReleaseKeygen(args []string, stdout, stderr io.Writer) error {
	fs := releaseFlags("keygen", stderr)
	out := fs.String("out", "", "file for the new private key, ending in .key (the public key goes beside it as .pub)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageErrorf("release keygen: -out is required, e.g. -out city-release.key")
	}
	pub, err := update.GenerateKeyFiles(*out)
	if err != nil {
		return releaseError("release keygen", err)
	}
	id := update.KeyID(pub)
	fmt.Fprintf(stdout, "release key %x written to %s, public key to %s\n", id, *out, update.PublicPath(*out))
	return nil
}

func runReleaseSign(args []string, stdout, stderr io.Writer) error {
	fs := releaseFlags("sign", stderr)
	keyPath := fs.String("key", "", "the release key (from veedel release keygen)")
	version := fs.String("version", "", "the release's version, e.g. 2026.12.1")
	minVersion := fs.String("min-version", "", "the oldest version that may update to this one directly (default: any)")
	rootfs := fs.String("rootfs", "", "the root filesystem image")
	out := fs.String("out", "", "the bundle to write")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	for name, v := range map[string]string{"-key": *keyPath, "-version": *version, "-rootfs": *rootfs, "-out": *out} {
		if v == "" {
			return usageErrorf("release sign: %s is required (see veedel release -help)", name)
		}
	}
	key, err := update.ReadPrivateKey(*keyPath)
	if err != nil {
		return releaseError("release sign", err)
	}
	in, err := os.Open(*rootfs)
	if err != nil {
		return usageErrorf("release sign: %v", err)
	}
	defer in.Close()
	// Written beside the target and renamed when complete: a half-written
	// bundle never carries the final name.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".bundle-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	m, err := update.Sign(tmp, key, *version, *minVersion, in, time.Now())
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return releaseError("release sign", err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: version %s, %d bytes, sha256 %s\n", *out, m.Version, m.RootfsSize, m.RootfsSHA256)
	return nil
}

// pubList is the repeatable -pub flag.
type pubList []string

func (p *pubList) String() string     { return strings.Join(*p, ",") }
func (p *pubList) Set(v string) error { *p = append(*p, v); return nil }

func runReleaseVerify(args []string, stdout, stderr io.Writer) error {
	fs := releaseFlags("verify", stderr)
	var pubs pubList
	fs.Var(&pubs, "pub", "a trusted public release key (repeat for two during a key rotation)")
	// The bundle is the one argument after the flags.
	var bundle string
	if n := len(args); n > 0 && !strings.HasPrefix(args[n-1], "-") {
		bundle, args = args[n-1], args[:n-1]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(pubs) == 0 || bundle == "" {
		return usageErrorf("release verify: give -pub KEY and the bundle, e.g. veedel release verify -pub city-release.pub veedel-2026.12.1.bundle")
	}
	var trusted []ed25519.PublicKey
	for _, p := range pubs {
		pub, err := update.ReadPublicKey(p)
		if err != nil {
			return releaseError("release verify", err)
		}
		trusted = append(trusted, pub)
	}
	f, err := os.Open(bundle)
	if err != nil {
		return usageErrorf("release verify: %v", err)
	}
	defer f.Close()
	m, err := update.Verify(f, trusted)
	if err != nil {
		return fmt.Errorf("release verify: %s: %w", bundle, err)
	}
	fmt.Fprintf(stdout, "%s: good: version %s (from %s on), %d bytes, sha256 %s\n", bundle, m.Version, orAny(m.MinVersion), m.RootfsSize, m.RootfsSHA256)
	return nil
}

func orAny(v string) string {
	if v == "" {
		return "any version"
	}
	return v
}

// releaseError makes an input problem (a missing or malformed key, a bad
// version) a usage error of one line, and leaves the rest as they are.
func releaseError(cmd string, err error) error {
	switch veedel.ErrorCode(err) {
	case veedel.EINVALID, veedel.ENOTFOUND, veedel.ECONFLICT:
		return usageErrorf("%s: %s", cmd, veedel.ErrorMessage(err))
	}
	if errors.Is(err, os.ErrNotExist) {
		return usageErrorf("%s: %v", cmd, err)
	}
	return fmt.Errorf("%s: %w", cmd, err)
}
