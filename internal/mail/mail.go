// Package mail sends Waybill's e-mail notifications: it renders each kind of
// notification from embedded templates (plain text and HTML) and delivers it
// over SMTP, telling the caller whether a failure is worth a retry.
package mail

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/waybill/waybill/internal/errs"
)

// Config says where and as whom Waybill sends e-mail.
type Config struct {
	// URL is the SMTP server:
	//
	//	smtp://user:pass@host:port           STARTTLS when the server offers it (port 587 by default)
	//	smtp+starttls://user:pass@host:port  STARTTLS or nothing is sent (port 587 by default)
	//	smtps://user:pass@host:port          TLS from the first byte (port 465 by default)
	//
	// smtp:// takes ?starttls=required|opportunistic|none. The user name and
	// password are optional together; characters such as @ / ? # : in them
	// must be percent-encoded (%40 %2F %3F %23 %3A).
	URL string
	// From is the sender, "Name <address>" or a bare address.
	From string
}

// security is how a connection is protected.
type security int

const (
	starttlsOpportunistic security = iota // upgrade when the server offers STARTTLS
	starttlsRequired                      // fail unless the server offers STARTTLS
	plaintext                             // never upgrade (a relay on this machine)
	implicitTLS                           // TLS from the first byte (smtps)
)

// server is a parsed Config.URL.
type server struct {
	host     string
	port     int
	security security
	user     string
	pass     string
}

func (s server) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// ParseURL checks an SMTP URL and returns a Config with it; the caller sets From.
func ParseURL(raw string) (Config, error) {
	raw = strings.TrimSpace(raw)
	if _, err := parseServer(raw); err != nil {
		return Config{}, err
	}
	return Config{URL: raw}, nil
}

const urlForms = "smtp://user:pass@host:port, smtps://user:pass@host:port or smtp+starttls://user:pass@host:port"

func parseServer(raw string) (server, error) {
	const op = "mail.ParseURL"
	bad := func(msg string) (server, error) {
		return server{}, errs.E(op, errs.Invalid, "SMTP URL: "+msg)
	}
	if raw == "" {
		return bad("empty; expected " + urlForms)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's reasons quote pieces of the URL, and when a special
		// character in the password confused it those pieces are the
		// password: say nothing more specific.
		return bad("not a valid URL; percent-encode special characters in the user name and password (@ as %40, : as %3A, / as %2F, ? as %3F, # as %23, % as %25)")
	}
	var s server
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		s.security, s.port = starttlsOpportunistic, 587
	case "smtp+starttls":
		s.security, s.port = starttlsRequired, 587
	case "smtps":
		s.security, s.port = implicitTLS, 465
	case "":
		return bad("no scheme; expected " + urlForms)
	default:
		return bad("unsupported scheme " + strconv.Quote(u.Scheme) + "; expected " + urlForms)
	}
	if u.Opaque != "" {
		return bad("expected " + urlForms + " (the // is missing)")
	}
	s.host = u.Hostname()
	if s.host == "" {
		return bad("no host; expected " + urlForms)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return bad("port " + strconv.Quote(p) + " is not a number from 1 to 65535")
		}
		s.port = n
	}
	if u.Path != "" && u.Path != "/" {
		return bad("unexpected path " + strconv.Quote(u.Path) + " (a / in the password must be written %2F)")
	}
	if u.Fragment != "" {
		return bad("unexpected #fragment (a # in the password must be written %23)")
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
		switch {
		case s.user == "":
			return bad("a password is given without a user name")
		case s.pass == "":
			return bad("user " + strconv.Quote(s.user) + " has no password")
		}
	}
	q := u.Query()
	for k := range q {
		if k != "starttls" {
			return bad("unknown parameter " + strconv.Quote(k) + " (only starttls=required|opportunistic|none is understood)")
		}
	}
	if q.Has("starttls") {
		v := strings.ToLower(q.Get("starttls"))
		var want security
		switch v {
		case "required":
			want = starttlsRequired
		case "opportunistic":
			want = starttlsOpportunistic
		case "none":
			want = plaintext
		default:
			return bad("starttls=" + strconv.Quote(q.Get("starttls")) + " is not one of required, opportunistic, none")
		}
		switch {
		case s.security == implicitTLS:
			return bad("smtps:// is TLS from the start; starttls= applies to smtp:// only")
		case s.security == starttlsRequired && want != starttlsRequired:
			return bad("smtp+starttls:// requires STARTTLS, which contradicts starttls=" + v)
		}
		s.security = want
	}
	return s, nil
}

// Masked returns the URL with its password hidden, for logs and settings pages.
func (c Config) Masked() string {
	u, err := url.Parse(strings.TrimSpace(c.URL))
	if err != nil {
		return "(unparseable SMTP URL)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	return u.String()
}

// Address is one mailbox: a display name (any UTF-8, may be empty) and a bare
// address like jane@example.com.
type Address struct {
	Name  string
	Email string
}

// Message is one e-mail to send.
type Message struct {
	// ID is the notification's id. It is sent as X-Waybill-Notification-Id and
	// makes the Message-ID, so every attempt at the same message carries the
	// same ids and a receiver (or a person) can tell a retry from a new
	// message. Give a different message a different ID.
	ID      string
	To      []Address
	Subject string
	Text    string // required: every message has a plain-text part
	HTML    string // optional: sent as the preferred alternative to Text
	ReplyTo *Address
	// Attachments are sent after the text (and HTML), each as a base64
	// part with its file name; with any, the message is multipart/mixed.
	Attachments []Attachment
}

// Attachment is a file sent with a message.
type Attachment struct {
	// Name is the file name the recipient sees, e.g. "PO-1042.pdf". Any
	// UTF-8 is allowed: path separators and characters file systems refuse
	// become "_", control characters are dropped, and a name over 100
	// characters is shortened (keeping its extension). It must keep at
	// least one letter or digit.
	Name string
	// ContentType is the media type, e.g. "application/pdf" or
	// "text/csv; charset=utf-8". When empty it is guessed from the name's
	// extension, falling back to application/octet-stream. Multipart and
	// message types are not allowed.
	ContentType string
	Data        []byte
}
