package order

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/money"
)

// Input is an order as a channel, a CSV row group or an API call gives it.
// Amounts are decimal strings in the order's currency ("19.99"); field
// names in errors are the API's.
type Input struct {
	Channel    string
	ChannelID  string // set by channel connections
	ExternalID string
	Number     string
	PlacedAt   *time.Time
	// UpdatedAt is the channel's last-change time of the order: an input
	// older than what is stored is ignored as stale.
	UpdatedAt       *time.Time
	Currency        string
	Customer        Customer
	ShippingAddress *Address
	BillingAddress  *Address
	Lines           []LineInput
	ShippingLines   []ShippingInput
	TaxesIncluded   bool
	// Total, when given, must equal lines + shipping + tax − discounts.
	Total         string
	PaymentStatus string
	RiskLevel     string
	Tags          []string
	Note          string
	// Cancelled says the channel has cancelled the order.
	Cancelled bool
	// Fulfilled says the order was shipped before it reached Waybill (an
	// imported history): it is stored closed and holds no stock.
	Fulfilled    bool
	CancelReason string
	// AllowUnknownSKUs keeps lines whose SKU is not in the catalogue (a
	// channel order must never be lost); they stay backordered and the
	// order on hold until the product exists and has stock.
	AllowUnknownSKUs bool
}

// LineInput is one line of an Input.
type LineInput struct {
	SKU        string
	Name       string
	ExternalID string
	Quantity   int64
	UnitPrice  string
	Discount   string // total discount on the line
	TaxLines   []TaxInput
}

// TaxInput is one tax of an input line or shipping line.
type TaxInput struct {
	Title  string
	Rate   string
	Amount string
}

// ShippingInput is one shipping line of an Input.
type ShippingInput struct {
	Title    string
	Code     string
	Price    string
	TaxLines []TaxInput
}

var (
	channelRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.\-]{0,39}$`)
	rateRe    = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,6})?$`)
)

// Limits of one order.
const (
	MaxLines    = 500
	MaxQuantity = 1_000_000
	MaxTags     = 50
	// maxUnitPrice keeps quantity × price far from int64's limit.
	maxUnitPrice = 100_000_000_000
	// maxAmount bounds any amount and any line's total, so that sums of
	// up to MaxLines lines cannot overflow.
	maxAmount = 100_000_000_000_000
)

// Country returns the ISO 3166-1 alpha-2 code for s (upper-cased; UK is
// read as GB) and whether it is one.
func Country(s string) (string, bool) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if c == "UK" {
		c = "GB"
	}
	if len(c) != 2 {
		return c, false
	}
	r, err := language.ParseRegion(c)
	return c, err == nil && r.IsCountry() && r.String() == c
}

func checkText(fe *errs.FieldList, field, v string, max int) {
	if !utf8.ValidString(v) {
		fe.Add(field, "must be valid UTF-8", v)
	} else if utf8.RuneCountInString(v) > max {
		fe.Add(field, fmt.Sprintf("must be at most %d characters", max), v)
	}
}

func checkAddress(fe *errs.FieldList, field string, a *Address) *Address {
	if a == nil {
		return nil
	}
	out := *a
	for name, v := range map[string]*string{"name": &out.Name, "company": &out.Company, "line1": &out.Line1, "line2": &out.Line2, "city": &out.City,
		"region": &out.Region, "postal_code": &out.PostalCode, "phone": &out.Phone} {
		*v = strings.TrimSpace(*v)
		checkText(fe, field+"."+name, *v, 255)
	}
	if out.Line1 == "" {
		fe.Add(field+".line1", "is required", out.Line1)
	}
	if out.City == "" && out.PostalCode == "" {
		fe.Add(field+".city", "a city or a postal code is required", out.City)
	}
	c, ok := Country(out.Country)
	if !ok {
		fe.Add(field+".country", "must be an ISO 3166-1 alpha-2 code such as US or DE", a.Country)
	}
	out.Country = c
	return &out
}

func parseAmount(fe *errs.FieldList, field, v, currency string, required, allowNegative bool) int64 {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			fe.Add(field, "is required", v)
		}
		return 0
	}
	a, err := money.Parse(v, currency)
	if err != nil {
		fe.Add(field, err.Error(), v)
		return 0
	}
	if a.Minor > maxAmount || a.Minor < -maxAmount {
		fe.Add(field, "is too large", v)
		return 0
	}
	if a.Minor < 0 && !allowNegative {
		fe.Add(field, "must not be negative", v)
		return 0
	}
	return a.Minor
}

func parseTaxes(fe *errs.FieldList, field string, in []TaxInput, currency string) []TaxLine {
	var out []TaxLine
	if len(in) > 20 {
		fe.Add(field, "at most 20 tax lines", len(in))
		return nil
	}
	for j, t := range in {
		f := fmt.Sprintf("%s[%d]", field, j)
		tl := TaxLine{Title: strings.TrimSpace(t.Title), Rate: strings.TrimSpace(t.Rate)}
		checkText(fe, f+".title", tl.Title, 100)
		if tl.Rate != "" && !rateRe.MatchString(tl.Rate) {
			fe.Add(f+".rate", `must be a decimal fraction such as "0.2"`, t.Rate)
		}
		tl.Amount = parseAmount(fe, f+".amount", t.Amount, currency, true, false)
		out = append(out, tl)
	}
	return out
}

// NormalizeTags trims, drops empties and duplicates (case-insensitively,
// keeping the first spelling) and checks lengths.
func NormalizeTags(fe *errs.FieldList, field string, tags []string) []string {
	out := []string{}
	for i, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		checkText(fe, fmt.Sprintf("%s[%d]", field, i), t, 40)
		if !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, t) }) {
			out = append(out, t)
		}
	}
	if len(out) > MaxTags {
		fe.Add(field, fmt.Sprintf("at most %d tags", MaxTags), len(out))
	}
	return out
}

// buildLine checks one input line; field is its name in errors.
func buildLine(fe *errs.FieldList, f string, no int, l LineInput, cur string) Line {
	ln := Line{LineNo: no, SKU: strings.TrimSpace(l.SKU), Name: strings.TrimSpace(l.Name), ExternalID: strings.TrimSpace(l.ExternalID), Quantity: l.Quantity}
	if ln.SKU == "" {
		fe.Add(f+".sku", "is required", l.SKU)
	}
	checkText(fe, f+".sku", ln.SKU, 64)
	checkText(fe, f+".name", ln.Name, 255)
	checkText(fe, f+".external_id", ln.ExternalID, 100)
	if l.Quantity < 1 || l.Quantity > MaxQuantity {
		fe.Add(f+".quantity", fmt.Sprintf("must be between 1 and %d", MaxQuantity), l.Quantity)
	}
	ln.UnitPrice = parseAmount(fe, f+".unit_price", l.UnitPrice, cur, true, false)
	if ln.UnitPrice > maxUnitPrice {
		fe.Add(f+".unit_price", "is too large", l.UnitPrice)
		ln.UnitPrice = 0
	}
	if ln.UnitPrice*max(min(ln.Quantity, MaxQuantity), 0) > maxAmount {
		fe.Add(f+".quantity", "quantity × unit price is too large", l.Quantity)
	}
	ln.Discount = parseAmount(fe, f+".discount", l.Discount, cur, false, false)
	if ln.Discount > ln.UnitPrice*max(min(ln.Quantity, MaxQuantity), 0) {
		fe.Add(f+".discount", "is more than the line's price", l.Discount)
	}
	ln.TaxLines = parseTaxes(fe, f+".tax_lines", l.TaxLines, cur)
	return ln
}

// build checks in and returns the order it describes (without ids, stock
// or number). Every problem is reported at once, by field.
func (in Input) build(now time.Time) (Order, error) {
	const op = "order.Input"
	var fe errs.FieldList
	o := Order{
		Channel:       strings.ToLower(strings.TrimSpace(in.Channel)),
		ChannelID:     in.ChannelID,
		ExternalID:    strings.TrimSpace(in.ExternalID),
		Number:        strings.TrimSpace(in.Number),
		Currency:      strings.ToUpper(strings.TrimSpace(in.Currency)),
		TaxesIncluded: in.TaxesIncluded,
		PaymentStatus: strings.ToLower(strings.TrimSpace(in.PaymentStatus)),
		RiskLevel:     strings.ToLower(strings.TrimSpace(in.RiskLevel)),
		Note:          strings.TrimSpace(in.Note),
		Status:        Open,
		Fulfillment:   Unfulfilled,
	}
	if o.Channel == "" {
		o.Channel = "api"
	}
	if !channelRe.MatchString(o.Channel) {
		fe.Add("channel", "must be 1-40 lower-case letters, digits, '.', '_' or '-'", in.Channel)
	}
	checkText(&fe, "external_id", o.ExternalID, 100)
	checkText(&fe, "number", o.Number, 40)
	if !money.ValidCurrency(o.Currency) {
		fe.Add("currency", "must be an ISO 4217 code such as USD", in.Currency)
	}
	o.PlacedAt = now
	if in.PlacedAt != nil {
		p := in.PlacedAt.UTC().Truncate(time.Microsecond)
		if p.After(now.Add(24 * time.Hour)) {
			fe.Add("placed_at", "is in the future", in.PlacedAt.Format(time.RFC3339))
		}
		o.PlacedAt = p
	}
	if in.UpdatedAt != nil {
		u := in.UpdatedAt.UTC().Truncate(time.Microsecond)
		o.ChannelUpdatedAt = &u
	}
	o.Customer = Customer{Name: strings.TrimSpace(in.Customer.Name), Email: strings.TrimSpace(in.Customer.Email), Phone: strings.TrimSpace(in.Customer.Phone)}
	checkText(&fe, "customer.name", o.Customer.Name, 255)
	checkText(&fe, "customer.phone", o.Customer.Phone, 40)
	if e := o.Customer.Email; e != "" && (len(e) > 254 || strings.Count(e, "@") != 1 || strings.ContainsAny(e, " \t\r\n<>,;") || strings.HasPrefix(e, "@") || strings.HasSuffix(e, "@")) {
		fe.Add("customer.email", "must be an e-mail address", e)
	}
	o.ShippingAddress = checkAddress(&fe, "shipping_address", in.ShippingAddress)
	o.BillingAddress = checkAddress(&fe, "billing_address", in.BillingAddress)
	if o.PaymentStatus != "" && !slices.Contains(PaymentStatuses, o.PaymentStatus) {
		fe.Add("payment_status", "must be one of "+strings.Join(PaymentStatuses, ", "), in.PaymentStatus)
	}
	if o.RiskLevel != "" && !slices.Contains(RiskLevels, o.RiskLevel) {
		fe.Add("risk_level", "must be one of "+strings.Join(RiskLevels, ", "), in.RiskLevel)
	}
	checkText(&fe, "note", o.Note, 5000)
	o.Tags = NormalizeTags(&fe, "tags", in.Tags)
	if len(in.Lines) == 0 || len(in.Lines) > MaxLines {
		fe.Add("lines", fmt.Sprintf("must list 1 to %d lines", MaxLines), len(in.Lines))
	}
	cur := o.Currency
	if !money.ValidCurrency(cur) {
		cur = "USD" // report amount errors against some currency; currency is already flagged
	}
	for i, l := range in.Lines {
		o.Lines = append(o.Lines, buildLine(&fe, fmt.Sprintf("lines[%d]", i), i, l, cur))
	}
	if len(in.ShippingLines) > 10 {
		fe.Add("shipping_lines", "at most 10 shipping lines", len(in.ShippingLines))
	}
	for i, s := range in.ShippingLines {
		f := fmt.Sprintf("shipping_lines[%d]", i)
		sl := ShippingLine{Title: strings.TrimSpace(s.Title), Code: strings.TrimSpace(s.Code)}
		checkText(&fe, f+".title", sl.Title, 255)
		checkText(&fe, f+".code", sl.Code, 100)
		sl.Price = parseAmount(&fe, f+".price", s.Price, cur, false, false)
		sl.TaxLines = parseTaxes(&fe, f+".tax_lines", s.TaxLines, cur)
		o.ShippingLines = append(o.ShippingLines, sl)
	}
	if err := fe.Err(op); err != nil {
		return Order{}, err
	}
	o.computeTotals()
	if strings.TrimSpace(in.Total) != "" {
		t := parseAmount(&fe, "total_price", in.Total, cur, true, false)
		if err := fe.Err(op); err != nil {
			return Order{}, err
		}
		if t != o.Total {
			want := money.Amount{Minor: o.Total, Currency: cur}.String()
			return Order{}, errs.InvalidFields(op, errs.FieldError{Field: "total_price",
				Message: fmt.Sprintf("does not add up: lines + shipping + tax − discounts = %s", want), Value: in.Total})
		}
	}
	return o, nil
}

// Source is the key an order is unique by within a tenant, with its
// external id: the channel connection when there is one, else the channel.
func (o *Order) Source() string {
	if o.ChannelID != "" {
		return o.ChannelID
	}
	return o.Channel
}

// Check reports every problem of in, by field, without storing anything
// (importers check a whole file before writing any of it).
func Check(in Input) error {
	_, err := in.build(time.Now().UTC())
	return err
}

// Build checks in and returns the order it describes, with its totals,
// but without ids, number, stock or holds: for tools that write orders in
// bulk (the benchmark's generator), never for intake, which goes through
// Create.
func Build(in Input) (Order, error) {
	return in.build(time.Now().UTC())
}
