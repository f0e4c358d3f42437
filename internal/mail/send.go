package mail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	netmail "net/mail"
	"net/textproto"
	"slices"
	"strings"
	"time"
	"unicode"

	gomail "github.com/wneessen/go-mail"

	"github.com/waybill/waybill/internal/errs"
)

// defaultTimeout bounds each stage of a send: connecting and saying hello
// (with STARTTLS and AUTH), the envelope, and the message data. The context
// ends a send sooner: its end closes the connection.
const defaultTimeout = 30 * time.Second

// quitTimeout bounds the goodbye after a message was sent or refused.
const quitTimeout = 5 * time.Second

// Sender delivers messages through one SMTP server. It is safe for
// concurrent use; each Send opens its own connection.
type Sender struct {
	server    server
	from      *netmail.Address
	timeout   time.Duration
	tlsConfig *tls.Config
}

// NewSender checks c and returns a Sender for it.
func NewSender(c Config) (*Sender, error) {
	const op = "mail.NewSender"
	srv, err := parseServer(strings.TrimSpace(c.URL))
	if err != nil {
		return nil, errs.E(op, err)
	}
	if strings.TrimSpace(c.From) == "" {
		return nil, errs.E(op, errs.Invalid, "the sender (From) is empty; set it to an address like \"Waybill <no-reply@example.com>\"")
	}
	from, err := netmail.ParseAddress(c.From)
	if err != nil {
		return nil, errs.E(op, errs.Invalid, fmt.Sprintf("the sender (From) %q is not an e-mail address like \"Waybill <no-reply@example.com>\"", c.From))
	}
	return &Sender{
		server:    srv,
		from:      from,
		timeout:   defaultTimeout,
		tlsConfig: &tls.Config{ServerName: srv.host, MinVersion: tls.VersionTLS12},
	}, nil
}

// Send delivers m to every address in m.To, or to none of them: when the
// server refuses any recipient, nothing is sent and the error names each
// refused address. Use IsPermanent on the error to decide whether to retry.
func (s *Sender) Send(ctx context.Context, m Message) error {
	const op = "mail.Send"
	msg, err := s.compose(m)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return errs.E(op, errs.Transient, "not sent", err)
	}

	// The connection is dialled here rather than by go-mail so that it can be
	// closed when ctx ends (go-mail only watches ctx while dialling), and
	// closed at all when the greeting, STARTTLS or AUTH fails.
	var conn net.Conn
	stop := func() bool { return false }
	defer func() { stop() }()
	dial := func(dctx context.Context, _, _ string) (net.Conn, error) {
		d := &net.Dialer{}
		var c net.Conn
		var err error
		if s.server.security == implicitTLS {
			c, err = (&tls.Dialer{NetDialer: d, Config: s.tlsConfig}).DialContext(dctx, "tcp", s.server.addr())
		} else {
			c, err = d.DialContext(dctx, "tcp", s.server.addr())
		}
		if err != nil {
			return nil, err
		}
		conn = c
		stop = context.AfterFunc(ctx, func() { c.Close() })
		return c, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(s.server.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithDialContextFunc(dial),
		gomail.WithTLSConfig(s.tlsConfig),
	}
	switch s.server.security {
	case implicitTLS:
		opts = append(opts, gomail.WithSSL())
	case starttlsRequired:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case starttlsOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case plaintext:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.server.user != "" {
		// PLAIN and LOGIN are what nearly every provider offers; go-mail
		// refuses both over an unencrypted connection to anything but
		// localhost, and falls back to discovering a mechanism (SCRAM, CRAM)
		// when the server offers neither.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.server.user),
			gomail.WithPassword(s.server.pass))
	}
	client, err := gomail.NewClient(s.server.host, opts...)
	if err != nil {
		return errs.E(op, errs.Invalid, "cannot configure the SMTP client", err)
	}

	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return s.failed(ctx, "cannot talk to the SMTP server at "+s.server.addr(), err)
	}
	defer func() {
		// Past the message, a server slow to say goodbye should not hold
		// the caller for a whole timeout.
		_ = sc.UpdateDeadline(quitTimeout)
		if sc.Quit() != nil {
			sc.Close()
		}
	}()

	from, _ := msg.GetSender(false)
	rcpts, _ := msg.GetRecipients()
	if err := sc.UpdateDeadline(s.timeout); err != nil {
		return s.failed(ctx, "the SMTP connection broke", err)
	}
	if err := sc.Mail(from); err != nil {
		return s.failed(ctx, "the SMTP server refused the sender "+from, err)
	}
	var refused []error
	for _, r := range rcpts {
		if err := sc.Rcpt(r); err != nil {
			refused = append(refused, fmt.Errorf("%s: %w", r, err))
		}
	}
	if len(refused) > 0 {
		_ = sc.Reset()
		return s.failed(ctx, fmt.Sprintf("the SMTP server refused %d of %d recipients", len(refused), len(rcpts)), errors.Join(refused...))
	}
	w, err := sc.Data()
	if err != nil {
		return s.failed(ctx, "the SMTP server refused the message", err)
	}
	if err := sc.UpdateDeadline(s.timeout); err != nil {
		return s.failed(ctx, "the SMTP connection broke", err)
	}
	if _, err := msg.WriteTo(w); err != nil {
		return s.failed(ctx, "the message could not be written", err)
	}
	// A failure past this point may come after the server took the message;
	// the stable Message-ID and X-Waybill-Notification-Id let a retry be
	// recognised as one.
	if err := w.Close(); err != nil {
		return s.failed(ctx, "the SMTP server did not accept the message", err)
	}
	return nil
}

// failed classifies a failure: any 5xx reply in err makes it permanent
// (Invalid), anything else (4xx replies, network errors, time-outs, TLS
// trouble, a context that ended) temporary (Transient).
func (s *Sender) failed(ctx context.Context, msg string, err error) error {
	const op = "mail.Send"
	if cerr := ctx.Err(); cerr != nil {
		return errs.E(op, errs.Transient, msg+" before the context ended", errors.Join(cerr, err))
	}
	if hasPermanentReply(err) {
		return errs.E(op, errs.Invalid, msg, err)
	}
	return errs.E(op, errs.Transient, msg, err)
}

// hasPermanentReply reports whether err holds an SMTP reply with a 5xx code,
// looking through joined errors (one per refused recipient).
func hasPermanentReply(err error) bool {
	switch e := err.(type) {
	case *textproto.Error:
		return e.Code >= 500 && e.Code < 600
	case interface{ Unwrap() []error }:
		return slices.ContainsFunc(e.Unwrap(), hasPermanentReply)
	case interface{ Unwrap() error }:
		return hasPermanentReply(e.Unwrap())
	}
	return false
}

// IsPermanent reports whether an error from Send means the same message can
// never be delivered as it is, so retrying is pointless: the server answered
// 5xx (to AUTH, the sender, a recipient or the data), or the message itself
// is invalid (a bad address, a missing ID). 4xx replies, refused
// connections, time-outs, TLS failures and a cancelled context are
// temporary, as is an error that did not come from Send.
func IsPermanent(err error) bool {
	return err != nil && errs.KindOf(err) == errs.Invalid
}

// compose checks m and builds the go-mail message.
func (s *Sender) compose(m Message) (*gomail.Msg, error) {
	var fe errs.FieldList
	if !validID(m.ID) {
		fe.Add("id", "must be 1 to 200 printable ASCII characters without spaces", m.ID)
	}
	if len(m.To) == 0 {
		fe.Add("to", "needs at least one recipient", nil)
	}
	to := make([]*netmail.Address, 0, len(m.To))
	for i, a := range m.To {
		addr, ok := mailbox(a)
		if !ok {
			fe.Add(fmt.Sprintf("to[%d]", i), "must be an e-mail address like name@example.com", a.Email)
			continue
		}
		to = append(to, addr)
	}
	var replyTo *netmail.Address
	if m.ReplyTo != nil {
		var ok bool
		if replyTo, ok = mailbox(*m.ReplyTo); !ok {
			fe.Add("reply_to", "must be an e-mail address like name@example.com", m.ReplyTo.Email)
		}
	}
	subject := oneLine(m.Subject)
	if subject == "" {
		fe.Add("subject", "must not be empty", nil)
	}
	if strings.TrimSpace(m.Text) == "" {
		fe.Add("text", "must not be empty: every message has a plain-text part", nil)
	}
	attachments := checkAttachments(m.Attachments, &fe)
	if err := fe.Err("mail.Send"); err != nil {
		return nil, err
	}

	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	msg.ToMailAddress(to...)
	if replyTo != nil {
		msg.ReplyToMailAddress(replyTo)
	}
	msg.Subject(subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(messageID(m.ID, s.from.Address))
	msg.SetGenHeader(HeaderNotificationID, m.ID)
	// RFC 3834: a machine wrote this, so vacation responders stay quiet.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if strings.TrimSpace(m.HTML) != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	for _, a := range attachments {
		// go-mail keeps headers already set and adds the base64 encoding
		// (76-character lines); around the text (and HTML) it writes
		// multipart/mixed.
		msg.AttachReadSeeker(a.name, bytes.NewReader(a.data), func(f *gomail.File) {
			maps.Copy(f.Header, a.header)
		})
	}
	return msg, nil
}

// HeaderNotificationID carries Message.ID on every message sent.
const HeaderNotificationID = "X-Waybill-Notification-Id"

// validID accepts what can go into a header unencoded.
func validID(id string) bool {
	if id == "" || len(id) > 200 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// mailbox checks a bare address and cleans the display name.
func mailbox(a Address) (*netmail.Address, bool) {
	email := strings.TrimSpace(a.Email)
	p, err := netmail.ParseAddress(email)
	if err != nil || p.Address != email || p.Name != "" {
		return nil, false
	}
	return &netmail.Address{Name: oneLine(a.Name), Address: email}, true
}

// oneLine turns control characters (line breaks in particular) into spaces
// and collapses runs of spaces, so a value cannot add header lines.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// messageID derives the Message-ID from the notification id and the sender's
// domain, so that every attempt at one message has the same Message-ID. An id
// with characters a Message-ID cannot hold is replaced by its hash.
func messageID(id, from string) string {
	domain := from[strings.LastIndexByte(from, '@')+1:]
	left := id
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			sum := sha256.Sum256([]byte(id))
			left = hex.EncodeToString(sum[:16])
			break
		}
	}
	return "waybill." + left + "@" + domain
}
