// Package shopify connects a Shopify store: it verifies and reads the
// store's order webhooks and polls its REST Admin API for orders changed
// since a time, handing both to the order service as order.Input.
package shopify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

// DefaultAPIVersion is the Admin API version used when none is configured
// (Shopify keeps each stable version for at least twelve months).
const DefaultAPIVersion = "2025-07"

// pageSize is the most orders Shopify returns per page.
const pageSize = 250

// Config is a connection to one Shopify store.
type Config struct {
	// ShopDomain is the store's permanent domain, e.g. "acme.myshopify.com".
	ShopDomain string `json:"shop_domain"`
	// AccessToken is the Admin API access token (X-Shopify-Access-Token).
	AccessToken string `json:"access_token"`
	// WebhookSecret is the app's client secret that signs webhooks.
	WebhookSecret string `json:"webhook_secret"`
	// APIVersion is the Admin API version, e.g. "2025-07".
	APIVersion string `json:"api_version"`
	// BaseURL replaces https://{shop_domain} (tests, proxies).
	BaseURL string `json:"base_url,omitempty"`
}

var (
	hostRe    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)
	versionRe = regexp.MustCompile(`^(20[0-9]{2}-(01|04|07|10)|unstable)$`)
)

// Validate reports every setting that is wrong, by its JSON name.
func (c Config) Validate() error {
	var fe errs.FieldList
	if d := strings.ToLower(strings.TrimSpace(c.ShopDomain)); d == "" {
		fe.Add("shop_domain", "is required", c.ShopDomain)
	} else if !hostRe.MatchString(d) {
		fe.Add("shop_domain", "must be the store's domain, such as acme.myshopify.com (no https:// and no path)", c.ShopDomain)
	}
	if strings.TrimSpace(c.AccessToken) == "" {
		fe.Add("access_token", "is required", "")
	}
	if strings.TrimSpace(c.WebhookSecret) == "" {
		fe.Add("webhook_secret", "is required", "")
	}
	if v := strings.TrimSpace(c.APIVersion); v != "" && !versionRe.MatchString(v) {
		fe.Add("api_version", `must be a Shopify API version such as "2025-07"`, c.APIVersion)
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			fe.Add("base_url", "must be an http(s) URL", c.BaseURL)
		}
	}
	return fe.Err("shopify.Config")
}

// Client talks to one Shopify store.
type Client struct {
	cfg  Config
	base string
	http channels.HTTP
}

// New returns a client for cfg (checked with Validate) using hc.
func New(cfg Config, hc *http.Client) *Client {
	cfg.ShopDomain = strings.ToLower(strings.TrimSpace(cfg.ShopDomain))
	cfg.APIVersion = strings.TrimSpace(cfg.APIVersion)
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = "https://" + cfg.ShopDomain
	}
	return &Client{cfg: cfg, base: base, http: channels.HTTP{Client: hc}}
}

// Kind describes Shopify connections to the channel service.
func Kind() channels.Kind {
	return channels.Kind{
		Name:      "shopify",
		Webhooks:  true,
		Secrets:   []string{"access_token", "webhook_secret"},
		PollEvery: 15 * time.Minute,
		New:       channels.Builder("shopify.Config", New),
	}
}

var _ channels.WebhookConnector = (*Client)(nil)

// VerifyWebhook checks X-Shopify-Hmac-Sha256: the base64 HMAC-SHA256 of
// the raw body keyed with the app's client secret.
func (c *Client) VerifyWebhook(h http.Header, body []byte) error {
	return channels.VerifyHMAC(c.cfg.WebhookSecret, h.Get("X-Shopify-Hmac-Sha256"), body)
}

// orderTopics are the webhook topics whose delivery is an order.
var orderTopics = map[string]bool{
	"orders/create":    true,
	"orders/updated":   true,
	"orders/cancelled": true,
	"orders/paid":      true,
	"orders/edited":    true,
}

// ParseWebhook verifies and reads a delivery. Order topics carry the
// order; orders/edited carries only the edit, so the order is fetched.
// Other topics are Ignored.
func (c *Client) ParseWebhook(ctx context.Context, h http.Header, body []byte) (channels.Webhook, error) {
	const op = "shopify.ParseWebhook"
	if err := c.VerifyWebhook(h, body); err != nil {
		return channels.Webhook{}, err
	}
	w := channels.Webhook{
		ID:    strings.TrimSpace(h.Get("X-Shopify-Event-Id")),
		Topic: strings.TrimSpace(h.Get("X-Shopify-Topic")),
	}
	if w.ID == "" {
		w.ID = strings.TrimSpace(h.Get("X-Shopify-Webhook-Id"))
	}
	if !orderTopics[w.Topic] {
		w.Ignored = true
		return w, nil
	}
	var in order.Input
	var err error
	if w.Topic == "orders/edited" {
		var edit struct {
			OrderEdit struct {
				OrderID channels.Scalar `json:"order_id"`
			} `json:"order_edit"`
		}
		if err := json.Unmarshal(body, &edit); err != nil || !numericID(string(edit.OrderEdit.OrderID)) {
			return channels.Webhook{}, errs.E(op, errs.Invalid, "an orders/edited delivery without order_edit.order_id")
		}
		in, err = c.Order(ctx, string(edit.OrderEdit.OrderID))
	} else {
		in, err = ParseOrder(body)
	}
	if err != nil {
		return channels.Webhook{}, errs.E(op, err)
	}
	w.Orders = []order.Input{in}
	return w, nil
}

var numericRe = regexp.MustCompile(`^[0-9]{1,20}$`)

func numericID(s string) bool { return numericRe.MatchString(s) }

func (c *Client) headers() http.Header {
	return http.Header{"X-Shopify-Access-Token": {c.cfg.AccessToken}}
}

func (c *Client) api(path string) string {
	return c.base + "/admin/api/" + url.PathEscape(c.cfg.APIVersion) + path
}

// Order fetches one order by its id.
func (c *Client) Order(ctx context.Context, id string) (order.Input, error) {
	const op = "shopify.Order"
	if !numericID(id) {
		return order.Input{}, errs.E(op, errs.Invalid, "a Shopify order id is a number")
	}
	_, body, err := c.http.Get(ctx, op, c.api("/orders/"+id+".json"), c.headers())
	if err != nil {
		return order.Input{}, err
	}
	var env struct {
		Order json.RawMessage `json:"order"`
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Order) == 0 || string(env.Order) == "null" {
		return order.Input{}, errs.E(op, errs.Internal, "Shopify's answer has no order")
	}
	return ParseOrder(env.Order)
}

// Poll returns one page of the orders changed since since (any status).
// cursor is the page_info of the page to read, "" for the first.
func (c *Client) Poll(ctx context.Context, since time.Time, cursor string) (channels.Page, error) {
	const op = "shopify.Poll"
	q := url.Values{}
	q.Set("limit", "250")
	if cursor != "" {
		// Shopify refuses any filter beside a page_info: it carries them.
		q.Set("page_info", cursor)
	} else {
		q.Set("status", "any")
		q.Set("updated_at_min", since.UTC().Format(time.RFC3339))
	}
	hdr, body, err := c.http.Get(ctx, op, c.api("/orders.json")+"?"+q.Encode(), c.headers())
	if err != nil {
		return channels.Page{}, err
	}
	var env struct {
		Orders []json.RawMessage `json:"orders"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return channels.Page{}, errs.E(op, errs.Internal, "Shopify's answer is not a list of orders", err)
	}
	var p channels.Page
	for _, raw := range env.Orders {
		in, err := ParseOrder(raw)
		if err != nil {
			return channels.Page{}, errs.E(op, err)
		}
		p.Orders = append(p.Orders, in)
	}
	p.Next = nextPageInfo(hdr.Values("Link"))
	return p, nil
}

// nextPageInfo finds the page_info of the rel="next" link of a Link
// header: <https://…/orders.json?limit=250&page_info=abc>; rel="next".
func nextPageInfo(links []string) string {
	for _, h := range links {
		for _, part := range strings.Split(h, ",") {
			target, params, ok := strings.Cut(part, ";")
			if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
				continue
			}
			target = strings.Trim(strings.TrimSpace(target), "<>")
			u, err := url.Parse(target)
			if err != nil {
				continue
			}
			return u.Query().Get("page_info")
		}
	}
	return ""
}
