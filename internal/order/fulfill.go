package order

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/inventory"
)

// FulfillmentOrderStatus is where a fulfilment order is (Shopify's names).
type FulfillmentOrderStatus string

const (
	FulfillmentOpen       FulfillmentOrderStatus = "OPEN"
	FulfillmentInProgress FulfillmentOrderStatus = "IN_PROGRESS" // part of it shipped
	FulfillmentOnHold     FulfillmentOrderStatus = "ON_HOLD"     // held on its own, or shown while its order is on hold
	FulfillmentClosed     FulfillmentOrderStatus = "CLOSED"      // nothing left to ship from its facility
	FulfillmentCancelled  FulfillmentOrderStatus = "CANCELLED"   // cancelled, or shown once its order is cancelled
	FulfillmentScheduled  FulfillmentOrderStatus = "SCHEDULED"   // waits until FulfillAt, then opens
	FulfillmentIncomplete FulfillmentOrderStatus = "INCOMPLETE"  // the 3PL closed it with units unshipped
)

// FulfillmentStatuses lists every status a fulfilment order shows.
var FulfillmentStatuses = []FulfillmentOrderStatus{FulfillmentOpen, FulfillmentInProgress, FulfillmentScheduled, FulfillmentOnHold, FulfillmentIncomplete, FulfillmentClosed, FulfillmentCancelled}

// Event types of fulfilment.
const (
	EventFulfillmentOrderFulfilled = "fulfillment_order.fulfilled"
	EventShipmentCreated           = "shipment.created"
)

// FulfillmentOrder is the part of an order one facility fulfils: the lines
// whose stock is reserved there. Its lines are derived from the order's
// active reservations and its shipments; the row keeps its id and status.
type FulfillmentOrder struct {
	ID         string
	TenantID   string
	OrderID    string
	FacilityID string
	// Status as stored: OPEN, IN_PROGRESS, ON_HOLD (held on its own, with
	// HoldReason), CLOSED or CANCELLED.
	Status     FulfillmentOrderStatus
	HoldReason string
	// RequestStatus is where the request to a 3PL or supplier stands;
	// empty at the merchant's own facilities.
	RequestStatus RequestStatus
	// ProviderRef is the provider's id for the request, once submitted.
	ProviderRef string
	// Pending is what the dispatcher has to do next (see Pending*), tried
	// again at NextAttemptAt after a failure.
	Pending       string
	Attempts      int
	NextAttemptAt *time.Time
	LastError     string
	// FulfillAt is when a SCHEDULED fulfilment order opens.
	FulfillAt *time.Time
	// SentFingerprint is what the 3PL was sent (Fingerprint); Resend says
	// the new version goes out once the 3PL confirms the cancellation a
	// change asked for.
	SentFingerprint string
	Resend          bool
	// Claimed marks one split off another at the same facility: it holds
	// the units it claims (Claims), the facility's main one the rest.
	Claimed   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// LineReservation is an active reservation held for one of an order's
// lines, at one facility.
type LineReservation struct {
	ReservationID string
	LineID        string
	FacilityID    string
}

// Shipment is what left a facility for an order.
type Shipment struct {
	ID                 string
	TenantID           string
	OrderID            string
	FulfillmentOrderID string
	FacilityID         string
	Carrier            string
	Service            string
	TrackingNumber     string
	TrackingURL        string
	ExternalID         string // the provider's id, when a provider reported it
	CreatedAt          time.Time
	Lines              []ShipmentLine
}

// ShipmentLine is how many units of an order line a shipment carries.
type ShipmentLine struct {
	LineID   string
	SKU      string
	Quantity int64
}

// FulfillmentFilter selects fulfilment orders.
type FulfillmentFilter struct {
	OrderID    string
	FacilityID string
	Status     FulfillmentOrderStatus // stored status only
	// RequestStatus selects by where the request to the facility stands.
	RequestStatus RequestStatus
	After         string
	Limit         int
}

// FulfillmentTx is the fulfilment side of an order transaction.
type FulfillmentTx interface {
	RequestTx // fulfill_request.go
	// Claims reads the units split-off fulfilment orders of an order claim:
	// fulfilment order id → order line id → units.
	Claims(ctx context.Context, tenantID, orderID string) (map[string]map[string]int64, error)
	// SetClaims replaces what one fulfilment order claims.
	SetClaims(ctx context.Context, tenantID, orderID, foID string, claims map[string]int64) error
	// OrderReservations lists the active reservations held for an order's
	// lines, with the facility of each.
	OrderReservations(ctx context.Context, tenantID, orderID string) ([]LineReservation, error)
	// MissingFulfillmentOrders lists (order, facility) pairs of the tenant
	// (of one order when orderID is set) where an order line holds stock
	// but no fulfilment order is active.
	MissingFulfillmentOrders(ctx context.Context, tenantID, orderID string) ([][2]string, error)
	// InsertFulfillmentOrder stores f unless one is active for its order
	// and facility already.
	InsertFulfillmentOrder(ctx context.Context, f *FulfillmentOrder) error
	FulfillmentOrders(ctx context.Context, tenantID string, f FulfillmentFilter) ([]FulfillmentOrder, error)
	// LockFulfillmentOrder reads one for change (row-locked on PostgreSQL).
	LockFulfillmentOrder(ctx context.Context, tenantID, id string) (FulfillmentOrder, error)
	InsertShipment(ctx context.Context, sh *Shipment) error
	// Shipped sums shipped units of an order per fulfilment order and line.
	Shipped(ctx context.Context, tenantID, orderID string) (map[[2]string]int64, error)
}

// FulfillmentOrderView is a fulfilment order with what it holds.
type FulfillmentOrderView struct {
	FulfillmentOrder
	OrderNumber  string
	FacilityCode string
	Lines        []FulfillmentLine
}

// FulfillmentLine is an order line's part in a fulfilment order.
type FulfillmentLine struct {
	LineID    string
	SKU       string
	Quantity  int64 // reserved at the facility, still to fulfil
	Fulfilled int64 // shipped from this fulfilment order
}

// Assigned is what the fulfilment order was given to ship, per SKU line:
// what it shipped and what is left.
func (v FulfillmentOrderView) Assigned() []FulfillLine {
	out := make([]FulfillLine, 0, len(v.Lines))
	for _, l := range v.Lines {
		out = append(out, FulfillLine{SKU: l.SKU, Quantity: l.Quantity + l.Fulfilled})
	}
	return out
}

// Remaining is how many units are still to fulfil.
func (v FulfillmentOrderView) Remaining() int64 {
	var n int64
	for _, l := range v.Lines {
		n += l.Quantity
	}
	return n
}

// FulfillmentOrders lists an order's fulfilment orders, opening one for
// each facility where its lines hold stock and none is active yet.
func (s *Service) FulfillmentOrders(ctx context.Context, tenantID, orderID string) ([]FulfillmentOrderView, error) {
	const op = "order.FulfillmentOrders"
	var out []FulfillmentOrderView
	missing := false
	err := s.store.ReadTx(ctx, func(tx Tx) error {
		o, err := tx.Lock(ctx, tenantID, orderID)
		if err != nil {
			return err
		}
		pairs, err := tx.MissingFulfillmentOrders(ctx, tenantID, orderID)
		if err != nil || len(pairs) > 0 {
			missing = len(pairs) > 0
			return err
		}
		fos, err := tx.FulfillmentOrders(ctx, tenantID, FulfillmentFilter{OrderID: orderID, Limit: 1000})
		if err != nil {
			return err
		}
		out, err = s.views(ctx, tx, &o, fos)
		return err
	})
	if err != nil || !missing {
		return out, wrap(op, err)
	}
	// An order placed before fulfilment orders opened with their
	// reservations: open them now.
	err = s.store.InTx(ctx, func(tx Tx) error {
		o, err := tx.Lock(ctx, tenantID, orderID)
		if err != nil {
			return err
		}
		if err := s.openFulfillmentOrders(ctx, tx, tenantID, orderID); err != nil {
			return err
		}
		fos, err := tx.FulfillmentOrders(ctx, tenantID, FulfillmentFilter{OrderID: orderID, Limit: 1000})
		if err != nil {
			return err
		}
		out, err = s.views(ctx, tx, &o, fos)
		return err
	})
	return out, wrap(op, err)
}

// FulfillmentOrder returns one fulfilment order.
func (s *Service) FulfillmentOrder(ctx context.Context, tenantID, id string) (FulfillmentOrderView, error) {
	const op = "order.FulfillmentOrder"
	orderID, err := s.fulfillmentOrderOf(ctx, tenantID, id)
	if err != nil {
		return FulfillmentOrderView{}, wrap(op, err)
	}
	var out FulfillmentOrderView
	err = s.store.ReadTx(ctx, func(tx Tx) error {
		o, err := tx.Lock(ctx, tenantID, orderID)
		if err != nil {
			return err
		}
		fo, err := tx.LockFulfillmentOrder(ctx, tenantID, id)
		if err != nil {
			return err
		}
		vs, err := s.views(ctx, tx, &o, []FulfillmentOrder{fo})
		if err == nil {
			out = vs[0]
		}
		return err
	})
	return out, wrap(op, err)
}

// fulfillmentOrderOf reads which order a fulfilment order belongs to (it
// never changes), so a transaction can lock the order before it.
func (s *Service) fulfillmentOrderOf(ctx context.Context, tenantID, id string) (string, error) {
	var orderID string
	err := s.store.ReadTx(ctx, func(tx Tx) error {
		fo, err := tx.LockFulfillmentOrder(ctx, tenantID, id)
		orderID = fo.OrderID
		return err
	})
	return orderID, err
}

// ListFulfillmentOrders lists the tenant's fulfilment orders, oldest first,
// after opening those that are due. The cursor is the last id of a page.
func (s *Service) ListFulfillmentOrders(ctx context.Context, tenantID string, f FulfillmentFilter) ([]FulfillmentOrderView, string, error) {
	const op = "order.ListFulfillmentOrders"
	f.Limit = min(max(f.Limit, 1), 250)
	limit := f.Limit
	f.Limit++
	var out []FulfillmentOrderView
	next := ""
	if f.OrderID != "" {
		// Orders placed before fulfilment orders opened with their
		// reservations get theirs when first looked at.
		if _, err := s.FulfillmentOrders(ctx, tenantID, f.OrderID); err != nil {
			return nil, "", wrap(op, err)
		}
	}
	err := s.store.ReadTx(ctx, func(tx Tx) error {
		out, next = nil, ""
		fos, err := tx.FulfillmentOrders(ctx, tenantID, f)
		if err != nil {
			return err
		}
		if len(fos) > limit {
			fos = fos[:limit]
			next = fos[limit-1].ID
		}
		// Each order is read once, with its stock, for all of its
		// fulfilment orders on the page; the page keeps its order.
		byOrder := map[string][]FulfillmentOrder{}
		var orderIDs []string
		for _, fo := range fos {
			if _, ok := byOrder[fo.OrderID]; !ok {
				orderIDs = append(orderIDs, fo.OrderID)
			}
			byOrder[fo.OrderID] = append(byOrder[fo.OrderID], fo)
		}
		viewed := map[string]FulfillmentOrderView{}
		for _, orderID := range orderIDs {
			o, err := tx.Lock(ctx, tenantID, orderID)
			if err != nil {
				return err
			}
			vs, err := s.views(ctx, tx, &o, byOrder[orderID])
			if err != nil {
				return err
			}
			for _, v := range vs {
				viewed[v.ID] = v
			}
		}
		for _, fo := range fos {
			out = append(out, viewed[fo.ID])
		}
		return nil
	})
	return out, next, wrap(op, err)
}

// openFulfillmentOrders creates the fulfilment orders that are due: one for
// each (order, facility) where a line holds stock and none is active.
func (s *Service) openFulfillmentOrders(ctx context.Context, tx Tx, tenantID, orderID string) error {
	var pairs [][2]string
	st, _ := tx.(*settling)
	if st != nil && st.created[orderID] {
		// A new order: its stock is wherever this transaction reserved it,
		// and it has no fulfilment order yet.
		for fid := range st.touched {
			pairs = append(pairs, [2]string{orderID, fid})
		}
		slices.SortFunc(pairs, func(a, b [2]string) int { return strings.Compare(a[1], b[1]) })
	} else {
		var err error
		if pairs, err = tx.MissingFulfillmentOrders(ctx, tenantID, orderID); err != nil {
			return err
		}
		if len(pairs) > 0 && orderID != "" {
			// A facility whose units are all claimed by fulfilment orders
			// split off there needs no main one.
			shs, err := s.shares(ctx, tx, &Order{TenantID: tenantID, ID: orderID})
			if err != nil {
				return err
			}
			pairs = slices.DeleteFunc(pairs, func(p [2]string) bool { return shs.free[p[1]] == 0 })
		}
	}
	now := s.now()
	for _, p := range pairs {
		f, ok := inventory.Facility{}, false
		if st != nil {
			f, ok = st.known[p[1]]
		}
		if !ok {
			var err error
			if f, err = s.inv.Facility(ctx, tenantID, p[1]); err != nil {
				return err
			}
		}
		fo := FulfillmentOrder{ID: id.New("ffo"), TenantID: tenantID, OrderID: p[0], FacilityID: p[1], Status: FulfillmentOpen, CreatedAt: now, UpdatedAt: now}
		if asked(f.Kind) {
			// A 3PL or supplier is sent the request by the dispatcher.
			fo.RequestStatus, fo.Pending = RequestUnsubmitted, PendingRequest
		}
		if err := tx.InsertFulfillmentOrder(ctx, &fo); err != nil {
			return err
		}
	}
	return nil
}

// held is an active reservation of a line at a facility and the units it holds.
type held struct {
	reservationID string
	units         int64
}

// holdings reads, per facility and line, the reservations an order holds.
func (s *Service) holdings(ctx context.Context, tx Tx, tenantID, orderID string) (map[[2]string][]held, error) {
	rs, err := tx.OrderReservations(ctx, tenantID, orderID)
	if err != nil {
		return nil, err
	}
	out := map[[2]string][]held{}
	for _, lr := range rs {
		r, err := tx.Reservation(ctx, tenantID, lr.ReservationID)
		if err != nil {
			return nil, err
		}
		units, err := s.inv.ReservationUnits(ctx, tx, tenantID, r)
		if err != nil {
			return nil, err
		}
		k := [2]string{lr.FacilityID, lr.LineID}
		out[k] = append(out[k], held{lr.ReservationID, units})
	}
	return out, nil
}

// shares says how many units of each line every working fulfilment order
// of o holds: a facility's reserved units go first to the fulfilment
// orders split off there (what each claims, oldest first), the rest to the
// facility's main one.
type shares struct {
	hs   map[[2]string][]held
	per  map[string]map[string]int64 // fulfilment order id → line id → units
	free map[string]int64            // facility id → units no split-off one claims
}

func (s *Service) shares(ctx context.Context, tx Tx, o *Order) (*shares, error) {
	hs, err := s.holdings(ctx, tx, o.TenantID, o.ID)
	if err != nil {
		return nil, err
	}
	sh := &shares{hs: hs, per: map[string]map[string]int64{}, free: map[string]int64{}}
	claims, err := tx.Claims(ctx, o.TenantID, o.ID)
	if err != nil {
		return nil, err
	}
	fos, err := tx.FulfillmentOrders(ctx, o.TenantID, FulfillmentFilter{OrderID: o.ID, Limit: 1000})
	if err != nil {
		return nil, err
	}
	left := map[[2]string]int64{} // facility, line → units not yet given out
	for k, h := range hs {
		for _, x := range h {
			left[k] += x.units
		}
	}
	var mains []FulfillmentOrder
	for _, fo := range fos { // oldest first (ids sort by time)
		if fo.Status == FulfillmentClosed || fo.Status == FulfillmentCancelled {
			continue
		}
		if !fo.Claimed {
			mains = append(mains, fo)
			continue
		}
		sh.per[fo.ID] = map[string]int64{}
		for line, q := range claims[fo.ID] {
			k := [2]string{fo.FacilityID, line}
			take := min(q, left[k])
			sh.per[fo.ID][line] = take
			left[k] -= take
		}
	}
	for k, n := range left {
		sh.free[k[0]] += n
	}
	for _, fo := range mains {
		sh.per[fo.ID] = map[string]int64{}
		for k, n := range left {
			if k[0] == fo.FacilityID && n > 0 {
				sh.per[fo.ID][k[1]] = n
			}
		}
	}
	return sh, nil
}

// of is what fo holds per line (nothing once it is closed or cancelled).
func (sh *shares) of(fo FulfillmentOrder) map[string]int64 {
	if m, ok := sh.per[fo.ID]; ok {
		return m
	}
	return map[string]int64{}
}

// views adds lines and the shown status to fulfilment orders of o.
func (s *Service) views(ctx context.Context, tx Tx, o *Order, fos []FulfillmentOrder) ([]FulfillmentOrderView, error) {
	sh, err := s.shares(ctx, tx, o)
	if err != nil {
		return nil, err
	}
	shipped, err := tx.Shipped(ctx, o.TenantID, o.ID)
	if err != nil {
		return nil, err
	}
	codes := map[string]string{}
	out := make([]FulfillmentOrderView, 0, len(fos))
	for _, fo := range fos {
		v := FulfillmentOrderView{FulfillmentOrder: fo, OrderNumber: o.Number, Lines: []FulfillmentLine{}}
		if _, ok := codes[fo.FacilityID]; !ok {
			f, err := s.inv.Facility(ctx, o.TenantID, fo.FacilityID)
			if err != nil {
				return nil, err
			}
			codes[fo.FacilityID] = f.Code
		}
		v.FacilityCode = codes[fo.FacilityID]
		working := fo.Status != FulfillmentClosed && fo.Status != FulfillmentCancelled
		share := sh.of(fo)
		for _, l := range o.Lines {
			var q int64
			if working {
				q = share[l.ID]
			}
			done := shipped[[2]string{fo.ID, l.ID}]
			if q > 0 || done > 0 {
				v.Lines = append(v.Lines, FulfillmentLine{LineID: l.ID, SKU: l.SKU, Quantity: q, Fulfilled: done})
			}
		}
		if working {
			switch {
			case o.Status == Cancelled:
				v.Status = FulfillmentCancelled
			case o.Status == Closed || v.Remaining() == 0 && len(v.Lines) > 0:
				v.Status = FulfillmentClosed
			case o.OnHold() && (fo.Status == FulfillmentOpen || fo.Status == FulfillmentInProgress):
				v.Status = FulfillmentOnHold
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// FulfillInput is a shipment from a fulfilment order's facility.
type FulfillInput struct {
	Carrier        string
	Service        string
	TrackingNumber string
	TrackingURL    string
	Lines          []FulfillLine // every remaining line when empty
	// ExternalID is a provider's id for the shipment: reporting it again
	// records nothing new.
	ExternalID string
}

// FulfillLine is how many units of a SKU a shipment carries.
type FulfillLine struct {
	SKU      string
	Quantity int64
}

// Fulfill records a shipment from a fulfilment order's facility and
// consumes exactly that reserved stock there, in one transaction with the
// order's fulfilled quantities, its fulfilment status (closed when nothing
// is left to fulfil), the fulfilment order's status (closed when nothing is
// left at its facility), the timeline and the events.
func (s *Service) Fulfill(ctx context.Context, tenantID, foID string, in FulfillInput, actor string) (FulfillmentOrderView, Shipment, error) {
	const op = "order.Fulfill"
	var fe errs.FieldList
	checkText(&fe, "carrier", in.Carrier, 100)
	checkText(&fe, "service", in.Service, 100)
	checkText(&fe, "tracking_number", in.TrackingNumber, 255)
	checkText(&fe, "tracking_url", in.TrackingURL, 2000)
	for i, l := range in.Lines {
		if l.Quantity < 1 {
			fe.Add(fmt.Sprintf("lines[%d].quantity", i), "must be at least 1", l.Quantity)
		}
	}
	if err := fe.Err(op); err != nil {
		return FulfillmentOrderView{}, Shipment{}, err
	}
	orderID, err := s.fulfillmentOrderOf(ctx, tenantID, foID)
	if err != nil {
		return FulfillmentOrderView{}, Shipment{}, wrap(op, err)
	}
	var view FulfillmentOrderView
	var sh Shipment
	again := false
	emit := EventUpdated
	_, err = s.change(ctx, tenantID, orderID, Route{}, &emit, func(tx Tx, o *Order) (bool, error) {
		fo, err := tx.LockFulfillmentOrder(ctx, tenantID, foID)
		if err != nil {
			return false, err
		}
		if fo.Status == FulfillmentClosed || fo.Status == FulfillmentCancelled {
			return false, errs.WithCode(errs.E(op, errs.Conflict, "the fulfilment order is "+strings.ToLower(string(fo.Status))+": nothing is left to fulfil there"), "fulfillment_order_closed")
		}
		if fo.Status == FulfillmentOnHold {
			return false, errs.WithCode(errs.E(op, errs.Conflict, "the fulfilment order is on hold: "+fo.HoldReason), "fulfillment_order_on_hold")
		}
		if fo.Status == FulfillmentScheduled {
			return false, errs.WithCode(errs.E(op, errs.Conflict, "the fulfilment order is scheduled for "+fo.FulfillAt.Format(time.RFC3339)+"; open it first"), "fulfillment_order_scheduled")
		}
		if in.ExternalID != "" {
			if shID, found, err := tx.ShipmentByExternalID(ctx, tenantID, fo.ID, in.ExternalID); err != nil || found {
				if err == nil {
					sh.ID = shID
					again = true
				}
				return false, err
			}
		}
		if o.Status != Open {
			return false, errs.WithCode(errs.E(op, errs.Conflict, "the order is "+string(o.Status)), "order_not_open")
		}
		if o.OnHold() {
			return false, errs.WithCode(errs.E(op, errs.Conflict, "the order is on hold"), "order_on_hold")
		}
		shs, err := s.shares(ctx, tx, o)
		if err != nil {
			return false, err
		}
		hs := shs.hs
		left := map[string]int64{} // line id → units this fulfilment order holds
		for line, n := range shs.of(fo) {
			left[line] = n
		}
		take, err := shipmentLines(op, o, left, in.Lines)
		if err != nil {
			return false, err
		}
		if len(take) == 0 {
			return false, errs.WithCode(errs.E(op, errs.Conflict, "nothing is reserved at this facility to fulfil"), "nothing_to_fulfill")
		}
		sh = Shipment{ID: id.New("shp"), TenantID: tenantID, OrderID: o.ID, FulfillmentOrderID: fo.ID, FacilityID: fo.FacilityID,
			Carrier: strings.TrimSpace(in.Carrier), Service: strings.TrimSpace(in.Service), TrackingNumber: strings.TrimSpace(in.TrackingNumber),
			TrackingURL: strings.TrimSpace(in.TrackingURL), ExternalID: strings.TrimSpace(in.ExternalID), CreatedAt: s.now()}
		var what []string
		for _, t := range take {
			l, _ := o.Line(t.LineID)
			n := t.Quantity
			for _, h := range hs[[2]string{fo.FacilityID, l.ID}] {
				if n == 0 {
					break
				}
				u := min(n, h.units)
				if err := s.inv.ConsumeIn(ctx, tx, tenantID, h.reservationID, u, actor); err != nil {
					return false, err
				}
				n -= u
			}
			l.Reserved -= t.Quantity
			l.Fulfilled += t.Quantity
			left[l.ID] -= t.Quantity
			sh.Lines = append(sh.Lines, t)
			what = append(what, fmt.Sprintf("%d × %s", t.Quantity, l.SKU))
		}
		if err := tx.InsertShipment(ctx, &sh); err != nil {
			return false, err
		}
		if fo.Claimed {
			// A split-off one claims what it still has to ship.
			if err := tx.SetClaims(ctx, tenantID, o.ID, fo.ID, left); err != nil {
				return false, err
			}
		}
		var remaining int64
		for _, n := range left {
			remaining += n
		}
		if fo.RequestStatus == RequestSubmitted || fo.RequestStatus == RequestUnsubmitted {
			fo.RequestStatus = RequestAccepted // shipping it is accepting it
		}
		fo.Status = FulfillmentInProgress
		if remaining == 0 {
			fo.Status = FulfillmentClosed
		}
		fo.UpdatedAt = s.now()
		if remaining == 0 {
			if fo.RequestStatus != RequestNone {
				fo.RequestStatus = RequestClosed
			}
			fo.Pending = ""
		}
		if err := tx.SaveFulfillmentOrder(ctx, &fo); err != nil {
			return false, err
		}
		o.deriveFulfillment()
		if o.Fulfillment == Fulfilled {
			o.Status = Closed
		}
		vs, err := s.views(ctx, tx, o, []FulfillmentOrder{fo})
		if err != nil {
			return false, err
		}
		view = vs[0]
		msg := "Shipped " + strings.Join(what, ", ") + " from " + view.FacilityCode
		if sh.Carrier != "" || sh.TrackingNumber != "" {
			msg += " (" + strings.TrimSpace(sh.Carrier+" "+sh.TrackingNumber) + ")"
		}
		if err := s.event(ctx, tx, o, actor, "fulfilled", msg, map[string]any{"fulfillment_order_id": fo.ID, "shipment_id": sh.ID}); err != nil {
			return false, err
		}
		if err := tx.Emit(ctx, tenantID, EventShipmentCreated, "shipment", sh.ID, sh.Doc(view.FacilityCode)); err != nil {
			return false, err
		}
		if err := tx.Emit(ctx, tenantID, EventFulfillmentOrderFulfilled, "fulfillment_order", fo.ID, map[string]any{"fulfillment_order": view.Doc(), "shipment": sh.Doc(view.FacilityCode)}); err != nil {
			return false, err
		}
		// What is still owed waits on a stock hold again (as ShipReserved).
		return true, s.settleStockHold(ctx, tx, o)
	})
	if err != nil {
		return FulfillmentOrderView{}, Shipment{}, wrap(op, err)
	}
	if again {
		// Reported before: the shipment as it was recorded.
		view, err = s.FulfillmentOrder(ctx, tenantID, foID)
		return view, Shipment{ID: sh.ID, ExternalID: strings.TrimSpace(in.ExternalID)}, err
	}
	return view, sh, nil
}

// shipmentLines turns requested SKU quantities into order-line quantities
// from what is left at the facility (lines of one SKU in line order), or
// takes everything left when nothing is requested.
func shipmentLines(op string, o *Order, left map[string]int64, req []FulfillLine) ([]ShipmentLine, error) {
	var out []ShipmentLine
	if len(req) == 0 {
		for _, l := range o.Lines {
			if n := left[l.ID]; n > 0 {
				out = append(out, ShipmentLine{LineID: l.ID, SKU: l.SKU, Quantity: n})
			}
		}
		return out, nil
	}
	avail := map[string]int64{}
	for k, v := range left {
		avail[k] = v
	}
	taken := map[string]int{} // line id → index in out
	var fe errs.FieldList
	for i, r := range req {
		sku := strings.TrimSpace(r.SKU)
		var here int64
		for _, l := range o.Lines {
			if l.SKU == sku {
				here += avail[l.ID]
			}
		}
		if here == 0 {
			fe.Add(fmt.Sprintf("lines[%d].sku", i), "nothing of this SKU is left to fulfil at this facility", r.SKU)
			continue
		}
		if r.Quantity > here {
			fe.Add(fmt.Sprintf("lines[%d].quantity", i), fmt.Sprintf("only %d of %s are reserved here to fulfil", here, sku), r.Quantity)
			continue
		}
		n := r.Quantity
		for _, l := range o.Lines {
			if l.SKU != sku || avail[l.ID] == 0 || n == 0 {
				continue
			}
			u := min(n, avail[l.ID])
			avail[l.ID] -= u
			n -= u
			if j, ok := taken[l.ID]; ok {
				out[j].Quantity += u
			} else {
				taken[l.ID] = len(out)
				out = append(out, ShipmentLine{LineID: l.ID, SKU: l.SKU, Quantity: u})
			}
		}
	}
	if err := fe.Err(op); err != nil {
		return nil, err
	}
	return out, nil
}

// FulfillmentOrderDoc is a fulfilment order as the API shows it and as
// events carry it.
type FulfillmentOrderDoc struct {
	ID          string                 `json:"id"`
	OrderID     string                 `json:"order_id"`
	OrderNumber string                 `json:"order_number"`
	FacilityID  string                 `json:"facility_id"`
	Facility    string                 `json:"facility" doc:"The facility's code."`
	Status      FulfillmentOrderStatus `json:"status" enum:"OPEN,IN_PROGRESS,SCHEDULED,ON_HOLD,INCOMPLETE,CLOSED,CANCELLED"`
	FulfillAt   *time.Time             `json:"fulfill_at,omitempty" doc:"When a SCHEDULED fulfilment order opens."`
	HoldReason  string                 `json:"hold_reason,omitempty"`
	// RequestStatus is where the request to a 3PL or supplier stands.
	RequestStatus RequestStatus        `json:"request_status,omitempty" enum:"UNSUBMITTED,SUBMITTED,ACCEPTED,REJECTED,CANCELLATION_REQUESTED,CANCELLATION_ACCEPTED,CANCELLATION_REJECTED,CLOSED" doc:"Absent at the merchant's own facilities."`
	ProviderRef   string               `json:"provider_ref,omitempty" doc:"The provider's id for the request."`
	Pending       string               `json:"pending,omitempty" enum:"request,cancel,poll" doc:"What Waybill has still to send or ask."`
	Attempts      int                  `json:"attempts,omitempty"`
	NextAttemptAt *time.Time           `json:"next_attempt_at,omitempty"`
	LastError     string               `json:"last_error,omitempty"`
	Lines         []FulfillmentLineDoc `json:"lines"`
	CreatedAt     time.Time            `json:"created_at"`
	UpdatedAt     time.Time            `json:"updated_at"`
}

// FulfillmentLineDoc is an order line's part in a fulfilment order.
type FulfillmentLineDoc struct {
	LineID    string `json:"line_id"`
	SKU       string `json:"sku"`
	Quantity  int64  `json:"quantity" doc:"Units reserved at the facility, still to fulfil."`
	Fulfilled int64  `json:"fulfilled" doc:"Units shipped from this fulfilment order."`
}

// Doc is the wire shape of v.
func (v FulfillmentOrderView) Doc() FulfillmentOrderDoc {
	d := FulfillmentOrderDoc{ID: v.ID, OrderID: v.OrderID, OrderNumber: v.OrderNumber, FacilityID: v.FacilityID, Facility: v.FacilityCode, Status: v.Status, HoldReason: v.HoldReason, FulfillAt: v.FulfillAt,
		RequestStatus: v.RequestStatus, ProviderRef: v.ProviderRef, Pending: v.Pending, Attempts: v.Attempts, NextAttemptAt: v.NextAttemptAt, LastError: v.LastError,
		Lines: make([]FulfillmentLineDoc, 0, len(v.Lines)), CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
	for _, l := range v.Lines {
		d.Lines = append(d.Lines, FulfillmentLineDoc(l))
	}
	return d
}

// ShipmentDoc is a shipment as the API shows it and as events carry it.
type ShipmentDoc struct {
	ID                 string            `json:"id"`
	OrderID            string            `json:"order_id"`
	FulfillmentOrderID string            `json:"fulfillment_order_id"`
	FacilityID         string            `json:"facility_id"`
	Facility           string            `json:"facility"`
	Carrier            string            `json:"carrier,omitempty"`
	Service            string            `json:"service,omitempty"`
	TrackingNumber     string            `json:"tracking_number,omitempty"`
	TrackingURL        string            `json:"tracking_url,omitempty"`
	Lines              []ShipmentLineDoc `json:"lines"`
	CreatedAt          time.Time         `json:"created_at"`
}

// ShipmentLineDoc is one line of a shipment.
type ShipmentLineDoc struct {
	LineID   string `json:"line_id"`
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// Doc is the wire shape of sh; facility is its facility's code.
func (sh Shipment) Doc(facility string) ShipmentDoc {
	d := ShipmentDoc{ID: sh.ID, OrderID: sh.OrderID, FulfillmentOrderID: sh.FulfillmentOrderID, FacilityID: sh.FacilityID, Facility: facility,
		Carrier: sh.Carrier, Service: sh.Service, TrackingNumber: sh.TrackingNumber, TrackingURL: sh.TrackingURL,
		Lines: make([]ShipmentLineDoc, 0, len(sh.Lines)), CreatedAt: sh.CreatedAt}
	for _, l := range sh.Lines {
		d.Lines = append(d.Lines, ShipmentLineDoc(l))
	}
	return d
}
