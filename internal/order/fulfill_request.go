package order

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/inventory"
)

// RequestStatus is where the request to a 3PL or dropship supplier for a
// fulfilment order stands (Shopify's names).
type RequestStatus string

const (
	RequestNone                 RequestStatus = "" // the merchant's own facility: nobody to ask
	RequestUnsubmitted          RequestStatus = "UNSUBMITTED"
	RequestSubmitted            RequestStatus = "SUBMITTED"
	RequestAccepted             RequestStatus = "ACCEPTED"
	RequestRejected             RequestStatus = "REJECTED"
	RequestCancellationRequest  RequestStatus = "CANCELLATION_REQUESTED"
	RequestCancellationAccepted RequestStatus = "CANCELLATION_ACCEPTED"
	RequestCancellationRejected RequestStatus = "CANCELLATION_REJECTED"
	RequestClosed               RequestStatus = "CLOSED"
)

// RequestStatuses lists every request status but none.
var RequestStatuses = []RequestStatus{RequestUnsubmitted, RequestSubmitted, RequestAccepted, RequestRejected,
	RequestCancellationRequest, RequestCancellationAccepted, RequestCancellationRejected, RequestClosed}

// What the dispatcher has to do for a fulfilment order.
const (
	PendingRequest = "request" // send the fulfilment request
	PendingCancel  = "cancel"  // send the cancellation request
	PendingPoll    = "poll"    // ask the provider how it goes
)

// Events of the request handshake.
const (
	EventFulfillmentOrderAccepted  = "fulfillment_order.accepted"
	EventFulfillmentOrderRejected  = "fulfillment_order.rejected"
	EventFulfillmentOrderMoved     = "fulfillment_order.moved"
	EventFulfillmentOrderHeld      = "fulfillment_order.held"
	EventFulfillmentOrderReleased  = "fulfillment_order.released"
	EventFulfillmentOrderCancelled = "fulfillment_order.cancelled"
)

// RequestMessage is one step of a fulfilment order's request history: a
// request or cancellation sent, or an answer received.
type RequestMessage struct {
	ID                 string
	FulfillmentOrderID string
	Kind               string // fulfillment_request, cancellation_request, accepted, rejected, …
	RequestStatus      RequestStatus
	Reason             string
	Message            string
	Actor              string
	CreatedAt          time.Time
}

// RequestTx is the request side of an order transaction.
type RequestTx interface {
	// SaveFulfillmentOrder stores every changeable field of fo.
	SaveFulfillmentOrder(ctx context.Context, fo *FulfillmentOrder) error
	AddRequestMessage(ctx context.Context, tenantID string, m RequestMessage) error
	// ShipmentByExternalID finds a shipment a provider reported before.
	ShipmentByExternalID(ctx context.Context, tenantID, foID, externalID string) (string, bool, error)
}

// asked reports which facilities are asked rather than worked by the
// merchant: 3PLs and dropship suppliers.
func asked(k inventory.FacilityKind) bool {
	return k == inventory.ThreePL || k == inventory.Dropship
}

// FulfillmentAction is one change to a fulfilment order by the merchant,
// the 3PL, or the dispatcher.
type FulfillmentAction struct {
	Kind    string // see the Action constants
	Reason  string // for hold, reject, close
	Message string
	// FulfillAt is when a scheduled fulfilment order opens (schedule).
	FulfillAt time.Time
}

// Actions of FulfillmentAction.Kind.
const (
	ActionHold               = "hold"
	ActionRelease            = "release"
	ActionCancel             = "cancel"
	ActionAccept             = "accept"
	ActionReject             = "reject"
	ActionSubmit             = "submit"
	ActionAcceptCancellation = "accept_cancellation"
	ActionRejectCancellation = "reject_cancellation"
	ActionSchedule           = "schedule" // wait until FulfillAt (pre-orders)
	ActionOpen               = "open"     // a scheduled one now
	ActionClose              = "close"    // the 3PL will ship no more of it
)

// Act applies an action to a fulfilment order in one transaction with its
// order, its history and events. A rejection re-sources the rejected units
// at the other facilities the routing rules allow, all or nothing; when
// they cannot all be placed the reservation stays where it is and the
// order goes on hold with the reason, so nothing is lost or oversold.
func (s *Service) Act(ctx context.Context, tenantID, foID string, a FulfillmentAction, actor string) (FulfillmentOrderView, error) {
	const op = "order.Act"
	var fe errs.FieldList
	checkText(&fe, "reason", a.Reason, 200)
	checkText(&fe, "message", a.Message, 2000)
	if err := fe.Err(op); err != nil {
		return FulfillmentOrderView{}, err
	}
	orderID, err := s.fulfillmentOrderOf(ctx, tenantID, foID)
	if err != nil {
		return FulfillmentOrderView{}, wrap(op, err)
	}
	var rs *resourcing
	if a.Kind == ActionReject {
		if rs, err = s.resourcingFor(ctx, tenantID, orderID); err != nil {
			return FulfillmentOrderView{}, wrap(op, err)
		}
	}
	var view FulfillmentOrderView
	emit := EventUpdated
	route := Route{}
	if rs != nil {
		route = rs.route
	}
	_, err = s.change(ctx, tenantID, orderID, route, &emit, func(tx Tx, o *Order) (bool, error) {
		fo, err := tx.LockFulfillmentOrder(ctx, tenantID, foID)
		if err != nil {
			return false, err
		}
		f, err := s.inv.Facility(ctx, tenantID, fo.FacilityID)
		if err != nil {
			return false, err
		}
		changed, evt, err := s.act(ctx, tx, o, &fo, f, a, rs, actor)
		if err != nil || !changed {
			if err == nil {
				vs, verr := s.views(ctx, tx, o, []FulfillmentOrder{fo})
				if verr == nil {
					view = vs[0]
				}
				err = verr
			}
			return false, err
		}
		fo.UpdatedAt = s.now()
		if err := tx.SaveFulfillmentOrder(ctx, &fo); err != nil {
			return false, err
		}
		if err := s.openFulfillmentOrders(ctx, tx, tenantID, o.ID); err != nil {
			return false, err
		}
		vs, err := s.views(ctx, tx, o, []FulfillmentOrder{fo})
		if err != nil {
			return false, err
		}
		view = vs[0]
		if evt != "" {
			payload := map[string]any{"fulfillment_order": view.Doc()}
			if a.Reason != "" || a.Message != "" {
				payload["reason"], payload["message"] = a.Reason, a.Message
			}
			if err := tx.Emit(ctx, tenantID, evt, "fulfillment_order", fo.ID, payload); err != nil {
				return false, err
			}
		}
		return true, s.settleStockHold(ctx, tx, o)
	})
	if err != nil {
		return FulfillmentOrderView{}, wrap(op, err)
	}
	return view, nil
}

func conflict(op, code, msg string) error {
	return errs.WithCode(errs.E(op, errs.Conflict, msg), code)
}

// act changes fo (and o) for a; it reports whether anything changed and
// the event to emit.
func (s *Service) act(ctx context.Context, tx Tx, o *Order, fo *FulfillmentOrder, f inventory.Facility, a FulfillmentAction, rs *resourcing, actor string) (bool, string, error) {
	const op = "order.Act"
	done := fo.Status == FulfillmentClosed || fo.Status == FulfillmentCancelled
	note := func(kind, reason, msg string) error {
		return tx.AddRequestMessage(ctx, o.TenantID, RequestMessage{ID: id.New("frm"), FulfillmentOrderID: fo.ID, Kind: kind,
			RequestStatus: fo.RequestStatus, Reason: reason, Message: msg, Actor: actor, CreatedAt: s.now()})
	}
	timeline := func(msg string) error {
		return s.event(ctx, tx, o, actor, "fulfillment_"+a.Kind, msg, map[string]any{"fulfillment_order_id": fo.ID})
	}
	switch a.Kind {
	case ActionSchedule:
		if done || fo.Status == FulfillmentIncomplete {
			return false, "", conflict(op, "fulfillment_order_closed", "the fulfilment order is "+strings.ToLower(string(fo.Status)))
		}
		if !a.FulfillAt.After(s.now()) {
			return false, "", errs.InvalidFields(op, errs.FieldError{Field: "fulfill_at", Message: "must be in the future", Value: a.FulfillAt})
		}
		switch fo.RequestStatus {
		case RequestNone, RequestUnsubmitted, RequestRejected:
		default:
			return false, "", conflict(op, "request_status", "the request is "+string(fo.RequestStatus)+" at the facility; cancel it first")
		}
		if fo.Status != FulfillmentOpen && fo.Status != FulfillmentScheduled {
			return false, "", conflict(op, "fulfillment_order_started", "only an open fulfilment order with nothing shipped can be scheduled")
		}
		at := a.FulfillAt.UTC()
		fo.Status, fo.FulfillAt = FulfillmentScheduled, &at
		return true, "", timeline("Fulfilment at " + f.Code + " scheduled for " + at.Format("2006-01-02 15:04 MST"))
	case ActionOpen:
		if fo.Status != FulfillmentScheduled {
			return false, "", nil
		}
		fo.Status = FulfillmentOpen // FulfillAt stays, as in Shopify
		if fo.RequestStatus == RequestUnsubmitted && asked(f.Kind) {
			fo.Pending, fo.Attempts, fo.NextAttemptAt, fo.LastError = PendingRequest, 0, nil, ""
		}
		return true, "", timeline("Fulfilment at " + f.Code + " opened")
	case ActionClose:
		if done || fo.Status == FulfillmentIncomplete {
			return false, "", nil
		}
		if fo.RequestStatus != RequestAccepted && fo.RequestStatus != RequestSubmitted && fo.RequestStatus != RequestCancellationRejected {
			return false, "", conflict(op, "request_status", "only a request the facility has can be closed (the request is "+string(fo.RequestStatus)+")")
		}
		fo.RequestStatus, fo.Pending = RequestClosed, ""
		if err := note("closed", a.Reason, a.Message); err != nil {
			return false, "", err
		}
		// What it still holds stays reserved there for the merchant to
		// move or cancel.
		fo.Status = FulfillmentIncomplete
		if !o.HasHold(OtherHold) {
			if err := s.addHold(ctx, tx, o, OtherHold, f.Code+" closed the fulfilment request with units unshipped: "+strings.TrimSpace(a.Reason+" "+a.Message), "system"); err != nil {
				return false, "", err
			}
		}
		return true, "", timeline(f.Code + " closed the fulfilment request unfinished")
	case ActionHold:
		if done {
			return false, "", conflict(op, "fulfillment_order_closed", "the fulfilment order is "+strings.ToLower(string(fo.Status)))
		}
		if fo.Status == FulfillmentOnHold {
			return false, "", nil
		}
		fo.Status, fo.HoldReason = FulfillmentOnHold, strings.TrimSpace(a.Reason)
		if fo.HoldReason == "" {
			fo.HoldReason = "OTHER"
		}
		return true, EventFulfillmentOrderHeld, timeline("Fulfilment at " + f.Code + " held: " + fo.HoldReason)
	case ActionRelease:
		if fo.Status != FulfillmentOnHold {
			return false, "", nil
		}
		fo.Status, fo.HoldReason = s.workingStatus(ctx, tx, o, fo), ""
		if fo.RequestStatus == RequestUnsubmitted && fo.Pending == "" {
			fo.Pending, fo.Attempts, fo.NextAttemptAt, fo.LastError = PendingRequest, 0, nil, ""
		}
		return true, EventFulfillmentOrderReleased, timeline("Fulfilment at " + f.Code + " released")
	case ActionSubmit:
		if done {
			return false, "", conflict(op, "fulfillment_order_closed", "the fulfilment order is "+strings.ToLower(string(fo.Status)))
		}
		if !asked(f.Kind) {
			return false, "", conflict(op, "not_requested", f.Code+" is the merchant's own facility: there is nobody to send a request to")
		}
		switch fo.RequestStatus {
		case RequestUnsubmitted, RequestRejected:
		default:
			return false, "", conflict(op, "request_status", "the request is "+string(fo.RequestStatus)+"; only an unsubmitted or rejected one can be sent again")
		}
		fo.RequestStatus = RequestUnsubmitted
		fo.Pending, fo.Attempts, fo.NextAttemptAt, fo.LastError = PendingRequest, 0, nil, ""
		return true, "", note("submit", "", "Request queued to send to "+f.Code)
	case ActionAccept:
		switch fo.RequestStatus {
		case RequestAccepted:
			return false, "", nil
		case RequestSubmitted, RequestUnsubmitted:
		default:
			return false, "", conflict(op, "request_status", "the request is "+string(fo.RequestStatus)+"; only a submitted request can be accepted")
		}
		if done {
			return false, "", conflict(op, "fulfillment_order_closed", "the fulfilment order is "+strings.ToLower(string(fo.Status)))
		}
		fo.RequestStatus = RequestAccepted
		if fo.Pending == PendingRequest {
			fo.Pending = ""
		}
		if err := note("accepted", "", a.Message); err != nil {
			return false, "", err
		}
		return true, EventFulfillmentOrderAccepted, timeline(f.Code + " accepted the fulfilment request")
	case ActionReject:
		switch fo.RequestStatus {
		case RequestRejected:
			return false, "", nil
		case RequestSubmitted, RequestUnsubmitted, RequestAccepted:
		default:
			return false, "", conflict(op, "request_status", "the request is "+string(fo.RequestStatus)+"; only a submitted or accepted request can be rejected")
		}
		if done {
			return false, "", conflict(op, "fulfillment_order_closed", "the fulfilment order is "+strings.ToLower(string(fo.Status)))
		}
		reason := strings.TrimSpace(a.Reason)
		if reason == "" {
			reason = "OTHER"
		}
		fo.RequestStatus, fo.Pending = RequestRejected, ""
		if err := note("rejected", reason, a.Message); err != nil {
			return false, "", err
		}
		why := f.Code + " rejected the fulfilment request: " + reason
		if a.Message != "" {
			why += " — " + a.Message
		}
		if err := timeline(why); err != nil {
			return false, "", err
		}
		short, err := s.relocate(ctx, tx, o, fo, rs.without(fo.FacilityID), rs.items, nil, actor)
		if err != nil {
			return false, "", err
		}
		if short != "" {
			// Nowhere else has it all: keep the stock where it is and let
			// the merchant decide (move, submit again, or cancel).
			if o.HasHold(OtherHold) {
				return true, EventFulfillmentOrderRejected, nil
			}
			return true, EventFulfillmentOrderRejected, s.addHold(ctx, tx, o, OtherHold, why+"; no other facility can take "+short, "system")
		}
		fo.Status = FulfillmentClosed
		return true, EventFulfillmentOrderRejected, s.event(ctx, tx, o, "system", "rerouted", "Re-sourced away from "+f.Code, nil)
	case ActionCancel:
		if done {
			return false, "", nil
		}
		switch fo.RequestStatus {
		case RequestCancellationRequest:
			return false, "", nil
		case RequestSubmitted, RequestAccepted, RequestCancellationRejected:
			fo.RequestStatus, fo.Pending, fo.Attempts, fo.NextAttemptAt, fo.LastError = RequestCancellationRequest, PendingCancel, 0, nil, ""
			if err := note("cancellation_request", "", a.Message); err != nil {
				return false, "", err
			}
			return true, "", timeline("Cancellation requested from " + f.Code)
		}
		return true, EventFulfillmentOrderCancelled, s.cancelFulfillmentOrder(ctx, tx, o, fo, f, timeline)
	case ActionAcceptCancellation:
		if fo.RequestStatus == RequestCancellationAccepted {
			return false, "", nil
		}
		if fo.RequestStatus != RequestCancellationRequest {
			return false, "", conflict(op, "request_status", "no cancellation was requested (the request is "+string(fo.RequestStatus)+")")
		}
		fo.RequestStatus, fo.Pending = RequestCancellationAccepted, ""
		if err := note("cancellation_accepted", "", a.Message); err != nil {
			return false, "", err
		}
		if done {
			// The order was cancelled: the 3PL confirms it will not ship.
			return true, "", timeline(f.Code + " confirmed the cancellation")
		}
		return true, EventFulfillmentOrderCancelled, s.cancelFulfillmentOrder(ctx, tx, o, fo, f, timeline)
	case ActionRejectCancellation:
		if fo.RequestStatus == RequestCancellationRejected {
			return false, "", nil
		}
		if fo.RequestStatus != RequestCancellationRequest {
			return false, "", conflict(op, "request_status", "no cancellation was requested (the request is "+string(fo.RequestStatus)+")")
		}
		fo.RequestStatus, fo.Pending = RequestCancellationRejected, ""
		if err := note("cancellation_rejected", a.Reason, a.Message); err != nil {
			return false, "", err
		}
		return true, "", timeline(f.Code + " refused to cancel: " + strings.TrimSpace(a.Reason+" "+a.Message))
	}
	return false, "", errs.InvalidFields(op, errs.FieldError{Field: "action", Message: "unknown action", Value: a.Kind})
}

// cancelFulfillmentOrder closes fo as cancelled. What it still held stays
// reserved at the facility for a replacement fulfilment order (Shopify's
// rule), which waits on hold at a 3PL or supplier so it is not sent again
// before the merchant moves or releases it.
func (s *Service) cancelFulfillmentOrder(ctx context.Context, tx Tx, o *Order, fo *FulfillmentOrder, f inventory.Facility, timeline func(string) error) error {
	shs, err := s.shares(ctx, tx, o)
	if err != nil {
		return err
	}
	mine := shs.of(*fo)
	fo.Status = FulfillmentCancelled
	if fo.RequestStatus == RequestSubmitted || fo.RequestStatus == RequestAccepted || fo.RequestStatus == RequestUnsubmitted {
		fo.RequestStatus = RequestClosed
	}
	fo.Pending = ""
	if err := tx.SaveFulfillmentOrder(ctx, fo); err != nil {
		return err
	}
	if fo.Claimed {
		if err := tx.SetClaims(ctx, o.TenantID, o.ID, fo.ID, nil); err != nil {
			return err
		}
	}
	var left int64
	for _, n := range mine {
		left += n
	}
	if left > 0 {
		now := s.now()
		r := FulfillmentOrder{ID: id.New("ffo"), TenantID: o.TenantID, OrderID: o.ID, FacilityID: fo.FacilityID, Status: FulfillmentOpen, Claimed: fo.Claimed, CreatedAt: now, UpdatedAt: now}
		switch {
		case asked(f.Kind) && fo.Resend:
			// Cancelled because the order changed: the new version goes.
			r.RequestStatus, r.Pending = RequestUnsubmitted, PendingRequest
		case asked(f.Kind):
			r.Status, r.HoldReason, r.RequestStatus = FulfillmentOnHold, "replaces a cancelled fulfilment order: move it or release it to send it again", RequestUnsubmitted
		}
		if err := tx.InsertFulfillmentOrder(ctx, &r); err != nil {
			return err
		}
		if r.Claimed {
			if err := tx.SetClaims(ctx, o.TenantID, o.ID, r.ID, mine); err != nil {
				return err
			}
		}
	}
	return timeline("Fulfilment at " + f.Code + " cancelled")
}

// cancelFulfillmentOrders closes a cancelled order's open fulfilment
// orders; a 3PL or supplier that has the request is asked to cancel it.
func (s *Service) cancelFulfillmentOrders(ctx context.Context, tx Tx, tenantID, orderID string) error {
	fos, err := tx.FulfillmentOrders(ctx, tenantID, FulfillmentFilter{OrderID: orderID, Limit: 1000})
	if err != nil {
		return err
	}
	for _, fo := range fos {
		if fo.Status == FulfillmentClosed || fo.Status == FulfillmentCancelled {
			continue
		}
		fo.Status, fo.UpdatedAt = FulfillmentCancelled, s.now()
		switch fo.RequestStatus {
		case RequestSubmitted, RequestAccepted, RequestCancellationRejected:
			fo.RequestStatus, fo.Pending, fo.Attempts, fo.NextAttemptAt, fo.LastError = RequestCancellationRequest, PendingCancel, 0, nil, ""
			if err := tx.AddRequestMessage(ctx, tenantID, RequestMessage{ID: id.New("frm"), FulfillmentOrderID: fo.ID, Kind: "cancellation_request",
				RequestStatus: fo.RequestStatus, Message: "the order was cancelled", Actor: "system", CreatedAt: s.now()}); err != nil {
				return err
			}
		case RequestUnsubmitted:
			fo.RequestStatus, fo.Pending = RequestClosed, ""
		}
		if err := tx.SaveFulfillmentOrder(ctx, &fo); err != nil {
			return err
		}
	}
	return nil
}

// workingStatus is OPEN or IN_PROGRESS, as fo has shipped something.
func (s *Service) workingStatus(ctx context.Context, tx Tx, o *Order, fo *FulfillmentOrder) FulfillmentOrderStatus {
	shipped, err := tx.Shipped(ctx, o.TenantID, o.ID)
	if err == nil {
		for k, n := range shipped {
			if k[0] == fo.ID && n > 0 {
				return FulfillmentInProgress
			}
		}
	}
	return FulfillmentOpen
}

// resourcing is what re-sourcing an order needs, read before its
// transaction: its items, the candidate facilities and the routing rules'
// answer for it.
type resourcing struct {
	items      map[string]inventory.Item
	facilities []inventory.Facility
	route      Route
}

func (s *Service) resourcingFor(ctx context.Context, tenantID, orderID string) (*resourcing, error) {
	cur, err := s.store.Get(ctx, tenantID, orderID)
	if err != nil {
		return nil, err
	}
	var skus []string
	for _, l := range cur.Lines {
		skus = append(skus, l.SKU)
	}
	rs := &resourcing{}
	if rs.items, err = s.inv.Items(ctx, tenantID, skus); err != nil {
		return nil, err
	}
	if rs.facilities, err = s.inv.Candidates(ctx, tenantID); err != nil {
		return nil, err
	}
	if rs.route, err = s.route(ctx, &cur, rs.facilities); err != nil {
		return nil, err
	}
	return rs, nil
}

// without is the route with one facility taken out for every SKU.
func (rs *resourcing) without(facilityID string) Route {
	r := Route{BySKU: map[string][]string{}, Costs: rs.route.Costs}
	for sku := range rs.items {
		for _, f := range rs.route.facilitiesFor(sku, rs.facilities) {
			if f.ID != facilityID {
				r.BySKU[sku] = append(r.BySKU[sku], f.ID)
			}
		}
		if r.BySKU[sku] == nil {
			r.BySKU[sku] = []string{}
		}
	}
	return r
}

// only is the route that allows one facility for every SKU.
func (rs *resourcing) only(facilityID string) Route {
	r := Route{BySKU: map[string][]string{}, Costs: rs.route.Costs}
	for sku := range rs.items {
		r.BySKU[sku] = []string{facilityID}
	}
	return r
}

// relocate moves what fo's facility holds for o to the facilities route
// allows, with the sourcing optimiser, all or nothing: when some units
// cannot be placed it changes nothing and says which ("2 of SKU-1").
func (s *Service) relocate(ctx context.Context, tx Tx, o *Order, fo *FulfillmentOrder, route Route, items map[string]inventory.Item, want map[string]int64, actor string) (string, error) {
	shs, err := s.shares(ctx, tx, o)
	if err != nil {
		return "", err
	}
	hs, mine := shs.hs, shs.of(*fo)
	if want == nil {
		want = mine
	}
	// A stand-in order holding just the units to move: what want says of
	// fo's own units (never another fulfilment order's at the facility).
	tmp := Order{TenantID: o.TenantID, ShippingAddress: o.ShippingAddress}
	held, move := map[string]int64{}, map[string]int64{}
	for _, l := range o.Lines {
		var q int64
		for _, h := range hs[[2]string{fo.FacilityID, l.ID}] {
			q += h.units
		}
		held[l.ID], move[l.ID] = q, min(want[l.ID], mine[l.ID])
		tmp.Lines = append(tmp.Lines, Line{ID: l.ID, SKU: l.SKU, Quantity: move[l.ID]})
	}
	var facilities []inventory.Facility
	seen := map[string]bool{fo.FacilityID: true}
	// What stays (others' units, or fo's own not moved) is reserved again
	// where it was.
	here, err := s.inv.Facility(ctx, o.TenantID, fo.FacilityID)
	if err != nil {
		return "", err
	}
	for _, ids := range route.BySKU {
		for _, fid := range ids {
			if !seen[fid] {
				seen[fid] = true
				f, err := s.inv.Facility(ctx, o.TenantID, fid)
				if err != nil {
					return "", err
				}
				facilities = append(facilities, f)
			}
		}
	}
	slices.SortFunc(facilities, func(a, b inventory.Facility) int {
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		return strings.Compare(a.Code, b.Code)
	})
	locked := append(slices.Clone(facilities), here)
	levels, err := s.lockStock(ctx, tx, o.TenantID, tmp.Lines, items, locked)
	if err != nil {
		return "", err
	}
	plan := route.plan(&tmp, items, facilities, levels)
	var short []string
	for i, l := range tmp.Lines {
		var placed int64
		for _, p := range plan[i] {
			placed += p.quantity
		}
		if placed < l.Quantity {
			short = append(short, fmt.Sprintf("%d of %s", l.Quantity-placed, l.SKU))
		}
	}
	if len(short) > 0 {
		return strings.Join(short, ", "), nil
	}
	for i := range o.Lines {
		l := &o.Lines[i]
		if move[l.ID] == 0 {
			continue
		}
		for _, h := range hs[[2]string{fo.FacilityID, l.ID}] {
			if err := s.inv.CloseIn(ctx, tx, o.TenantID, h.reservationID, inventory.Released, actor); err != nil {
				return "", err
			}
		}
		l.Reserved -= held[l.ID]
		if keep := held[l.ID] - move[l.ID]; keep > 0 {
			before := l.Reserved
			if err := s.allocateAt(ctx, tx, o.TenantID, l, items, here, keep, actor); err != nil {
				return "", err
			}
			if l.Reserved-before != keep {
				return "", errs.E("order.relocate", errs.Internal, fmt.Sprintf("could not keep %d of %s at its facility", keep, l.SKU))
			}
		}
		for _, p := range plan[i] {
			if err := s.allocateAt(ctx, tx, o.TenantID, l, items, p.facility, p.quantity, actor); err != nil {
				return "", err
			}
		}
		l.Backordered = max(l.Open()-l.Reserved, 0)
	}
	if fo.Claimed {
		// A split-off one keeps claiming what did not move.
		rest := map[string]int64{}
		for line, n := range mine {
			rest[line] = n - move[line]
		}
		if err := tx.SetClaims(ctx, o.TenantID, o.ID, fo.ID, rest); err != nil {
			return "", err
		}
	}
	return "", nil
}

// Move sends what a fulfilment order still holds to another facility, all
// or nothing: the stock is reserved there and released here in one
// transaction, and the fulfilment order closes (a new one opens at the
// destination, or the one open there grows — a merge). With lines, only
// those units move and the rest stays (a split across facilities: a
// fulfilment order is one order × facility, so splitting one means sending
// part of it elsewhere). A request already with a 3PL must be cancelled
// first.
func (s *Service) Move(ctx context.Context, tenantID, foID, facilityCode string, lines []FulfillLine, actor string) (FulfillmentOrderView, error) {
	const op = "order.Move"
	var fe errs.FieldList
	for i, l := range lines {
		if l.Quantity < 1 {
			fe.Add(fmt.Sprintf("lines[%d].quantity", i), "must be at least 1", l.Quantity)
		}
	}
	if err := fe.Err(op); err != nil {
		return FulfillmentOrderView{}, err
	}
	dest, err := s.inv.FacilityByCode(ctx, tenantID, strings.TrimSpace(facilityCode))
	if err != nil {
		if errs.Is(errs.NotExist, err) {
			return FulfillmentOrderView{}, errs.InvalidFields(op, errs.FieldError{Field: "facility", Message: "no facility has this code", Value: facilityCode})
		}
		return FulfillmentOrderView{}, err
	}
	if !dest.Active {
		return FulfillmentOrderView{}, errs.InvalidFields(op, errs.FieldError{Field: "facility", Message: "the facility is inactive", Value: facilityCode})
	}
	orderID, err := s.fulfillmentOrderOf(ctx, tenantID, foID)
	if err != nil {
		return FulfillmentOrderView{}, wrap(op, err)
	}
	rs, err := s.resourcingFor(ctx, tenantID, orderID)
	if err != nil {
		return FulfillmentOrderView{}, wrap(op, err)
	}
	var view FulfillmentOrderView
	emit := EventUpdated
	_, err = s.change(ctx, tenantID, orderID, rs.only(dest.ID), &emit, func(tx Tx, o *Order) (bool, error) {
		fo, err := tx.LockFulfillmentOrder(ctx, tenantID, foID)
		if err != nil {
			return false, err
		}
		switch {
		case fo.FacilityID == dest.ID:
			return false, errs.InvalidFields(op, errs.FieldError{Field: "facility", Message: "the fulfilment order is at this facility already", Value: facilityCode})
		case fo.Status == FulfillmentClosed || fo.Status == FulfillmentCancelled:
			return false, conflict(op, "fulfillment_order_closed", "the fulfilment order is "+strings.ToLower(string(fo.Status)))
		case fo.RequestStatus == RequestSubmitted || fo.RequestStatus == RequestAccepted || fo.RequestStatus == RequestCancellationRequest || fo.RequestStatus == RequestCancellationRejected:
			return false, conflict(op, "request_status", "the request is "+string(fo.RequestStatus)+" at the facility; cancel it first")
		case o.Status != Open:
			return false, conflict(op, "order_not_open", "the order is "+string(o.Status))
		}
		from, err := s.inv.Facility(ctx, tenantID, fo.FacilityID)
		if err != nil {
			return false, err
		}
		var want map[string]int64
		partial := false
		if len(lines) > 0 {
			shs, err := s.shares(ctx, tx, o)
			if err != nil {
				return false, err
			}
			left := map[string]int64{}
			var all int64
			for line, n := range shs.of(fo) {
				left[line] = n
				all += n
			}
			take, err := shipmentLines(op, o, left, lines)
			if err != nil {
				return false, err
			}
			want = map[string]int64{}
			var n int64
			for _, t := range take {
				want[t.LineID] += t.Quantity
				n += t.Quantity
			}
			partial = n < all
		}
		short, err := s.relocate(ctx, tx, o, &fo, rs.only(dest.ID), rs.items, want, actor)
		if err != nil {
			return false, err
		}
		if short != "" {
			return false, errs.WithCode(errs.E(op, errs.Conflict, errs.FieldError{Field: "facility", Message: dest.Code + " has not got " + short + " available", Value: facilityCode},
				dest.Code+" has not got "+short+" available"), "insufficient_stock")
		}
		if !partial {
			fo.Status, fo.Pending, fo.UpdatedAt = FulfillmentClosed, "", s.now()
			if fo.RequestStatus != RequestNone && fo.RequestStatus != RequestRejected {
				fo.RequestStatus = RequestClosed
			}
			if err := tx.SaveFulfillmentOrder(ctx, &fo); err != nil {
				return false, err
			}
		}
		if err := s.openFulfillmentOrders(ctx, tx, tenantID, o.ID); err != nil {
			return false, err
		}
		what := "Fulfilment moved from " + from.Code + " to " + dest.Code
		if partial {
			what = "Part of the fulfilment moved from " + from.Code + " to " + dest.Code
		}
		if err := s.event(ctx, tx, o, actor, "fulfillment_moved", what, map[string]any{"fulfillment_order_id": fo.ID}); err != nil {
			return false, err
		}
		fos, err := tx.FulfillmentOrders(ctx, tenantID, FulfillmentFilter{OrderID: o.ID, FacilityID: dest.ID, Limit: 100})
		if err != nil {
			return false, err
		}
		var moved FulfillmentOrder
		for _, x := range fos {
			if x.Status != FulfillmentClosed && x.Status != FulfillmentCancelled {
				moved = x
			}
		}
		vs, err := s.views(ctx, tx, o, []FulfillmentOrder{moved})
		if err != nil {
			return false, err
		}
		view = vs[0]
		if err := tx.Emit(ctx, tenantID, EventFulfillmentOrderMoved, "fulfillment_order", fo.ID, map[string]any{"fulfillment_order_id": fo.ID, "moved_to": view.Doc()}); err != nil {
			return false, err
		}
		return true, s.settleStockHold(ctx, tx, o)
	})
	if err != nil {
		return FulfillmentOrderView{}, wrap(op, err)
	}
	return view, nil
}

// OpenScheduled opens the scheduled fulfilment orders whose time has come
// and reports how many.
func (s *Service) OpenScheduled(ctx context.Context) (int, error) {
	refs, err := s.store.ScheduledDue(ctx, s.now(), 200)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range refs {
		if _, err := s.Act(ctx, r[0], r[1], FulfillmentAction{Kind: ActionOpen}, "system"); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// EventFulfillmentOrderSplit is emitted when a fulfilment order is split
// at its facility.
const EventFulfillmentOrderSplit = "fulfillment_order.split"

// Split takes some of a fulfilment order's units into a new one at the
// same facility (Shopify's split: ship part now, part later, or send them
// as two requests). The new one claims those units; the stock does not
// move. Not while a 3PL has the request.
func (s *Service) Split(ctx context.Context, tenantID, foID string, lines []FulfillLine, actor string) (FulfillmentOrderView, error) {
	const op = "order.Split"
	var fe errs.FieldList
	if len(lines) == 0 {
		fe.Add("lines", "say which units to split off", nil)
	}
	for i, l := range lines {
		if l.Quantity < 1 {
			fe.Add(fmt.Sprintf("lines[%d].quantity", i), "must be at least 1", l.Quantity)
		}
	}
	if err := fe.Err(op); err != nil {
		return FulfillmentOrderView{}, err
	}
	orderID, err := s.fulfillmentOrderOf(ctx, tenantID, foID)
	if err != nil {
		return FulfillmentOrderView{}, wrap(op, err)
	}
	var view FulfillmentOrderView
	emit := EventUpdated
	_, err = s.change(ctx, tenantID, orderID, Route{}, &emit, func(tx Tx, o *Order) (bool, error) {
		fo, err := tx.LockFulfillmentOrder(ctx, tenantID, foID)
		if err != nil {
			return false, err
		}
		switch {
		case fo.Status != FulfillmentOpen && fo.Status != FulfillmentInProgress:
			return false, conflict(op, "fulfillment_order_not_open", "only an open or in-progress fulfilment order can be split (this one is "+strings.ToLower(string(fo.Status))+")")
		case fo.RequestStatus != RequestNone && fo.RequestStatus != RequestUnsubmitted && fo.RequestStatus != RequestRejected:
			return false, conflict(op, "request_status", "the request is "+string(fo.RequestStatus)+" at the facility; cancel it first")
		}
		shs, err := s.shares(ctx, tx, o)
		if err != nil {
			return false, err
		}
		mine := shs.of(fo)
		take, err := shipmentLines(op, o, mine, lines)
		if err != nil {
			return false, err
		}
		claims := map[string]int64{}
		var n, all int64
		for _, t := range take {
			claims[t.LineID] += t.Quantity
			n += t.Quantity
		}
		for _, q := range mine {
			all += q
		}
		if n >= all {
			return false, errs.InvalidFields(op, errs.FieldError{Field: "lines", Message: "split off fewer units than it holds; to send all of it elsewhere, move it", Value: n})
		}
		now := s.now()
		nf := FulfillmentOrder{ID: id.New("ffo"), TenantID: tenantID, OrderID: o.ID, FacilityID: fo.FacilityID, Status: FulfillmentOpen, Claimed: true,
			RequestStatus: fo.RequestStatus, CreatedAt: now, UpdatedAt: now}
		if nf.RequestStatus == RequestRejected {
			nf.RequestStatus = RequestUnsubmitted
		}
		if nf.RequestStatus == RequestUnsubmitted {
			nf.Pending = fo.Pending
		}
		if fo.Claimed {
			rest := map[string]int64{}
			for line, q := range mine {
				rest[line] = q - claims[line]
			}
			if err := tx.SetClaims(ctx, tenantID, o.ID, fo.ID, rest); err != nil {
				return false, err
			}
		}
		if err := tx.InsertFulfillmentOrder(ctx, &nf); err != nil {
			return false, err
		}
		if err := tx.SetClaims(ctx, tenantID, o.ID, nf.ID, claims); err != nil {
			return false, err
		}
		vs, err := s.views(ctx, tx, o, []FulfillmentOrder{nf})
		if err != nil {
			return false, err
		}
		view = vs[0]
		if err := s.event(ctx, tx, o, actor, "fulfillment_split", fmt.Sprintf("Split %d units off the fulfilment at %s", n, view.FacilityCode), map[string]any{"fulfillment_order_id": fo.ID, "new_fulfillment_order_id": nf.ID}); err != nil {
			return false, err
		}
		return true, tx.Emit(ctx, tenantID, EventFulfillmentOrderSplit, "fulfillment_order", fo.ID, map[string]any{"fulfillment_order_id": fo.ID, "split_off": view.Doc()})
	})
	if err != nil {
		return FulfillmentOrderView{}, wrap(op, err)
	}
	return view, nil
}

// Merge brings what a fulfilment order holds into another of the same
// order: at the same facility the two become one (the stock does not
// move); at another facility it is a move of everything there.
func (s *Service) Merge(ctx context.Context, tenantID, foID, intoID, actor string) (FulfillmentOrderView, error) {
	const op = "order.Merge"
	if foID == intoID {
		return FulfillmentOrderView{}, errs.InvalidFields(op, errs.FieldError{Field: "into", Message: "is the fulfilment order itself", Value: intoID})
	}
	a, err := s.FulfillmentOrder(ctx, tenantID, foID)
	if err != nil {
		return FulfillmentOrderView{}, wrap(op, err)
	}
	b, err := s.FulfillmentOrder(ctx, tenantID, intoID)
	if errs.Is(errs.NotExist, err) || err == nil && b.OrderID != a.OrderID {
		return FulfillmentOrderView{}, errs.InvalidFields(op, errs.FieldError{Field: "into", Message: "is not a fulfilment order of the same order", Value: intoID})
	}
	if err != nil {
		return FulfillmentOrderView{}, wrap(op, err)
	}
	if b.Status == FulfillmentClosed || b.Status == FulfillmentCancelled {
		return FulfillmentOrderView{}, conflict(op, "fulfillment_order_closed", "the fulfilment order to merge into is "+strings.ToLower(string(b.Status)))
	}
	if a.FacilityID != b.FacilityID {
		return s.Move(ctx, tenantID, foID, b.FacilityCode, nil, actor)
	}
	var view FulfillmentOrderView
	emit := EventUpdated
	_, err = s.change(ctx, tenantID, a.OrderID, Route{}, &emit, func(tx Tx, o *Order) (bool, error) {
		src, err := tx.LockFulfillmentOrder(ctx, tenantID, foID)
		if err != nil {
			return false, err
		}
		dst, err := tx.LockFulfillmentOrder(ctx, tenantID, intoID)
		if err != nil {
			return false, err
		}
		for _, x := range []FulfillmentOrder{src, dst} {
			switch {
			case x.Status == FulfillmentClosed || x.Status == FulfillmentCancelled:
				return false, conflict(op, "fulfillment_order_closed", "a fulfilment order to merge is "+strings.ToLower(string(x.Status)))
			case x.RequestStatus == RequestSubmitted || x.RequestStatus == RequestAccepted || x.RequestStatus == RequestCancellationRequest || x.RequestStatus == RequestCancellationRejected:
				return false, conflict(op, "request_status", "a request is "+string(x.RequestStatus)+" at the facility; cancel it first")
			}
		}
		shs, err := s.shares(ctx, tx, o)
		if err != nil {
			return false, err
		}
		from, to := shs.of(src), shs.of(dst)
		if dst.Claimed {
			sum := map[string]int64{}
			for line, q := range to {
				sum[line] += q
			}
			for line, q := range from {
				sum[line] += q
			}
			if err := tx.SetClaims(ctx, tenantID, o.ID, dst.ID, sum); err != nil {
				return false, err
			}
		}
		if src.Claimed {
			if err := tx.SetClaims(ctx, tenantID, o.ID, src.ID, nil); err != nil {
				return false, err
			}
		}
		src.Status, src.Pending, src.UpdatedAt = FulfillmentClosed, "", s.now()
		if src.RequestStatus != RequestNone {
			src.RequestStatus = RequestClosed
		}
		if err := tx.SaveFulfillmentOrder(ctx, &src); err != nil {
			return false, err
		}
		vs, err := s.views(ctx, tx, o, []FulfillmentOrder{dst})
		if err != nil {
			return false, err
		}
		view = vs[0]
		return true, s.event(ctx, tx, o, actor, "fulfillment_merged", "Merged two fulfilment orders at "+view.FacilityCode, map[string]any{"fulfillment_order_id": src.ID, "into": dst.ID})
	})
	if err != nil {
		return FulfillmentOrderView{}, wrap(op, err)
	}
	return view, nil
}

// RequestHistory lists a fulfilment order's requests and answers, oldest
// first.
func (s *Service) RequestHistory(ctx context.Context, tenantID, foID string) ([]RequestMessage, error) {
	if _, err := s.fulfillmentOrderOf(ctx, tenantID, foID); err != nil {
		return nil, wrap("order.RequestHistory", err)
	}
	return s.store.RequestMessages(ctx, tenantID, foID)
}

// RetryFacility makes the requests waiting for a facility due now (it was
// just connected, or its connection changed).
func (s *Service) RetryFacility(ctx context.Context, tenantID, facilityID string) error {
	_, err := s.store.RetryFacility(ctx, tenantID, facilityID)
	return err
}

// DueRequests lists fulfilment orders (tenant, id) the dispatcher has work
// for now, oldest first.
func (s *Service) DueRequests(ctx context.Context, limit int) ([][2]string, error) {
	return s.store.DueRequests(ctx, s.now(), limit)
}

// Sending is what the dispatcher did for a fulfilment order.
type Sending struct {
	Did  string // PendingRequest or PendingCancel
	Ref  string // the provider's reference, when it gave one
	Next string // what is pending after: PendingPoll for providers, else nothing
	Note string // for the history (a provider's quote)
	// Fingerprint is Fingerprint of the order and fulfilment order the
	// request was built from.
	Fingerprint string
}

// Sent records that the dispatcher did fo's pending work: a request sent
// (SUBMITTED, with the provider's reference) or a cancellation sent.
func (s *Service) Sent(ctx context.Context, tenantID, foID string, d Sending, actor string) error {
	return s.dispatched(ctx, tenantID, foID, func(tx Tx, fo *FulfillmentOrder) (string, string, error) {
		if fo.Pending != d.Did {
			return "", "", nil // something else happened meanwhile
		}
		fo.Pending, fo.Attempts, fo.NextAttemptAt, fo.LastError = d.Next, 0, nil, ""
		if d.Ref != "" {
			fo.ProviderRef = d.Ref
		}
		switch d.Did {
		case PendingRequest:
			if fo.RequestStatus == RequestUnsubmitted {
				fo.RequestStatus = RequestSubmitted
			}
			fo.SentFingerprint = d.Fingerprint
			if d.Note != "" {
				return "fulfillment_request", "Request sent; " + d.Note, nil
			}
			return "fulfillment_request", "Request sent", nil
		case PendingCancel:
			return "cancellation_request_sent", "Cancellation request sent", nil
		}
		return "", "", nil
	}, actor)
}

// Fingerprint sums up what a request for v asks: each line's units
// (shipped from it or still to ship, so shipping does not change it) and
// the address. A different fingerprint later means the 3PL's copy is stale.
func Fingerprint(o *Order, v FulfillmentOrderView) string {
	h := sha256.New()
	for _, l := range v.Lines {
		fmt.Fprintf(h, "%s\x00%s\x00%d\n", l.LineID, l.SKU, l.Quantity+l.Fulfilled)
	}
	if a := o.ShippingAddress; a != nil {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\n", a.Name, a.Company, a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country, a.Phone)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// tidyFulfillmentOrders brings an order's open fulfilment orders in line
// with a change: one whose facility holds nothing of the order any more
// closes (cancelled when nothing shipped from it), unless a 3PL has its
// request; a request a 3PL has whose order changed since (lines,
// quantities or address) is recalled: the 3PL is asked to cancel it, and
// once it confirms the new version goes out by itself (Resend).
func (s *Service) tidyFulfillmentOrders(ctx context.Context, tx Tx, tenantID, orderID string) error {
	fos, err := tx.FulfillmentOrders(ctx, tenantID, FulfillmentFilter{OrderID: orderID, Limit: 1000})
	if err != nil {
		return err
	}
	var open []FulfillmentOrder
	for _, fo := range fos {
		if fo.Status != FulfillmentClosed && fo.Status != FulfillmentCancelled {
			open = append(open, fo)
		}
	}
	if len(open) == 0 {
		return nil
	}
	o, err := tx.Lock(ctx, tenantID, orderID)
	if err != nil || o.Status != Open {
		return err
	}
	vs, err := s.views(ctx, tx, &o, open)
	if err != nil {
		return err
	}
	for i, v := range vs {
		fo := open[i]
		withThem := false
		switch fo.RequestStatus {
		case RequestSubmitted, RequestAccepted, RequestCancellationRejected:
			withThem = fo.SentFingerprint != ""
		case RequestCancellationRequest:
			continue // already asked
		}
		if withThem {
			if Fingerprint(&o, v) == fo.SentFingerprint {
				continue
			}
			fo.RequestStatus, fo.Pending, fo.Attempts, fo.NextAttemptAt, fo.LastError, fo.Resend = RequestCancellationRequest, PendingCancel, 0, nil, "", true
			fo.UpdatedAt = s.now()
			if err := tx.SaveFulfillmentOrder(ctx, &fo); err != nil {
				return err
			}
			if err := tx.AddRequestMessage(ctx, tenantID, RequestMessage{ID: id.New("frm"), FulfillmentOrderID: fo.ID, Kind: "cancellation_request",
				RequestStatus: fo.RequestStatus, Message: "the order changed after the request was sent; the new version follows once this is cancelled",
				Actor: "system", CreatedAt: s.now()}); err != nil {
				return err
			}
			if err := s.event(ctx, tx, &o, "system", "fulfillment_recalled", "The order changed after "+v.FacilityCode+" got the request: asked it to cancel, the new version follows", map[string]any{"fulfillment_order_id": fo.ID}); err != nil {
				return err
			}
			continue
		}
		if v.Remaining() > 0 || fo.Status == FulfillmentIncomplete {
			continue
		}
		// Nothing left for this facility to do.
		fo.Status = FulfillmentCancelled
		for _, l := range v.Lines {
			if l.Fulfilled > 0 {
				fo.Status = FulfillmentClosed
			}
		}
		if fo.RequestStatus != RequestNone {
			fo.RequestStatus = RequestClosed
		}
		fo.Pending, fo.UpdatedAt = "", s.now()
		if err := tx.SaveFulfillmentOrder(ctx, &fo); err != nil {
			return err
		}
	}
	return nil
}

// Failed records that the dispatcher could not do fo's pending work; it is
// tried again at retry.
func (s *Service) Failed(ctx context.Context, tenantID, foID string, cause error, retry time.Time) error {
	return s.dispatched(ctx, tenantID, foID, func(tx Tx, fo *FulfillmentOrder) (string, string, error) {
		fo.Attempts++
		fo.NextAttemptAt = &retry
		fo.LastError = cause.Error()
		if len(fo.LastError) > 1000 {
			fo.LastError = fo.LastError[:1000]
		}
		return "", "", nil
	}, "system")
}

// Polled records that a provider was asked how fo goes; it is asked again
// at next (no more when next is zero).
func (s *Service) Polled(ctx context.Context, tenantID, foID string, next time.Time) error {
	return s.dispatched(ctx, tenantID, foID, func(tx Tx, fo *FulfillmentOrder) (string, string, error) {
		if fo.Pending != PendingPoll {
			return "", "", nil
		}
		fo.Attempts, fo.LastError = 0, ""
		if next.IsZero() {
			fo.Pending, fo.NextAttemptAt = "", nil
		} else {
			fo.NextAttemptAt = &next
		}
		return "", "", nil
	}, "system")
}

func (s *Service) dispatched(ctx context.Context, tenantID, foID string, fn func(tx Tx, fo *FulfillmentOrder) (kind, msg string, err error), actor string) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		fo, err := tx.LockFulfillmentOrder(ctx, tenantID, foID)
		if err != nil {
			return err
		}
		kind, msg, err := fn(tx, &fo)
		if err != nil {
			return err
		}
		fo.UpdatedAt = s.now()
		if err := tx.SaveFulfillmentOrder(ctx, &fo); err != nil {
			return err
		}
		if kind == "" {
			return nil
		}
		return tx.AddRequestMessage(ctx, tenantID, RequestMessage{ID: id.New("frm"), FulfillmentOrderID: fo.ID, Kind: kind,
			RequestStatus: fo.RequestStatus, Message: msg, Actor: actor, CreatedAt: s.now()})
	})
}
