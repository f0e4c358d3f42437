// Package ebay pulls a seller's orders from eBay through the Sell
// Fulfillment API (getOrders), authorised by an OAuth refresh token, and
// turns them into order.Input.
//
// The client is thin: it pages by offset, paces itself, backs off on 429 and
// refreshes its access token. Everything about the meaning of an order lives
// in the pure parser (parse.go).
package ebay

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

// UserAgent is sent on every request.
const UserAgent = "Waybill/1.0 (Language=Go)"

// DefaultScope is the OAuth scope asked for when refreshing the access
// token. It must be one the seller consented to when the refresh token was
// minted (eBay refuses a refresh asking for more).
const DefaultScope = "https://api.ebay.com/oauth/api_scope/sell.fulfillment"

// Hosts of eBay's two environments (REST APIs and the OAuth token endpoint
// share them).
var Hosts = map[string]string{
	"production": "https://api.ebay.com",
	"sandbox":    "https://api.sandbox.ebay.com",
}

// PageSize is how many orders one getOrders call asks for (eBay allows up
// to 1000; default 50).
const PageSize = 200

// lookback is how far back getOrders' filter may reach: eBay answers error
// 30830 for a start date more than 90 days ago. We stay an hour inside.
const lookback = 90*24*time.Hour - time.Hour

// Config is one seller's connection to eBay. Field names in errors are the
// JSON names.
type Config struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	RefreshToken string `json:"refresh_token"`
	Environment  string `json:"environment"` // production or sandbox
	// Scope is the space-separated OAuth scopes to refresh with;
	// DefaultScope when empty.
	Scope string `json:"scope,omitempty"`
	// BaseURL and TokenURL replace the environment's API host and token
	// endpoint (tests).
	BaseURL  string `json:"base_url,omitempty"`
	TokenURL string `json:"token_url,omitempty"`
}

// Validate reports every problem with c at once, by JSON field name.
func (c Config) Validate() error {
	var fe errs.FieldList
	if _, ok := Hosts[strings.ToLower(strings.TrimSpace(c.Environment))]; !ok {
		fe.Add("environment", "must be production or sandbox", c.Environment)
	}
	for _, f := range []struct{ name, v string }{{"client_id", c.ClientID}, {"client_secret", c.ClientSecret}, {"refresh_token", c.RefreshToken}} {
		if strings.TrimSpace(f.v) == "" {
			fe.Add(f.name, "is required", "")
		}
	}
	for _, s := range strings.Fields(c.Scope) {
		if !strings.HasPrefix(s, "https://api.ebay.com/oauth/") {
			fe.Add("scope", "must be eBay OAuth scope URLs separated by spaces", s)
			break
		}
	}
	for _, f := range []struct{ name, v string }{{"base_url", c.BaseURL}, {"token_url", c.TokenURL}} {
		if f.v == "" {
			continue
		}
		if u, err := url.Parse(f.v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			fe.Add(f.name, "must be an absolute http(s) URL", f.v)
		}
	}
	return fe.Err("ebay.Config")
}

// Client polls one seller's orders. Keep one Client per connection: its
// limiter and cached token live in it.
type Client struct {
	cfg      Config
	hc       *http.Client
	base     string
	tokenURL string
	scope    string

	// Limiter paces API calls. eBay publishes daily call quotas, not a
	// per-second rate; one call a second (burst 5) keeps a busy poller far
	// inside them. Tests replace it.
	Limiter *rate.Limiter
	// MaxRetries is how often a throttled (429) call is retried before Poll
	// gives up with channels.ErrThrottled.
	MaxRetries int
	// Sleep waits d or until ctx ends; tests replace it to see the backoff.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for token expiry and the 90-day window.
	Now func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// New returns a client for cfg (which should have passed Validate). A nil hc
// means a client with a one-minute timeout.
func New(cfg Config, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	host := Hosts[strings.ToLower(strings.TrimSpace(cfg.Environment))]
	base := cfg.BaseURL
	if base == "" {
		base = host
	}
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		tokenURL = host + "/identity/v1/oauth2/token"
	}
	scope := strings.Join(strings.Fields(cfg.Scope), " ")
	if scope == "" {
		scope = DefaultScope
	}
	return &Client{
		cfg:        cfg,
		hc:         hc,
		base:       strings.TrimRight(base, "/"),
		tokenURL:   tokenURL,
		scope:      scope,
		Limiter:    rate.NewLimiter(1, 5),
		MaxRetries: 3,
		Sleep:      sleep,
		Now:        time.Now,
	}
}

// Poll returns one page of orders modified since since. cursor is the
// offset of the page ("" for the first); the next page must be asked for
// with the same since. since is moved forward to eBay's 90-day limit if it
// is older.
func (c *Client) Poll(ctx context.Context, since time.Time, cursor string) (channels.Page, error) {
	const op = "ebay.Poll"
	offset := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 {
			return channels.Page{}, errs.E(op, errs.Invalid, fmt.Sprintf("cursor %q is not an offset", cursor))
		}
		offset = n
	}
	if earliest := c.Now().Add(-lookback); since.Before(earliest) {
		since = earliest
	}
	body, err := c.get(ctx, "/sell/fulfillment/v1/order", ordersQuery(since, offset))
	if err != nil {
		return channels.Page{}, errs.E(op, err)
	}
	res, err := parseOrders(body)
	if err != nil {
		return channels.Page{}, errs.E(op, errs.Internal, err)
	}
	page := channels.Page{Orders: make([]order.Input, 0, len(res.Orders))}
	for _, o := range res.Orders {
		in, err := toInput(o)
		if err != nil {
			return channels.Page{}, errs.E(op, errs.Internal, err)
		}
		page.Orders = append(page.Orders, in)
	}
	if n := len(res.Orders); n > 0 && (res.Next != "" || offset+n < res.Total) {
		page.Next = strconv.Itoa(offset + n)
	}
	return page, nil
}

// ordersQuery is getOrders' query string. The filter is written as eBay's
// documentation shows it, lastmodifieddate:%5B2016-05-15T08:25:43.511Z..%5D,
// with the brackets percent-encoded (eBay requires it) and the rest as is.
func ordersQuery(since time.Time, offset int) string {
	filter := "lastmodifieddate:%5B" + since.UTC().Format("2006-01-02T15:04:05.000Z") + "..%5D"
	return "filter=" + filter + "&limit=" + strconv.Itoa(PageSize) + "&offset=" + strconv.Itoa(offset)
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
