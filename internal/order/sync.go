package order

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/inventory"
)

// syncTx brings a stored order up to what a newer channel input says: a
// cancellation, changed lines (matched by the channel's line id, else by
// SKU), customer, addresses, payment status, risk, tags and note.
// It reports false, changing nothing, when the locked order turns out to be
// as new as the input already: another delivery got there first.
func (s *Service) syncTx(ctx context.Context, tx Tx, stored, in Order, items map[string]inventory.Item, facilities []inventory.Facility, raw Input, actor string) (Order, bool, error) {
	o, err := tx.Lock(ctx, stored.TenantID, stored.ID)
	if err != nil {
		return Order{}, false, err
	}
	if !newer(in.ChannelUpdatedAt, o.ChannelUpdatedAt) {
		return o, false, nil
	}
	o.ChannelUpdatedAt = in.ChannelUpdatedAt
	emit := EventUpdated
	var what []string
	if o.Status == Open && raw.Cancelled {
		reason := strings.ToLower(raw.CancelReason)
		if !slices.Contains(CancelReasons, reason) {
			reason = "other"
		}
		if err := s.cancelTx(ctx, tx, &o, reason, actor); err != nil {
			return Order{}, false, err
		}
		emit = EventCancelled
	} else if o.Status == Open {
		used := map[string]bool{}
		for _, nl := range in.Lines {
			l := matchLine(&o, nl, used)
			if l == nil {
				nl.ID = id.New("oli")
				nl.LineNo = len(o.Lines)
				nl.ProductID = items[nl.SKU].ID
				if err := s.allocate(ctx, tx, o.TenantID, &nl, items, facilities, actor); err != nil {
					return Order{}, false, err
				}
				o.Lines = append(o.Lines, nl)
				used[nl.ID] = true
				what = append(what, fmt.Sprintf("added %d × %s", nl.Quantity, nl.SKU))
				continue
			}
			used[l.ID] = true
			l.UnitPrice, l.Discount, l.TaxLines, l.Name = nl.UnitPrice, nl.Discount, nl.TaxLines, nl.Name
			if q := max(nl.Quantity, l.Fulfilled); q != l.Quantity {
				what = append(what, fmt.Sprintf("%s %d → %d", l.SKU, l.Quantity, q))
				if err := s.setQuantity(ctx, tx, &o, l, q, items, facilities, actor); err != nil {
					return Order{}, false, err
				}
			}
		}
		for i := range o.Lines {
			l := &o.Lines[i]
			if !used[l.ID] && l.Quantity > l.Fulfilled {
				what = append(what, "removed "+l.SKU)
				if err := s.setQuantity(ctx, tx, &o, l, l.Fulfilled, items, facilities, actor); err != nil {
					return Order{}, false, err
				}
			}
		}
		if !(len(in.ShippingLines) == 0 && len(o.ShippingLines) == 0) && !reflect.DeepEqual(in.ShippingLines, o.ShippingLines) {
			o.ShippingLines = in.ShippingLines
			what = append(what, "shipping lines")
		}
		if in.ShippingAddress != nil && deref(in.ShippingAddress) != deref(o.ShippingAddress) {
			o.ShippingAddress = in.ShippingAddress
			what = append(what, "shipping address")
		}
	}
	if in.BillingAddress != nil && deref(in.BillingAddress) != deref(o.BillingAddress) {
		o.BillingAddress = in.BillingAddress
		what = append(what, "billing address")
	}
	if in.Customer != o.Customer {
		o.Customer = in.Customer
		what = append(what, "customer")
	}
	if in.PaymentStatus != "" && in.PaymentStatus != o.PaymentStatus {
		what = append(what, "payment "+in.PaymentStatus)
		o.PaymentStatus = in.PaymentStatus
	}
	if in.RiskLevel != "" && in.RiskLevel != o.RiskLevel {
		what = append(what, "risk "+in.RiskLevel)
		o.RiskLevel = in.RiskLevel
	}
	if !slices.Equal(in.Tags, o.Tags) {
		o.Tags = in.Tags
		what = append(what, "tags")
	}
	if in.Note != o.Note {
		o.Note = in.Note
		what = append(what, "note")
	}
	o.TaxesIncluded = in.TaxesIncluded
	if len(what) > 0 {
		if err := s.event(ctx, tx, &o, actor, "synced", "Updated by "+o.Channel+": "+strings.Join(what, "; "), nil); err != nil {
			return Order{}, false, err
		}
	}
	if o.Status == Open {
		if o.PaymentStatus == "paid" || o.PaymentStatus == "authorized" {
			for _, h := range slices.Clone(o.Holds) {
				if h.Reason == AwaitingPayment && h.CreatedBy == "system" {
					if err := s.releaseHold(ctx, tx, &o, h, "system"); err != nil {
						return Order{}, false, err
					}
				}
			}
		}
		if o.RiskLevel == "high" && !o.HasHold(HighRiskOfFraud) {
			if err := s.addHold(ctx, tx, &o, HighRiskOfFraud, "the channel rates this order high risk", "system"); err != nil {
				return Order{}, false, err
			}
		}
		if err := s.settleStockHold(ctx, tx, &o); err != nil {
			return Order{}, false, err
		}
	}
	o.UpdatedAt = s.now()
	o.computeTotals()
	o.deriveFulfillment()
	if err := tx.Update(ctx, &o); err != nil {
		return Order{}, false, err
	}
	return o, true, tx.Emit(ctx, o.TenantID, emit, "order", o.ID, o.Doc())
}

// matchLine finds the stored line an input line describes.
func matchLine(o *Order, nl Line, used map[string]bool) *Line {
	for i := range o.Lines {
		l := &o.Lines[i]
		if !used[l.ID] && nl.ExternalID != "" && l.ExternalID == nl.ExternalID {
			return l
		}
	}
	for i := range o.Lines {
		l := &o.Lines[i]
		if !used[l.ID] && nl.ExternalID == "" && l.SKU == nl.SKU {
			return l
		}
	}
	return nil
}

// AllocateBackorders reserves stock that has arrived for backordered
// lines, oldest orders first, and releases INVENTORY_OUT_OF_STOCK holds
// that are no longer needed. It returns how many orders gained stock.
func (s *Service) AllocateBackorders(ctx context.Context) (int, error) {
	refs, err := s.store.Backorders(ctx, 200)
	if err != nil {
		return 0, err
	}
	n := 0
	facs := map[string][]inventory.Facility{}
	for _, ref := range refs {
		tenantID, orderID := ref[0], ref[1]
		if _, ok := facs[tenantID]; !ok {
			if facs[tenantID], err = s.inv.Candidates(ctx, tenantID); err != nil {
				return n, err
			}
		}
		cur, err := s.store.Get(ctx, tenantID, orderID)
		if err != nil {
			return n, err
		}
		var skus []string
		for _, l := range cur.Lines {
			if l.Backordered > 0 {
				skus = append(skus, l.SKU)
			}
		}
		items, err := s.inv.Items(ctx, tenantID, skus)
		if err != nil {
			return n, err
		}
		route, err := s.route(ctx, &cur, facs[tenantID])
		if err != nil {
			return n, err
		}
		emit := EventUpdated
		gained := false
		_, err = s.change(ctx, tenantID, orderID, route, &emit, func(tx Tx, o *Order) (bool, error) {
			if o.Status != Open {
				return false, nil
			}
			var what []string
			for i := range o.Lines {
				l := &o.Lines[i]
				if l.Backordered == 0 {
					continue
				}
				before := l.Reserved
				if l.ProductID == "" {
					l.ProductID = items[l.SKU].ID
				}
				if err := s.allocate(ctx, tx, tenantID, l, items, facs[tenantID], "system"); err != nil {
					return false, err
				}
				if l.Reserved > before {
					what = append(what, fmt.Sprintf("%d × %s", l.Reserved-before, l.SKU))
				}
			}
			if len(what) == 0 {
				return false, nil
			}
			gained = true
			if err := s.event(ctx, tx, o, "system", "stock_reserved", "Stock arrived and was reserved: "+strings.Join(what, ", "), nil); err != nil {
				return false, err
			}
			return true, s.settleStockHold(ctx, tx, o)
		})
		if err != nil {
			return n, err
		}
		if gained {
			n++
		}
	}
	return n, nil
}
