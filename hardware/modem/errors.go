package modem

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/veedel/veedel/appliance/notify"
)

// Kind classifies a failure by what the caller may assume and do.
type Kind int

const (
	// Temporary: not sent; a later try may work (no network, network
	// timeout, the device unplugged).
	Temporary Kind = iota + 1
	// Permanent: not sent, and retrying as is will not help (no SIM, PIN
	// required, a parameter the modem or network rejects).
	Permanent
	// Ambiguous: the modem took the message and gave no answer: it may
	// have been sent. Send does not retry it on its own.
	Ambiguous
)

func (k Kind) String() string {
	switch k {
	case Temporary:
		return "temporary"
	case Permanent:
		return "permanent"
	case Ambiguous:
		return "ambiguous"
	}
	return "unknown"
}

// Sentinels for errors.Is; an *Error wraps them where they apply.
var (
	ErrSIMMissing  = errors.New("SIM missing")
	ErrSIMPIN      = errors.New("SIM PIN required")
	ErrSIMPUK      = errors.New("SIM PUK required")
	ErrNoNetwork   = errors.New("no network service")
	ErrMaybeSent   = errors.New("no answer after submitting: the SMS may have been sent")
	ErrNoAnswer    = errors.New("the modem does not answer")
	ErrBadAddress  = errors.New("modem: bad address")
	errNotAnswered = errors.New("no final result")
)

// Error is a failed modem operation. Its text names the operation, the
// part and the modem's error code, never the number nor the text of an
// SMS (it is logged).
type Error struct {
	Kind Kind
	// Op is what failed: "open", "init", "send part 2/3", "health".
	Op string
	// CMS and CME are the modem's error codes (+CMS ERROR, +CME ERROR),
	// 0 when it gave none.
	CMS, CME int
	Err      error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("modem: ")
	b.WriteString(e.Op)
	if e.CMS != 0 {
		fmt.Fprintf(&b, ": +CMS ERROR %d", e.CMS)
	}
	if e.CME != 0 {
		fmt.Fprintf(&b, ": +CME ERROR %d", e.CME)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	fmt.Fprintf(&b, " (%s)", e.Kind)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// The outbox (appliance/notify) reads these without importing the driver.
var (
	_ notify.MaybeSentError = (*Error)(nil)
	_ notify.PermanentError = (*Error)(nil)
)

// MaybeSent reports whether the SMS may have gone out (Ambiguous): the
// outbox must not send it again (notify's rule against duplicates).
func (e *Error) MaybeSent() bool { return e.Kind == Ambiguous }

// Permanent reports whether trying again as is cannot help (no SIM, PIN
// required, a rejected number or PDU): the outbox gives up at once.
func (e *Error) Permanent() bool { return e.Kind == Permanent }

// KindOf returns the kind of err (Temporary for errors not from this
// package, e.g. a context's).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Temporary
}

// resultError is a final result other than OK: ERROR, +CMS ERROR: n or
// +CME ERROR: n (numeric, or verbose with AT+CMEE=2).
type resultError struct {
	line     string
	cms, cme int
}

func (r *resultError) Error() string { return r.line }

// parseResult reports whether line is a final result code, and the error
// it stands for (nil for OK).
func parseResult(line string) (final bool, err *resultError) {
	switch {
	case line == "OK":
		return true, nil
	case line == "ERROR" || line == "NO CARRIER":
		return true, &resultError{line: line}
	case strings.HasPrefix(line, "+CMS ERROR:"):
		r := &resultError{line: "+CMS ERROR"}
		r.cms = errCode(strings.TrimSpace(line[len("+CMS ERROR:"):]), cmsText)
		return true, r
	case strings.HasPrefix(line, "+CME ERROR:"):
		r := &resultError{line: "+CME ERROR"}
		r.cme = errCode(strings.TrimSpace(line[len("+CME ERROR:"):]), cmeText)
		return true, r
	}
	return false, nil
}

// errCode is a numeric code, or the code of a verbose one (-1 unknown).
func errCode(s string, verbose map[string]int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	if n, ok := verbose[strings.ToLower(s)]; ok {
		return n
	}
	return -1
}

// Verbose texts (AT+CMEE=2) of the codes that matter here.
var (
	cmeText = map[string]int{
		"sim not inserted": 10, "sim pin required": 11, "sim puk required": 12,
		"sim failure": 13, "sim busy": 14, "no network service": 30,
	}
	cmsText = map[string]int{
		"invalid pdu mode parameter": 304, "invalid text mode parameter": 305,
		"sim not inserted": 310, "sim pin required": 311, "no network service": 331,
		"network timeout": 332, "unknown error": 500,
	}
)

// cmsKind classifies a +CMS ERROR code (3GPP TS 27.005 3.2.5 and the RP
// and TP causes of TS 24.011 and 23.040 that modems pass on).
func cmsKind(code int) Kind {
	switch code {
	case 1, // unassigned number
		8, 10, 21, 29, // barred, rejected
		28, 50, 69, 81, 95, 96, 97, 98, 99, 111, 127, // subscriber or protocol errors
		128, 129, 130, 143, 144, 145, 159, 160, 161, 175, 176, // TP errors
		208,                // SIM SMS storage full
		301, 302, 303, 304, // service reserved, not allowed, not supported, invalid PDU parameter
		305, 310, 311, 312, 313, 316, 317, 318, // text parameter, SIM
		330: // SMSC address unknown
		return Permanent
	}
	// 38 network out of order, 41 temporary failure, 42 congestion, 47
	// resources unavailable, 314 SIM busy, 331 no network, 332 network
	// timeout, 500 unknown, 512+ manufacturer specific, and what is not
	// known: a later try may work.
	return Temporary
}

// cmeKind classifies a +CME ERROR code (3GPP TS 27.007 9.2).
func cmeKind(code int) Kind {
	switch code {
	case 3, 4, 10, 11, 12, 13, 15, 16, 17, 18:
		return Permanent
	}
	return Temporary
}

// cmsSentinel is the sentinel a code stands for, if any.
func cmsSentinel(code int) error {
	switch code {
	case 310:
		return ErrSIMMissing
	case 311:
		return ErrSIMPIN
	case 316:
		return ErrSIMPUK
	case 331:
		return ErrNoNetwork
	}
	return nil
}

func cmeSentinel(code int) error {
	switch code {
	case 10:
		return ErrSIMMissing
	case 11:
		return ErrSIMPIN
	case 12:
		return ErrSIMPUK
	case 30:
		return ErrNoNetwork
	}
	return nil
}

// classify turns a command's failure into an *Error for op.
func classify(op string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var r *resultError
	if errors.As(err, &r) {
		switch {
		case r.cms != 0:
			return &Error{Kind: cmsKind(r.cms), Op: op, CMS: r.cms, Err: cmsSentinel(r.cms)}
		case r.cme != 0:
			return &Error{Kind: cmeKind(r.cme), Op: op, CME: r.cme, Err: cmeSentinel(r.cme)}
		}
		return &Error{Kind: Temporary, Op: op, Err: errors.New(r.line)}
	}
	return &Error{Kind: Temporary, Op: op, Err: err}
}
