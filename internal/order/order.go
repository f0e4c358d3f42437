// Package order is the order: what a customer bought on a channel, its
// lifecycle (open, cancelled, closed) with holds, edits and cancellation, and
// the stock it holds. Orders arrive through the API, CSV files and channel
// connections; every path hands this package an Input.
package order

import (
	"time"
)

// Status is an order's lifecycle state (Shopify's names).
type Status string

const (
	Open      Status = "open"
	Cancelled Status = "cancelled"
	Closed    Status = "closed"
)

// FulfillmentStatus is derived from the order's lines.
type FulfillmentStatus string

const (
	Unfulfilled        FulfillmentStatus = "unfulfilled"
	PartiallyFulfilled FulfillmentStatus = "partially_fulfilled"
	Fulfilled          FulfillmentStatus = "fulfilled"
)

// HoldReason is why an order must not be fulfilled yet (Shopify's reasons).
type HoldReason string

const (
	AwaitingPayment      HoldReason = "AWAITING_PAYMENT"
	AwaitingReturnItems  HoldReason = "AWAITING_RETURN_ITEMS"
	HighRiskOfFraud      HoldReason = "HIGH_RISK_OF_FRAUD"
	IncorrectAddress     HoldReason = "INCORRECT_ADDRESS"
	InventoryOutOfStock  HoldReason = "INVENTORY_OUT_OF_STOCK"
	UnknownDeliveryDate  HoldReason = "UNKNOWN_DELIVERY_DATE"
	OnlineStoreCrossSell HoldReason = "ONLINE_STORE_POST_PURCHASE_CROSS_SELL"
	OtherHold            HoldReason = "OTHER"
)

// HoldReasons lists every reason, in the order the dashboard offers them.
var HoldReasons = []HoldReason{AwaitingPayment, HighRiskOfFraud, IncorrectAddress, InventoryOutOfStock, UnknownDeliveryDate, AwaitingReturnItems, OnlineStoreCrossSell, OtherHold}

// PaymentStatuses are the payment states a channel may report (Shopify's
// financial_status names); empty means the channel did not say.
var PaymentStatuses = []string{"pending", "authorized", "partially_paid", "paid", "partially_refunded", "refunded", "voided"}

// RiskLevels a channel or a person may give an order.
var RiskLevels = []string{"low", "medium", "high"}

// Address is a postal address. Text is kept exactly as given (any script).
type Address struct {
	Name       string `json:"name" required:"false"`
	Company    string `json:"company,omitempty"`
	Line1      string `json:"line1" required:"false"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city" required:"false"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country" required:"false" doc:"ISO 3166-1 alpha-2, e.g. US."`
	Phone      string `json:"phone,omitempty"`
}

// Customer is who placed the order.
type Customer struct {
	Name  string `json:"name" required:"false"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// TaxLine is one tax charged on a line or on shipping. Amounts are minor
// units of the order's currency; Rate is a decimal fraction ("0.2").
type TaxLine struct {
	Title  string `json:"title"`
	Rate   string `json:"rate,omitempty"`
	Amount int64  `json:"amount"`
}

// Line is one SKU on an order.
type Line struct {
	ID         string
	LineNo     int
	ProductID  string
	SKU        string
	Name       string
	ExternalID string
	Quantity   int64 // ordered, less what was cancelled
	Cancelled  int64
	Fulfilled  int64
	Reserved   int64
	// Backordered is what is still owed but could not be reserved.
	Backordered int64
	UnitPrice   int64
	Discount    int64 // total discount on the line
	TaxLines    []TaxLine
	FacilityID  string // where its stock is reserved (the latest allocation)
}

// Open is what is still to fulfil of the line.
func (l Line) Open() int64 { return l.Quantity - l.Fulfilled }

// Tax is the line's total tax.
func (l Line) Tax() int64 { return sumTax(l.TaxLines) }

// ShippingLine is a shipping method the customer chose and paid for.
type ShippingLine struct {
	Title    string    `json:"title"`
	Code     string    `json:"code,omitempty"` // requested service, e.g. "ups_ground"
	Price    int64     `json:"price"`
	TaxLines []TaxLine `json:"tax_lines,omitempty"`
}

// Hold stops an order from being fulfilled until it is released.
type Hold struct {
	ID         string
	Reason     HoldReason
	Note       string
	CreatedBy  string
	CreatedAt  time.Time
	ReleasedAt *time.Time
	ReleasedBy string
}

// Order is a customer's order.
type Order struct {
	ID         string
	TenantID   string
	Channel    string // "api", "csv", "shopify", …
	ChannelID  string // the channel connection it came through, if any
	ExternalID string
	Number     string // what people see, e.g. "#1001"
	PlacedAt   time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// ChannelUpdatedAt is the channel's own last-change time; older
	// updates arriving late are ignored.
	ChannelUpdatedAt *time.Time
	Currency         string
	Customer         Customer
	ShippingAddress  *Address
	BillingAddress   *Address
	Lines            []Line
	ShippingLines    []ShippingLine
	TaxesIncluded    bool
	Subtotal         int64 // Σ quantity × unit price − line discounts
	ShippingTotal    int64
	TaxTotal         int64
	DiscountTotal    int64
	Total            int64
	PaymentStatus    string
	Tags             []string
	Note             string
	RiskLevel        string
	Status           Status
	Fulfillment      FulfillmentStatus
	Holds            []Hold // active holds
	CancelledAt      *time.Time
	CancelReason     string
}

// OnHold reports whether any hold is active.
func (o *Order) OnHold() bool { return len(o.Holds) > 0 }

// HasHold reports whether a hold with reason is active.
func (o *Order) HasHold(r HoldReason) bool {
	for _, h := range o.Holds {
		if h.Reason == r {
			return true
		}
	}
	return false
}

// Line returns the line with id.
func (o *Order) Line(id string) (*Line, bool) {
	for i := range o.Lines {
		if o.Lines[i].ID == id {
			return &o.Lines[i], true
		}
	}
	return nil, false
}

// Event is one entry of an order's timeline: who did what, when.
type Event struct {
	ID      string
	OrderID string
	At      time.Time
	Actor   string
	Kind    string // created, updated, hold_added, hold_released, cancelled, …
	Message string
	Data    map[string]any
}

func sumTax(ts []TaxLine) int64 {
	var n int64
	for _, t := range ts {
		n += t.Amount
	}
	return n
}

// computeTotals recomputes every total from the lines and shipping lines.
func (o *Order) computeTotals() {
	o.Subtotal, o.TaxTotal, o.DiscountTotal, o.ShippingTotal = 0, 0, 0, 0
	for _, l := range o.Lines {
		if l.Quantity == 0 {
			continue
		}
		o.Subtotal += l.Quantity*l.UnitPrice - l.Discount
		o.DiscountTotal += l.Discount
		o.TaxTotal += l.Tax()
	}
	for _, s := range o.ShippingLines {
		o.ShippingTotal += s.Price
		o.TaxTotal += sumTax(s.TaxLines)
	}
	o.Total = o.Subtotal + o.ShippingTotal
	if !o.TaxesIncluded {
		o.Total += o.TaxTotal
	}
}

// deriveFulfillment sets Fulfillment from the lines.
func (o *Order) deriveFulfillment() {
	var qty, done int64
	for _, l := range o.Lines {
		qty += l.Quantity
		done += l.Fulfilled
	}
	switch {
	case qty > 0 && done >= qty:
		o.Fulfillment = Fulfilled
	case done > 0:
		o.Fulfillment = PartiallyFulfilled
	default:
		o.Fulfillment = Unfulfilled
	}
}
