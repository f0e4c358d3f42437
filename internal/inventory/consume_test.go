package inventory_test

import (
	"context"
	"testing"

	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
)

func TestConsumeIn(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		f.product(t, "MUG", false)
		f.product(t, "LID", false)
		f.product(t, "SET", false, catalog.DraftComponent{SKU: "MUG", Quantity: 2}, catalog.DraftComponent{SKU: "LID", Quantity: 1})
		fac := f.facility(t, "MAIN", inventory.Own, 1)
		f.receive(t, "MUG", "MAIN", 20)
		f.receive(t, "LID", "MAIN", 10)
		reserve := func(sku string, n int64) inventory.Reservation {
			t.Helper()
			r, short, err := f.inv.MakeReservation(ctx, f.tenant, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: sku, Quantity: n}}})
			if err != nil || len(short) > 0 {
				t.Fatal(err, short)
			}
			return r
		}
		consume := func(id string, units int64) error {
			return store.NewInventory(f.db).InTx(ctx, func(tx inventory.Tx) error { return f.inv.ConsumeIn(ctx, tx, f.tenant, id, units, "test") })
		}
		expect := func(sku string, onHand, reserved int64) {
			t.Helper()
			if l := f.level(t, sku, fac.ID); l.OnHand != onHand || l.Reserved != reserved {
				t.Fatalf("%s: on hand %d reserved %d, want %d and %d", sku, l.OnHand, l.Reserved, onHand, reserved)
			}
		}

		// Part of a plain reservation: on hand and reserved fall together,
		// the reservation stays active with the rest.
		r := reserve("MUG", 5)
		if err := consume(r.ID, 2); err != nil {
			t.Fatal(err)
		}
		expect("MUG", 18, 3)
		got, _ := f.inv.Reservation(ctx, f.tenant, r.ID)
		if got.Status != inventory.Active || got.Lines[0].Quantity != 3 {
			t.Fatalf("after part: %+v", got)
		}
		// More than it holds is refused and changes nothing.
		if err := consume(r.ID, 4); errs.CodeOf(err) != "reservation_short" {
			t.Fatalf("over: %v", err)
		}
		expect("MUG", 18, 3)
		// The whole rest closes it as consumed.
		if err := consume(r.ID, 3); err != nil {
			t.Fatal(err)
		}
		expect("MUG", 15, 0)
		if got, _ := f.inv.Reservation(ctx, f.tenant, r.ID); got.Status != inventory.Consumed {
			t.Fatalf("after whole: %+v", got)
		}
		if err := consume(r.ID, 1); errs.CodeOf(err) != "reservation_closed" {
			t.Fatalf("closed: %v", err)
		}

		// A kit is consumed in whole kits: 3 sets hold 6 mugs and 3 lids.
		k := reserve("SET", 3)
		expect("MUG", 15, 6)
		expect("LID", 10, 3)
		if err := consume(k.ID, 1); err != nil {
			t.Fatal(err)
		}
		expect("MUG", 13, 4)
		expect("LID", 9, 2)
		if err := consume(k.ID, 3); errs.CodeOf(err) != "reservation_short" {
			t.Fatalf("kit over: %v", err)
		}
		if err := consume(k.ID, 2); err != nil {
			t.Fatal(err)
		}
		expect("MUG", 9, 0)
		expect("LID", 7, 0)
		if got, _ := f.inv.Reservation(ctx, f.tenant, k.ID); got.Status != inventory.Consumed {
			t.Fatalf("kit after whole: %+v", got)
		}
		f.clean(t)
	})
}
