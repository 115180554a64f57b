package mailsim_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/veedel/veedel/internal/mail/mailsim"
)

// TestBrowser reads received mail on a 390 px phone in Chromium: the list
// as cards, a message's decoded subject and text one tap away, no script
// of the message run. Screenshots go to $MAILSIM_SHOTS when set.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no Chromium installed")
	}
	s := mustStart(t, mailsim.Options{})
	send(t, s, sample)
	mux := http.NewServeMux()
	mux.Handle("/sim/mail/", http.StripPrefix("/sim/mail", s.Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(390, 844))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	subject := chromedp.CSS(`tbody td[data-label="Betreff"] a`)
	must(chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/sim/mail/"), chromedp.WaitVisible(subject)))
	list, err := chromedp.Run(ctx, chromedp.Text(subject))
	must(err)
	shotList, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(err)
	must(chromedp.Do(ctx, chromedp.Click(subject), chromedp.WaitVisible(chromedp.CSS(`section[aria-labelledby="txt"] pre`))))
	h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`h1`)))
	must(err)
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`section[aria-labelledby="txt"] pre`)))
	must(err)
	shotMsg, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(err)
	if want := "Termin <script>alert(1)</script> bestätigt"; list != want || h1 != want {
		t.Errorf("list link %q, heading %q; want %q", list, h1, want)
	}
	if text != "Guten Tag, Ihr Termin ist bestätigt." {
		t.Errorf("text = %q", text)
	}
	if dir := os.Getenv("MAILSIM_SHOTS"); dir != "" {
		os.WriteFile(filepath.Join(dir, "mailsim-list.png"), shotList, 0o644)
		os.WriteFile(filepath.Join(dir, "mailsim-message.png"), shotMsg, 0o644)
	}
}
