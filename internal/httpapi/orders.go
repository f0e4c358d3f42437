package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

// Wire shapes of order input; amounts are decimal strings.

// TaxLineIn is a tax on a line or a shipping line.
type TaxLineIn struct {
	Title  string `json:"title" maxLength:"100"`
	Rate   string `json:"rate,omitempty" doc:"Decimal fraction, e.g. \"0.2\"."`
	Amount string `json:"amount" doc:"Decimal string in the order's currency."`
}

// OrderLineIn is a line of a new order (or one added by an edit).
type OrderLineIn struct {
	SKU        string      `json:"sku" maxLength:"64"`
	Name       string      `json:"name,omitempty" maxLength:"255"`
	ExternalID string      `json:"external_id,omitempty" maxLength:"100" doc:"The channel's id of the line."`
	Quantity   int64       `json:"quantity"`
	UnitPrice  string      `json:"unit_price" example:"19.99"`
	Discount   string      `json:"discount,omitempty" doc:"Total discount on the line." example:"2.00"`
	TaxLines   []TaxLineIn `json:"tax_lines,omitempty"`
}

// ShippingLineIn is a shipping method the customer chose.
type ShippingLineIn struct {
	Title    string      `json:"title" maxLength:"255" example:"Standard"`
	Code     string      `json:"code,omitempty" maxLength:"100" example:"ups_ground"`
	Price    string      `json:"price" example:"4.99"`
	TaxLines []TaxLineIn `json:"tax_lines,omitempty"`
}

// OrderIn is a new order.
type OrderIn struct {
	Channel         string           `json:"channel,omitempty" doc:"Where the order came from (default api)." example:"web"`
	ExternalID      string           `json:"external_id,omitempty" doc:"Your id of the order; the same channel and external_id again returns the stored order."`
	Number          string           `json:"number,omitempty" doc:"Order number shown to people; #1001, #1002 … when absent."`
	PlacedAt        *time.Time       `json:"placed_at,omitempty"`
	Currency        string           `json:"currency" example:"USD"`
	Customer        order.Customer   `json:"customer"`
	ShippingAddress *order.Address   `json:"shipping_address,omitempty"`
	BillingAddress  *order.Address   `json:"billing_address,omitempty"`
	Lines           []OrderLineIn    `json:"lines"`
	ShippingLines   []ShippingLineIn `json:"shipping_lines,omitempty"`
	TaxesIncluded   bool             `json:"taxes_included,omitempty"`
	TotalPrice      string           `json:"total_price,omitempty" doc:"When given, must equal lines + shipping + tax − discounts."`
	PaymentStatus   string           `json:"payment_status,omitempty" enum:"pending,authorized,partially_paid,paid,partially_refunded,refunded,voided" doc:"pending puts the order on an AWAITING_PAYMENT hold."`
	RiskLevel       string           `json:"risk_level,omitempty" enum:"low,medium,high" doc:"high puts the order on a HIGH_RISK_OF_FRAUD hold."`
	Tags            []string         `json:"tags,omitempty"`
	Note            string           `json:"note,omitempty"`
}

func taxesIn(ts []TaxLineIn) []order.TaxInput {
	var out []order.TaxInput
	for _, t := range ts {
		out = append(out, order.TaxInput{Title: t.Title, Rate: t.Rate, Amount: t.Amount})
	}
	return out
}

func linesIn(ls []OrderLineIn) []order.LineInput {
	var out []order.LineInput
	for _, l := range ls {
		out = append(out, order.LineInput{SKU: l.SKU, Name: l.Name, ExternalID: l.ExternalID, Quantity: l.Quantity, UnitPrice: l.UnitPrice, Discount: l.Discount, TaxLines: taxesIn(l.TaxLines)})
	}
	return out
}

func (b OrderIn) input() order.Input {
	in := order.Input{Channel: b.Channel, ExternalID: b.ExternalID, Number: b.Number, PlacedAt: b.PlacedAt, Currency: b.Currency, Customer: b.Customer,
		ShippingAddress: b.ShippingAddress, BillingAddress: b.BillingAddress, Lines: linesIn(b.Lines), TaxesIncluded: b.TaxesIncluded,
		Total: b.TotalPrice, PaymentStatus: b.PaymentStatus, RiskLevel: b.RiskLevel, Tags: b.Tags, Note: b.Note}
	for _, s := range b.ShippingLines {
		in.ShippingLines = append(in.ShippingLines, order.ShippingInput{Title: s.Title, Code: s.Code, Price: s.Price, TaxLines: taxesIn(s.TaxLines)})
	}
	return in
}

type orderOut struct {
	Status int `json:"-"`
	Body   order.Doc
}

func (a *API) createOrder(ctx context.Context, in *struct{ Body OrderIn }) (*orderOut, error) {
	o, created, err := a.d.Orders.Create(ctx, principal(ctx).TenantID, in.Body.input(), actor(ctx))
	if err != nil {
		return nil, err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK // the same order again: the stored one, unchanged
	}
	a.d.Wake()
	return &orderOut{Status: status, Body: o.Doc()}, nil
}

type orderIDInput struct {
	ID string `path:"id" maxLength:"64"`
}

func (a *API) getOrder(ctx context.Context, in *orderIDInput) (*orderOut, error) {
	o, err := a.d.Orders.Get(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &orderOut{Status: http.StatusOK, Body: o.Doc()}, nil
}

func (a *API) listOrders(ctx context.Context, in *struct {
	Cursor            string    `query:"cursor" doc:"Opaque cursor from the previous page's next_cursor."`
	Limit             int       `query:"limit" minimum:"1" maximum:"250" default:"50"`
	Status            string    `query:"status" enum:"open,cancelled,closed"`
	FulfillmentStatus string    `query:"fulfillment_status" enum:"unfulfilled,partially_fulfilled,fulfilled"`
	OnHold            string    `query:"on_hold" enum:"true,false"`
	HoldReason        string    `query:"hold_reason"`
	Channel           string    `query:"channel"`
	Since             time.Time `query:"since" doc:"Placed at or after."`
	Until             time.Time `query:"until" doc:"Placed before."`
	SKU               string    `query:"sku"`
	Email             string    `query:"email" doc:"Customer e-mail, exact (any case)."`
	Number            string    `query:"number" doc:"Order number, with or without #."`
	Tag               string    `query:"tag"`
	Country           string    `query:"country" doc:"Destination country (ISO 3166-1 alpha-2)."`
	Q                 string    `query:"q" doc:"Words matched as prefixes of the customer's name, e-mail, phone, order number, external id, SKUs, city and postal code."`
	Sort              string    `query:"sort" enum:"-placed_at,placed_at,-updated_at,updated_at,-total_price,total_price" default:"-placed_at"`
}) (*struct {
	Body struct {
		Items      []order.Doc `json:"items"`
		NextCursor string      `json:"next_cursor,omitempty"`
	}
}, error) {
	f := order.Filter{Status: order.Status(in.Status), Fulfillment: order.FulfillmentStatus(in.FulfillmentStatus), HoldReason: order.HoldReason(in.HoldReason),
		Channel: in.Channel, SKU: in.SKU, Email: in.Email, Number: in.Number, Tag: in.Tag, Country: in.Country, Query: in.Q, Sort: in.Sort, Limit: in.Limit}
	if in.OnHold != "" {
		v := in.OnHold == "true"
		f.OnHold = &v
	}
	if !in.Since.IsZero() {
		f.Since = &in.Since
	}
	if !in.Until.IsZero() {
		f.Until = &in.Until
	}
	os, next, err := a.d.Orders.List(ctx, principal(ctx).TenantID, f, in.Cursor)
	if err != nil {
		return nil, inQuery(err)
	}
	out := &struct {
		Body struct {
			Items      []order.Doc `json:"items"`
			NextCursor string      `json:"next_cursor,omitempty"`
		}
	}{}
	out.Body.Items = make([]order.Doc, 0, len(os))
	for i := range os {
		out.Body.Items = append(out.Body.Items, os[i].Doc())
	}
	out.Body.NextCursor = next
	return out, nil
}

// QuantityIn names a line and a quantity.
type QuantityIn struct {
	LineID   string `json:"line_id" maxLength:"64"`
	Quantity int64  `json:"quantity"`
}

func quantities(qs []QuantityIn) []order.QuantityChange {
	var out []order.QuantityChange
	for _, q := range qs {
		out = append(out, order.QuantityChange{LineID: q.LineID, Quantity: q.Quantity})
	}
	return out
}

func (a *API) cancelOrder(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Reason string       `json:"reason,omitempty" enum:"customer,fraud,inventory,declined,staff,other" default:"other"`
		Lines  []QuantityIn `json:"lines,omitempty" doc:"Cancel only these units; the whole order when absent."`
	}
}) (*orderOut, error) {
	o, err := a.d.Orders.Cancel(ctx, principal(ctx).TenantID, in.ID, order.CancelInput{Reason: in.Body.Reason, Lines: quantities(in.Body.Lines)}, actor(ctx))
	if err != nil {
		return nil, err
	}
	a.d.Wake()
	return &orderOut{Status: http.StatusOK, Body: o.Doc()}, nil
}

func (a *API) editOrder(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		AddLines        []OrderLineIn   `json:"add_lines,omitempty"`
		SetQuantities   []QuantityIn    `json:"set_quantities,omitempty" doc:"New quantity of a line; 0 removes it."`
		RemoveLines     []string        `json:"remove_lines,omitempty" doc:"Line ids."`
		ShippingAddress *order.Address  `json:"shipping_address,omitempty"`
		BillingAddress  *order.Address  `json:"billing_address,omitempty"`
		Customer        *order.Customer `json:"customer,omitempty"`
		Note            *string         `json:"note,omitempty"`
		Tags            *[]string       `json:"tags,omitempty"`
	}
}) (*orderOut, error) {
	b := in.Body
	o, err := a.d.Orders.Edit(ctx, principal(ctx).TenantID, in.ID, order.EditInput{AddLines: linesIn(b.AddLines), SetQuantities: quantities(b.SetQuantities),
		RemoveLines: b.RemoveLines, ShippingAddress: b.ShippingAddress, BillingAddress: b.BillingAddress, Customer: b.Customer, Note: b.Note, Tags: b.Tags}, actor(ctx))
	if err != nil {
		return nil, err
	}
	a.d.Wake()
	return &orderOut{Status: http.StatusOK, Body: o.Doc()}, nil
}

func (a *API) holdOrder(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Reason string `json:"reason" enum:"AWAITING_PAYMENT,HIGH_RISK_OF_FRAUD,INCORRECT_ADDRESS,INVENTORY_OUT_OF_STOCK,UNKNOWN_DELIVERY_DATE,AWAITING_RETURN_ITEMS,ONLINE_STORE_POST_PURCHASE_CROSS_SELL,OTHER"`
		Note   string `json:"note,omitempty" maxLength:"1000"`
	}
}) (*orderOut, error) {
	o, err := a.d.Orders.AddHold(ctx, principal(ctx).TenantID, in.ID, order.HoldReason(in.Body.Reason), in.Body.Note, actor(ctx))
	if err != nil {
		return nil, err
	}
	a.d.Wake()
	return &orderOut{Status: http.StatusOK, Body: o.Doc()}, nil
}

func (a *API) releaseOrderHold(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Reason string `json:"reason,omitempty" doc:"The hold's reason …"`
		HoldID string `json:"hold_id,omitempty" doc:"… or its id."`
	}
}) (*orderOut, error) {
	which := in.Body.HoldID
	if which == "" {
		which = in.Body.Reason
	}
	o, err := a.d.Orders.ReleaseHold(ctx, principal(ctx).TenantID, in.ID, which, actor(ctx))
	if err != nil {
		return nil, err
	}
	a.d.Wake()
	return &orderOut{Status: http.StatusOK, Body: o.Doc()}, nil
}

// TimelineEntry is one change in an order's history.
type TimelineEntry struct {
	ID      string         `json:"id"`
	At      time.Time      `json:"at"`
	Actor   string         `json:"actor" doc:"Who: user:…, key:…, system, or a channel."`
	Kind    string         `json:"kind" example:"hold_added"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data,omitempty"`
}

func (a *API) orderTimeline(ctx context.Context, in *orderIDInput) (*struct {
	Body struct {
		Items []TimelineEntry `json:"items"`
	}
}, error) {
	es, err := a.d.Orders.Timeline(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			Items []TimelineEntry `json:"items"`
		}
	}{}
	out.Body.Items = []TimelineEntry{}
	for _, e := range es {
		out.Body.Items = append(out.Body.Items, TimelineEntry{ID: e.ID, At: e.At, Actor: e.Actor, Kind: e.Kind, Message: e.Message, Data: e.Data})
	}
	return out, nil
}

// inQuery names a list's field errors as query parameters.
func inQuery(err error) error {
	var e *errs.Error
	if errors.As(err, &e) {
		for i := range e.Fields {
			if !strings.HasPrefix(e.Fields[i].Field, "query.") {
				e.Fields[i].Field = "query." + e.Fields[i].Field
			}
		}
	}
	return err
}
