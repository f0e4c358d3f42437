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

// Tx is the store's side of one order transaction. It is also an inventory
// transaction, so an order and the stock it holds change together.
type Tx interface {
	inventory.Tx
	FulfillmentTx // fulfill.go
	// Lock reads an order for change (row-locked on PostgreSQL).
	Lock(ctx context.Context, tenantID, id string) (Order, error)
	// BySource finds an order by its source and external id.
	BySource(ctx context.Context, tenantID, source, externalID string) (Order, bool, error)
	// NextNumber takes the tenant's next order number (gapless counter).
	NextNumber(ctx context.Context, tenantID string) (int64, error)
	Insert(ctx context.Context, o *Order) error
	// Update writes the order's header, lines, tags and search terms.
	Update(ctx context.Context, o *Order) error
	AddHold(ctx context.Context, tenantID, orderID string, h Hold) error
	ReleaseHold(ctx context.Context, tenantID, holdID, by string, at time.Time) error
	AddEvent(ctx context.Context, tenantID string, e Event) error
	// LineReservations lists the active reservations held for a line.
	LineReservations(ctx context.Context, tenantID, lineID string) ([]string, error)
}

// Store is what orders need from the database.
type Store interface {
	InTx(ctx context.Context, fn func(Tx) error) error
	// ReadTx runs fn in a read-only transaction that locks nothing; fn
	// must not write.
	ReadTx(ctx context.Context, fn func(Tx) error) error
	Get(ctx context.Context, tenantID, id string) (Order, error)
	List(ctx context.Context, tenantID string, f Filter) ([]Order, error)
	Timeline(ctx context.Context, tenantID, orderID string) ([]Event, error)
	// Backorders lists open orders, oldest first, with backordered lines
	// whose SKU has stock available somewhere now.
	Backorders(ctx context.Context, limit int) ([][2]string, error)
	// DueRequests lists fulfilment orders (tenant, id) with dispatcher
	// work due at now, whose fulfilment order and order are not on hold.
	DueRequests(ctx context.Context, now time.Time, limit int) ([][2]string, error)
	RequestMessages(ctx context.Context, tenantID, foID string) ([]RequestMessage, error)
	// ScheduledDue lists SCHEDULED fulfilment orders (tenant, id) whose
	// FulfillAt has come.
	ScheduledDue(ctx context.Context, now time.Time, limit int) ([][2]string, error)
	// RetryFacility makes a facility's waiting dispatcher work due now.
	RetryFacility(ctx context.Context, tenantID, facilityID string) (int, error)
}

// Service is the orders API.
type Service struct {
	store  Store
	inv    *inventory.Service
	router Router
	coster Coster
	now    func() time.Time
}

// NewService returns the order service.
func NewService(store Store, inv *inventory.Service) *Service {
	return &Service{store: store, inv: inv, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Outcome is what Sync did with an input.
type Outcome string

const (
	OutcomeCreated   Outcome = "created"
	OutcomeUpdated   Outcome = "updated"
	OutcomeUnchanged Outcome = "unchanged" // same or older than what is stored
)

// Event types the order service publishes.
const (
	EventCreated      = "order.created"
	EventUpdated      = "order.updated"
	EventCancelled    = "order.cancelled"
	EventHoldAdded    = "order.hold_added"
	EventHoldReleased = "order.hold_released"
)

// Create records a new order and reserves its stock. The same source and
// external id again returns the order already stored (created false) and
// changes nothing.
func (s *Service) Create(ctx context.Context, tenantID string, in Input, actor string) (Order, bool, error) {
	o, outcome, err := s.ingest(ctx, tenantID, in, actor, false)
	return o, outcome == OutcomeCreated, err
}

// Sync applies what a channel says of an order: creates it, or brings a
// stored one up to date when the input is newer (UpdatedAt) than what is
// stored; older or equal inputs change nothing, so a duplicated or
// reordered stream of webhooks ends in the latest state.
func (s *Service) Sync(ctx context.Context, tenantID string, in Input, actor string) (Order, Outcome, error) {
	return s.ingest(ctx, tenantID, in, actor, true)
}

func (s *Service) ingest(ctx context.Context, tenantID string, in Input, actor string, update bool) (Order, Outcome, error) {
	const op = "order.Create"
	now := s.now()
	draft, err := in.build(now)
	if err != nil {
		return Order{}, "", err
	}
	items, err := s.items(ctx, tenantID, draft.Lines, in.AllowUnknownSKUs)
	if err != nil {
		return Order{}, "", err
	}
	facilities, err := s.inv.Candidates(ctx, tenantID)
	if err != nil {
		return Order{}, "", err
	}
	draft.TenantID = tenantID
	route, err := s.route(ctx, &draft, facilities)
	if err != nil {
		return Order{}, "", err
	}
	var out Order
	var outcome Outcome
	err = s.inTx(ctx, tenantID, route, func(tx Tx) error {
		o := draft // a retried transaction starts again from the draft
		o.Lines = slices.Clone(draft.Lines)
		if o.ExternalID != "" {
			existing, found, err := tx.BySource(ctx, tenantID, o.Source(), o.ExternalID)
			if err != nil {
				return err
			}
			if found {
				if !update || !newer(o.ChannelUpdatedAt, existing.ChannelUpdatedAt) {
					out, outcome = existing, OutcomeUnchanged
					return nil
				}
				var applied bool
				out, applied, err = s.syncTx(ctx, tx, existing, o, items, facilities, in, actor)
				tx.(*settling).touch(out.ID, out.Status == Cancelled)
				outcome = OutcomeUpdated
				if !applied {
					outcome = OutcomeUnchanged
				}
				return err
			}
		}
		levels, err := s.lockStock(ctx, tx, tenantID, o.Lines, items, facilities)
		if err != nil {
			return err
		}
		o.ID = id.New("ord")
		o.TenantID = tenantID
		o.CreatedAt, o.UpdatedAt = now, now
		if o.ExternalID == "" {
			o.ExternalID = o.ID
		}
		if o.Number == "" {
			n, err := tx.NextNumber(ctx, tenantID)
			if err != nil {
				return err
			}
			o.Number = fmt.Sprintf("#%d", n)
		}
		for i := range o.Lines {
			o.Lines[i].ID = id.New("oli")
			o.Lines[i].ProductID = items[o.Lines[i].SKU].ID
			if o.Lines[i].Name == "" {
				// Packing slips and purchase orders need a name.
				o.Lines[i].Name = items[o.Lines[i].SKU].Name
			}
		}
		if in.Cancelled {
			o.Status = Cancelled
			o.CancelledAt = &now
			o.CancelReason = in.CancelReason
			for i := range o.Lines {
				o.Lines[i].Cancelled, o.Lines[i].Quantity = o.Lines[i].Quantity, 0
			}
		}
		if in.Fulfilled && !in.Cancelled {
			o.Status, o.Fulfillment = Closed, Fulfilled
			for i := range o.Lines {
				o.Lines[i].Fulfilled = o.Lines[i].Quantity
			}
		}
		if o.Status == Open && o.Fulfillment == Unfulfilled {
			// A new order's lines go where the sourcing plan says (fewest
			// shipments among the facilities the rules allow); what the
			// plan could not place is tried in preference order, as later
			// allocations are.
			plan := route.plan(&o, items, facilities, levels)
			for i := range o.Lines {
				for _, part := range plan[i] {
					if err := s.allocateAt(ctx, tx, tenantID, &o.Lines[i], items, part.facility, part.quantity, actor); err != nil {
						return err
					}
				}
			}
		}
		for i := range o.Lines {
			if err := s.allocate(ctx, tx, tenantID, &o.Lines[i], items, facilities, actor); err != nil {
				return err
			}
		}
		if err := tx.Insert(ctx, &o); err != nil {
			return err
		}
		if err := s.event(ctx, tx, &o, actor, "created", "Order "+o.Number+" received from "+o.Channel, nil); err != nil {
			return err
		}
		if o.Status == Open {
			hs := automaticHolds(&o)
			if route.Hold != nil {
				hs = append(hs, autoHold{route.Hold.Reason, route.Hold.Note})
			}
			if skus := route.unroutable(&o, facilities); len(skus) > 0 {
				hs = append(hs, autoHold{OtherHold, "routing rules leave no facility for " + strings.Join(skus, ", ")})
			}
			for _, h := range hs {
				if o.HasHold(h.reason) {
					continue
				}
				if err := s.addHold(ctx, tx, &o, h.reason, h.note, "system"); err != nil {
					return err
				}
			}
		}
		if err := tx.Emit(ctx, tenantID, EventCreated, "order", o.ID, o.Doc()); err != nil {
			return err
		}
		st := tx.(*settling)
		st.touch(o.ID, false)
		st.created[o.ID] = true
		for _, f := range facilities {
			st.known[f.ID] = f
		}
		out, outcome = o, OutcomeCreated
		return nil
	})
	if err != nil {
		return Order{}, "", errs.E(op, err)
	}
	return out, outcome, nil
}

func newer(in, stored *time.Time) bool {
	if in == nil {
		return false // without a time there is no way to tell: keep what we have
	}
	return stored == nil || in.After(*stored)
}

type autoHold struct {
	reason HoldReason
	note   string
}

// automaticHolds are the holds a new order gets from what it says.
func automaticHolds(o *Order) []autoHold {
	var hs []autoHold
	if o.PaymentStatus == "pending" {
		hs = append(hs, autoHold{AwaitingPayment, "payment is pending"})
	}
	if o.RiskLevel == "high" {
		hs = append(hs, autoHold{HighRiskOfFraud, "the channel rates this order high risk"})
	}
	if short := backorderNote(o); short != "" {
		hs = append(hs, autoHold{InventoryOutOfStock, short})
	}
	return hs
}

func backorderNote(o *Order) string {
	var parts []string
	for _, l := range o.Lines {
		if l.Backordered > 0 {
			parts = append(parts, fmt.Sprintf("%d × %s", l.Backordered, l.SKU))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "not enough stock: " + strings.Join(parts, ", ")
}

// items resolves the SKUs of lines. Unknown or archived SKUs are field
// errors unless allowed (channel orders), when they stay unmatched.
func (s *Service) items(ctx context.Context, tenantID string, lines []Line, allowUnknown bool) (map[string]inventory.Item, error) {
	skus := make([]string, 0, len(lines))
	for _, l := range lines {
		skus = append(skus, l.SKU)
	}
	items, err := s.inv.Items(ctx, tenantID, skus)
	if err != nil {
		return nil, err
	}
	var fe errs.FieldList
	for _, l := range lines {
		it, ok := items[l.SKU]
		switch {
		case ok && it.Archived && !allowUnknown:
			fe.Add(fmt.Sprintf("lines[%d].sku", l.LineNo), "is archived", l.SKU)
		case !ok && !allowUnknown:
			fe.Add(fmt.Sprintf("lines[%d].sku", l.LineNo), "no product has this SKU", l.SKU)
		case ok && it.Archived:
			delete(items, l.SKU)
		}
	}
	return items, fe.Err("order.items")
}

// lockStock locks every balance the lines can reserve from, in one query
// and one fixed order, before any is changed: two orders that share SKUs
// then queue behind each other instead of deadlocking.
func (s *Service) lockStock(ctx context.Context, tx Tx, tenantID string, lines []Line, items map[string]inventory.Item, facilities []inventory.Facility) (map[[2]string]inventory.Level, error) {
	var pids, facIDs []string
	for _, l := range lines {
		it, ok := items[l.SKU]
		if !ok {
			continue
		}
		if len(it.Components) == 0 {
			pids = append(pids, it.ID)
		}
		for _, c := range it.Components {
			pids = append(pids, c.ProductID)
		}
	}
	for _, f := range facilities {
		facIDs = append(facIDs, f.ID)
	}
	slices.Sort(pids)
	return tx.Levels(ctx, tenantID, slices.Compact(pids), facIDs)
}

// settling is an order transaction that remembers the balances its
// reservations changed, so their low-stock checks run once, at the end.
type settling struct {
	Tx
	touched map[string][]string
	route   Route
	orders  []string        // orders whose stock may have moved
	gone    map[string]bool // of those, the ones cancelled
	created map[string]bool // of those, the ones this transaction created
	known   map[string]inventory.Facility
}

// touch marks an order whose fulfilment orders are brought in line with
// its reservations before the commit: opened where stock is held, and
// cancelled (asking the 3PL first) when the order was.
func (t *settling) touch(orderID string, cancelled bool) {
	if orderID != "" && !slices.Contains(t.orders, orderID) {
		t.orders = append(t.orders, orderID)
	}
	if cancelled {
		t.gone[orderID] = true
	}
}

func (t *settling) note(a inventory.Allocation) {
	t.touched[a.FacilityID] = append(t.touched[a.FacilityID], a.ProductIDs...)
}

// inTx runs fn in one order transaction and settles the stock it reserved
// before the commit.
func (s *Service) inTx(ctx context.Context, tenantID string, route Route, fn func(Tx) error) error {
	return s.store.InTx(ctx, func(raw Tx) error {
		tx := &settling{Tx: raw, touched: map[string][]string{}, route: route, gone: map[string]bool{}, created: map[string]bool{}, known: map[string]inventory.Facility{}}
		if err := fn(tx); err != nil {
			return err
		}
		for _, orderID := range tx.orders {
			if tx.gone[orderID] {
				if err := s.cancelFulfillmentOrders(ctx, tx, tenantID, orderID); err != nil {
					return err
				}
				continue
			}
			if err := s.openFulfillmentOrders(ctx, tx, tenantID, orderID); err != nil {
				return err
			}
			if !tx.created[orderID] {
				if err := s.tidyFulfillmentOrders(ctx, tx, tenantID, orderID); err != nil {
					return err
				}
			}
		}
		return s.inv.Settle(ctx, tx, tenantID, tx.touched)
	})
}

// allocate reserves what the line still owes (open quantity less what is
// reserved) and sets Reserved and Backordered.
func (s *Service) allocate(ctx context.Context, tx Tx, tenantID string, l *Line, items map[string]inventory.Item, facilities []inventory.Facility, actor string) error {
	owed := l.Open() - l.Reserved
	facilities = tx.(*settling).route.facilitiesFor(l.SKU, facilities)
	if it, ok := items[l.SKU]; ok && owed > 0 {
		a, err := s.inv.ReserveIn(ctx, tx, tenantID, it, owed, facilities, inventory.RefOrderLine, l.ID, actor)
		if err != nil {
			return err
		}
		if a.Reserved > 0 {
			l.Reserved += a.Reserved
			l.FacilityID = a.FacilityID
			tx.(*settling).note(a)
		}
	}
	l.Backordered = max(l.Open()-l.Reserved, 0)
	return nil
}

// allocateAt reserves up to qty more units of a line at one facility.
func (s *Service) allocateAt(ctx context.Context, tx Tx, tenantID string, l *Line, items map[string]inventory.Item, f inventory.Facility, qty int64, actor string) error {
	it, ok := items[l.SKU]
	if !ok || qty <= 0 {
		return nil
	}
	a, err := s.inv.ReserveIn(ctx, tx, tenantID, it, min(qty, l.Open()-l.Reserved), []inventory.Facility{f}, inventory.RefOrderLine, l.ID, actor)
	if err != nil || a.Reserved == 0 {
		return err
	}
	l.Reserved += a.Reserved
	l.FacilityID = a.FacilityID
	tx.(*settling).note(a)
	l.Backordered = max(l.Open()-l.Reserved, 0)
	return nil
}

// releaseLine gives back every unit a line holds.
func (s *Service) releaseLine(ctx context.Context, tx Tx, tenantID string, l *Line, actor string) error {
	ids, err := tx.LineReservations(ctx, tenantID, l.ID)
	if err != nil {
		return err
	}
	for _, rid := range ids {
		if err := s.inv.CloseIn(ctx, tx, tenantID, rid, inventory.Released, actor); err != nil {
			return err
		}
	}
	l.Reserved = 0
	l.FacilityID = ""
	return nil
}

func (s *Service) event(ctx context.Context, tx Tx, o *Order, actor, kind, msg string, data map[string]any) error {
	return tx.AddEvent(ctx, o.TenantID, Event{ID: id.New("oev"), OrderID: o.ID, At: s.now(), Actor: actor, Kind: kind, Message: msg, Data: data})
}

func (s *Service) addHold(ctx context.Context, tx Tx, o *Order, reason HoldReason, note, actor string) error {
	h := Hold{ID: id.New("hld"), Reason: reason, Note: note, CreatedBy: actor, CreatedAt: s.now()}
	if err := tx.AddHold(ctx, o.TenantID, o.ID, h); err != nil {
		return err
	}
	o.Holds = append(o.Holds, h)
	msg := "On hold: " + string(reason)
	if note != "" {
		msg += " — " + note
	}
	if err := s.event(ctx, tx, o, actor, "hold_added", msg, map[string]any{"reason": reason, "hold_id": h.ID}); err != nil {
		return err
	}
	return tx.Emit(ctx, o.TenantID, EventHoldAdded, "order", o.ID, map[string]any{"order": o.Doc(), "hold": HoldDoc{ID: h.ID, Reason: reason, Note: note, CreatedBy: actor, CreatedAt: h.CreatedAt}})
}

func (s *Service) releaseHold(ctx context.Context, tx Tx, o *Order, h Hold, actor string) error {
	if err := tx.ReleaseHold(ctx, o.TenantID, h.ID, actor, s.now()); err != nil {
		return err
	}
	o.Holds = slices.DeleteFunc(o.Holds, func(x Hold) bool { return x.ID == h.ID })
	if err := s.event(ctx, tx, o, actor, "hold_released", "Hold released: "+string(h.Reason), map[string]any{"reason": h.Reason, "hold_id": h.ID}); err != nil {
		return err
	}
	return tx.Emit(ctx, o.TenantID, EventHoldReleased, "order", o.ID, map[string]any{"order": o.Doc(), "hold": HoldDoc{ID: h.ID, Reason: h.Reason, Note: h.Note, CreatedBy: h.CreatedBy, CreatedAt: h.CreatedAt}})
}

// settleStockHold puts the order on an INVENTORY_OUT_OF_STOCK hold while
// any line is backordered, and releases that hold once none is.
func (s *Service) settleStockHold(ctx context.Context, tx Tx, o *Order) error {
	note := backorderNote(o)
	has := o.HasHold(InventoryOutOfStock)
	switch {
	case o.Status != Open:
		return nil
	case note != "" && !has:
		return s.addHold(ctx, tx, o, InventoryOutOfStock, note, "system")
	case note == "" && has:
		for _, h := range o.Holds {
			if h.Reason == InventoryOutOfStock {
				return s.releaseHold(ctx, tx, o, h, "system")
			}
		}
	}
	return nil
}

// Get returns one order.
func (s *Service) Get(ctx context.Context, tenantID, id string) (Order, error) {
	return s.store.Get(ctx, tenantID, id)
}

// Timeline returns an order's history, oldest first.
func (s *Service) Timeline(ctx context.Context, tenantID, id string) ([]Event, error) {
	if _, err := s.store.Get(ctx, tenantID, id); err != nil {
		return nil, err
	}
	return s.store.Timeline(ctx, tenantID, id)
}

// change runs fn on a locked order and, when fn changed it, stores it with
// new totals and emits the event *emit names as fn left it (none when emit
// is nil or empty).
func (s *Service) change(ctx context.Context, tenantID, id string, route Route, emit *string, fn func(tx Tx, o *Order) (changed bool, err error)) (Order, error) {
	var out Order
	err := s.inTx(ctx, tenantID, route, func(tx Tx) error {
		o, err := tx.Lock(ctx, tenantID, id)
		if err != nil {
			return err
		}
		changed, err := fn(tx, &o)
		if err != nil {
			return err
		}
		if changed {
			tx.(*settling).touch(o.ID, o.Status == Cancelled)
		}
		if changed {
			o.UpdatedAt = s.now()
			o.computeTotals()
			o.deriveFulfillment()
			if err := tx.Update(ctx, &o); err != nil {
				return err
			}
			if emit != nil && *emit != "" {
				if err := tx.Emit(ctx, tenantID, *emit, "order", o.ID, o.Doc()); err != nil {
					return err
				}
			}
		}
		out = o
		return nil
	})
	return out, err
}

// AddHold puts an order on hold for reason. A hold with the same reason
// already active is kept as it is (idempotent).
func (s *Service) AddHold(ctx context.Context, tenantID, id string, reason HoldReason, note, actor string) (Order, error) {
	const op = "order.AddHold"
	if !slices.Contains(HoldReasons, reason) {
		return Order{}, errs.InvalidFields(op, errs.FieldError{Field: "reason", Message: "must be one of " + joinReasons(), Value: string(reason)})
	}
	note = strings.TrimSpace(note)
	if len(note) > 1000 {
		return Order{}, errs.InvalidFields(op, errs.FieldError{Field: "note", Message: "must be at most 1000 characters", Value: note})
	}
	o, err := s.change(ctx, tenantID, id, Route{}, nil, func(tx Tx, o *Order) (bool, error) {
		if o.Status != Open {
			return false, errs.WithCode(errs.E(op, errs.Conflict, "the order is "+string(o.Status)), "order_not_open")
		}
		if o.HasHold(reason) {
			return false, nil
		}
		return true, s.addHold(ctx, tx, o, reason, note, actor)
	})
	return o, wrap(op, err)
}

// ReleaseHold releases the active hold with reason (or with that hold id).
// Releasing a hold that is not active changes nothing.
func (s *Service) ReleaseHold(ctx context.Context, tenantID, id, reasonOrID, actor string) (Order, error) {
	const op = "order.ReleaseHold"
	o, err := s.change(ctx, tenantID, id, Route{}, nil, func(tx Tx, o *Order) (bool, error) {
		for _, h := range o.Holds {
			if string(h.Reason) == reasonOrID || h.ID == reasonOrID {
				return true, s.releaseHold(ctx, tx, o, h, actor)
			}
		}
		if !strings.HasPrefix(reasonOrID, "hld_") && !slices.Contains(HoldReasons, HoldReason(reasonOrID)) {
			return false, errs.InvalidFields(op, errs.FieldError{Field: "reason", Message: "must be one of " + joinReasons(), Value: reasonOrID})
		}
		return false, nil
	})
	return o, wrap(op, err)
}

func joinReasons() string {
	var ss []string
	for _, r := range HoldReasons {
		ss = append(ss, string(r))
	}
	return strings.Join(ss, ", ")
}

// wrap adds op to a non-nil error.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return errs.E(op, err)
}
