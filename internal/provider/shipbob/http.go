package shipbob

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

	"github.com/waybill/waybill/internal/errs"
)

// maxBody bounds what is read of one answer: an order, or a page of
// inventory levels, is far smaller.
const maxBody = 8 << 20

// maxWait is the longest wait for ShipBob's rate limit done in process
// (its window is a minute); a longer one fails at once as transient.
const maxWait = time.Minute

// defaultRetryAfter is the wait after a 429 that names none.
const defaultRetryAfter = 2 * time.Second

// apiError is an answer of ShipBob's outside 2xx.
type apiError struct {
	Method  string
	Path    string // without the query
	Code    int
	Message string // what ShipBob said, on one line
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("ShipBob answered %s %s with HTTP %d", e.Method, e.Path, e.Code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// reason is the refusal for people: ShipBob's words, or the status code.
func (e *apiError) reason() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("ShipBob answered HTTP %d", e.Code)
}

func asAPIError(err error) (*apiError, bool) {
	var ae *apiError
	ok := errors.As(err, &ae)
	return ae, ok
}

// url is the address of path (after the version) with the query q.
func (c *Client) url(path string, q url.Values) string {
	u := c.root + "/" + apiVersion + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// call sends method path?q to ShipBob with body (when not nil) as JSON and
// returns the body of a 2xx answer.
func (c *Client) call(ctx context.Context, op, method, path string, q url.Values, body any) ([]byte, error) {
	return c.send(ctx, op, method, c.url(path, q), body)
}

// send is call for a whole URL. Answers outside 2xx become errors: 429 is
// retried after the wait ShipBob names (up to c.Retries times) and is
// transient after; 401 and 403 are a permission error naming the token;
// 404 is NotExist; 408 and 5xx are transient; the rest are Invalid. Each
// wraps an *apiError.
func (c *Client) send(ctx context.Context, op, method, u string, body any) ([]byte, error) {
	if c.bad != nil {
		return nil, c.bad
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, errs.E(op, errs.Internal, err)
		}
	}
	sleep := c.Sleep
	if sleep == nil {
		sleep = wait
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(payload))
		if err != nil {
			return nil, errs.E(op, errs.Internal, err)
		}
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
		req.Header.Set("shipbob_channel_id", c.cfg.ChannelID)
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, errs.E(op, ctx.Err())
			}
			return nil, errs.E(op, errs.Transient, "ShipBob cannot be reached", err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body.Close()
		if err != nil {
			if ctx.Err() != nil {
				return nil, errs.E(op, ctx.Err())
			}
			return nil, errs.E(op, errs.Transient, "reading ShipBob's answer", err)
		}
		if len(data) > maxBody {
			return nil, errs.E(op, errs.Internal, fmt.Sprintf("ShipBob's answer is over %d bytes", maxBody))
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return data, nil
		}
		ae := &apiError{Method: method, Path: req.URL.Path, Code: resp.StatusCode, Message: errorMessage(data)}
		switch code := resp.StatusCode; {
		case code == http.StatusTooManyRequests:
			after := retryAfter(resp.Header, time.Now())
			if attempt >= c.Retries || after > maxWait {
				return nil, errs.E(op, errs.Transient, fmt.Sprintf("ShipBob is rate limiting the account; try again in %s", after), ae)
			}
			if err := sleep(ctx, after); err != nil {
				return nil, errs.E(op, err)
			}
		case code == http.StatusUnauthorized:
			return nil, errs.E(op, errs.Permission, "ShipBob refused the personal access token (token): it is wrong or revoked", ae)
		case code == http.StatusForbidden:
			return nil, errs.E(op, errs.Permission, "ShipBob refused the request: the personal access token (token) has no access to it or to channel "+c.cfg.ChannelID, ae)
		case code == http.StatusNotFound:
			return nil, errs.E(op, errs.NotExist, ae)
		case code == http.StatusRequestTimeout || code >= 500:
			return nil, errs.E(op, errs.Transient, "ShipBob failed; try again later", ae)
		default:
			return nil, errs.E(op, errs.Invalid, ae)
		}
	}
}

// resolve turns the "next" link of a page into a URL on c's endpoint.
// ShipBob's links have been seen as paths from the host ("/2025-07/…"),
// from the version ("/inventory-level?…") and as whole URLs; only the path
// and query are taken, so the token never leaves the configured host.
func (c *Client) resolve(next string) (string, error) {
	if strings.TrimSpace(next) == "" {
		return "", nil
	}
	u, err := url.Parse(strings.TrimSpace(next))
	if err != nil {
		return "", err
	}
	p := u.EscapedPath()
	switch {
	case p == "":
		return "", fmt.Errorf("link %q has no path", next)
	case strings.HasPrefix(p, "/"+apiVersion+"/"):
	case strings.HasPrefix(p, "/"):
		p = "/" + apiVersion + p
	default:
		p = "/" + apiVersion + "/" + p
	}
	s := c.root + p
	if u.RawQuery != "" {
		s += "?" + u.RawQuery
	}
	return s, nil
}

// retryAfter reads how long ShipBob asks to wait: x-retry-after, which its
// rate-limit documentation names, or the standard Retry-After; seconds or
// an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	for _, k := range []string{"X-Retry-After", "Retry-After"} {
		v := strings.TrimSpace(h.Get(k))
		if v == "" {
			continue
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(f) && f >= 0 {
			return time.Duration(min(f, 24*3600) * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	return defaultRetryAfter
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
