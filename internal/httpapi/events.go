package httpapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/waybill/waybill/internal/notify"
)

// Event is something that happened, as the outbox recorded it.
type Event struct {
	ID         string          `json:"id"`
	Type       string          `json:"type" example:"inventory.low_stock"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	Data       json.RawMessage `json:"data" doc:"The object as it was when the event happened."`
	CreatedAt  time.Time       `json:"created_at"`
}

func eventOut(e notify.Event) Event {
	return Event{ID: e.ID, Type: e.Type, ObjectType: e.ObjectType, ObjectID: e.ObjectID, Data: e.Payload, CreatedAt: e.CreatedAt}
}

func (a *API) listEvents(ctx context.Context, in *struct {
	PageParams
	Type     string    `query:"type" doc:"An event type, or a prefix such as inventory.*"`
	ObjectID string    `query:"object_id"`
	Since    time.Time `query:"since"`
	Until    time.Time `query:"until"`
}) (*struct {
	Body struct {
		Items      []Event `json:"items"`
		NextCursor string  `json:"next_cursor,omitempty"`
	}
}, error) {
	after, err := in.after()
	if err != nil {
		return nil, err
	}
	f := notify.EventFilter{Type: in.Type, ObjectID: in.ObjectID, After: after, Limit: in.Limit}
	if !in.Since.IsZero() {
		f.Since = &in.Since
	}
	if !in.Until.IsZero() {
		f.Until = &in.Until
	}
	es, next, err := a.d.Notify.Events(ctx, principal(ctx).TenantID, f)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			Items      []Event `json:"items"`
			NextCursor string  `json:"next_cursor,omitempty"`
		}
	}{}
	out.Body.Items = []Event{}
	for _, e := range es {
		out.Body.Items = append(out.Body.Items, eventOut(e))
	}
	out.Body.NextCursor = encodeCursor(next)
	return out, nil
}

func (a *API) getEvent(ctx context.Context, in *productIDInput) (*struct{ Body Event }, error) {
	e, err := a.d.Notify.Event(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body Event }{eventOut(e)}, nil
}

// WebhookEndpoint receives a tenant's events.
type WebhookEndpoint struct {
	ID             string     `json:"id"`
	URL            string     `json:"url"`
	Description    string     `json:"description"`
	Events         []string   `json:"events" doc:"Event types, prefixes such as inventory.*, or *."`
	Status         string     `json:"status" enum:"active,disabled"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	FailingSince   *time.Time `json:"failing_since"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

func endpointOut(e notify.Endpoint) WebhookEndpoint {
	return WebhookEndpoint{ID: e.ID, URL: e.URL, Description: e.Description, Events: e.Events, Status: e.Status, DisabledReason: e.DisabledReason,
		FailingSince: e.FailingSince, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

// WebhookEndpointWithSecret is an endpoint as created or rotated: the only
// time its signing secret is shown.
type WebhookEndpointWithSecret struct {
	WebhookEndpoint
	Secret string `json:"secret" doc:"whsec_… signing secret (Standard Webhooks). Shown only now."`
}

func (a *API) createWebhookEndpoint(ctx context.Context, in *struct {
	Body struct {
		URL         string   `json:"url" maxLength:"2000" example:"https://example.com/hooks/waybill"`
		Description string   `json:"description,omitempty" maxLength:"500"`
		Events      []string `json:"events,omitempty" maxItems:"100" example:"[\"order.created\",\"inventory.*\"]" doc:"Default: every event."`
	}
}) (*struct{ Body WebhookEndpointWithSecret }, error) {
	e, err := a.d.Notify.CreateEndpoint(ctx, principal(ctx).TenantID, notify.EndpointInput{URL: in.Body.URL, Description: in.Body.Description, Events: in.Body.Events})
	if err != nil {
		return nil, err
	}
	return &struct{ Body WebhookEndpointWithSecret }{WebhookEndpointWithSecret{endpointOut(e), e.Secret}}, nil
}

func (a *API) listWebhookEndpoints(ctx context.Context, _ *struct{}) (*struct {
	Body struct {
		Items []WebhookEndpoint `json:"items"`
	}
}, error) {
	es, err := a.d.Notify.Endpoints(ctx, principal(ctx).TenantID)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			Items []WebhookEndpoint `json:"items"`
		}
	}{}
	out.Body.Items = []WebhookEndpoint{}
	for _, e := range es {
		out.Body.Items = append(out.Body.Items, endpointOut(e))
	}
	return out, nil
}

func (a *API) getWebhookEndpoint(ctx context.Context, in *productIDInput) (*struct{ Body WebhookEndpoint }, error) {
	e, err := a.d.Notify.Endpoint(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body WebhookEndpoint }{endpointOut(e)}, nil
}

func (a *API) updateWebhookEndpoint(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"100"`
	Body struct {
		URL         *string   `json:"url,omitempty" maxLength:"2000"`
		Description *string   `json:"description,omitempty" maxLength:"500"`
		Events      *[]string `json:"events,omitempty" maxItems:"100"`
		Enabled     *bool     `json:"enabled,omitempty" doc:"false disables the endpoint; true enables it again and clears its failure record."`
	}
}) (*struct{ Body WebhookEndpoint }, error) {
	b := in.Body
	e, err := a.d.Notify.UpdateEndpoint(ctx, principal(ctx).TenantID, in.ID, func(ei *notify.EndpointInput, enabled *bool) {
		setStr(&ei.URL, b.URL)
		setStr(&ei.Description, b.Description)
		if b.Events != nil {
			ei.Events = *b.Events
		}
		if b.Enabled != nil {
			*enabled = *b.Enabled
		}
	})
	if err != nil {
		return nil, err
	}
	return &struct{ Body WebhookEndpoint }{endpointOut(e)}, nil
}

func (a *API) rotateWebhookSecret(ctx context.Context, in *productIDInput) (*struct{ Body WebhookEndpointWithSecret }, error) {
	e, err := a.d.Notify.RotateSecret(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body WebhookEndpointWithSecret }{WebhookEndpointWithSecret{endpointOut(e), e.Secret}}, nil
}

// WebhookDelivery is one event on its way to one endpoint.
type WebhookDelivery struct {
	ID             string           `json:"id"`
	EndpointID     string           `json:"endpoint_id"`
	EventID        string           `json:"event_id"`
	EventType      string           `json:"event_type"`
	Status         string           `json:"status" enum:"pending,succeeded,failed"`
	Attempts       int              `json:"attempts"`
	LastStatusCode int              `json:"last_status_code"`
	LastError      string           `json:"last_error"`
	NextAttemptAt  *time.Time       `json:"next_attempt_at"`
	CreatedAt      time.Time        `json:"created_at"`
	AttemptLog     []WebhookAttempt `json:"attempt_log,omitempty"`
}

// WebhookAttempt is one HTTP request of a delivery.
type WebhookAttempt struct {
	AttemptNo    int       `json:"attempt"`
	URL          string    `json:"url"`
	StatusCode   int       `json:"status_code"`
	ResponseBody string    `json:"response_body"`
	LatencyMS    int64     `json:"latency_ms"`
	Error        string    `json:"error"`
	CreatedAt    time.Time `json:"created_at"`
}

func deliveryOut(d notify.Delivery, as []notify.Attempt) WebhookDelivery {
	out := WebhookDelivery{ID: d.ID, EndpointID: d.EndpointID, EventID: d.EventID, EventType: d.EventType, Status: d.Status, Attempts: d.Attempts,
		LastStatusCode: d.LastStatusCode, LastError: d.LastError, NextAttemptAt: d.NextAttemptAt, CreatedAt: d.CreatedAt}
	for _, a := range as {
		out.AttemptLog = append(out.AttemptLog, WebhookAttempt{AttemptNo: a.AttemptNo, URL: a.URL, StatusCode: a.StatusCode, ResponseBody: a.ResponseBody,
			LatencyMS: a.Latency.Milliseconds(), Error: a.Error, CreatedAt: a.CreatedAt})
	}
	return out
}

func (a *API) listWebhookDeliveries(ctx context.Context, in *struct {
	ID string `path:"id" maxLength:"100"`
	PageParams
}) (*struct {
	Body struct {
		Items      []WebhookDelivery `json:"items"`
		NextCursor string            `json:"next_cursor,omitempty"`
	}
}, error) {
	after, err := in.after()
	if err != nil {
		return nil, err
	}
	ds, next, err := a.d.Notify.Deliveries(ctx, principal(ctx).TenantID, in.ID, after, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &struct {
		Body struct {
			Items      []WebhookDelivery `json:"items"`
			NextCursor string            `json:"next_cursor,omitempty"`
		}
	}{}
	out.Body.Items = []WebhookDelivery{}
	for _, d := range ds {
		out.Body.Items = append(out.Body.Items, deliveryOut(d, nil))
	}
	out.Body.NextCursor = encodeCursor(next)
	return out, nil
}

func (a *API) getWebhookDelivery(ctx context.Context, in *productIDInput) (*struct{ Body WebhookDelivery }, error) {
	d, as, err := a.d.Notify.Delivery(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body WebhookDelivery }{deliveryOut(d, as)}, nil
}

func (a *API) replayWebhookDelivery(ctx context.Context, in *productIDInput) (*struct{ Body WebhookDelivery }, error) {
	d, err := a.d.Notify.Replay(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	a.d.Wake()
	return &struct{ Body WebhookDelivery }{deliveryOut(d, nil)}, nil
}

// NotificationSettings says which e-mail notifications the tenant wants.
type NotificationSettings struct {
	NewOrder        bool `json:"new_order" doc:"E-mail the owners about new orders."`
	LowStock        bool `json:"low_stock" doc:"E-mail the owners when a SKU falls to its reorder point."`
	OrderShipped    bool `json:"order_shipped" doc:"E-mail customers their tracking when an order ships."`
	WebhookDisabled bool `json:"webhook_disabled" doc:"E-mail the owners when a webhook endpoint is disabled."`
}

func (a *API) notificationSettings(ctx context.Context) (*struct{ Body NotificationSettings }, error) {
	m, err := a.d.Notify.NotificationSettings(ctx, principal(ctx).TenantID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body NotificationSettings }{NotificationSettings{NewOrder: m[notify.EmailNewOrder], LowStock: m[notify.EmailLowStock],
		OrderShipped: m[notify.EmailOrderShipped], WebhookDisabled: m[notify.EmailWebhookDisabled]}}, nil
}

func (a *API) getNotificationSettings(ctx context.Context, _ *struct{}) (*struct{ Body NotificationSettings }, error) {
	return a.notificationSettings(ctx)
}

func (a *API) setNotificationSettings(ctx context.Context, in *struct {
	Body struct {
		NewOrder        *bool `json:"new_order,omitempty"`
		LowStock        *bool `json:"low_stock,omitempty"`
		OrderShipped    *bool `json:"order_shipped,omitempty"`
		WebhookDisabled *bool `json:"webhook_disabled,omitempty"`
	}
}) (*struct{ Body NotificationSettings }, error) {
	tenant := principal(ctx).TenantID
	for kind, v := range map[string]*bool{notify.EmailNewOrder: in.Body.NewOrder, notify.EmailLowStock: in.Body.LowStock,
		notify.EmailOrderShipped: in.Body.OrderShipped, notify.EmailWebhookDisabled: in.Body.WebhookDisabled} {
		if v != nil {
			if err := a.d.Notify.SetNotificationSetting(ctx, tenant, kind, *v); err != nil {
				return nil, err
			}
		}
	}
	return a.notificationSettings(ctx)
}
