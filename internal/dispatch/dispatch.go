package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/waybill/waybill/internal/costs"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/mail"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/provider"
	"github.com/waybill/waybill/internal/webhook"
)

// ProviderFunc builds a provider adapter from a connection's settings and
// secrets (merged) and the HTTP client to call it with; it fails with field
// errors when they are wrong.
type ProviderFunc func(settings map[string]any, hc *http.Client) (provider.Provider, error)

// Adapter is the ProviderFunc of an adapter with a Config C built by
// build: the settings decode into C (field errors are named as they are)
// and must pass C's Validate.
func Adapter[C interface{ Validate() error }, P provider.Provider](build func(C, *http.Client) P) ProviderFunc {
	return func(settings map[string]any, hc *http.Client) (provider.Provider, error) {
		var cfg C
		if err := decode(settings, &cfg); err != nil {
			return nil, errs.InvalidFields("dispatch.Adapter", errs.FieldError{Field: "settings", Message: "does not fit the provider's settings: " + err.Error()})
		}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		return build(cfg, hc), nil
	}
}

// Service connects facilities and dispatches their fulfilment orders.
type Service struct {
	store  Store
	orders *order.Service
	inv    *inventory.Service
	hc     *http.Client
	// CheckURL is the outbound URL policy for callback URLs.
	CheckURL func(string) error
	// NewSecret makes a signing secret.
	NewSecret func() string
	// BaseURL is where Waybill's API is reached, for the links in requests.
	BaseURL string
	// PollEvery is how often a provider is asked how an order goes.
	PollEvery time.Duration
	// Costs gives dropship suppliers' prices for purchase orders.
	Costs *costs.Service
	// Mail sends e-mail (purchase orders to suppliers); nil when no mail
	// server is configured.
	Mail func(ctx context.Context, m mail.Message) error
	// Merchant names a tenant and its currency, for purchase orders.
	Merchant func(ctx context.Context, tenantID string) (name, currency string, err error)
	now      func() time.Time

	providers map[Method]ProviderFunc
	mu        sync.Mutex
	built     map[string]provider.Provider // one adapter per configuration
}

// NewService returns a dispatcher over store; hc makes outbound calls (it
// should enforce the URL policy at dial time too).
func NewService(store Store, orders *order.Service, inv *inventory.Service, hc *http.Client) *Service {
	return &Service{store: store, orders: orders, inv: inv, hc: hc, CheckURL: func(string) error { return nil }, NewSecret: webhook.NewSecret,
		PollEvery: 5 * time.Minute, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		providers: map[Method]ProviderFunc{}, built: map[string]provider.Provider{}}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Register installs the adapter for a provider method.
func (s *Service) Register(m Method, fn ProviderFunc) { s.providers[m] = fn }

// adapter returns the provider for c, one per distinct configuration so
// token caches and rate limiters outlive a call.
func (s *Service) adapter(c Connection) (provider.Provider, error) {
	fn, ok := s.providers[c.Method]
	if !ok {
		return nil, errs.E("dispatch.adapter", errs.Invalid, "no adapter for "+string(c.Method))
	}
	cfg := merge(c.Settings, c.Secrets)
	b, _ := json.Marshal(cfg)
	key := string(c.Method) + ":" + string(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.built[key]; ok {
		return p, nil
	}
	p, err := fn(cfg, s.hc)
	if err != nil {
		return nil, err
	}
	s.built[key] = p
	return p, nil
}

func (s *Service) checkProvider(m Method, cfg map[string]any) error {
	fn, ok := s.providers[m]
	if !ok {
		return errs.InvalidFields("dispatch.Connect", errs.FieldError{Field: "method", Message: "this build has no " + string(m) + " adapter", Value: string(m)})
	}
	_, err := fn(cfg, s.hc)
	return err
}

// Connect sets how a facility is reached. A new connection gets a signing
// secret, returned once (as Secret) in the result; an existing one keeps
// its secret, and its provider secrets unless new ones are given.
func (s *Service) Connect(ctx context.Context, tenantID, facilityID string, in ConnectionInput) (Connection, bool, error) {
	const op = "dispatch.Connect"
	f, err := s.inv.Facility(ctx, tenantID, facilityID)
	if err != nil {
		return Connection{}, false, errs.E(op, err)
	}
	old, err := s.store.Connection(ctx, tenantID, facilityID)
	exists := err == nil
	if err != nil && !errs.Is(errs.NotExist, err) {
		return Connection{}, false, errs.E(op, err)
	}
	if exists && len(in.Secrets) == 0 && in.Method == old.Method {
		in.Secrets = old.Secrets
	}
	if err := in.validate(f, s.CheckURL, s.checkProvider); err != nil {
		return Connection{}, false, err
	}
	now := s.now()
	c := Connection{FacilityID: f.ID, TenantID: tenantID, Method: in.Method, CallbackURL: strings.TrimRight(strings.TrimSpace(in.CallbackURL), "/"),
		Settings: in.Settings, Secrets: in.Secrets, Email: strings.TrimSpace(in.Email), FetchStock: in.FetchStock, CreatedAt: now, UpdatedAt: now}
	if exists {
		c.Secret, c.CreatedAt, c.LastStockAt = old.Secret, old.CreatedAt, old.LastStockAt
	} else {
		c.Secret = s.NewSecret()
	}
	if err := s.store.SaveConnection(ctx, &c); err != nil {
		return Connection{}, false, errs.E(op, err)
	}
	// Requests that waited for the facility go on the next run.
	if err := s.orders.RetryFacility(ctx, tenantID, f.ID); err != nil {
		return Connection{}, false, errs.E(op, err)
	}
	return c, !exists, nil
}

// Connection returns a facility's connection.
func (s *Service) Connection(ctx context.Context, tenantID, facilityID string) (Connection, error) {
	return s.store.Connection(ctx, tenantID, facilityID)
}

// Disconnect removes a facility's connection: its requests then wait.
func (s *Service) Disconnect(ctx context.Context, tenantID, facilityID string) error {
	return s.store.DeleteConnection(ctx, tenantID, facilityID)
}

// RotateSecret gives a connection a new signing secret, returned once.
func (s *Service) RotateSecret(ctx context.Context, tenantID, facilityID string) (Connection, error) {
	c, err := s.store.Connection(ctx, tenantID, facilityID)
	if err != nil {
		return Connection{}, err
	}
	c.Secret, c.UpdatedAt = s.NewSecret(), s.now()
	return c, s.store.SaveConnection(ctx, &c)
}

// Run does the dispatcher work that is due: requests and cancellations to
// send, providers to poll. It reports how many fulfilment orders it
// handled; one failing does not stop the rest (it is retried later).
func (s *Service) Run(ctx context.Context) (int, error) {
	if _, err := s.orders.OpenScheduled(ctx); err != nil {
		return 0, err
	}
	refs, err := s.orders.DueRequests(ctx, 100)
	if err != nil {
		return 0, err
	}
	n := 0
	// A facility that failed once in this run is not called again until
	// the next: one 3PL timing out must not hold up the others' requests.
	down := map[string]error{}
	for _, r := range refs {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if err := s.handle(ctx, r[0], r[1], down); err != nil {
			retry := s.now().Add(backoff(err))
			if ferr := s.orders.Failed(ctx, r[0], r[1], err, retry); ferr != nil {
				return n, ferr
			}
			continue
		}
		n++
	}
	return n, nil
}

// backoff is how long to wait after a failure: a facility without a
// connection is looked at again in ten minutes, anything else in one.
func backoff(err error) time.Duration {
	if errors.Is(err, errNotConnected) {
		return 10 * time.Minute
	}
	return time.Minute
}

var errNotConnected = errors.New("the facility is not connected: connect it (Settings → Facilities) or fulfil the order by hand")

func (s *Service) handle(ctx context.Context, tenantID, foID string, down map[string]error) (err error) {
	fo, err := s.orders.FulfillmentOrder(ctx, tenantID, foID)
	if err != nil {
		return err
	}
	if err := down[fo.FacilityID]; err != nil {
		return err
	}
	defer func() {
		if err != nil && errs.Is(errs.Transient, err) {
			down[fo.FacilityID] = err
		}
	}()
	c, err := s.store.Connection(ctx, tenantID, fo.FacilityID)
	if errs.Is(errs.NotExist, err) {
		return errNotConnected
	}
	if err != nil {
		return err
	}
	f, err := s.inv.Facility(ctx, tenantID, fo.FacilityID)
	if err != nil {
		return err
	}
	switch fo.Pending {
	case order.PendingRequest, order.PendingCancel:
		return s.send(ctx, c, f, fo)
	case order.PendingPoll:
		return s.poll(ctx, c, fo)
	}
	return nil
}

// send delivers a request or a cancellation.
func (s *Service) send(ctx context.Context, c Connection, f inventory.Facility, fo order.FulfillmentOrderView) error {
	cancel := fo.Pending == order.PendingCancel
	o, err := s.orders.Get(ctx, fo.TenantID, fo.OrderID)
	if err != nil {
		return err
	}
	actor := "dispatch:" + f.Code
	if !cancel && fo.Remaining() == 0 {
		// Nothing is left to ask for (the order changed meanwhile).
		_, err := s.orders.Act(ctx, fo.TenantID, fo.ID, order.FulfillmentAction{Kind: order.ActionCancel, Message: "nothing left to ask for"}, actor)
		return err
	}
	r := s.request(&o, fo, cancel)
	note := ""
	switch {
	case c.Provider():
		p, err := s.adapter(c)
		if err != nil {
			return err
		}
		if cancel {
			err := p.Cancel(ctx, fo.ProviderRef)
			if rej, ok := provider.IsRejected(err); ok {
				_, err = s.orders.Act(ctx, fo.TenantID, fo.ID, order.FulfillmentAction{Kind: order.ActionRejectCancellation, Reason: rej.Reason}, actor)
				return err
			}
			if err != nil {
				return err
			}
			if err := s.orders.Sent(ctx, fo.TenantID, fo.ID, order.Sending{Did: order.PendingCancel}, actor); err != nil {
				return err
			}
			_, err = s.orders.Act(ctx, fo.TenantID, fo.ID, order.FulfillmentAction{Kind: order.ActionAcceptCancellation}, actor)
			return err
		}
		pr := providerRequest(r)
		if q, ok := p.(provider.Quoter); ok {
			// Ask first: an order the provider cannot ship is re-sourced
			// before one is made there.
			qt, err := q.Quote(ctx, pr)
			if err != nil {
				return err
			}
			if !qt.Fulfillable {
				_, err = s.orders.Act(ctx, fo.TenantID, fo.ID, order.FulfillmentAction{Kind: order.ActionReject, Reason: "PROVIDER_CANNOT_FULFIL", Message: strings.Join(qt.Reasons, "; ")}, actor)
				return err
			}
			if qt.Fee.Currency != "" {
				note = "estimated fee " + qt.Fee.String() + " " + qt.Fee.Currency
			}
		}
		ref, err := p.Submit(ctx, pr)
		if rej, ok := provider.IsRejected(err); ok {
			_, err = s.orders.Act(ctx, fo.TenantID, fo.ID, order.FulfillmentAction{Kind: order.ActionReject, Reason: "PROVIDER_REFUSED", Message: rej.Reason}, actor)
			return err
		}
		if err != nil {
			return err
		}
		return s.orders.Sent(ctx, fo.TenantID, fo.ID, order.Sending{Did: order.PendingRequest, Ref: ref, Next: order.PendingPoll, Note: note, Fingerprint: order.Fingerprint(&o, fo)}, actor)
	case c.Method == Email:
		if err := s.sendPurchaseOrder(ctx, c, f, &o, r, cancel); err != nil {
			return err
		}
		if c.CallbackURL != "" {
			if err := s.post(ctx, c, r); err != nil {
				return err
			}
		}
	default:
		if err := s.post(ctx, c, r); err != nil {
			return err
		}
	}
	return s.orders.Sent(ctx, fo.TenantID, fo.ID, order.Sending{Did: fo.Pending, Fingerprint: order.Fingerprint(&o, fo)}, actor)
}

// post delivers r to the connection's callback URL, signed.
func (s *Service) post(ctx context.Context, c Connection, r Request) error {
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	// The message id is the same for every attempt at one request, so a
	// 3PL can drop duplicates.
	msgID := "msg_" + r.FulfillmentOrder.ID + "_" + strings.ToLower(r.Kind)
	res := webhook.DeliverSigned(ctx, s.hc, c.CallbackURL+"/fulfillment_order_notification", []string{c.Secret}, msgID, s.now(), body)
	if res.Err != "" {
		return errs.E("dispatch.post", errs.Transient, c.CallbackURL+"/fulfillment_order_notification: "+res.Err)
	}
	return nil
}

// poll asks a provider how a fulfilment order goes and applies the answer:
// accepted, rejected (re-sourced), shipments with tracking (fulfilled, once
// each), cancelled.
func (s *Service) poll(ctx context.Context, c Connection, fo order.FulfillmentOrderView) error {
	if !c.Provider() {
		return s.orders.Polled(ctx, fo.TenantID, fo.ID, time.Time{})
	}
	p, err := s.adapter(c)
	if err != nil {
		return err
	}
	st, err := p.Status(ctx, fo.ProviderRef)
	if err != nil {
		return err
	}
	actor := "dispatch:" + fo.FacilityCode
	act := func(kind, reason, msg string) error {
		_, err := s.orders.Act(ctx, fo.TenantID, fo.ID, order.FulfillmentAction{Kind: kind, Reason: reason, Message: msg}, actor)
		if errs.Is(errs.Conflict, err) {
			return nil // the state moved on meanwhile
		}
		return err
	}
	if fo.RequestStatus == order.RequestSubmitted && (st.State == provider.Accepted || st.State == provider.InProgress || st.State == provider.Shipped) {
		if err := act(order.ActionAccept, "", st.Raw); err != nil {
			return err
		}
	}
	for _, sh := range st.Shipments {
		in := order.FulfillInput{Carrier: sh.Carrier, Service: sh.Service, TrackingNumber: sh.TrackingNumber, TrackingURL: sh.TrackingURL, ExternalID: sh.ID}
		for _, l := range sh.Lines {
			in.Lines = append(in.Lines, order.FulfillLine{SKU: l.SKU, Quantity: l.Quantity})
		}
		if _, _, err := s.orders.Fulfill(ctx, fo.TenantID, fo.ID, in, actor); err != nil && !errs.Is(errs.Conflict, err) {
			return fmt.Errorf("recording shipment %s: %w", sh.ID, err)
		}
	}
	next := s.now().Add(s.PollEvery)
	switch st.State {
	case provider.Rejected:
		if err := act(order.ActionReject, "PROVIDER_REFUSED", st.Reason); err != nil {
			return err
		}
		next = time.Time{}
	case provider.Cancelled:
		if fo.RequestStatus == order.RequestCancellationRequest {
			if err := act(order.ActionAcceptCancellation, "", st.Raw); err != nil {
				return err
			}
		} else if err := act(order.ActionReject, "PROVIDER_CANCELLED", st.Reason); err != nil {
			return err
		}
		next = time.Time{}
	case provider.Shipped:
		next = time.Time{}
		// Done at the provider with units unshipped (Amazon's
		// CompletePartialled): the rest waits for the merchant.
		if cur, err := s.orders.FulfillmentOrder(ctx, fo.TenantID, fo.ID); err == nil && cur.Remaining() > 0 &&
			cur.Status != order.FulfillmentClosed && cur.Status != order.FulfillmentCancelled {
			if err := act(order.ActionClose, "PROVIDER_INCOMPLETE", st.Reason); err != nil {
				return err
			}
		}
	}
	return s.orders.Polled(ctx, fo.TenantID, fo.ID, next)
}
