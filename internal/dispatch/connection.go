// Package dispatch hands fulfilment orders to whoever fulfils them and
// follows their answers: a 3PL speaking Waybill's generic protocol (signed
// requests to its callback URL; it answers through the API with a key
// restricted to its facility), a provider adapter (ShipBob, Amazon MCF)
// polled for status and tracking, or a dropship supplier sent a purchase
// order by e-mail with a portal link. It also pulls 3PL stock levels into
// the ledger. It owns each facility's connection; the state of each request
// lives with the fulfilment order (package order).
package dispatch

import (
	"context"
	"encoding/json"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
)

// Method is how a facility is told of its work.
type Method string

const (
	// Callback is the generic 3PL protocol: signed POSTs to the callback URL.
	Callback Method = "callback"
	// Email sends a dropship supplier a purchase order with a portal link
	// (and a signed POST too when a callback URL is set).
	Email     Method = "email"
	ShipBob   Method = "shipbob"
	AmazonMCF Method = "amazon_mcf"
)

// Methods lists every method, in the order the dashboard offers them.
var Methods = []Method{Callback, Email, ShipBob, AmazonMCF}

// Connection is how one 3PL or supplier facility is reached.
type Connection struct {
	FacilityID  string
	TenantID    string
	Method      Method
	CallbackURL string // generic protocol; optional for Email
	// Secret signs what Waybill sends (Standard Webhooks) and the supplier
	// portal's links. Shown once, when made.
	Secret string
	// Settings are a provider adapter's settings; Secrets its credentials
	// (never shown back).
	Settings    map[string]any
	Secrets     map[string]any
	Email       string // the supplier's address, for Email
	FetchStock  bool   // pull the 3PL's stock levels into the ledger
	LastStockAt *time.Time
	LastError   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Provider reports whether c is served by a provider adapter.
func (c Connection) Provider() bool { return c.Method == ShipBob || c.Method == AmazonMCF }

// Store keeps connections.
type Store interface {
	Connection(ctx context.Context, tenantID, facilityID string) (Connection, error)
	SaveConnection(ctx context.Context, c *Connection) error
	DeleteConnection(ctx context.Context, tenantID, facilityID string) error
	// StockConnections lists every tenant's connections that pull stock.
	StockConnections(ctx context.Context) ([]Connection, error)
	// FulfillmentOrderTenant reads which tenant a fulfilment order is of
	// (the supplier portal knows only the fulfilment order).
	FulfillmentOrderTenant(ctx context.Context, foID string) (string, error)
}

// ConnectionInput is what people write to connect a facility.
type ConnectionInput struct {
	Method      Method
	CallbackURL string
	Email       string
	FetchStock  bool
	Settings    map[string]any
	Secrets     map[string]any
}

// Validate checks in against the facility it connects; checkURL is the
// outbound URL policy (public http(s) only, unless allowed otherwise) and
// checkProvider a provider adapter's settings check.
func (in ConnectionInput) validate(f inventory.Facility, checkURL func(string) error, checkProvider func(Method, map[string]any) error) error {
	const op = "dispatch.Connect"
	var fe errs.FieldList
	if f.Kind != inventory.ThreePL && f.Kind != inventory.Dropship {
		fe.Add("method", "only 3pl and dropship facilities are connected; "+f.Code+" is "+string(f.Kind), string(in.Method))
	}
	if !slices.Contains(Methods, in.Method) {
		fe.Add("method", "must be one of callback, email, shipbob, amazon_mcf", string(in.Method))
	}
	if in.Method == Email && f.Kind != inventory.Dropship {
		fe.Add("method", "email is for dropship suppliers", string(in.Method))
	}
	if (in.Method == ShipBob || in.Method == AmazonMCF) && f.Kind != inventory.ThreePL {
		fe.Add("method", string(in.Method)+" is a 3PL", string(in.Method))
	}
	u := strings.TrimSpace(in.CallbackURL)
	switch {
	case u == "" && in.Method == Callback:
		fe.Add("callback_url", "is required for the callback method", "")
	case u != "":
		if err := checkURL(u); err != nil {
			fe.Add("callback_url", errs.Message(err), in.CallbackURL)
		}
	}
	if in.Method == Email {
		if _, err := mail.ParseAddress(strings.TrimSpace(in.Email)); err != nil || strings.TrimSpace(in.Email) == "" {
			fe.Add("email", "must be the supplier's e-mail address", in.Email)
		}
	}
	if in.FetchStock && in.Method == Email {
		fe.Add("fetch_stock", "suppliers reached by e-mail have no stock to fetch", in.FetchStock)
	}
	if err := fe.Err(op); err != nil {
		return err
	}
	if (in.Method == ShipBob || in.Method == AmazonMCF) && checkProvider != nil {
		return checkProvider(in.Method, merge(in.Settings, in.Secrets))
	}
	return nil
}

// merge is settings and secrets as one map, as an adapter's Config reads
// them.
func merge(settings, secrets map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range settings {
		out[k] = v
	}
	for k, v := range secrets {
		out[k] = v
	}
	return out
}

// decode turns a settings map into an adapter's Config.
func decode(m map[string]any, into any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}
