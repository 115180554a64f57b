package modem

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// SIMState is what AT+CPIN? says of the SIM.
type SIMState string

const (
	SIMUnknown SIMState = ""
	SIMReady   SIMState = "ready"
	SIMMissing SIMState = "missing"
	SIMPIN     SIMState = "pin required"
	SIMPUK     SIMState = "puk required"
	SIMFailure SIMState = "failure"
)

// Registration is the network registration of AT+CREG? (3GPP TS 27.007
// 7.2; the values are the <stat> codes).
type Registration int

const (
	NotRegistered Registration = 0 // not registered, not searching
	Registered    Registration = 1 // home network
	Searching     Registration = 2
	Denied        Registration = 3
	UnknownReg    Registration = 4
	Roaming       Registration = 5
)

func (r Registration) String() string {
	switch r {
	case NotRegistered:
		return "not registered"
	case Registered:
		return "registered"
	case Searching:
		return "searching"
	case Denied:
		return "denied"
	case Roaming:
		return "roaming"
	}
	return "unknown"
}

// Health is the modem's state as it reports it.
type Health struct {
	// Up: the port is open and the modem answers.
	Up bool
	// SignalDBM is the received signal strength from AT+CSQ (-113 to -51
	// dBm), 0 when unknown.
	SignalDBM int
	Network   Registration
	SIM       SIMState
}

// Health asks the modem for its signal, registration and SIM. The error
// is the first failure; the Health returned then holds what is known.
//
// Health does not wait for a busy modem: when ctx ends before it gets the
// modem (a Send waiting up to a minute for the network) or before the
// modem answered, it returns the last health it read (Up as last seen;
// before any, not Up), without touching the port, and no error. A modem
// that really stopped answering is found by the next call: the answer
// it still owes must come within the command timeout.
func (m *Modem) Health(ctx context.Context) (Health, error) {
	if err := m.acquire(ctx); err != nil {
		return m.lastHealth(), nil
	}
	defer m.release()
	h, err := m.health(ctx)
	var ce *canceledError
	if errors.As(err, &ce) {
		return m.lastHealth(), nil
	}
	m.fail(err)
	if m.c == nil {
		h.Up = false // the port failed or the modem stopped answering
	}
	m.lastMu.Lock()
	m.last = h
	m.lastMu.Unlock()
	return h, err
}

func (m *Modem) lastHealth() Health {
	m.lastMu.Lock()
	defer m.lastMu.Unlock()
	return m.last
}

func (m *Modem) health(ctx context.Context) (Health, error) {
	h := Health{Network: UnknownReg}
	if err := m.sync(ctx); err != nil {
		return h, err
	}
	h.Up = true
	sim, err := m.sim(ctx)
	if err != nil {
		return h, err
	}
	h.SIM = sim
	info, err := m.cmd(ctx, "AT+CSQ", "+CSQ:")
	if err != nil {
		return h, classify("AT+CSQ", err)
	}
	if len(info) > 0 {
		rssi, _, _ := strings.Cut(info[0], ",")
		if n, err := strconv.Atoi(strings.TrimSpace(rssi)); err == nil && n >= 0 && n <= 31 {
			h.SignalDBM = -113 + 2*n
		}
	}
	info, err = m.cmd(ctx, "AT+CREG?", "+CREG:")
	if err != nil {
		return h, classify("AT+CREG?", err)
	}
	if len(info) > 0 {
		// +CREG: <n>,<stat>[,<lac>,<ci>]
		f := strings.Split(info[0], ",")
		if len(f) >= 2 {
			if n, err := strconv.Atoi(strings.TrimSpace(f[1])); err == nil {
				h.Network = Registration(n)
			}
		}
	}
	return h, nil
}
