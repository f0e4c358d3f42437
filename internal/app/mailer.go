package app

import (
	"context"
	"encoding/json"
	"net/mail"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/job"
	wbmail "github.com/waybill/waybill/internal/mail"
	"github.com/waybill/waybill/internal/notify"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/store"
)

// mailer turns events into e-mail notifications. It spans domains (people
// from auth, products from catalog, facilities from inventory, events from
// notify), so it lives here, where they are wired.
type mailer struct {
	a        *App
	sender   *wbmail.Sender // nil when no SMTP server is configured
	counters *store.Counters
}

func (a *App) wireMail() error {
	m := &mailer{a: a, counters: store.NewCounters(a.DB)}
	if a.Config.SMTPURL != "" {
		c, err := wbmail.ParseURL(a.Config.SMTPURL)
		if err != nil {
			return errs.E("app.wireMail", errs.Invalid, "--smtp-url: "+err.Error())
		}
		c.From = a.Config.MailFrom
		if _, err := mail.ParseAddress(c.From); err != nil {
			return errs.E("app.wireMail", errs.Invalid, "--mail-from is not an e-mail address: "+c.From)
		}
		if m.sender, err = wbmail.NewSender(c); err != nil {
			return err
		}
		a.Dispatch.Mail = m.sender.Send // purchase orders to dropship suppliers
	}
	a.Runner.Handle(notify.JobEmail, 8, 2*time.Minute, m.handle)
	return nil
}

func (m *mailer) dashboardURL() string {
	if m.a.Config.PublicURL != "" {
		return strings.TrimRight(m.a.Config.PublicURL, "/")
	}
	return "http://" + m.a.Config.Addr
}

// handle sends one notification to the tenant's owners and admins.
func (m *mailer) handle(ctx context.Context, j job.Job) error {
	if m.sender == nil {
		return nil // e-mail is not configured: nothing to send, nothing to retry
	}
	var p struct {
		EventID string `json:"event_id"`
		Kind    string `json:"kind"`
	}
	if err := j.Decode(&p); err != nil {
		return job.Permanent(err)
	}
	settings, err := m.a.Notify.NotificationSettings(ctx, j.TenantID)
	if err != nil {
		return err
	}
	if !settings[p.Kind] {
		return nil
	}
	ev, err := m.a.Notify.Event(ctx, j.TenantID, p.EventID)
	if err != nil {
		return job.Permanent(err)
	}
	tenant, err := m.a.Auth.Tenant(ctx, j.TenantID)
	if err != nil {
		return err
	}
	if p.Kind == notify.EmailOrderShipped {
		return m.shipped(ctx, j, ev, tenant)
	}
	to, err := m.owners(ctx, j.TenantID)
	if err != nil || len(to) == 0 {
		return err
	}
	var kind wbmail.Kind
	var data any
	switch p.Kind {
	case notify.EmailLowStock:
		var c struct {
			ProductID    string   `json:"product_id"`
			FacilityID   string   `json:"facility_id"`
			Available    int64    `json:"available"`
			DaysOfCover  *float64 `json:"days_of_cover"`
			LeadTimeDays int      `json:"lead_time_days"`
			Reason       string   `json:"reason"`
		}
		if err := json.Unmarshal(ev.Payload, &c); err != nil {
			return job.Permanent(err)
		}
		item := wbmail.LowStockItem{SKU: c.ProductID, Available: c.Available, DaysOfCover: c.DaysOfCover, LeadTimeDays: c.LeadTimeDays, Reason: c.Reason}
		if prod, err := m.a.Catalog.Get(ctx, j.TenantID, c.ProductID); err == nil {
			item.SKU, item.Name = prod.SKU, prod.Name
		}
		if f, err := m.a.Inventory.Facility(ctx, j.TenantID, c.FacilityID); err == nil {
			item.Facility = f.Name
		}
		kind, data = wbmail.LowStock, wbmail.LowStockData{TenantName: tenant.Name, DashboardURL: m.dashboardURL(), Items: []wbmail.LowStockItem{item}}
	case notify.EmailWebhookDisabled:
		var d struct {
			ID           string    `json:"id"`
			Reason       string    `json:"reason"`
			FailingSince time.Time `json:"failing_since"`
		}
		if err := json.Unmarshal(ev.Payload, &d); err != nil {
			return job.Permanent(err)
		}
		ep, err := m.a.Notify.Endpoint(ctx, j.TenantID, d.ID)
		if err != nil {
			return job.Permanent(err)
		}
		kind, data = wbmail.WebhookDisabled, wbmail.WebhookDisabledData{TenantName: tenant.Name, DashboardURL: m.dashboardURL(), EndpointURL: ep.URL,
			FailingSince: d.FailingSince, LastError: d.Reason, SettingsURL: m.dashboardURL() + "/settings/webhooks"}
	case notify.EmailFulfillmentRejected:
		var d struct {
			FulfillmentOrder order.FulfillmentOrderDoc `json:"fulfillment_order"`
			Reason           string                    `json:"reason"`
			Message          string                    `json:"message"`
		}
		if err := json.Unmarshal(ev.Payload, &d); err != nil {
			return job.Permanent(err)
		}
		fo := d.FulfillmentOrder
		kind, data = wbmail.FulfillmentRejected, wbmail.FulfillmentRejectedData{TenantName: tenant.Name, DashboardURL: m.dashboardURL(),
			OrderNumber: fo.OrderNumber, Facility: fo.Facility, Reason: d.Reason, Message: d.Message, Rerouted: fo.Status == order.FulfillmentClosed,
			Link: m.dashboardURL() + "/fulfillment/" + fo.ID}
	case notify.EmailNewOrder:
		return m.newOrders(ctx, j, ev, tenant, to)
	default:
		return nil // kinds whose areas are not built yet
	}
	subject, text, html, err := wbmail.Render(kind, data)
	if err != nil {
		return job.Permanent(err)
	}
	err = m.sender.Send(ctx, wbmail.Message{ID: ev.ID, To: to, Subject: subject, Text: text, HTML: html})
	if err != nil && wbmail.IsPermanent(err) {
		return job.Permanent(err)
	}
	return err
}

// newOrders sends one e-mail for every order placed since the last one
// went out, at most once per Config.NewOrderMailEvery: the first order
// after a quiet spell is told at once, the ones after it are gathered into
// one e-mail per window (a shop with 500 orders a day gets a few dozen
// e-mails, not 500). Each order.created event has
// a job; the first to run after the window claims the batch (a counter
// swap, so of several processes one sends) and the others find it taken.
func (m *mailer) newOrders(ctx context.Context, j job.Job, ev notify.Event, tenant auth.Tenant, to []wbmail.Address) error {
	const bookmark = "mail.new_order"
	last, err := m.counters.Get(ctx, j.TenantID, bookmark)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if last != 0 {
		lastAt := time.UnixMicro(last)
		if !ev.CreatedAt.After(lastAt) {
			return nil // already told in an earlier batch
		}
		if wait := lastAt.Add(m.a.Config.NewOrderMailEvery).Sub(now); wait > 0 {
			return job.Retry(wait, errs.E("mail.newOrders", errs.Transient, "batching new orders until the window ends"))
		}
	}
	since := ev.CreatedAt.Add(-time.Microsecond)
	if last != 0 {
		since = time.UnixMicro(last)
	}
	evs, _, err := m.a.Notify.Events(ctx, j.TenantID, notify.EventFilter{Type: "order.created", Since: &since, Limit: 250})
	if err != nil {
		return err
	}
	if len(evs) == 0 {
		return nil
	}
	won, err := m.counters.Swap(ctx, j.TenantID, bookmark, last, now.UnixMicro())
	if err != nil || !won {
		return err
	}
	data := wbmail.NewOrderData{TenantName: tenant.Name, DashboardURL: m.dashboardURL()}
	for i := len(evs) - 1; i >= 0; i-- { // oldest first
		var o order.Doc
		if json.Unmarshal(evs[i].Payload, &o) != nil {
			continue
		}
		data.Orders = append(data.Orders, wbmail.OrderSummary{Number: o.Number, Customer: o.Customer.Name, Total: o.Currency + " " + o.TotalPrice,
			Lines: len(o.Lines), URL: m.dashboardURL() + "/orders/" + o.ID})
	}
	if len(data.Orders) == 0 {
		return nil
	}
	subject, text, html, err := wbmail.Render(wbmail.NewOrder, data)
	if err != nil {
		return job.Permanent(err)
	}
	err = m.sender.Send(ctx, wbmail.Message{ID: ev.ID, To: to, Subject: subject, Text: text, HTML: html})
	if err != nil {
		// Give the batch back so a retry sends it.
		_, _ = m.counters.Swap(context.WithoutCancel(ctx), j.TenantID, bookmark, now.UnixMicro(), last)
		if wbmail.IsPermanent(err) {
			return job.Permanent(err)
		}
	}
	return err
}

// shipped tells the customer a shipment is on its way, with its tracking.
// An order without a customer e-mail (some marketplaces hide it) gets none.
func (m *mailer) shipped(ctx context.Context, j job.Job, ev notify.Event, tenant auth.Tenant) error {
	var sh order.ShipmentDoc
	if err := json.Unmarshal(ev.Payload, &sh); err != nil {
		return job.Permanent(err)
	}
	o, err := m.a.Orders.Get(ctx, j.TenantID, sh.OrderID)
	if err != nil {
		return job.Permanent(err)
	}
	addr, err := mail.ParseAddress(o.Customer.Email)
	if err != nil || o.Customer.Email == "" {
		return nil
	}
	data := wbmail.OrderShippedData{TenantName: tenant.Name, OrderNumber: o.Number, CustomerName: o.Customer.Name,
		Carrier: sh.Carrier, Service: sh.Service, TrackingNumber: sh.TrackingNumber, TrackingURL: sh.TrackingURL}
	for _, sl := range sh.Lines {
		name := sl.SKU
		if l, ok := o.Line(sl.LineID); ok && l.Name != "" {
			name = l.Name
		}
		data.Lines = append(data.Lines, wbmail.ShippedLine{Name: name, Quantity: int(sl.Quantity)})
	}
	subject, text, html, err := wbmail.Render(wbmail.OrderShipped, data)
	if err != nil {
		return job.Permanent(err)
	}
	err = m.sender.Send(ctx, wbmail.Message{ID: ev.ID, To: []wbmail.Address{{Name: o.Customer.Name, Email: addr.Address}}, Subject: subject, Text: text, HTML: html})
	if err != nil && wbmail.IsPermanent(err) {
		return job.Permanent(err)
	}
	return err
}

// owners are the people told about the tenant's operations.
func (m *mailer) owners(ctx context.Context, tenantID string) ([]wbmail.Address, error) {
	us, err := m.a.Auth.ListUsers(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out []wbmail.Address
	for _, u := range us {
		if !u.Disabled && (u.Role == auth.Owner || u.Role == auth.Admin) {
			out = append(out, wbmail.Address{Name: u.Name, Email: u.Email})
		}
	}
	return out, nil
}
