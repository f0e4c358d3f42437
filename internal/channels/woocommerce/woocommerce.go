// Package woocommerce connects a WooCommerce store: it verifies and reads
// the store's order webhooks and polls its REST API (wc/v3) for orders
// changed since a time, handing both to the order service as order.Input.
package woocommerce

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

// perPage is the most orders the REST API returns per page.
const perPage = 100

// Config is a connection to one WooCommerce store.
type Config struct {
	// StoreURL is the WordPress site's address, e.g. https://shop.example.com.
	StoreURL string `json:"store_url"`
	// ConsumerKey and ConsumerSecret are a REST API key with read access
	// (WooCommerce › Settings › Advanced › REST API).
	ConsumerKey    string `json:"consumer_key"`
	ConsumerSecret string `json:"consumer_secret"`
	// WebhookSecret is the secret set on the store's webhooks.
	WebhookSecret string `json:"webhook_secret"`
}

// Validate reports every setting that is wrong, by its JSON name.
func (c Config) Validate() error {
	var fe errs.FieldList
	if strings.TrimSpace(c.StoreURL) == "" {
		fe.Add("store_url", "is required", c.StoreURL)
	} else if u, err := url.Parse(strings.TrimSpace(c.StoreURL)); err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" ||
		!(u.Scheme == "https" || (u.Scheme == "http" && loopback(u.Hostname()))) {
		// WooCommerce takes a key by HTTP basic auth over HTTPS only.
		fe.Add("store_url", "must be the store's https:// address", c.StoreURL)
	}
	if strings.TrimSpace(c.ConsumerKey) == "" {
		fe.Add("consumer_key", "is required", "")
	}
	if strings.TrimSpace(c.ConsumerSecret) == "" {
		fe.Add("consumer_secret", "is required", "")
	}
	if strings.TrimSpace(c.WebhookSecret) == "" {
		fe.Add("webhook_secret", "is required", "")
	}
	return fe.Err("woocommerce.Config")
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Client talks to one WooCommerce store.
type Client struct {
	cfg  Config
	base string
	http channels.HTTP
}

// New returns a client for cfg (checked with Validate) using hc.
func New(cfg Config, hc *http.Client) *Client {
	return &Client{cfg: cfg, base: strings.TrimRight(strings.TrimSpace(cfg.StoreURL), "/"), http: channels.HTTP{Client: hc}}
}

// Kind describes WooCommerce connections to the channel service.
func Kind() channels.Kind {
	return channels.Kind{
		Name:      "woocommerce",
		Webhooks:  true,
		Secrets:   []string{"consumer_key", "consumer_secret", "webhook_secret"},
		PollEvery: 15 * time.Minute,
		New:       channels.Builder("woocommerce.Config", New),
	}
}

var _ channels.WebhookConnector = (*Client)(nil)

var pingRe = regexp.MustCompile(`^webhook_id=([0-9]{1,20})$`)

// ping returns the webhook id of the test delivery WooCommerce sends when
// a webhook is saved: the form body "webhook_id=N", unsigned.
func ping(body []byte) (string, bool) {
	m := pingRe.FindSubmatch(body)
	if m == nil {
		return "", false
	}
	return string(m[1]), true
}

// VerifyWebhook checks X-WC-Webhook-Signature: the base64 HMAC-SHA256 of
// the raw body keyed with the webhook's secret. WooCommerce's ping, sent
// unsigned when a webhook is saved, is accepted: it carries nothing.
func (c *Client) VerifyWebhook(h http.Header, body []byte) error {
	sig := h.Get("X-WC-Webhook-Signature")
	if _, ok := ping(body); ok && sig == "" {
		return nil
	}
	return channels.VerifyHMAC(c.cfg.WebhookSecret, sig, body)
}

// orderTopics are the webhook topics whose delivery is an order.
var orderTopics = map[string]bool{"order.created": true, "order.updated": true, "order.restored": true}

// ParseWebhook verifies and reads a delivery. order.created, order.updated
// and order.restored carry the order; the ping, order.deleted (whose body
// is only {"id": N}) and other topics are Ignored.
func (c *Client) ParseWebhook(ctx context.Context, h http.Header, body []byte) (channels.Webhook, error) {
	const op = "woocommerce.ParseWebhook"
	if err := c.VerifyWebhook(h, body); err != nil {
		return channels.Webhook{}, err
	}
	if id, ok := ping(body); ok {
		return channels.Webhook{ID: "ping:" + id, Topic: "ping", Ignored: true}, nil
	}
	w := channels.Webhook{
		ID:    strings.TrimSpace(h.Get("X-WC-Webhook-Delivery-ID")),
		Topic: strings.TrimSpace(h.Get("X-WC-Webhook-Topic")),
	}
	if !orderTopics[w.Topic] {
		w.Ignored = true
		return w, nil
	}
	in, err := ParseOrder(body)
	if err != nil {
		return channels.Webhook{}, errs.E(op, err)
	}
	w.Orders = []order.Input{in}
	return w, nil
}

// Poll returns one page of the orders modified since since. cursor is the
// page number to read, "" for the first.
func (c *Client) Poll(ctx context.Context, since time.Time, cursor string) (channels.Page, error) {
	const op = "woocommerce.Poll"
	page := 1
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 1 {
			return channels.Page{}, errs.E(op, errs.Invalid, "a WooCommerce poll cursor is a page number")
		}
		page = n
	}
	q := url.Values{}
	q.Set("modified_after", since.UTC().Format("2006-01-02T15:04:05"))
	q.Set("dates_are_gmt", "true")
	q.Set("orderby", "modified")
	q.Set("order", "asc")
	q.Set("per_page", strconv.Itoa(perPage))
	q.Set("page", strconv.Itoa(page))
	auth := base64.StdEncoding.EncodeToString([]byte(c.cfg.ConsumerKey + ":" + c.cfg.ConsumerSecret))
	hdr, body, err := c.http.Get(ctx, op, c.base+"/wp-json/wc/v3/orders?"+q.Encode(), http.Header{"Authorization": {"Basic " + auth}})
	if err != nil {
		return channels.Page{}, err
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return channels.Page{}, errs.E(op, errs.Internal, "WooCommerce's answer is not a list of orders", err)
	}
	var p channels.Page
	for _, raw := range raws {
		in, err := ParseOrder(raw)
		if err != nil {
			return channels.Page{}, errs.E(op, err)
		}
		p.Orders = append(p.Orders, in)
	}
	if total, err := strconv.Atoi(strings.TrimSpace(hdr.Get("X-WP-TotalPages"))); err == nil {
		if page < total {
			p.Next = strconv.Itoa(page + 1)
		}
	} else if len(raws) == perPage {
		p.Next = strconv.Itoa(page + 1) // no header (a caching proxy dropped it): read on until a short page
	}
	return p, nil
}
