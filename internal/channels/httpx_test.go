package channels_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/order"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              2 * time.Second,
		"2.0":                           2 * time.Second,
		"7":                             7 * time.Second,
		"0.5":                           500 * time.Millisecond,
		"-1":                            2 * time.Second,
		"soon":                          2 * time.Second,
		"Fri, 14 Mar 2025 12:00:30 GMT": 30 * time.Second,
		"Fri, 14 Mar 2025 11:00:00 GMT": 0,
		"1e12":                          24 * time.Hour,
	} {
		if got := channels.RetryAfter(in, now); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestAmount(t *testing.T) {
	for _, tc := range []struct{ in, cur, want string }{
		{"19.99", "USD", "19.99"},
		{"19.990000", "USD", "19.99"},
		{"12.5", "DKK", "12.50"},
		{"3", "EUR", "3.00"},
		{"1000.00", "JPY", "1000"},
		{"1.2345", "KWD", "1.235"},
		{"2.2600000000000002", "EUR", "2.26"},
		{"0.125", "USD", "0.13"},  // half away from zero
		{"-0.001", "USD", "0.00"}, // never "-0.00"
		{"1e2", "USD", "100.00"},  // a JSON number's exponent
		{"", "USD", ""},
		{"7.77", "XXXX", "7.77"}, // unknown currency: left for the order service to report
	} {
		got, err := channels.Amount(tc.in, tc.cur)
		if err != nil || got != tc.want {
			t.Errorf("Amount(%q, %s) = %q, %v; want %q", tc.in, tc.cur, got, err, tc.want)
		}
	}
	for _, bad := range []string{"1,99", "$5", ".5", "5.", "NaN", "0x10", "1/3", "1e999"} {
		if _, err := channels.Amount(bad, "USD"); err == nil {
			t.Errorf("Amount(%q) should fail", bad)
		}
	}
}

func TestRate(t *testing.T) {
	for _, tc := range []struct {
		in      string
		percent bool
		want    string
	}{
		{"0.06", false, "0.06"}, {"20", true, "0.2"}, {"7.75", true, "0.0775"}, {"0", true, "0"},
		{"12.3456789", true, "0.123457"}, {"-5", true, ""}, {"abc", false, ""}, {"100000", true, ""},
	} {
		if got := channels.Rate(tc.in, tc.percent); got != tc.want {
			t.Errorf("Rate(%q, %v) = %q, want %q", tc.in, tc.percent, got, tc.want)
		}
	}
}

func TestScalar(t *testing.T) {
	var v struct{ A, B, C, D channels.Scalar }
	if err := json.Unmarshal([]byte(`{"A": 4512345678901234567, "B": " 19.99 ", "C": null, "D": 1.5e-3}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != "4512345678901234567" || v.B != "19.99" || v.C != "" || v.D != "1.5e-3" {
		t.Errorf("got %+v", v)
	}
	for _, bad := range []string{`{"A": true}`, `{"A": {}}`, `{"A": []}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s should not read", bad)
		}
	}
}

func TestAddressAndCustomer(t *testing.T) {
	if a := channels.Address(order.Address{Name: "Zoë", Line1: "Königstraße 1", PostalCode: "10117", Country: "de"}); a == nil || a.Country != "DE" {
		t.Errorf("a good address: %+v", a)
	}
	for _, a := range []order.Address{
		{Name: "Zoë", City: "Berlin", PostalCode: "10117", Country: "DE"}, // no street
		{Name: "Zoë", Line1: "Str 1", Country: "DE"},                      // neither city nor postal code
		{Name: "Zoë", Line1: "Str 1", City: "Berlin", Country: "Germany"}, // no ISO country
	} {
		if got := channels.Address(a); got != nil {
			t.Errorf("%+v should be left out, got %+v", a, got)
		}
	}
	c := channels.Customer(" Zoë ", "not an address", "+49 30 1234567 ext. 123456789012345678901234567890")
	if c.Name != "Zoë" || c.Email != "" || c.Phone != "" {
		t.Errorf("customer: %+v", c)
	}
}
