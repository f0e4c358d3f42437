package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/notify"
)

// NotifyLog is what the dashboard reads about events and deliveries beyond
// notify.Service: the bell's count and list, and the latency of each
// delivery's latest attempt (store.Notify).
type NotifyLog interface {
	CountEventsAfter(ctx context.Context, tenantID string, types []string, after string, limit int) (int, error)
	LatestEvents(ctx context.Context, tenantID string, types []string, limit int) ([]notify.Event, error)
	LastLatencies(ctx context.Context, tenantID string, deliveryIDs []string) (map[string]time.Duration, error)
}

// eventGroup is one area's event types in the endpoint form.
type eventGroup struct {
	Label  string
	Prefix string // "inventory.*": every event of the area, later ones too
	Types  []eventChoice
}

type eventChoice struct{ Type, Hint string }

// eventGroups are the event types an endpoint can subscribe to, as
// docs/webhooks.md lists them. Types not listed (areas added later) can
// still be typed into the form's "other" field.
var eventGroups = []eventGroup{
	{"Orders", "order.*", []eventChoice{
		{"order.created", "a new order arrived (any channel)"},
		{"order.updated", "an order was edited, synced, got stock or shipped"},
		{"order.cancelled", "an order was cancelled"},
		{"order.hold_added", "an order was put on hold"},
		{"order.hold_released", "a hold was released"},
	}},
	{"Fulfilment", "fulfillment_order.*", []eventChoice{
		{"fulfillment_order.fulfilled", "a facility shipped some or all of its lines"},
		{"fulfillment_order.accepted", "a 3PL or supplier accepted a request"},
		{"fulfillment_order.rejected", "a 3PL or supplier refused one (re-sourced, or the order held)"},
		{"fulfillment_order.moved", "a fulfilment order moved to another facility"},
		{"fulfillment_order.held", "a fulfilment order was held"},
		{"fulfillment_order.released", "it was released"},
		{"fulfillment_order.cancelled", "a fulfilment order was cancelled"},
	}},
	{"Shipments", "shipment.*", []eventChoice{
		{"shipment.created", "a shipment was recorded, with carrier and tracking"},
	}},
	{"Stock", "inventory.*", []eventChoice{
		{"inventory.adjusted", "stock received, adjusted, written off or returned"},
		{"inventory.counted", "a stock count was recorded"},
		{"inventory.transfer_created", "stock left for another facility"},
		{"inventory.transfer_received", "a transfer arrived"},
		{"inventory.low_stock", "a SKU fell to its reorder point"},
		{"inventory.restocked", "it rose above it again"},
	}},
	{"Reservations", "reservation.*", []eventChoice{
		{"reservation.created", "stock was promised"},
		{"reservation.released", "a promise was given back"},
		{"reservation.consumed", "promised stock shipped"},
		{"reservation.expired", "a hold ran out"},
	}},
	{"Webhooks", "webhook_endpoint.*", []eventChoice{
		{"webhook_endpoint.disabled", "an endpoint was disabled after failing for 5 days"},
	}},
}

// listedEvent reports whether an event type or prefix has a checkbox.
func listedEvent(ev string) bool {
	if ev == "*" {
		return true
	}
	for _, g := range eventGroups {
		if g.Prefix == ev {
			return true
		}
		for _, c := range g.Types {
			if c.Type == ev {
				return true
			}
		}
	}
	return false
}

// endpointForm is the new-endpoint form as typed.
type endpointForm struct {
	URL, Description string
	Events           []string // ticked boxes
	Other            string   // further types or prefixes, typed
}

// Has reports whether an event box is ticked.
func (f endpointForm) Has(ev string) bool { return slices.Contains(f.Events, ev) }

func (f endpointForm) all() []string {
	return append(slices.Clone(f.Events), strings.FieldsFunc(f.Other, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })...)
}

type webhooksPage struct {
	Endpoints []notify.Endpoint
	Groups    []eventGroup
	Form      endpointForm
	Errors    formErrors
	// Problems names each field's problem, for the summary above the form.
	Problems []string
	// Created and Secret are set once, on the page that answers the
	// creation: lists never show a secret again.
	Created *notify.Endpoint
	Secret  string
}

func (s *server) notifyService() (*notify.Service, error) {
	if s.d.Notify == nil {
		return nil, errs.E("web.webhooks", errs.NotExist, "webhooks are not set up in this process")
	}
	return s.d.Notify, nil
}

func (s *server) webhooksPage(w http.ResponseWriter, r *http.Request, status int, page webhooksPage) error {
	ns, err := s.notifyService()
	if err != nil {
		return err
	}
	eps, err := ns.Endpoints(r.Context(), personFrom(r).Tenant.ID)
	if err != nil {
		return err
	}
	page.Endpoints, page.Groups = eps, eventGroups
	return s.render(w, r, status, "webhooks", &view{Title: "Webhooks", Area: "settings", Data: page})
}

func (s *server) webhookList(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:read"); err != nil {
		return err
	}
	return s.webhooksPage(w, r, http.StatusOK, webhooksPage{Form: endpointForm{Events: []string{"*"}}})
}

// fieldLabels name the endpoint form's fields in error summaries.
var fieldLabels = map[string]string{"url": "URL", "description": "Description", "events": "Events"}

func (s *server) webhookCreate(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	ns, err := s.notifyService()
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	form := endpointForm{URL: strings.TrimSpace(r.PostFormValue("url")), Description: strings.TrimSpace(r.PostFormValue("description")),
		Events: r.PostForm["event"], Other: strings.TrimSpace(r.PostFormValue("other_events"))}
	events := form.all()
	page := webhooksPage{Form: form}
	// notify takes no events as "everything"; in a form, ticking nothing
	// is a slip, not a choice.
	if len(events) == 0 {
		page.Errors = formErrors{"events": {"Choose at least one event, or All events."}}
		page.Problems = []string{"Events: choose at least one event, or All events."}
		return s.webhooksPage(w, r, http.StatusUnprocessableEntity, page)
	}
	ep, err := ns.CreateEndpoint(r.Context(), personFrom(r).Tenant.ID, notify.EndpointInput{URL: form.URL, Description: form.Description, Events: events})
	if err != nil {
		fields := errs.Fields(err)
		if len(fields) == 0 {
			return err
		}
		page.Errors, page.Problems = endpointErrors(fields, events)
		return s.webhooksPage(w, r, http.StatusUnprocessableEntity, page)
	}
	return s.webhooksPage(w, r, http.StatusOK, webhooksPage{Created: &ep, Secret: ep.Secret, Form: endpointForm{Events: []string{"*"}}})
}

// endpointErrors maps notify's field errors ("url", "events[2]") to the
// form's fields, each message also listed with the field's name.
func endpointErrors(fields []errs.FieldError, events []string) (formErrors, []string) {
	fe := formErrors{}
	var problems []string
	for _, f := range fields {
		key, msg := f.Field, f.Message
		if m := indexed.FindStringSubmatch(f.Field); m != nil && m[1] == "events" {
			key = "events"
			if i, _ := strconv.Atoi(m[2]); i < len(events) {
				msg = fmt.Sprintf("%q %s", events[i], msg)
			}
		}
		label, ok := fieldLabels[key]
		if !ok {
			key, label = "", ""
		}
		fe[key] = append(fe[key], upperFirst(msg))
		if label != "" {
			msg = label + ": " + msg
		}
		problems = append(problems, upperFirst(msg)+".")
	}
	return fe, problems
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// webhookPage is one endpoint with its deliveries.
type webhookPage struct {
	Endpoint   notify.Endpoint
	Deliveries []deliveryRow
	After      string // the cursor of this page ("" = newest)
	Next       string // the cursor of the next, older page
	Secret     string // set once, after a rotation
	Notice     string // a refused change
}

// deliveryRow is a delivery with the latency of its latest attempt.
type deliveryRow struct {
	notify.Delivery
	Latency *time.Duration
}

// LatencyText is the latest attempt's latency, or a dash.
func (d deliveryRow) LatencyText() string {
	if d.Latency == nil {
		return "—"
	}
	return formatLatency(*d.Latency)
}

// LastResponse is the latest answer: its status, else what went wrong.
func (d deliveryRow) LastResponse() string {
	switch {
	case d.LastStatusCode != 0:
		return strconv.Itoa(d.LastStatusCode) + " " + http.StatusText(d.LastStatusCode)
	case d.LastError != "":
		return d.LastError
	}
	return "—"
}

func formatLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return "< 1 ms"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	default:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	}
}

const deliveriesPerPage = 50

func (s *server) webhookPage(w http.ResponseWriter, r *http.Request, status int, page webhookPage) error {
	ns, err := s.notifyService()
	if err != nil {
		return err
	}
	ctx, tenant := r.Context(), personFrom(r).Tenant.ID
	if page.Endpoint.ID == "" {
		if page.Endpoint, err = ns.Endpoint(ctx, tenant, r.PathValue("id")); err != nil {
			return err
		}
	}
	ds, next, err := ns.Deliveries(ctx, tenant, page.Endpoint.ID, page.After, deliveriesPerPage)
	if err != nil {
		return err
	}
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	lat := map[string]time.Duration{}
	if s.d.NotifyLog != nil {
		if lat, err = s.d.NotifyLog.LastLatencies(ctx, tenant, ids); err != nil {
			return err
		}
	}
	for _, d := range ds {
		row := deliveryRow{Delivery: d}
		if l, ok := lat[d.ID]; ok {
			row.Latency = &l
		}
		page.Deliveries = append(page.Deliveries, row)
	}
	page.Next = next
	return s.render(w, r, status, "webhook", &view{Title: "Webhook " + page.Endpoint.URL, Area: "settings", Data: page})
}

func (s *server) webhookShow(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:read"); err != nil {
		return err
	}
	return s.webhookPage(w, r, http.StatusOK, webhookPage{After: r.URL.Query().Get("after")})
}

func (s *server) webhookEnable(w http.ResponseWriter, r *http.Request) error {
	return s.webhookSetEnabled(w, r, true)
}

func (s *server) webhookDisable(w http.ResponseWriter, r *http.Request) error {
	return s.webhookSetEnabled(w, r, false)
}

func (s *server) webhookSetEnabled(w http.ResponseWriter, r *http.Request, on bool) error {
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	ns, err := s.notifyService()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	ep, err := ns.UpdateEndpoint(r.Context(), personFrom(r).Tenant.ID, id, func(_ *notify.EndpointInput, enabled *bool) { *enabled = on })
	if err != nil {
		// Enabling checks the URL again: one saved under a laxer policy
		// (private addresses allowed) is refused now.
		if fields := errs.Fields(err); len(fields) > 0 {
			_, problems := endpointErrors(fields, nil)
			return s.webhookPage(w, r, http.StatusUnprocessableEntity, webhookPage{Notice: "The endpoint was not enabled. " + strings.Join(problems, " ")})
		}
		return err
	}
	if on {
		s.flash(r, "Endpoint enabled. New events are delivered to it again; its failure record is cleared.")
	} else {
		s.flash(r, "Endpoint disabled. No events are delivered to it until it is enabled again.")
	}
	http.Redirect(w, r, "/settings/webhooks/"+ep.ID, http.StatusSeeOther)
	return nil
}

func (s *server) webhookRotate(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	ns, err := s.notifyService()
	if err != nil {
		return err
	}
	ep, err := ns.RotateSecret(r.Context(), personFrom(r).Tenant.ID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.webhookPage(w, r, http.StatusOK, webhookPage{Endpoint: ep, Secret: ep.Secret})
}

// header is one request header as the attempt log shows it.
type header struct{ Name, Value string }

// deliveryPage is one delivery: what was sent and every attempt.
type deliveryPage struct {
	Endpoint notify.Endpoint
	Delivery notify.Delivery
	Attempts []attemptRow
	Headers  []header
	Body     string
}

type attemptRow struct{ notify.Attempt }

// LatencyText is the attempt's latency.
func (a attemptRow) LatencyText() string { return formatLatency(a.Latency) }

// Outcome sums an attempt up: its status code, else its error.
func (a attemptRow) Outcome() string {
	if a.StatusCode != 0 {
		return strconv.Itoa(a.StatusCode) + " " + http.StatusText(a.StatusCode)
	}
	return "no response"
}

// OK reports whether the attempt succeeded.
func (a attemptRow) OK() bool { return a.Error == "" && a.StatusCode >= 200 && a.StatusCode <= 299 }

func (s *server) webhookDelivery(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:read"); err != nil {
		return err
	}
	ns, err := s.notifyService()
	if err != nil {
		return err
	}
	ctx, tenant := r.Context(), personFrom(r).Tenant.ID
	d, as, err := ns.Delivery(ctx, tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	ep, err := ns.Endpoint(ctx, tenant, d.EndpointID)
	if err != nil {
		return err
	}
	ev, err := ns.Event(ctx, tenant, d.EventID)
	if err != nil {
		return err
	}
	// The body is the same on every attempt: the event in the Standard
	// Webhooks envelope. It is sent compact; shown indented.
	body, err := notify.Body(ev)
	if err != nil {
		return errs.E("web.webhookDelivery", errs.Internal, err)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "", "  ") == nil {
		body = pretty.Bytes()
	}
	page := deliveryPage{Endpoint: ep, Delivery: d, Body: string(body), Headers: []header{
		{"Content-Type", "application/json"},
		{"User-Agent", "Waybill-Webhooks/1"},
		{"webhook-id", ev.ID},
		{"webhook-timestamp", "the time of each attempt, in Unix seconds"},
		{"webhook-signature", "v1,… HMAC-SHA256 of id.timestamp.body with the endpoint's secret (two during a rotation); not stored"},
	}}
	for _, a := range slices.Backward(as) {
		page.Attempts = append(page.Attempts, attemptRow{a})
	}
	return s.render(w, r, http.StatusOK, "webhook_delivery", &view{Title: "Delivery of " + d.EventType, Area: "settings", Data: page})
}

func (s *server) webhookReplay(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:write"); err != nil {
		return err
	}
	ns, err := s.notifyService()
	if err != nil {
		return err
	}
	ctx, tenant := r.Context(), personFrom(r).Tenant.ID
	d, _, err := ns.Delivery(ctx, tenant, r.PathValue("id"))
	if err != nil {
		return err
	}
	// A pending delivery has a job queued already; a second would send it twice.
	if d.Status == "pending" {
		return errs.E("web.webhookReplay", errs.Conflict, "this delivery is still being sent; replay it once it has succeeded or failed")
	}
	if d, err = ns.Replay(ctx, tenant, d.ID); err != nil {
		return err
	}
	if s.d.Wake != nil {
		s.d.Wake()
	}
	s.flash(r, "Delivery queued again: it is sent within seconds, with the same webhook-id. Reload to see the attempt.")
	http.Redirect(w, r, "/settings/webhooks/deliveries/"+d.ID, http.StatusSeeOther)
	return nil
}
