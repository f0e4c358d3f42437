package channels

import (
	"context"
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

// UserAgent is what every connector calls itself.
const UserAgent = "Waybill"

// maxBody bounds what is read of one vendor answer.
const maxBody = 64 << 20

// HTTP is what every channel client needs around net/http: a User-Agent,
// retries of a 429 honouring the vendor's Retry-After, and the vendor's
// failures turned into ErrAuth (401, 403), ErrThrottled (429 once retries
// run out) or a StatusError carrying the start of the vendor's answer.
type HTTP struct {
	Client *http.Client
	// Retries is how many times a 429 is retried (default 3).
	Retries int
	// MaxWait is the longest Retry-After waited for in-process (default
	// one minute); a longer one returns ErrThrottled at once.
	MaxWait time.Duration
	// Sleep waits d or until ctx ends; nil uses a timer (tests shorten it).
	Sleep func(ctx context.Context, d time.Duration) error
}

// StatusError is a vendor's answer outside 2xx.
type StatusError struct {
	Method string
	URL    string // without its query, which may name the customer
	Code   int
	Body   string // the start of the vendor's answer
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.URL, e.Code)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Get sends a GET for u with the headers h and returns the headers and
// body of a 2xx answer. op names the operation in errors.
func (c *HTTP) Get(ctx context.Context, op, u string, h http.Header) (http.Header, []byte, error) {
	retries := c.Retries
	if retries <= 0 {
		retries = 3
	}
	maxWait := c.MaxWait
	if maxWait <= 0 {
		maxWait = time.Minute
	}
	client := c.Client
	if client == nil {
		client = http.DefaultClient
	}
	sleep := c.Sleep
	if sleep == nil {
		sleep = wait
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, nil, errs.E(op, errs.Internal, err)
		}
		for k, vs := range h {
			req.Header[k] = vs
		}
		req.Header.Set("User-Agent", UserAgent)
		if req.Header.Get("Accept") == "" {
			req.Header.Set("Accept", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, errs.E(op, ctx.Err())
			}
			return nil, nil, errs.E(op, errs.Transient, "the channel cannot be reached", err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body.Close()
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, errs.E(op, ctx.Err())
			}
			return nil, nil, errs.E(op, errs.Transient, "reading the channel's answer", err)
		}
		if len(body) > maxBody {
			return nil, nil, errs.E(op, errs.Internal, fmt.Sprintf("the channel's answer is over %d bytes", maxBody))
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp.Header, body, nil
		}
		se := &StatusError{Method: req.Method, URL: redact(req.URL), Code: resp.StatusCode, Body: snippet(body)}
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			after := RetryAfter(resp.Header.Get("Retry-After"), time.Now())
			if attempt >= retries || after > maxWait {
				return nil, nil, errs.E(op, errs.Transient, ErrThrottled{After: after, Err: se})
			}
			if err := sleep(ctx, after); err != nil {
				return nil, nil, errs.E(op, err)
			}
			continue
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			return nil, nil, errs.E(op, errs.Unauthenticated, ErrAuth{Err: se})
		case resp.StatusCode == http.StatusNotFound:
			return nil, nil, errs.E(op, errs.NotExist, se)
		case resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
			return nil, nil, errs.E(op, errs.Transient, se)
		default:
			return nil, nil, errs.E(op, errs.Internal, se)
		}
	}
}

// RetryAfter reads a Retry-After header: seconds (Shopify sends "2.0") or
// an HTTP date. Missing or unreadable, it is two seconds.
func RetryAfter(v string, now time.Time) time.Duration {
	const fallback = 2 * time.Second
	v = strings.TrimSpace(v)
	if v == "" {
		return fallback
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return fallback
		}
		if f > 24*3600 {
			f = 24 * 3600
		}
		return time.Duration(f * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return fallback
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

func redact(u *url.URL) string {
	c := *u
	c.RawQuery, c.User = "", nil
	return c.String()
}

// snippet is the start of a vendor's error answer, on one line.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	return Clip(s, 300)
}
