package mailsim

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is a message the Sim received, with what it decoded of it.
type Message struct {
	ID       int
	Received time.Time
	// The SMTP session: envelope, whether it ran over TLS, the AUTH user,
	// the EHLO name, whether the client declared BODY=8BITMIME.
	EnvelopeFrom string
	EnvelopeTo   []string
	TLS          bool
	User         string
	Helo         string
	EightBitMIME bool
	// Raw is the message as received (dot-stuffing removed, CRLF lines).
	Raw []byte
	// Header lists the top-level header fields in order, RFC 2047 decoded.
	Header []Field
	// Subject, From, To, Date and MessageID are decoded header values.
	Subject, From, To, Date, MessageID string
	// Text and HTML are the decoded bodies ("\n" line ends, without the
	// line break that ends the part).
	Text, HTML  string
	Attachments []Attachment
	// Problem says what could not be decoded ("" when all was fine).
	Problem string
}

// Field is one header field.
type Field struct{ Name, Value string }

// Attachment is a decoded attachment.
type Attachment struct {
	Filename    string
	ContentType string
	Data        []byte
}

var decoder = mime.WordDecoder{CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
	return nil, fmt.Errorf("charset %s not supported", charset)
}}

// decodeHeader decodes RFC 2047 words; on failure it keeps the raw text.
func decodeHeader(v string) string {
	d, err := decoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// parse decodes a raw message; what it cannot decode is named in Problem.
func parse(raw []byte) *Message {
	m := &Message{Raw: raw}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.Problem = "Kopf nicht lesbar / header unreadable: " + err.Error()
		return m
	}
	for _, f := range headerOrder(raw) {
		for _, v := range msg.Header[textproto.CanonicalMIMEHeaderKey(f)] {
			m.Header = append(m.Header, Field{Name: f, Value: decodeHeader(v)})
		}
	}
	h := func(k string) string { return decodeHeader(msg.Header.Get(k)) }
	m.Subject, m.From, m.To, m.Date, m.MessageID = h("Subject"), h("From"), h("To"), h("Date"), h("Message-Id")
	if err := m.walk(msg.Header, msg.Body, 0); err != nil {
		m.Problem = err.Error()
	}
	return m
}

// headerOrder lists the names of the header fields of raw as written, in
// order of first appearance, each once (compared case-insensitively).
func headerOrder(raw []byte) []string {
	var names []string
	seen := map[string]bool{}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, line := range strings.Split(string(head), "\r\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		name = strings.TrimSpace(name)
		if key := textproto.CanonicalMIMEHeaderKey(name); !seen[key] {
			seen[key] = true
			names = append(names, name)
		}
	}
	return names
}

// partHeader is a message's or a part's header.
type partHeader interface{ Get(string) string }

const maxDepth = 5

// walk decodes one MIME entity (recursing into multiparts).
func (m *Message) walk(h partHeader, body io.Reader, depth int) error {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("Content-Type %q: %v", ct, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		if depth >= maxDepth {
			return fmt.Errorf("MIME zu tief verschachtelt / nested too deep")
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("multipart: %v", err)
			}
			if err := m.walk(p.Header, p, depth+1); err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))); cte {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "", "7bit", "8bit", "binary":
	default:
		return fmt.Errorf("Content-Transfer-Encoding %q unbekannt / unknown", cte)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("%s: %v", mt, err)
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	if !strings.Contains(h.Get("Content-Disposition")+h.Get("Content-Type"), "*=") {
		// Not RFC 2231: many senders put RFC 2047 words in the quoted
		// file name, and mail programs decode them.
		filename = decodeHeader(filename)
	}
	if disp != "attachment" && filename == "" && (mt == "text/plain" && m.Text == "" || mt == "text/html" && m.HTML == "") {
		cs := strings.ToLower(params["charset"])
		if cs != "" && cs != "utf-8" && cs != "us-ascii" {
			return fmt.Errorf("charset %s nicht unterstützt / not supported", cs)
		}
		if !utf8.Valid(data) {
			return fmt.Errorf("%s ist kein gültiges UTF-8 / not valid UTF-8", mt)
		}
		text := strings.ReplaceAll(string(data), "\r\n", "\n")
		text = strings.TrimSuffix(text, "\n")
		if mt == "text/plain" {
			m.Text = text
		} else {
			m.HTML = text
		}
		return nil
	}
	m.Attachments = append(m.Attachments, Attachment{Filename: filename, ContentType: mt, Data: data})
	return nil
}

// checkPlain checks an AUTH PLAIN response (RFC 4616) against users.
func checkPlain(b64 string, users map[string]string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", false
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != 3 {
		return "", false
	}
	pw, ok := users[parts[1]]
	return parts[1], ok && pw == parts[2]
}
