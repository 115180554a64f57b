package mail_test

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/veedel/veedel/internal/mail"
	"github.com/veedel/veedel/internal/mail/mailsim"
)

// pieces are what random subjects, names and texts are made of: words of
// every script the citizens use, the characters MIME treats specially,
// spaces where unfolding could lose them.
var pieces = []string{
	"Termin", "Bürgerbüro", "Größe", "ÄÖÜäöüß", "Kalk", "09:30", "–", "€",
	"Randevu", "onaylandı", "İstanbul", "ğüşıöç", "ĞÜŞİÖÇ",
	"موعدك", "تم تأكيد", "٨ ديسمبر", "مرحباً",
	"=?", "?=", "=?utf-8?q?x?=", "_", "=", "?", "\"", "(", ")", "<", ">", ",", ";", ":", "\\", "@", ".",
	" ", "  ", "🙂", "e\u0301", "\u200f", "x",
}

func randomText(r *rand.Rand, maxPieces int) string {
	var b strings.Builder
	for n := 1 + r.IntN(maxPieces); n > 0; n-- {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// TestRoundTrip sends random subjects, names, texts and file names of
// every script over real SMTP and reads them back exactly from the
// stand-in's decoding. The seed is fixed and printed on failure;
// MAIL_SEED=n tries another.
func TestRoundTrip(t *testing.T) {
	seed := uint64(20261206)
	if s, err := strconv.ParseUint(os.Getenv("MAIL_SEED"), 10, 64); err == nil {
		seed = s
	}
	r := rand.New(rand.NewPCG(seed, 1))
	sim := mustSim(t, mailsim.Options{})
	db := mustOpenDB(t, tempDB(t))
	defer db.Close()
	ctx := context.Background()
	o := &mail.Outbox{DB: db.Write, From: from, Sender: relayTo(sim), Logger: quiet}
	n := 150
	if testing.Short() {
		n = 20
	}
	for i := range n {
		msg := mail.Message{
			To:      mail.Address{Name: randomText(r, 8), Email: "a@example.org"},
			Subject: randomText(r, 40),
			Text:    randomText(r, 200) + "\n" + randomText(r, 5),
			Attachment: &mail.Attachment{Filename: filename(randomText(r, 5)),
				ContentType: "text/calendar", Data: []byte(randomText(r, 10))},
		}
		if strings.TrimSpace(msg.Subject) == "" || strings.TrimSpace(msg.Text) == "" || strings.TrimSpace(msg.Attachment.Filename) == "" {
			continue
		}
		if _, err := o.Enqueue(ctx, db.Write, msg); err != nil {
			t.Fatalf("seed %d, message %d: %v", seed, i, err)
		}
		if sent, err := o.Step(ctx); sent != 1 || err != nil {
			t.Fatalf("seed %d, message %d: Step = %d, %v", seed, i, sent, err)
		}
		msgs := sim.Messages()
		got := msgs[len(msgs)-1]
		if got.Problem != "" {
			t.Fatalf("seed %d, message %d: %s", seed, i, got.Problem)
		}
		if got.Subject != msg.Subject {
			t.Errorf("seed %d, message %d: subject\n got %q\nwant %q", seed, i, got.Subject, msg.Subject)
		}
		if want := decoded(t, msg.To.String()); got.To != want {
			t.Errorf("seed %d, message %d: To\n got %q\nwant %q", seed, i, got.To, want)
		}
		if got.Text != msg.Text {
			t.Errorf("seed %d, message %d: text\n got %q\nwant %q", seed, i, got.Text, msg.Text)
		}
		if len(got.Attachments) != 1 || got.Attachments[0].Filename != msg.Attachment.Filename || string(got.Attachments[0].Data) != string(msg.Attachment.Data) {
			t.Errorf("seed %d, message %d: attachment %+v, want %q", seed, i, got.Attachments, msg.Attachment.Filename)
		}
		checkWire(t, got.Raw)
		if t.Failed() {
			t.Logf("raw:\n%s", got.Raw)
			return
		}
	}
}

// filename makes s a file name Validate takes: no path, no "=?".
func filename(s string) string {
	s = strings.ReplaceAll(s, "\\", "")
	for strings.Contains(s, "=?") {
		s = strings.ReplaceAll(s, "=?", "")
	}
	return s + ".ics"
}
