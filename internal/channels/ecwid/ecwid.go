// Package ecwid connects an Ecwid (Lightspeed E-Series) store: it verifies
// the store's order webhooks, fetches the order each one names, and polls
// the REST API for orders changed since a time, handing them to the order
// service as order.Input.
package ecwid

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/order"
)

// DefaultBaseURL is where Ecwid's REST API lives.
const DefaultBaseURL = "https://app.ecwid.com"

// pageSize is the most orders Ecwid returns per page.
const pageSize = 100

// Config is a connection to one Ecwid store.
type Config struct {
	// StoreID is the store's number, e.g. "1003".
	StoreID string `json:"store_id"`
	// AccessToken is the app's secret token for the store ("secret_…").
	AccessToken string `json:"access_token"`
	// ClientSecret is the app's client_secret, which signs webhooks (not
	// the access token).
	ClientSecret string `json:"client_secret"`
	// Currency is the store's currency (ISO 4217). Ecwid's orders do not
	// name one; when empty it is read from the store profile.
	Currency string `json:"currency,omitempty"`
	// BaseURL replaces https://app.ecwid.com (tests, proxies).
	BaseURL string `json:"base_url,omitempty"`
}

var storeIDRe = regexp.MustCompile(`^[0-9]{1,15}$`)

// Validate reports every setting that is wrong, by its JSON name.
func (c Config) Validate() error {
	var fe errs.FieldList
	if s := strings.TrimSpace(c.StoreID); s == "" {
		fe.Add("store_id", "is required", c.StoreID)
	} else if !storeIDRe.MatchString(s) {
		fe.Add("store_id", "must be the store's number, such as 1003", c.StoreID)
	}
	if strings.TrimSpace(c.AccessToken) == "" {
		fe.Add("access_token", "is required", "")
	}
	if strings.TrimSpace(c.ClientSecret) == "" {
		fe.Add("client_secret", "is required (the app's client_secret, not its access token)", "")
	}
	if c.Currency != "" && !money.ValidCurrency(strings.ToUpper(strings.TrimSpace(c.Currency))) {
		fe.Add("currency", "must be an ISO 4217 code such as USD", c.Currency)
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			fe.Add("base_url", "must be an http(s) URL", c.BaseURL)
		}
	}
	return fe.Err("ecwid.Config")
}

// Client talks to one Ecwid store.
type Client struct {
	cfg  Config
	api  string // …/api/v3/{storeId}
	http channels.HTTP

	mu       sync.Mutex
	currency string
}

// New returns a client for cfg (checked with Validate) using hc.
func New(cfg Config, hc *http.Client) *Client {
	cfg.StoreID = strings.TrimSpace(cfg.StoreID)
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	return &Client{cfg: cfg, api: base + "/api/v3/" + url.PathEscape(cfg.StoreID), http: channels.HTTP{Client: hc},
		currency: strings.ToUpper(strings.TrimSpace(cfg.Currency))}
}

// Kind describes Ecwid connections to the channel service.
func Kind() channels.Kind {
	return channels.Kind{
		Name:      "ecwid",
		Webhooks:  true,
		Secrets:   []string{"access_token", "client_secret"},
		PollEvery: 15 * time.Minute,
		New:       channels.Builder("ecwid.Config", New),
	}
}

var _ channels.WebhookConnector = (*Client)(nil)

// event is an Ecwid webhook: it names what changed, never the order itself.
type event struct {
	EventID      channels.Scalar `json:"eventId"`
	EventCreated channels.Scalar `json:"eventCreated"`
	StoreID      channels.Scalar `json:"storeId"`
	EntityID     channels.Scalar `json:"entityId"`
	EventType    string          `json:"eventType"`
	Data         struct {
		OrderID channels.Scalar `json:"orderId"`
	} `json:"data"`
}

// VerifyWebhook checks X-Ecwid-Webhook-Signature: the base64 HMAC-SHA256
// of "{eventCreated}.{eventId}" from the body, keyed with the app's
// client_secret. (Ecwid signs those two fields only, not the body.)
func (c *Client) VerifyWebhook(h http.Header, body []byte) error {
	var e event
	if err := json.Unmarshal(body, &e); err != nil || e.EventCreated == "" || e.EventID == "" {
		return channels.ErrBadSignature
	}
	return channels.VerifyHMAC(c.cfg.ClientSecret, h.Get("X-Ecwid-Webhook-Signature"), []byte(string(e.EventCreated)+"."+string(e.EventID)))
}

// ParseWebhook verifies a delivery and, for order.created and
// order.updated, fetches the order it names. order.deleted (the order is
// gone), unfinished orders and other events are Ignored.
func (c *Client) ParseWebhook(ctx context.Context, h http.Header, body []byte) (channels.Webhook, error) {
	const op = "ecwid.ParseWebhook"
	if err := c.VerifyWebhook(h, body); err != nil {
		return channels.Webhook{}, err
	}
	var e event
	if err := json.Unmarshal(body, &e); err != nil {
		return channels.Webhook{}, errs.E(op, errs.Invalid, "not an Ecwid webhook", err)
	}
	w := channels.Webhook{ID: string(e.EventID), Topic: e.EventType}
	if e.EventType != "order.created" && e.EventType != "order.updated" {
		w.Ignored = true
		return w, nil
	}
	if s := string(e.StoreID); s != "" && s != c.cfg.StoreID {
		return channels.Webhook{}, errs.E(op, errs.Invalid, "the webhook is for Ecwid store "+s+", this connection is store "+c.cfg.StoreID)
	}
	// data.orderId is the order's id; entityId is its internal number on
	// current stores and its order number on old ones, which Get order
	// also takes.
	id := string(e.Data.OrderID)
	if id == "" {
		id = string(e.EntityID)
	}
	if id == "" {
		return channels.Webhook{}, errs.E(op, errs.Invalid, "an order webhook that names no order")
	}
	in, err := c.Order(ctx, id)
	if err != nil {
		return channels.Webhook{}, errs.E(op, err)
	}
	w.Orders = []order.Input{in}
	return w, nil
}

func (c *Client) headers() http.Header {
	return http.Header{"Authorization": {"Bearer " + c.cfg.AccessToken}}
}

// Order fetches one order by its id (or, on old stores, its number).
func (c *Client) Order(ctx context.Context, id string) (order.Input, error) {
	const op = "ecwid.Order"
	cur, err := c.storeCurrency(ctx)
	if err != nil {
		return order.Input{}, err
	}
	_, body, err := c.http.Get(ctx, op, c.api+"/orders/"+url.PathEscape(id), c.headers())
	if err != nil {
		return order.Input{}, err
	}
	return ParseOrder(body, cur)
}

// storeCurrency is the configured currency, else the store profile's.
func (c *Client) storeCurrency(ctx context.Context) (string, error) {
	const op = "ecwid.Profile"
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.currency != "" {
		return c.currency, nil
	}
	_, body, err := c.http.Get(ctx, op, c.api+"/profile?responseFields="+url.QueryEscape("formatsAndUnits(currency)"), c.headers())
	if err != nil {
		return "", err
	}
	var p struct {
		FormatsAndUnits struct {
			Currency string `json:"currency"`
		} `json:"formatsAndUnits"`
	}
	if err := json.Unmarshal(body, &p); err != nil || !money.ValidCurrency(p.FormatsAndUnits.Currency) {
		return "", errs.E(op, errs.Internal, "the store profile names no currency; set the connection's currency")
	}
	c.currency = p.FormatsAndUnits.Currency
	return c.currency, nil
}

// Poll returns one page of the orders updated since since. cursor is the
// offset to read from, "" for the first page. Unfinished orders (payment
// INCOMPLETE) are not orders yet and are skipped.
func (c *Client) Poll(ctx context.Context, since time.Time, cursor string) (channels.Page, error) {
	const op = "ecwid.Poll"
	offset := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 {
			return channels.Page{}, errs.E(op, errs.Invalid, "an Ecwid poll cursor is an offset")
		}
		offset = n
	}
	cur, err := c.storeCurrency(ctx)
	if err != nil {
		return channels.Page{}, err
	}
	q := url.Values{}
	q.Set("updatedFrom", strconv.FormatInt(since.Unix(), 10))
	q.Set("offset", strconv.Itoa(offset))
	q.Set("limit", strconv.Itoa(pageSize))
	_, body, err := c.http.Get(ctx, op, c.api+"/orders?"+q.Encode(), c.headers())
	if err != nil {
		return channels.Page{}, err
	}
	var res struct {
		Total  int               `json:"total"`
		Count  int               `json:"count"`
		Offset int               `json:"offset"`
		Items  []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return channels.Page{}, errs.E(op, errs.Internal, "Ecwid's answer is not a search result", err)
	}
	var p channels.Page
	for _, raw := range res.Items {
		var st struct {
			PaymentStatus string `json:"paymentStatus"`
		}
		if json.Unmarshal(raw, &st) == nil && st.PaymentStatus == "INCOMPLETE" {
			continue
		}
		in, err := ParseOrder(raw, cur)
		if err != nil {
			return channels.Page{}, errs.E(op, err)
		}
		p.Orders = append(p.Orders, in)
	}
	if next := offset + len(res.Items); len(res.Items) > 0 && next < res.Total {
		p.Next = strconv.Itoa(next)
	}
	return p, nil
}
