package shipbob

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/provider"
)

// order is the part of ShipBob's Orders.OrderViewModel read here (the
// answer of GET /order/{id}, one item of GET /order, and the answer of
// POST /order).
type order struct {
	ID          int64  `json:"id"`
	ReferenceID string `json:"reference_id"`
	Status      string `json:"status"`
	Channel     *struct {
		ID int64 `json:"id"`
	} `json:"channel"`
	Products []struct {
		ID          int64  `json:"id"`
		ReferenceID string `json:"reference_id"`
		SKU         string `json:"sku"`
		Quantity    int64  `json:"quantity"`
	} `json:"products"`
	Shipments []shipment `json:"shipments"`
}

// shipment is one of an order's shipments (Orders.ShipmentViewModel).
type shipment struct {
	ID            int64  `json:"id"`
	Status        string `json:"status"`
	StatusDetails []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"status_details"`
	ShipOption            string `json:"ship_option"`
	ActualFulfillmentDate string `json:"actual_fulfillment_date"`
	Tracking              *struct {
		Carrier        string `json:"carrier"`
		CarrierService string `json:"carrier_service"`
		TrackingNumber string `json:"tracking_number"`
		TrackingURL    string `json:"tracking_url"`
		ShippingDate   string `json:"shipping_date"`
	} `json:"tracking"`
	Products []struct {
		ID             int64  `json:"id"`
		ReferenceID    string `json:"reference_id"`
		SKU            string `json:"sku"`
		InventoryItems []struct {
			Quantity int64 `json:"quantity"`
		} `json:"inventory_items"`
	} `json:"products"`
}

func parseOrder(data []byte) (order, error) {
	var o order
	err := json.Unmarshal(data, &o)
	return o, err
}

func parseOrders(data []byte) ([]order, error) {
	var os []order
	err := json.Unmarshal(data, &os)
	return os, err
}

// ShipBob's order statuses (Orders.OrderStatus) and the shipment statuses
// read here (Orders.ShipmentStatus).
const (
	orderImportReview       = "ImportReview"
	orderProcessing         = "Processing"
	orderException          = "Exception"
	orderPartiallyFulfilled = "PartiallyFulfilled"
	orderFulfilled          = "Fulfilled"
	orderCancelled          = "Cancelled"

	shipmentCompleted = "Completed"
	shipmentLabeled   = "LabeledCreated"
	shipmentOnHold    = "OnHold"
	shipmentException = "Exception"
)

// status maps o to our words, as the package documentation's table says.
func (o order) status() provider.Status {
	st := provider.Status{Raw: o.Status}
	var started bool
	for _, s := range o.Shipments {
		if s.Status == shipmentCompleted || s.Status == shipmentLabeled {
			started = true
		}
	}
	held := o.details(shipmentOnHold)
	switch o.Status {
	case orderImportReview:
		st.State = provider.Pending
		st.Reason = "ShipBob is reviewing the imported order"
	case orderProcessing:
		switch {
		case started:
			st.State = provider.InProgress
			st.Reason = held
		case held != "":
			st.State = provider.Pending
			st.Reason = held
		default:
			st.State = provider.Accepted
		}
	case orderException:
		st.State = provider.Pending
		st.Reason = o.details(shipmentException)
		if st.Reason == "" {
			st.Reason = "ShipBob cannot fulfil the order yet"
		}
	case orderPartiallyFulfilled:
		st.State = provider.InProgress
	case orderFulfilled:
		st.State = provider.Shipped
	case orderCancelled:
		st.State = provider.Cancelled
	default:
		st.State = provider.Pending
		st.Reason = fmt.Sprintf("ShipBob's order status %q is not one Waybill knows", clip(oneLine(o.Status), 60))
	}
	for _, s := range o.Shipments {
		if s.Status == shipmentCompleted && s.ID > 0 {
			st.Shipments = append(st.Shipments, o.shipment(s))
		}
	}
	return st
}

// details sums up the status details of the shipments in status, as
// "OutOfStock: No Stock On Hand For Sku", for people.
func (o order) details(status string) string {
	var out []string
	for _, s := range o.Shipments {
		if s.Status != status {
			continue
		}
		if len(s.StatusDetails) == 0 {
			out = append(out, "a shipment is "+status)
		}
		for _, d := range s.StatusDetails {
			t := strings.TrimSpace(d.Name)
			if desc := strings.TrimSpace(d.Description); desc != "" && t != "" {
				t += ": " + desc
			} else if desc != "" {
				t = desc
			}
			if t != "" {
				out = append(out, t)
			}
		}
	}
	slices.Sort(out)
	return clip(oneLine(strings.Join(slices.Compact(out), "; ")), 500)
}

// shipment converts a shipment that has left ShipBob. A line's quantity is
// what its inventory item ships; a product of several inventory items (a
// bundle) counts as the order's quantity of it.
func (o order) shipment(s shipment) provider.Shipment {
	out := provider.Shipment{
		ID:      strconv.FormatInt(s.ID, 10),
		Service: strings.TrimSpace(s.ShipOption),
	}
	if t := s.Tracking; t != nil {
		out.Carrier = strings.TrimSpace(t.Carrier)
		if cs := strings.TrimSpace(t.CarrierService); cs != "" {
			out.Service = cs
		}
		out.TrackingNumber = strings.TrimSpace(t.TrackingNumber)
		out.TrackingURL = webURL(t.TrackingURL)
		out.ShippedAt = parseTime(t.ShippingDate)
	}
	if out.ShippedAt.IsZero() {
		out.ShippedAt = parseTime(s.ActualFulfillmentDate)
	}
	at := map[string]int{}
	for _, p := range s.Products {
		sku := strings.TrimSpace(p.ReferenceID)
		if sku == "" {
			sku = strings.TrimSpace(p.SKU)
		}
		var n int64
		if len(p.InventoryItems) == 1 {
			n = p.InventoryItems[0].Quantity
		} else {
			for _, op := range o.Products {
				if (p.ID != 0 && op.ID == p.ID) || (op.ReferenceID != "" && op.ReferenceID == p.ReferenceID) {
					n = op.Quantity
					break
				}
			}
		}
		if sku == "" || n <= 0 {
			continue
		}
		if i, ok := at[sku]; ok {
			out.Lines[i].Quantity = min(out.Lines[i].Quantity+n, 1<<40)
			continue
		}
		at[sku] = len(out.Lines)
		out.Lines = append(out.Lines, provider.Line{SKU: sku, Quantity: min(n, 1<<40)})
	}
	return out
}

// webURL keeps an http or https URL; anything else is no link to show.
func webURL(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return s
}

// parseTime reads ShipBob's timestamps, which come with an offset or, .NET
// style, without one (UTC). Anything else is the zero time.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// cancelResult is the answer of POST /order/{id}:cancel
// (Orders.CanceledOrderViewModel).
type cancelResult struct {
	Status  string `json:"status"` // Success, Failure or PartialSuccess
	Results []struct {
		ShipmentID int64  `json:"shipment_id"`
		IsSuccess  bool   `json:"is_success"`
		Reason     string `json:"reason"`
	} `json:"canceled_shipment_results"`
}

func parseCancel(data []byte) (cancelResult, error) {
	var r cancelResult
	err := json.Unmarshal(data, &r)
	return r, err
}

// succeeded reports whether every shipment was cancelled.
func (r cancelResult) succeeded() bool {
	switch r.Status {
	case "Success":
		return true
	case "Failure", "PartialSuccess":
		return false
	}
	for _, s := range r.Results {
		if !s.IsSuccess {
			return false
		}
	}
	return r.Status == ""
}

// reason says why ShipBob did not cancel everything.
func (r cancelResult) reason() string {
	var out []string
	for _, s := range r.Results {
		if s.IsSuccess {
			continue
		}
		msg := oneLine(s.Reason)
		if msg == "" {
			msg = "not cancelled"
		}
		out = append(out, fmt.Sprintf("shipment %d: %s", s.ShipmentID, msg))
	}
	head := "ShipBob did not cancel the order"
	if r.Status == "PartialSuccess" {
		head = "ShipBob cancelled only part of the order"
	}
	if len(out) == 0 {
		return head
	}
	return clip(head+" ("+strings.Join(out, "; ")+")", 500)
}

// levelsPage is one page of GET /inventory-level.
type levelsPage struct {
	Items []struct {
		SKU         string `json:"sku"`
		Fulfillable int64  `json:"total_fulfillable_quantity"`
		Sellable    *int64 `json:"total_sellable_quantity"`
	} `json:"items"`
	Next string `json:"next"`
}

func parseLevels(data []byte) (levelsPage, error) {
	var p levelsPage
	err := json.Unmarshal(data, &p)
	return p, err
}

// levels are the page's items with a SKU, with their sellable units (or
// fulfillable, where ShipBob gives no sellable figure), never below zero.
func (p levelsPage) levels() []provider.Level {
	out := make([]provider.Level, 0, len(p.Items))
	for _, it := range p.Items {
		sku := strings.TrimSpace(it.SKU)
		if sku == "" {
			continue
		}
		n := it.Fulfillable
		if it.Sellable != nil {
			n = *it.Sellable
		}
		out = append(out, provider.Level{SKU: sku, Available: min(max(n, 0), 1<<40)})
	}
	return out
}

// errorMessage is what ShipBob says in an error answer, on one line: the
// field errors of a validation problem ({"errors":{"Field":["…"]}} or the
// bare map), its detail, message or title, or the start of the text.
func errorMessage(body []byte) string {
	var v any
	if json.Unmarshal(body, &v) == nil {
		if s := messageOf(v, 0); s != "" {
			return clip(oneLine(s), 300)
		}
		if _, isText := v.(string); !isText {
			return ""
		}
	}
	return clip(oneLine(string(body)), 300)
}

func messageOf(v any, depth int) string {
	if depth > 3 {
		return ""
	}
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var out []string
		for _, e := range v {
			if s := messageOf(e, depth+1); s != "" {
				out = append(out, s)
			}
		}
		return strings.Join(out, "; ")
	case map[string]any:
		if e, ok := v["errors"]; ok {
			if s := messageOf(e, depth+1); s != "" {
				return s
			}
		}
		for _, k := range []string{"detail", "message", "Message", "title", "error"} {
			if s, ok := v[k].(string); ok && strings.TrimSpace(s) != "" {
				return s
			}
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var out []string
		for _, k := range keys {
			switch v[k].(type) {
			case string, []any:
				if s := messageOf(v[k], depth+1); s != "" {
					out = append(out, k+": "+s)
				}
			}
		}
		return strings.Join(out, "; ")
	}
	return ""
}

// oneLine folds s's runs of white space and control characters into single
// spaces and drops invalid UTF-8.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// clip shortens s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
