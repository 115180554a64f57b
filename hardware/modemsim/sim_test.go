package modemsim_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veedel/veedel/hardware/modemsim"
)

func TestSession(t *testing.T) {
	t.Parallel()
	sim, err := modemsim.Start(modemsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	f, err := os.OpenFile(sim.Path(), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(f)
	// until reads up to a line equal to want, returning what came before.
	until := func(want string) []string {
		t.Helper()
		var lines []string
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("reading: %v (got %q)", err, lines)
			}
			l = strings.TrimSpace(l)
			if l == want {
				return lines
			}
			if l != "" {
				lines = append(lines, l)
			}
		}
	}
	f.WriteString("AT\r")
	if got := until("OK"); len(got) != 1 || got[0] != "AT" {
		t.Errorf("echo = %q, want AT", got)
	}
	f.WriteString("ATE0\r")
	until("OK")
	f.WriteString("AT+CSQ\r")
	if got := until("OK"); len(got) != 1 || got[0] != "+CSQ: 20,99" {
		t.Errorf("CSQ = %q", got)
	}
	f.WriteString("AT+CMGS=24\r")
	b := make([]byte, 4)
	if _, err := r.Read(b); err != nil || !strings.Contains(string(b), ">") {
		t.Fatalf("prompt = %q, %v", b, err)
	}
	f.WriteString("0011000D91945121436587F90000AA0AE8329BFD4697D9EC37\x1a")
	if got := until("OK"); len(got) != 1 || got[0] != "+CMGS: 1" {
		t.Errorf("CMGS = %q", got)
	}
	msgs := sim.Messages()
	if len(msgs) != 1 || msgs[0].Text != "hellohello" || msgs[0].To != "+4915123456789" {
		t.Errorf("messages = %+v", msgs)
	}
	sim.SetSIM(false)
	f.WriteString("AT+CMEE=1\r")
	until("OK")
	f.WriteString("AT+CPIN?\r")
	until("+CME ERROR: 10")
}

// A link the simulator cannot create is an error at Start, not a modem
// that silently has no stable path (it used to be swallowed).
func TestStartFailsWhenLinkCannotBeMade(t *testing.T) {
	link := filepath.Join(t.TempDir(), "no-such-dir", "modem")
	s, err := modemsim.Start(modemsim.Options{Link: link})
	if err == nil {
		s.Close()
		t.Fatalf("Start with link %s in a missing directory: no error", link)
	}
}
