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
// backs off on 429 and refreshes its access and restricted data tokens.
// Everything about the meaning of an order lives in the pure parsers
// (parse.go).
package amazon

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

// UserAgent is sent on every request, in the form SP-API asks for:
// AppName/Version (Language=…).
const UserAgent = "Waybill/1.0 (Language=Go)"

// DefaultTokenURL is the Login with Amazon token endpoint.
const DefaultTokenURL = "https://api.amazon.com/auth/o2/token"

// Endpoints are the SP-API hosts of the three selling regions.
var Endpoints = map[string]string{
	"na": "https://sellingpartnerapi-na.amazon.com",
	"eu": "https://sellingpartnerapi-eu.amazon.com",
	"fe": "https://sellingpartnerapi-fe.amazon.com",
}

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

var marketplaceRe = regexp.MustCompile(`^[A-Z0-9]{5,20}$`)

// Validate reports every problem with c at once, by JSON field name.
func (c Config) Validate() error {
	var fe errs.FieldList
	region := strings.ToLower(strings.TrimSpace(c.Region))
	if _, ok := Endpoints[region]; !ok {
		fe.Add("region", "must be one of na, eu, fe", c.Region)
	}
	if len(c.MarketplaceIDs) == 0 || len(c.MarketplaceIDs) > 50 {
		fe.Add("marketplace_ids", "must list 1 to 50 marketplace ids", len(c.MarketplaceIDs))
	}
	for i, id := range c.MarketplaceIDs {
		f := fmt.Sprintf("marketplace_ids[%d]", i)
		id = strings.TrimSpace(id)
		switch m, known := Marketplaces[id]; {
		case !marketplaceRe.MatchString(id):
			fe.Add(f, "must be an Amazon marketplace id such as ATVPDKIKX0DER", c.MarketplaceIDs[i])
		case known && Endpoints[region] != "" && m.Region != region:
			fe.Add(f, fmt.Sprintf("is the %s marketplace, which is in region %s, not %s", m.Country, m.Region, region), c.MarketplaceIDs[i])
		}
	}
	for _, f := range []struct{ name, v string }{{"client_id", c.ClientID}, {"client_secret", c.ClientSecret}, {"refresh_token", c.RefreshToken}} {
		if strings.TrimSpace(f.v) == "" {
			fe.Add(f.name, "is required", "")
		}
	}
	for _, f := range []struct{ name, v string }{{"endpoint", c.Endpoint}, {"token_url", c.TokenURL}} {
		if f.v == "" {
			continue
		}
		if u, err := url.Parse(f.v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			fe.Add(f.name, "must be an absolute http(s) URL", f.v)
		}
	}
	return fe.Err("amazon.Config")
}

// Client polls one seller's orders. Keep one Client per connection for as
// long as the process runs: its limiters and cached tokens (LWA and
// Restricted Data Token) are what keep us inside Amazon's usage plans.
type Client struct {
	cfg      Config
	hc       *http.Client
	endpoint string
	tokenURL string

	// OrdersLimiter and ItemsLimiter pace getOrders and getOrderItems. They
	// start at the documented rate and burst; a higher rate announced in
	// x-amzn-RateLimit-Limit is adopted. Tests replace them.
	OrdersLimiter *rate.Limiter
	ItemsLimiter  *rate.Limiter
	// MaxRetries is how often a throttled (429) call is retried before Poll
	// gives up with channels.ErrThrottled.
	MaxRetries int
	// Sleep waits d or until ctx ends; tests replace it to see the backoff.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock used for token expiry.
	Now func() time.Time

	// TokensLimiter paces createRestrictedDataToken.
	TokensLimiter *rate.Limiter

	mu      sync.Mutex // the LWA token
	token   string
	expires time.Time

	rdtMu      sync.Mutex // the Restricted Data Token; taken before mu
	rdt        string
	rdtExpires time.Time
	noRDT      error     // an ErrNoRestrictedData while Amazon refuses us one
	rdtRetry   time.Time // when to ask again after a refusal
}

// New returns a client for cfg (which should have passed Validate). A nil hc
// means a client with a one-minute timeout.
func New(cfg Config, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = Endpoints[strings.ToLower(strings.TrimSpace(cfg.Region))]
	}
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		tokenURL = DefaultTokenURL
	}
	return &Client{
		cfg:           cfg,
		hc:            hc,
		endpoint:      strings.TrimRight(endpoint, "/"),
		tokenURL:      tokenURL,
		OrdersLimiter: rate.NewLimiter(getOrdersRate, getOrdersBurst),
		ItemsLimiter:  rate.NewLimiter(getOrderItemsRate, getOrderItemsBurst),
		TokensLimiter: rate.NewLimiter(createRDTRate, createRDTBurst),
		MaxRetries:    3,
		Sleep:         sleep,
		Now:           time.Now,
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
	body, err := c.do(ctx, "getOrders", c.OrdersLimiter, http.MethodGet, ordersPath, q, nil, true)
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
		body, err := c.get(ctx, "getOrderItems", c.ItemsLimiter, "/orders/v0/orders/"+url.PathEscape(orderID)+"/orderItems", q)
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

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
