package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/document"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/mail"
	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/portal"
)

// PortalValidFor is how long a supplier's portal link works.
const PortalValidFor = 30 * 24 * time.Hour

// portalSubject is what a portal token vouches for.
func portalSubject(tenantID, foID string) string { return tenantID + "/" + foID }

// PortalLink is the supplier's link to one fulfilment order: no login, a
// token signed with the connection's secret (rotating the secret ends
// every link), valid for PortalValidFor.
func (s *Service) PortalLink(c Connection, foID string) string {
	tok := portal.Sign([]byte(c.Secret), portalSubject(c.TenantID, foID), s.now().Add(PortalValidFor))
	return strings.TrimRight(s.BaseURL, "/") + "/portal/fulfillment-orders/" + url.PathEscape(foID) + "?token=" + url.QueryEscape(tok)
}

// purchaseOrder builds the supplier's purchase order for r.
func (s *Service) purchaseOrder(ctx context.Context, c Connection, f inventory.Facility, o *order.Order, r Request) (document.PurchaseOrder, error) {
	name, currency := "", o.Currency
	if s.Merchant != nil {
		n, cur, err := s.Merchant(ctx, c.TenantID)
		if err != nil {
			return document.PurchaseOrder{}, err
		}
		name = n
		if cur != "" && currency == "" {
			currency = cur
		}
	}
	prices := map[string]int64{}
	if s.Costs != nil {
		cs, err := s.Costs.SupplierCosts(ctx, c.TenantID, f.ID)
		if err != nil {
			return document.PurchaseOrder{}, err
		}
		for sku, sc := range cs {
			if sc.Currency == currency {
				prices[sku] = sc.UnitCost
			}
		}
	}
	d := r.FulfillmentOrder.Destination
	po := document.PurchaseOrder{
		Number:      PONumber(o.Number, f.Code),
		IssuedAt:    s.now(),
		Merchant:    document.Party{Name: name},
		Supplier:    document.Party{Name: f.Name, Email: c.Email},
		ShipTo:      document.ShipTo{Name: d.Name, Company: d.Company, Line1: d.Address1, Line2: d.Address2, City: d.City, Region: d.Region, PostalCode: d.PostalCode, Country: d.Country, Phone: d.Phone},
		OrderNumber: o.Number,
		Note:        "Ship by " + r.FulfillmentOrder.ShippingMethod.Speed + " service. Enter the carrier and tracking number in the portal once shipped.",
		PortalURL:   s.PortalLink(c, r.FulfillmentOrder.ID),
	}
	for _, l := range r.FulfillmentOrder.Lines {
		po.Lines = append(po.Lines, document.Line{SKU: l.SKU, Name: l.Name, Quantity: l.Quantity, UnitCost: money.Amount{Minor: prices[l.SKU], Currency: currency}})
	}
	return po, nil
}

// PONumber is the purchase order number for an order at a supplier.
func PONumber(orderNumber, facilityCode string) string {
	return "PO-" + strings.TrimPrefix(orderNumber, "#") + "-" + facilityCode
}

// sendPurchaseOrder e-mails the supplier its purchase order (PDF and CSV
// attached, portal link in the text) or the request to cancel it.
func (s *Service) sendPurchaseOrder(ctx context.Context, c Connection, f inventory.Facility, o *order.Order, r Request, cancel bool) error {
	if s.Mail == nil {
		return errors.New("no mail server is configured (--smtp-url) to send purchase orders")
	}
	po, err := s.purchaseOrder(ctx, c, f, o, r)
	if err != nil {
		return err
	}
	m := mail.Message{ID: "po-" + r.FulfillmentOrder.ID, To: []mail.Address{{Name: f.Name, Email: c.Email}}}
	var b strings.Builder
	if cancel {
		m.ID += "-cancel"
		m.Subject = "Please cancel purchase order " + po.Number
		fmt.Fprintf(&b, "Hello %s,\n\nPlease cancel purchase order %s (order %s) if it has not shipped yet.\n", f.Name, po.Number, o.Number)
		fmt.Fprintf(&b, "Confirm the cancellation, or tell us it has shipped, here:\n%s\n", po.PortalURL)
	} else {
		pdf, err := document.PurchaseOrderPDF(po)
		if err != nil {
			return err
		}
		csv, err := document.PurchaseOrderCSV(po)
		if err != nil {
			return err
		}
		m.Subject = "Purchase order " + po.Number + " — please ship to " + po.ShipTo.Name
		fmt.Fprintf(&b, "Hello %s,\n\nPlease ship purchase order %s (order %s) to:\n\n", f.Name, po.Number, o.Number)
		fmt.Fprintf(&b, "  %s\n  %s\n", po.ShipTo.Name, po.ShipTo.Line1)
		if po.ShipTo.Line2 != "" {
			fmt.Fprintf(&b, "  %s\n", po.ShipTo.Line2)
		}
		fmt.Fprintf(&b, "  %s %s %s\n  %s\n\n", po.ShipTo.PostalCode, po.ShipTo.City, po.ShipTo.Region, po.ShipTo.Country)
		for _, l := range po.Lines {
			fmt.Fprintf(&b, "  %d × %s %s\n", l.Quantity, l.SKU, l.Name)
		}
		fmt.Fprintf(&b, "\nConfirm it, or enter the carrier and tracking number once shipped, here (no login needed):\n%s\n\nThe purchase order is attached as PDF and CSV.\n", po.PortalURL)
		m.Attachments = []mail.Attachment{
			{Name: po.Number + ".pdf", ContentType: "application/pdf", Data: pdf},
			{Name: po.Number + ".csv", ContentType: "text/csv; charset=utf-8", Data: csv},
		}
	}
	m.Text = b.String()
	return s.Mail(ctx, m)
}

// Portal is what a supplier sees through its link.
type Portal struct {
	TenantID         string
	Facility         inventory.Facility
	FulfillmentOrder order.FulfillmentOrderView
	Order            order.Order
	PurchaseOrder    document.PurchaseOrder
	History          []order.RequestMessage
}

// OpenPortal checks a portal link and reads what it shows. A wrong or
// expired token is refused (errs.Permission) and shows nothing.
func (s *Service) OpenPortal(ctx context.Context, foID, token string) (Portal, error) {
	const op = "dispatch.OpenPortal"
	tenantID, err := s.store.FulfillmentOrderTenant(ctx, foID)
	if err != nil {
		return Portal{}, errs.E(op, errs.Permission, "this link is not valid")
	}
	fo, err := s.orders.FulfillmentOrder(ctx, tenantID, foID)
	if err != nil {
		return Portal{}, errs.E(op, err)
	}
	c, err := s.store.Connection(ctx, tenantID, fo.FacilityID)
	if err != nil {
		return Portal{}, errs.E(op, errs.Permission, "this link is not valid any more")
	}
	subject, err := portal.Verify([]byte(c.Secret), token, s.now())
	if err != nil {
		return Portal{}, err
	}
	if subject != portalSubject(tenantID, foID) {
		return Portal{}, errs.WithCode(errs.E(op, errs.Permission, "this link is not valid"), portal.CodeInvalid)
	}
	f, err := s.inv.Facility(ctx, tenantID, fo.FacilityID)
	if err != nil {
		return Portal{}, errs.E(op, err)
	}
	o, err := s.orders.Get(ctx, tenantID, fo.OrderID)
	if err != nil {
		return Portal{}, errs.E(op, err)
	}
	p := Portal{TenantID: tenantID, Facility: f, FulfillmentOrder: fo, Order: o}
	r := s.request(&o, fo, false)
	if p.PurchaseOrder, err = s.purchaseOrder(ctx, c, f, &o, r); err != nil {
		return Portal{}, errs.E(op, err)
	}
	if p.History, err = s.orders.RequestHistory(ctx, tenantID, foID); err != nil {
		return Portal{}, errs.E(op, err)
	}
	return p, nil
}

// PortalAct is the supplier confirming (accept), refusing (reject), or
// answering a cancellation (accept_cancellation, reject_cancellation)
// through its link.
func (s *Service) PortalAct(ctx context.Context, foID, token string, a order.FulfillmentAction) (Portal, error) {
	switch a.Kind {
	case order.ActionAccept, order.ActionReject, order.ActionAcceptCancellation, order.ActionRejectCancellation:
	default:
		return Portal{}, errs.InvalidFields("dispatch.PortalAct", errs.FieldError{Field: "action", Message: "must be accept, reject, accept_cancellation or reject_cancellation", Value: a.Kind})
	}
	p, err := s.OpenPortal(ctx, foID, token)
	if err != nil {
		return Portal{}, err
	}
	if _, err := s.orders.Act(ctx, p.TenantID, foID, a, "supplier:"+p.Facility.Code); err != nil {
		return Portal{}, err
	}
	return s.OpenPortal(ctx, foID, token)
}

// PortalFulfil is the supplier entering a shipment: carrier, tracking and
// the units it carries (all that is left when none are given).
func (s *Service) PortalFulfil(ctx context.Context, foID, token string, in order.FulfillInput) (Portal, error) {
	p, err := s.OpenPortal(ctx, foID, token)
	if err != nil {
		return Portal{}, err
	}
	if _, _, err := s.orders.Fulfill(ctx, p.TenantID, foID, in, "supplier:"+p.Facility.Code); err != nil {
		return Portal{}, err
	}
	return s.OpenPortal(ctx, foID, token)
}
