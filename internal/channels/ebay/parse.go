package ebay

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/order"
)

// What eBay sends (Fulfillment API v1 Order), decoded without float64:
// amounts are decimal strings until money.Parse.

type apiAmount struct {
	Value    decimal `json:"value"`
	Currency string  `json:"currency"`
}

type decimal = channels.Decimal

type apiAddress struct {
	AddressLine1    string `json:"addressLine1"`
	AddressLine2    string `json:"addressLine2"`
	City            string `json:"city"`
	StateOrProvince string `json:"stateOrProvince"`
	PostalCode      string `json:"postalCode"`
	CountryCode     string `json:"countryCode"`
}

type apiContact struct {
	FullName       string      `json:"fullName"`
	CompanyName    string      `json:"companyName"`
	Email          string      `json:"email"`
	ContactAddress *apiAddress `json:"contactAddress"`
	PrimaryPhone   *struct {
		PhoneNumber string `json:"phoneNumber"`
	} `json:"primaryPhone"`
}

func (c *apiContact) phone() string {
	if c == nil || c.PrimaryPhone == nil {
		return ""
	}
	return c.PrimaryPhone.PhoneNumber
}

type apiTax struct {
	Amount  *apiAmount `json:"amount"`
	TaxType string     `json:"taxType"`
}

type apiLineItem struct {
	LineItemID             string     `json:"lineItemId"`
	LegacyItemID           string     `json:"legacyItemId"`
	LegacyVariationID      string     `json:"legacyVariationId"`
	SKU                    string     `json:"sku"`
	Title                  string     `json:"title"`
	Quantity               int64      `json:"quantity"`
	LineItemCost           *apiAmount `json:"lineItemCost"`
	DiscountedLineItemCost *apiAmount `json:"discountedLineItemCost"`
	AppliedPromotions      []struct {
		DiscountAmount *apiAmount `json:"discountAmount"`
	} `json:"appliedPromotions"`
	DeliveryCost *struct {
		ShippingCost *apiAmount `json:"shippingCost"`
	} `json:"deliveryCost"`
	Taxes                    []apiTax `json:"taxes"`
	EbayCollectAndRemitTaxes []apiTax `json:"ebayCollectAndRemitTaxes"`
}

type apiOrder struct {
	OrderID            string `json:"orderId"`
	LegacyOrderID      string `json:"legacyOrderId"`
	CreationDate       string `json:"creationDate"`
	LastModifiedDate   string `json:"lastModifiedDate"`
	OrderPaymentStatus string `json:"orderPaymentStatus"`
	BuyerCheckoutNotes string `json:"buyerCheckoutNotes"`
	Buyer              *struct {
		Username                 string      `json:"username"`
		BuyerRegistrationAddress *apiContact `json:"buyerRegistrationAddress"`
	} `json:"buyer"`
	CancelStatus *struct {
		CancelState    string `json:"cancelState"`
		CancelRequests []struct {
			CancelInitiator string `json:"cancelInitiator"`
			CancelReason    string `json:"cancelReason"`
		} `json:"cancelRequests"`
	} `json:"cancelStatus"`
	PricingSummary *struct {
		Total            *apiAmount `json:"total"`
		DeliveryCost     *apiAmount `json:"deliveryCost"`
		DeliveryDiscount *apiAmount `json:"deliveryDiscount"`
	} `json:"pricingSummary"`
	FulfillmentStartInstructions []struct {
		EbaySupportedFulfillment bool `json:"ebaySupportedFulfillment"`
		ShippingStep             *struct {
			ShippingServiceCode string      `json:"shippingServiceCode"`
			ShipTo              *apiContact `json:"shipTo"`
			ShipToReferenceID   string      `json:"shipToReferenceId"`
		} `json:"shippingStep"`
	} `json:"fulfillmentStartInstructions"`
	LineItems []apiLineItem `json:"lineItems"`
}

type ordersPage struct {
	Orders []apiOrder `json:"orders"`
	Next   string     `json:"next"`
	Total  int        `json:"total"`
	Offset int        `json:"offset"`
	Limit  int        `json:"limit"`
}

// parseOrders reads a getOrders response (OrderSearchPagedCollection).
func parseOrders(body []byte) (ordersPage, error) {
	var p ordersPage
	if err := json.Unmarshal(body, &p); err != nil {
		return ordersPage{}, fmt.Errorf("getOrders response: %w", err)
	}
	for i, o := range p.Orders {
		if strings.TrimSpace(o.OrderID) == "" {
			return ordersPage{}, fmt.Errorf("getOrders response: order %d has no orderId", i)
		}
	}
	return p, nil
}

const maxMinor = channels.MaxMinor

// toInput turns an eBay order into what the order service takes.
//
// Prices: lineItemCost is the line's price before discounts (unit price ×
// quantity, eBay says). The unit price is lineItemCost / quantity; should
// that ever not divide exactly, it is rounded up to the next minor unit and
// the overshoot is added to the line's discount, so quantity × unit price −
// discount is still exactly what eBay charged. The discount is lineItemCost −
// discountedLineItemCost when eBay sends the latter, else the sum of the
// applied promotions.
//
// Taxes: eBay adds tax on top of prices (TaxesIncluded is false). A line's
// taxes are its ebayCollectAndRemitTaxes, or its taxes when there are none:
// eBay may list the same collect-and-remit tax in both, and it must not
// count twice. Shipping is pricingSummary.deliveryCost less
// deliveryDiscount, as one line named after the shipping service.
func toInput(o apiOrder) (order.Input, error) {
	id := strings.TrimSpace(o.OrderID)
	fail := func(format string, args ...any) (order.Input, error) {
		return order.Input{}, fmt.Errorf("ebay order %s: %s", id, fmt.Sprintf(format, args...))
	}
	in := order.Input{
		Channel:          "ebay",
		ExternalID:       id,
		Number:           clip(id, 40),
		AllowUnknownSKUs: true,
	}
	placed, err := channels.UTC(o.CreationDate)
	if err != nil {
		return fail("creationDate: %v", err)
	}
	updated, err := channels.UTC(o.LastModifiedDate)
	if err != nil {
		return fail("lastModifiedDate: %v", err)
	}
	in.PlacedAt, in.UpdatedAt = &placed, &updated

	cur := currencyOf(o)
	if cur == "" {
		return fail("no currency in pricingSummary or line items")
	}
	in.Currency = cur

	switch o.OrderPaymentStatus {
	case "PAID":
		in.PaymentStatus = "paid"
	case "PENDING", "FAILED":
		// FAILED: the buyer's payment did not go through; nothing may ship
		// until it does, so it counts as pending (and holds the order).
		in.PaymentStatus = "pending"
	case "PARTIALLY_REFUNDED":
		in.PaymentStatus = "partially_refunded"
	case "FULLY_REFUNDED":
		in.PaymentStatus = "refunded"
	}
	if cs := o.CancelStatus; cs != nil {
		switch cs.CancelState {
		case "CANCELED":
			in.Cancelled = true
			in.CancelReason = "other"
			if len(cs.CancelRequests) > 0 {
				switch strings.ToLower(cs.CancelRequests[0].CancelInitiator) {
				case "buyer":
					in.CancelReason = "customer"
				case "seller":
					in.CancelReason = "staff"
				}
			}
		case "IN_PROGRESS":
			in.Tags = append(in.Tags, "cancel-requested")
		}
	}

	var notes []string
	if n := strings.TrimSpace(o.BuyerCheckoutNotes); n != "" {
		notes = append(notes, n)
	}
	var shipTo *apiContact
	shipService := ""
	gsp := false
	if len(o.FulfillmentStartInstructions) > 0 {
		fi := o.FulfillmentStartInstructions[0]
		if st := fi.ShippingStep; st != nil {
			shipTo, shipService = st.ShipTo, strings.TrimSpace(st.ShippingServiceCode)
			if ref := strings.TrimSpace(st.ShipToReferenceID); ref != "" {
				// The Global Shipping Program's hub needs this reference on
				// the label, just above the street address.
				notes = append(notes, "Global Shipping Program reference #"+ref+": print it on the label above the address.")
			}
		}
		if fi.EbaySupportedFulfillment {
			// We ship to eBay's shipping partner (shipTo), who delivers to
			// the buyer: shipTo is the address, but not the customer.
			gsp = true
			in.Tags = append(in.Tags, "GSP")
		}
	}
	if shipTo != nil && shipTo.ContactAddress != nil {
		a := shipTo.ContactAddress
		in.ShippingAddress = channels.Address(order.Address{
			Name:       shipTo.FullName,
			Company:    shipTo.CompanyName,
			Line1:      a.AddressLine1,
			Line2:      a.AddressLine2,
			City:       a.City,
			Region:     a.StateOrProvince,
			PostalCode: a.PostalCode,
			Country:    a.CountryCode,
			Phone:      shipTo.phone(),
		})
	}
	var reg *apiContact
	username := ""
	if o.Buyer != nil {
		reg, username = o.Buyer.BuyerRegistrationAddress, o.Buyer.Username
	}
	buyerShipTo := shipTo
	if gsp {
		buyerShipTo = nil
	}
	in.Customer = channels.Customer(
		channels.FirstNonEmpty(contactName(reg), contactName(buyerShipTo), username),
		channels.FirstNonEmpty(contactEmail(reg), contactEmail(buyerShipTo)),
		channels.FirstNonEmpty(reg.phone(), buyerShipTo.phone()),
	)
	if len(notes) > 0 {
		in.Note = clip(strings.Join(notes, "\n"), 5000)
	}

	var lineShipping int64
	hasLineShipping := false
	for i, li := range o.LineItems {
		m := func(name string, a *apiAmount) (int64, error) {
			n, err := parseAmount(a, cur)
			if err != nil {
				return 0, fmt.Errorf("line item %d %s: %w", i, name, err)
			}
			return n, nil
		}
		cost, err := m("lineItemCost", li.LineItemCost)
		if err != nil {
			return fail("%v", err)
		}
		if cost < 0 {
			return fail("line item %d lineItemCost is negative", i)
		}
		var discount int64
		if li.DiscountedLineItemCost != nil {
			d, err := m("discountedLineItemCost", li.DiscountedLineItemCost)
			if err != nil {
				return fail("%v", err)
			}
			discount = max(cost-d, 0)
		} else {
			for _, p := range li.AppliedPromotions {
				d, err := m("appliedPromotions.discountAmount", p.DiscountAmount)
				if err != nil {
					return fail("%v", err)
				}
				discount += abs(d) // eBay writes some discounts as negative numbers
			}
		}
		taxes := li.EbayCollectAndRemitTaxes
		if len(taxes) == 0 {
			taxes = li.Taxes
		}
		var taxLines []order.TaxInput
		for _, t := range taxes {
			n, err := m("tax", t.Amount)
			if err != nil {
				return fail("%v", err)
			}
			if n > 0 {
				taxLines = append(taxLines, order.TaxInput{Title: clip(channels.FirstNonEmpty(t.TaxType, "Tax"), 100), Amount: amount(n, cur)})
			}
		}
		if li.DeliveryCost != nil && li.DeliveryCost.ShippingCost != nil {
			n, err := m("deliveryCost.shippingCost", li.DeliveryCost.ShippingCost)
			if err != nil {
				return fail("%v", err)
			}
			lineShipping += n
			hasLineShipping = true
		}
		qty := li.Quantity
		if qty < 0 || qty > order.MaxQuantity {
			return fail("line item %d quantity %d is out of range", i, qty)
		}
		if qty == 0 {
			if !in.Cancelled {
				continue
			}
			qty = 1 // a cancelled order still needs its lines to record the cancellation
		}
		// A discount can take off at most what the line costs.
		unit, disc := channels.SplitLine(cost, qty, min(discount, cost))
		line := order.LineInput{
			SKU:        clip(skuOf(li), 64),
			Name:       clip(li.Title, 255),
			ExternalID: strings.TrimSpace(li.LineItemID),
			Quantity:   qty,
			UnitPrice:  amount(unit, cur),
			TaxLines:   taxLines,
		}
		if disc != 0 {
			line.Discount = amount(disc, cur)
		}
		in.Lines = append(in.Lines, line)
	}

	var ship int64
	hasShipping := false
	if ps := o.PricingSummary; ps != nil && ps.DeliveryCost != nil {
		cost, err := parseAmount(ps.DeliveryCost, cur)
		if err != nil {
			return fail("pricingSummary.deliveryCost: %v", err)
		}
		disc, err := parseAmount(ps.DeliveryDiscount, cur)
		if err != nil {
			return fail("pricingSummary.deliveryDiscount: %v", err)
		}
		ship, hasShipping = cost-abs(disc), true
	} else if hasLineShipping {
		ship, hasShipping = lineShipping, true
	}
	if hasShipping {
		in.ShippingLines = []order.ShippingInput{{
			Title: clip(channels.FirstNonEmpty(shipService, "Shipping"), 255),
			Code:  clip(shipService, 100),
			Price: amount(max(ship, 0), cur),
		}}
	}
	return in, nil
}

// skuOf is the line's SKU, or one made from the listing when the seller
// gave none (SKUs are optional on eBay): ebay-item-<legacyItemId>, with
// -<legacyVariationId> for a variation so that variations stay apart.
func skuOf(li apiLineItem) string {
	if s := strings.TrimSpace(li.SKU); s != "" {
		return s
	}
	s := "ebay-item-" + strings.TrimSpace(li.LegacyItemID)
	if v := strings.TrimSpace(li.LegacyVariationID); v != "" {
		s += "-" + v
	}
	return s
}

func contactName(c *apiContact) string {
	if c == nil {
		return ""
	}
	return c.FullName
}

func contactEmail(c *apiContact) string {
	if c == nil {
		return ""
	}
	return cleanEmail(c.Email)
}

// currencyOf is the order's currency: pricingSummary.total's, else the
// first line's.
func currencyOf(o apiOrder) string {
	var cands []*apiAmount
	if o.PricingSummary != nil {
		cands = append(cands, o.PricingSummary.Total)
	}
	for _, li := range o.LineItems {
		cands = append(cands, li.LineItemCost)
	}
	for _, a := range cands {
		if a == nil {
			continue
		}
		if c := strings.ToUpper(strings.TrimSpace(a.Currency)); money.ValidCurrency(c) {
			return c
		}
	}
	return ""
}

// parseAmount reads an eBay Amount in the order's currency, in minor units;
// nil or empty is zero. Extra trailing zeros ("0.0" shipping, "1500.00" JPY)
// are dropped; any other digit beyond the currency's is an error.
func parseAmount(a *apiAmount, cur string) (int64, error) {
	if a == nil {
		return 0, nil
	}
	if c := strings.ToUpper(strings.TrimSpace(a.Currency)); c != "" && c != cur {
		return 0, fmt.Errorf("amount in %s on an order in %s", c, cur)
	}
	return channels.Minor(string(a.Value), cur)
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

// clip trims s and cuts it to at most n runes, so that a long title never
// makes the order service reject a whole order.
func clip(s string, n int) string {
	return strings.TrimSpace(channels.Clip(strings.TrimSpace(s), n))
}

// cleanEmail keeps an address that looks like one: eBay masks a buyer's
// e-mail 14 days after the order with placeholders such as "Invalid
// Request", which must not hide a real address given elsewhere.
func cleanEmail(s string) string {
	return channels.Customer("", s, "").Email
}
