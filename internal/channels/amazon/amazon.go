// Package amazon pulls a seller's orders from Amazon through the Selling
// Partner API (Orders v0: getOrders and getOrderItems), authorised by a
// Login with Amazon refresh token, and turns them into order.Input.
//
// getOrders is called with a Restricted Data Token (Tokens API v2021-03-01,
// createRestrictedDataToken) so that seller-fulfilled orders come with the
// shipping address and buyer; an app Amazon refuses one to still gets its
// orders, without those, and Client.Warning says so (rdt.go).
//
// The client is thin: it pages, paces itself to the documented usage plans,
// backs off on 429 and refreshes its access and restricted data tokens; the
// SP-API transport it shares with the Multi-Channel Fulfillment provider
// (package spapi) does the LWA token, the pacing and the backoff, and
// http.go puts its failures in the channel service's terms. Everything
// about the meaning of an order lives in the pure parsers (parse.go).
package amazon

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/spapi"
)

// UserAgent is what every request says it comes from (spapi.UserAgent).
const UserAgent = spapi.UserAgent

// Usage plans of the operations we call (Orders v0 reference), the default
// rate in requests per second and the burst; createRestrictedDataToken's are
// in rdt.go.
const (
	getOrdersRate      = 0.0167
	getOrdersBurst     = 20
	getOrderItemsRate  = 0.5
	getOrderItemsBurst = 30
)

// Config is one seller's connection to Amazon. Field names in errors are the
// JSON names.
type Config struct {
	Region         string   `json:"region"` // na, eu or fe
	MarketplaceIDs []string `json:"marketplace_ids"`
	ClientID       string   `json:"client_id"`
	ClientSecret   string   `json:"client_secret"`
	RefreshToken   string   `json:"refresh_token"`
	// Endpoint and TokenURL replace the regional SP-API host and the LWA
	// token endpoint (tests, sandbox).
	Endpoint string `json:"endpoint,omitempty"`
	TokenURL string `json:"token_url,omitempty"`
}

// Validate reports every problem with c at once, by JSON field name.
func (c Config) Validate() error {
	var fe errs.FieldList
	spapi.CheckRegion(&fe, c.Region)
	if len(c.MarketplaceIDs) == 0 || len(c.MarketplaceIDs) > 50 {
		fe.Add("marketplace_ids", "must list 1 to 50 marketplace ids", len(c.MarketplaceIDs))
	}
	for i, id := range c.MarketplaceIDs {
		spapi.CheckMarketplace(&fe, fmt.Sprintf("marketplace_ids[%d]", i), id, c.Region)
	}
	c.access().CheckAccess(&fe)
	return fe.Err("amazon.Config")
}

// access is what the SP-API transport needs of c.
func (c Config) access() spapi.Config {
	return spapi.Config{
		Region: c.Region, ClientID: c.ClientID, ClientSecret: c.ClientSecret, RefreshToken: c.RefreshToken,
		Endpoint: c.Endpoint, TokenURL: c.TokenURL,
	}
}

// Client polls one seller's orders. Keep one Client per connection for as
// long as the process runs: its limiters and cached tokens (LWA and
// Restricted Data Token) are what keep us inside Amazon's usage plans.
//
// It is an SP-API transport (spapi.Client) with the Orders API on top: the
// transport's MaxRetries, Sleep and Now tune its retries on 429 and the
// clock its tokens expire by.
type Client struct {
	*spapi.Client
	cfg Config

	// OrdersLimiter and ItemsLimiter pace getOrders and getOrderItems. They
	// start at the documented rate and burst; a higher rate announced in
	// x-amzn-RateLimit-Limit is adopted. Tests replace them.
	OrdersLimiter *rate.Limiter
	ItemsLimiter  *rate.Limiter
	// TokensLimiter paces createRestrictedDataToken.
	TokensLimiter *rate.Limiter

	rdtMu      sync.Mutex // the Restricted Data Token; taken before the transport's token lock
	rdt        string
	rdtExpires time.Time
	noRDT      error     // an ErrNoRestrictedData while Amazon refuses us one
	rdtRetry   time.Time // when to ask again after a refusal
}

// New returns a client for cfg (which should have passed Validate). A nil hc
// means a client with a one-minute timeout.
func New(cfg Config, hc *http.Client) *Client {
	return &Client{
		Client:        spapi.New(cfg.access(), hc),
		cfg:           cfg,
		OrdersLimiter: rate.NewLimiter(getOrdersRate, getOrdersBurst),
		ItemsLimiter:  rate.NewLimiter(getOrderItemsRate, getOrderItemsBurst),
		TokensLimiter: rate.NewLimiter(createRDTRate, createRDTBurst),
	}
}

// Poll returns one page of orders changed since since (the first page, when
// cursor is empty) or the page cursor names (a NextToken from an earlier
// page; since is then ignored, as getOrders ignores other criteria). Each
// order's items are fetched too, so a page costs one getOrders call plus at
// least one getOrderItems call per order, and a createRestrictedDataToken
// call about once an hour. When Amazon refuses the Restricted Data Token the
// page still comes, without shipping addresses and buyers, and Warning
// returns an ErrNoRestrictedData.
func (c *Client) Poll(ctx context.Context, since time.Time, cursor string) (channels.Page, error) {
	const op = "amazon.Poll"
	q := url.Values{}
	q.Set("MarketplaceIds", strings.Join(trimAll(c.cfg.MarketplaceIDs), ","))
	if cursor != "" {
		q.Set("NextToken", cursor)
	} else {
		q.Set("LastUpdatedAfter", since.UTC().Format(time.RFC3339))
	}
	// With the RDT (see rdt.go) getOrders includes buyers and addresses.
	body, err := c.call(ctx, spapi.Call{
		Op: "getOrders", Limiter: c.OrdersLimiter, Method: http.MethodGet, Path: ordersPath, Query: q,
		Token: c.ordersToken, Forget: c.forgetRDT,
	})
	if err != nil {
		return channels.Page{}, errs.E(op, err)
	}
	orders, next, err := parseOrders(body)
	if err != nil {
		return channels.Page{}, errs.E(op, errs.Internal, err)
	}
	page := channels.Page{Next: next, Orders: make([]order.Input, 0, len(orders))}
	for _, o := range orders {
		items, err := c.orderItems(ctx, o.AmazonOrderID)
		if err != nil {
			return channels.Page{}, errs.E(op, fmt.Sprintf("items of order %s", o.AmazonOrderID), err)
		}
		in, err := toInput(o, items)
		if err != nil {
			return channels.Page{}, errs.E(op, errs.Internal, err)
		}
		page.Orders = append(page.Orders, in)
	}
	return page, nil
}

// orderItems fetches every page of an order's items.
func (c *Client) orderItems(ctx context.Context, orderID string) ([]apiOrderItem, error) {
	var all []apiOrderItem
	next := ""
	for range 100 { // a guard against a token that never ends
		q := url.Values{}
		if next != "" {
			q.Set("NextToken", next)
		}
		body, err := c.call(ctx, spapi.Call{
			Op: "getOrderItems", Limiter: c.ItemsLimiter, Method: http.MethodGet,
			Path: "/orders/v0/orders/" + url.PathEscape(orderID) + "/orderItems", Query: q,
		})
		if err != nil {
			return nil, err
		}
		items, tok, err := parseOrderItems(body)
		if err != nil {
			return nil, errs.E("amazon.getOrderItems", errs.Internal, err)
		}
		all = append(all, items...)
		if tok == "" {
			return all, nil
		}
		next = tok
	}
	return nil, errs.E("amazon.getOrderItems", errs.Internal, "more than 100 pages of items")
}

func trimAll(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
