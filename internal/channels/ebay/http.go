package ebay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
)

const maxBody = 32 << 20

// apiError is an eBay REST error response:
// {"errors":[{"errorId","domain","category","message","longMessage"}]}.
type apiError struct {
	Status  int
	ErrorID int
	Message string
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("HTTP %d", e.Status)
	if e.ErrorID != 0 {
		s += fmt.Sprintf(" error %d", e.ErrorID)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

func newAPIError(status int, body []byte) *apiError {
	e := &apiError{Status: status}
	var doc struct {
		Errors []struct {
			ErrorID     int    `json:"errorId"`
			Message     string `json:"message"`
			LongMessage string `json:"longMessage"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &doc) == nil && len(doc.Errors) > 0 {
		e.ErrorID, e.Message = doc.Errors[0].ErrorID, doc.Errors[0].LongMessage
		if e.Message == "" {
			e.Message = doc.Errors[0].Message
		}
	} else {
		e.Message = strings.TrimSpace(string(body[:min(len(body), 200)]))
	}
	return e
}

// get calls a REST resource: it waits for the limiter, sends the bearer
// token, retries once with a fresh token on 401 and backs off on 429 up to
// MaxRetries times.
func (c *Client) get(ctx context.Context, path, rawQuery string) ([]byte, error) {
	const op = "ebay.getOrders"
	u := c.base + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	refreshed := false
	for attempt := 0; ; {
		if err := c.Limiter.Wait(ctx); err != nil {
			return nil, errs.E(op, errs.Transient, err)
		}
		tok, err := c.accessToken(ctx)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, errs.E(op, errs.Internal, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", UserAgent)
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
		switch s := resp.StatusCode; {
		case s >= 200 && s < 300:
			return body, nil
		case s == http.StatusUnauthorized:
			if !refreshed {
				// eBay user tokens last two hours; one may have been
				// revoked or expired early. Try a fresh one once.
				refreshed = true
				c.forgetToken()
				continue
			}
			return nil, errs.E(op, errs.Unauthenticated, channels.ErrAuth{Err: newAPIError(s, body)})
		case s == http.StatusForbidden:
			// Insufficient permissions: the token lacks the scope.
			return nil, errs.E(op, errs.Unauthenticated, channels.ErrAuth{Err: newAPIError(s, body)})
		case s == http.StatusTooManyRequests:
			wait := backoff(attempt, resp.Header)
			if attempt >= c.MaxRetries {
				return nil, errs.E(op, errs.Transient, channels.ErrThrottled{After: wait, Err: newAPIError(s, body)})
			}
			attempt++
			if err := c.Sleep(ctx, wait); err != nil {
				return nil, err
			}
		case s >= 500:
			return nil, errs.E(op, errs.Transient, newAPIError(s, body))
		default:
			return nil, errs.E(op, errs.Internal, newAPIError(s, body))
		}
	}
}

// backoff is how long to wait before retry attempt+1 of a throttled call:
// Retry-After when eBay sends it, else 2, 4, 8… seconds, at most five
// minutes.
func backoff(attempt int, h http.Header) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && s > 0 {
		return min(time.Duration(s)*time.Second, time.Hour)
	}
	return min(2*time.Second<<min(attempt, 8), 5*time.Minute)
}

// accessToken returns the cached user access token, or refreshes it when it
// is missing or about to expire.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	const op = "ebay.accessToken"
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.Now().Before(c.expires) {
		return c.token, nil
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {strings.TrimSpace(c.cfg.RefreshToken)},
		"scope":         {c.scope},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", errs.E(op, errs.Internal, err)
	}
	req.SetBasicAuth(strings.TrimSpace(c.cfg.ClientID), strings.TrimSpace(c.cfg.ClientSecret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", UserAgent)
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
			return "", errs.E(op, errs.Transient, channels.ErrThrottled{After: backoff(0, resp.Header), Err: err})
		case resp.StatusCode >= 500:
			return "", errs.E(op, errs.Transient, err)
		default:
			// invalid_grant (refresh token expired, revoked or of another
			// app), invalid_client, invalid_scope: new consent is needed.
			return "", errs.E(op, errs.Unauthenticated, channels.ErrAuth{Err: err})
		}
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return "", errs.E(op, errs.Transient, errors.New("token endpoint: no access_token in the answer"))
	}
	life := 2 * time.Hour // eBay user access tokens last 7200 s
	if tr.ExpiresIn > 0 && tr.ExpiresIn < 1e6 {
		life = time.Duration(tr.ExpiresIn) * time.Second
	}
	c.token, c.expires = tr.AccessToken, c.Now().Add(life-min(5*time.Minute, life/10))
	return c.token, nil
}

func (c *Client) forgetToken() {
	c.mu.Lock()
	c.token = ""
	c.mu.Unlock()
}
