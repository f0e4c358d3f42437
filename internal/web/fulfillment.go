package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/costs"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/notify"
	"github.com/waybill/waybill/internal/order"
)

// The order page's Fulfilment card: the order's fulfilment orders (one per
// facility holding its stock, see docs/fulfillment.md), a "Mark as
// fulfilled" form for each open one, and the shipments recorded so far.

// fulfilmentCard is what the card shows.
type fulfilmentCard struct {
	Orders    []fulfilmentRow
	Shipments []shipmentRow
	CanFulfil bool // the person may change orders and the order is open
	// CostTotal is the estimated cost of fulfilling the order; CostUnknown
	// says some fees or prices are missing from it.
	CostTotal   string
	CostUnknown bool
}

// fulfilmentRow is one fulfilment order with its form's values.
type fulfilmentRow struct {
	order.FulfillmentOrderView
	FacilityName string
	StatusLabel  string
	RequestLabel string // where the request to a 3PL or supplier stands; "" at own facilities
	Lines        []fulfilmentLineRow
	Form         fulfilForm // as typed after a refusal, else the defaults
	Refused      bool       // the form that was just refused: its errors are shown
	Open         bool       // something is left to ship and nothing holds it back
	Cost         string     // its estimated cost, in the order's currency
}

type fulfilmentLineRow struct {
	order.FulfillmentLine
	Input string // the quantity input's value
}

// fulfilForm is one "Mark as fulfilled" form as typed.
type fulfilForm struct {
	FO                                      string // which fulfilment order it was for
	Carrier, Service, Tracking, TrackingURL string
	Qty                                     map[string]string // by line id
}

// shipmentRow is one recorded shipment.
type shipmentRow struct {
	ID, Facility, Carrier, Service, TrackingNumber, TrackingURL string
	Lines                                                       []order.ShipmentLineDoc
	Summary                                                     string // the timeline's words, when the details are not at hand
	At                                                          time.Time
	Who                                                         string
}

var fulfilmentStatusLabels = map[order.FulfillmentOrderStatus]string{
	order.FulfillmentOpen: "Open", order.FulfillmentInProgress: "In progress", order.FulfillmentOnHold: "On hold",
	order.FulfillmentClosed: "Closed", order.FulfillmentCancelled: "Cancelled",
	order.FulfillmentScheduled: "Scheduled", order.FulfillmentIncomplete: "Incomplete",
}

// shipmentEvents reads shipment.created events (store.Notify has it). The
// shipment's own row has no read yet, so its details (tracking URL, lines)
// come from the event Waybill wrote in the same transaction.
type shipmentEvents interface {
	Events(ctx context.Context, tenantID string, f notify.EventFilter) ([]notify.Event, error)
}

// fillFulfilment reads the card for renderOrder. evs is the order's
// timeline, oldest first; who names an actor.
func (s *server) fillFulfilment(r *http.Request, svc *order.Service, o order.Order, evs []order.Event, who func(string) string, page *orderPage) error {
	ctx, p := r.Context(), personFrom(r)
	vs, err := svc.FulfillmentOrders(ctx, p.Tenant.ID, o.ID)
	if err != nil {
		return err
	}
	names, dropship := map[string]string{}, map[string]bool{}
	if s.d.Inventory != nil {
		fs, err := s.d.Inventory.ListFacilities(ctx, p.Tenant.ID)
		if err != nil {
			return err
		}
		for _, f := range fs {
			names[f.ID] = f.Name
			if f.Kind == inventory.Dropship {
				dropship[f.ID] = true
			}
		}
	}
	card := &page.Fulfilment
	card.CanFulfil = page.Editable
	codes := map[string]string{}
	for _, v := range vs {
		codes[v.FacilityID] = v.FacilityCode
		row := fulfilmentRow{FulfillmentOrderView: v, FacilityName: names[v.FacilityID], StatusLabel: fulfilmentStatusLabels[v.Status],
			RequestLabel: requestLabel(v.RequestStatus)}
		row.Open = (v.Status == order.FulfillmentOpen || v.Status == order.FulfillmentInProgress) && v.Remaining() > 0
		row.Refused = page.Fulfil.FO == v.ID
		row.Form = page.Fulfil
		if !row.Refused {
			row.Form = fulfilForm{FO: v.ID}
		}
		for _, l := range v.Lines {
			in := strconv.FormatInt(l.Quantity, 10) // everything remaining
			if row.Refused {
				in = row.Form.Qty[l.LineID]
			}
			row.Lines = append(row.Lines, fulfilmentLineRow{FulfillmentLine: l, Input: in})
		}
		card.Orders = append(card.Orders, row)
	}
	if s.d.Costs != nil {
		// What fulfilling it costs, from the facilities' fees and the
		// suppliers' prices.
		var parts []costs.Part
		for _, v := range vs {
			if v.Status == order.FulfillmentCancelled {
				continue
			}
			pt := costs.Part{Key: v.ID, FacilityID: v.FacilityID, Dropship: dropship[v.FacilityID]}
			for _, l := range v.Assigned() {
				pt.Units = append(pt.Units, costs.Units(l))
			}
			parts = append(parts, pt)
		}
		es, total, err := s.d.Costs.EstimateParts(ctx, p.Tenant.ID, o.Currency, parts)
		if err != nil {
			return err
		}
		card.CostTotal = money.Amount{Minor: total, Currency: o.Currency}.String() + " " + o.Currency
		byFO := map[string]costs.PartEstimate{}
		for _, e := range es {
			byFO[e.Key] = e
			card.CostUnknown = card.CostUnknown || e.NoProfile || len(e.Missing) > 0
		}
		for i := range card.Orders {
			if e, ok := byFO[card.Orders[i].ID]; ok {
				card.Orders[i].Cost = money.Amount{Minor: e.Total, Currency: o.Currency}.String()
			}
		}
	}
	reader, _ := s.d.NotifyLog.(shipmentEvents)
	for _, e := range evs {
		shID, _ := e.Data["shipment_id"].(string)
		if e.Kind != "fulfilled" || shID == "" {
			continue
		}
		row := shipmentRow{ID: shID, Summary: e.Message, At: e.At, Who: who(e.Actor)}
		if reader != nil {
			got, err := reader.Events(ctx, p.Tenant.ID, notify.EventFilter{Type: order.EventShipmentCreated, ObjectID: shID, Limit: 1})
			if err != nil {
				return err
			}
			var d order.ShipmentDoc
			if len(got) == 1 && json.Unmarshal(got[0].Payload, &d) == nil {
				row.Facility, row.Carrier, row.Service, row.TrackingNumber = d.Facility, d.Carrier, d.Service, d.TrackingNumber
				row.Lines, row.Summary = d.Lines, ""
				if safeURL(d.TrackingURL) {
					row.TrackingURL = d.TrackingURL
				}
			}
		}
		card.Shipments = append(card.Shipments, row)
	}
	return nil
}

// safeURL reports whether a tracking URL may be a link: carriers' pages
// are on the web, and anything else (javascript:, data:) is shown as text.
func safeURL(u string) bool {
	l := strings.ToLower(u)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")
}

// orderFulfil marks some or all of a fulfilment order as fulfilled: it
// records the shipment and ships exactly those units from its facility.
func (s *server) orderFulfil(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.orderForm(w, r)
	if err != nil {
		return err
	}
	ctx, p := r.Context(), personFrom(r)
	o, err := svc.Get(ctx, p.Tenant.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	fo, err := svc.FulfillmentOrder(ctx, p.Tenant.ID, r.PathValue("fo"))
	if err != nil {
		return err
	}
	if fo.OrderID != o.ID {
		return errs.E("web.orderFulfil", errs.NotExist, "no such fulfilment order on this order")
	}
	form, in, fe := readFulfilForm(r, fo)
	page := orderPage{Fulfil: form}
	name := func(f errs.FieldError) (string, string) {
		key, label := fulfilField(f, in, fo.FacilityCode)
		if !strings.HasPrefix(key, "qty_") {
			key = "ful_" + key
		}
		return key, label
	}
	if len(fe) > 0 {
		return s.refused(w, r, svc, errs.InvalidFields("web.orderFulfil", fe...), page, name)
	}
	view, sh, err := svc.Fulfill(ctx, p.Tenant.ID, fo.ID, in, actor(r))
	if err != nil {
		if errs.Is(errs.Conflict, err) {
			err = errs.E("web.orderFulfil", errs.Conflict, fulfilRefusal(err, fo.FacilityCode))
		}
		return s.refused(w, r, svc, err, page, name)
	}
	if s.d.Wake != nil {
		s.d.Wake()
	}
	msg := shippedText(view, sh)
	if after, err := svc.Get(ctx, p.Tenant.ID, o.ID); err == nil && after.Status == order.Closed {
		msg += " Order " + o.Number + " is fulfilled and closed."
	}
	s.flash(r, msg)
	http.Redirect(w, r, "/orders/"+o.ID, http.StatusSeeOther)
	return nil
}

// readFulfilForm reads a "Mark as fulfilled" form for fo: what was typed,
// the shipment it asks for (the form has a quantity per line; the service
// takes them per SKU), and the mistakes found before asking the service.
// Every quantity empty or 0 is a mistake while something is left to ship.
func readFulfilForm(r *http.Request, fo order.FulfillmentOrderView) (fulfilForm, order.FulfillInput, errs.FieldList) {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	form := fulfilForm{FO: fo.ID, Carrier: v("carrier"), Service: v("service"), Tracking: v("tracking_number"), TrackingURL: v("tracking_url"),
		Qty: map[string]string{}}
	in := order.FulfillInput{Carrier: form.Carrier, Service: form.Service, TrackingNumber: form.Tracking, TrackingURL: form.TrackingURL}
	var fe errs.FieldList
	perSKU := map[string]int64{}
	var skus []string
	for _, l := range fo.Lines {
		t := v("qty_" + l.LineID)
		form.Qty[l.LineID] = t
		if t == "" {
			continue
		}
		n, err := strconv.ParseInt(t, 10, 64)
		switch {
		case err != nil:
			fe.Add("qty_"+l.SKU, "must be a whole number", t)
			continue
		case n < 0:
			fe.Add("qty_"+l.SKU, "must be 0 or more", t)
			continue
		case n == 0:
			continue
		}
		if _, ok := perSKU[l.SKU]; !ok {
			skus = append(skus, l.SKU)
		}
		perSKU[l.SKU] += n
	}
	for _, sku := range skus {
		in.Lines = append(in.Lines, order.FulfillLine{SKU: sku, Quantity: perSKU[sku]})
	}
	if len(fe) == 0 && len(in.Lines) == 0 && fo.Remaining() > 0 {
		fe.Add("fulfil", "give the units this shipment carries: every quantity is 0", "")
	}
	return form, in, fe
}

// fulfilField names the input a field error of a fulfil form belongs to
// ("qty_<SKU>", "carrier", "service", "tracking_number", "tracking_url",
// or "form" for the whole shipment) and says what it is in words.
func fulfilField(f errs.FieldError, in order.FulfillInput, facility string) (string, string) {
	field := f.Field
	if i, rest, ok := indexedField(field, "lines"); ok && i < len(in.Lines) {
		field = "qty_" + in.Lines[i].SKU
		if rest == "sku" {
			return field, in.Lines[i].SKU + " from " + facility
		}
	}
	if sku, ok := strings.CutPrefix(field, "qty_"); ok {
		return field, "Units of " + sku + " from " + facility
	}
	switch field {
	case "carrier":
		return field, "Carrier"
	case "service":
		return field, "Service"
	case "tracking_number":
		return field, "Tracking number"
	case "tracking_url":
		return field, "Tracking URL"
	}
	return "form", "Shipment from " + facility
}

// fulfilRefusal says why nothing shipped, naming the facility.
func fulfilRefusal(err error, facility string) string {
	why := userMessage(err, "the order changed")
	switch errs.CodeOf(err) {
	case "order_on_hold":
		why = "the order is on hold; release its holds first"
	case "order_not_open":
		why = strings.ToLower(why[:1]) + why[1:]
	case "fulfillment_order_closed":
		why = "everything there is fulfilled already"
	case "nothing_to_fulfill":
		why = "nothing is reserved there to fulfil"
	default:
		why = strings.ToLower(why[:1]) + why[1:]
	}
	return "Nothing was shipped from " + facility + ": " + why
}

// shippedText is the flash after a shipment: what left from where, with
// its carrier and tracking.
func shippedText(v order.FulfillmentOrderView, sh order.Shipment) string {
	var what []string
	for _, l := range sh.Lines {
		what = append(what, fmt.Sprintf("%d × %s", l.Quantity, l.SKU))
	}
	msg := "Shipped " + strings.Join(what, ", ") + " from " + v.FacilityCode
	if c := strings.TrimSpace(sh.Carrier + " " + sh.Service); c != "" {
		msg += " with " + c
	}
	if sh.TrackingNumber != "" {
		msg += ", tracking " + sh.TrackingNumber
	}
	return msg + "."
}

// indexedField splits "lines[2].quantity" of list into 2 and "quantity".
func indexedField(field, list string) (int, string, bool) {
	rest, ok := strings.CutPrefix(field, list+"[")
	if !ok {
		return 0, "", false
	}
	num, rest, ok := strings.Cut(rest, "].")
	if !ok {
		return 0, "", false
	}
	i, err := strconv.Atoi(num)
	return i, rest, err == nil
}
