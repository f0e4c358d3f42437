// Package money represents monetary amounts as integer minor units
// (cents, pence, yen, fils, ...) together with an ISO 4217 currency code.
//
// Amounts never pass through floating point. Parsing is strict: a value
// that cannot be represented exactly in the currency's minor units is an
// error rather than being rounded.
//
// The number of fraction digits of each currency comes from
// github.com/bojanz/currency (CLDR data): USD has 2, JPY 0, KWD 3, and so on.
package money

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"

	"github.com/bojanz/currency"
)

// maxDigits is the largest number of fraction digits supported. 10^18 is the
// largest power of ten that fits in an int64.
const maxDigits = 18

// Amount is a monetary amount in the minor units of Currency.
//
// For example, Amount{Minor: 1999, Currency: "USD"} is 19.99 US dollars and
// Amount{Minor: 1500, Currency: "JPY"} is 1500 yen. The zero Amount has no
// currency and is not valid for arithmetic.
type Amount struct {
	Minor    int64
	Currency string
}

// ValidCurrency reports whether code is a known, upper-case, three-letter
// ISO 4217 currency code such as "USD".
func ValidCurrency(code string) bool {
	_, ok := Digits(code)
	return ok
}

// Digits returns the number of fraction digits (minor-unit exponent) of the
// currency, e.g. 2 for USD, 0 for JPY and 3 for KWD. ok is false when code is
// not a valid currency code.
func Digits(code string) (int, bool) {
	if len(code) != 3 {
		return 0, false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < 'A' || code[i] > 'Z' {
			return 0, false
		}
	}
	d, ok := currency.GetDigits(code)
	if !ok || int(d) > maxDigits {
		return 0, false
	}
	return int(d), true
}

// pow10 returns 10^n for 0 <= n <= 18.
func pow10(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

// Parse parses a plain decimal string such as "19.99", "0.5", "20" or "-3.10"
// into minor units of the given currency.
//
// The accepted syntax is an optional leading "-", one or more ASCII digits,
// and optionally a "." followed by one or more ASCII digits. Everything else
// is rejected: empty strings, a "+" sign, spaces, thousands separators,
// exponents, NaN/Inf, ".5" and "5.". The number of fraction digits must not
// exceed the currency's digits ("1.999" is an error for USD, "1.5" for JPY);
// nothing is ever rounded. Values outside the int64 range of minor units are
// rejected, as are unknown or lower-case currency codes.
func Parse(s, currencyCode string) (Amount, error) {
	digits, ok := Digits(currencyCode)
	if !ok {
		return Amount{}, fmt.Errorf("unknown currency code %q", currencyCode)
	}
	if s == "" {
		return Amount{}, errors.New("empty amount")
	}

	rest := s
	neg := false
	if rest[0] == '-' {
		neg = true
		rest = rest[1:]
	}

	intPart, fracPart := rest, ""
	hasPoint := false
	for i := 0; i < len(rest); i++ {
		if rest[i] == '.' {
			intPart, fracPart = rest[:i], rest[i+1:]
			hasPoint = true
			break
		}
	}
	if intPart == "" || (hasPoint && fracPart == "") || !allDigits(intPart) || !allDigits(fracPart) {
		return Amount{}, fmt.Errorf("%q: not a plain decimal number (want e.g. \"19.99\" or \"-3.10\")", s)
	}
	if len(fracPart) > digits {
		if digits == 0 {
			return Amount{}, fmt.Errorf("%q: %s does not allow decimal places", s, currencyCode)
		}
		return Amount{}, fmt.Errorf("%q: %s allows at most %d decimal places", s, currencyCode, digits)
	}

	// Accumulate the magnitude in uint64 so that math.MinInt64 is reachable.
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var mag uint64
	add := func(ds string) bool {
		for i := 0; i < len(ds); i++ {
			hi, lo := bits.Mul64(mag, 10)
			if hi != 0 {
				return false
			}
			lo, carry := bits.Add64(lo, uint64(ds[i]-'0'), 0)
			if carry != 0 || lo > limit {
				return false
			}
			mag = lo
		}
		return true
	}
	ok = add(intPart) && add(fracPart)
	if ok {
		// Scale up for fraction digits that were not written ("0.5" USD -> 50).
		hi, lo := bits.Mul64(mag, pow10(digits-len(fracPart)))
		ok = hi == 0 && lo <= limit
		mag = lo
	}
	if !ok {
		return Amount{}, fmt.Errorf("%q: amount out of range for %s", s, currencyCode)
	}

	return Amount{Minor: fromMagnitude(mag, neg), Currency: currencyCode}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// fromMagnitude converts a magnitude of at most 2^63 (when neg) or 2^63-1
// into an int64.
func fromMagnitude(mag uint64, neg bool) int64 {
	if neg {
		return int64(-mag) // two's complement; correct for mag == 2^63 too
	}
	return int64(mag)
}

// magnitude returns |v| as a uint64; it is correct for math.MinInt64.
func magnitude(v int64) uint64 {
	if v < 0 {
		return -uint64(v)
	}
	return uint64(v)
}

// String formats the amount as a plain decimal string with exactly the
// currency's number of fraction digits: "19.99", "20.00", "-0.05", and "1500"
// for JPY. The result is accepted by Parse. If the currency is not valid the
// minor units are printed as an integer.
func (a Amount) String() string {
	digits, ok := Digits(a.Currency)
	mag := magnitude(a.Minor)
	if !ok || digits == 0 {
		return strconv.FormatInt(a.Minor, 10)
	}
	p := pow10(digits)
	intPart := strconv.FormatUint(mag/p, 10)
	frac := strconv.FormatUint(mag%p, 10)

	buf := make([]byte, 0, 1+len(intPart)+1+digits)
	if a.Minor < 0 {
		buf = append(buf, '-')
	}
	buf = append(buf, intPart...)
	buf = append(buf, '.')
	for i := len(frac); i < digits; i++ {
		buf = append(buf, '0')
	}
	buf = append(buf, frac...)
	return string(buf)
}

// Add returns a+b. It is an error if the currencies differ, if either
// currency is not valid, or if the result overflows int64 minor units.
func (a Amount) Add(b Amount) (Amount, error) {
	if !ValidCurrency(a.Currency) {
		return Amount{}, fmt.Errorf("add: unknown currency code %q", a.Currency)
	}
	if a.Currency != b.Currency {
		return Amount{}, fmt.Errorf("add: currency mismatch: %s and %q", a.Currency, b.Currency)
	}
	sum := a.Minor + b.Minor
	// Overflow iff both operands have the same sign and the sum's sign differs.
	if (a.Minor >= 0) == (b.Minor >= 0) && (sum >= 0) != (a.Minor >= 0) {
		return Amount{}, fmt.Errorf("add: %s + %s %s overflows", a, b, a.Currency)
	}
	return Amount{Minor: sum, Currency: a.Currency}, nil
}

// Sum adds up xs, all of which must be in the given currency. The sum of no
// amounts is zero in that currency. The currency must be valid.
func Sum(currencyCode string, xs ...Amount) (Amount, error) {
	if !ValidCurrency(currencyCode) {
		return Amount{}, fmt.Errorf("sum: unknown currency code %q", currencyCode)
	}
	total := Amount{Currency: currencyCode}
	for i, x := range xs {
		if x.Currency != currencyCode {
			return Amount{}, fmt.Errorf("sum: item %d is in %q, want %s", i, x.Currency, currencyCode)
		}
		var err error
		if total, err = total.Add(x); err != nil {
			return Amount{}, fmt.Errorf("sum: overflow at item %d", i)
		}
	}
	return total, nil
}

// Allocate splits total across len(weights) parts in proportion to the
// weights, using the largest-remainder method: each part first gets the
// floor of its exact share, then the minor units left over go one each to
// the parts with the largest remainders (earlier parts win ties). The parts
// always sum exactly to total, each part is within one minor unit of its
// exact proportional share, and parts with weight 0 get 0.
//
// A negative total is split the same way as its absolute value, with every
// part negated. Weights must be non-negative with a positive sum that fits
// in a uint64; the currency of total must be valid.
func Allocate(total Amount, weights []int64) ([]Amount, error) {
	if !ValidCurrency(total.Currency) {
		return nil, fmt.Errorf("allocate: unknown currency code %q", total.Currency)
	}
	if len(weights) == 0 {
		return nil, errors.New("allocate: no weights")
	}
	var wsum uint64
	for i, w := range weights {
		if w < 0 {
			return nil, fmt.Errorf("allocate: weight %d is negative (%d)", i, w)
		}
		var carry uint64
		wsum, carry = bits.Add64(wsum, uint64(w), 0)
		if carry != 0 {
			return nil, errors.New("allocate: sum of weights overflows")
		}
	}
	if wsum == 0 {
		return nil, errors.New("allocate: weights sum to zero")
	}

	neg := total.Minor < 0
	mag := magnitude(total.Minor)

	parts := make([]uint64, len(weights))
	rems := make([]uint64, len(weights))
	var allocated uint64
	for i, w := range weights {
		// mag*w/wsum <= mag < 2^64 because w <= wsum, so hi < wsum and
		// Div64 cannot panic.
		hi, lo := bits.Mul64(mag, uint64(w))
		q, r := bits.Div64(hi, lo, wsum)
		parts[i], rems[i] = q, r
		allocated += q
	}

	// The leftover is sum(rems)/wsum, which is smaller than the number of
	// parts with a non-zero remainder, so zero-weight parts never get one.
	left := mag - allocated
	if left > 0 {
		order := make([]int, len(weights))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int {
			switch {
			case rems[a] > rems[b]:
				return -1
			case rems[a] < rems[b]:
				return 1
			}
			return 0
		})
		for _, i := range order[:left] {
			parts[i]++
		}
	}

	out := make([]Amount, len(parts))
	for i, p := range parts {
		out[i] = Amount{Minor: fromMagnitude(p, neg), Currency: total.Currency}
	}
	return out, nil
}

// Decimal is an amount as another system sent it in JSON: a string, or a
// bare number taken as its literal text, never through float64. Parse it
// with Parse in its currency.
type Decimal string

func (d *Decimal) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*d = Decimal(s)
	case string(data) == "null":
		*d = ""
	case json.Valid(data) && (data[0] == '-' || (data[0] >= '0' && data[0] <= '9')):
		*d = Decimal(data)
	default:
		return fmt.Errorf("amount is not a decimal: %.20s", data)
	}
	return nil
}
