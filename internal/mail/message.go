package mail

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/veedel/veedel"
)

// Limits on what a Message may hold. They keep a rendered message far below
// any relay's size limit and the outbox rows small.
const (
	MaxSubject    = 300              // runes
	MaxName       = 200              // runes of a display name
	MaxBody       = 512 << 10        // bytes of Text, and of HTML
	MaxAttachment = 8 << 20          // bytes
	maxLine       = 78               // folding width for headers (RFC 5322 2.1.1)
	base64Line    = 76               // base64 characters per body line (RFC 2045)
	boundaryBytes = 12               // random bytes in a MIME boundary
	dateLayout    = time.RFC1123Z    // "Mon, 02 Jan 2006 15:04:05 -0700"
	maxAddress    = 254              // octets of an address (RFC 5321 4.5.3.1.3)
	ianaCharset   = "utf-8"          // the only charset Veedel writes
	autoSubmitted = "auto-generated" // RFC 3834: no vacation replies to us
)

// Address is a mailbox: an optional display name in any script and an
// ASCII address (Veedel does not send SMTPUTF8 addresses).
type Address struct {
	Name  string
	Email string
}

// String renders a for a header: the name as a quoted string when it is
// plain ASCII, else as RFC 2047 encoded words.
func (a Address) String() string {
	return a.header("To")
}

// header renders a for the header field name (which sets how long the first
// encoded word may be).
func (a Address) header(name string) string {
	if a.Name == "" {
		return a.Email
	}
	if plainASCII(a.Name) {
		return (&netmail.Address{Name: a.Name, Address: a.Email}).String()
	}
	return encodeWords(a.Name, len(name)+2) + " <" + a.Email + ">"
}

// Attachment is one file sent with a message, such as an appointment's
// .ics or an order's PDF.
type Attachment struct {
	// Filename is what the recipient's mail program offers to save, in any
	// script ("Termin Bürgeramt.ics"); no path.
	Filename string
	// ContentType is its media type, "text/calendar; method=PUBLISH;
	// charset=utf-8" or "application/pdf".
	ContentType string
	Data        []byte
}

// Message is an e-mail to one recipient.
type Message struct {
	To      Address
	Subject string
	// Text is the plain-text body (line breaks as "\n"); always required,
	// it is what screen readers and plain mail programs show.
	Text string
	// HTML is an optional alternative to Text.
	HTML string
	// Attachment is optional.
	Attachment *Attachment
	// Key, if set, makes the message unique in the outbox: a second
	// Enqueue with the same key queues nothing ("order K7F3 ready"). It is
	// kept after sending, so it must not contain personal data.
	Key string
}

// ValidateAddress checks an e-mail address as the outbox needs it: one
// plain ASCII addr-spec with a dotted domain, no display name.
func ValidateAddress(email string) error {
	switch {
	case email == "":
		return veedel.Errorf(veedel.EINVALID, "E-Mail-Adresse fehlt / e-mail address missing")
	case len(email) > maxAddress:
		return veedel.Errorf(veedel.EINVALID, "E-Mail-Adresse ist zu lang (höchstens %d Zeichen) / e-mail address too long", maxAddress)
	}
	for _, r := range email {
		if r > unicode.MaxASCII || r <= ' ' || r == 0x7f {
			return veedel.Errorf(veedel.EINVALID, "E-Mail-Adresse darf nur Buchstaben a–z, Ziffern und . _ - + @ enthalten / e-mail address must be plain ASCII without spaces")
		}
	}
	a, err := netmail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return veedel.Errorf(veedel.EINVALID, "E-Mail-Adresse ist ungültig, Beispiel: name@example.de / e-mail address is not valid, e.g. name@example.de")
	}
	at := strings.LastIndexByte(email, '@')
	domain := email[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.HasPrefix(domain, "[") {
		return veedel.Errorf(veedel.EINVALID, "E-Mail-Adresse ist ungültig, Beispiel: name@example.de / e-mail address is not valid, e.g. name@example.de")
	}
	return nil
}

// ParseAddress reads a sender or recipient as given on a command line or in
// a form: "name@example.de" or "Stadt Köln <noreply@stadt-koeln.de>".
func ParseAddress(s string) (Address, error) {
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return Address{}, veedel.Errorf(veedel.EINVALID, "E-Mail-Adresse %q ist ungültig, Beispiel: Stadt Köln <noreply@example.de> / not a valid address", s)
	}
	if err := ValidateAddress(a.Address); err != nil {
		return Address{}, err
	}
	if err := headerText("Name", a.Name, MaxName); err != nil {
		return Address{}, err
	}
	return Address{Name: a.Name, Email: a.Address}, nil
}

// headerText checks a header's human text: valid UTF-8, no line breaks
// or other control characters, at most max runes.
func headerText(what, s string, max int) error {
	if !utf8.ValidString(s) {
		return veedel.Errorf(veedel.EINVALID, "%s ist kein gültiges UTF-8 / %s is not valid UTF-8", what, what)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return veedel.Errorf(veedel.EINVALID, "%s ist zu lang (%d Zeichen, höchstens %d) / %s too long", what, n, max, what)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return veedel.Errorf(veedel.EINVALID, "%s darf keine Zeilenumbrüche oder Steuerzeichen enthalten / %s must be one line", what, what)
		}
	}
	return nil
}

// Validate reports the first problem of m as an EINVALID error.
func (m Message) Validate() error {
	if err := ValidateAddress(m.To.Email); err != nil {
		return err
	}
	if err := headerText("Name", m.To.Name, MaxName); err != nil {
		return err
	}
	if strings.TrimSpace(m.Subject) == "" {
		return veedel.Errorf(veedel.EINVALID, "Betreff fehlt / subject missing")
	}
	if err := headerText("Betreff", m.Subject, MaxSubject); err != nil {
		return err
	}
	if strings.TrimSpace(m.Text) == "" {
		return veedel.Errorf(veedel.EINVALID, "Text fehlt / plain-text body missing")
	}
	for what, body := range map[string]string{"Text": m.Text, "HTML": m.HTML} {
		if !utf8.ValidString(body) {
			return veedel.Errorf(veedel.EINVALID, "%s ist kein gültiges UTF-8 / %s is not valid UTF-8", what, what)
		}
		if len(body) > MaxBody {
			return veedel.Errorf(veedel.EINVALID, "%s ist zu lang (höchstens %d KiB) / %s too long", what, MaxBody>>10, what)
		}
	}
	if len(m.Key) > 200 || !utf8.ValidString(m.Key) {
		return veedel.Errorf(veedel.EINVALID, "Schlüssel ist zu lang (höchstens 200 Bytes) / key too long")
	}
	if a := m.Attachment; a != nil {
		if strings.TrimSpace(a.Filename) == "" {
			return veedel.Errorf(veedel.EINVALID, "Anhang ohne Dateinamen / attachment needs a file name")
		}
		if err := headerText("Dateiname", a.Filename, MaxName); err != nil {
			return err
		}
		if strings.ContainsAny(a.Filename, `/\`) {
			return veedel.Errorf(veedel.EINVALID, "Dateiname darf keinen Pfad enthalten / file name must not contain a path")
		}
		if strings.Contains(a.Filename, "=?") {
			// Mail programs would decode it as RFC 2047 words.
			return veedel.Errorf(veedel.EINVALID, "Dateiname darf „=?“ nicht enthalten / file name must not contain \"=?\"")
		}
		mt, _, err := mime.ParseMediaType(a.ContentType)
		if err != nil || !strings.Contains(mt, "/") || strings.HasPrefix(mt, "multipart/") || strings.HasPrefix(mt, "message/") {
			return veedel.Errorf(veedel.EINVALID, "Anhang hat keinen gültigen Medientyp wie application/pdf / attachment needs a media type such as application/pdf")
		}
		if len(a.Data) > MaxAttachment {
			return veedel.Errorf(veedel.EINVALID, "Anhang ist zu groß (höchstens %d MiB) / attachment too large", MaxAttachment>>20)
		}
	}
	return nil
}

// rendering is what Render needs besides the message.
type rendering struct {
	From      Address
	MessageID string // with angle brackets
	Date      time.Time
	// Boundary makes the MIME boundaries; it must not repeat within a
	// message (a prefix plus a counter is fine).
	Boundary string
}

// Render returns m as an RFC 5322 message with CRLF line ends: 7-bit ASCII,
// no line longer than 998 octets. It validates m first.
func render(m Message, r rendering) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	header(&b, "From", r.From.header("From"))
	header(&b, "To", m.To.header("To"))
	header(&b, "Subject", encodeText(m.Subject, len("Subject: ")))
	header(&b, "Date", r.Date.Format(dateLayout))
	header(&b, "Message-ID", r.MessageID)
	header(&b, "MIME-Version", "1.0")
	header(&b, "Auto-Submitted", autoSubmitted)

	n := 0
	boundary := func() string { n++; return fmt.Sprintf("=_%s_%d", r.Boundary, n) }
	text := func(w io.Writer) { textPart(w, "text/plain", m.Text) }
	body := text
	if m.HTML != "" {
		body = func(w io.Writer) {
			multipartBody(w, "multipart/alternative", boundary(), text, func(w io.Writer) { textPart(w, "text/html", m.HTML) })
		}
	}
	if m.Attachment == nil {
		body(&b)
	} else {
		multipartBody(&b, "multipart/mixed", boundary(), body, func(w io.Writer) { attachmentPart(w, m.Attachment) })
	}
	return b.Bytes(), nil
}

// multipartBody writes a multipart entity's Content-Type and its parts
// (RFC 2046 5.1). Each part ends with a line break of its own, so the CRLF
// before the next delimiter is the delimiter's. Boundaries start "=_",
// which quoted-printable and base64 cannot produce.
func multipartBody(w io.Writer, mediaType, boundary string, parts ...func(io.Writer)) {
	header(w, "Content-Type", mime.FormatMediaType(mediaType, map[string]string{"boundary": boundary}))
	io.WriteString(w, "\r\n")
	for _, p := range parts {
		io.WriteString(w, "--"+boundary+"\r\n")
		p(w)
		io.WriteString(w, "\r\n")
	}
	io.WriteString(w, "--"+boundary+"--\r\n")
}

// textPart writes the headers and quoted-printable body of a text part.
func textPart(w io.Writer, mediaType, text string) {
	header(w, "Content-Type", mime.FormatMediaType(mediaType, map[string]string{"charset": ianaCharset}))
	header(w, "Content-Transfer-Encoding", "quoted-printable")
	io.WriteString(w, "\r\n")
	qp := quotedprintable.NewWriter(w)
	io.WriteString(qp, strings.ReplaceAll(text, "\r\n", "\n"))
	qp.Close()
	io.WriteString(w, "\r\n")
}

// attachmentPart writes an attachment's headers and base64 body.
func attachmentPart(w io.Writer, a *Attachment) {
	mt, params, _ := mime.ParseMediaType(a.ContentType)
	params["name"] = a.Filename
	header(w, "Content-Type", mime.FormatMediaType(mt, params))
	header(w, "Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename}))
	header(w, "Content-Transfer-Encoding", "base64")
	io.WriteString(w, "\r\n")
	enc := base64.StdEncoding.EncodeToString(a.Data)
	for len(enc) > base64Line {
		io.WriteString(w, enc[:base64Line]+"\r\n")
		enc = enc[base64Line:]
	}
	io.WriteString(w, enc+"\r\n")
}

// plainASCII reports whether s can stand in a header as it is: printable
// ASCII that no decoder could take for an encoded word, and without the
// spaces that unfolding would lose (leading, trailing, or two in a row).
func plainASCII(s string) bool {
	for _, r := range s {
		if r < ' ' || r > '~' {
			return false
		}
	}
	return !strings.Contains(s, "=?") && !strings.Contains(s, "  ") && strings.TrimSpace(s) == s
}

// encodeText returns s for an unstructured header whose name and ": " take
// indent characters: as is when plainASCII, else as encoded words.
func encodeText(s string, indent int) string {
	if plainASCII(s) {
		return s
	}
	return encodeWords(s, indent)
}

// encodeWords returns s as RFC 2047 encoded words in UTF-8, separated by
// spaces, each short enough that a folded header line stays within 78
// characters (the first after indent characters). Mostly Latin text gets
// Q ("Ihr Termin im B=C3=BCrgerb=C3=BCro" stays readable in a raw view),
// other scripts B. Words split only between runes, so each decodes alone.
func encodeWords(s string, indent int) string {
	ascii, n := 0, 0
	for _, r := range s {
		n++
		if r >= ' ' && r <= '~' {
			ascii++
		}
	}
	enc := qWord
	if ascii*10 < n*7 {
		enc = bWord
	}
	var words []string
	budget := maxLine - indent
	for rest := s; rest != ""; budget = maxLine - 1 {
		// The longest prefix that fits; at least one rune.
		_, size := utf8.DecodeRuneInString(rest)
		end := size
		for end < len(rest) {
			_, size := utf8.DecodeRuneInString(rest[end:])
			if len(enc(rest[:end+size])) > budget {
				break
			}
			end += size
		}
		words = append(words, enc(rest[:end]))
		rest = rest[end:]
	}
	return strings.Join(words, " ")
}

// qWord is s as one Q-encoded word, using only the characters RFC 2047
// 5(3) allows in a phrase, so it serves names and subjects alike.
func qWord(s string) string {
	var b strings.Builder
	b.WriteString("=?" + ianaCharset + "?q?")
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('_')
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("!*+-/", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	b.WriteString("?=")
	return b.String()
}

// bWord is s as one B-encoded word.
func bWord(s string) string {
	return "=?" + ianaCharset + "?b?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
}

// header writes "Name: value" folded at spaces to lines of at most 78
// characters where the words allow (encoded words are at most 75).
func header(w io.Writer, name, value string) {
	line := name + ":"
	var b strings.Builder
	for _, word := range strings.Split(value, " ") {
		if len(line)+1+len(word) > maxLine && len(line) > len(name)+1 {
			b.WriteString(line + "\r\n")
			line = ""
		}
		line += " " + word
	}
	b.WriteString(line + "\r\n")
	io.WriteString(w, b.String())
}
