package dispatch

import (
	"strings"
	"time"

	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/provider"
)

// Request is what a 3PL or supplier receives at
// <callback_url>/fulfillment_order_notification, signed with the
// connection's secret (Standard Webhooks). docs/3pl-protocol.md describes
// it for implementers.
type Request struct {
	// Kind is FULFILLMENT_REQUEST or CANCELLATION_REQUEST.
	Kind             string           `json:"kind"`
	SentAt           time.Time        `json:"sent_at"`
	Facility         string           `json:"facility"`
	FulfillmentOrder FulfillmentOrder `json:"fulfillment_order"`
	// Actions are the API calls that answer the request, with the 3PL's
	// facility-restricted API key.
	Actions map[string]string `json:"actions"`
}

// FulfillmentOrder is the work a request asks for.
type FulfillmentOrder struct {
	ID             string         `json:"id"`
	OrderID        string         `json:"order_id"`
	OrderNumber    string         `json:"order_number"`
	OrderedAt      time.Time      `json:"ordered_at"`
	Status         string         `json:"status"`
	RequestStatus  string         `json:"request_status"`
	Destination    Destination    `json:"destination"`
	ShippingMethod ShippingMethod `json:"shipping_method"`
	Lines          []Line         `json:"lines"`
	Note           string         `json:"note,omitempty"`
}

// Destination is where the parcel goes.
type Destination struct {
	Name       string `json:"name"`
	Company    string `json:"company,omitempty"`
	Address1   string `json:"address1"`
	Address2   string `json:"address2,omitempty"`
	City       string `json:"city"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country"`
	Phone      string `json:"phone,omitempty"`
	Email      string `json:"email,omitempty"`
}

// ShippingMethod is what the customer chose.
type ShippingMethod struct {
	Title string `json:"title,omitempty"`
	Code  string `json:"code,omitempty"`
	// Speed is standard, expedited or priority, read from the title/code.
	Speed string `json:"speed"`
}

// Line is units of one order line to ship.
type Line struct {
	LineID   string `json:"line_id"`
	SKU      string `json:"sku"`
	Name     string `json:"name,omitempty"`
	Quantity int64  `json:"quantity"`
}

// request builds the request for fo of o.
func (s *Service) request(o *order.Order, fo order.FulfillmentOrderView, cancel bool) Request {
	kind := "FULFILLMENT_REQUEST"
	if cancel {
		kind = "CANCELLATION_REQUEST"
	}
	r := Request{Kind: kind, SentAt: s.now(), Facility: fo.FacilityCode, FulfillmentOrder: FulfillmentOrder{
		ID: fo.ID, OrderID: o.ID, OrderNumber: o.Number, OrderedAt: o.PlacedAt, Status: string(fo.Status), RequestStatus: string(fo.RequestStatus),
		Note: o.Note, Lines: []Line{},
	}}
	if a := o.ShippingAddress; a != nil {
		r.FulfillmentOrder.Destination = Destination{Name: a.Name, Company: a.Company, Address1: a.Line1, Address2: a.Line2, City: a.City,
			Region: a.Region, PostalCode: a.PostalCode, Country: a.Country, Phone: a.Phone, Email: o.Customer.Email}
	}
	if r.FulfillmentOrder.Destination.Name == "" {
		r.FulfillmentOrder.Destination.Name = o.Customer.Name
	}
	sm := ShippingMethod{Speed: string(provider.Standard)}
	if len(o.ShippingLines) > 0 {
		sm.Title, sm.Code = o.ShippingLines[0].Title, o.ShippingLines[0].Code
		sm.Speed = string(speedOf(sm.Title + " " + sm.Code))
	}
	r.FulfillmentOrder.ShippingMethod = sm
	names := map[string]string{}
	for _, l := range o.Lines {
		names[l.ID] = l.Name
	}
	for _, l := range fo.Lines {
		if l.Quantity > 0 {
			r.FulfillmentOrder.Lines = append(r.FulfillmentOrder.Lines, Line{LineID: l.LineID, SKU: l.SKU, Name: names[l.LineID], Quantity: l.Quantity})
		}
	}
	base := strings.TrimRight(s.BaseURL, "/") + "/api/v1/fulfillment-orders/" + fo.ID
	if cancel {
		r.Actions = map[string]string{"accept_cancellation": base + "/accept_cancellation", "reject_cancellation": base + "/reject_cancellation"}
	} else {
		r.Actions = map[string]string{"accept": base + "/accept", "reject": base + "/reject", "fulfill": base + "/fulfill"}
	}
	return r
}

// speedOf reads a shipping speed from a shipping line's words.
func speedOf(s string) provider.Speed {
	s = strings.ToLower(s)
	switch {
	case strings.Contains(s, "overnight") || strings.Contains(s, "next day") || strings.Contains(s, "priority") || strings.Contains(s, "express"):
		return provider.Priority
	case strings.Contains(s, "expedited") || strings.Contains(s, "2 day") || strings.Contains(s, "2-day") || strings.Contains(s, "two day"):
		return provider.Expedited
	}
	return provider.Standard
}

// providerRequest is r in a provider adapter's terms.
func providerRequest(r Request) provider.Request {
	fo := r.FulfillmentOrder
	d := fo.Destination
	p := provider.Request{ID: fo.ID, OrderNumber: fo.OrderNumber, OrderedAt: fo.OrderedAt, Email: d.Email, Speed: provider.Speed(fo.ShippingMethod.Speed), Note: fo.Note,
		ShipTo: provider.Address{Name: d.Name, Company: d.Company, Line1: d.Address1, Line2: d.Address2, City: d.City, Region: d.Region, PostalCode: d.PostalCode, Country: d.Country, Phone: d.Phone}}
	for _, l := range fo.Lines {
		p.Lines = append(p.Lines, provider.Line{SKU: l.SKU, Quantity: l.Quantity})
	}
	return p
}
