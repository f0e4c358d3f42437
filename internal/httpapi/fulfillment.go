package httpapi

import (
	"context"
	"net/http"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

// Fulfilment orders: one per order × facility, holding the order's lines
// whose stock is reserved there (see docs/fulfillment.md).

type fulfillmentOrdersOut struct {
	Body struct {
		Items      []order.FulfillmentOrderDoc `json:"items"`
		NextCursor string                      `json:"next_cursor,omitempty"`
	}
}

func fulfillmentDocs(vs []order.FulfillmentOrderView) []order.FulfillmentOrderDoc {
	out := make([]order.FulfillmentOrderDoc, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.Doc())
	}
	return out
}

func (a *API) listOrderFulfillmentOrders(ctx context.Context, in *orderIDInput) (*fulfillmentOrdersOut, error) {
	vs, err := a.d.Orders.FulfillmentOrders(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	out := &fulfillmentOrdersOut{}
	out.Body.Items = fulfillmentDocs(vs)
	return out, nil
}

func (a *API) listFulfillmentOrders(ctx context.Context, in *struct {
	PageParams
	OrderID       string `query:"order_id" maxLength:"64"`
	Facility      string `query:"facility" maxLength:"64" doc:"Facility code."`
	Status        string `query:"status" enum:"OPEN,IN_PROGRESS,SCHEDULED,ON_HOLD,INCOMPLETE,CLOSED,CANCELLED" doc:"The stored status (an order's hold or cancellation shows on its fulfilment orders without being stored there)."`
	RequestStatus string `query:"request_status" enum:"UNSUBMITTED,SUBMITTED,ACCEPTED,REJECTED,CANCELLATION_REQUESTED,CANCELLATION_ACCEPTED,CANCELLATION_REJECTED,CLOSED"`
}) (*fulfillmentOrdersOut, error) {
	p := principal(ctx)
	tenantID := p.TenantID
	after, err := in.after()
	if err != nil {
		return nil, err
	}
	f := order.FulfillmentFilter{OrderID: in.OrderID, Status: order.FulfillmentOrderStatus(in.Status), RequestStatus: order.RequestStatus(in.RequestStatus), After: after, Limit: in.Limit}
	if in.Facility != "" {
		fac, err := a.d.Inventory.FacilityByCode(ctx, tenantID, in.Facility)
		if err != nil {
			if errs.KindOf(err) == errs.NotExist {
				return nil, errs.InvalidFields("httpapi.listFulfillmentOrders", errs.FieldError{Field: "query.facility", Message: "no facility has this code", Value: in.Facility})
			}
			return nil, err
		}
		f.FacilityID = fac.ID
	}
	if p.FacilityID != "" {
		if f.FacilityID != "" && f.FacilityID != p.FacilityID {
			return &fulfillmentOrdersOut{Body: struct {
				Items      []order.FulfillmentOrderDoc `json:"items"`
				NextCursor string                      `json:"next_cursor,omitempty"`
			}{Items: []order.FulfillmentOrderDoc{}}}, nil
		}
		f.FacilityID = p.FacilityID
	}
	vs, next, err := a.d.Orders.ListFulfillmentOrders(ctx, tenantID, f)
	if err != nil {
		return nil, err
	}
	out := &fulfillmentOrdersOut{}
	out.Body.Items = fulfillmentDocs(vs)
	out.Body.NextCursor = encodeCursor(next)
	return out, nil
}

type fulfillmentOrderOut struct {
	Body order.FulfillmentOrderDoc
}

func (a *API) getFulfillmentOrder(ctx context.Context, in *struct {
	ID string `path:"id" maxLength:"64"`
}) (*fulfillmentOrderOut, error) {
	if err := a.checkFacility(ctx, in.ID); err != nil {
		return nil, err
	}
	v, err := a.d.Orders.FulfillmentOrder(ctx, principal(ctx).TenantID, in.ID)
	if err != nil {
		return nil, err
	}
	return &fulfillmentOrderOut{Body: v.Doc()}, nil
}

// FulfillLineIn is how many units of a SKU a shipment carries.
type FulfillLineIn struct {
	SKU      string `json:"sku" maxLength:"64"`
	Quantity int64  `json:"quantity" minimum:"1"`
}

func (a *API) fulfillFulfillmentOrder(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Carrier        string          `json:"carrier,omitempty" maxLength:"100" example:"UPS"`
		Service        string          `json:"service,omitempty" maxLength:"100" example:"ground"`
		TrackingNumber string          `json:"tracking_number,omitempty" maxLength:"255"`
		TrackingURL    string          `json:"tracking_url,omitempty" maxLength:"2000"`
		Lines          []FulfillLineIn `json:"lines,omitempty" doc:"What the shipment carries; every remaining line when absent."`
		ShipmentID     string          `json:"shipment_id,omitempty" maxLength:"255" doc:"Your id for the shipment: reporting the same id again records nothing new."`
	}
}) (*struct {
	Status int `json:"-"`
	Body   struct {
		FulfillmentOrder order.FulfillmentOrderDoc `json:"fulfillment_order"`
		Shipment         order.ShipmentDoc         `json:"shipment"`
	}
}, error) {
	if err := a.checkFacility(ctx, in.ID); err != nil {
		return nil, err
	}
	b := in.Body
	fin := order.FulfillInput{Carrier: b.Carrier, Service: b.Service, TrackingNumber: b.TrackingNumber, TrackingURL: b.TrackingURL, ExternalID: b.ShipmentID}
	for _, l := range b.Lines {
		fin.Lines = append(fin.Lines, order.FulfillLine{SKU: l.SKU, Quantity: l.Quantity})
	}
	v, sh, err := a.d.Orders.Fulfill(ctx, principal(ctx).TenantID, in.ID, fin, actor(ctx))
	if err != nil {
		return nil, err
	}
	a.d.Wake()
	out := &struct {
		Status int `json:"-"`
		Body   struct {
			FulfillmentOrder order.FulfillmentOrderDoc `json:"fulfillment_order"`
			Shipment         order.ShipmentDoc         `json:"shipment"`
		}
	}{Status: http.StatusCreated}
	out.Body.FulfillmentOrder = v.Doc()
	out.Body.Shipment = sh.Doc(v.FacilityCode)
	return out, nil
}
