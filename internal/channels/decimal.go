package channels

import (
	"fmt"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/money"
)

// Decimal is an amount as the vendor sent it (money.Decimal).
type Decimal = money.Decimal

// MaxMinor bounds every amount a channel may send (a trillion dollars in
// cents), so sums of an order's amounts cannot overflow.
const MaxMinor = 100_000_000_000_000

// Minor reads a vendor's decimal amount in cur's minor units; empty is
// zero. Marketplaces write some amounts with more zeros than the currency
// has digits ("1500.00" JPY, "0.0"): those are dropped; any other digit
// beyond the currency's is an error, never rounded.
func Minor(s, cur string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if digits, ok := money.Digits(cur); ok {
		if i := strings.IndexByte(s, '.'); i >= 0 {
			frac := s[i+1:]
			for len(frac) > digits && strings.HasSuffix(frac, "0") {
				frac = frac[:len(frac)-1]
			}
			s = s[:i]
			if frac != "" {
				s += "." + frac
			}
		}
	}
	a, err := money.Parse(s, cur)
	if err != nil {
		return 0, err
	}
	if a.Minor > MaxMinor || a.Minor < -MaxMinor {
		return 0, fmt.Errorf("amount %q is too large", s)
	}
	return a.Minor, nil
}

// SplitLine turns a line total into a unit price and a discount such that
// qty × unit − disc = total − discount exactly, for marketplaces that give
// a line's total rather than its unit price. qty > 0.
func SplitLine(total, qty, discount int64) (unit, disc int64) {
	unit, rem := total/qty, total%qty
	if rem != 0 {
		unit++
		discount += qty - rem
	}
	return unit, discount
}

// UTC reads an RFC 3339 / ISO 8601 timestamp ("2019-05-07T15:42:57.058Z").
func UTC(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// FirstNonEmpty returns the first of ss that is not blank, trimmed.
func FirstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return ""
}
