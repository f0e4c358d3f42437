package portal

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/errs"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	other  = []byte("fedcba9876543210fedcba9876543210")
	now    = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
)

// wantErr checks that err is a Permission error with the given code.
func wantErr(t *testing.T, what string, err error, code string) {
	t.Helper()
	if err == nil || !errs.Is(errs.Permission, err) || errs.CodeOf(err) != code {
		t.Errorf("%s: err = %v (code %q), want a Permission error with code %s", what, err, errs.CodeOf(err), code)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, subject := range []string{
		"po_01jx5v3me7q4h020429t3k1s",
		"x",
		"Łódź.PO-1042/supplier?a=b&c=d",
		"with.dots..and\x00nul\nand newline",
		"\xff\xfe not UTF-8",
		strings.Repeat("s", MaxSubjectLen),
	} {
		tok := Sign(secret, subject, now.Add(time.Hour))
		if strings.ContainsAny(tok, "=+/ \n") || strings.Count(tok, ".") != 1 {
			t.Errorf("token %q is not two unpadded base64url segments", tok)
		}
		got, err := Verify(secret, tok, now)
		if err != nil || got != subject {
			t.Errorf("Verify(Sign(%q)) = %q, %v", subject, got, err)
		}
		if again := Sign(secret, subject, now.Add(time.Hour)); again != tok {
			t.Errorf("Sign is not deterministic: %q then %q", tok, again)
		}
	}
}

func TestExpiry(t *testing.T) {
	exp := now.Add(30 * time.Minute)
	tok := Sign(secret, "po_1", exp)
	if s, err := Verify(secret, tok, exp.Add(-time.Second)); err != nil || s != "po_1" {
		t.Errorf("a second before expiry: %q, %v", s, err)
	}
	for _, at := range []time.Time{exp, exp.Add(time.Nanosecond), exp.Add(72 * time.Hour)} {
		s, err := Verify(secret, tok, at)
		wantErr(t, "at "+at.String(), err, CodeExpired)
		if s != "po_1" {
			t.Errorf("an expired genuine token gives subject %q, want po_1", s)
		}
	}
	// Expiry is kept to the second, rounded down.
	tok = Sign(secret, "po_1", exp.Add(999*time.Millisecond))
	_, err := Verify(secret, tok, exp)
	wantErr(t, "sub-second expiry", err, CodeExpired)
	// Long ago and far ahead both work.
	if _, err := Verify(secret, Sign(secret, "po_1", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)), now); err != nil {
		t.Errorf("far future: %v", err)
	}
	_, err = Verify(secret, Sign(secret, "po_1", time.Unix(-1e10, 0)), now)
	wantErr(t, "long past", err, CodeExpired)
}

func TestInvalid(t *testing.T) {
	good := Sign(secret, "po_01jx5", now.Add(time.Hour))
	payload, sig, _ := strings.Cut(good, ".")

	// flip changes the character at i to another base64url character with
	// the same low bits, so the string still decodes.
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'Q'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	// loose sets the unused low bit of the last character (a 32-byte MAC
	// leaves two): the same bytes to a lenient decoder, another string.
	loose := func(s string) string {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		last := strings.IndexByte(alphabet, s[len(s)-1])
		return s[:len(s)-1] + string(alphabet[last^1])
	}
	// Re-signing a changed payload with the wrong secret is forgery.
	forged := func(edit func([]byte)) string {
		p, _ := b64.DecodeString(payload)
		edit(p)
		return b64.EncodeToString(p) + "." + b64.EncodeToString(mac(other, p))
	}
	// Changing the payload without re-signing.
	changed := func(edit func([]byte)) string {
		p, _ := b64.DecodeString(payload)
		edit(p)
		return b64.EncodeToString(p) + "." + sig
	}

	for name, tok := range map[string]string{
		"empty":                   "",
		"garbage":                 "not a token",
		"no dot":                  payload + sig,
		"two dots":                payload + "." + sig + ".x",
		"empty signature":         payload + ".",
		"empty payload":           "." + sig,
		"padding":                 payload + "." + sig + "=",
		"standard base64":         strings.NewReplacer("-", "+", "_", "/").Replace(payload) + "." + strings.NewReplacer("-", "+", "_", "/").Replace(sig) + "+/",
		"line break":              payload[:4] + "\n" + payload[4:] + "." + sig,
		"tampered payload":        flip(payload, 3) + "." + sig,
		"tampered payload end":    flip(payload, len(payload)-1) + "." + sig,
		"tampered signature":      payload + "." + flip(sig, 5),
		"tampered signature end":  payload + "." + flip(sig, len(sig)-1),
		"non-canonical base64":    payload + "." + loose(sig),
		"truncated signature":     payload + "." + sig[:len(sig)-2],
		"longer subject":          changed(func(p []byte) { p[len(p)-1]++ }),
		"later expiry":            changed(func(p []byte) { binary.BigEndian.PutUint64(p[1:9], uint64(now.Add(1e6*time.Hour).Unix())) }),
		"version 2":               changed(func(p []byte) { p[0] = 2 }),
		"signed by another key":   forged(func([]byte) {}),
		"signed with no subject":  b64.EncodeToString([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0}) + "." + b64.EncodeToString(mac(secret, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0})),
		"subject too long":        longSubjectToken(),
		"huge":                    strings.Repeat("A", 1<<16) + "." + sig,
		"signature of other data": payload + "." + b64.EncodeToString(mac(secret, []byte("other"))),
	} {
		s, err := Verify(secret, tok, now)
		wantErr(t, name, err, CodeInvalid)
		if s != "" {
			t.Errorf("%s: an invalid token gives subject %q", name, s)
		}
	}

	s, err := Verify(other, good, now)
	wantErr(t, "wrong secret", err, CodeInvalid)
	if s != "" {
		t.Errorf("wrong secret gives subject %q", s)
	}
	// An expired token from another secret is invalid, not expired: the
	// expiry is only told for genuine tokens.
	_, err = Verify(other, good, now.Add(2*time.Hour))
	wantErr(t, "wrong secret, expired", err, CodeInvalid)
	_, err = Verify(secret[:MinSecretLen-1], good, now)
	wantErr(t, "short secret", err, CodeInvalid)
}

// longSubjectToken is correctly signed but has a subject over the limit.
func longSubjectToken() string {
	p := append([]byte{1, 0, 0, 0, 0, 0x7f, 0, 0, 0}, strings.Repeat("s", MaxSubjectLen+1)...)
	return b64.EncodeToString(p) + "." + b64.EncodeToString(mac(secret, p))
}

func TestSignPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"empty subject":    func() { Sign(secret, "", now) },
		"long subject":     func() { Sign(secret, strings.Repeat("s", MaxSubjectLen+1), now) },
		"short secret":     func() { Sign(secret[:MinSecretLen-1], "po_1", now) },
		"no secret at all": func() { Sign(nil, "po_1", now) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Sign did not panic", name)
				}
			}()
			f()
		}()
	}
}

// FuzzVerify checks that Verify never panics, fails only with the two
// documented errors, and accepts a string only when Sign, with the same
// secret, makes exactly that string for the subject and expiry it carries.
func FuzzVerify(f *testing.F) {
	for _, s := range []string{"po_1", "Łódź", strings.Repeat("x", MaxSubjectLen)} {
		f.Add(Sign(secret, s, now.Add(time.Hour)))
		f.Add(Sign(secret, s, now.Add(-time.Hour)))
		f.Add(Sign(other, s, now.Add(time.Hour)))
	}
	for _, s := range []string{"", ".", "..", "AQ.AQ", "garbage", "AQAAAAAAAAAAeA.", "=.="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		subject, err := Verify(secret, token, now)
		if err != nil {
			if !errs.Is(errs.Permission, err) {
				t.Fatalf("Verify(%q): err = %v, want a Permission error", token, err)
			}
			switch errs.CodeOf(err) {
			case CodeInvalid:
				if subject != "" {
					t.Fatalf("Verify(%q): invalid, yet subject %q", token, subject)
				}
				return
			case CodeExpired:
			default:
				t.Fatalf("Verify(%q): code %q", token, errs.CodeOf(err))
			}
		}
		// Accepted, or genuine but expired: it must be Sign's own output.
		p, _, _ := strings.Cut(token, ".")
		payload, derr := b64.DecodeString(p)
		if derr != nil || len(payload) < headerLen {
			t.Fatalf("Verify(%q) accepted a token whose payload does not decode", token)
		}
		expires := time.Unix(int64(binary.BigEndian.Uint64(payload[1:headerLen])), 0)
		if want := Sign(secret, subject, expires); token != want {
			t.Fatalf("Verify accepted %q (subject %q), which Sign would write as %q", token, subject, want)
		}
		if err == nil && !now.Before(expires) || err != nil && now.Before(expires) {
			t.Fatalf("Verify(%q) = %v with expiry %v", token, err, expires)
		}
	})
}
