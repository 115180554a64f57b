package mailsim_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/veedel/veedel/internal/mail/mailsim"
)

func send(t *testing.T, s *mailsim.Sim, raw string) {
	t.Helper()
	c := dial(t, s)
	c.greet()
	c.do("EHLO client.test", 250)
	c.do("MAIL FROM:<noreply@stadt.example>", 250)
	c.do("RCPT TO:<buerger@example.org>", 250)
	c.do("DATA", 354)
	fmt.Fprint(c.conn, strings.ReplaceAll(raw, "\n", "\r\n")+"\r\n.\r\n")
	if code, text := c.reply(); code != 250 {
		t.Fatalf("data → %d %s", code, text)
	}
	c.do("QUIT", 221)
}

const sample = `From: =?utf-8?q?Stadt_K=C3=B6ln?= <noreply@stadt.example>
To: =?utf-8?b?2YHYp9i32YXYqQ==?= <buerger@example.org>
Subject: =?utf-8?q?Termin_<script>alert(1)</script>_best=C3=A4tigt?=
Message-ID: <m1@stadt.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=_b"

--=_b
Content-Type: multipart/alternative; boundary="=_a"

--=_a
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Guten Tag, Ihr Termin ist best=C3=A4tigt.
--=_a
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p>Termin best=C3=A4tigt</p><script>alert(2)</script>
--=_a--
--=_b
Content-Type: text/calendar; charset=utf-8
Content-Disposition: attachment; filename*=utf-8''Termin%20B%C3%BCro.ics
Content-Transfer-Encoding: base64

QkVHSU46VkNBTEVOREFSDQpFTkQ6VkNBTEVOREFSDQo=
--=_b--`

func get(t *testing.T, srv *httptest.Server, path string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHandler(t *testing.T) {
	s := mustStart(t, mailsim.Options{})
	mux := http.NewServeMux()
	mux.Handle("/sim/mail/", http.StripPrefix("/sim/mail", s.Handler()))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	t.Run("Empty", func(t *testing.T) {
		resp, body := get(t, srv, "/sim/mail/")
		if resp.StatusCode != 200 || !strings.Contains(body, "Noch keine E-Mails") || !strings.Contains(body, `lang="de"`) {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	send(t, s, sample)
	t.Run("List", func(t *testing.T) {
		resp, body := get(t, srv, "/sim/mail/")
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") || strings.Contains(csp, "script") {
			t.Errorf("CSP = %q: no script may run on the page", csp)
		}
		for _, want := range []string{"Empfänger", "Betreff", "Zeit", "buerger@example.org", `href="1"`, "Termin &lt;script&gt;alert(1)&lt;/script&gt; bestätigt", "Anhang"} {
			if !strings.Contains(body, want) {
				t.Errorf("list lacks %q", want)
			}
		}
		if strings.Contains(body, "<script>") {
			t.Error("list has an unescaped <script>")
		}
	})
	t.Run("Detail", func(t *testing.T) {
		resp, body := get(t, srv, "/sim/mail/1")
		if resp.StatusCode != 200 {
			t.Fatal(resp.Status)
		}
		for _, want := range []string{"Stadt Köln &lt;noreply@stadt.example&gt;", "فاطمة", "Guten Tag, Ihr Termin ist bestätigt.", `href="1/html"`, `href="1/attachments/1"`, "Termin Büro.ics", "&lt;m1@stadt.example&gt;", "RCPT TO"} {
			if !strings.Contains(body, want) {
				t.Errorf("detail lacks %q", want)
			}
		}
		if strings.Contains(body, "<script>") {
			t.Error("detail has an unescaped <script>")
		}
	})
	t.Run("HTMLSandboxed", func(t *testing.T) {
		resp, body := get(t, srv, "/sim/mail/1/html")
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("CSP = %q", csp)
		}
		if !strings.Contains(body, "Termin bestätigt") {
			t.Errorf("body %q", body)
		}
	})
	t.Run("Attachment", func(t *testing.T) {
		resp, body := get(t, srv, "/sim/mail/1/attachments/1")
		if body != "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("%q %q", resp.Header.Get("Content-Disposition"), body)
		}
	})
	t.Run("Raw", func(t *testing.T) {
		_, body := get(t, srv, "/sim/mail/1/raw")
		if !strings.HasPrefix(body, "From: =?utf-8?q?Stadt_K=C3=B6ln?=") {
			t.Errorf("raw starts %q", body[:40])
		}
	})
	t.Run("JSON", func(t *testing.T) {
		resp, body := get(t, srv, "/sim/mail/messages.json")
		var got []mailsim.JSONMessage
		if err := json.Unmarshal([]byte(body), &got); err != nil || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%v %s", err, body)
		}
		if len(got) != 1 || got[0].Subject != "Termin <script>alert(1)</script> bestätigt" || got[0].EnvelopeTo[0] != "buerger@example.org" ||
			got[0].MessageID != "<m1@stadt.example>" || len(got[0].Attachments) != 1 || got[0].Attachments[0].Filename != "Termin Büro.ics" {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		for _, p := range []string{"/sim/mail/2", "/sim/mail/x", "/sim/mail/1/attachments/2", "/sim/mail/1/other", "/sim/mail/0", "/sim/mail/1/"} {
			if resp, _ := get(t, srv, p); resp.StatusCode != 404 {
				t.Errorf("%s → %d, want 404", p, resp.StatusCode)
			}
		}
	})
	t.Run("ErrMethod", func(t *testing.T) {
		resp, err := http.Post(srv.URL+"/sim/mail/", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") == "" {
			t.Fatalf("POST → %d", resp.StatusCode)
		}
	})
}

func TestHandlerRedirect(t *testing.T) {
	s := mustStart(t, mailsim.Options{})
	h := http.StripPrefix("/sim/mail", s.Handler())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/sim/mail", nil))
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "mail/" {
		t.Errorf("status %d, Location %q, want 301 to mail/", rec.Code, rec.Header().Get("Location"))
	}
}
