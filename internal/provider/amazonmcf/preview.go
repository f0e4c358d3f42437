package amazonmcf

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/provider"
	"github.com/waybill/waybill/internal/spapi"
)

// Preview is what Amazon says it would do with an order before it is
// submitted (getFulfillmentPreview), for the order's shipping speed.
type Preview struct {
	Speed       string // Amazon's shippingSpeedCategory: Standard, Expedited or Priority
	Fulfillable bool
	// Reasons say why not: Amazon's codes for the order (e.g.
	// "InvalidDestinationAddress"), then "SKU: code" for each unfulfillable
	// item.
	Reasons       []string
	Unfulfillable []UnfulfillableItem
	// Fees are Amazon's estimated fees; Total is their sum, zero when there
	// are none or they are in more than one currency.
	Fees  []Fee
	Total money.Amount
	// The window in which the order's shipments would leave Amazon and
	// arrive: the earliest and the latest over all of them; zero when
	// Amazon gives none (it gives none for an unfulfillable order).
	EarliestShip, LatestShip       time.Time
	EarliestArrival, LatestArrival time.Time
}

// UnfulfillableItem is a SKU Amazon could not ship, with its reason codes.
type UnfulfillableItem struct {
	SKU      string
	Quantity int64
	Reasons  []string
}

// Fee is one of Amazon's estimated fees, e.g. FBAPerUnitFulfillmentFee.
type Fee struct {
	Name   string
	Amount money.Amount
}

// Preview asks Amazon whether it can fulfil r, when, and for what fees. It
// creates nothing. r's id, order number, date, note and e-mail play no part.
// A request Amazon refuses outright is a *provider.RejectedError.
func (c *Client) Preview(ctx context.Context, r provider.Request) (Preview, error) {
	const op = "amazonmcf.Preview"
	req, err := previewRequest(r, c.marketplace)
	if err != nil {
		return Preview{}, errs.E(op, err)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return Preview{}, errs.E(op, errs.Internal, err)
	}
	answer, err := c.Do(ctx, spapi.Call{Op: "getFulfillmentPreview", Limiter: c.PreviewLimiter, Method: http.MethodPost, Path: previewPath, Body: body})
	if ae, refused := refusal(err); refused {
		return Preview{}, errs.E(op, errs.Invalid, &provider.RejectedError{Reason: reason(ae)})
	} else if err != nil {
		return Preview{}, errs.E(op, err)
	}
	p, err := parsePreview(answer, req.ShippingSpeedCategories[0])
	if err != nil {
		return Preview{}, errs.E(op, errs.Internal, err)
	}
	return p, nil
}

// Quote is Preview as a provider.Quote: the dispatcher asks it before
// creating an order, so an order Amazon cannot fulfil is re-sourced without
// one being made.
func (c *Client) Quote(ctx context.Context, r provider.Request) (provider.Quote, error) {
	p, err := c.Preview(ctx, r)
	if rej, ok := provider.IsRejected(err); ok {
		return provider.Quote{Reasons: []string{rej.Reason}}, nil
	}
	if err != nil {
		return provider.Quote{}, err
	}
	return provider.Quote{Fulfillable: p.Fulfillable, Reasons: p.Reasons, Fee: p.Total}, nil
}

var _ provider.Quoter = (*Client)(nil)
