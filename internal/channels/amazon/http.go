package amazon

import (
	"context"
	"errors"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/spapi"
)

// call makes an SP-API call through the shared transport and puts its
// failures in the channel service's terms: refused credentials become a
// channels.ErrAuth, throttling past the retries a channels.ErrThrottled.
func (c *Client) call(ctx context.Context, call spapi.Call) ([]byte, error) {
	body, err := c.Do(ctx, call)
	return body, channelError("amazon."+call.Op, err)
}

// channelError is err in the channel service's terms (see call). An error
// already translated (a token func's, say) is returned as it is.
func channelError(op string, err error) error {
	var (
		auth channels.ErrAuth
		thr  channels.ErrThrottled
		te   *spapi.ThrottledError
	)
	switch {
	case err == nil, errors.As(err, &auth), errors.As(err, &thr):
		return err
	case errors.As(err, &te):
		return errs.E(op, errs.Transient, channels.ErrThrottled{After: te.After, Err: te.Err})
	case errs.Is(errs.Unauthenticated, err):
		return errs.E(op, errs.Unauthenticated, channels.ErrAuth{Err: err})
	}
	return err
}
