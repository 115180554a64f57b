package mail_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"mime"
	"strings"
	"testing"

	"github.com/veedel/veedel/internal/mail"
	"github.com/veedel/veedel/internal/mail/mailsim"
)

// sendOne queues msg in a fresh outbox and sends it to sim over real SMTP.
func sendOne(t *testing.T, sim *mailsim.Sim, msg mail.Message) mailsim.Message {
	t.Helper()
	ctx := context.Background()
	db := mustOpenDB(t, tempDB(t))
	defer db.Close()
	o := &mail.Outbox{DB: db.Write, From: from, Sender: relayTo(sim), Logger: quiet}
	if _, err := o.Enqueue(ctx, db.Write, msg); err != nil {
		t.Fatal(err)
	}
	if n, err := o.Step(ctx); err != nil || n != 1 {
		t.Fatalf("Step = %d, %v; want 1 sent", n, err)
	}
	got := sim.Messages()
	if len(got) != 1 {
		t.Fatalf("sim received %d messages, want 1", len(got))
	}
	if got[0].Problem != "" {
		t.Fatalf("sim could not decode the message: %s\n%s", got[0].Problem, got[0].Raw)
	}
	return got[0]
}

func TestRelayUTF8(t *testing.T) {
	sim := mustSim(t, mailsim.Options{})
	ics := []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Veedel//DE\r\nBEGIN:VEVENT\r\nSUMMARY:Personalausweis – Kundenzentrum Kalk\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	for _, tc := range []struct {
		lang    string
		name    string
		subject string
		text    string
	}{
		{"de", "Jürgen Müller-Größmann",
			"Ihr Termin im Kundenzentrum Kalk: Dienstag, 8. Dezember, 09:30 Uhr – bitte Ausweis und Meldebescheinigung mitbringen (Änderungen über den Link)",
			"Guten Tag Herr Müller-Größmann,\n\nIhr Termin ist bestätigt.\nBuchungscode: K7F3-9QX2\n\nMit freundlichen Grüßen\nStadt Köln"},
		{"tr", "Ayşe Yıldırım Çağlar",
			"Randevunuz onaylandı: Salı, 8 Aralık, 09:30 – lütfen kimliğinizi getirin (İptal için bağlantıyı kullanın, ğüşıöç ĞÜŞİÖÇ)",
			"Merhaba Ayşe Hanım,\n\nRandevunuz onaylandı.\nRezervasyon kodu: K7F3-9QX2\n\nSaygılarımızla"},
		{"ar", "فاطمة الزهراء",
			"تم تأكيد موعدك في مركز خدمة المواطنين كالك يوم الثلاثاء ٨ ديسمبر الساعة ٠٩:٣٠ – يرجى إحضار بطاقة الهوية",
			"مرحباً فاطمة،\n\nتم تأكيد موعدك.\nرمز الحجز: K7F3-9QX2\n\nمع أطيب التحيات"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			sim.Reset()
			msg := mail.Message{
				To: mail.Address{Name: tc.name, Email: "buerger@example.org"}, Subject: tc.subject, Text: tc.text,
				HTML:       "<p dir=\"auto\">" + tc.text + "</p>",
				Attachment: &mail.Attachment{Filename: "Termin Bürgerbüro " + tc.lang + ".ics", ContentType: "text/calendar; charset=utf-8; method=PUBLISH", Data: ics},
			}
			got := sendOne(t, sim, msg)
			if got.Subject != tc.subject {
				t.Errorf("subject\n got %q\nwant %q", got.Subject, tc.subject)
			}
			if want := (mail.Address{Name: tc.name, Email: "buerger@example.org"}).String(); got.To != decoded(t, want) {
				t.Errorf("To = %q, want %q", got.To, decoded(t, want))
			}
			if !strings.Contains(got.To, tc.name) || !strings.Contains(got.From, "Bürgerbüro") {
				t.Errorf("To = %q, From = %q: names not decoded", got.To, got.From)
			}
			if got.Text != tc.text {
				t.Errorf("text\n got %q\nwant %q", got.Text, tc.text)
			}
			if got.HTML != msg.HTML {
				t.Errorf("html\n got %q\nwant %q", got.HTML, msg.HTML)
			}
			if len(got.Attachments) != 1 || got.Attachments[0].Filename != msg.Attachment.Filename ||
				got.Attachments[0].ContentType != "text/calendar" || !bytes.Equal(got.Attachments[0].Data, ics) {
				t.Errorf("attachments = %+v", got.Attachments)
			}
			if got.EnvelopeFrom != from.Email || len(got.EnvelopeTo) != 1 || got.EnvelopeTo[0] != "buerger@example.org" {
				t.Errorf("envelope %q → %q", got.EnvelopeFrom, got.EnvelopeTo)
			}
			checkWire(t, got.Raw)
		})
	}
}

// decoded is how a header value reads after RFC 2047 decoding.
func decoded(t *testing.T, v string) string {
	t.Helper()
	d, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkWire asserts what lets a message pass any relay: 7-bit ASCII, CRLF
// line ends, no line over 998 octets, header lines folded to 78 where the
// words allow.
func checkWire(t *testing.T, raw []byte) {
	t.Helper()
	for i, c := range raw {
		if c >= 0x80 || c == 0 {
			t.Fatalf("byte %d is %#x: the message must be 7-bit ASCII", i, c)
		}
	}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, line := range bytes.Split(raw, []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Errorf("bare CR or LF in %q", line)
		}
		if len(line) > 998 {
			t.Errorf("line of %d octets", len(line))
		}
	}
	for _, line := range strings.Split(string(head), "\r\n") {
		if len(line) > 78 && strings.Count(strings.TrimSpace(line), " ") > 0 {
			t.Errorf("header line of %d characters could have been folded: %q", len(line), line)
		}
		if len(line) > 100 {
			t.Errorf("header line of %d characters: %q", len(line), line)
		}
	}
}

func TestRelayDotStuffingAndLongLines(t *testing.T) {
	sim := mustSim(t, mailsim.Options{})
	text := ".\n..\n. Punkt am Anfang\nZeile\n.\nletzte Zeile ohne Umbruch: " + strings.Repeat("sehr lang ", 200) + "\n  Einrückung und Leerzeichen am Ende   \n\tTab"
	got := sendOne(t, sim, mail.Message{To: mail.Address{Email: "a@example.org"}, Subject: "Punkte", Text: text})
	if got.Text != text {
		t.Errorf("text\n got %q\nwant %q", got.Text, text)
	}
	checkWire(t, got.Raw)
}

func TestRelaySTARTTLSAndAuth(t *testing.T) {
	serverTLS, roots := selfSigned(t)
	sim := mustSim(t, mailsim.Options{TLS: serverTLS, Users: map[string]string{"veedel": "geheim"}, RequireAuth: true})
	msg := mail.Message{To: mail.Address{Email: "a@example.org"}, Subject: "TLS", Text: "über TLS"}
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		r := relayTo(sim)
		r.TLS, r.TLSConfig, r.Username, r.Password = mail.TLSRequired, &tls.Config{RootCAs: roots}, "veedel", "geheim"
		db := mustOpenDB(t, tempDB(t))
		defer db.Close()
		o := &mail.Outbox{DB: db.Write, From: from, Sender: r, Logger: quiet}
		o.Enqueue(ctx, db.Write, msg)
		if n, err := o.Step(ctx); n != 1 || err != nil {
			t.Fatalf("Step = %d, %v", n, err)
		}
		got := sim.Messages()
		if len(got) != 1 || !got[0].TLS || got[0].User != "veedel" || got[0].Text != "über TLS" {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		r := relayTo(sim)
		r.TLSConfig, r.Username, r.Password = &tls.Config{RootCAs: roots}, "veedel", "falsch"
		err := r.Send(ctx, mail.Envelope{From: from.Email, To: "a@example.org"}, []byte("Subject: x\r\n\r\nx\r\n"))
		var se *mail.SendError
		if !errors.As(err, &se) || se.Code != 535 || !se.Permanent || se.Stage != "auth" {
			t.Fatalf("err = %v, want a permanent 535 at auth", err)
		}
	})
	t.Run("ErrUntrustedCertificate", func(t *testing.T) {
		r := relayTo(sim)
		err := r.Send(ctx, mail.Envelope{From: from.Email, To: "a@example.org"}, []byte("Subject: x\r\n\r\nx\r\n"))
		var se *mail.SendError
		if !errors.As(err, &se) || se.Stage != "tls" || se.Permanent {
			t.Fatalf("err = %v, want a temporary tls error", err)
		}
	})
}

func TestRelayTLSRequiredNotOffered(t *testing.T) {
	sim := mustSim(t, mailsim.Options{})
	r := relayTo(sim)
	r.TLS = mail.TLSRequired
	err := r.Send(context.Background(), mail.Envelope{From: from.Email, To: "a@example.org"}, []byte("Subject: x\r\n\r\nx\r\n"))
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("err = %v, want a refusal naming STARTTLS", err)
	}
	if n := len(sim.Messages()); n != 0 {
		t.Fatalf("sim got %d messages over plain text, want 0", n)
	}
}

func TestRelayReplies(t *testing.T) {
	sim := mustSim(t, mailsim.Options{})
	r := relayTo(sim)
	env := mail.Envelope{From: from.Email, To: "a@example.org"}
	data := []byte("Subject: x\r\n\r\nx\r\n")
	for _, tc := range []struct {
		fault     mailsim.Fault
		code      int
		permanent bool
		stage     string
	}{
		{mailsim.Fault{Stage: mailsim.Greeting}, 421, false, "connect"},
		{mailsim.Fault{Stage: mailsim.Mail}, 451, false, "mail"},
		{mailsim.Fault{Stage: mailsim.Rcpt, Code: 550}, 550, true, "rcpt"},
		{mailsim.Fault{Stage: mailsim.Data, Code: 452}, 452, false, "data"},
		{mailsim.Fault{Stage: mailsim.Data, Code: 554}, 554, true, "data"},
	} {
		t.Run(string(tc.fault.Stage), func(t *testing.T) {
			sim.SetFault(tc.fault)
			defer sim.ClearFault()
			err := r.Send(context.Background(), env, data)
			var se *mail.SendError
			if !errors.As(err, &se) || se.Code != tc.code || se.Permanent != tc.permanent || se.Stage != tc.stage {
				t.Fatalf("err = %#v, want code %d permanent %v at %s", err, tc.code, tc.permanent, tc.stage)
			}
		})
	}
}

func TestParse(t *testing.T) {
	if a, err := mail.ParseAddress("Stadt Köln <noreply@stadt-koeln.example>"); err != nil || a != (mail.Address{Name: "Stadt Köln", Email: "noreply@stadt-koeln.example"}) {
		t.Errorf("ParseAddress = %+v, %v", a, err)
	}
	for _, bad := range []string{"", "Stadt Köln", "noreply@localhost", "a@b.example, c@d.example"} {
		if _, err := mail.ParseAddress(bad); err == nil {
			t.Errorf("ParseAddress(%q) accepted", bad)
		}
	}
	for in, want := range map[string]string{"": mail.TLSOpportunistic, "required": mail.TLSRequired, "off": mail.TLSOff} {
		if got, err := mail.ParseTLSPolicy(in); got != want || err != nil {
			t.Errorf("ParseTLSPolicy(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := mail.ParseTLSPolicy("starttls"); err == nil {
		t.Error("ParseTLSPolicy accepted starttls")
	}
	if _, err := mail.ParseRelay("mail.example"); err == nil {
		t.Error("ParseRelay accepted a host without port")
	}
}
