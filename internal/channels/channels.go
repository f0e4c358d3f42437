// Package channels holds what every sales-channel connector shares: the
// webhook and poll results they hand to the order service, and their
// errors. Each channel (Shopify, WooCommerce, Ecwid, Amazon, eBay) is a
// subpackage with a thin client written to the vendor's documented API;
// the CSV importer lives beside them.
package channels

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/order"
)

// ErrBadSignature is returned for a webhook whose signature does not verify.
// The HTTP layer answers 401 and changes nothing.
var ErrBadSignature = errors.New("webhook signature does not verify")

// Webhook is a verified, parsed webhook delivery.
type Webhook struct {
	// ID is the vendor's id of this delivery or event, used to drop
	// duplicates (Shopify X-Shopify-Webhook-Id / X-Shopify-Event-Id,
	// WooCommerce X-WC-Webhook-Delivery-ID, Ecwid eventId).
	ID    string
	Topic string // the vendor's name: orders/create, order.updated, …
	// Orders are the orders the delivery carries (usually one). Empty
	// when the topic is not about orders (Ignored).
	Orders  []order.Input
	Ignored bool
}

// Page is one page of a poll for orders changed since a time.
type Page struct {
	Orders []order.Input
	// Next is the vendor's cursor for the next page; empty when done.
	Next string
}

// ErrThrottled is returned when the vendor asked us to slow down and the
// client's own retries ran out; After says how long to wait.
type ErrThrottled struct {
	After time.Duration
	Err   error
}

func (e ErrThrottled) Error() string {
	return fmt.Sprintf("throttled by the channel; retry after %s: %v", e.After, e.Err)
}
func (e ErrThrottled) Unwrap() error { return e.Err }

// ErrAuth is returned when the vendor refuses the credentials (401/403 or
// an OAuth error); the connection needs new credentials, retries won't help.
type ErrAuth struct{ Err error }

func (e ErrAuth) Error() string { return "the channel refused our credentials: " + e.Err.Error() }
func (e ErrAuth) Unwrap() error { return e.Err }

// What follows are the small conversions every connector needs to turn a
// vendor's order into an order.Input without losing it over a detail.

// Scalar is a JSON value a vendor sends sometimes as a string and sometimes
// as a number ("19.99", 19.99, 4512345678901). It keeps the exact text, so
// amounts and ids never pass through float64; null is "".
type Scalar string

// UnmarshalJSON accepts a JSON string, number or null.
func (s *Scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return errors.New("empty JSON value")
	case string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = Scalar(strings.TrimSpace(v))
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*s = Scalar(n)
	default:
		return fmt.Errorf("want a string or a number, got %.20s", b)
	}
	return nil
}

func (s Scalar) String() string { return string(s) }

var decimalRe = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]{1,2})?$`)

func rat(v string) (*big.Rat, bool) {
	if !decimalRe.MatchString(v) {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(v)
	return r, ok
}

// Amount writes a vendor amount (a decimal string or the text of a JSON
// number) with the currency's minor-unit digits: "19.990000" becomes
// "19.99", "1000.00" JPY becomes "1000". Vendors that keep more precision
// than the currency has (WooCommerce line taxes, Ecwid's floats) are
// rounded half away from zero; that, and Times, are the only rounding a
// connector does, and the reason connectors leave order.Input.Total
// empty. "" stays "". With an
// unknown currency the value is returned trimmed, for the order service to
// report the currency.
func Amount(v, currency string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	r, ok := rat(v)
	if !ok {
		return "", fmt.Errorf("%q is not a decimal number", v)
	}
	digits, ok := money.Digits(currency)
	if !ok {
		return v, nil
	}
	out := r.FloatString(digits)
	if strings.HasPrefix(out, "-") && strings.Trim(out, "-0.") == "" {
		out = out[1:] // -0.001 rounds to 0.00, not -0.00
	}
	return out, nil
}

// Rate writes a tax rate as the decimal fraction order.TaxLine wants
// ("0.2"): percent says v is a percentage (WooCommerce, Ecwid: "20"), else a
// fraction already (Shopify: 0.2). It returns "" for a rate that cannot be
// written that way (negative, 1000 or more, not a number): the rate is only
// informative, the tax amount is what counts.
func Rate(v string, percent bool) string {
	r, ok := rat(strings.TrimSpace(v))
	if !ok || r.Sign() < 0 {
		return ""
	}
	if percent {
		r.Quo(r, big.NewRat(100, 1))
	}
	if r.Cmp(big.NewRat(1000, 1)) >= 0 {
		return ""
	}
	s := r.FloatString(6)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// Times multiplies the decimal amount a by num/den and writes the result
// with the currency's digits (rounded half away from zero): a line's
// discount or tax given for the quantity ordered, scaled to what is left
// of it. Anything it cannot read comes back unchanged.
func Times(a string, num, den int64, currency string) string {
	r, ok := rat(a)
	digits, known := money.Digits(currency)
	if !ok || !known || den == 0 {
		return a
	}
	r.Mul(r, big.NewRat(num, den))
	return r.FloatString(digits)
}

// Sum adds decimal amounts and writes the total with the currency's
// digits; "" terms count as zero and unreadable ones are left out (their
// parsers report them).
func Sum(currency string, vs ...string) string {
	return combine(currency, vs, nil)
}

// Sub returns a − b with the currency's digits (a line's subtotal less
// its total is its discount).
func Sub(a, b, currency string) string {
	return combine(currency, []string{a}, []string{b})
}

func combine(currency string, plus, minus []string) string {
	total := new(big.Rat)
	for _, v := range plus {
		if r, ok := rat(v); ok {
			total.Add(total, r)
		}
	}
	for _, v := range minus {
		if r, ok := rat(v); ok {
			total.Sub(total, r)
		}
	}
	digits, ok := money.Digits(currency)
	if !ok {
		digits = 2
	}
	return total.FloatString(digits)
}

// CapDiscount returns discount, or unitPrice × quantity when the discount
// is larger (a 100 % coupon on a unit price the vendor rounded): the order
// service refuses a discount over the line's price, and a channel order
// must not be refused over rounding.
func CapDiscount(discount, unitPrice string, quantity int64, currency string) string {
	d, ok1 := rat(discount)
	p, ok2 := rat(unitPrice)
	digits, ok3 := money.Digits(currency)
	if !ok1 || !ok2 || !ok3 {
		return discount
	}
	limit := new(big.Rat).Mul(p, big.NewRat(quantity, 1))
	if d.Cmp(limit) > 0 {
		return limit.FloatString(digits)
	}
	return discount
}

// Customer builds the customer of a channel order. An e-mail address or a
// phone number the order service would refuse is left out rather than
// losing the order over it.
func Customer(name, email, phone string) order.Customer {
	c := order.Customer{Name: Clip(strings.TrimSpace(name), 255), Email: strings.TrimSpace(email), Phone: strings.TrimSpace(phone)}
	if e := c.Email; len(e) > 254 || strings.Count(e, "@") != 1 || strings.ContainsAny(e, " \t\r\n<>,;") || strings.HasPrefix(e, "@") || strings.HasSuffix(e, "@") {
		c.Email = ""
	}
	if utf8.RuneCountInString(c.Phone) > 40 {
		c.Phone = ""
	}
	return c
}

// Address returns a, or nil when it is not a postal address the order
// service accepts (no street line, neither city nor postal code, or no ISO
// country): pick-up and digital orders often carry a name and a country
// only, and such an order must still come in.
func Address(a order.Address) *order.Address {
	for _, f := range []*string{&a.Name, &a.Company, &a.Line1, &a.Line2, &a.City, &a.Region, &a.PostalCode, &a.Phone} {
		*f = Clip(strings.TrimSpace(*f), 255)
	}
	c, ok := order.Country(a.Country)
	if a.Line1 == "" || (a.City == "" && a.PostalCode == "") || !ok {
		return nil
	}
	a.Country = c
	return &a
}

// Clip shortens s to at most n characters (runes).
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// Tags splits a vendor's comma-separated tags, dropping any longer than
// the order service allows.
func Tags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if t != "" && utf8.RuneCountInString(t) <= 40 && len(out) < order.MaxTags {
			out = append(out, t)
		}
	}
	return out
}

// DecodeSettings reads a connection's settings (as stored, a JSON object)
// into a connector's Config; a setting of the wrong type is a field error
// naming it.
func DecodeSettings(op string, settings map[string]any, cfg any) error {
	b, err := json.Marshal(settings)
	if err != nil {
		return errs.E(op, errs.Invalid, "the settings are not a JSON object", err)
	}
	if err := json.Unmarshal(b, cfg); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return errs.InvalidFields(op, errs.FieldError{Field: te.Field, Message: "must be a " + te.Type.String(), Value: te.Value})
		}
		return errs.E(op, errs.Invalid, "the settings cannot be read", err)
	}
	return nil
}

// VerifyHMAC checks signature, the base64 HMAC-SHA256 of message keyed
// with secret (the scheme of Shopify, WooCommerce and Ecwid alike), in
// constant time. Without a secret nothing verifies.
func VerifyHMAC(secret, signature string, message []byte) error {
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(signature))
	if secret == "" || err != nil || len(got) != sha256.Size {
		return ErrBadSignature
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(message)
	if !hmac.Equal(m.Sum(nil), got) {
		return ErrBadSignature
	}
	return nil
}
