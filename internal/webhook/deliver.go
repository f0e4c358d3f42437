package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/waybill/waybill/internal/errs"
)

// MaxResponseBody is how much of a receiver's response is kept: enough to
// show why a delivery failed, too little for a receiver to exhaust memory.
const MaxResponseBody = 64 << 10

// ReadLimited reads r to its end but keeps at most MaxResponseBody bytes.
// It stops reading there, so a receiver cannot make the sender read forever.
func ReadLimited(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, MaxResponseBody))
}

// DeliveryResult is what one delivery attempt came to. Err is empty exactly
// when the receiver answered 2xx; otherwise it says what went wrong in words
// fit to show the endpoint's owner. StatusCode is zero when no response came.
type DeliveryResult struct {
	StatusCode      int
	Latency         time.Duration
	ResponseBody    []byte
	ResponseHeaders http.Header
	Err             string
}

// OK reports whether the delivery succeeded.
func (r DeliveryResult) OK() bool { return r.Err == "" }

// Deliver POSTs body to endpoint, signed with secret as message msgID at ts, using
// c, which should come from Policy.Client. Only a 2xx answer is success; a
// redirect is not followed and counts as a failure, like any other status,
// time-out, refused address or broken connection.
func Deliver(ctx context.Context, c *http.Client, endpoint, secret, msgID string, ts time.Time, body []byte) DeliveryResult {
	return DeliverSigned(ctx, c, endpoint, []string{secret}, msgID, ts, body)
}

// DeliverSigned is Deliver signing with each of secrets: during a secret
// rotation the endpoint's old and new secrets both sign, and
// webhook-signature carries one signature per secret.
func DeliverSigned(ctx context.Context, c *http.Client, endpoint string, secrets []string, msgID string, ts time.Time, body []byte) DeliveryResult {
	if c == nil {
		return DeliveryResult{Err: "no HTTP client to deliver with"}
	}
	h, err := headersFor(secrets, msgID, ts, body)
	if err != nil {
		return DeliveryResult{Err: err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return DeliveryResult{Err: "invalid URL: " + unwrapURLError(err).Error()}
	}
	req.Header = h

	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return DeliveryResult{Latency: time.Since(start), Err: describe(err, time.Since(start))}
	}
	defer resp.Body.Close()
	// The answer has arrived; a failure while reading the rest of the body
	// does not undo it, so the body is kept as far as it was read.
	respBody, _ := ReadLimited(resp.Body)
	// Read a little past the limit so that a slightly long answer still
	// leaves its connection reusable; a much longer one is cut off by Close.
	io.CopyN(io.Discard, resp.Body, MaxResponseBody)
	res := DeliveryResult{
		StatusCode:      resp.StatusCode,
		Latency:         time.Since(start),
		ResponseBody:    respBody,
		ResponseHeaders: resp.Header,
	}
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
	case code >= 300 && code <= 399:
		res.Err = fmt.Sprintf("redirect %d not followed", code)
	default:
		res.Err = fmt.Sprintf("status %d %s", code, http.StatusText(code))
	}
	return res
}

// describe turns a failed request into a sentence for the endpoint's owner.
// It drops the URL that http.Client puts in front, since the owner knows it
// and it may carry a token in its query.
func describe(err error, elapsed time.Duration) string {
	var e *errs.Error
	if errors.As(err, &e) && errs.CodeOf(e) == refusedCode {
		return e.Msg
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return "timed out after " + roundDuration(elapsed).String()
	}
	return unwrapURLError(err).Error()
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// roundDuration keeps two or three significant figures: "10s", "1.5s", "200ms".
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	default:
		return d.Round(time.Millisecond)
	}
}
