package webhook

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/errs"
)

// The test vector published with the Standard Webhooks reference libraries.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorMsgID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignSpecVector(t *testing.T) {
	got, err := Sign(vectorSecret, vectorMsgID, time.Unix(vectorTimestamp, 0), []byte(vectorBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != vectorSignature {
		t.Fatalf("Sign = %s, want %s", got, vectorSignature)
	}
	// Sub-second precision is not part of the signed content.
	got, _ = Sign(vectorSecret, vectorMsgID, time.Unix(vectorTimestamp, 999_999_999), []byte(vectorBody))
	if got != vectorSignature {
		t.Fatalf("Sign with nanoseconds = %s, want %s", got, vectorSignature)
	}
}

func TestVerifySpecVector(t *testing.T) {
	h := http.Header{}
	h.Set("webhook-id", vectorMsgID)
	h.Set("webhook-timestamp", strconv.Itoa(vectorTimestamp))
	h.Set("webhook-signature", vectorSignature)
	now := time.Unix(vectorTimestamp+60, 0)
	if err := Verify([]string{vectorSecret}, h, []byte(vectorBody), now, 0); err != nil {
		t.Fatalf("Verify(spec vector) = %v", err)
	}
	// Receivers may hold the secret without its prefix.
	if err := Verify([]string{strings.TrimPrefix(vectorSecret, "whsec_")}, h, []byte(vectorBody), now, 0); err != nil {
		t.Fatalf("Verify(unprefixed secret) = %v", err)
	}
}

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if a == b {
		t.Fatal("two secrets are equal")
	}
	if !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("secret %q lacks the whsec_ prefix", a)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	if len(key) < 24 || len(key) > 64 {
		t.Fatalf("secret has %d bytes", len(key))
	}
}

func TestHeaders(t *testing.T) {
	ts := time.Unix(vectorTimestamp, 0)
	h, err := Headers(vectorSecret, vectorMsgID, ts, []byte(vectorBody))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"webhook-id":        vectorMsgID,
		"webhook-timestamp": "1614265330",
		"webhook-signature": vectorSignature,
		"Content-Type":      "application/json",
		"User-Agent":        "Waybill-Webhooks/1",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if len(h) != len(want) {
		t.Errorf("Headers has %d headers, want %d: %v", len(h), len(want), h)
	}
}

func TestVerifyRoundTripAndRotation(t *testing.T) {
	oldSecret, newSecret, other := NewSecret(), NewSecret(), NewSecret()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"type":"order.created","data":{"id":"ord_1"}}`)
	h, err := Headers(newSecret, "msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	oldSig, _ := Sign(oldSecret, "msg_1", now, body)
	newSig := h.Get("webhook-signature")

	tests := []struct {
		name    string
		secrets []string
		sig     string
		body    []byte
		now     time.Time
		tol     time.Duration
		wantErr string
	}{
		{name: "round trip", secrets: []string{newSecret}, sig: newSig, body: body, now: now},
		{name: "receiver holds both secrets", secrets: []string{oldSecret, newSecret}, sig: newSig, body: body, now: now},
		{name: "sender signs with both secrets", secrets: []string{oldSecret}, sig: oldSig + " " + newSig, body: body, now: now},
		{name: "unknown versions and junk are skipped", secrets: []string{newSecret}, sig: "v1a,AAAA v2," + newSig[3:] + " v1,!!! v1 " + newSig, body: body, now: now},
		{name: "extra spaces", secrets: []string{newSecret}, sig: "  " + newSig + "  ", body: body, now: now},
		{name: "within tolerance", secrets: []string{newSecret}, sig: newSig, body: body, now: now.Add(5 * time.Minute)},
		{name: "custom tolerance", secrets: []string{newSecret}, sig: newSig, body: body, now: now.Add(time.Hour), tol: 2 * time.Hour},

		{name: "wrong secret", secrets: []string{other}, sig: newSig, body: body, now: now, wantErr: "no matching signature"},
		{name: "tampered body", secrets: []string{newSecret}, sig: newSig, body: append([]byte(nil), append(body, ' ')...), now: now, wantErr: "no matching signature"},
		{name: "only a v2 signature", secrets: []string{newSecret}, sig: "v2," + newSig[3:], body: body, now: now, wantErr: "no matching signature"},
		{name: "truncated signature", secrets: []string{newSecret}, sig: newSig[:len(newSig)-4], body: body, now: now, wantErr: "no matching signature"},
		{name: "too old", secrets: []string{newSecret}, sig: newSig, body: body, now: now.Add(5*time.Minute + time.Second), wantErr: "too old"},
		{name: "too new", secrets: []string{newSecret}, sig: newSig, body: body, now: now.Add(-5*time.Minute - time.Second), wantErr: "future"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hh := h.Clone()
			hh.Set("webhook-signature", tt.sig)
			err := Verify(tt.secrets, hh, tt.body, tt.now, tt.tol)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Verify = %v, want an error containing %q", err, tt.wantErr)
			}
			if !errs.Is(errs.Unauthenticated, err) {
				t.Fatalf("Verify error kind = %v, want unauthenticated", errs.KindOf(err))
			}
		})
	}
}

func TestVerifyRejectsMalformedHeaders(t *testing.T) {
	secret := NewSecret()
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{}`)
	good, _ := Headers(secret, "msg_1", now, body)

	for _, tt := range []struct {
		name  string
		edit  func(http.Header)
		error string
	}{
		{"no id", func(h http.Header) { h.Del("webhook-id") }, "missing webhook-id"},
		{"no timestamp", func(h http.Header) { h.Del("webhook-timestamp") }, "missing webhook-timestamp"},
		{"no signature", func(h http.Header) { h.Del("webhook-signature") }, "missing webhook-signature"},
		{"timestamp not a number", func(h http.Header) { h.Set("webhook-timestamp", "1700000000.5") }, "unix seconds"},
		{"huge timestamp", func(h http.Header) { h.Set("webhook-timestamp", "9223372036854775807") }, "future"},
		{"negative timestamp", func(h http.Header) { h.Set("webhook-timestamp", "-9223372036854775808") }, "too old"},
		// "{id}.{ts}.{body}" must split one way only: id "msg_1.1700000000"
		// with ts 7 would otherwise be checked against other bytes' MAC.
		{"dotted id", func(h http.Header) { h.Set("webhook-id", "msg.1") }, "invalid webhook-id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := good.Clone()
			tt.edit(h)
			err := Verify([]string{secret}, h, body, now, 0)
			if err == nil || !strings.Contains(err.Error(), tt.error) {
				t.Fatalf("Verify = %v, want an error containing %q", err, tt.error)
			}
		})
	}
}

func TestSignRejectsBadInput(t *testing.T) {
	now := time.Now()
	for _, tt := range []struct{ name, secret, msgID string }{
		{"secret not base64", "whsec_not base64!", "msg_1"},
		{"secret too short", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 16)), "msg_1"},
		{"secret too long", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65)), "msg_1"},
		{"empty id", NewSecret(), ""},
		{"dotted id", NewSecret(), "msg.1"},
		{"id with newline", NewSecret(), "msg_1\r\nX-Evil: 1"},
		{"id with space", NewSecret(), "msg 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Sign(tt.secret, tt.msgID, now, nil); !errs.Is(errs.Invalid, err) {
				t.Fatalf("Sign = %v, want an Invalid error", err)
			}
			if _, err := Headers(tt.secret, tt.msgID, now, nil); err == nil {
				t.Fatal("Headers accepted it")
			}
		})
	}
	if err := Verify(nil, http.Header{}, nil, now, 0); !errs.Is(errs.Invalid, err) {
		t.Fatalf("Verify with no secrets = %v, want an Invalid error", err)
	}
	if err := Verify([]string{"whsec_short"}, http.Header{}, nil, now, 0); !errs.Is(errs.Invalid, err) {
		t.Fatalf("Verify with a bad secret = %v, want an Invalid error", err)
	}
}
