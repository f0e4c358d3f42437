package money

import (
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/bojanz/currency"
	"pgregory.net/rapid"
)

func TestDigits(t *testing.T) {
	tests := []struct {
		code   string
		digits int
		ok     bool
	}{
		{"USD", 2, true},
		{"EUR", 2, true},
		{"GBP", 2, true},
		{"JPY", 0, true},
		{"KRW", 0, true},
		{"KWD", 3, true},
		{"BHD", 3, true},
		{"CLF", 4, true},
		{"usd", 0, false},
		{"Usd", 0, false},
		{"", 0, false},
		{"US", 0, false},
		{"USDD", 0, false},
		{"ZZZ", 0, false},
		{"US1", 0, false},
		{" USD", 0, false},
	}
	for _, tt := range tests {
		d, ok := Digits(tt.code)
		if d != tt.digits || ok != tt.ok {
			t.Errorf("Digits(%q) = %d, %v; want %d, %v", tt.code, d, ok, tt.digits, tt.ok)
		}
		if got := ValidCurrency(tt.code); got != tt.ok {
			t.Errorf("ValidCurrency(%q) = %v; want %v", tt.code, got, tt.ok)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		s, cur string
		want   int64
	}{
		{"19.99", "USD", 1999},
		{"0.5", "USD", 50},
		{"20", "USD", 2000},
		{"-3.10", "USD", -310},
		{"-0.05", "USD", -5},
		{"0", "USD", 0},
		{"-0", "USD", 0},
		{"0.00", "USD", 0},
		{"007.10", "USD", 710},
		{"1500", "JPY", 1500},
		{"-1500", "JPY", -1500},
		{"1.234", "KWD", 1234},
		{"1.2", "KWD", 1200},
		{"1", "KWD", 1000},
		{"1.2345", "CLF", 12345},
		{"92233720368547758.07", "USD", math.MaxInt64},
		{"-92233720368547758.08", "USD", math.MinInt64},
		{"9223372036854775807", "JPY", math.MaxInt64},
		{"-9223372036854775808", "JPY", math.MinInt64},
		{"9223372036854775.807", "KWD", math.MaxInt64},
	}
	for _, tt := range tests {
		got, err := Parse(tt.s, tt.cur)
		if err != nil {
			t.Errorf("Parse(%q, %q): unexpected error: %v", tt.s, tt.cur, err)
			continue
		}
		want := Amount{Minor: tt.want, Currency: tt.cur}
		if got != want {
			t.Errorf("Parse(%q, %q) = %+v; want %+v", tt.s, tt.cur, got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		s, cur  string
		wantErr string // substring of the error message
	}{
		{"1.999", "USD", `"1.999": USD allows at most 2 decimal places`},
		{"1.990", "USD", "at most 2 decimal places"},
		{"1.5", "JPY", `"1.5": JPY does not allow decimal places`},
		{"1.0", "JPY", "does not allow decimal places"},
		{"1.2345", "KWD", "at most 3 decimal places"},
		{"", "USD", "empty amount"},
		{"-", "USD", "not a plain decimal number"},
		{".", "USD", "not a plain decimal number"},
		{".5", "USD", "not a plain decimal number"},
		{"5.", "USD", "not a plain decimal number"},
		{"-.5", "USD", "not a plain decimal number"},
		{"+1.00", "USD", "not a plain decimal number"},
		{"--1", "USD", "not a plain decimal number"},
		{"1e5", "USD", "not a plain decimal number"},
		{"1E5", "USD", "not a plain decimal number"},
		{"1.5e2", "USD", "not a plain decimal number"},
		{" 1.00", "USD", "not a plain decimal number"},
		{"1.00 ", "USD", "not a plain decimal number"},
		{"1 000", "USD", "not a plain decimal number"},
		{"1,000.00", "USD", "not a plain decimal number"},
		{"1_000", "USD", "not a plain decimal number"},
		{"1.000,00", "USD", "not a plain decimal number"},
		{"1,5", "USD", "not a plain decimal number"},
		{"1.2.3", "USD", "not a plain decimal number"},
		{"NaN", "USD", "not a plain decimal number"},
		{"Inf", "USD", "not a plain decimal number"},
		{"-Inf", "USD", "not a plain decimal number"},
		{"0x10", "USD", "not a plain decimal number"},
		{"١٢", "USD", "not a plain decimal number"}, // Arabic-Indic digits
		{"$1.00", "USD", "not a plain decimal number"},
		{"92233720368547758.08", "USD", "out of range"},
		{"-92233720368547758.09", "USD", "out of range"},
		{"92233720368547759", "USD", "out of range"},
		{"9223372036854775808", "JPY", "out of range"},
		{"-9223372036854775809", "JPY", "out of range"},
		{"99999999999999999999999999", "JPY", "out of range"},
		{"1.00", "usd", `unknown currency code "usd"`},
		{"1.00", "", "unknown currency code"},
		{"1.00", "ZZZ", "unknown currency code"},
		{"1.00", "XBT", "unknown currency code"},
		{"1.00", "US", "unknown currency code"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.s, tt.cur)
		if err == nil {
			t.Errorf("Parse(%q, %q) = %+v; want error containing %q", tt.s, tt.cur, got, tt.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Parse(%q, %q) error = %q; want it to contain %q", tt.s, tt.cur, err, tt.wantErr)
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		a    Amount
		want string
	}{
		{Amount{1999, "USD"}, "19.99"},
		{Amount{2000, "USD"}, "20.00"},
		{Amount{-5, "USD"}, "-0.05"},
		{Amount{-310, "USD"}, "-3.10"},
		{Amount{0, "USD"}, "0.00"},
		{Amount{7, "USD"}, "0.07"},
		{Amount{1500, "JPY"}, "1500"},
		{Amount{-1500, "JPY"}, "-1500"},
		{Amount{1, "KWD"}, "0.001"},
		{Amount{-1234, "KWD"}, "-1.234"},
		{Amount{12345, "CLF"}, "1.2345"},
		{Amount{math.MaxInt64, "USD"}, "92233720368547758.07"},
		{Amount{math.MinInt64, "USD"}, "-92233720368547758.08"},
		{Amount{math.MinInt64, "JPY"}, "-9223372036854775808"},
		{Amount{123, ""}, "123"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("%+v.String() = %q; want %q", tt.a, got, tt.want)
		}
	}
}

func TestAdd(t *testing.T) {
	usd := func(m int64) Amount { return Amount{m, "USD"} }
	tests := []struct {
		a, b    Amount
		want    Amount
		wantErr string
	}{
		{a: usd(1999), b: usd(1), want: usd(2000)},
		{a: usd(-500), b: usd(200), want: usd(-300)},
		{a: usd(math.MaxInt64), b: usd(math.MinInt64), want: usd(-1)},
		{a: usd(math.MaxInt64 - 1), b: usd(1), want: usd(math.MaxInt64)},
		{a: usd(math.MinInt64 + 1), b: usd(-1), want: usd(math.MinInt64)},
		{a: usd(math.MaxInt64), b: usd(1), wantErr: "overflows"},
		{a: usd(math.MinInt64), b: usd(-1), wantErr: "overflows"},
		{a: usd(math.MinInt64), b: usd(math.MinInt64), wantErr: "overflows"},
		{a: usd(1), b: Amount{1, "EUR"}, wantErr: "currency mismatch"},
		{a: Amount{1, ""}, b: Amount{1, ""}, wantErr: "unknown currency"},
		{a: Amount{1, "usd"}, b: Amount{1, "usd"}, wantErr: "unknown currency"},
	}
	for _, tt := range tests {
		got, err := tt.a.Add(tt.b)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%+v.Add(%+v) = %+v, %v; want error containing %q", tt.a, tt.b, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%+v.Add(%+v) = %+v, %v; want %+v", tt.a, tt.b, got, err, tt.want)
		}
	}
}

func TestSum(t *testing.T) {
	got, err := Sum("USD")
	if err != nil || got != (Amount{0, "USD"}) {
		t.Errorf("Sum(USD) = %+v, %v; want 0 USD", got, err)
	}
	got, err = Sum("USD", Amount{1999, "USD"}, Amount{1, "USD"}, Amount{-500, "USD"})
	if err != nil || got != (Amount{1500, "USD"}) {
		t.Errorf("Sum = %+v, %v; want 15.00 USD", got, err)
	}
	if _, err := Sum("USD", Amount{1, "USD"}, Amount{1, "EUR"}); err == nil {
		t.Error("Sum with mixed currencies: want error")
	}
	if _, err := Sum("EUR", Amount{1, "USD"}); err == nil {
		t.Error("Sum with wrong currency: want error")
	}
	if _, err := Sum("usd"); err == nil {
		t.Error("Sum with invalid currency: want error")
	}
	if _, err := Sum("USD", Amount{math.MaxInt64, "USD"}, Amount{1, "USD"}); err == nil {
		t.Error("Sum overflow: want error")
	}
}

func minors(as []Amount) []int64 {
	out := make([]int64, len(as))
	for i, a := range as {
		out[i] = a.Minor
	}
	return out
}

func TestAllocate(t *testing.T) {
	tests := []struct {
		total   int64
		cur     string
		weights []int64
		want    []int64
	}{
		{100, "USD", []int64{1, 1, 1}, []int64{34, 33, 33}},
		{-100, "USD", []int64{1, 1, 1}, []int64{-34, -33, -33}},
		{5, "USD", []int64{1, 1}, []int64{3, 2}},
		{1000, "USD", []int64{1, 2, 3, 4}, []int64{100, 200, 300, 400}},
		{1, "USD", []int64{1, 1, 1}, []int64{1, 0, 0}},
		{0, "USD", []int64{3, 7}, []int64{0, 0}},
		// 10 split 1:2 -> 3.33 and 6.67: the larger remainder wins.
		{10, "JPY", []int64{1, 2}, []int64{3, 7}},
		{10, "USD", []int64{0, 1, 0, 1}, []int64{0, 5, 0, 5}},
		{7, "USD", []int64{0, 5}, []int64{0, 7}},
		{1999, "USD", []int64{1}, []int64{1999}},
		// Discount of 10.00 across lines of 19.99, 5.01 and 0.00.
		{1000, "USD", []int64{1999, 501, 0}, []int64{800, 200, 0}},
		{math.MaxInt64, "USD", []int64{math.MaxInt64, math.MaxInt64}, []int64{math.MaxInt64/2 + 1, math.MaxInt64 / 2}},
		{math.MinInt64, "USD", []int64{1, 1}, []int64{math.MinInt64 / 2, math.MinInt64 / 2}},
		{math.MinInt64, "USD", []int64{1}, []int64{math.MinInt64}},
	}
	for _, tt := range tests {
		got, err := Allocate(Amount{tt.total, tt.cur}, tt.weights)
		if err != nil {
			t.Errorf("Allocate(%d %s, %v): %v", tt.total, tt.cur, tt.weights, err)
			continue
		}
		if !equalInts(minors(got), tt.want) {
			t.Errorf("Allocate(%d %s, %v) = %v; want %v", tt.total, tt.cur, tt.weights, minors(got), tt.want)
		}
		for _, a := range got {
			if a.Currency != tt.cur {
				t.Errorf("Allocate: part currency %q; want %q", a.Currency, tt.cur)
			}
		}
	}
}

func TestAllocateErrors(t *testing.T) {
	tests := []struct {
		total   Amount
		weights []int64
	}{
		{Amount{100, "USD"}, nil},
		{Amount{100, "USD"}, []int64{}},
		{Amount{100, "USD"}, []int64{0, 0}},
		{Amount{100, "USD"}, []int64{1, -1}},
		{Amount{100, "USD"}, []int64{math.MaxInt64, math.MaxInt64, math.MaxInt64}},
		{Amount{100, ""}, []int64{1}},
		{Amount{100, "usd"}, []int64{1}},
	}
	for _, tt := range tests {
		if got, err := Allocate(tt.total, tt.weights); err == nil {
			t.Errorf("Allocate(%+v, %v) = %v; want error", tt.total, tt.weights, got)
		}
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// validCodes are the currency codes ValidCurrency accepts.
func validCodes() []string {
	var out []string
	for _, c := range currency.GetCurrencyCodes() {
		if ValidCurrency(c) {
			out = append(out, c)
		}
	}
	return out
}

func genAmount(codes []string) *rapid.Generator[Amount] {
	return rapid.Custom(func(t *rapid.T) Amount {
		return Amount{
			Minor:    rapid.Int64().Draw(t, "minor"),
			Currency: rapid.SampledFrom(codes).Draw(t, "currency"),
		}
	})
}

func TestPropertyStringParseRoundTrip(t *testing.T) {
	codes := validCodes()
	if len(codes) < 100 {
		t.Fatalf("only %d valid currency codes; want the full ISO 4217 list", len(codes))
	}
	rapid.Check(t, func(t *rapid.T) {
		a := genAmount(codes).Draw(t, "amount")
		s := a.String()
		got, err := Parse(s, a.Currency)
		if err != nil {
			t.Fatalf("Parse(%q, %q): %v", s, a.Currency, err)
		}
		if got != a {
			t.Fatalf("Parse(String(%+v)) = %+v (via %q)", a, got, s)
		}
	})
}

func TestPropertyAllocate(t *testing.T) {
	codes := validCodes()
	rapid.Check(t, func(t *rapid.T) {
		total := genAmount(codes).Draw(t, "total")
		maxW := rapid.SampledFrom([]int64{1, 10, 1_000_000, math.MaxInt64 / 64}).Draw(t, "maxWeight")
		weights := rapid.SliceOfN(rapid.Int64Range(0, maxW), 1, 50).Draw(t, "weights")
		var wsum int64
		for _, w := range weights {
			wsum += w // cannot overflow: at most 50 * MaxInt64/64
		}
		if wsum == 0 {
			weights[rapid.IntRange(0, len(weights)-1).Draw(t, "nonzero")] = 1
			wsum = 1
		}

		parts, err := Allocate(total, weights)
		if err != nil {
			t.Fatalf("Allocate(%+v, %v): %v", total, weights, err)
		}
		if len(parts) != len(weights) {
			t.Fatalf("got %d parts; want %d", len(parts), len(weights))
		}
		sum := new(big.Int)
		one := big.NewRat(1, 1)
		for i, p := range parts {
			if p.Currency != total.Currency {
				t.Fatalf("part %d currency %q; want %q", i, p.Currency, total.Currency)
			}
			sum.Add(sum, big.NewInt(p.Minor))
			exact := new(big.Rat).SetFrac(
				new(big.Int).Mul(big.NewInt(total.Minor), big.NewInt(weights[i])),
				big.NewInt(wsum),
			)
			diff := new(big.Rat).Sub(new(big.Rat).SetInt64(p.Minor), exact)
			if diff.Abs(diff).Cmp(one) >= 0 {
				t.Fatalf("part %d = %d; exact share %s is 1 or more away", i, p.Minor, exact.FloatString(3))
			}
			if weights[i] == 0 && p.Minor != 0 {
				t.Fatalf("part %d has weight 0 but got %d", i, p.Minor)
			}
		}
		if sum.Cmp(big.NewInt(total.Minor)) != 0 {
			t.Fatalf("parts %v sum to %s; want %d", minors(parts), sum, total.Minor)
		}
	})
}

func FuzzParse(f *testing.F) {
	seeds := []struct{ s, cur string }{
		{"19.99", "USD"}, {"0.5", "USD"}, {"20", "USD"}, {"-3.10", "USD"},
		{"1500", "JPY"}, {"1.234", "KWD"}, {"1.999", "USD"}, {"", "USD"},
		{"1e5", "USD"}, {"+1", "USD"}, {"1,000", "USD"}, {"NaN", "USD"},
		{"-0", "USD"}, {"00.10", "EUR"}, {".5", "USD"}, {"5.", "USD"},
		{"92233720368547758.07", "USD"}, {"-92233720368547758.08", "USD"},
		{"92233720368547758.08", "USD"}, {"9223372036854775808", "JPY"},
		{"1.00", "usd"}, {"1.00", ""}, {"1.2345", "CLF"},
	}
	for _, s := range seeds {
		f.Add(s.s, s.cur)
	}
	f.Fuzz(func(t *testing.T, s, cur string) {
		a, err := Parse(s, cur)
		if err != nil {
			if a != (Amount{}) {
				t.Fatalf("Parse(%q, %q) returned %+v with error %v", s, cur, a, err)
			}
			return
		}
		if a.Currency != cur {
			t.Fatalf("Parse(%q, %q) currency = %q", s, cur, a.Currency)
		}
		out := a.String()
		b, err := Parse(out, cur)
		if err != nil {
			t.Fatalf("Parse(%q, %q) = %+v, but Parse(String() = %q) failed: %v", s, cur, a, out, err)
		}
		if b != a {
			t.Fatalf("round trip: Parse(%q) = %+v, Parse(%q) = %+v", s, a, out, b)
		}
		// The canonical form is stable.
		if out2 := b.String(); out2 != out {
			t.Fatalf("String not canonical: %q then %q", out, out2)
		}
		// Parsing is exact: the value equals the input as a rational number.
		in, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("Parse accepted %q, which is not a decimal number", s)
		}
		d, _ := Digits(cur)
		want := new(big.Rat).SetFrac(big.NewInt(a.Minor), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d)), nil))
		if in.Cmp(want) != 0 {
			t.Fatalf("Parse(%q, %q) = %+v, which is %s, not the input", s, cur, a, want.FloatString(d))
		}
	})
}
