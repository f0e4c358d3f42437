package shopify

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

// The parts of Shopify's REST Order resource (the body of orders/create
// and the other order webhooks) that an order needs.
type shopOrder struct {
	ID                  channels.Scalar `json:"id"`
	Name                string          `json:"name"`
	Email               string          `json:"email"`
	ContactEmail        string          `json:"contact_email"`
	Phone               string          `json:"phone"`
	CreatedAt           string          `json:"created_at"`
	UpdatedAt           string          `json:"updated_at"`
	CancelledAt         string          `json:"cancelled_at"`
	CancelReason        string          `json:"cancel_reason"`
	Currency            string          `json:"currency"`
	PresentmentCurrency string          `json:"presentment_currency"`
	TaxesIncluded       bool            `json:"taxes_included"`
	FinancialStatus     string          `json:"financial_status"`
	Tags                string          `json:"tags"`
	Note                string          `json:"note"`
	Customer            *struct {
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
		Email     string `json:"email"`
		Phone     string `json:"phone"`
	} `json:"customer"`
	ShippingAddress *shopAddress   `json:"shipping_address"`
	BillingAddress  *shopAddress   `json:"billing_address"`
	LineItems       []lineItem     `json:"line_items"`
	ShippingLines   []shippingLine `json:"shipping_lines"`
}

type shopAddress struct {
	Name         string `json:"name"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Company      string `json:"company"`
	Address1     string `json:"address1"`
	Address2     string `json:"address2"`
	City         string `json:"city"`
	Province     string `json:"province"`
	ProvinceCode string `json:"province_code"`
	Zip          string `json:"zip"`
	CountryCode  string `json:"country_code"`
	Phone        string `json:"phone"`
}

type lineItem struct {
	ID              channels.Scalar  `json:"id"`
	VariantID       channels.Scalar  `json:"variant_id"`
	SKU             string           `json:"sku"`
	Name            string           `json:"name"`
	Title           string           `json:"title"`
	Quantity        channels.Scalar  `json:"quantity"`
	CurrentQuantity *channels.Scalar `json:"current_quantity"`
	Price           channels.Scalar  `json:"price"`
	TotalDiscount   channels.Scalar  `json:"total_discount"`
	// DiscountAllocations share every discount out to lines, order-level
	// ones included (total_discount leaves those out).
	DiscountAllocations []struct {
		Amount channels.Scalar `json:"amount"`
	} `json:"discount_allocations"`
	TaxLines []taxLine `json:"tax_lines"`
}

type taxLine struct {
	Title string          `json:"title"`
	Price channels.Scalar `json:"price"`
	Rate  channels.Scalar `json:"rate"`
}

type shippingLine struct {
	Title           string          `json:"title"`
	Code            string          `json:"code"`
	Price           channels.Scalar `json:"price"`
	DiscountedPrice channels.Scalar `json:"discounted_price"`
	IsRemoved       bool            `json:"is_removed"`
	TaxLines        []taxLine       `json:"tax_lines"`
}

// paymentStatuses maps Shopify's financial_status to Waybill's (the same
// names, but for expired authorisations).
var paymentStatuses = map[string]string{
	"pending": "pending", "authorized": "authorized", "partially_paid": "partially_paid", "paid": "paid",
	"partially_refunded": "partially_refunded", "refunded": "refunded", "voided": "voided", "expired": "voided",
}

// ParseOrder reads Shopify's order JSON (REST Admin API Order, as the
// order webhooks deliver it). Amounts are kept as Shopify writes them;
// the total is left for the order service to compute, since Shopify's
// may include adjustments an order line cannot carry.
func ParseOrder(body []byte) (order.Input, error) {
	const op = "shopify.ParseOrder"
	var o shopOrder
	if err := json.Unmarshal(body, &o); err != nil {
		return order.Input{}, errs.E(op, errs.Invalid, "not a Shopify order", err)
	}
	var fe errs.FieldList
	in := order.Input{
		Channel:          "shopify",
		ExternalID:       string(o.ID),
		Number:           strings.TrimSpace(o.Name),
		Currency:         strings.ToUpper(strings.TrimSpace(o.Currency)),
		TaxesIncluded:    o.TaxesIncluded,
		PaymentStatus:    paymentStatuses[strings.ToLower(o.FinancialStatus)],
		Tags:             channels.Tags(o.Tags),
		Note:             channels.Clip(strings.TrimSpace(o.Note), 5000),
		AllowUnknownSKUs: true,
	}
	if !numericID(in.ExternalID) {
		fe.Add("id", "must be Shopify's numeric order id", string(o.ID))
	}
	if in.Currency == "" {
		in.Currency = strings.ToUpper(strings.TrimSpace(o.PresentmentCurrency))
	}
	in.PlacedAt = parseTime(&fe, "created_at", o.CreatedAt)
	in.UpdatedAt = parseTime(&fe, "updated_at", o.UpdatedAt)
	if strings.TrimSpace(o.CancelledAt) != "" {
		in.Cancelled = true
		in.CancelReason = strings.ToLower(strings.TrimSpace(o.CancelReason))
	}
	in.Customer = customer(o)
	if a := o.ShippingAddress; a != nil {
		in.ShippingAddress = address(a)
	}
	if a := o.BillingAddress; a != nil {
		in.BillingAddress = address(a)
	}
	for i, li := range o.LineItems {
		if l, ok := line(&fe, fmt.Sprintf("line_items[%d]", i), li, in.Currency, in.Cancelled); ok {
			in.Lines = append(in.Lines, l)
		}
	}
	if len(in.Lines) == 0 && len(o.LineItems) > 0 && len(fe) == 0 {
		// Every item was removed or refunded, yet Shopify keeps the order
		// open. Nothing is left to ship: it comes in cancelled, with what
		// was ordered, rather than refused (a refused webhook is retried
		// until Shopify drops the subscription).
		in.Cancelled, in.CancelReason = true, "other"
		for i, li := range o.LineItems {
			if l, ok := line(&fe, fmt.Sprintf("line_items[%d]", i), li, in.Currency, true); ok {
				in.Lines = append(in.Lines, l)
			}
		}
	}
	for i, sl := range o.ShippingLines {
		if sl.IsRemoved {
			continue
		}
		f := fmt.Sprintf("shipping_lines[%d]", i)
		price := sl.DiscountedPrice // what the customer paid, shipping discounts taken off
		if price == "" {
			price = sl.Price
		}
		in.ShippingLines = append(in.ShippingLines, order.ShippingInput{
			Title:    channels.Clip(strings.TrimSpace(sl.Title), 255),
			Code:     channels.Clip(strings.TrimSpace(sl.Code), 100),
			Price:    amount(&fe, f+".price", string(price), in.Currency),
			TaxLines: taxes(&fe, f+".tax_lines", sl.TaxLines, in.Currency, 1, 1),
		})
	}
	if err := fe.Err(op); err != nil {
		return order.Input{}, err
	}
	return in, nil
}

func customer(o shopOrder) order.Customer {
	var name, email, phone string
	if c := o.Customer; c != nil {
		name = strings.TrimSpace(c.FirstName + " " + c.LastName)
		email, phone = c.Email, c.Phone
	}
	for _, a := range []*shopAddress{o.BillingAddress, o.ShippingAddress} {
		if name == "" && a != nil {
			name = addressName(a)
		}
	}
	if o.Email != "" {
		email = o.Email
	} else if email == "" {
		email = o.ContactEmail
	}
	if o.Phone != "" {
		phone = o.Phone
	}
	return channels.Customer(name, email, phone)
}

func addressName(a *shopAddress) string {
	if n := strings.TrimSpace(a.Name); n != "" {
		return n
	}
	return strings.TrimSpace(a.FirstName + " " + a.LastName)
}

func address(a *shopAddress) *order.Address {
	region := a.ProvinceCode
	if strings.TrimSpace(region) == "" {
		region = a.Province
	}
	return channels.Address(order.Address{
		Name: addressName(a), Company: a.Company, Line1: a.Address1, Line2: a.Address2, City: a.City,
		Region: region, PostalCode: a.Zip, Country: a.CountryCode, Phone: a.Phone,
	})
}

// line reads one line item. Its quantity is what is left of it
// (current_quantity: ordered less removed and refunded), and a line with
// nothing left is dropped; a cancelled order keeps what was ordered, so
// that the order records what it cancelled. Discounts and taxes, given by
// Shopify for the quantity ordered, are scaled to the quantity kept.
func line(fe *errs.FieldList, f string, li lineItem, cur string, cancelled bool) (order.LineInput, bool) {
	ordered, err := strconv.ParseInt(string(li.Quantity), 10, 64)
	if err != nil || ordered < 0 {
		fe.Add(f+".quantity", "must be a whole number", string(li.Quantity))
		return order.LineInput{}, false
	}
	qty := ordered
	if li.CurrentQuantity != nil && !cancelled {
		qty, err = strconv.ParseInt(string(*li.CurrentQuantity), 10, 64)
		if err != nil || qty < 0 || qty > ordered {
			fe.Add(f+".current_quantity", "must be a whole number no larger than quantity", string(*li.CurrentQuantity))
			return order.LineInput{}, false
		}
	}
	if qty == 0 {
		return order.LineInput{}, false
	}
	l := order.LineInput{
		SKU:        strings.TrimSpace(li.SKU),
		Name:       channels.Clip(strings.TrimSpace(li.Name), 255),
		ExternalID: string(li.ID),
		Quantity:   qty,
		UnitPrice:  amount(fe, f+".price", string(li.Price), cur),
	}
	if l.Name == "" {
		l.Name = channels.Clip(strings.TrimSpace(li.Title), 255)
	}
	if l.SKU == "" {
		// A product without a SKU is still sold; name it by its variant so
		// that the same product always lands on the same line and item.
		if v := string(li.VariantID); numericID(v) {
			l.SKU = "shopify-variant-" + v
		} else {
			l.SKU = "shopify-item-" + string(li.ID)
		}
	}
	discount := amount(fe, f+".total_discount", string(li.TotalDiscount), cur)
	if len(li.DiscountAllocations) > 0 {
		var parts []string
		for j, d := range li.DiscountAllocations {
			parts = append(parts, amount(fe, fmt.Sprintf("%s.discount_allocations[%d].amount", f, j), string(d.Amount), cur))
		}
		discount = channels.Sum(cur, parts...)
	}
	if discount != "" {
		discount = channels.Times(discount, qty, ordered, cur)
		l.Discount = channels.CapDiscount(discount, l.UnitPrice, qty, cur)
	}
	l.TaxLines = taxes(fe, f+".tax_lines", li.TaxLines, cur, qty, ordered)
	return l, true
}

func taxes(fe *errs.FieldList, f string, ts []taxLine, cur string, num, den int64) []order.TaxInput {
	var out []order.TaxInput
	for j, t := range ts {
		a := amount(fe, fmt.Sprintf("%s[%d].price", f, j), string(t.Price), cur)
		if a == "" {
			continue
		}
		if num != den {
			a = channels.Times(a, num, den, cur)
		}
		out = append(out, order.TaxInput{Title: channels.Clip(strings.TrimSpace(t.Title), 100), Rate: channels.Rate(string(t.Rate), false), Amount: a})
	}
	return out
}

func amount(fe *errs.FieldList, field, v, cur string) string {
	a, err := channels.Amount(v, cur)
	if err != nil {
		fe.Add(field, err.Error(), v)
	}
	return a
}

func parseTime(fe *errs.FieldList, field, v string) *time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		fe.Add(field, "must be an RFC 3339 time", v)
		return nil
	}
	t = t.UTC()
	return &t
}
