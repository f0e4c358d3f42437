package woocommerce

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

// The parts of a WooCommerce REST API v3 order (GET /wp-json/wc/v3/orders/<id>,
// and the body of the order webhooks) that an order needs.
type wcOrder struct {
	ID              channels.Scalar `json:"id"`
	Number          channels.Scalar `json:"number"`
	Status          string          `json:"status"`
	Currency        string          `json:"currency"`
	DateCreated     string          `json:"date_created"`
	DateCreatedGMT  string          `json:"date_created_gmt"`
	DateModified    string          `json:"date_modified"`
	DateModifiedGMT string          `json:"date_modified_gmt"`
	DatePaidGMT     string          `json:"date_paid_gmt"`
	CustomerNote    string          `json:"customer_note"`
	Billing         wcAddress       `json:"billing"`
	Shipping        wcAddress       `json:"shipping"`
	LineItems       []wcLine        `json:"line_items"`
	TaxLines        []struct {
		RateID      channels.Scalar `json:"rate_id"`
		Label       string          `json:"label"`
		RatePercent channels.Scalar `json:"rate_percent"`
	} `json:"tax_lines"`
	ShippingLines []struct {
		MethodTitle string          `json:"method_title"`
		MethodID    string          `json:"method_id"`
		Total       channels.Scalar `json:"total"`
		Taxes       []wcTax         `json:"taxes"`
	} `json:"shipping_lines"`
	Refunds []json.RawMessage `json:"refunds"`
}

// wcAddress is a billing or shipping address. PHP writes an empty one as
// [] rather than {}, so both are read.
type wcAddress struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Company   string `json:"company"`
	Address1  string `json:"address_1"`
	Address2  string `json:"address_2"`
	City      string `json:"city"`
	State     string `json:"state"`
	Postcode  string `json:"postcode"`
	Country   string `json:"country"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

func (a *wcAddress) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); bytes.Equal(t, []byte("[]")) || bytes.Equal(t, []byte("null")) {
		*a = wcAddress{}
		return nil
	}
	type plain wcAddress
	return json.Unmarshal(b, (*plain)(a))
}

type wcLine struct {
	ID          channels.Scalar `json:"id"`
	Name        string          `json:"name"`
	ProductID   channels.Scalar `json:"product_id"`
	VariationID channels.Scalar `json:"variation_id"`
	Quantity    channels.Scalar `json:"quantity"`
	Subtotal    channels.Scalar `json:"subtotal"` // before coupons, tax excluded
	Total       channels.Scalar `json:"total"`    // after coupons, tax excluded
	Taxes       []wcTax         `json:"taxes"`
	SKU         string          `json:"sku"`
	Price       channels.Scalar `json:"price"` // subtotal ÷ quantity, a JSON number
}

type wcTax struct {
	ID    channels.Scalar `json:"id"` // the tax rate's id, as in tax_lines[].rate_id
	Total channels.Scalar `json:"total"`
}

// ParseOrder reads a WooCommerce REST API v3 order. WooCommerce keeps line,
// shipping and tax amounts apart and tax-exclusive whatever the store's
// prices_include_tax says (that only records how the prices were typed),
// so the order is never TaxesIncluded. The total is left for the order
// service to compute; fees are not carried.
func ParseOrder(body []byte) (order.Input, error) {
	const op = "woocommerce.ParseOrder"
	var o wcOrder
	if err := json.Unmarshal(body, &o); err != nil {
		return order.Input{}, errs.E(op, errs.Invalid, "not a WooCommerce order", err)
	}
	var fe errs.FieldList
	in := order.Input{
		Channel:          "woocommerce",
		ExternalID:       string(o.ID),
		Currency:         strings.ToUpper(strings.TrimSpace(o.Currency)),
		Note:             channels.Clip(strings.TrimSpace(o.CustomerNote), 5000),
		AllowUnknownSKUs: true,
	}
	if _, err := strconv.ParseUint(in.ExternalID, 10, 64); err != nil {
		fe.Add("id", "must be WooCommerce's numeric order id", string(o.ID))
	}
	if n := strings.TrimSpace(string(o.Number)); n != "" {
		in.Number = "#" + n
	}
	in.PlacedAt = gmt(&fe, "date_created_gmt", o.DateCreatedGMT, o.DateCreated)
	in.UpdatedAt = gmt(&fe, "date_modified_gmt", o.DateModifiedGMT, o.DateModified)
	in.PaymentStatus, in.Cancelled = status(o)
	if in.Cancelled {
		in.CancelReason = "other"
	}
	b := o.Billing
	in.Customer = channels.Customer(b.FirstName+" "+b.LastName, b.Email, b.Phone)
	in.BillingAddress = address(b)
	in.ShippingAddress = address(o.Shipping)

	rates := map[string][2]string{} // rate id → label, rate
	for _, t := range o.TaxLines {
		rates[string(t.RateID)] = [2]string{html.UnescapeString(strings.TrimSpace(t.Label)), channels.Rate(string(t.RatePercent), true)}
	}
	for i, li := range o.LineItems {
		f := fmt.Sprintf("line_items[%d]", i)
		qty, err := strconv.ParseInt(string(li.Quantity), 10, 64)
		if err != nil || qty < 0 {
			fe.Add(f+".quantity", "must be a whole number", string(li.Quantity))
			continue
		}
		if qty == 0 {
			continue // removed by an order edit
		}
		l := order.LineInput{
			SKU:        strings.TrimSpace(li.SKU),
			Name:       channels.Clip(html.UnescapeString(strings.TrimSpace(li.Name)), 255),
			ExternalID: string(li.ID),
			Quantity:   qty,
			UnitPrice:  amount(&fe, f+".price", string(li.Price), in.Currency),
		}
		subtotal := amount(&fe, f+".subtotal", string(li.Subtotal), in.Currency)
		total := amount(&fe, f+".total", string(li.Total), in.Currency)
		if l.UnitPrice == "" && subtotal != "" {
			l.UnitPrice = channels.Times(subtotal, 1, qty, in.Currency)
		}
		if subtotal != "" && total != "" {
			if d := channels.Sub(subtotal, total, in.Currency); !strings.HasPrefix(d, "-") {
				l.Discount = channels.CapDiscount(d, l.UnitPrice, qty, in.Currency)
			}
		}
		if l.SKU == "" {
			// A product without a SKU is still sold; name it by its
			// variation or product so it always lands on the same item.
			switch {
			case positive(li.VariationID):
				l.SKU = "woocommerce-variation-" + string(li.VariationID)
			case positive(li.ProductID):
				l.SKU = "woocommerce-product-" + string(li.ProductID)
			default:
				l.SKU = "woocommerce-item-" + string(li.ID)
			}
		}
		l.TaxLines = taxes(&fe, f+".taxes", li.Taxes, rates, in.Currency)
		in.Lines = append(in.Lines, l)
	}
	for i, s := range o.ShippingLines {
		f := fmt.Sprintf("shipping_lines[%d]", i)
		in.ShippingLines = append(in.ShippingLines, order.ShippingInput{
			Title:    channels.Clip(html.UnescapeString(strings.TrimSpace(s.MethodTitle)), 255),
			Code:     channels.Clip(strings.TrimSpace(s.MethodID), 100),
			Price:    amount(&fe, f+".total", string(s.Total), in.Currency),
			TaxLines: taxes(&fe, f+".taxes", s.Taxes, rates, in.Currency),
		})
	}
	if err := fe.Err(op); err != nil {
		return order.Input{}, err
	}
	return in, nil
}

// status maps WooCommerce's order status to a payment status and whether
// the order is cancelled. A refunded order is cancelled too: nothing is
// left to ship (what was shipped stays fulfilled).
func status(o wcOrder) (payment string, cancelled bool) {
	paid := strings.TrimSpace(o.DatePaidGMT) != ""
	switch strings.ToLower(strings.TrimSpace(o.Status)) {
	case "pending", "on-hold", "failed", "checkout-draft":
		// Awaiting payment (on-hold: a bank transfer or cheque to confirm;
		// failed: the customer may still pay again).
		return "pending", false
	case "processing", "completed":
		payment = "paid"
	case "cancelled", "trash":
		if paid {
			return "paid", true
		}
		return "voided", true
	case "refunded":
		return "refunded", true
	default: // a status a plugin added
		payment = "pending"
		if paid {
			payment = "paid"
		}
	}
	if len(o.Refunds) > 0 {
		payment = "partially_refunded"
	}
	return payment, false
}

func address(a wcAddress) *order.Address {
	return channels.Address(order.Address{
		Name: strings.TrimSpace(a.FirstName + " " + a.LastName), Company: a.Company, Line1: a.Address1, Line2: a.Address2,
		City: a.City, Region: a.State, PostalCode: a.Postcode, Country: a.Country, Phone: a.Phone,
	})
}

func taxes(fe *errs.FieldList, f string, ts []wcTax, rates map[string][2]string, cur string) []order.TaxInput {
	var out []order.TaxInput
	for j, t := range ts {
		a := amount(fe, fmt.Sprintf("%s[%d].total", f, j), string(t.Total), cur)
		if a == "" {
			continue // a rate that does not apply to this line
		}
		r := rates[string(t.ID)]
		title := r[0]
		if title == "" {
			title = "Tax"
		}
		out = append(out, order.TaxInput{Title: channels.Clip(title, 100), Rate: r[1], Amount: a})
	}
	return out
}

func positive(s channels.Scalar) bool {
	n, err := strconv.ParseUint(string(s), 10, 64)
	return err == nil && n > 0
}

func amount(fe *errs.FieldList, field, v, cur string) string {
	a, err := channels.Amount(v, cur)
	if err != nil {
		fe.Add(field, err.Error(), v)
	}
	return a
}

// gmt reads one of WooCommerce's GMT times ("2017-03-22T19:28:02", no
// zone). An order from before WooCommerce kept GMT times has only the
// site's local time, read as UTC for want of the site's zone.
func gmt(fe *errs.FieldList, field, v, local string) *time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		v = strings.TrimSpace(local)
	}
	if v == "" {
		return nil
	}
	t, err := time.Parse("2006-01-02T15:04:05", v)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, v); err != nil {
			fe.Add(field, "must be a time such as 2017-03-22T19:28:02", v)
			return nil
		}
	}
	t = t.UTC()
	return &t
}
