package order

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/inventory"
)

// QuantityChange names a line and a quantity.
type QuantityChange struct {
	LineID   string
	Quantity int64
}

// EditInput changes an open order before it is fulfilled. Nil fields are
// left as they are.
type EditInput struct {
	AddLines        []LineInput
	SetQuantities   []QuantityChange // new quantity of a line; 0 removes it
	RemoveLines     []string
	ShippingAddress *Address
	BillingAddress  *Address
	Customer        *Customer
	Note            *string
	Tags            *[]string
}

// CancelReasons are Shopify's reasons for cancelling an order.
var CancelReasons = []string{"customer", "fraud", "inventory", "declined", "staff", "other"}

// CancelInput cancels a whole order (no Lines) or some units of some lines.
type CancelInput struct {
	Reason string
	Lines  []QuantityChange // quantity to cancel of each line
}

// Edit changes an open, not yet fulfilled order: lines added, quantities
// changed, lines removed, addresses, customer, note, tags. Stock is
// re-reserved to match, in the same transaction.
func (s *Service) Edit(ctx context.Context, tenantID, orderID string, in EditInput, actor string) (Order, error) {
	const op = "order.Edit"
	cur, err := s.store.Get(ctx, tenantID, orderID)
	if err != nil {
		return Order{}, errs.E(op, err)
	}
	var fe errs.FieldList
	ship := checkAddress(&fe, "shipping_address", in.ShippingAddress)
	bill := checkAddress(&fe, "billing_address", in.BillingAddress)
	var tags []string
	if in.Tags != nil {
		tags = NormalizeTags(&fe, "tags", *in.Tags)
	}
	if in.Note != nil {
		checkText(&fe, "note", *in.Note, 5000)
	}
	if in.Customer != nil {
		checkText(&fe, "customer.name", in.Customer.Name, 255)
	}
	var added []Line
	for i, l := range in.AddLines {
		added = append(added, buildLine(&fe, fmt.Sprintf("add_lines[%d]", i), i, l, cur.Currency))
	}
	for i, q := range in.SetQuantities {
		if q.Quantity < 0 || q.Quantity > MaxQuantity {
			fe.Add(fmt.Sprintf("set_quantities[%d].quantity", i), fmt.Sprintf("must be between 0 and %d", MaxQuantity), q.Quantity)
		}
		if _, ok := cur.Line(q.LineID); !ok {
			fe.Add(fmt.Sprintf("set_quantities[%d].line_id", i), "is not a line of this order", q.LineID)
		}
	}
	for i, lid := range in.RemoveLines {
		if _, ok := cur.Line(lid); !ok {
			fe.Add(fmt.Sprintf("remove_lines[%d]", i), "is not a line of this order", lid)
		}
	}
	if err := fe.Err(op); err != nil {
		return Order{}, err
	}
	items, err := s.items(ctx, tenantID, added, false)
	if err != nil {
		return Order{}, relabel(err, "lines[", "add_lines[")
	}
	for _, l := range cur.Lines {
		if _, ok := items[l.SKU]; !ok {
			items2, err := s.inv.Items(ctx, tenantID, []string{l.SKU})
			if err != nil {
				return Order{}, err
			}
			for k, v := range items2 {
				items[k] = v
			}
		}
	}
	facilities, err := s.inv.Candidates(ctx, tenantID)
	if err != nil {
		return Order{}, err
	}
	probe := cur
	probe.Lines = append(slices.Clone(cur.Lines), added...)
	route, err := s.route(ctx, &probe, facilities)
	if err != nil {
		return Order{}, err
	}
	emit := EventUpdated
	o, err := s.change(ctx, tenantID, orderID, route, &emit, func(tx Tx, o *Order) (bool, error) {
		if o.Status != Open {
			return false, errs.WithCode(errs.E(op, errs.Conflict, "the order is "+string(o.Status)+"; only open orders can be edited"), "order_not_open")
		}
		var what []string
		for _, q := range in.SetQuantities {
			l, _ := o.Line(q.LineID)
			if l.Quantity == q.Quantity {
				continue
			}
			if q.Quantity < l.Fulfilled {
				return false, errs.InvalidFields(op, errs.FieldError{Field: "set_quantities", Message: fmt.Sprintf("%s has %d fulfilled already", l.SKU, l.Fulfilled), Value: q.Quantity})
			}
			what = append(what, fmt.Sprintf("%s %d → %d", l.SKU, l.Quantity, q.Quantity))
			if err := s.setQuantity(ctx, tx, o, l, q.Quantity, items, facilities, actor); err != nil {
				return false, err
			}
		}
		for _, lid := range in.RemoveLines {
			l, _ := o.Line(lid)
			if l.Quantity == l.Fulfilled {
				continue
			}
			what = append(what, "removed "+l.SKU)
			if err := s.setQuantity(ctx, tx, o, l, l.Fulfilled, items, facilities, actor); err != nil {
				return false, err
			}
		}
		for _, l := range added {
			l.ID = id.New("oli")
			l.LineNo = len(o.Lines)
			l.ProductID = items[l.SKU].ID
			if err := s.allocate(ctx, tx, tenantID, &l, items, facilities, actor); err != nil {
				return false, err
			}
			o.Lines = append(o.Lines, l)
			what = append(what, fmt.Sprintf("added %d × %s", l.Quantity, l.SKU))
		}
		if ship != nil && *ship != deref(o.ShippingAddress) {
			o.ShippingAddress = ship
			what = append(what, "shipping address")
		}
		if bill != nil && *bill != deref(o.BillingAddress) {
			o.BillingAddress = bill
			what = append(what, "billing address")
		}
		if in.Customer != nil && *in.Customer != o.Customer {
			o.Customer = *in.Customer
			what = append(what, "customer")
		}
		if in.Note != nil && strings.TrimSpace(*in.Note) != o.Note {
			o.Note = strings.TrimSpace(*in.Note)
			what = append(what, "note")
		}
		if in.Tags != nil && !slices.Equal(tags, o.Tags) {
			o.Tags = tags
			what = append(what, "tags")
		}
		if len(what) == 0 {
			return false, nil
		}
		if o.activeQuantity() == 0 {
			return false, errs.InvalidFields(op, errs.FieldError{Field: "remove_lines", Message: "an order needs at least one line; cancel it instead", Value: len(in.RemoveLines)})
		}
		if err := s.event(ctx, tx, o, actor, "edited", "Edited: "+strings.Join(what, "; "), nil); err != nil {
			return false, err
		}
		return true, s.settleStockHold(ctx, tx, o)
	})
	return o, wrap(op, err)
}

func deref(a *Address) Address {
	if a == nil {
		return Address{}
	}
	return *a
}

// relabel renames field errors (lines[i] of a shared check → add_lines[i]).
func relabel(err error, from, to string) error {
	var e *errs.Error
	if !errors.As(err, &e) {
		return err
	}
	for i := range e.Fields {
		e.Fields[i].Field = strings.Replace(e.Fields[i].Field, from, to, 1)
	}
	return err
}

func (o *Order) activeQuantity() int64 {
	var n int64
	for _, l := range o.Lines {
		n += l.Quantity
	}
	return n
}

// setQuantity changes a line's quantity and makes its reservation match:
// units no longer needed are released, missing ones reserved.
func (s *Service) setQuantity(ctx context.Context, tx Tx, o *Order, l *Line, q int64, items map[string]inventory.Item, facilities []inventory.Facility, actor string) error {
	if q < l.Quantity {
		l.Cancelled += l.Quantity - q
	}
	l.Quantity = q
	if l.Reserved > l.Open() {
		if err := s.releaseLine(ctx, tx, o.TenantID, l, actor); err != nil {
			return err
		}
	}
	return s.allocate(ctx, tx, o.TenantID, l, items, facilities, actor)
}

// Cancel cancels a whole order, or some units of some lines, releasing
// their stock. Cancelling a cancelled order changes nothing. An order with
// fulfilled units cannot be cancelled whole: cancel its remaining lines.
func (s *Service) Cancel(ctx context.Context, tenantID, id string, in CancelInput, actor string) (Order, error) {
	const op = "order.Cancel"
	in.Reason = strings.ToLower(strings.TrimSpace(in.Reason))
	if in.Reason == "" {
		in.Reason = "other"
	}
	if !slices.Contains(CancelReasons, in.Reason) {
		return Order{}, errs.InvalidFields(op, errs.FieldError{Field: "reason", Message: "must be one of " + strings.Join(CancelReasons, ", "), Value: in.Reason})
	}
	items := map[string]inventory.Item{}
	var facilities []inventory.Facility
	if len(in.Lines) > 0 {
		cur, err := s.store.Get(ctx, tenantID, id)
		if err != nil {
			return Order{}, errs.E(op, err)
		}
		var fe errs.FieldList
		var skus []string
		for i, c := range in.Lines {
			l, ok := cur.Line(c.LineID)
			switch {
			case !ok:
				fe.Add(fmt.Sprintf("lines[%d].line_id", i), "is not a line of this order", c.LineID)
			case c.Quantity < 1 || c.Quantity > l.Open():
				fe.Add(fmt.Sprintf("lines[%d].quantity", i), fmt.Sprintf("must be between 1 and %d (the line's unfulfilled quantity)", l.Open()), c.Quantity)
			default:
				skus = append(skus, l.SKU)
			}
		}
		if err := fe.Err(op); err != nil {
			return Order{}, err
		}
		var err2 error
		if items, err2 = s.inv.Items(ctx, tenantID, skus); err2 != nil {
			return Order{}, err2
		}
		if facilities, err2 = s.inv.Candidates(ctx, tenantID); err2 != nil {
			return Order{}, err2
		}
	}
	var emit string
	var route Route
	if len(in.Lines) > 0 {
		cur, err := s.store.Get(ctx, tenantID, id)
		if err != nil {
			return Order{}, wrap(op, err)
		}
		if route, err = s.route(ctx, &cur, facilities); err != nil {
			return Order{}, err
		}
	}
	o, err := s.change(ctx, tenantID, id, route, &emit, func(tx Tx, o *Order) (bool, error) {
		if o.Status == Cancelled {
			return false, nil
		}
		if o.Status != Open {
			return false, errs.WithCode(errs.E(op, errs.Conflict, "the order is "+string(o.Status)), "order_not_open")
		}
		if len(in.Lines) == 0 {
			for _, l := range o.Lines {
				if l.Fulfilled > 0 {
					return false, errs.WithCode(errs.E(op, errs.Conflict, "the order has fulfilled units; cancel its remaining lines instead"), "order_partly_fulfilled")
				}
			}
			emit = EventCancelled
			return true, s.cancelTx(ctx, tx, o, in.Reason, actor)
		}
		var what []string
		for _, c := range in.Lines {
			l, _ := o.Line(c.LineID)
			if c.Quantity > l.Open() {
				return false, errs.InvalidFields(op, errs.FieldError{Field: "lines", Message: fmt.Sprintf("only %d of %s left to cancel", l.Open(), l.SKU), Value: c.Quantity})
			}
			what = append(what, fmt.Sprintf("%d × %s", c.Quantity, l.SKU))
			if err := s.setQuantity(ctx, tx, o, l, l.Quantity-c.Quantity, items, facilities, actor); err != nil {
				return false, err
			}
		}
		if o.activeQuantity() == 0 {
			emit = EventCancelled
			return true, s.cancelTx(ctx, tx, o, in.Reason, actor)
		}
		emit = EventUpdated
		if err := s.event(ctx, tx, o, actor, "lines_cancelled", "Cancelled "+strings.Join(what, ", ")+" ("+in.Reason+")", nil); err != nil {
			return false, err
		}
		return true, s.settleStockHold(ctx, tx, o)
	})
	return o, wrap(op, err)
}

// cancelTx cancels what is left of an order and releases its holds.
func (s *Service) cancelTx(ctx context.Context, tx Tx, o *Order, reason, actor string) error {
	for i := range o.Lines {
		l := &o.Lines[i]
		if l.Reserved > 0 {
			if err := s.releaseLine(ctx, tx, o.TenantID, l, actor); err != nil {
				return err
			}
		}
		open := l.Open()
		l.Cancelled += open
		l.Quantity -= open
		l.Backordered = 0
	}
	for _, h := range slices.Clone(o.Holds) {
		if err := s.releaseHold(ctx, tx, o, h, "system"); err != nil {
			return err
		}
	}
	now := s.now()
	o.Status = Cancelled
	o.CancelledAt = &now
	o.CancelReason = reason
	return s.event(ctx, tx, o, actor, "cancelled", "Order cancelled ("+reason+")", map[string]any{"reason": reason})
}

// ShipReserved records that every reserved unit of an order has shipped:
// the reservations are consumed (on hand and reserved fall together in the
// ledger), lines count the units as fulfilled, and an order with nothing
// left to fulfil is closed. Backordered units stay open. Fulfilment orders
// (per facility, with carrier and tracking) build on this.
func (s *Service) ShipReserved(ctx context.Context, tenantID, orderID, actor string) (Order, error) {
	const op = "order.ShipReserved"
	emit := EventUpdated
	o, err := s.change(ctx, tenantID, orderID, Route{}, &emit, func(tx Tx, o *Order) (bool, error) {
		if o.Status != Open {
			return false, errs.WithCode(errs.E(op, errs.Conflict, "the order is "+string(o.Status)), "order_not_open")
		}
		if o.OnHold() {
			return false, errs.WithCode(errs.E(op, errs.Conflict, "the order is on hold"), "order_on_hold")
		}
		var what []string
		for i := range o.Lines {
			l := &o.Lines[i]
			if l.Reserved == 0 {
				continue
			}
			ids, err := tx.LineReservations(ctx, tenantID, l.ID)
			if err != nil {
				return false, err
			}
			for _, rid := range ids {
				if err := s.inv.CloseIn(ctx, tx, tenantID, rid, inventory.Consumed, actor); err != nil {
					return false, err
				}
			}
			what = append(what, fmt.Sprintf("%d × %s", l.Reserved, l.SKU))
			l.Fulfilled += l.Reserved
			l.Reserved = 0
		}
		if len(what) == 0 {
			// Nothing to ship; a stock hold released to ship part of the
			// order comes back while units are still owed.
			before := len(o.Holds)
			err := s.settleStockHold(ctx, tx, o)
			return len(o.Holds) != before, err
		}
		o.deriveFulfillment()
		if o.Fulfillment == Fulfilled {
			o.Status = Closed
		}
		if err := s.event(ctx, tx, o, actor, "fulfilled", "Shipped "+strings.Join(what, ", "), nil); err != nil {
			return false, err
		}
		// What is still owed waits on a stock hold again.
		return true, s.settleStockHold(ctx, tx, o)
	})
	return o, wrap(op, err)
}
