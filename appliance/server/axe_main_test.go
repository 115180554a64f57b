package server_test

import (
	"os"
	"testing"

	"github.com/veedel/veedel/internal/web/webtest"
)

// TestMain reports how many pages axe-core checked (webtest.AxeMain).
func TestMain(m *testing.M) { os.Exit(webtest.AxeMain(m)) }
