// Package amazonmcf fulfils orders through Amazon Multi-Channel Fulfillment
// (MCF): Amazon ships a seller's FBA stock to our customers. The client is
// written to the Selling Partner API's Fulfillment Outbound API v2020-07-01
// (getFulfillmentPreview, createFulfillmentOrder, getFulfillmentOrder,
// cancelFulfillmentOrder) and FBA Inventory API v1 (getInventorySummaries),
// over the SP-API transport it shares with the Amazon sales channel
// (package spapi: the Login with Amazon token, pacing, backoff on 429).
//
// # Orders
//
// Submit creates a fulfilment order whose sellerFulfillmentOrderId is our
// fulfilment order id (see OrderID for the ids Amazon would not take as
// they are). That id is also the reference Submit returns and Status and
// Cancel take. Amazon keeps one order per sellerFulfillmentOrderId and
// refuses a second create with the same one, so a refused create is
// followed by a getFulfillmentOrder: when the order is there, it is ours
// from an earlier Submit (one whose answer was lost, say) and Submit
// succeeds with it; when it is not, the refusal stands, as a
// *provider.RejectedError with Amazon's reason. Orders are created with
// fulfillmentAction Ship and fulfillmentPolicy FillOrKill: an order Amazon
// cannot fill entirely is not shipped in part (but see CompletePartialled).
//
// The rest of the order: displayableOrderId, printed on the packing slip,
// is the merchant's order number made to fit the model (1 to 40 ISO 8859-1
// characters, no double spaces; our id when there is none);
// displayableOrderDate the order date; displayableOrderComment the note
// (at most 750 characters; "Order <number>" when there is none, as the
// model requires one); shippingSpeedCategory Standard, Expedited or
// Priority for our speeds (Standard when none is set). The address has a
// name and three lines: a company goes on the first line, before the
// street. Each line is an item whose sellerFulfillmentOrderItemId is its
// position (1, 2, …), so a SKU may come twice. The customer's e-mail goes
// in notificationEmails, for Amazon's ship-complete e-mail. Amazon takes
// at most 100 lines and 250 units an order; a bigger one is rejected
// without asking.
//
// # Statuses
//
// Status maps fulfillmentOrderStatus, read without regard to case (the
// model's enum says "Complete", its examples "COMPLETE"), onto our states:
//
//	Amazon status        provider.State  notes
//	New                  pending         received, not yet validated
//	Received             accepted        validated: address good, stock enough
//	Planning             in_progress     sent to the fulfilment network; still cancellable
//	Processing           in_progress     picking has begun; no longer cancellable
//	Complete             shipped         every unit left
//	CompletePartialled   shipped         the shipped units left, the rest was cancelled or unfulfillable (Reason lists it)
//	Unfulfillable        rejected        no sellable stock was found (Reason lists the units)
//	Invalid              rejected        the order could not be validated (Reason)
//	Cancelled            cancelled
//
// Any other status is an error rather than a guess. In every state,
// Status.Shipments are the parcels that left: one provider.Shipment per
// package of each shipment Amazon reports as SHIPPED, with its carrier
// code, tracking number, shipping date and the units packed in it
// (fulfillmentShipmentItem by packageNumber). Pending shipments and those
// cancelled by the seller or the fulfilment centre are not parcels and are
// left out, so a CompletePartialled order's shipments hold exactly the
// shipped lines. A shipment's ID is amazonShipmentId-packageNumber, stable
// across polls.
//
// # Cancelling
//
// Amazon cancels orders that are New, Received or Planning. When it
// refuses, Cancel reads the order: already Cancelled is success, anything
// else a *provider.RejectedError naming the status.
//
// # Stock
//
// Stock lists getInventorySummaries for the configured marketplace
// (granularityType Marketplace, details=true), following nextToken, and
// reports each SKU's fulfillableQuantity: the units Amazon can pick, pack
// and ship now.
//
// # Pacing
//
// Each operation has its own limiter at its documented usage plan: 2
// requests per second with a burst of 30 for the four Fulfillment Outbound
// operations, 2 per second with a burst of 2 for getInventorySummaries.
// Keep one Client per connection for as long as the process runs.
package amazonmcf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/time/rate"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/provider"
	"github.com/waybill/waybill/internal/spapi"
)

var _ provider.Provider = (*Client)(nil)

// Usage plans (requests per second and burst) from the Fulfillment
// Outbound API v2020-07-01 and FBA Inventory API v1 references.
const (
	outboundRate   = 2
	outboundBurst  = 30
	inventoryRate  = 2
	inventoryBurst = 2
)

// Paths of the operations.
const (
	ordersPath    = "/fba/outbound/2020-07-01/fulfillmentOrders"
	previewPath   = ordersPath + "/preview"
	summariesPath = "/fba/inventory/v1/summaries"
)

// maxPages guards Stock against a nextToken that never ends.
const maxPages = 1000

// Config is one seller's MCF connection. Field names in errors are the JSON
// names.
type Config struct {
	Region        string `json:"region"`         // na, eu or fe
	MarketplaceID string `json:"marketplace_id"` // where orders are placed and stock is counted
	ClientID      string `json:"client_id"`
	ClientSecret  string `json:"client_secret"`
	RefreshToken  string `json:"refresh_token"`
	// Endpoint and TokenURL replace the regional SP-API host and the LWA
	// token endpoint (tests, sandbox).
	Endpoint string `json:"endpoint,omitempty"`
	TokenURL string `json:"token_url,omitempty"`
}

// Validate reports every problem with c at once, by JSON field name.
func (c Config) Validate() error {
	var fe errs.FieldList
	spapi.CheckRegion(&fe, c.Region)
	if strings.TrimSpace(c.MarketplaceID) == "" {
		fe.Add("marketplace_id", "is required", "")
	} else {
		spapi.CheckMarketplace(&fe, "marketplace_id", c.MarketplaceID, c.Region)
	}
	c.access().CheckAccess(&fe)
	return fe.Err("amazonmcf.Config")
}

// access is what the SP-API transport needs of c.
func (c Config) access() spapi.Config {
	return spapi.Config{
		Region: c.Region, ClientID: c.ClientID, ClientSecret: c.ClientSecret, RefreshToken: c.RefreshToken,
		Endpoint: c.Endpoint, TokenURL: c.TokenURL,
	}
}

// Client is one seller's MCF account. It is an SP-API transport
// (spapi.Client) with the MCF operations on top: the transport's
// MaxRetries, Sleep and Now tune its retries on 429 and its clock.
type Client struct {
	*spapi.Client
	marketplace string

	// The operations' limiters, at their documented usage plans; a higher
	// rate announced in x-amzn-RateLimit-Limit is adopted. Tests replace
	// them.
	PreviewLimiter   *rate.Limiter // getFulfillmentPreview
	CreateLimiter    *rate.Limiter // createFulfillmentOrder
	GetLimiter       *rate.Limiter // getFulfillmentOrder
	CancelLimiter    *rate.Limiter // cancelFulfillmentOrder
	InventoryLimiter *rate.Limiter // getInventorySummaries
}

// New returns a client for cfg (which should have passed Validate). A nil hc
// means a client with a one-minute timeout.
func New(cfg Config, hc *http.Client) *Client {
	return &Client{
		Client:           spapi.New(cfg.access(), hc),
		marketplace:      strings.TrimSpace(cfg.MarketplaceID),
		PreviewLimiter:   rate.NewLimiter(outboundRate, outboundBurst),
		CreateLimiter:    rate.NewLimiter(outboundRate, outboundBurst),
		GetLimiter:       rate.NewLimiter(outboundRate, outboundBurst),
		CancelLimiter:    rate.NewLimiter(outboundRate, outboundBurst),
		InventoryLimiter: rate.NewLimiter(inventoryRate, inventoryBurst),
	}
}

// Submit creates Amazon's fulfilment order for r and returns its
// sellerFulfillmentOrderId. A request Amazon refuses (an unknown SKU, an
// address it cannot ship to, more than its 100 lines or 250 units) is a
// *provider.RejectedError; a repeat of an order Amazon already has returns
// the same reference (see the package documentation).
func (c *Client) Submit(ctx context.Context, r provider.Request) (string, error) {
	const op = "amazonmcf.Submit"
	req, err := createRequest(r, c.marketplace, c.Now())
	if err != nil {
		return "", errs.E(op, err)
	}
	ref := req.SellerFulfillmentOrderID
	body, err := json.Marshal(req)
	if err != nil {
		return "", errs.E(op, errs.Internal, err)
	}
	_, err = c.Do(ctx, spapi.Call{Op: "createFulfillmentOrder", Limiter: c.CreateLimiter, Method: http.MethodPost, Path: ordersPath, Body: body})
	if err == nil {
		return ref, nil
	}
	ae, refused := refusal(err)
	if !refused {
		return "", errs.E(op, err)
	}
	// A duplicate sellerFulfillmentOrderId is refused like any other bad
	// request: if the order is there, it is this one, created before.
	if _, gerr := c.order(ctx, ref); gerr == nil {
		return ref, nil
	} else if !errs.Is(errs.NotExist, gerr) {
		return "", errs.E(op, gerr)
	}
	return "", errs.E(op, errs.Invalid, &provider.RejectedError{Reason: reason(ae)})
}

// Status reads the fulfilment order ref (a reference Submit returned).
func (c *Client) Status(ctx context.Context, ref string) (provider.Status, error) {
	const op = "amazonmcf.Status"
	o, err := c.order(ctx, ref)
	if err != nil {
		return provider.Status{}, errs.E(op, err)
	}
	st, err := toStatus(o)
	if err != nil {
		return provider.Status{}, errs.E(op, errs.Internal, err)
	}
	return st, nil
}

// order calls getFulfillmentOrder.
func (c *Client) order(ctx context.Context, ref string) (apiOrderResult, error) {
	if ref == "" {
		return apiOrderResult{}, errs.E("amazonmcf.getFulfillmentOrder", errs.Invalid, "no order reference")
	}
	body, err := c.Do(ctx, spapi.Call{Op: "getFulfillmentOrder", Limiter: c.GetLimiter, Method: http.MethodGet, Path: ordersPath + "/" + url.PathEscape(ref)})
	if err != nil {
		return apiOrderResult{}, err
	}
	o, err := parseOrder(body)
	if err != nil {
		return apiOrderResult{}, errs.E("amazonmcf.getFulfillmentOrder", errs.Internal, err)
	}
	return o, nil
}

// Cancel asks Amazon to stop fulfilling ref. Cancelling a cancelled order
// succeeds; one Amazon can no longer cancel (picking has begun, or it
// shipped) is a *provider.RejectedError.
func (c *Client) Cancel(ctx context.Context, ref string) error {
	const op = "amazonmcf.Cancel"
	if ref == "" {
		return errs.E(op, errs.Invalid, "no order reference")
	}
	_, err := c.Do(ctx, spapi.Call{Op: "cancelFulfillmentOrder", Limiter: c.CancelLimiter, Method: http.MethodPut, Path: ordersPath + "/" + url.PathEscape(ref) + "/cancel"})
	if err == nil {
		return nil
	}
	ae, refused := refusal(err)
	if !refused {
		return errs.E(op, err)
	}
	o, gerr := c.order(ctx, ref)
	if gerr != nil {
		return errs.E(op, gerr)
	}
	st, serr := toStatus(o)
	if serr == nil && st.State == provider.Cancelled {
		return nil
	}
	return errs.E(op, errs.Conflict, &provider.RejectedError{
		Reason: fmt.Sprintf("Amazon can no longer cancel the order, which is %s: %s", o.FulfillmentOrder.FulfillmentOrderStatus, reason(ae)),
	})
}

// Stock lists the sellable (fulfillable) units of every SKU Amazon holds
// for the marketplace.
func (c *Client) Stock(ctx context.Context) ([]provider.Level, error) {
	const op = "amazonmcf.Stock"
	var levels []provider.Level
	next := ""
	for range maxPages {
		q := url.Values{}
		q.Set("details", "true")
		q.Set("granularityType", "Marketplace")
		q.Set("granularityId", c.marketplace)
		q.Set("marketplaceIds", c.marketplace)
		if next != "" {
			q.Set("nextToken", next)
		}
		body, err := c.Do(ctx, spapi.Call{Op: "getInventorySummaries", Limiter: c.InventoryLimiter, Method: http.MethodGet, Path: summariesPath, Query: q})
		if err != nil {
			return nil, errs.E(op, err)
		}
		page, tok, err := parseSummaries(body)
		if err != nil {
			return nil, errs.E(op, errs.Internal, err)
		}
		levels = append(levels, page...)
		if tok == "" {
			return levels, nil
		}
		next = tok
	}
	return nil, errs.E(op, errs.Internal, fmt.Sprintf("more than %d pages of inventory summaries", maxPages))
}

// refusal finds Amazon declining a request in err (a 4xx answer other than
// 401, 403, 404 and 429).
func refusal(err error) (*spapi.APIError, bool) {
	var ae *spapi.APIError
	if errors.As(err, &ae) && ae.Refused() {
		return ae, true
	}
	return nil, false
}

// reason is Amazon's refusal in words.
func reason(ae *spapi.APIError) string {
	s := ae.Message
	if s == "" {
		s = fmt.Sprintf("HTTP %d", ae.Status)
	}
	if ae.Code != "" {
		s = ae.Code + ": " + s
	}
	if ae.Details != "" {
		s += " (" + ae.Details + ")"
	}
	return s
}
