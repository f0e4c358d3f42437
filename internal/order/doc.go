package order

import (
	"time"

	"github.com/waybill/waybill/internal/money"
)

// Doc is an order as the API shows it and as events carry it. Amounts are
// decimal strings in the order's currency.
type Doc struct {
	ID                string            `json:"id" doc:"Waybill's id of the order."`
	Channel           string            `json:"channel" doc:"Where the order came from: api, csv, shopify, …"`
	ChannelID         string            `json:"channel_id,omitempty" doc:"The channel connection it arrived through."`
	ExternalID        string            `json:"external_id" doc:"The channel's id of the order; unique per channel."`
	Number            string            `json:"number" doc:"The order number people see, e.g. #1001."`
	Status            Status            `json:"status" enum:"open,cancelled,closed"`
	FulfillmentStatus FulfillmentStatus `json:"fulfillment_status" enum:"unfulfilled,partially_fulfilled,fulfilled"`
	OnHold            bool              `json:"on_hold"`
	Holds             []HoldDoc         `json:"holds" doc:"Active holds; the order is not fulfilled while any remains."`
	PlacedAt          time.Time         `json:"placed_at"`
	CreatedAt         time.Time         `json:"created_at"`
	UpdatedAt         time.Time         `json:"updated_at"`
	Currency          string            `json:"currency" doc:"ISO 4217."`
	Customer          Customer          `json:"customer"`
	ShippingAddress   *Address          `json:"shipping_address,omitempty"`
	BillingAddress    *Address          `json:"billing_address,omitempty"`
	Lines             []LineDoc         `json:"lines"`
	ShippingLines     []ShippingDoc     `json:"shipping_lines"`
	TaxesIncluded     bool              `json:"taxes_included"`
	SubtotalPrice     string            `json:"subtotal_price" doc:"Lines less their discounts."`
	TotalShipping     string            `json:"total_shipping"`
	TotalTax          string            `json:"total_tax"`
	TotalDiscounts    string            `json:"total_discounts"`
	TotalPrice        string            `json:"total_price" doc:"subtotal + shipping + tax (tax not added again when taxes_included)."`
	PaymentStatus     string            `json:"payment_status,omitempty"`
	RiskLevel         string            `json:"risk_level,omitempty"`
	Tags              []string          `json:"tags"`
	Note              string            `json:"note,omitempty"`
	CancelledAt       *time.Time        `json:"cancelled_at,omitempty"`
	CancelReason      string            `json:"cancel_reason,omitempty"`
}

// LineDoc is a line as the API shows it.
type LineDoc struct {
	ID          string       `json:"id"`
	SKU         string       `json:"sku"`
	Name        string       `json:"name,omitempty"`
	ProductID   string       `json:"product_id,omitempty"`
	ExternalID  string       `json:"external_id,omitempty"`
	Quantity    int64        `json:"quantity" doc:"Ordered, less what was cancelled."`
	Cancelled   int64        `json:"cancelled_quantity"`
	Fulfilled   int64        `json:"fulfilled_quantity"`
	Reserved    int64        `json:"reserved" doc:"Units holding stock now."`
	Backordered int64        `json:"backordered" doc:"Units owed that no stock could be reserved for yet."`
	FacilityID  string       `json:"facility_id,omitempty" doc:"Where the line's stock is reserved."`
	UnitPrice   string       `json:"unit_price"`
	Discount    string       `json:"discount"`
	TaxLines    []TaxLineDoc `json:"tax_lines"`
}

// TaxLineDoc is a tax as the API shows it.
type TaxLineDoc struct {
	Title  string `json:"title"`
	Rate   string `json:"rate,omitempty"`
	Amount string `json:"amount"`
}

// ShippingDoc is a shipping line as the API shows it.
type ShippingDoc struct {
	Title    string       `json:"title"`
	Code     string       `json:"code,omitempty"`
	Price    string       `json:"price"`
	TaxLines []TaxLineDoc `json:"tax_lines"`
}

// HoldDoc is an active hold.
type HoldDoc struct {
	ID        string     `json:"id"`
	Reason    HoldReason `json:"reason"`
	Note      string     `json:"note,omitempty"`
	CreatedBy string     `json:"created_by,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// Doc returns the order as the API shows it.
func (o *Order) Doc() Doc {
	amt := func(v int64) string { return money.Amount{Minor: v, Currency: o.Currency}.String() }
	taxes := func(ts []TaxLine) []TaxLineDoc {
		out := make([]TaxLineDoc, 0, len(ts))
		for _, t := range ts {
			out = append(out, TaxLineDoc{Title: t.Title, Rate: t.Rate, Amount: amt(t.Amount)})
		}
		return out
	}
	d := Doc{ID: o.ID, Channel: o.Channel, ChannelID: o.ChannelID, ExternalID: o.ExternalID, Number: o.Number, Status: o.Status,
		FulfillmentStatus: o.Fulfillment, OnHold: o.OnHold(), Holds: []HoldDoc{}, PlacedAt: o.PlacedAt, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		Currency: o.Currency, Customer: o.Customer, ShippingAddress: o.ShippingAddress, BillingAddress: o.BillingAddress,
		Lines: []LineDoc{}, ShippingLines: []ShippingDoc{}, TaxesIncluded: o.TaxesIncluded,
		SubtotalPrice: amt(o.Subtotal), TotalShipping: amt(o.ShippingTotal), TotalTax: amt(o.TaxTotal), TotalDiscounts: amt(o.DiscountTotal), TotalPrice: amt(o.Total),
		PaymentStatus: o.PaymentStatus, RiskLevel: o.RiskLevel, Tags: o.Tags, Note: o.Note, CancelledAt: o.CancelledAt, CancelReason: o.CancelReason}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	for _, h := range o.Holds {
		d.Holds = append(d.Holds, HoldDoc{ID: h.ID, Reason: h.Reason, Note: h.Note, CreatedBy: h.CreatedBy, CreatedAt: h.CreatedAt})
	}
	for _, l := range o.Lines {
		d.Lines = append(d.Lines, LineDoc{ID: l.ID, SKU: l.SKU, Name: l.Name, ProductID: l.ProductID, ExternalID: l.ExternalID, Quantity: l.Quantity,
			Cancelled: l.Cancelled, Fulfilled: l.Fulfilled, Reserved: l.Reserved, Backordered: l.Backordered, FacilityID: l.FacilityID,
			UnitPrice: amt(l.UnitPrice), Discount: amt(l.Discount), TaxLines: taxes(l.TaxLines)})
	}
	for _, s := range o.ShippingLines {
		d.ShippingLines = append(d.ShippingLines, ShippingDoc{Title: s.Title, Code: s.Code, Price: amt(s.Price), TaxLines: taxes(s.TaxLines)})
	}
	return d
}
