package order

import (
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/waybill/waybill/internal/errs"
)

// Sorts a list may ask for; "-" means newest or largest first.
var Sorts = []string{"-placed_at", "placed_at", "-updated_at", "updated_at", "-total_price", "total_price"}

// Filter selects orders. Every field narrows the list; zero values don't.
type Filter struct {
	Status      Status
	Fulfillment FulfillmentStatus
	OnHold      *bool
	HoldReason  HoldReason
	Channel     string
	Since       *time.Time // placed at or after
	Until       *time.Time // placed before
	SKU         string
	Email       string
	Number      string
	Tag         string
	Country     string
	Query       string // words matched as prefixes of customer, e-mail, number, SKU, city, postal code …
	Sort        string
	Limit       int
	// IDs narrows to these orders (the store's search sets it).
	IDs []string
	// After is the decoded cursor: the sort value and id of the last order
	// of the previous page.
	AfterTime *time.Time
	AfterInt  int64
	AfterID   string
}

// Terms returns the search words of Query, normalised like the stored ones.
func (f Filter) Terms() []string { return Terms(f.Query) }

// Terms splits text into lower-case search words: runs of characters
// between spaces and commas, without the punctuation around them, so that
// e-mail addresses, SKUs and order numbers stay whole ("#1001" is "1001").
func Terms(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == ';' }) {
		w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if w != "" && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	if len(out) > 8 {
		out = out[:8]
	}
	return out
}

// SearchTerms are the words an order can be found by: its number and
// external id, the customer's name, e-mail and phone, the recipient's name,
// city and postal code, and its SKUs.
func (o *Order) SearchTerms() []string {
	text := []string{o.Number, o.ExternalID, o.Customer.Name, o.Customer.Email, o.Customer.Phone}
	for _, a := range []*Address{o.ShippingAddress, o.BillingAddress} {
		if a != nil {
			text = append(text, a.Name, a.Company, a.City, a.PostalCode)
		}
	}
	for _, l := range o.Lines {
		text = append(text, l.SKU)
	}
	var out []string
	for _, t := range text {
		for _, w := range Terms(t) {
			if len(w) > 64 {
				w = w[:64]
			}
			if !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	return out
}

// List returns a page of orders and the cursor of the next page ("" when
// this is the last).
func (s *Service) List(ctx context.Context, tenantID string, f Filter, cursor string) ([]Order, string, error) {
	const op = "order.List"
	if f.Sort == "" {
		f.Sort = "-placed_at"
	}
	var fe errs.FieldList
	if !slices.Contains(Sorts, f.Sort) {
		fe.Add("sort", "must be one of "+strings.Join(Sorts, ", "), f.Sort)
	}
	if f.Status != "" && !slices.Contains([]Status{Open, Cancelled, Closed}, f.Status) {
		fe.Add("status", "must be open, cancelled or closed", f.Status)
	}
	if f.Fulfillment != "" && !slices.Contains([]FulfillmentStatus{Unfulfilled, PartiallyFulfilled, Fulfilled}, f.Fulfillment) {
		fe.Add("fulfillment_status", "must be unfulfilled, partially_fulfilled or fulfilled", f.Fulfillment)
	}
	if f.HoldReason != "" && !slices.Contains(HoldReasons, f.HoldReason) {
		fe.Add("hold_reason", "must be one of "+joinReasons(), f.HoldReason)
	}
	if f.Country != "" {
		c, ok := Country(f.Country)
		if !ok {
			fe.Add("country", "must be an ISO 3166-1 alpha-2 code", f.Country)
		}
		f.Country = c
	}
	f.Channel = strings.ToLower(strings.TrimSpace(f.Channel))
	f.Email = strings.ToLower(strings.TrimSpace(f.Email))
	f.Number = strings.TrimSpace(f.Number)
	if cursor != "" && !f.decodeCursor(cursor) {
		fe.Add("cursor", "is not a cursor this list gave", cursor)
	}
	if err := fe.Err(op); err != nil {
		return nil, "", err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 250)
	want := f.Limit
	f.Limit++
	os, err := s.store.List(ctx, tenantID, f)
	if err != nil {
		return nil, "", errs.E(op, err)
	}
	next := ""
	if len(os) > want {
		os = os[:want]
		next = f.encodeCursor(&os[want-1])
	}
	return os, next, nil
}

func (f *Filter) encodeCursor(o *Order) string {
	var v string
	switch strings.TrimPrefix(f.Sort, "-") {
	case "placed_at":
		v = o.PlacedAt.Format(time.RFC3339Nano)
	case "updated_at":
		v = o.UpdatedAt.Format(time.RFC3339Nano)
	default:
		v = strconv.FormatInt(o.Total, 10)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(f.Sort + "|" + v + "|" + o.ID))
}

func (f *Filter) decodeCursor(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return false
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != 3 || parts[0] != f.Sort || parts[2] == "" {
		return false
	}
	f.AfterID = parts[2]
	if strings.HasSuffix(f.Sort, "total_price") {
		n, err := strconv.ParseInt(parts[1], 10, 64)
		f.AfterInt = n
		return err == nil
	}
	t, err := time.Parse(time.RFC3339Nano, parts[1])
	f.AfterTime = &t
	return err == nil
}
