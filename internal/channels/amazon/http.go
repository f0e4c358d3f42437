package amazon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
)

// maxBody bounds what we read of any response.
const maxBody = 32 << 20

// apiError is an SP-API error response: {"errors":[{"code","message","details"}]}.
type apiError struct {
	Status    int
	Code      string
	Message   string
	Details   string
	RequestID string
}

func (e *apiError) Error() string {
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

func newAPIError(resp *http.Response, body []byte) *apiError {
	e := &apiError{Status: resp.StatusCode, RequestID: resp.Header.Get("x-amzn-RequestId")}
	var doc struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Details string `json:"details"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &doc) == nil && len(doc.Errors) > 0 {
		e.Code, e.Message, e.Details = doc.Errors[0].Code, doc.Errors[0].Message, doc.Errors[0].Details
	} else {
		e.Message = strings.TrimSpace(string(body[:min(len(body), 200)]))
	}
	return e
}

// get calls an SP-API GET operation with the LWA access token.
func (c *Client) get(ctx context.Context, op string, lim *rate.Limiter, path string, q url.Values) ([]byte, error) {
	return c.do(ctx, op, lim, http.MethodGet, path, q, nil, false)
}

// do calls an SP-API operation: it waits for the operation's limiter, sends
// the access token (restricted: the Restricted Data Token of ordersToken,
// or the LWA token where Amazon refuses us one), retries once with fresh
// tokens on 401/403 and backs off on 429 up to MaxRetries times. A non-nil
// body is sent as JSON.
func (c *Client) do(ctx context.Context, op string, lim *rate.Limiter, method, path string, q url.Values, body []byte, restricted bool) ([]byte, error) {
	u := c.endpoint + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	token := c.accessToken
	if restricted {
		token = c.ordersToken
	}
	refreshed := false
	for attempt := 0; ; {
		if err := lim.Wait(ctx); err != nil {
			return nil, errs.E("amazon."+op, errs.Transient, err)
		}
		tok, err := token(ctx)
		if err != nil {
			return nil, err
		}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return nil, errs.E("amazon."+op, errs.Internal, err)
		}
		if body != nil {
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
			return nil, errs.E("amazon."+op, errs.Transient, err)
		}
		rbody, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err != nil {
			return nil, errs.E("amazon."+op, errs.Transient, err)
		}
		headerRate := rateHeader(resp.Header)
		if headerRate > lim.Limit() {
			// Our usage plan is better than the documented default.
			lim.SetLimit(headerRate)
		}
		switch s := resp.StatusCode; {
		case s >= 200 && s < 300:
			return rbody, nil
		case s == http.StatusUnauthorized || s == http.StatusForbidden:
			if !refreshed {
				// The token may have been revoked or expired early: get a
				// new one once before calling the credentials bad.
				refreshed = true
				c.forgetToken()
				if restricted {
					c.forgetRDT()
				}
				continue
			}
			return nil, errs.E("amazon."+op, errs.Unauthenticated, channels.ErrAuth{Err: newAPIError(resp, rbody)})
		case s == http.StatusTooManyRequests:
			r := headerRate
			if r <= 0 {
				r = lim.Limit()
			}
			wait := backoff(r, attempt, resp.Header)
			if attempt >= c.MaxRetries {
				return nil, errs.E("amazon."+op, errs.Transient, channels.ErrThrottled{After: wait, Err: newAPIError(resp, rbody)})
			}
			attempt++
			if err := c.Sleep(ctx, wait); err != nil {
				return nil, err
			}
		case s >= 500:
			return nil, errs.E("amazon."+op, errs.Transient, newAPIError(resp, rbody))
		case s == http.StatusNotFound:
			return nil, errs.E("amazon."+op, errs.NotExist, newAPIError(resp, rbody))
		default:
			// 400 and the like: we sent something Amazon does not accept.
			return nil, errs.E("amazon."+op, errs.Internal, newAPIError(resp, rbody))
		}
	}
}

// rateHeader reads x-amzn-RateLimit-Limit (requests per second); 0 when
// absent or unreadable.
func rateHeader(h http.Header) rate.Limit {
	v, err := strconv.ParseFloat(strings.TrimSpace(h.Get("x-amzn-RateLimit-Limit")), 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0
	}
	return rate.Limit(v)
}

// backoff is how long to wait before retry attempt+1 of a throttled call:
// one token's worth of time at rate r, doubled per attempt, at least a
// second and at most five minutes; a longer Retry-After wins.
func backoff(r rate.Limit, attempt int, h http.Header) time.Duration {
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

// accessToken returns a cached LWA access token, or fetches a new one with
// the refresh token when the cached one is missing or about to expire.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	const op = "amazon.accessToken"
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.Now().Before(c.expires) {
		return c.token, nil
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {strings.TrimSpace(c.cfg.RefreshToken)},
		"client_id":     {strings.TrimSpace(c.cfg.ClientID)},
		"client_secret": {strings.TrimSpace(c.cfg.ClientSecret)},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", errs.E(op, errs.Internal, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", errs.E(op, errs.Transient, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", errs.E(op, errs.Transient, err)
	}
	if resp.StatusCode != http.StatusOK {
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &oe)
		err := fmt.Errorf("token endpoint: HTTP %d %s: %s", resp.StatusCode, oe.Error, oe.Description)
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			return "", errs.E(op, errs.Transient, channels.ErrThrottled{After: backoff(0, 0, resp.Header), Err: err})
		case resp.StatusCode >= 500:
			return "", errs.E(op, errs.Transient, err)
		default:
			// invalid_grant (revoked or wrong refresh token), invalid_client
			// (wrong client id or secret), unauthorized_client: new
			// credentials are needed.
			return "", errs.E(op, errs.Unauthenticated, channels.ErrAuth{Err: err})
		}
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", errs.E(op, errs.Transient, errors.New("token endpoint: no access_token in the answer"))
	}
	life := time.Hour // LWA access tokens last one hour
	if tr.ExpiresIn > 0 && tr.ExpiresIn < 1e6 {
		life = time.Duration(tr.ExpiresIn) * time.Second
	}
	// Renew a minute early (or a tenth of the life, for short ones) so a
	// token never expires between our check and Amazon's.
	c.token, c.expires = tr.AccessToken, c.Now().Add(life-min(time.Minute, life/10))
	return c.token, nil
}

func (c *Client) forgetToken() {
	c.mu.Lock()
	c.token = ""
	c.mu.Unlock()
}
