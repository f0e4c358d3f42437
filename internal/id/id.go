// Package id makes Waybill's object ids: a short type prefix and a UUIDv7 in
// Crockford base32 (the TypeID spelling), e.g. "prod_01jd5x…". They sort by
// creation time as plain strings, which keeps cursor pagination simple.
package id

import (
	"crypto/rand"

	"github.com/google/uuid"
)

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// New returns a fresh id with the given prefix.
func New(prefix string) string {
	u, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only if the system's random source does; so does everything else.
		panic(err)
	}
	return prefix + "_" + encode(u)
}

// encode writes 128 bits as 26 base32 characters, most significant first
// (the first character carries only 3 bits, so it is always 0-7).
func encode(u uuid.UUID) string {
	var out [26]byte
	// Treat u as a 130-bit number with two leading zero bits.
	var acc uint64
	bits := 2 // leading zero padding
	i := 0
	for _, b := range u {
		acc = acc<<8 | uint64(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out[i] = alphabet[(acc>>uint(bits))&31]
			i++
		}
	}
	return string(out[:i])
}

// Secret returns n random bytes encoded in the same alphabet; used for API keys
// and tokens that are shown once.
func Secret(n int) string {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		panic(err)
	}
	out := make([]byte, n)
	for i, b := range buf {
		out[i] = alphabet[b&31]
	}
	return string(out)
}
