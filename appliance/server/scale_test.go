package server

import (
	"fmt"
	"strings"
	"testing"

	"github.com/veedel/veedel"
	"github.com/veedel/veedel/hardware/seca"
	"github.com/veedel/veedel/internal/web"
)

// A child who moves is the exam staff's to fix (409); a scale that fails
// is a fault (503) whose words name it, never a reading.
func TestScaleError(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		says   string
	}{
		{&seca.Error{Op: "weight", Err: seca.ErrUnstable}, 409, "ruhig stehen"},
		{&seca.Error{Op: "weight", Err: seca.ErrEmpty}, 409, "Niemand"},
		{&seca.Error{Op: "height", Err: seca.ErrNoHeight}, 409, "Kopfschieber"},
		{&seca.Error{Op: "weight", Err: fmt.Errorf("%w: frame cut off after 8 bytes", seca.ErrDisconnected)}, 503, "cut off"},
		{&seca.Error{Op: "open", Err: seca.ErrNoDevice}, 503, "no scale at the address"},
		{&seca.Error{Op: "weight", Err: seca.ErrGarbled}, 503, "garbled"},
		{&seca.Error{Op: "weight", Err: seca.ErrOverload}, 503, "overloaded"},
	} {
		err := scaleError(c.err)
		if got := web.Status(err); got != c.status || !strings.Contains(veedel.ErrorMessage(err), c.says) {
			t.Errorf("%v: %d %q, want %d saying %q", c.err, got, veedel.ErrorMessage(err), c.status, c.says)
		}
	}
}
