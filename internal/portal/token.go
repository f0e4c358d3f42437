// Package portal makes and checks the signed, expiring tokens in the links
// Waybill gives dropship suppliers, so that a supplier can open a purchase
// order without an account.
//
// A token is two base64url segments (no padding) joined by a dot:
//
//	payload "." HMAC-SHA256(secret, context || payload)
//
// where payload is a version byte (1), the expiry as a big-endian int64 of
// Unix seconds, and the subject's bytes. The token is not encrypted: anyone
// holding it can read the subject and expiry, so the subject should be an
// opaque id, not a secret.
package portal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
)

const (
	// MaxSubjectLen is the longest subject, in bytes.
	MaxSubjectLen = 200
	// MinSecretLen is the shortest secret Sign and Verify accept, in bytes.
	MinSecretLen = 32

	// CodeInvalid is the error code of a token that is malformed, was
	// altered, or was signed with another secret.
	CodeInvalid = "token_invalid"
	// CodeExpired is the error code of a genuine token past its expiry.
	CodeExpired = "token_expired"
)

const (
	version1   = 1
	headerLen  = 1 + 8 // version, expiry
	macLen     = sha256.Size
	maxPayload = headerLen + MaxSubjectLen
)

// context separates these MACs from anything else the same secret might sign.
var context = []byte("waybill supplier portal token\x00")

var b64 = base64.RawURLEncoding.Strict()

// maxTokenLen bounds the work Verify does on garbage.
var maxTokenLen = b64.EncodedLen(maxPayload) + 1 + b64.EncodedLen(macLen)

// Sign returns a token for subject that Verify accepts, with the same
// secret, until expires (to the second, rounded down).
//
// Sign panics when subject is empty or longer than MaxSubjectLen bytes, or
// when secret is shorter than MinSecretLen bytes: those are programming or
// configuration mistakes, not conditions to handle at run time.
func Sign(secret []byte, subject string, expires time.Time) string {
	if len(secret) < MinSecretLen {
		panic("portal.Sign: the secret is shorter than 32 bytes")
	}
	if subject == "" || len(subject) > MaxSubjectLen {
		panic("portal.Sign: the subject must be 1 to 200 bytes long")
	}
	payload := make([]byte, headerLen, headerLen+len(subject))
	payload[0] = version1
	binary.BigEndian.PutUint64(payload[1:headerLen], uint64(expires.Unix()))
	payload = append(payload, subject...)
	return b64.EncodeToString(payload) + "." + b64.EncodeToString(mac(secret, payload))
}

// tokenChars reports whether s holds only base64url characters and dots.
// The base64 decoder skips line breaks, which would let more than one
// string pass for the same token.
func tokenChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func mac(secret, payload []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write(context)
	h.Write(payload)
	return h.Sum(nil)
}

// Verify checks token against secret at time now and returns its subject.
//
// The error is a Permission error with code CodeInvalid when the token is
// malformed, altered or signed with another secret (or secret is shorter
// than MinSecretLen), and with code CodeExpired when it is genuine but now
// is at or past its expiry. Only in the second case is the subject returned
// along with the error, so that a page can say which link expired; callers
// must not grant anything when err is not nil.
func Verify(secret []byte, token string, now time.Time) (subject string, err error) {
	const op = "portal.Verify"
	invalid := func() (string, error) {
		return "", errs.WithCode(errs.E(op, errs.Permission, "the link is not valid"), CodeInvalid)
	}
	if len(secret) < MinSecretLen || len(token) > maxTokenLen || !tokenChars(token) {
		return invalid()
	}
	p, s, ok := strings.Cut(token, ".")
	if !ok {
		return invalid()
	}
	payload, err := b64.DecodeString(p)
	if err != nil || len(payload) <= headerLen || len(payload) > maxPayload || payload[0] != version1 {
		return invalid()
	}
	sig, err := b64.DecodeString(s)
	if err != nil || len(sig) != macLen || !hmac.Equal(sig, mac(secret, payload)) {
		return invalid()
	}
	expires := time.Unix(int64(binary.BigEndian.Uint64(payload[1:headerLen])), 0)
	subject = string(payload[headerLen:])
	if !now.Before(expires) {
		return subject, errs.WithCode(errs.E(op, errs.Permission, "the link has expired"), CodeExpired)
	}
	return subject, nil
}
