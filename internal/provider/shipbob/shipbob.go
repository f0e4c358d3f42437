// Package shipbob is a fulfilment provider backed by ShipBob, written to
// ShipBob's REST API version 2025-07 (https://developer.shipbob.com). The
// base URL is https://api.shipbob.com/2025-07; a sandbox account uses
// https://sandbox-api.shipbob.com instead (Config.Endpoint). Version 2025-07
// rather than 1.0: ShipBob has deprecated 1.0 and 2.0, and their support
// ends on 31 July 2026.
//
// Every request carries "Authorization: Bearer <personal access token>" and
// the shipbob_channel_id header naming the channel the token writes to
// (GET /2025-07/channel lists them). The calls made:
//
//	POST /2025-07/order                      Submit: create a DTC order
//	GET  /2025-07/order?ReferenceIds={id}    Submit: find the order a refused duplicate names
//	GET  /2025-07/order/{orderId}            Status
//	POST /2025-07/order/{orderId}:cancel     Cancel: the order and all its shipments
//	GET  /2025-07/inventory-level            Stock, page by page through "next"
//
// Submit sends provider.Request.ID as the order's reference_id. ShipBob
// keeps reference_id unique and answers a second order with the same one
// with 422; Submit then looks the order up by its reference_id and returns
// its id, so submitting a request again (after a lost answer, say) makes no
// second order. Products are sent by reference_id (the SKU) without a name:
// ShipBob creates a product it does not know when given a name, and an
// order for a SKU the merchant has not set up in ShipBob should be refused
// rather than invent a product. A refused order is a *provider.RejectedError.
// The recipient's name falls back to the company; Request.Note has no place
// in ShipBob's order and is not sent.
//
// Status reads the order's status and its shipments. ShipBob imputes the
// order status from its shipments' statuses; it maps to provider.State so:
//
//	ShipBob order status  its shipments                       State
//	ImportReview          any                                 pending
//	Processing            one LabeledCreated or Completed     in_progress
//	Processing            otherwise, one OnHold               pending (Reason: the hold)
//	Processing            otherwise                           accepted
//	Exception             any                                 pending (Reason: the exception)
//	PartiallyFulfilled    any                                 in_progress
//	Fulfilled             any                                 shipped
//	Cancelled             any                                 cancelled
//	anything else         any                                 pending (Reason says so)
//
// Nothing maps to rejected: an order in Exception (out of stock, an unknown
// or inactive SKU, stock in transfer) or on hold stays at ShipBob and ships
// once the cause is cleared, so calling it rejected would invite a second
// shipment from elsewhere. The Reason carries ShipBob's status details so
// people can act. Shipments whose status is Completed (they have left
// ShipBob) come back as provider.Shipment with the carrier, tracking number
// and URL, and their lines.
//
// Stock reads GET /2025-07/inventory-level, whose items carry the inventory
// item's sku, and reports total_sellable_quantity (on hand, less what is
// committed to orders and owed to orders in Exception), or
// total_fulfillable_quantity where an item has no sellable figure. ShipBob
// tracks stock per inventory item, so the inventory item's SKU must be the
// SKU Waybill sells; bundles have no stock of their own and do not appear.
//
// ShipBob allows 150 requests a minute per token and application and answers
// 429 beyond that, with x-retry-after (seconds). The client waits as told
// (Retry-After is honoured too) and retries up to Client.Retries times.
package shipbob

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/provider"
)

// BaseURL is ShipBob's production API; SandboxURL is its sandbox.
const (
	BaseURL    = "https://api.shipbob.com"
	SandboxURL = "https://sandbox-api.shipbob.com"
)

// apiVersion is the ShipBob API version every path starts with.
const apiVersion = "2025-07"

// DefaultShippingMethods are the shipping_method names sent for each speed
// unless Config.ShippingMethods says otherwise. In ShipBob the merchant maps
// each name to a ship option (Ship Option Mapping); a name not mapped there
// ships as Standard.
var DefaultShippingMethods = map[provider.Speed]string{
	provider.Standard:  "Standard",
	provider.Expedited: "Expedited",
	provider.Priority:  "2-Day",
}

// Config is one merchant's ShipBob account.
type Config struct {
	// Token is a personal access token (ShipBob: Integrations > API Tokens).
	Token string `json:"token"`
	// ChannelID is the ShipBob channel orders are created in: the id of a
	// channel with orders_write among its scopes (GET /2025-07/channel).
	ChannelID string `json:"channel_id"`
	// Endpoint replaces BaseURL: SandboxURL for a sandbox account, or a
	// fake's URL in tests.
	Endpoint string `json:"endpoint,omitempty"`
	// ShippingMethods overrides DefaultShippingMethods for some speeds.
	ShippingMethods map[provider.Speed]string `json:"shipping_methods,omitempty"`
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var fe errs.FieldList
	switch {
	case strings.TrimSpace(c.Token) == "":
		fe.Add("token", "is required", "")
	case strings.ContainsFunc(c.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		fe.Add("token", "must not contain spaces or control characters", "")
	}
	if c.ChannelID == "" {
		fe.Add("channel_id", "is required", "")
	} else if n, err := strconv.ParseInt(c.ChannelID, 10, 32); err != nil || n <= 0 {
		fe.Add("channel_id", "must be a ShipBob channel id (a positive whole number)", c.ChannelID)
	}
	if c.Endpoint != "" {
		if _, err := parseEndpoint(c.Endpoint); err != nil {
			fe.Add("endpoint", err.Error(), c.Endpoint)
		}
	}
	speeds := make([]provider.Speed, 0, len(c.ShippingMethods))
	for s := range c.ShippingMethods {
		speeds = append(speeds, s)
	}
	slices.Sort(speeds)
	for _, s := range speeds {
		field := "shipping_methods." + string(s)
		if _, ok := DefaultShippingMethods[s]; !ok {
			fe.Add(field, "is not a speed (standard, expedited or priority)", string(s))
		} else if strings.TrimSpace(c.ShippingMethods[s]) == "" {
			fe.Add(field, "must name a ShipBob shipping method", c.ShippingMethods[s])
		}
	}
	return fe.Err("shipbob.Config")
}

func parseEndpoint(s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", errors.New("is not a URL")
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return "", errors.New("must be an absolute http or https URL")
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return "", errors.New("must have no query, fragment or user")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// Client is one merchant's ShipBob account; it implements provider.Provider.
// It is safe for concurrent use once its fields are set.
type Client struct {
	// Sleep waits d or until ctx ends, before a request ShipBob throttled is
	// sent again. New sets a timer; tests replace it so as not to wait.
	Sleep func(ctx context.Context, d time.Duration) error
	// Retries is how many times a throttled request is sent again before
	// Client gives up with a transient error. New sets 3.
	Retries int

	cfg     Config
	hc      *http.Client
	root    string // the endpoint, without a trailing slash
	methods map[provider.Speed]string
	bad     error // what is wrong with cfg.Endpoint, reported by every call
}

var _ provider.Provider = (*Client)(nil)

// New returns a client for cfg, which should have passed Validate. It sends
// requests with hc, or http.DefaultClient when hc is nil.
func New(cfg Config, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := &Client{Sleep: wait, Retries: 3, cfg: cfg, hc: hc, root: BaseURL}
	if cfg.Endpoint != "" {
		root, err := parseEndpoint(cfg.Endpoint)
		if err != nil {
			c.bad = errs.E("shipbob.New", errs.Invalid, "endpoint "+err.Error())
		}
		c.root = root
	}
	c.methods = make(map[provider.Speed]string, len(DefaultShippingMethods))
	for s, m := range DefaultShippingMethods {
		c.methods[s] = m
	}
	for s, m := range cfg.ShippingMethods {
		if strings.TrimSpace(m) != "" {
			c.methods[s] = strings.TrimSpace(m)
		}
	}
	return c
}

// Submit creates ShipBob's order for r and returns ShipBob's order id.
func (c *Client) Submit(ctx context.Context, r provider.Request) (string, error) {
	const op = "shipbob.Submit"
	body, err := c.newOrder(r)
	if err != nil {
		return "", err
	}
	data, err := c.call(ctx, op, http.MethodPost, "/order", nil, body)
	if err == nil {
		o, err := parseOrder(data)
		if err != nil || o.ID <= 0 {
			return "", errs.E(op, errs.Internal, "ShipBob's answer to a new order has no order id", err)
		}
		return strconv.FormatInt(o.ID, 10), nil
	}
	ae, ok := asAPIError(err)
	if !ok || (ae.Code != http.StatusBadRequest && ae.Code != http.StatusUnprocessableEntity) {
		return "", err
	}
	// 422 is how ShipBob refuses a reference_id it has seen, and other
	// orders it cannot take: an order with r.ID tells which.
	if ae.Code == http.StatusUnprocessableEntity {
		ref, found, err := c.findByReference(ctx, op, r.ID)
		if err != nil {
			return "", err
		}
		if found {
			return ref, nil
		}
	}
	return "", errs.E(op, errs.Invalid, &provider.RejectedError{Reason: ae.reason()})
}

// findByReference returns the id of the order whose reference_id is ref.
func (c *Client) findByReference(ctx context.Context, op, ref string) (string, bool, error) {
	data, err := c.call(ctx, op, http.MethodGet, "/order", url.Values{"ReferenceIds": {ref}}, nil)
	if err != nil {
		return "", false, err
	}
	orders, err := parseOrders(data)
	if err != nil {
		return "", false, errs.E(op, errs.Internal, "reading ShipBob's orders", err)
	}
	channel, _ := strconv.ParseInt(c.cfg.ChannelID, 10, 64)
	var found int64
	for _, o := range orders {
		if o.ReferenceID != ref || o.ID <= 0 {
			continue
		}
		if found == 0 || (o.Channel != nil && o.Channel.ID == channel) {
			found = o.ID
		}
	}
	if found == 0 {
		return "", false, nil
	}
	return strconv.FormatInt(found, 10), true, nil
}

// Status reads ShipBob's order ref.
func (c *Client) Status(ctx context.Context, ref string) (provider.Status, error) {
	const op = "shipbob.Status"
	if err := checkRef(op, ref); err != nil {
		return provider.Status{}, err
	}
	data, err := c.call(ctx, op, http.MethodGet, "/order/"+ref, nil, nil)
	if err != nil {
		return provider.Status{}, err
	}
	o, err := parseOrder(data)
	if err != nil {
		return provider.Status{}, errs.E(op, errs.Internal, "reading ShipBob's order "+ref, err)
	}
	return o.status(), nil
}

// Cancel asks ShipBob to cancel order ref and every shipment of it. An
// order ShipBob already cancelled is no error.
func (c *Client) Cancel(ctx context.Context, ref string) error {
	const op = "shipbob.Cancel"
	if err := checkRef(op, ref); err != nil {
		return err
	}
	data, err := c.call(ctx, op, http.MethodPost, "/order/"+ref+":cancel", nil, nil)
	var reason string
	switch ae, isAPI := asAPIError(err); {
	case err == nil:
		res, err := parseCancel(data)
		if err != nil {
			return errs.E(op, errs.Internal, "reading ShipBob's answer to a cancellation", err)
		}
		if res.succeeded() {
			return nil
		}
		reason = res.reason()
	case isAPI && ae.Code == http.StatusUnprocessableEntity:
		reason = ae.reason()
	default:
		return err
	}
	if st, err := c.Status(ctx, ref); err == nil && st.State == provider.Cancelled {
		return nil
	}
	return errs.E(op, errs.Conflict, &provider.RejectedError{Reason: reason})
}

// pageSize is how many inventory items Stock asks for per page, and
// maxPages how many pages it follows before deciding ShipBob loops.
const (
	pageSize = 100
	maxPages = 10_000
)

// Stock lists the sellable units of each SKU across ShipBob's network.
func (c *Client) Stock(ctx context.Context) ([]provider.Level, error) {
	const op = "shipbob.Stock"
	next := c.url("/inventory-level", url.Values{"PageSize": {strconv.Itoa(pageSize)}})
	seen := map[string]bool{}
	units := map[string]int64{}
	for page := 0; next != ""; page++ {
		if page == maxPages || seen[next] {
			return nil, errs.E(op, errs.Internal, "ShipBob's inventory pages do not end")
		}
		seen[next] = true
		data, err := c.send(ctx, op, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		p, err := parseLevels(data)
		if err != nil {
			return nil, errs.E(op, errs.Internal, "reading ShipBob's inventory levels", err)
		}
		for _, l := range p.levels() {
			units[l.SKU] = min(units[l.SKU]+l.Available, math.MaxInt64/2)
		}
		if next, err = c.resolve(p.Next); err != nil {
			return nil, errs.E(op, errs.Internal, "ShipBob's next inventory page", err)
		}
	}
	out := make([]provider.Level, 0, len(units))
	for sku, n := range units {
		out = append(out, provider.Level{SKU: sku, Available: n})
	}
	slices.SortFunc(out, func(a, b provider.Level) int { return strings.Compare(a.SKU, b.SKU) })
	return out, nil
}

// checkRef makes sure ref is a ShipBob order id before it goes in a path.
func checkRef(op, ref string) error {
	if n, err := strconv.ParseInt(ref, 10, 64); err != nil || n <= 0 || strconv.FormatInt(n, 10) != ref {
		return errs.E(op, errs.Invalid, fmt.Sprintf("%q is not a ShipBob order id", ref))
	}
	return nil
}
