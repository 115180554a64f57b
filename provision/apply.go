package provision

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Files on the data partition (the appliance's data directory).
const (
	RecordFile = "provision.json" // the record, without the token (root only)
	TokenFile  = "enroll-token"   // the token, until the appliance has enrolled
	// AdminPasswordFile is the lead's first password, until the appliance
	// has set it.
	AdminPasswordFile = "admin-password"
	CAFile            = "central-ca.pem"
)

// TakeOver moves a record from the provisioning partition (dev) onto the
// data directory and then wipes the partition: the settings survive a
// crash at any point (the partition is wiped only after the files are
// synced), and the token then exists only in data/enroll-token. It
// returns the record taken over, or ErrNone when there was none.
func TakeOver(dev, data string) (*Record, error) {
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, MaxSize)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("reading %s: %w", dev, err)
	}
	r, err := Decode(buf[:n])
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(data)
	if err != nil {
		return nil, err
	}
	uid, gid := -1, -1
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		uid, gid = int(s.Uid), int(s.Gid)
	}
	if r.EnrollToken != "" {
		// Owned by the appliance's user (the data directory's owner): the
		// appliance deletes it once it has enrolled.
		if err := writeFile(filepath.Join(data, TokenFile), []byte(r.EnrollToken+"\n"), 0o600, uid, gid); err != nil {
			return nil, err
		}
	}
	if r.AdminPassword != "" {
		if err := writeFile(filepath.Join(data, AdminPasswordFile), []byte(r.AdminPassword), 0o600, uid, gid); err != nil {
			return nil, err
		}
	}
	if r.CentralCA != "" {
		if err := writeFile(filepath.Join(data, CAFile), []byte(r.CentralCA), 0o644, -1, -1); err != nil {
			return nil, err
		}
	}
	kept := *r
	kept.EnrollToken = ""
	kept.AdminPassword = ""
	js, err := json.MarshalIndent(&kept, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(data, RecordFile), append(js, '\n'), 0o600, -1, -1); err != nil {
		return nil, err
	}
	if err := syncDir(data); err != nil {
		return nil, err
	}
	if err := wipe(f); err != nil {
		return nil, fmt.Errorf("wiping %s: %w", dev, err)
	}
	return r, nil
}

// wipe overwrites the whole partition (or file) with zeros and syncs it.
func wipe(f *os.File) error {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	zero := make([]byte, 64<<10)
	for off := int64(0); off < size; off += int64(len(zero)) {
		n := min(int64(len(zero)), size-off)
		if _, err := f.WriteAt(zero[:n], off); err != nil {
			return err
		}
	}
	return f.Sync()
}

// Load reads the record kept on the data partition; ErrNone when the box
// was never provisioned.
func Load(data string) (*Record, error) {
	b, err := os.ReadFile(filepath.Join(data, RecordFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNone
	}
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %v", RecordFile, err)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", RecordFile, err)
	}
	return &r, nil
}

// ApplianceListen is where the appliance serves the LAN (the firewall opens
// this port and nothing else).
const ApplianceListen = "0.0.0.0:8081"

// Configure writes the boot's settings from r under run (/run): the
// appliance's environment (veedel/appliance.env, read by veedel.service),
// a static network (systemd/network/10-veedel.network) and NTP servers
// (systemd/timesyncd.conf.d/10-veedel.conf).
func Configure(r *Record, data, run string) error {
	ca := ""
	if r.CentralCA != "" {
		ca = filepath.Join(data, CAFile)
	}
	timeout := time.Duration(r.HealthTimeout)
	if timeout == 0 {
		timeout = DefaultHealthTimeout
	}
	// The update agent's optional flags, unquoted: veedel-update.service
	// splits $VEEDEL_UPDATE_FLAGS into words.
	var flags []string
	if r.UpdateSwitchAnytime {
		flags = append(flags, "-switch-anytime")
	}
	if r.UpdatePoll > 0 {
		flags = append(flags, "-poll="+time.Duration(r.UpdatePoll).String())
	}
	env := fmt.Sprintf("VEEDEL_SITE=%s\nVEEDEL_LISTEN=%s\nVEEDEL_CENTRAL=%s\nVEEDEL_CENTRAL_CA=%s\nVEEDEL_HEALTH_TIMEOUT=%s\nVEEDEL_UPDATE_FLAGS=%s\n",
		r.Site, ApplianceListen, r.CentralURL, ca, timeout, strings.Join(flags, " "))
	if err := writeFile(filepath.Join(run, "veedel", "appliance.env"), []byte(env), 0o644, -1, -1); err != nil {
		return err
	}
	n := r.Network
	if n.Address != "" {
		var b strings.Builder
		b.WriteString("# Written by veedel provision from the provisioning record.\n[Match]\nType=ether\n\n[Network]\n")
		fmt.Fprintf(&b, "Address=%s\n", n.Address)
		if n.Gateway != "" {
			fmt.Fprintf(&b, "Gateway=%s\n", n.Gateway)
		}
		for _, d := range n.DNS {
			fmt.Fprintf(&b, "DNS=%s\n", d)
		}
		if err := writeFile(filepath.Join(run, "systemd", "network", "10-veedel.network"), []byte(b.String()), 0o644, -1, -1); err != nil {
			return err
		}
	}
	if len(n.NTP) > 0 {
		conf := "[Time]\nNTP=" + strings.Join(n.NTP, " ") + "\n"
		if err := writeFile(filepath.Join(run, "systemd", "timesyncd.conf.d", "10-veedel.conf"), []byte(conf), 0o644, -1, -1); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes atomically (temporary file, fsync, rename), with the
// owner when uid >= 0.
func writeFile(name string, b []byte, mode os.FileMode, uid, gid int) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if uid >= 0 && os.Geteuid() == 0 {
		if err := tmp.Chown(uid, gid); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
