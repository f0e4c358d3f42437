package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/waybill/waybill/internal/errs"
)

const testFrom = "Waybill <no-reply@waybill.example>"

func newTestSender(t *testing.T, rawURL string) *Sender {
	t.Helper()
	s, err := NewSender(Config{URL: rawURL, From: testFrom})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// parsed is a received message taken apart the way a mail client would.
type parsed struct {
	header netmail.Header
	parts  map[string]string // media type -> decoded body, CRLF turned to LF
	order  []string          // media types in the order sent
}

func parseReceived(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, data)
	}
	p := parsed{header: m.Header, parts: map[string]string{}}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		p.addPart(t, mt, params, m.Header.Get("Content-Transfer-Encoding"), m.Body)
		return p
	}
	if mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %s, want multipart/alternative", mt)
	}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pmt, pparams, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		// multipart.Reader decodes quoted-printable itself and drops the header.
		p.addPart(t, pmt, pparams, part.Header.Get("Content-Transfer-Encoding"), part)
	}
	return p
}

func (p *parsed) addPart(t *testing.T, mt string, params map[string]string, cte string, body io.Reader) {
	t.Helper()
	if cs := params["charset"]; !strings.EqualFold(cs, "utf-8") {
		t.Errorf("%s part has charset %q, want UTF-8", mt, cs)
	}
	switch strings.ToLower(cte) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		t.Fatalf("%s part is base64; quoted-printable expected", mt)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	p.parts[mt] = strings.ReplaceAll(string(b), "\r\n", "\n")
	p.order = append(p.order, mt)
}

func decodeHeader(t *testing.T, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		t.Fatalf("header %q: %v", v, err)
	}
	return s
}

func TestSendEachKind(t *testing.T) {
	be := &backend{}
	addr := startServer(t, be, serverOpts{})
	s := newTestSender(t, "smtp://"+addr)

	to := []Address{{Name: "Zoë Ångström", Email: "zoe@shop.example"}, {Name: `Ops "Night" Desk`, Email: "ops@shop.example"}}
	for i, tc := range renderCases() {
		t.Run(tc.name, func(t *testing.T) {
			subject, text, html, err := Render(tc.kind, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			id := fmt.Sprintf("ntf_01jx%022d", i)
			before := time.Now().Add(-time.Second)
			err = s.Send(t.Context(), Message{
				ID: id, To: to, Subject: subject, Text: text, HTML: html,
				ReplyTo: &Address{Name: "Acme Support", Email: "support@acme.example"},
			})
			if err != nil {
				t.Fatal(err)
			}
			msgs := be.messages()
			got := msgs[len(msgs)-1]
			if got.From != "no-reply@waybill.example" || !slices.Equal(got.To, []string{"zoe@shop.example", "ops@shop.example"}) {
				t.Errorf("envelope = %s -> %v", got.From, got.To)
			}
			p := parseReceived(t, got.Data)
			h := p.header

			if from, err := h.AddressList("From"); err != nil || len(from) != 1 || from[0].Name != "Waybill" || from[0].Address != "no-reply@waybill.example" {
				t.Errorf("From = %q (%v)", h.Get("From"), err)
			}
			gotTo, err := h.AddressList("To")
			if err != nil || len(gotTo) != 2 {
				t.Fatalf("To = %q (%v)", h.Get("To"), err)
			}
			for j, a := range gotTo {
				if a.Name != to[j].Name || a.Address != to[j].Email {
					t.Errorf("To[%d] = %q <%s>, want %q <%s>", j, a.Name, a.Address, to[j].Name, to[j].Email)
				}
			}
			if rt, err := h.AddressList("Reply-To"); err != nil || len(rt) != 1 || rt[0].Address != "support@acme.example" {
				t.Errorf("Reply-To = %q (%v)", h.Get("Reply-To"), err)
			}
			if got := decodeHeader(t, h.Get("Subject")); got != subject {
				t.Errorf("Subject = %q, want %q", got, subject)
			}
			if got, want := h.Get("Message-Id"), "<waybill."+id+"@waybill.example>"; got != want {
				t.Errorf("Message-ID = %q, want %q", got, want)
			}
			if got := h.Get(HeaderNotificationID); got != id {
				t.Errorf("%s = %q, want %q", HeaderNotificationID, got, id)
			}
			if got := h.Get("Auto-Submitted"); got != "auto-generated" {
				t.Errorf("Auto-Submitted = %q", got)
			}
			if d, err := h.Date(); err != nil || d.Before(before) || d.After(time.Now().Add(time.Second)) {
				t.Errorf("Date = %q (%v)", h.Get("Date"), err)
			}

			if !slices.Equal(p.order, []string{"text/plain", "text/html"}) {
				t.Fatalf("parts = %v, want text/plain then text/html", p.order)
			}
			if p.parts["text/plain"] != text {
				t.Errorf("text part differs from the rendered text:\n%s", p.parts["text/plain"])
			}
			if p.parts["text/html"] != html {
				t.Errorf("HTML part differs from the rendered HTML:\n%s", p.parts["text/html"])
			}
			for _, w := range tc.want {
				if !strings.Contains(p.parts["text/plain"], w) || !strings.Contains(p.parts["text/html"], w) {
					t.Errorf("a part lacks %q", w)
				}
			}
			if strings.Contains(p.parts["text/html"], "<script") {
				t.Error("the HTML part contains a <script> tag")
			}
			if tc.kind == LowStock && !strings.Contains(p.parts["text/html"], "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Error("the hostile product name is not shown escaped in the HTML part")
			}
		})
	}
}

func TestSendTextOnlyAndRetriedIDs(t *testing.T) {
	be := &backend{}
	addr := startServer(t, be, serverOpts{})
	s := newTestSender(t, "smtp://"+addr+"?starttls=none")
	m := Message{ID: "ntf_01jxretry", To: []Address{{Email: "jane@shop.example"}}, Subject: "Line\r\nBcc: evil@example.com", Text: "Hello\nthere.\n"}
	for range 2 {
		if err := s.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	msgs := be.messages()
	if len(msgs) != 2 {
		t.Fatalf("got %d messages, want 2", len(msgs))
	}
	a, b := parseReceived(t, msgs[0].Data), parseReceived(t, msgs[1].Data)
	if !slices.Equal(a.order, []string{"text/plain"}) || a.parts["text/plain"] != "Hello\nthere.\n" {
		t.Errorf("parts = %v %q", a.order, a.parts["text/plain"])
	}
	if got := decodeHeader(t, a.header.Get("Subject")); got != "Line Bcc: evil@example.com" {
		t.Errorf("Subject = %q", got)
	}
	if a.header.Get("Bcc") != "" || !slices.Equal(msgs[0].To, []string{"jane@shop.example"}) {
		t.Error("a line break in the subject added a header")
	}
	// A retry is the same message: same Message-ID, same notification id.
	for _, k := range []string{"Message-Id", HeaderNotificationID} {
		if a.header.Get(k) == "" || a.header.Get(k) != b.header.Get(k) {
			t.Errorf("%s differs between attempts: %q, %q", k, a.header.Get(k), b.header.Get(k))
		}
	}
}

func TestSendAuth(t *testing.T) {
	// A user name with @ and a password with URL-special characters, as they
	// must be written in the URL.
	const user, pass = "ops@acme.example", "p@ss/w#rd?:1"
	be := &backend{User: user, Pass: pass}
	addr := startServer(t, be, serverOpts{})
	msg := Message{ID: "ntf_auth", To: []Address{{Email: "jane@shop.example"}}, Subject: "Hi", Text: "Hi"}

	good := "smtp://" + url.UserPassword(user, pass).String() + "@" + addr
	if err := newTestSender(t, good).Send(t.Context(), msg); err != nil {
		t.Fatalf("with the right password: %v", err)
	}
	if n := len(be.messages()); n != 1 {
		t.Fatalf("server has %d messages, want 1", n)
	}

	for name, raw := range map[string]string{
		"wrong password": "smtp://" + url.UserPassword(user, "nope").String() + "@" + addr, // 535
		"no credentials": "smtp://" + addr,                                                 // 502 at MAIL FROM
	} {
		err := newTestSender(t, raw).Send(t.Context(), msg)
		if err == nil || !IsPermanent(err) {
			t.Errorf("%s: err = %v, want a permanent error", name, err)
		}
		if err != nil && strings.Contains(err.Error(), pass) {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
	if n := len(be.messages()); n != 1 {
		t.Errorf("server has %d messages, want still 1", n)
	}
}

func TestSendTLS(t *testing.T) {
	cert, pool := testCert(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	msg := Message{ID: "ntf_tls", To: []Address{{Email: "jane@shop.example"}}, Subject: "Hi", Text: "Hi"}

	for _, tc := range []struct {
		scheme      string
		implicitTLS bool
	}{
		{"smtps", true},
		{"smtp+starttls", false},
		{"smtp", false}, // opportunistic: the server offers STARTTLS, so it is used
	} {
		t.Run(tc.scheme, func(t *testing.T) {
			// AUTH is offered over TLS only: the login proves the connection was encrypted.
			be := &backend{User: "ops", Pass: "secret"}
			addr := startServer(t, be, serverOpts{tls: serverTLS, implicitTLS: tc.implicitTLS})
			s := newTestSender(t, tc.scheme+"://ops:secret@"+addr)
			s.tlsConfig.RootCAs = pool
			if err := s.Send(t.Context(), msg); err != nil {
				t.Fatal(err)
			}
			msgs := be.messages()
			if len(msgs) != 1 || !msgs[0].TLS {
				t.Fatalf("messages = %d, over TLS = %v", len(msgs), len(msgs) == 1 && msgs[0].TLS)
			}

			// The same server with a certificate nobody vouches for: not sent, retry later.
			s = newTestSender(t, tc.scheme+"://ops:secret@"+addr)
			err := s.Send(t.Context(), msg)
			if err == nil || IsPermanent(err) {
				t.Errorf("untrusted certificate: err = %v, want a temporary error", err)
			}
		})
	}

	t.Run("starttls required but not offered", func(t *testing.T) {
		be := &backend{}
		addr := startServer(t, be, serverOpts{})
		err := newTestSender(t, "smtp+starttls://"+addr).Send(t.Context(), msg)
		if err == nil || IsPermanent(err) || len(be.messages()) != 0 {
			t.Errorf("err = %v, messages = %d; want a temporary error and nothing sent", err, len(be.messages()))
		}
	})
}

func TestSendClassifiesFailures(t *testing.T) {
	be := &backend{Refuse: func(rcpt string) error {
		switch {
		case strings.HasPrefix(rcpt, "gone@"):
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
		case strings.HasPrefix(rcpt, "busy@"):
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
		}
		return nil
	}}
	addr := startServer(t, be, serverOpts{})
	s := newTestSender(t, "smtp://"+addr)
	send := func(ctx context.Context, s *Sender, emails ...string) error {
		m := Message{ID: "ntf_classify", Subject: "Hi", Text: "Hi"}
		for _, e := range emails {
			m.To = append(m.To, Address{Email: e})
		}
		return s.Send(ctx, m)
	}
	replyCode := func(err error) int {
		var tp *textproto.Error
		if errors.As(err, &tp) {
			return tp.Code
		}
		return 0
	}

	t.Run("550 is permanent", func(t *testing.T) {
		err := send(t.Context(), s, "gone@shop.example")
		if !IsPermanent(err) || replyCode(err) != 550 || !strings.Contains(err.Error(), "gone@shop.example") {
			t.Errorf("err = %v (permanent %v, code %d)", err, IsPermanent(err), replyCode(err))
		}
	})
	t.Run("451 is temporary", func(t *testing.T) {
		err := send(t.Context(), s, "busy@shop.example")
		if err == nil || IsPermanent(err) || !errs.Is(errs.Transient, err) || replyCode(err) != 451 {
			t.Errorf("err = %v (permanent %v, code %d)", err, IsPermanent(err), replyCode(err))
		}
	})
	t.Run("one 550 among refusals is permanent", func(t *testing.T) {
		// The message can never go to all of its recipients, whatever the order.
		for _, order := range [][]string{{"busy@shop.example", "gone@shop.example", "ok@shop.example"}, {"gone@shop.example", "busy@shop.example"}} {
			err := send(t.Context(), s, order...)
			if !IsPermanent(err) || !strings.Contains(err.Error(), "gone@shop.example") || !strings.Contains(err.Error(), "busy@shop.example") {
				t.Errorf("%v: err = %v", order, err)
			}
		}
	})
	if n := len(be.messages()); n != 0 {
		t.Errorf("server has %d messages; a refused recipient must stop the whole message", n)
	}

	t.Run("refused connection is temporary", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := l.Addr().String()
		l.Close()
		err = send(t.Context(), newTestSender(t, "smtp://"+closed), "jane@shop.example")
		if err == nil || IsPermanent(err) || !errs.Is(errs.Transient, err) {
			t.Errorf("err = %v", err)
		}
	})

	silent := silentServer(t)
	t.Run("context deadline is temporary", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := send(ctx, newTestSender(t, "smtp://"+silent), "jane@shop.example")
		if err == nil || IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Send returned after %v, long past the context's deadline", d)
		}
	})
	t.Run("time-out is temporary", func(t *testing.T) {
		slow := newTestSender(t, "smtp://"+silent)
		slow.timeout = 200 * time.Millisecond
		err := send(context.Background(), slow, "jane@shop.example")
		var ne net.Error
		if err == nil || IsPermanent(err) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a cancelled context sends nothing", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := send(ctx, s, "jane@shop.example")
		if err == nil || IsPermanent(err) || !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("an invalid message is permanent", func(t *testing.T) {
		err := send(t.Context(), s, "not an address")
		if !IsPermanent(err) || !strings.Contains(err.Error(), "to[0]") {
			t.Errorf("err = %v", err)
		}
	})
	if IsPermanent(nil) || IsPermanent(errors.New("anything else")) {
		t.Error("IsPermanent is true for nil or a foreign error")
	}
}

// silentServer accepts connections and never says a word.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

func TestMessageValidation(t *testing.T) {
	s := newTestSender(t, "smtp://127.0.0.1:1") // never dialled: every message here is invalid
	ok := Message{ID: "ntf_1", To: []Address{{Email: "jane@shop.example"}}, Subject: "Hi", Text: "Hi"}
	for _, tc := range []struct {
		field string
		edit  func(*Message)
	}{
		{"id", func(m *Message) { m.ID = "" }},
		{"id", func(m *Message) { m.ID = "has space" }},
		{"to", func(m *Message) { m.To = nil }},
		{"to[1]", func(m *Message) { m.To = append(m.To, Address{Email: "Jane <jane@shop.example>"}) }},
		{"reply_to", func(m *Message) { m.ReplyTo = &Address{Email: "@"} }},
		{"subject", func(m *Message) { m.Subject = " \n" }},
		{"text", func(m *Message) { m.Text = ""; m.HTML = "<p>Hi</p>" }},
	} {
		m := ok
		tc.edit(&m)
		err := s.Send(t.Context(), m)
		fields := errs.Fields(err)
		if !IsPermanent(err) || len(fields) != 1 || fields[0].Field != tc.field {
			t.Errorf("%s: err = %v", tc.field, err)
		}
	}
}

func TestMessageID(t *testing.T) {
	if got := messageID("ntf_01jx5", "no-reply@waybill.example"); got != "waybill.ntf_01jx5@waybill.example" {
		t.Errorf("messageID = %q", got)
	}
	odd := messageID("a<b>@c", "x@y.example")
	if odd != messageID("a<b>@c", "x@y.example") || strings.ContainsAny(strings.TrimSuffix(odd, "@y.example"), "<>@") {
		t.Errorf("messageID of an odd id = %q", odd)
	}
}

func TestNewSender(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{URL: "smtp://mail.example.com", From: ""}, "From) is empty"},
		{Config{URL: "smtp://mail.example.com", From: "not an address"}, "not an e-mail address"},
		{Config{URL: "http://mail.example.com", From: "a@b.example"}, "unsupported scheme"},
	} {
		_, err := NewSender(tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errs.Is(errs.Invalid, err) {
			t.Errorf("NewSender(%+v) = %v, want an Invalid error containing %q", tc.c, err, tc.want)
		}
	}
}
