// Package spapi is the transport every Amazon Selling Partner API client
// here shares: the sales channel (channels/amazon, the Orders API) and the
// fulfilment provider (provider/amazonmcf, Multi-Channel Fulfillment).
//
// A Client exchanges the seller's Login with Amazon (LWA) refresh token for
// an access token and keeps it until shortly before it expires (lwa.go). Do
// calls one operation with that token in x-amz-access-token: it waits for
// the operation's rate limiter (its documented usage plan, raised when
// Amazon announces a better one in x-amzn-RateLimit-Limit), gets a fresh
// token once when Amazon answers 401 or 403, backs off and retries when it
// answers 429, and turns every other failure into an *APIError carrying
// Amazon's {"errors":[{code,message,details}]} and x-amzn-RequestId.
//
// What a call means, its paths and payloads, stays with the packages that
// make it.
package spapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/waybill/waybill/internal/errs"
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

// maxBody bounds what we read of any response.
const maxBody = 32 << 20

// Config is what a Client needs of a seller's connection: the selling
// region and the LWA credentials of the app the seller authorised.
type Config struct {
	Region       string // na, eu or fe
	ClientID     string
	ClientSecret string
	RefreshToken string
	// Endpoint and TokenURL replace the regional SP-API host and the LWA
	// token endpoint (tests, sandbox).
	Endpoint string
	TokenURL string
}

// NormRegion is region as Endpoints spells it.
func NormRegion(region string) string { return strings.ToLower(strings.TrimSpace(region)) }

// CheckRegion adds a problem under "region" to fe when region is not one of
// the selling regions.
func CheckRegion(fe *errs.FieldList, region string) {
	if _, ok := Endpoints[NormRegion(region)]; !ok {
		fe.Add("region", "must be one of na, eu, fe", region)
	}
}

var marketplaceRe = regexp.MustCompile(`^[A-Z0-9]{5,20}$`)

// CheckMarketplace adds a problem under field to fe when id does not look
// like a marketplace id, or is a marketplace known to be in another region
// than region (when region is valid).
func CheckMarketplace(fe *errs.FieldList, field, id, region string) {
	trimmed := strings.TrimSpace(id)
	region = NormRegion(region)
	switch m, known := Marketplaces[trimmed]; {
	case !marketplaceRe.MatchString(trimmed):
		fe.Add(field, "must be an Amazon marketplace id such as ATVPDKIKX0DER", id)
	case known && Endpoints[region] != "" && m.Region != region:
		fe.Add(field, fmt.Sprintf("is the %s marketplace, which is in region %s, not %s", m.Country, m.Region, region), id)
	}
}

// CheckAccess adds to fe the problems of c's credentials and of its URL
// overrides, under the names connection settings give them: client_id,
// client_secret, refresh_token, endpoint and token_url.
func (c Config) CheckAccess(fe *errs.FieldList) {
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
}

// Client calls SP-API for one seller. Keep one per connection for as long
// as the process runs: its cached access token, like the callers' rate
// limiters, is what keeps us inside Amazon's usage plans.
type Client struct {
	cfg      Config
	hc       *http.Client
	endpoint string
	tokenURL string

	// MaxRetries is how often a throttled (429) call is retried before Do
	// gives up with a *ThrottledError.
	MaxRetries int
	// Sleep waits d or until ctx ends; tests replace it to see the backoff.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock used for token expiry.
	Now func() time.Time

	mu      sync.Mutex // the LWA token
	token   string
	expires time.Time
}

// New returns a client for cfg. A nil hc means a client with a one-minute
// timeout.
func New(cfg Config, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = Endpoints[NormRegion(cfg.Region)]
	}
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		tokenURL = DefaultTokenURL
	}
	return &Client{
		cfg:        cfg,
		hc:         hc,
		endpoint:   strings.TrimRight(endpoint, "/"),
		tokenURL:   tokenURL,
		MaxRetries: 3,
		Sleep:      Sleep,
		Now:        time.Now,
	}
}

// Endpoint is the SP-API host the client calls.
func (c *Client) Endpoint() string { return c.endpoint }

// TokenURL is the LWA token endpoint the client uses.
func (c *Client) TokenURL() string { return c.tokenURL }

// Call is one SP-API operation call.
type Call struct {
	// Op is the operation's name in Amazon's model, e.g. "getOrders"; it
	// names the call in errors.
	Op string
	// Limiter paces the operation (nil: not paced). A higher rate announced
	// in x-amzn-RateLimit-Limit is adopted on it.
	Limiter *rate.Limiter
	Method  string
	Path    string // from the host on, e.g. "/orders/v0/orders"
	Query   url.Values
	// Body, when not nil, is sent as application/json.
	Body []byte
	// Token, when set, supplies the access token in place of the LWA token
	// (a Restricted Data Token, say). Forget, when set, is called when
	// Amazon refuses a token with 401 or 403, before the one retry with
	// fresh tokens.
	Token  func(ctx context.Context) (string, error)
	Forget func()
}

// Do makes call and returns the body of Amazon's 2xx answer. Failures are
// *errs.Error values with a Kind: Unauthenticated for refused credentials
// (401 or 403 even with a fresh token, or an LWA refusal), Transient for
// throttling past MaxRetries (a *ThrottledError), 5xx answers and network
// failures, NotExist for 404 and Internal for any other answer (400 and the
// like: we sent something Amazon does not accept). Amazon's answers are
// *APIError causes.
func (c *Client) Do(ctx context.Context, call Call) ([]byte, error) {
	op := "spapi." + call.Op
	u := c.endpoint + call.Path
	if len(call.Query) > 0 {
		u += "?" + call.Query.Encode()
	}
	token := call.Token
	if token == nil {
		token = c.AccessToken
	}
	refreshed := false
	for attempt := 0; ; {
		if call.Limiter != nil {
			if err := call.Limiter.Wait(ctx); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, errs.E(op, errs.Transient, err)
			}
		}
		tok, err := token(ctx)
		if err != nil {
			return nil, err
		}
		var rd io.Reader
		if call.Body != nil {
			rd = bytes.NewReader(call.Body)
		}
		req, err := http.NewRequestWithContext(ctx, call.Method, u, rd)
		if err != nil {
			return nil, errs.E(op, errs.Internal, err)
		}
		if call.Body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("x-amz-access-token", tok)
		req.Header.Set("User-Agent", UserAgent)
		req.Header.Set("Accept", "application/json")
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, errs.E(op, errs.Transient, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err != nil {
			return nil, errs.E(op, errs.Transient, err)
		}
		headerRate := rateHeader(resp.Header)
		if call.Limiter != nil && headerRate > call.Limiter.Limit() {
			// Our usage plan is better than the documented default.
			call.Limiter.SetLimit(headerRate)
		}
		switch s := resp.StatusCode; {
		case s >= 200 && s < 300:
			return body, nil
		case s == http.StatusUnauthorized || s == http.StatusForbidden:
			if !refreshed {
				// The token may have been revoked or expired early: get a
				// new one once before calling the credentials bad.
				refreshed = true
				c.forgetToken()
				if call.Forget != nil {
					call.Forget()
				}
				continue
			}
			return nil, errs.E(op, errs.Unauthenticated, NewAPIError(resp, body))
		case s == http.StatusTooManyRequests:
			r := headerRate
			if r <= 0 && call.Limiter != nil {
				r = call.Limiter.Limit()
			}
			wait := Backoff(r, attempt, resp.Header)
			if attempt >= c.MaxRetries {
				return nil, errs.E(op, errs.Transient, &ThrottledError{After: wait, Err: NewAPIError(resp, body)})
			}
			attempt++
			if err := c.Sleep(ctx, wait); err != nil {
				return nil, err
			}
		case s >= 500:
			return nil, errs.E(op, errs.Transient, NewAPIError(resp, body))
		case s == http.StatusNotFound:
			return nil, errs.E(op, errs.NotExist, NewAPIError(resp, body))
		default:
			return nil, errs.E(op, errs.Internal, NewAPIError(resp, body))
		}
	}
}

// APIError is an SP-API answer outside 2xx: its status, the first entry of
// its {"errors":[{"code","message","details"}]} (or the start of the body
// when it has none) and its x-amzn-RequestId.
type APIError struct {
	Status    int
	Code      string
	Message   string
	Details   string
	RequestID string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("HTTP %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Details != "" {
		s += " (" + e.Details + ")"
	}
	if e.RequestID != "" {
		s += " [request " + e.RequestID + "]"
	}
	return s
}

// Refused reports whether e is Amazon declining what we asked (a 4xx other
// than 401, 403, 404 and 429): the answer to expect when an operation is not
// allowed in an object's present state.
func (e *APIError) Refused() bool {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusTooManyRequests:
		return false
	}
	return e.Status >= 400 && e.Status < 500
}

// NewAPIError reads Amazon's error answer.
func NewAPIError(resp *http.Response, body []byte) *APIError {
	e := &APIError{Status: resp.StatusCode, RequestID: resp.Header.Get("x-amzn-RequestId")}
	e.Code, e.Message, e.Details = ParseErrors(body)
	return e
}

// ParseErrors returns the first entry of an SP-API error list, or the start
// of body as the message when it holds none.
func ParseErrors(body []byte) (code, message, details string) {
	var doc struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Details string `json:"details"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &doc) == nil && len(doc.Errors) > 0 {
		return doc.Errors[0].Code, doc.Errors[0].Message, doc.Errors[0].Details
	}
	return "", strings.ToValidUTF8(strings.TrimSpace(string(body[:min(len(body), 200)])), "?"), ""
}

// ThrottledError is Amazon still answering 429 (or the LWA endpoint
// refusing us for the pace) after the client's retries. After is how long
// to wait before trying again; Err is Amazon's answer.
type ThrottledError struct {
	After time.Duration
	Err   error
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("throttled by Amazon; retry after %s: %v", e.After, e.Err)
}
func (e *ThrottledError) Unwrap() error { return e.Err }

// rateHeader reads x-amzn-RateLimit-Limit (requests per second); 0 when
// absent or unreadable.
func rateHeader(h http.Header) rate.Limit {
	v, err := strconv.ParseFloat(strings.TrimSpace(h.Get("x-amzn-RateLimit-Limit")), 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0
	}
	return rate.Limit(v)
}

// Backoff is how long to wait before retry attempt+1 of a throttled call:
// one token's worth of time at rate r, doubled per attempt, at least a
// second and at most five minutes; a longer Retry-After wins.
func Backoff(r rate.Limit, attempt int, h http.Header) time.Duration {
	base := time.Second
	if r > 0 && r != rate.Inf {
		base = time.Duration(float64(time.Second) / float64(r))
	}
	d := base << min(attempt, 8)
	d = min(max(d, time.Second), 5*time.Minute)
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && s > 0 {
		d = max(d, min(time.Duration(s)*time.Second, time.Hour))
	}
	return d
}

// Sleep waits d or until ctx ends, whichever comes first: the default
// Client.Sleep.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
