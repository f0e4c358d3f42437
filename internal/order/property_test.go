package order_test

import (
	"context"
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/testenv"
)

// Random sequences of order intake, edits, cancellations, holds, stock
// arriving and shipping: after every step the ledger agrees with the
// balances, no balance is oversold, every open line's reserved +
// backordered is what it still owes, each SKU's reserved balance is exactly
// what the lines hold, and every total adds up.
func TestOrderStockInvariants(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		skus := []string{"A", "B", "C"}
		for _, s := range skus {
			f.product(t, s, false)
		}
		var ids []string
		n := 0
		rapid.Check(t, func(rt *rapid.T) {
			for step := 0; step < 12; step++ {
				switch rapid.IntRange(0, 6).Draw(rt, "op") {
				case 0, 1: // a new order of 1–3 lines
					var lines []order.LineInput
					for i := rapid.IntRange(1, 3).Draw(rt, "lines"); i > 0; i-- {
						lines = append(lines, order.LineInput{SKU: rapid.SampledFrom(skus).Draw(rt, "sku"), Quantity: int64(rapid.IntRange(1, 4).Draw(rt, "qty")),
							UnitPrice: fmt.Sprintf("%d.%02d", rapid.IntRange(1, 99).Draw(rt, "units"), rapid.IntRange(0, 99).Draw(rt, "cents")), Discount: "0.01"})
					}
					n++
					o, _, err := f.ord.Create(ctx, f.tenant, input(fmt.Sprint("p", n), lines...), "prop")
					if err != nil {
						rt.Fatal(err)
					}
					ids = append(ids, o.ID)
				case 2: // stock arrives, then backorders are filled
					f.receive(t, rapid.SampledFrom(skus).Draw(rt, "sku"), int64(rapid.IntRange(1, 6).Draw(rt, "recv")))
					if _, err := f.ord.AllocateBackorders(ctx); err != nil {
						rt.Fatal(err)
					}
				case 3: // change a line's quantity
					if len(ids) == 0 {
						continue
					}
					o, _ := f.ord.Get(ctx, f.tenant, rapid.SampledFrom(ids).Draw(rt, "order"))
					l := o.Lines[rapid.IntRange(0, len(o.Lines)-1).Draw(rt, "line")]
					_, err := f.ord.Edit(ctx, f.tenant, o.ID, order.EditInput{SetQuantities: []order.QuantityChange{{LineID: l.ID, Quantity: int64(rapid.IntRange(0, 5).Draw(rt, "newqty"))}}}, "prop")
					if err != nil && !errs.Is(errs.Invalid, err) && errs.KindOf(err) != errs.Conflict {
						rt.Fatal(err)
					}
				case 4: // cancel a whole order
					if len(ids) == 0 {
						continue
					}
					_, err := f.ord.Cancel(ctx, f.tenant, rapid.SampledFrom(ids).Draw(rt, "order"), order.CancelInput{Reason: "customer"}, "prop")
					if err != nil && errs.KindOf(err) != errs.Conflict {
						rt.Fatal(err)
					}
				case 5: // ship what is reserved (refused while on hold)
					if len(ids) == 0 {
						continue
					}
					id := rapid.SampledFrom(ids).Draw(rt, "order")
					o, _ := f.ord.Get(ctx, f.tenant, id)
					for _, h := range o.Holds {
						f.ord.ReleaseHold(ctx, f.tenant, id, string(h.Reason), "prop")
					}
					_, err := f.ord.ShipReserved(ctx, f.tenant, id, "prop")
					if err != nil && errs.KindOf(err) != errs.Conflict {
						rt.Fatal(err)
					}
				case 6: // a hold comes and goes
					if len(ids) == 0 {
						continue
					}
					id := rapid.SampledFrom(ids).Draw(rt, "order")
					if _, err := f.ord.AddHold(ctx, f.tenant, id, order.OtherHold, "", "prop"); err != nil && errs.KindOf(err) != errs.Conflict {
						rt.Fatal(err)
					}
					if _, err := f.ord.ReleaseHold(ctx, f.tenant, id, string(order.OtherHold), "prop"); err != nil {
						rt.Fatal(err)
					}
				}
				checkInvariants(rt, f, ids, skus)
			}
		})
	})
}

func checkInvariants(rt *rapid.T, f fixture, ids, skus []string) {
	ctx := context.Background()
	ds, err := f.inv.Check(ctx)
	if err != nil || len(ds) > 0 {
		rt.Fatalf("ledger: %v %+v", err, ds)
	}
	held := map[string]int64{}
	for _, id := range ids {
		o, err := f.ord.Get(ctx, f.tenant, id)
		if err != nil {
			rt.Fatal(err)
		}
		var sub, tax int64
		for _, l := range o.Lines {
			held[l.SKU] += l.Reserved
			switch o.Status {
			case order.Open:
				if l.Reserved+l.Backordered != l.Open() {
					rt.Fatalf("%s %s: reserved %d + backordered %d != open %d", o.Number, l.SKU, l.Reserved, l.Backordered, l.Open())
				}
			default:
				if l.Reserved != 0 || l.Backordered != 0 {
					rt.Fatalf("%s is %s but %s holds %d / owes %d", o.Number, o.Status, l.SKU, l.Reserved, l.Backordered)
				}
			}
			if l.Quantity > 0 {
				sub += l.Quantity*l.UnitPrice - l.Discount
				tax += l.Tax()
			}
		}
		if o.Subtotal != sub || o.Total != o.Subtotal+o.ShippingTotal+tax {
			rt.Fatalf("%s totals: subtotal %d (lines say %d), total %d", o.Number, o.Subtotal, sub, o.Total)
		}
		if o.Status == order.Open && o.HasHold(order.InventoryOutOfStock) != (backordered(o) > 0) {
			rt.Fatalf("%s: stock hold %v with %d backordered", o.Number, o.HasHold(order.InventoryOutOfStock), backordered(o))
		}
	}
	for _, s := range skus {
		ls, _, err := f.inv.Levels(ctx, f.tenant, inventory.LevelFilter{SKU: s})
		if err != nil {
			rt.Fatal(err)
		}
		var reserved int64
		for _, l := range ls {
			if l.Available() < 0 {
				rt.Fatalf("%s oversold: %+v", s, l.Level)
			}
			reserved += l.Reserved
		}
		if reserved != held[s] {
			rt.Fatalf("%s: balances reserve %d, order lines hold %d", s, reserved, held[s])
		}
	}
}

func backordered(o order.Order) int64 {
	var n int64
	for _, l := range o.Lines {
		n += l.Backordered
	}
	return n
}
