// Package notify tells the outside world what changed: it lists the events
// the outbox holds, manages a tenant's webhook endpoints, fans each event
// out to the endpoints that want it, and delivers them signed, with
// retries, a log of every attempt, replay, and automatic disabling of
// endpoints that keep failing.
package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
)

// Event is one row of the outbox: something that happened to an object.
type Event struct {
	ID         string
	TenantID   string
	Type       string // e.g. order.created, inventory.low_stock
	ObjectType string
	ObjectID   string
	Payload    json.RawMessage // the object as the API shows it
	CreatedAt  time.Time
}

// EventFilter selects events.
type EventFilter struct {
	Type     string // exact, or a prefix ending in ".*"
	ObjectID string
	Since    *time.Time
	Until    *time.Time
	After    string // cursor: events older than this id
	Limit    int
}

// Endpoint is a URL that receives a tenant's events.
type Endpoint struct {
	ID                string
	TenantID          string
	URL               string
	Description       string
	Events            []string // types, "inventory.*" prefixes, or "*"
	Secret            string
	PreviousSecret    string // still signed with until PreviousExpiresAt, for rotation
	PreviousExpiresAt *time.Time
	Status            string // active, disabled
	DisabledReason    string
	FailingSince      *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Wants reports whether the endpoint subscribes to an event type.
func (e Endpoint) Wants(typ string) bool {
	for _, p := range e.Events {
		if p == "*" || p == typ || (strings.HasSuffix(p, ".*") && strings.HasPrefix(typ, strings.TrimSuffix(p, "*"))) {
			return true
		}
	}
	return false
}

// Delivery is one event on its way to one endpoint.
type Delivery struct {
	ID             string
	TenantID       string
	EndpointID     string
	EventID        string
	EventType      string
	Status         string // pending, succeeded, failed
	Attempts       int
	LastStatusCode int
	LastError      string
	NextAttemptAt  *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Attempt is one HTTP request of a delivery.
type Attempt struct {
	ID           string
	DeliveryID   string
	AttemptNo    int
	URL          string
	StatusCode   int
	ResponseBody string
	Latency      time.Duration
	Error        string
	CreatedAt    time.Time
}

// Schedule is the published retry schedule: the delay before each attempt.
// Eight attempts over about a day and a half.
var Schedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// DisableAfter is how long an endpoint may fail every delivery before it is
// disabled and its owner told.
const DisableAfter = 5 * 24 * time.Hour

// Store is what notify needs from the database.
type Store interface {
	Events(ctx context.Context, tenantID string, f EventFilter) ([]Event, error)
	Event(ctx context.Context, tenantID, id string) (Event, error)

	CreateEndpoint(ctx context.Context, e *Endpoint) error
	UpdateEndpoint(ctx context.Context, e *Endpoint) error
	Endpoint(ctx context.Context, tenantID, id string) (Endpoint, error)
	Endpoints(ctx context.Context, tenantID string) ([]Endpoint, error)

	Delivery(ctx context.Context, tenantID, id string) (Delivery, error)
	Deliveries(ctx context.Context, tenantID, endpointID, after string, limit int) ([]Delivery, error)
	Attempts(ctx context.Context, tenantID, deliveryID string) ([]Attempt, error)
	// Replay resets a delivery to pending and queues its delivery job.
	Replay(ctx context.Context, tenantID, deliveryID string) error
	// Relay fans undelivered events out to subscribed endpoints, claiming
	// them so several processes never fan out the same event twice, and
	// queues an e-mail job (JobEmail) for event types listed in emails. It
	// returns how many events it handled.
	Relay(ctx context.Context, limit int, emails map[string]string) (int, error)
	NotificationSettings(ctx context.Context, tenantID string) (map[string]bool, error)
	SetNotificationSetting(ctx context.Context, tenantID, kind string, enabled bool) error
	// RecordAttempt stores an attempt and the delivery's new state, and the
	// endpoint's failing_since; disable, when set, disables the endpoint
	// with that reason and writes a webhook_endpoint.disabled event.
	RecordAttempt(ctx context.Context, a Attempt, d Delivery, endpointFailingSince *time.Time, disable string) error
}

// Service is notify's API.
type Service struct {
	store Store
	now   func() time.Time
	// CheckURL vets an endpoint URL (SSRF rules); nil accepts any http(s) URL.
	CheckURL func(string) error
	// NewSecret makes a signing secret.
	NewSecret func() string
}

// NewService returns a Service over store.
func NewService(store Store, checkURL func(string) error, newSecret func() string) *Service {
	return &Service{store: store, CheckURL: checkURL, NewSecret: newSecret, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// MaxPage bounds list pages.
const MaxPage = 250

func clamp(n int) int {
	if n <= 0 {
		return 50
	}
	return min(n, MaxPage)
}

// Events lists events, newest first.
func (s *Service) Events(ctx context.Context, tenantID string, f EventFilter) ([]Event, string, error) {
	f.Limit = clamp(f.Limit)
	want := f.Limit
	f.Limit++
	es, err := s.store.Events(ctx, tenantID, f)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(es) > want {
		es = es[:want]
		next = es[want-1].ID
	}
	return es, next, nil
}

// Event returns one event.
func (s *Service) Event(ctx context.Context, tenantID, id string) (Event, error) {
	return s.store.Event(ctx, tenantID, id)
}

// EndpointInput describes an endpoint.
type EndpointInput struct {
	URL         string
	Description string
	Events      []string
}

func (s *Service) validate(in EndpointInput) (EndpointInput, error) {
	var fe errs.FieldList
	in.URL = strings.TrimSpace(in.URL)
	if u, err := url.Parse(in.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		fe.Add("url", "must be an absolute https URL", in.URL)
	} else if s.CheckURL != nil {
		if err := s.CheckURL(in.URL); err != nil {
			fe.Add("url", err.Error(), in.URL)
		}
	}
	if len(in.URL) > 2000 {
		fe.Add("url", "must be at most 2000 characters", nil)
	}
	if utf8.RuneCountInString(in.Description) > 500 {
		fe.Add("description", "must be at most 500 characters", nil)
	}
	if len(in.Events) == 0 {
		in.Events = []string{"*"}
	}
	for i, e := range in.Events {
		e = strings.TrimSpace(e)
		if e == "" || len(e) > 100 || strings.ContainsAny(e, " \t\r\n,") || (strings.Contains(e, "*") && e != "*" && !strings.HasSuffix(e, ".*")) {
			fe.Add(fmt.Sprintf("events[%d]", i), `must be an event type such as order.created, a prefix such as inventory.*, or *`, e)
		}
		in.Events[i] = e
	}
	slices.Sort(in.Events)
	in.Events = slices.Compact(in.Events)
	return in, fe.Err("notify.Endpoint")
}

// CreateEndpoint adds an endpoint; its secret is returned in the endpoint
// and never shown again by lists.
func (s *Service) CreateEndpoint(ctx context.Context, tenantID string, in EndpointInput) (Endpoint, error) {
	in, err := s.validate(in)
	if err != nil {
		return Endpoint{}, err
	}
	now := s.now()
	e := Endpoint{ID: id.New("whe"), TenantID: tenantID, URL: in.URL, Description: strings.TrimSpace(in.Description), Events: in.Events,
		Secret: s.NewSecret(), Status: "active", CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateEndpoint(ctx, &e); err != nil {
		return Endpoint{}, errs.E("notify.CreateEndpoint", err)
	}
	return e, nil
}

// UpdateEndpoint changes an endpoint's URL, description, events or status.
// Enabling a disabled endpoint clears its failure record.
func (s *Service) UpdateEndpoint(ctx context.Context, tenantID, id string, change func(*EndpointInput, *bool)) (Endpoint, error) {
	e, err := s.store.Endpoint(ctx, tenantID, id)
	if err != nil {
		return Endpoint{}, err
	}
	in := EndpointInput{URL: e.URL, Description: e.Description, Events: slices.Clone(e.Events)}
	enabled := e.Status == "active"
	change(&in, &enabled)
	if in, err = s.validate(in); err != nil {
		return Endpoint{}, err
	}
	e.URL, e.Description, e.Events = in.URL, strings.TrimSpace(in.Description), in.Events
	switch {
	case enabled && e.Status != "active":
		e.Status, e.DisabledReason, e.FailingSince = "active", "", nil
	case !enabled && e.Status == "active":
		e.Status, e.DisabledReason = "disabled", "disabled by a user"
	}
	e.UpdatedAt = s.now()
	if err := s.store.UpdateEndpoint(ctx, &e); err != nil {
		return Endpoint{}, errs.E("notify.UpdateEndpoint", err)
	}
	return e, nil
}

// RotateSecret gives the endpoint a new secret; deliveries are signed with
// both for 24 hours so the receiver can switch without losing any.
func (s *Service) RotateSecret(ctx context.Context, tenantID, id string) (Endpoint, error) {
	e, err := s.store.Endpoint(ctx, tenantID, id)
	if err != nil {
		return Endpoint{}, err
	}
	exp := s.now().Add(24 * time.Hour)
	e.PreviousSecret, e.PreviousExpiresAt, e.Secret, e.UpdatedAt = e.Secret, &exp, s.NewSecret(), s.now()
	if err := s.store.UpdateEndpoint(ctx, &e); err != nil {
		return Endpoint{}, errs.E("notify.RotateSecret", err)
	}
	return e, nil
}

// Endpoint returns one endpoint.
func (s *Service) Endpoint(ctx context.Context, tenantID, id string) (Endpoint, error) {
	return s.store.Endpoint(ctx, tenantID, id)
}

// Endpoints lists a tenant's endpoints.
func (s *Service) Endpoints(ctx context.Context, tenantID string) ([]Endpoint, error) {
	return s.store.Endpoints(ctx, tenantID)
}

// Deliveries lists an endpoint's deliveries, newest first.
func (s *Service) Deliveries(ctx context.Context, tenantID, endpointID, after string, limit int) ([]Delivery, string, error) {
	if _, err := s.store.Endpoint(ctx, tenantID, endpointID); err != nil {
		return nil, "", err
	}
	limit = clamp(limit)
	ds, err := s.store.Deliveries(ctx, tenantID, endpointID, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(ds) > limit {
		ds = ds[:limit]
		next = ds[limit-1].ID
	}
	return ds, next, nil
}

// Delivery returns one delivery with its attempts.
func (s *Service) Delivery(ctx context.Context, tenantID, id string) (Delivery, []Attempt, error) {
	d, err := s.store.Delivery(ctx, tenantID, id)
	if err != nil {
		return Delivery{}, nil, err
	}
	as, err := s.store.Attempts(ctx, tenantID, id)
	return d, as, err
}

// Replay sends a delivery again now. A delivery whose schedule had run out
// gets this one attempt; a pending one is refused by the dashboard (it is
// already queued).
func (s *Service) Replay(ctx context.Context, tenantID, id string) (Delivery, error) {
	if err := s.store.Replay(ctx, tenantID, id); err != nil {
		return Delivery{}, errs.E("notify.Replay", err)
	}
	return s.store.Delivery(ctx, tenantID, id)
}

// Relay fans out pending events; see Store.Relay.
func (s *Service) Relay(ctx context.Context) (int, error) { return s.store.Relay(ctx, 200, EmailFor) }

// JobEmail is the job kind that sends one e-mail notification; its payload
// is {"event_id", "kind"}.
const JobEmail = "email.notify"

// E-mail notification kinds a tenant can turn on and off.
const (
	EmailNewOrder        = "new_order"
	EmailLowStock        = "low_stock"
	EmailOrderShipped    = "order_shipped"
	EmailWebhookDisabled = "webhook_disabled"
	// A 3PL or supplier refused a fulfilment request.
	EmailFulfillmentRejected = "fulfillment_rejected"
)

// EmailKinds lists them, in the order the settings show them.
var EmailKinds = []string{EmailNewOrder, EmailLowStock, EmailFulfillmentRejected, EmailOrderShipped, EmailWebhookDisabled}

// offByDefault are the e-mails a tenant must turn on: the order-shipped
// e-mail goes to customers, who may already hear from the store itself.
var offByDefault = map[string]bool{EmailOrderShipped: true}

// EmailFor maps event types to the e-mail they cause.
var EmailFor = map[string]string{
	"inventory.low_stock":        EmailLowStock,
	"webhook_endpoint.disabled":  EmailWebhookDisabled,
	"order.created":              EmailNewOrder,
	"shipment.created":           EmailOrderShipped,
	"fulfillment_order.rejected": EmailFulfillmentRejected,
}

// NotificationSettings says which e-mail kinds the tenant wants (default on).
func (s *Service) NotificationSettings(ctx context.Context, tenantID string) (map[string]bool, error) {
	set, err := s.store.NotificationSettings(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, k := range EmailKinds {
		on, ok := set[k]
		out[k] = on || !ok && !offByDefault[k]
	}
	return out, nil
}

// SetNotificationSetting turns one e-mail kind on or off.
func (s *Service) SetNotificationSetting(ctx context.Context, tenantID, kind string, enabled bool) error {
	if !slices.Contains(EmailKinds, kind) {
		return errs.InvalidFields("notify.SetNotificationSetting", errs.FieldError{Field: "kind", Message: "must be one of " + strings.Join(EmailKinds, ", "), Value: kind})
	}
	return s.store.SetNotificationSetting(ctx, tenantID, kind, enabled)
}

// Body is what a receiver gets: the Standard Webhooks shape.
func Body(e Event) ([]byte, error) {
	return json.Marshal(struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{e.ID, e.Type, e.CreatedAt, e.Payload})
}
