// Package provider is what Waybill asks of a fulfilment provider (a 3PL such
// as ShipBob or Amazon Multi-Channel Fulfillment): take a fulfilment order,
// say how it goes, cancel it, and tell its stock. Each provider is a
// subpackage with a client written to the provider's documented API and a
// fake of that API for tests. The generic protocol (the provider calls us)
// needs no client here: its requests are signed webhooks.
package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/waybill/waybill/internal/money"
)

// Address is where a fulfilment order goes.
type Address struct {
	Name       string
	Company    string
	Line1      string
	Line2      string
	City       string
	Region     string // state or province code where the country has them
	PostalCode string
	Country    string // ISO 3166-1 alpha-2
	Phone      string
}

// Line is units of a SKU.
type Line struct {
	SKU      string
	Quantity int64
}

// Speed is the shipping speed asked of the provider.
type Speed string

const (
	Standard  Speed = "standard"
	Expedited Speed = "expedited"
	Priority  Speed = "priority"
)

// Request is one fulfilment order handed to a provider.
type Request struct {
	// ID is our fulfilment order id. Providers get it as their reference
	// for the order, so submitting the same request twice makes one order.
	ID          string
	OrderNumber string // the merchant's order number, for people
	OrderedAt   time.Time
	ShipTo      Address
	Email       string
	Speed       Speed
	Lines       []Line
	Note        string
}

// State is where a provider's order is, in our words.
type State string

const (
	Pending    State = "pending"     // received, not yet accepted or planned
	Accepted   State = "accepted"    // the provider will ship it
	InProgress State = "in_progress" // being picked, packed, or partly shipped
	Shipped    State = "shipped"     // everything left
	Rejected   State = "rejected"    // the provider will not ship it (Reason says why)
	Cancelled  State = "cancelled"
)

// Shipment is one parcel the provider sent.
type Shipment struct {
	ID             string // the provider's id, stable across polls
	Carrier        string
	Service        string
	TrackingNumber string
	TrackingURL    string
	ShippedAt      time.Time
	Lines          []Line
}

// Status is what a provider says of one order.
type Status struct {
	State     State
	Reason    string // for Rejected, and whatever else the provider explains
	Raw       string // the provider's own status name, for people
	Shipments []Shipment
}

// Level is a provider's stock of one SKU that can be sold.
type Level struct {
	SKU       string
	Available int64
}

// Provider is one merchant's account at a fulfilment provider.
type Provider interface {
	// Submit creates the provider's order for r and returns the provider's
	// reference to it. Submitting r again returns the same reference
	// without a second order. An order the provider refuses outright is a
	// *RejectedError.
	Submit(ctx context.Context, r Request) (ref string, err error)
	// Status reads the provider's order ref.
	Status(ctx context.Context, ref string) (Status, error)
	// Cancel asks the provider to cancel ref. A provider that can no longer
	// cancel (the order is already shipping) answers with a *RejectedError.
	Cancel(ctx context.Context, ref string) error
	// Stock lists the provider's sellable stock per SKU.
	Stock(ctx context.Context) ([]Level, error)
}

// Quote is what a provider says of a request before it is made: whether it
// can ship it, why not, and its estimated fee.
type Quote struct {
	Fulfillable bool
	Reasons     []string
	Fee         money.Amount // zero when the provider gives none
}

// Quoter is a Provider that can say, before a request is made, whether it
// can ship it (Amazon's getFulfillmentPreview).
type Quoter interface {
	Quote(ctx context.Context, r Request) (Quote, error)
}

// RejectedError is a provider refusing a request, with its reason.
type RejectedError struct {
	Reason string
}

func (e *RejectedError) Error() string { return fmt.Sprintf("the provider refused: %s", e.Reason) }

// IsRejected reports whether err is a provider refusing a request.
func IsRejected(err error) (*RejectedError, bool) {
	var r *RejectedError
	ok := errors.As(err, &r)
	return r, ok
}
