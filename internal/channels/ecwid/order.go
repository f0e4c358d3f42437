package ecwid

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

// The parts of an Ecwid order (GET /api/v3/{storeId}/orders/{orderId})
// that an order needs. Ecwid writes amounts as JSON numbers; they are kept
// as their text, never read into float64.
type ecOrder struct {
	ID                channels.Scalar `json:"id"` // "XJ12H"; absent on old stores
	OrderNumber       channels.Scalar `json:"orderNumber"`
	VendorOrderNumber channels.Scalar `json:"vendorOrderNumber"`
	Email             string          `json:"email"`
	PaymentStatus     string          `json:"paymentStatus"`
	FulfillmentStatus string          `json:"fulfillmentStatus"`
	CreateDate        string          `json:"createDate"`
	UpdateDate        string          `json:"updateDate"`
	CreateTimestamp   channels.Scalar `json:"createTimestamp"`
	UpdateTimestamp   channels.Scalar `json:"updateTimestamp"`
	OrderComments     string          `json:"orderComments"`
	PricesIncludeTax  bool            `json:"pricesIncludeTax"`
	Items             []ecItem        `json:"items"`
	BillingPerson     *ecPerson       `json:"billingPerson"`
	ShippingPerson    *ecPerson       `json:"shippingPerson"`
	ShippingOption    *struct {
		ShippingMethodID   string          `json:"shippingMethodId"`
		ShippingMethodName string          `json:"shippingMethodName"`
		ShippingRate       channels.Scalar `json:"shippingRate"`
	} `json:"shippingOption"`
	TaxesOnShipping []ecTax `json:"taxesOnShipping"`
	HandlingFee     *struct {
		Name  string          `json:"name"`
		Value channels.Scalar `json:"value"`
		Taxes []ecTax         `json:"taxes"`
	} `json:"handlingFee"`
}

type ecItem struct {
	ID           channels.Scalar `json:"id"`
	ProductID    channels.Scalar `json:"productId"`
	Price        channels.Scalar `json:"price"` // with tax when pricesIncludeTax
	SKU          string          `json:"sku"`
	Quantity     channels.Scalar `json:"quantity"`
	Name         string          `json:"name"`
	Taxes        []ecTax         `json:"taxes"`
	CouponAmount channels.Scalar `json:"couponAmount"`
	Discounts    []struct {
		Total channels.Scalar `json:"total"`
	} `json:"discounts"`
}

type ecTax struct {
	Name  string          `json:"name"`
	Value channels.Scalar `json:"value"` // percent
	Total channels.Scalar `json:"total"`
}

type ecPerson struct {
	Name                string `json:"name"`
	FirstName           string `json:"firstName"`
	LastName            string `json:"lastName"`
	CompanyName         string `json:"companyName"`
	Street              string `json:"street"` // lines 1 and 2, separated by "\n"
	City                string `json:"city"`
	CountryCode         string `json:"countryCode"`
	PostalCode          string `json:"postalCode"`
	StateOrProvinceCode string `json:"stateOrProvinceCode"`
	StateOrProvinceName string `json:"stateOrProvinceName"`
	Phone               string `json:"phone"`
}

// ParseOrder reads an Ecwid order. Ecwid's orders do not name their
// currency, so the store's is given. The total is left for the order
// service to compute.
func ParseOrder(body []byte, currency string) (order.Input, error) {
	const op = "ecwid.ParseOrder"
	var o ecOrder
	if err := json.Unmarshal(body, &o); err != nil {
		return order.Input{}, errs.E(op, errs.Invalid, "not an Ecwid order", err)
	}
	var fe errs.FieldList
	cur := strings.ToUpper(strings.TrimSpace(currency))
	in := order.Input{
		Channel:          "ecwid",
		ExternalID:       string(o.ID),
		Currency:         cur,
		TaxesIncluded:    o.PricesIncludeTax,
		Note:             channels.Clip(strings.TrimSpace(o.OrderComments), 5000),
		AllowUnknownSKUs: true,
	}
	if in.ExternalID == "" {
		in.ExternalID = string(o.OrderNumber) // stores from before order ids
	}
	if in.ExternalID == "" {
		fe.Add("id", "is required", "")
	}
	if n := string(o.VendorOrderNumber); n != "" {
		in.Number = "#" + n
	} else if in.ExternalID != "" {
		in.Number = "#" + in.ExternalID
	}
	in.PlacedAt = when(&fe, "createTimestamp", o.CreateTimestamp, o.CreateDate)
	in.UpdatedAt = when(&fe, "updateTimestamp", o.UpdateTimestamp, o.UpdateDate)
	in.PaymentStatus, in.Cancelled = status(o.PaymentStatus, o.FulfillmentStatus)
	if in.Cancelled {
		in.CancelReason = "other"
	}

	var name, phone string
	for _, p := range []*ecPerson{o.BillingPerson, o.ShippingPerson} {
		if p != nil && name == "" {
			name = personName(p)
		}
		if p != nil && phone == "" {
			phone = p.Phone
		}
	}
	in.Customer = channels.Customer(name, o.Email, phone)
	in.BillingAddress = address(o.BillingPerson)
	in.ShippingAddress = address(o.ShippingPerson)

	for i, it := range o.Items {
		f := fmt.Sprintf("items[%d]", i)
		qty, err := strconv.ParseInt(string(it.Quantity), 10, 64)
		if err != nil || qty < 0 {
			fe.Add(f+".quantity", "must be a whole number", string(it.Quantity))
			continue
		}
		if qty == 0 {
			continue
		}
		l := order.LineInput{
			SKU:        strings.TrimSpace(it.SKU),
			Name:       channels.Clip(strings.TrimSpace(it.Name), 255),
			ExternalID: string(it.ID),
			Quantity:   qty,
			UnitPrice:  amount(&fe, f+".price", string(it.Price), cur),
		}
		if l.SKU == "" {
			if p := string(it.ProductID); p != "" && p != "0" {
				l.SKU = "ecwid-product-" + p
			} else {
				l.SKU = "ecwid-item-" + string(it.ID)
			}
		}
		// The coupon's share of the line and the promotions on it.
		parts := []string{amount(&fe, f+".couponAmount", string(it.CouponAmount), cur)}
		for j, d := range it.Discounts {
			parts = append(parts, amount(&fe, fmt.Sprintf("%s.discounts[%d].total", f, j), string(d.Total), cur))
		}
		if d := channels.Sum(cur, parts...); strings.Trim(d, "0.") != "" && !strings.HasPrefix(d, "-") {
			l.Discount = channels.CapDiscount(d, l.UnitPrice, qty, cur)
		}
		l.TaxLines = taxes(&fe, f+".taxes", it.Taxes, cur)
		in.Lines = append(in.Lines, l)
	}
	if s := o.ShippingOption; s != nil && (s.ShippingMethodName != "" || s.ShippingRate != "") {
		in.ShippingLines = append(in.ShippingLines, order.ShippingInput{
			Title:    channels.Clip(strings.TrimSpace(s.ShippingMethodName), 255),
			Code:     channels.Clip(strings.TrimSpace(s.ShippingMethodID), 100),
			Price:    amount(&fe, "shippingOption.shippingRate", string(s.ShippingRate), cur),
			TaxLines: taxes(&fe, "taxesOnShipping", o.TaxesOnShipping, cur),
		})
	}
	if h := o.HandlingFee; h != nil {
		// A handling fee is charged like shipping; carry it as a shipping line.
		if v := amount(&fe, "handlingFee.value", string(h.Value), cur); strings.Trim(v, "0.") != "" && !strings.HasPrefix(v, "-") {
			title := strings.TrimSpace(h.Name)
			if title == "" {
				title = "Handling fee"
			}
			in.ShippingLines = append(in.ShippingLines, order.ShippingInput{
				Title: channels.Clip(title, 255), Code: "handling_fee", Price: v,
				TaxLines: taxes(&fe, "handlingFee.taxes", h.Taxes, cur),
			})
		}
	}
	if err := fe.Err(op); err != nil {
		return order.Input{}, err
	}
	return in, nil
}

// status maps Ecwid's payment and fulfilment statuses to a payment status
// and whether the order is cancelled: a cancelled or refunded payment, or
// an order the merchant will not deliver, leaves nothing to ship.
func status(payment, fulfillment string) (string, bool) {
	cancelled := strings.EqualFold(fulfillment, "WILL_NOT_DELIVER")
	switch strings.ToUpper(payment) {
	case "PAID":
		return "paid", cancelled
	case "AWAITING_PAYMENT", "INCOMPLETE":
		return "pending", cancelled
	case "PARTIALLY_REFUNDED":
		return "partially_refunded", cancelled
	case "REFUNDED":
		return "refunded", true
	case "CANCELLED":
		return "voided", true
	}
	return "", cancelled // a custom payment status
}

func personName(p *ecPerson) string {
	if n := strings.TrimSpace(p.Name); n != "" {
		return n
	}
	return strings.TrimSpace(p.FirstName + " " + p.LastName)
}

func address(p *ecPerson) *order.Address {
	if p == nil {
		return nil
	}
	line1, line2, _ := strings.Cut(strings.ReplaceAll(p.Street, "\r\n", "\n"), "\n")
	region := p.StateOrProvinceCode
	if strings.TrimSpace(region) == "" {
		region = p.StateOrProvinceName
	}
	return channels.Address(order.Address{
		Name: personName(p), Company: p.CompanyName, Line1: line1, Line2: strings.ReplaceAll(line2, "\n", ", "),
		City: p.City, Region: region, PostalCode: p.PostalCode, Country: p.CountryCode, Phone: p.Phone,
	})
}

func taxes(fe *errs.FieldList, f string, ts []ecTax, cur string) []order.TaxInput {
	var out []order.TaxInput
	for j, t := range ts {
		a := amount(fe, fmt.Sprintf("%s[%d].total", f, j), string(t.Total), cur)
		if a == "" {
			continue
		}
		title := strings.TrimSpace(t.Name)
		if title == "" {
			title = "Tax"
		}
		out = append(out, order.TaxInput{Title: channels.Clip(title, 100), Rate: channels.Rate(string(t.Value), true), Amount: a})
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

// when reads Ecwid's UNIX timestamp, else its date ("2014-09-20 19:59:43 +0000").
func when(fe *errs.FieldList, field string, ts channels.Scalar, date string) *time.Time {
	if s := string(ts); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > 1<<40 {
			fe.Add(field, "must be a UNIX time", s)
			return nil
		}
		t := time.Unix(n, 0).UTC()
		return &t
	}
	date = strings.TrimSpace(date)
	if date == "" {
		return nil
	}
	t, err := time.Parse("2006-01-02 15:04:05 -0700", date)
	if err != nil {
		fe.Add(field, "must be a time such as 2014-09-20 19:59:43 +0000", date)
		return nil
	}
	t = t.UTC()
	return &t
}
