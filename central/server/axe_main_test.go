package server_test

import (
	"os"
	"testing"

	"github.com/veedel/veedel/internal/web/webtest"
)

// TestMain prints, after the tests, how many pages and states the browser
// tests had axe-core check (webtest.Axe).
func TestMain(m *testing.M) { os.Exit(webtest.AxeMain(m)) }
