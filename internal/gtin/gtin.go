// Package gtin validates product barcodes: GS1 Global Trade Item Numbers
// (GTIN-8/EAN-8, GTIN-12/UPC-A, GTIN-13/EAN-13, GTIN-14) and free-form
// catalogue codes.
package gtin

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Kind is the classification of a product code.
type Kind string

// Kinds returned by Classify.
const (
	KindGTIN8  Kind = "gtin8"  // EAN-8
	KindGTIN12 Kind = "gtin12" // UPC-A
	KindGTIN13 Kind = "gtin13" // EAN-13
	KindGTIN14 Kind = "gtin14" // ITF-14 / case codes
	KindOther  Kind = "other"  // any other printable code
)

// MaxOtherLen is the maximum length, in characters, of a code of KindOther.
const MaxOtherLen = 64

// maxBodyLen is the longest body CheckDigit accepts: GS1 keys with a mod-10
// check digit are at most 18 digits long (SSCC).
const maxBodyLen = 17

// gtinKinds maps the length of an all-digit code to its GTIN kind.
var gtinKinds = map[int]Kind{8: KindGTIN8, 12: KindGTIN12, 13: KindGTIN13, 14: KindGTIN14}

// Valid reports whether code is a GTIN-8, GTIN-12, GTIN-13 or GTIN-14
// (8, 12, 13 or 14 ASCII digits, nothing else) with a correct check digit.
func Valid(code string) bool {
	if _, ok := gtinKinds[len(code)]; !ok || !allDigits(code) {
		return false
	}
	want, _ := CheckDigit(code[:len(code)-1])
	return int(code[len(code)-1]-'0') == want
}

// Classify returns the kind of a product code. Input is not trimmed.
//
//   - An empty code is an error.
//   - A code of only ASCII digits with length 8, 12, 13 or 14 is a GTIN and
//     must have a correct check digit; otherwise the error says which digit
//     was expected.
//   - Any other code of 1 to 64 printable characters (letters, digits,
//     punctuation such as "-", ".", "/", and inner spaces) is KindOther.
//     Control characters, invalid UTF-8, non-ASCII spacing characters and
//     leading or trailing spaces are errors.
func Classify(code string) (Kind, error) {
	if code == "" {
		return "", errors.New("empty product code")
	}
	if kind, ok := gtinKinds[len(code)]; ok && allDigits(code) {
		want, _ := CheckDigit(code[:len(code)-1])
		if int(code[len(code)-1]-'0') != want {
			return "", fmt.Errorf("%q: invalid GTIN-%d check digit (expected %d)", code, len(code), want)
		}
		return kind, nil
	}

	if !utf8.ValidString(code) {
		return "", fmt.Errorf("%q: product code is not valid UTF-8", code)
	}
	if n := utf8.RuneCountInString(code); n > MaxOtherLen {
		return "", fmt.Errorf("product code is too long (%d characters, at most %d)", n, MaxOtherLen)
	}
	if code[0] == ' ' || code[len(code)-1] == ' ' {
		return "", fmt.Errorf("%q: product code has leading or trailing spaces", code)
	}
	for i, r := range code {
		// unicode.IsPrint admits letters, marks, numbers, punctuation,
		// symbols and the ASCII space, but no other spacing or control
		// characters.
		if !unicode.IsPrint(r) {
			return "", fmt.Errorf("%q: product code contains non-printable character %U at byte %d", code, r, i)
		}
	}
	return KindOther, nil
}

// CheckDigit returns the GS1 mod-10 check digit for body, the digits of a
// code without its final check digit (7 digits for a GTIN-8, 11 for a
// GTIN-12, 12 for a GTIN-13, 13 for a GTIN-14). Any body of 1 to 17 ASCII
// digits is accepted.
func CheckDigit(body string) (int, error) {
	if body == "" || len(body) > maxBodyLen || !allDigits(body) {
		return 0, fmt.Errorf("%q: check digit body must be 1 to %d digits", body, maxBodyLen)
	}
	// Weights alternate 3, 1, 3, ... starting from the rightmost body digit.
	sum := 0
	for i := 0; i < len(body); i++ {
		d := int(body[len(body)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return (10 - sum%10) % 10, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
