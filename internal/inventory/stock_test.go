package inventory_test

import (
	"context"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
)

// events counts the outbox rows of a type about one balance.
func (f fixture) events(t testing.TB, typ, facilityID, productID string) int {
	t.Helper()
	var n int
	if err := f.db.R.QueryRow(`SELECT COUNT(*) FROM events WHERE type = $1 AND object_id = $2`, typ, facilityID+"/"+productID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f fixture) lowOnly(t testing.TB) []string {
	t.Helper()
	ls, _, err := f.inv.Levels(context.Background(), f.tenant, inventory.LevelFilter{LowOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range ls {
		out = append(out, l.SKU+"@"+l.FacilityCode)
	}
	return out
}

func TestLowStockFollowsSettingsTransfersAndTime(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		mug := f.product(t, "MUG", false)
		main := f.facility(t, "MAIN", inventory.Own, 1)
		eu := f.facility(t, "EU1", inventory.ThreePL, 2)
		f.receive(t, "MUG", "MAIN", 50)
		f.receive(t, "MUG", "EU1", 3)

		// A reorder point above what is there flags both balances at once,
		// with one alert each; lowering it lifts them.
		twenty := int64(20)
		if _, err := f.inv.SetReorderSettings(ctx, f.tenant, "MUG", inventory.ReorderSettings{ReorderPoint: &twenty}); err != nil {
			t.Fatal(err)
		}
		if got := f.lowOnly(t); len(got) != 1 || got[0] != "MUG@EU1" || f.events(t, "inventory.low_stock", eu.ID, mug.ID) != 1 {
			t.Fatalf("after setting a reorder point of 20: %v", got)
		}
		if _, err := f.inv.SetReorderSettings(ctx, f.tenant, "MUG", inventory.ReorderSettings{ReorderPoint: &twenty, LeadTimeDays: 7}); err != nil {
			t.Fatal(err)
		}
		if n := f.events(t, "inventory.low_stock", eu.ID, mug.ID); n != 1 {
			t.Fatalf("settings that change nothing alerted again: %d", n)
		}

		// Receiving a transfer restocks the destination.
		tr, err := f.inv.CreateTransfer(ctx, f.tenant, inventory.TransferRequest{From: "MAIN", To: "EU1", Lines: []inventory.ReserveLine{{SKU: "MUG", Quantity: 25}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.inv.ReceiveTransfer(ctx, f.tenant, tr.ID, "", "test"); err != nil {
			t.Fatal(err)
		}
		if got := f.lowOnly(t); len(got) != 0 || f.events(t, "inventory.restocked", eu.ID, mug.ID) != 1 {
			t.Fatalf("after receiving at EU1: %v", got)
		}

		// Demand that ages out of the window lifts the flag on the next sweep.
		if _, err := f.inv.SetReorderSettings(ctx, f.tenant, "MUG", inventory.ReorderSettings{LeadTimeDays: 30}); err != nil {
			t.Fatal(err)
		}
		r, _, err := f.inv.MakeReservation(ctx, f.tenant, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: "MUG", Quantity: 24}}, Facility: "MAIN"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.inv.ConsumeReservation(ctx, f.tenant, r.ID, "test"); err != nil {
			t.Fatal(err)
		}
		// 1 left selling 0.8 a day: about a day of cover against 30 days.
		if got := f.lowOnly(t); len(got) != 1 || got[0] != "MUG@MAIN" {
			t.Fatalf("after the sale: %v", got)
		}
		if n, err := f.inv.RecheckLowStock(ctx); n != 0 || err != nil {
			t.Fatalf("sweep with nothing to change: %d %v", n, err)
		}
		later := time.Now().Add(31 * 24 * time.Hour)
		f.inv.SetClock(func() time.Time { return later.UTC() })
		if n, err := f.inv.RecheckLowStock(ctx); n != 1 || err != nil {
			t.Fatalf("sweep a month later: %d %v", n, err)
		}
		if got := f.lowOnly(t); len(got) != 0 || f.events(t, "inventory.restocked", main.ID, mug.ID) != 1 {
			t.Fatalf("after the sweep: %v", got)
		}
		if n, _ := f.inv.RecheckLowStock(ctx); n != 0 {
			t.Fatalf("second sweep changed %d flags", n)
		}
		f.clean(t)
	})
}

func TestTransferKinds(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		f.product(t, "MUG", false)
		main := f.facility(t, "MAIN", inventory.Own, 1)
		eu := f.facility(t, "EU1", inventory.ThreePL, 2)
		f.receive(t, "MUG", "MAIN", 5)
		tr, err := f.inv.CreateTransfer(ctx, f.tenant, inventory.TransferRequest{From: "MAIN", To: "EU1", Lines: []inventory.ReserveLine{{SKU: "MUG", Quantity: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.inv.ReceiveTransfer(ctx, f.tenant, tr.ID, "", "test"); err != nil {
			t.Fatal(err)
		}
		ms, _, err := f.inv.Movements(ctx, f.tenant, inventory.MovementFilter{RefType: "transfer", RefID: tr.ID})
		if err != nil || len(ms) != 3 {
			t.Fatalf("movements: %v %+v", err, ms)
		}
		for _, m := range ms {
			want := inventory.TransferIn
			if m.FacilityID == main.ID {
				want = inventory.TransferOut
			}
			if m.Kind != want {
				t.Errorf("%s at %s (on hand %+d, incoming %+d): kind %s, want %s", m.SKU, m.FacilityCode, m.OnHandDelta, m.IncomingDelta, m.Kind, want)
			}
		}
		if l := f.level(t, "MUG", eu.ID); l.OnHand != 2 || l.Incoming != 0 {
			t.Fatalf("EU1: %+v", l)
		}
		f.clean(t)
	})
}

// TestRefusalsNameTheirField: insufficient_stock points at the field of
// the request that asked too much.
func TestRefusalsNameTheirField(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		f.product(t, "MUG", false)
		f.product(t, "STOVE", false)
		f.facility(t, "MAIN", inventory.Own, 1)
		f.facility(t, "EU1", inventory.ThreePL, 2)
		f.receive(t, "MUG", "MAIN", 5)
		f.receive(t, "STOVE", "MAIN", 5)
		if _, _, err := f.inv.MakeReservation(ctx, f.tenant, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: "STOVE", Quantity: 4}}}); err != nil {
			t.Fatal(err)
		}
		field := func(err error) string {
			t.Helper()
			if !errs.Is(errs.Conflict, err) || errs.CodeOf(err) != inventory.ErrCodeInsufficient {
				t.Fatalf("want insufficient_stock, got %v", err)
			}
			fs := errs.Fields(err)
			if len(fs) != 1 {
				t.Fatalf("fields %+v", fs)
			}
			return fs[0].Field
		}
		_, _, err := f.inv.Adjust(ctx, f.tenant, inventory.Adjustment{SKU: "STOVE", Facility: "MAIN", Quantity: -2, Reason: "damaged"})
		if got := field(err); got != "quantity" {
			t.Errorf("adjustment: %s", got)
		}
		_, err = f.inv.CreateTransfer(ctx, f.tenant, inventory.TransferRequest{From: "MAIN", To: "EU1", Lines: []inventory.ReserveLine{{SKU: "MUG", Quantity: 1}, {SKU: "STOVE", Quantity: 2}}})
		if got := field(err); got != "lines[1].quantity" {
			t.Errorf("transfer: %s", got)
		}
		_, _, err = f.inv.RecordCount(ctx, f.tenant, "MAIN", []inventory.CountLine{{SKU: "MUG", Counted: 5}, {SKU: "STOVE", Counted: 3}}, "test")
		if got := field(err); got != "lines[1].counted" {
			t.Errorf("count: %s", got)
		}
		f.clean(t)
	})
}

// TestLevelsReadWithoutWriting: listing levels with days of cover must not
// wait for a writer (SQLite) or for row locks (PostgreSQL).
func TestLevelsReadWithoutWriting(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		p := f.product(t, "MUG", false)
		main := f.facility(t, "MAIN", inventory.Own, 1)
		f.receive(t, "MUG", "MAIN", 5)
		locked, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
		go func() {
			done <- store.NewInventory(f.db).InTx(ctx, func(tx inventory.Tx) error {
				if _, err := tx.Levels(ctx, f.tenant, []string{p.ID}, []string{main.ID}); err != nil {
					return err
				}
				close(locked)
				<-release
				return nil
			})
		}()
		<-locked
		tctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		ls, _, err := f.inv.Levels(tctx, f.tenant, inventory.LevelFilter{SKU: "MUG"})
		_, rsErr := f.inv.ReorderSettingsOf(tctx, f.tenant, p.ID)
		cancel()
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err != nil || rsErr != nil || len(ls) != 1 || ls[0].OnHand != 5 {
			t.Fatalf("reading while a writer holds the balance: %v %v %+v", err, rsErr, ls)
		}
	})
}
