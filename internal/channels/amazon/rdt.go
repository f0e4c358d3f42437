package amazon

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/spapi"
)

// Restricted data. getOrders returns a buyer's name and e-mail (BuyerInfo)
// and the street lines, name and phone of the shipping address only when
// it is called with a Restricted Data Token (RDT) in x-amz-access-token
// instead of the LWA access token; with the LWA token, a seller-fulfilled
// order comes with city, region, postal code and country at most, which is
// no address to ship to. The RDT comes from the Tokens API v2021-03-01
// operation createRestrictedDataToken, asked for the restricted resource
// GET /orders/v0/orders with the dataElements buyerInfo and
// shippingAddress ("bulk orders"), and serves every getOrders call,
// NextToken pages included, until it expires (expiresIn, an hour).
//
// Amazon issues one only to an app approved for the restricted roles
// (Direct-to-Consumer Shipping for addresses, Tax Invoicing or Tax
// Remittance for buyer information). Without them it refuses (403
// Unauthorized "Access to requested resource is denied.", or 400
// InvalidInput "Application do not have access to some or all requested
// resource"): the client then polls with the LWA token, so the orders still
// arrive, without addresses, and Warning reports why. It asks again an hour
// later, so a role granted meanwhile takes effect without a restart.

const (
	// Usage plan of createRestrictedDataToken: 1 request per second,
	// burst 10.
	createRDTRate  = 1
	createRDTBurst = 10

	// rdtPath is the Tokens API operation; ordersPath the restricted
	// resource (getOrders) we ask it for.
	rdtPath    = "/tokens/2021-03-01/restrictedDataToken"
	ordersPath = "/orders/v0/orders"

	// rdtRecheck is how long a refusal is believed before asking again.
	rdtRecheck = time.Hour
)

// rdtRequest is the createRestrictedDataToken body: one restricted
// resource, getOrders, with buyer information and shipping addresses.
var rdtRequest = func() []byte {
	type resource struct {
		Method       string   `json:"method"`
		Path         string   `json:"path"`
		DataElements []string `json:"dataElements"`
	}
	b, err := json.Marshal(struct {
		RestrictedResources []resource `json:"restrictedResources"`
	}{[]resource{{Method: http.MethodGet, Path: ordersPath, DataElements: []string{"buyerInfo", "shippingAddress"}}}})
	if err != nil {
		panic(err)
	}
	return b
}()

// ErrNoRestrictedData is the warning of a connection whose app Amazon
// refuses a Restricted Data Token: orders are polled all the same, but
// seller-fulfilled ones come without shipping address and buyer, and cannot
// be shipped until the app is granted the restricted roles. Err is Amazon's
// refusal.
type ErrNoRestrictedData struct{ Err error }

func (e ErrNoRestrictedData) Error() string {
	return "Amazon refused a Restricted Data Token (the app needs the Direct-to-Consumer Shipping role, and Tax Invoicing or Tax Remittance for buyer details), so orders come without shipping address or buyer: " + e.Err.Error()
}
func (e ErrNoRestrictedData) Unwrap() error { return e.Err }

// Warning reports what the last polls could not do without failing: an
// ErrNoRestrictedData while Amazon refuses us a Restricted Data Token, nil
// once it issues one. It is for the connection to show; Poll itself
// succeeds either way.
func (c *Client) Warning() error {
	c.rdtMu.Lock()
	defer c.rdtMu.Unlock()
	return c.noRDT
}

// ordersToken is the token for getOrders: a cached RDT, a new one when the
// cached one is missing or about to expire, or the LWA access token while
// Amazon refuses us one. Any other failure to get an RDT (throttled past
// the retries, 5xx, network) is returned: orders polled without their
// addresses would keep them missing, since a later poll brings the same
// LastUpdateDate and the order service takes that for no change.
func (c *Client) ordersToken(ctx context.Context) (string, error) {
	c.rdtMu.Lock()
	defer c.rdtMu.Unlock()
	if c.rdt != "" && c.Now().Before(c.rdtExpires) {
		return c.rdt, nil
	}
	if c.noRDT != nil && c.Now().Before(c.rdtRetry) {
		return c.AccessToken(ctx)
	}
	tok, life, err := c.createRDT(ctx)
	var ae *spapi.APIError
	switch {
	case err == nil:
		// Renewed early, as the LWA token is.
		c.rdt, c.rdtExpires, c.noRDT = tok, c.Now().Add(spapi.Life(life)), nil
		return tok, nil
	case errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusTooManyRequests:
		// Refused: 403 (after a fresh LWA token) or 400 for an app
		// without the roles.
		c.rdt, c.noRDT, c.rdtRetry = "", ErrNoRestrictedData{Err: ae}, c.Now().Add(rdtRecheck)
		return c.AccessToken(ctx)
	default:
		return "", err
	}
}

// createRDT calls createRestrictedDataToken with the LWA token and returns
// the RDT and its lifetime.
func (c *Client) createRDT(ctx context.Context) (string, time.Duration, error) {
	const op = "amazon.createRestrictedDataToken"
	body, err := c.call(ctx, spapi.Call{
		Op: "createRestrictedDataToken", Limiter: c.TokensLimiter, Method: http.MethodPost, Path: rdtPath, Body: rdtRequest,
	})
	if err != nil {
		return "", 0, err
	}
	var r struct {
		RestrictedDataToken string `json:"restrictedDataToken"`
		ExpiresIn           int64  `json:"expiresIn"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.RestrictedDataToken == "" {
		return "", 0, errs.E(op, errs.Transient, errors.New("no restrictedDataToken in the answer"))
	}
	life := time.Hour // what Amazon documents and sends
	if r.ExpiresIn > 0 && r.ExpiresIn < 1e6 {
		life = time.Duration(r.ExpiresIn) * time.Second
	}
	return r.RestrictedDataToken, life, nil
}

// forgetRDT drops the cached RDT (Amazon refused it before its time); a
// recorded refusal stays.
func (c *Client) forgetRDT() {
	c.rdtMu.Lock()
	c.rdt = ""
	c.rdtMu.Unlock()
}
