// Package webhook holds the pure parts of Waybill's outgoing webhooks: signing
// and verifying per Standard Webhooks, and delivering one signed request to a
// user-supplied URL without letting that URL reach internal addresses. The
// queue that decides what to send, and when to retry, lives elsewhere.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
)

// The Standard Webhooks headers. http.Header canonicalises them on the wire
// ("Webhook-Id"); header names are case-insensitive, so receivers match either.
const (
	headerID        = "webhook-id"
	headerTimestamp = "webhook-timestamp"
	headerSignature = "webhook-signature"
)

// DefaultTolerance is how far a webhook-timestamp may be from the receiver's
// clock when Verify is given no tolerance of its own.
const DefaultTolerance = 5 * time.Minute

const (
	secretPrefix = "whsec_"
	// The spec asks for at least 24 random bytes and at most 512 bits.
	minSecretBytes = 24
	maxSecretBytes = 64
	newSecretBytes = 32
	maxMsgIDLen    = 256
)

// NewSecret returns a fresh signing secret: "whsec_" and the base64 of 32
// random bytes. Show it to the endpoint's owner once; it signs every delivery.
func NewSecret() string {
	b := make([]byte, newSecretBytes)
	rand.Read(b) // never fails: crypto/rand aborts the program if the OS cannot supply randomness
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey decodes a "whsec_…" secret into its HMAC key. The prefix is
// optional, as in the reference libraries, so a receiver can paste either form.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil {
		return nil, fmt.Errorf("the secret is not whsec_ followed by base64")
	}
	if len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return nil, fmt.Errorf("the secret decodes to %d bytes; it must be %d to %d", len(key), minSecretBytes, maxSecretBytes)
	}
	return key, nil
}

// checkMsgID refuses ids the signed content could not carry unambiguously.
// The spec forbids "." because "{id}.{ts}.{body}" could otherwise be split
// differently (id "a.1", ts 2 signs the same bytes as id "a", ts 1, body "2.…");
// whitespace and control bytes would break the header itself.
func checkMsgID(id string) error {
	if id == "" {
		return fmt.Errorf("the message id is empty")
	}
	if len(id) > maxMsgIDLen {
		return fmt.Errorf("the message id is longer than %d bytes", maxMsgIDLen)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c == '.' || c <= ' ' || c >= 0x7f {
			return fmt.Errorf("the message id contains %q; ids must be printable ASCII without dots or spaces", c)
		}
	}
	return nil
}

// mac computes the raw HMAC-SHA256 of "{msgID}.{ts}.{body}".
func mac(key []byte, msgID string, unix int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msgID))
	h.Write([]byte{'.'})
	h.Write(strconv.AppendInt(nil, unix, 10))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Sign returns the webhook-signature header value ("v1,<base64>") for body
// sent as message msgID at ts, which is truncated to whole unix seconds.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	const op = "webhook.Sign"
	key, err := secretKey(secret)
	if err != nil {
		return "", errs.E(op, errs.Invalid, err)
	}
	if err := checkMsgID(msgID); err != nil {
		return "", errs.E(op, errs.Invalid, err)
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, msgID, ts.Unix(), body)), nil
}

// Headers returns the request headers of one delivery: the three Standard
// Webhooks headers, Content-Type: application/json and Waybill's User-Agent.
func Headers(secret, msgID string, ts time.Time, body []byte) (http.Header, error) {
	return headersFor([]string{secret}, msgID, ts, body)
}

// headersFor signs with every secret, space-separated in webhook-signature,
// so that during a rotation receivers holding either secret can verify.
func headersFor(secrets []string, msgID string, ts time.Time, body []byte) (http.Header, error) {
	if len(secrets) == 0 {
		return nil, errs.E("webhook.Sign", errs.Invalid, "no secret to sign with")
	}
	sigs := make([]string, len(secrets))
	for i, secret := range secrets {
		sig, err := Sign(secret, msgID, ts, body)
		if err != nil {
			return nil, err
		}
		sigs[i] = sig
	}
	h := make(http.Header, 5)
	h.Set(headerID, msgID)
	h.Set(headerTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(headerSignature, strings.Join(sigs, " "))
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Waybill-Webhooks/1")
	return h, nil
}

// Verify checks a received webhook the way a receiver should: the three
// headers are present, webhook-timestamp is within tolerance of now (a
// tolerance of zero or less means DefaultTolerance), and at least one "v1,"
// signature in webhook-signature (a space-separated list, so senders can rotate
// secrets) matches the body under at least one of secrets (so receivers can
// too). Signatures are compared in constant time. Other versions, such as the
// asymmetric "v1a", are skipped. Every failure is errs.Unauthenticated except a
// malformed secret, which is the receiver's own mistake and errs.Invalid.
func Verify(secrets []string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	const op = "webhook.Verify"
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if len(secrets) == 0 {
		return errs.E(op, errs.Invalid, "no secret to verify with")
	}
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		k, err := secretKey(s)
		if err != nil {
			return errs.E(op, errs.Invalid, fmt.Sprintf("secret %d", i), err)
		}
		keys[i] = k
	}

	msgID := h.Get(headerID)
	rawTS := h.Get(headerTimestamp)
	sigs := h.Values(headerSignature)
	switch {
	case msgID == "":
		return errs.E(op, errs.Unauthenticated, "missing webhook-id header")
	case rawTS == "":
		return errs.E(op, errs.Unauthenticated, "missing webhook-timestamp header")
	case len(sigs) == 0:
		return errs.E(op, errs.Unauthenticated, "missing webhook-signature header")
	}
	if err := checkMsgID(msgID); err != nil {
		return errs.E(op, errs.Unauthenticated, "invalid webhook-id header", err)
	}
	unix, err := strconv.ParseInt(rawTS, 10, 64)
	if err != nil {
		return errs.E(op, errs.Unauthenticated, "webhook-timestamp is not unix seconds")
	}
	// Compare whole seconds against bounds computed from now, so that no
	// timestamp, however large, can overflow the arithmetic.
	limit := int64(tolerance / time.Second)
	if unix < now.Unix()-limit {
		return errs.E(op, errs.Unauthenticated, "webhook-timestamp is too old")
	}
	if unix > now.Unix()+limit {
		return errs.E(op, errs.Unauthenticated, "webhook-timestamp is too far in the future")
	}

	want := make([][]byte, len(keys))
	for i, k := range keys {
		want[i] = mac(k, msgID, unix, body)
	}
	got := make([]byte, sha256.Size+2)
	for _, line := range sigs {
		for _, versioned := range strings.Fields(line) {
			version, sig, ok := strings.Cut(versioned, ",")
			if !ok || version != "v1" || base64.StdEncoding.DecodedLen(len(sig)) > len(got) {
				continue
			}
			n, err := base64.StdEncoding.Decode(got, []byte(sig))
			if err != nil {
				continue
			}
			for _, w := range want {
				if hmac.Equal(got[:n], w) {
					return nil
				}
			}
		}
	}
	return errs.E(op, errs.Unauthenticated, "no matching signature")
}
