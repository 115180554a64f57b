package webtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veedel/veedel/internal/web/webtest"
)

// TestAxeFindsViolations: the helper the browser tests use reports a page
// with an image without alt text and an unlabelled field, naming the rules
// and the elements, and passes a clean page.
func TestAxeFindsViolations(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("VEEDEL_REQUIRE_BROWSER") != "" {
			t.Fatal("chromium not found, and VEEDEL_REQUIRE_BROWSER is set")
		}
		t.Skip("no Chromium installed")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		body := `<p>Guten Tag</p>`
		if r.URL.Path == "/bad" {
			body = `<img src="x.png" id="pic"><input id="name">`
		}
		fmt.Fprintf(w, `<!doctype html><html lang="de"><head><title>Test</title></head><body><main><h1>Seite</h1>%s</main></body></html>`, body)
	}))
	defer srv.Close()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/good")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, webtest.Axe("good")); err != nil {
		t.Fatalf("clean page: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/bad")); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx, webtest.Axe("bad"))
	if err == nil {
		if !webtest.AxeInstalled() {
			t.Skip("axe-core not installed")
		}
		t.Fatal("page with an image without alt and an unlabelled input passed axe")
	}
	for _, want := range []string{"image-alt", "#pic", "label", "#name", "critical"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("report lacks %q:\n%v", want, err)
		}
	}
}

// TestAxeVersionMatchesMakefile: make test and .ci/run install the version
// the helper expects.
func TestAxeVersionMatchesMakefile(t *testing.T) {
	b, err := os.ReadFile("../../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if want := "AXE_VERSION := " + webtest.AxeVersion + "\n"; !strings.Contains(string(b), want) {
		t.Errorf("Makefile does not say %q", want)
	}
}
