package mail

import (
	"strings"
	"testing"

	"github.com/waybill/waybill/internal/errs"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want server
	}{
		{"smtp://mail.example.com", server{host: "mail.example.com", port: 587, security: starttlsOpportunistic}},
		{" smtp://u:p@mail.example.com:2525 ", server{host: "mail.example.com", port: 2525, security: starttlsOpportunistic, user: "u", pass: "p"}},
		{"smtp://localhost:25?starttls=none", server{host: "localhost", port: 25, security: plaintext}},
		{"smtp://mail.example.com?starttls=required", server{host: "mail.example.com", port: 587, security: starttlsRequired}},
		{"SMTP://mail.example.com/?starttls=Opportunistic", server{host: "mail.example.com", port: 587, security: starttlsOpportunistic}},
		{"smtp+starttls://apikey:SG.x@smtp.sendgrid.net", server{host: "smtp.sendgrid.net", port: 587, security: starttlsRequired, user: "apikey", pass: "SG.x"}},
		{"smtp+starttls://h?starttls=required", server{host: "h", port: 587, security: starttlsRequired}},
		{"smtps://ops%40acme.example:p%40ss%2Fw%23rd@smtp.example.com", server{host: "smtp.example.com", port: 465, security: implicitTLS, user: "ops@acme.example", pass: "p@ss/w#rd"}},
		{"smtps://[::1]:1465", server{host: "::1", port: 1465, security: implicitTLS}},
	} {
		got, err := parseServer(strings.TrimSpace(tc.raw))
		if err != nil {
			t.Errorf("%s: %v", tc.raw, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.raw, got, tc.want)
		}
		c, err := ParseURL(tc.raw)
		if err != nil || c.URL != strings.TrimSpace(tc.raw) {
			t.Errorf("ParseURL(%q) = %+v, %v", tc.raw, c, err)
		}
	}
	if got := (server{host: "::1", port: 25}).addr(); got != "[::1]:25" {
		t.Errorf("addr = %q", got)
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, tc := range []struct {
		raw, want string
	}{
		{"", "empty"},
		{"mail.example.com:587", "unsupported scheme \"mail.example.com\""},
		{"mail.example.com", "no scheme"},
		{"http://mail.example.com", `unsupported scheme "http"`},
		{"smtp:mail.example.com", "the // is missing"},
		{"smtp://", "no host"},
		{"smtp://:587", "no host"},
		{"smtp://h:0", `port "0"`},
		{"smtp://h:99999", `port "99999"`},
		{"smtp://h:abc", "not a valid URL"},
		{"smtp://user:pa/ss@h", "not a valid URL"},
		{"smtp://user:secret#1@h", "not a valid URL"},
		{"smtp://h/path", `unexpected path "/path"`},
		{"smtp://h#frag", "unexpected #fragment"},
		{"smtp://user@h", `user "user" has no password`},
		{"smtp://:secret@h", "without a user name"},
		{"smtp://h?tls=1", `unknown parameter "tls"`},
		{"smtp://h?starttls=maybe", `starttls="maybe" is not one of`},
		{"smtps://h?starttls=required", "applies to smtp:// only"},
		{"smtp+starttls://h?starttls=none", "contradicts starttls=none"},
	} {
		_, err := ParseURL(tc.raw)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errs.Is(errs.Invalid, err) {
			t.Errorf("ParseURL(%q) = %v, want an Invalid error containing %q", tc.raw, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseURL(%q): the error shows the password: %v", tc.raw, err)
		}
	}
}

func TestMasked(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"smtps://ops%40acme.example:p%40ss%2Fw%23rd@smtp.example.com:465", "smtps://ops%40acme.example:xxxxx@smtp.example.com:465"},
		{"smtp://mail.example.com?starttls=none", "smtp://mail.example.com?starttls=none"},
		{"smtp://user@mail.example.com", "smtp://user@mail.example.com"},
		{"smtp://u:pa ss@h:bad", "(unparseable SMTP URL)"},
	} {
		if got := (Config{URL: tc.raw, From: "a@b.example"}).Masked(); got != tc.want {
			t.Errorf("Masked(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}
