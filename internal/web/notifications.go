package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/notify"
)

// attentionTypes are the events the bell counts: things a person should
// look at. The list is the only place that says so.
var attentionTypes = []string{"inventory.low_stock", "webhook_endpoint.disabled", "order.created", "fulfillment_order.rejected"}

// The bell counts events since the person last opened the notifications,
// at most bellMax of them, and none older than bellWindow (a new session
// starts with the last week's).
const (
	bellMax    = 99
	bellWindow = 7 * 24 * time.Hour
	bellList   = 50
	keyBell    = "bell_seen" // session: the newest event id the person has seen
)

// bell is what the bell partial shows.
type bell struct{ Count int }

// Label is the count as the badge shows it.
func (b bell) Label() string {
	if b.Count > bellMax {
		return strconv.Itoa(bellMax) + "+"
	}
	return strconv.Itoa(b.Count)
}

// bellSeen is the id after which events count as new: the newest the person
// has seen in this session, but never older than bellWindow.
func (s *server) bellSeen(r *http.Request) string {
	floor := eventIDFloor(time.Now().Add(-bellWindow))
	if seen := s.sm.GetString(r.Context(), keyBell); seen > floor {
		return seen
	}
	return floor
}

// notificationBell answers the layout's bell with the count of new events.
// It is loaded after the page (hx-trigger="load") so no page waits for it,
// and it is one indexed query.
func (s *server) notificationBell(w http.ResponseWriter, r *http.Request) error {
	b := bell{}
	if s.d.NotifyLog != nil {
		n, err := s.d.NotifyLog.CountEventsAfter(r.Context(), personFrom(r).Tenant.ID, attentionTypes, s.bellSeen(r), bellMax+1)
		if err != nil {
			return err
		}
		b.Count = n
	}
	return s.renderPart(w, r, "notifications", "bell", &view{Data: b})
}

// notice is one event in the notifications list, in words.
type notice struct {
	Event notify.Event
	New   bool
	Title string
	Text  string
	Href  string
}

type notificationsPage struct {
	Notices []notice
}

// notificationList shows the newest events that need attention and marks
// them seen, which empties the bell.
func (s *server) notificationList(w http.ResponseWriter, r *http.Request) error {
	ctx, tenant := r.Context(), personFrom(r).Tenant.ID
	page := notificationsPage{}
	if s.d.NotifyLog != nil {
		evs, err := s.d.NotifyLog.LatestEvents(ctx, tenant, attentionTypes, bellList)
		if err != nil {
			return err
		}
		seen := s.bellSeen(r)
		d := s.describer(r)
		for _, e := range evs {
			n := d.describe(e)
			n.New = e.ID > seen
			page.Notices = append(page.Notices, n)
		}
		if len(evs) > 0 && evs[0].ID > seen {
			s.sm.Put(ctx, keyBell, evs[0].ID)
		}
	}
	return s.render(w, r, http.StatusOK, "notifications", &view{Title: "Notifications", Data: page})
}

// describer turns events into sentences, looking up what they refer to once
// per object.
type describer struct {
	s          *server
	r          *http.Request
	facilities map[string]string // id → code
	skus       map[string]string // product id → SKU
	endpoints  map[string]string // id → URL
}

func (s *server) describer(r *http.Request) *describer {
	return &describer{s: s, r: r, skus: map[string]string{}, endpoints: map[string]string{}}
}

func (d *describer) facility(id string) string {
	if d.facilities == nil {
		d.facilities = map[string]string{}
		if d.s.d.Inventory != nil {
			if fs, err := d.s.d.Inventory.ListFacilities(d.r.Context(), personFrom(d.r).Tenant.ID); err == nil {
				for _, f := range fs {
					d.facilities[f.ID] = f.Code
				}
			}
		}
	}
	if c, ok := d.facilities[id]; ok {
		return c
	}
	return "a facility"
}

func (d *describer) sku(id string) string {
	if s, ok := d.skus[id]; ok {
		return s
	}
	sku := "A SKU"
	if d.s.d.Catalog != nil {
		if p, err := d.s.d.Catalog.Get(d.r.Context(), personFrom(d.r).Tenant.ID, id); err == nil {
			sku = p.SKU
		}
	}
	d.skus[id] = sku
	return sku
}

func (d *describer) endpoint(id string) string {
	if u, ok := d.endpoints[id]; ok {
		return u
	}
	u := "A webhook endpoint"
	if d.s.d.Notify != nil {
		if e, err := d.s.d.Notify.Endpoint(d.r.Context(), personFrom(d.r).Tenant.ID, id); err == nil {
			u = e.URL
		}
	}
	d.endpoints[id] = u
	return u
}

func (d *describer) describe(e notify.Event) notice {
	n := notice{Event: e, Title: e.Type, Text: e.ObjectType + " " + e.ObjectID}
	switch e.Type {
	case "inventory.low_stock":
		var c struct {
			ProductID    string `json:"product_id"`
			FacilityID   string `json:"facility_id"`
			Available    int64  `json:"available"`
			ReorderPoint int64  `json:"reorder_point"`
		}
		if json.Unmarshal(e.Payload, &c) == nil && c.ProductID != "" {
			n.Title = "Low stock: " + d.sku(c.ProductID) + " at " + d.facility(c.FacilityID)
			n.Text = strconv.FormatInt(c.Available, 10) + " available; reorder point " + strconv.FormatInt(c.ReorderPoint, 10) + "."
			n.Href = "/inventory/sku/" + c.ProductID
		}
	case "webhook_endpoint.disabled":
		var p struct {
			ID     string `json:"id"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(e.Payload, &p) == nil && p.ID != "" {
			n.Title = "Webhook endpoint disabled: " + d.endpoint(p.ID)
			n.Text = upperFirst(p.Reason) + "."
			n.Href = "/settings/webhooks/" + p.ID
		}
	case "order.created":
		n.Title, n.Text = "New order", e.ObjectID
	case "fulfillment_order.rejected":
		var p struct {
			FulfillmentOrder struct {
				OrderNumber string `json:"order_number"`
				Facility    string `json:"facility"`
				Status      string `json:"status"`
			} `json:"fulfillment_order"`
			Reason  string `json:"reason"`
			Message string `json:"message"`
		}
		if json.Unmarshal(e.Payload, &p) == nil {
			fo := p.FulfillmentOrder
			n.Title = fo.Facility + " refused order " + fo.OrderNumber
			n.Text = strings.TrimSpace(p.Reason + " " + p.Message)
			if fo.Status == "CLOSED" {
				n.Text += " — sent to other facilities."
			} else {
				n.Text += " — the order is on hold."
			}
			n.Href = "/fulfillment/" + e.ObjectID
		}
	}
	return n
}

// eventIDFloor returns an event id lower than every id made at or after t:
// ids are a prefix and a UUIDv7 in Crockford base32 (internal/id), whose
// first ten characters are the millisecond timestamp.
func eventIDFloor(t time.Time) string {
	const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	ms := uint64(max(t.UnixMilli(), 0))
	var b [26]byte
	for i := range b {
		b[i] = '0'
	}
	for i := 9; i >= 0; i-- {
		b[i] = alphabet[ms&31]
		ms >>= 5
	}
	return "evt_" + string(b[:])
}

// emailKind describes one e-mail notification a tenant can turn off.
type emailKind struct {
	Kind, Label, Hint string
	On                bool
}

var emailKindText = map[string][2]string{
	notify.EmailNewOrder:            {"New orders", "E-mail the account's owners about each new order."},
	notify.EmailLowStock:            {"Low stock", "E-mail the owners when a SKU falls to its reorder point at a facility (once per fall)."},
	notify.EmailOrderShipped:        {"Order shipped", "E-mail customers their tracking when an order ships."},
	notify.EmailWebhookDisabled:     {"Webhook endpoint disabled", "E-mail the owners when an endpoint is disabled after failing for 5 days."},
	notify.EmailFulfillmentRejected: {"Fulfilment refused", "E-mail the owners when a 3PL or supplier refuses a fulfilment request."},
}

type notificationSettingsPage struct {
	Kinds []emailKind
}

func (s *server) notificationSettings(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "settings:read"); err != nil {
		return err
	}
	ns, err := s.notifyService()
	if err != nil {
		return err
	}
	set, err := ns.NotificationSettings(r.Context(), personFrom(r).Tenant.ID)
	if err != nil {
		return err
	}
	page := notificationSettingsPage{}
	for _, k := range notify.EmailKinds {
		t := emailKindText[k]
		if t[0] == "" {
			t[0] = k
		}
		page.Kinds = append(page.Kinds, emailKind{Kind: k, Label: t[0], Hint: t[1], On: set[k]})
	}
	return s.render(w, r, http.StatusOK, "notification_settings", &view{Title: "Notifications", Area: "settings", Data: page})
}

// notificationSettingsSave stores the whole form: a box left unticked turns
// that e-mail off.
func (s *server) notificationSettingsSave(w http.ResponseWriter, r *http.Request) error {
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
	on := r.PostForm["on"]
	for _, k := range notify.EmailKinds {
		if err := ns.SetNotificationSetting(r.Context(), personFrom(r).Tenant.ID, k, slices.Contains(on, k)); err != nil {
			return err
		}
	}
	s.flash(r, "E-mail notifications saved.")
	http.Redirect(w, r, "/settings/notifications", http.StatusSeeOther)
	return nil
}
