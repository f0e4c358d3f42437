package amazon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/spapi"
)

// What Amazon sends (Orders v0 model), decoded without float64: amounts are
// decimal strings and stay strings until money.Parse.

type apiMoney struct {
	CurrencyCode string  `json:"CurrencyCode"`
	Amount       decimal `json:"Amount"`
}

type decimal = channels.Decimal

type apiAddress struct {
	Name          string `json:"Name"`
	CompanyName   string `json:"CompanyName"`
	AddressLine1  string `json:"AddressLine1"`
	AddressLine2  string `json:"AddressLine2"`
	AddressLine3  string `json:"AddressLine3"`
	City          string `json:"City"`
	StateOrRegion string `json:"StateOrRegion"`
	PostalCode    string `json:"PostalCode"`
	CountryCode   string `json:"CountryCode"`
	Phone         string `json:"Phone"`
}

type apiBuyerInfo struct {
	BuyerEmail string `json:"BuyerEmail"`
	BuyerName  string `json:"BuyerName"`
}

type apiOrder struct {
	AmazonOrderID                string        `json:"AmazonOrderId"`
	PurchaseDate                 string        `json:"PurchaseDate"`
	LastUpdateDate               string        `json:"LastUpdateDate"`
	OrderStatus                  string        `json:"OrderStatus"`
	FulfillmentChannel           string        `json:"FulfillmentChannel"`
	MarketplaceID                string        `json:"MarketplaceId"`
	ShipServiceLevel             string        `json:"ShipServiceLevel"`
	ShipmentServiceLevelCategory string        `json:"ShipmentServiceLevelCategory"`
	OrderTotal                   *apiMoney     `json:"OrderTotal"`
	IsPrime                      flexBool      `json:"IsPrime"`
	ShippingAddress              *apiAddress   `json:"ShippingAddress"`
	BuyerInfo                    *apiBuyerInfo `json:"BuyerInfo"`
}

type apiOrderItem struct {
	ASIN                 string    `json:"ASIN"`
	SellerSKU            string    `json:"SellerSKU"`
	OrderItemID          string    `json:"OrderItemId"`
	Title                string    `json:"Title"`
	QuantityOrdered      int64     `json:"QuantityOrdered"`
	QuantityShipped      int64     `json:"QuantityShipped"`
	ItemPrice            *apiMoney `json:"ItemPrice"`
	ItemTax              *apiMoney `json:"ItemTax"`
	PromotionDiscount    *apiMoney `json:"PromotionDiscount"`
	PromotionDiscountTax *apiMoney `json:"PromotionDiscountTax"`
	ShippingPrice        *apiMoney `json:"ShippingPrice"`
	ShippingTax          *apiMoney `json:"ShippingTax"`
	ShippingDiscount     *apiMoney `json:"ShippingDiscount"`
	ShippingDiscountTax  *apiMoney `json:"ShippingDiscountTax"`
	BuyerRequestedCancel *struct {
		IsBuyerRequestedCancel flexBool `json:"IsBuyerRequestedCancel"`
		BuyerCancelReason      string   `json:"BuyerCancelReason"`
	} `json:"BuyerRequestedCancel"`
}

// flexBool reads true/false whether Amazon sends it as a JSON boolean or as
// a string ("true"), as it does for IsBuyerRequestedCancel and IsGift.
type flexBool bool

// Anything else reads as false rather than failing the whole page.
func (b *flexBool) UnmarshalJSON(data []byte) error {
	*b = strings.ToLower(strings.Trim(string(bytes.TrimSpace(data)), `"`)) == "true"
	return nil
}

// parseOrders reads a getOrders response: {"payload":{"Orders":[…],"NextToken":…}}.
func parseOrders(body []byte) ([]apiOrder, string, error) {
	var doc struct {
		Payload *struct {
			Orders    []apiOrder `json:"Orders"`
			NextToken string     `json:"NextToken"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, "", fmt.Errorf("getOrders response: %w", err)
	}
	if doc.Payload == nil {
		return nil, "", errors.New("getOrders response has no payload")
	}
	for i, o := range doc.Payload.Orders {
		if strings.TrimSpace(o.AmazonOrderID) == "" {
			return nil, "", fmt.Errorf("getOrders response: order %d has no AmazonOrderId", i)
		}
	}
	return doc.Payload.Orders, doc.Payload.NextToken, nil
}

// parseOrderItems reads a getOrderItems response:
// {"payload":{"AmazonOrderId":…,"OrderItems":[…],"NextToken":…}}.
func parseOrderItems(body []byte) ([]apiOrderItem, string, error) {
	var doc struct {
		Payload *struct {
			OrderItems []apiOrderItem `json:"OrderItems"`
			NextToken  string         `json:"NextToken"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, "", fmt.Errorf("getOrderItems response: %w", err)
	}
	if doc.Payload == nil {
		return nil, "", errors.New("getOrderItems response has no payload")
	}
	return doc.Payload.OrderItems, doc.Payload.NextToken, nil
}

const maxMinor = channels.MaxMinor

// toInput turns an order and its items into what the order service takes.
//
// Prices: Amazon's ItemPrice is the price of the whole line (unit price ×
// quantity). The unit price is ItemPrice / QuantityOrdered when that divides
// exactly. When it does not (10.00 for 3), the unit price is rounded up to
// the next minor unit (3.34) and the few minor units that overshoots by
// (0.02) are added to the line's discount, so that quantity × unit price −
// discount is exactly ItemPrice − PromotionDiscount: no cent is lost or
// invented, at the cost of a discount that may include up to quantity − 1
// minor units of rounding.
//
// Taxes: ItemTax less PromotionDiscountTax becomes the line's tax;
// ShippingPrice less ShippingDiscount, with ShippingTax less
// ShippingDiscountTax, summed over the items, becomes one shipping line.
// Amounts are tax-inclusive (VAT/GST) except in USD and CAD marketplaces,
// where Amazon adds sales tax on top.
//
// Orders that Amazon fulfils (FulfillmentChannel AFN) are tagged "FBA": they
// are recorded but must not be fulfilled by us. Pending orders carry no
// prices yet (getOrderItems omits them until payment is authorised), so
// their lines have unit price 0 until a later poll brings the real ones.
func toInput(o apiOrder, items []apiOrderItem) (order.Input, error) {
	id := strings.TrimSpace(o.AmazonOrderID)
	fail := func(format string, args ...any) (order.Input, error) {
		return order.Input{}, fmt.Errorf("amazon order %s: %s", id, fmt.Sprintf(format, args...))
	}
	in := order.Input{
		Channel:          "amazon",
		ExternalID:       id,
		Number:           id,
		AllowUnknownSKUs: true,
	}
	placed, err := channels.UTC(o.PurchaseDate)
	if err != nil {
		return fail("PurchaseDate: %v", err)
	}
	updated, err := channels.UTC(o.LastUpdateDate)
	if err != nil {
		return fail("LastUpdateDate: %v", err)
	}
	in.PlacedAt, in.UpdatedAt = &placed, &updated

	cur := currencyOf(o, items)
	if cur == "" {
		return fail("no currency: no OrderTotal, no item prices and an unknown marketplace %q", o.MarketplaceID)
	}
	in.Currency = cur
	in.TaxesIncluded = cur != "USD" && cur != "CAD"

	switch o.OrderStatus {
	case "Pending", "PendingAvailability":
		in.PaymentStatus = "pending"
	case "Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed":
		in.PaymentStatus = "paid"
	case "Canceled":
		in.Cancelled = true
		in.CancelReason = "other"
	}
	if o.FulfillmentChannel == "AFN" {
		in.Tags = append(in.Tags, "FBA")
	}
	if o.IsPrime {
		in.Tags = append(in.Tags, "prime")
	}
	if b := o.BuyerInfo; b != nil {
		in.Customer = channels.Customer(b.BuyerName, b.BuyerEmail, "")
	}
	if a := o.ShippingAddress; a != nil {
		// Without a Restricted Data Token (rdt.go: the app lacks the
		// restricted roles) Amazon sends only city, region, postal code and
		// country: no address to ship to, so channels.Address keeps none
		// rather than a half one the order service would reject.
		in.ShippingAddress = channels.Address(order.Address{
			Name:       a.Name,
			Company:    a.CompanyName,
			Line1:      a.AddressLine1,
			Line2:      strings.TrimSpace(strings.TrimSpace(a.AddressLine2) + " " + strings.TrimSpace(a.AddressLine3)),
			City:       a.City,
			Region:     a.StateOrRegion,
			PostalCode: a.PostalCode,
			Country:    a.CountryCode,
			Phone:      a.Phone,
		})
		if in.ShippingAddress != nil && in.Customer.Name == "" {
			in.Customer.Name = in.ShippingAddress.Name
		}
	}

	var shipPrice, shipTax int64
	hasShipping := false
	var cancelNotes []string
	for i, it := range items {
		m := func(name string, v *apiMoney) (int64, error) {
			n, err := parseMoney(v, cur)
			if err != nil {
				return 0, fmt.Errorf("item %d %s: %w", i, name, err)
			}
			return n, nil
		}
		var price, tax, promo, promoTax, sp, st, sd, sdt int64
		for _, f := range []struct {
			name string
			v    *apiMoney
			dst  *int64
		}{
			{"ItemPrice", it.ItemPrice, &price}, {"ItemTax", it.ItemTax, &tax},
			{"PromotionDiscount", it.PromotionDiscount, &promo}, {"PromotionDiscountTax", it.PromotionDiscountTax, &promoTax},
			{"ShippingPrice", it.ShippingPrice, &sp}, {"ShippingTax", it.ShippingTax, &st},
			{"ShippingDiscount", it.ShippingDiscount, &sd}, {"ShippingDiscountTax", it.ShippingDiscountTax, &sdt},
		} {
			if *f.dst, err = m(f.name, f.v); err != nil {
				return fail("%v", err)
			}
		}
		if price < 0 {
			return fail("item %d ItemPrice is negative", i)
		}
		qty := it.QuantityOrdered
		if qty < 0 || qty > order.MaxQuantity {
			return fail("item %d QuantityOrdered %d is out of range", i, qty)
		}
		if qty == 0 {
			// Amazon reports cancelled items with quantity 0. A cancelled
			// order still needs its lines (the order service wants at
			// least one to record the cancellation), so each becomes one
			// cancelled unit; on a live order the item is simply gone.
			if !in.Cancelled {
				continue
			}
			qty = 1
		}
		// A promotion larger than the line's price would make the order
		// service reject the whole order; it cannot take off more than
		// the line costs.
		unit, disc := channels.SplitLine(price, qty, min(abs(promo), price))
		sku := strings.TrimSpace(it.SellerSKU)
		if sku == "" {
			sku = "amazon-asin-" + strings.TrimSpace(it.ASIN)
		}
		line := order.LineInput{
			SKU:        clip(sku, 64),
			Name:       clip(it.Title, 255),
			ExternalID: strings.TrimSpace(it.OrderItemID),
			Quantity:   qty,
			UnitPrice:  amount(unit, cur),
		}
		if disc != 0 {
			line.Discount = amount(disc, cur)
		}
		if t := tax - abs(promoTax); t > 0 {
			line.TaxLines = []order.TaxInput{{Title: "Tax", Amount: amount(t, cur)}}
		}
		in.Lines = append(in.Lines, line)

		if it.ShippingPrice != nil || it.ShippingTax != nil {
			hasShipping = true
		}
		shipPrice += sp - abs(sd)
		shipTax += st - abs(sdt)
		if c := it.BuyerRequestedCancel; c != nil && bool(c.IsBuyerRequestedCancel) {
			note := "The buyer asked to cancel " + line.SKU
			if r := strings.TrimSpace(c.BuyerCancelReason); r != "" {
				note += ": " + r
			}
			cancelNotes = append(cancelNotes, note)
		}
	}
	if hasShipping {
		s := order.ShippingInput{
			Title: clip(channels.FirstNonEmpty(o.ShipServiceLevel, o.ShipmentServiceLevelCategory, "Shipping"), 255),
			Code:  clip(o.ShipmentServiceLevelCategory, 100),
			// A shipping discount larger than the price would make a
			// negative charge, which no order can hold: it is capped at 0.
			Price: amount(max(shipPrice, 0), cur),
		}
		if shipTax > 0 {
			s.TaxLines = []order.TaxInput{{Title: "Shipping tax", Amount: amount(shipTax, cur)}}
		}
		in.ShippingLines = []order.ShippingInput{s}
	}
	if len(cancelNotes) > 0 {
		if in.Cancelled {
			in.CancelReason = "customer"
		} else {
			in.Tags = append(in.Tags, "cancel-requested")
		}
		in.Note = clip(strings.Join(cancelNotes, "\n"), 5000)
	}
	return in, nil
}

// currencyOf is the order's currency: OrderTotal's, else the first priced
// item's, else the marketplace's (Pending orders have no prices at all).
func currencyOf(o apiOrder, items []apiOrderItem) string {
	norm := func(c string) string {
		c = strings.ToUpper(strings.TrimSpace(c))
		if money.ValidCurrency(c) {
			return c
		}
		return ""
	}
	if o.OrderTotal != nil {
		if c := norm(o.OrderTotal.CurrencyCode); c != "" {
			return c
		}
	}
	for _, it := range items {
		for _, m := range []*apiMoney{it.ItemPrice, it.ShippingPrice, it.ItemTax} {
			if m != nil {
				if c := norm(m.CurrencyCode); c != "" {
					return c
				}
			}
		}
	}
	return spapi.Marketplaces[strings.TrimSpace(o.MarketplaceID)].Currency
}

// parseMoney reads an Amazon Money in the order's currency, in minor units.
// Nil or empty is zero. Amazon writes some zero-decimal currencies with
// decimals ("1500.00" JPY): trailing zeros beyond the currency's digits are
// dropped, anything else there is an error, never rounded.
func parseMoney(m *apiMoney, cur string) (int64, error) {
	if m == nil {
		return 0, nil
	}
	if c := strings.ToUpper(strings.TrimSpace(m.CurrencyCode)); c != "" && c != cur {
		return 0, fmt.Errorf("amount in %s on an order in %s", c, cur)
	}
	return channels.Minor(string(m.Amount), cur)
}

func amount(minor int64, cur string) string {
	return money.Amount{Minor: minor, Currency: cur}.String()
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// clip trims s and cuts it to at most n runes, so that a long product title
// never makes the order service reject a whole order.
func clip(s string, n int) string {
	return strings.TrimSpace(channels.Clip(strings.TrimSpace(s), n))
}
