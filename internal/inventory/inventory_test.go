package inventory_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
)

type fixture struct {
	db     *store.DB
	inv    *inventory.Service
	cat    *catalog.Service
	tenant string
}

func setup(t testing.TB, e testenv.Engine) fixture {
	t.Helper()
	db := e.Open(t)
	ctx := context.Background()
	ten, err := auth.NewService(store.NewAuth(db)).CreateTenant(ctx, "Shop", "UTC", "USD")
	if err != nil {
		t.Fatal(err)
	}
	return fixture{db: db, inv: inventory.NewService(store.NewInventory(db)), cat: catalog.NewService(store.NewCatalog(db)), tenant: ten.ID}
}

func (f fixture) product(t testing.TB, sku string, backorder bool, comps ...catalog.DraftComponent) catalog.Product {
	t.Helper()
	p, err := f.cat.Create(context.Background(), f.tenant, "USD", catalog.Draft{SKU: sku, Name: sku, AllowBackorder: backorder, Components: comps})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f fixture) facility(t testing.TB, code string, kind inventory.FacilityKind, prio int) inventory.Facility {
	t.Helper()
	fac, err := f.inv.CreateFacility(context.Background(), f.tenant, inventory.FacilityInput{Code: code, Name: code, Kind: kind, Priority: &prio})
	if err != nil {
		t.Fatal(err)
	}
	return fac
}

func (f fixture) receive(t testing.TB, sku, fac string, n int64) {
	t.Helper()
	if _, _, err := f.inv.Adjust(context.Background(), f.tenant, inventory.Adjustment{SKU: sku, Facility: fac, Quantity: n, Kind: inventory.Receive}); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) clean(t testing.TB) {
	t.Helper()
	ds, err := f.inv.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) > 0 {
		t.Fatalf("ledger and balances disagree: %+v", ds)
	}
}

func (f fixture) level(t testing.TB, sku, facID string) inventory.Level {
	t.Helper()
	ls, _, err := f.inv.Levels(context.Background(), f.tenant, inventory.LevelFilter{SKU: sku, FacilityID: facID})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) == 0 {
		return inventory.Level{}
	}
	return ls[0].Level
}

func TestSeedExample(t *testing.T) {
	// 200 units selling 5 a day is 40 days of cover: dangerous when the
	// supplier needs 30 days and we keep 14 days of safety.
	c := inventory.CoverOf(inventory.Level{OnHand: 200}, 5, inventory.ReorderSettings{LeadTimeDays: 30, SafetyDays: 14})
	if c.DaysOfCover == nil || *c.DaysOfCover != 40 || !c.Low || c.ReorderPoint != 220 {
		t.Fatalf("cover %+v", c)
	}
	c = inventory.CoverOf(inventory.Level{OnHand: 200}, 5, inventory.ReorderSettings{LeadTimeDays: 30})
	if c.Low {
		t.Fatalf("40 days against a 30-day lead time without safety days is not low: %+v", c)
	}
	c = inventory.CoverOf(inventory.Level{OnHand: 200}, 0, inventory.ReorderSettings{LeadTimeDays: 30})
	if c.DaysOfCover != nil || c.Low {
		t.Fatalf("nothing selling: %+v", c)
	}
}

func TestSeedExampleThroughLedger(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		f.product(t, "TENT", false)
		fac := f.facility(t, "MAIN", inventory.Own, 1)
		f.receive(t, "TENT", "MAIN", 350)
		if _, err := f.inv.SetReorderSettings(ctx, f.tenant, "TENT", inventory.ReorderSettings{LeadTimeDays: 30, SafetyDays: 14}); err != nil {
			t.Fatal(err)
		}
		// 150 sold over the last 30 days (5 a day), still reserved: 200 available.
		for i := 0; i < 30; i++ {
			if _, _, err := f.inv.MakeReservation(ctx, f.tenant, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: "TENT", Quantity: 5}}}); err != nil {
				t.Fatal(err)
			}
		}
		ls, _, err := f.inv.Levels(ctx, f.tenant, inventory.LevelFilter{SKU: "TENT"})
		if err != nil || len(ls) != 1 {
			t.Fatal(err, len(ls))
		}
		c := ls[0].Cover
		if ls[0].Available() != 200 || c.DaysOfCover == nil || *c.DaysOfCover != 40 || !c.Low {
			t.Fatalf("level %+v cover %+v", ls[0].Level, c)
		}
		// The low-stock event was written with the change that caused it.
		var n int
		// The low-stock event was written once, with the change that took
		// the SKU to its reorder point, not with every sale after it.
		if err := f.db.R.QueryRow(`SELECT COUNT(*) FROM events WHERE type = 'inventory.low_stock' AND object_id = $1`, fac.ID+"/"+ls[0].ProductID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("low stock events: %d %v", n, err)
		}
		// Restocking lifts it once.
		f.receive(t, "TENT", "MAIN", 500)
		if err := f.db.R.QueryRow(`SELECT COUNT(*) FROM events WHERE type = 'inventory.restocked' AND object_id = $1`, fac.ID+"/"+ls[0].ProductID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("restocked events: %d %v", n, err)
		}
		f.clean(t)
	})
}

func TestAdjustRules(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		f.product(t, "MUG", false)
		f.product(t, "SET", false, catalog.DraftComponent{SKU: "MUG", Quantity: 2})
		main := f.facility(t, "MAIN", inventory.Own, 1)
		if _, err := f.inv.CreateBin(ctx, f.tenant, main.ID, inventory.BinInput{Code: "A-01-1-A", Aisle: "A", Bay: "01", Level: "1", Position: "A"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.inv.Adjust(ctx, f.tenant, inventory.Adjustment{SKU: "MUG", Facility: "MAIN", Bin: "A-01-1-A", Quantity: 10, Kind: inventory.Receive}); err != nil {
			t.Fatal(err)
		}
		f.receive(t, "MUG", "MAIN", 2) // unassigned
		if _, _, err := f.inv.MakeReservation(ctx, f.tenant, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: "MUG", Quantity: 8}}}); err != nil {
			t.Fatal(err)
		}
		// 12 on hand, 8 reserved: removing 5 would promise what is not there.
		_, _, err := f.inv.Adjust(ctx, f.tenant, inventory.Adjustment{SKU: "MUG", Facility: "MAIN", Quantity: -5, Reason: "damaged"})
		if !errs.Is(errs.Conflict, err) || errs.CodeOf(err) != inventory.ErrCodeInsufficient {
			t.Fatalf("adjust below reserved: %v", err)
		}
		// Removing 4 draws the 2 unassigned first, then 2 from the bin.
		if _, lvl, err := f.inv.Adjust(ctx, f.tenant, inventory.Adjustment{SKU: "MUG", Facility: "MAIN", Quantity: -4, Reason: "damaged"}); err != nil || lvl.OnHand != 8 {
			t.Fatalf("adjust: %v %+v", err, lvl)
		}
		for _, bad := range []inventory.Adjustment{
			{SKU: "MUG", Facility: "MAIN", Quantity: 0, Reason: "x"},
			{SKU: "MUG", Facility: "MAIN", Quantity: 1},
			{SKU: "NOPE", Facility: "MAIN", Quantity: 1, Reason: "x"},
			{SKU: "MUG", Facility: "NOPE", Quantity: 1, Reason: "x"},
			{SKU: "SET", Facility: "MAIN", Quantity: 1, Reason: "x"},
			{SKU: "MUG", Facility: "MAIN", Bin: "Z-9", Quantity: 1, Reason: "x"},
		} {
			if _, _, err := f.inv.Adjust(ctx, f.tenant, bad); !errs.Is(errs.Invalid, err) {
				t.Errorf("%+v: %v", bad, err)
			}
		}
		f.clean(t)
	})
}

func TestKitsAndTransfersAndCounts(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		mug := f.product(t, "MUG", false)
		f.product(t, "STOVE", false)
		f.product(t, "SET", false, catalog.DraftComponent{SKU: "MUG", Quantity: 2}, catalog.DraftComponent{SKU: "STOVE", Quantity: 1})
		main := f.facility(t, "MAIN", inventory.Own, 1)
		tpl := f.facility(t, "3PL", inventory.ThreePL, 2)
		f.receive(t, "MUG", "MAIN", 5)
		f.receive(t, "STOVE", "MAIN", 5)
		r, _, err := f.inv.MakeReservation(ctx, f.tenant, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: "SET", Quantity: 2}}})
		if err != nil || len(r.Lines) != 2 {
			t.Fatalf("kit reservation: %v %+v", err, r)
		}
		if l := f.level(t, "MUG", main.ID); l.Reserved != 4 {
			t.Fatalf("kit reserves its components: %+v", l)
		}
		// One more set needs 2 mugs; only 1 is left.
		_, short, err := f.inv.MakeReservation(ctx, f.tenant, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: "SET", Quantity: 1}}})
		if !errs.Is(errs.Conflict, err) || len(short) != 1 || short[0].Available != 0 {
			t.Fatalf("short kit: %v %+v", err, short)
		}
		if _, err := f.inv.ReleaseReservation(ctx, f.tenant, r.ID, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.inv.ReleaseReservation(ctx, f.tenant, r.ID, "test"); err != nil {
			t.Fatalf("second release must change nothing: %v", err)
		}
		if _, err := f.inv.ConsumeReservation(ctx, f.tenant, r.ID, "test"); !errs.Is(errs.Conflict, err) {
			t.Fatalf("consume a released reservation: %v", err)
		}
		tr, err := f.inv.CreateTransfer(ctx, f.tenant, inventory.TransferRequest{From: "MAIN", To: "3PL", Lines: []inventory.ReserveLine{{SKU: "MUG", Quantity: 3}}})
		if err != nil {
			t.Fatal(err)
		}
		if l := f.level(t, "MUG", tpl.ID); l.Incoming != 3 || l.OnHand != 0 {
			t.Fatalf("in transit: %+v", l)
		}
		if _, err := f.inv.CreateTransfer(ctx, f.tenant, inventory.TransferRequest{From: "MAIN", To: "3PL", Lines: []inventory.ReserveLine{{SKU: "MUG", Quantity: 3}}}); !errs.Is(errs.Conflict, err) {
			t.Fatalf("transfer more than available: %v", err)
		}
		if _, err := f.inv.ReceiveTransfer(ctx, f.tenant, tr.ID, "", "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.inv.ReceiveTransfer(ctx, f.tenant, tr.ID, "", "test"); err != nil {
			t.Fatalf("second receive must change nothing: %v", err)
		}
		if l := f.level(t, "MUG", tpl.ID); l.Incoming != 0 || l.OnHand != 3 {
			t.Fatalf("received: %+v", l)
		}
		_, res, err := f.inv.RecordCount(ctx, f.tenant, "3PL", []inventory.CountLine{{SKU: "MUG", Counted: 2}}, "test")
		if err != nil || res[0].Expected != 3 || res[0].Delta != -1 {
			t.Fatalf("count: %v %+v", err, res)
		}
		if l := f.level(t, "MUG", tpl.ID); l.OnHand != 2 {
			t.Fatalf("after count: %+v", l)
		}
		ms, _, err := f.inv.Movements(ctx, f.tenant, inventory.MovementFilter{ProductID: mug.ID})
		if err != nil || len(ms) < 5 {
			t.Fatalf("movements: %v %d", err, len(ms))
		}
		f.clean(t)
	})
}

func TestExpiry(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		f.product(t, "MUG", false)
		main := f.facility(t, "MAIN", inventory.Own, 1)
		f.receive(t, "MUG", "MAIN", 1)
		r, _, err := f.inv.MakeReservation(ctx, f.tenant, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: "MUG", Quantity: 1}}, TTL: time.Minute, RefType: "checkout"})
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := f.inv.ExpireDue(ctx); n != 0 {
			t.Fatalf("expired too early: %d", n)
		}
		later := time.Now().Add(2 * time.Minute)
		f.inv.SetClock(func() time.Time { return later.UTC() })
		if n, err := f.inv.ExpireDue(ctx); n != 1 || err != nil {
			t.Fatalf("expire: %d %v", n, err)
		}
		if n, _ := f.inv.ExpireDue(ctx); n != 0 {
			t.Fatalf("expired twice: %d", n)
		}
		got, _ := f.inv.Reservation(ctx, f.tenant, r.ID)
		if got.Status != inventory.Expired || f.level(t, "MUG", main.ID).Reserved != 0 {
			t.Fatalf("after expiry: %+v", got)
		}
		f.clean(t)
	})
}

// TestLastUnitRace: one unit, many concurrent buyers, many trials. Exactly
// one wins; nothing is oversold; the ledger agrees.
func TestLastUnitRace(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		f.facility(t, "MAIN", inventory.Own, 1)
		trials := 8
		if testing.Short() {
			trials = 2
		}
		for _, clients := range []int{2, 8, 64} {
			for trial := 0; trial < trials; trial++ {
				sku := fmt.Sprintf("LAST-%d-%d", clients, trial)
				p := f.product(t, sku, false)
				f.receive(t, sku, "MAIN", 1)
				var wg sync.WaitGroup
				var mu sync.Mutex
				wins, other := 0, []error{}
				for c := 0; c < clients; c++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, _, err := f.inv.MakeReservation(ctx, f.tenant, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: sku, Quantity: 1}}})
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							wins++
						case errs.CodeOf(err) == inventory.ErrCodeInsufficient:
						default:
							other = append(other, err)
						}
					}()
				}
				wg.Wait()
				if wins != 1 || len(other) > 0 {
					t.Fatalf("%d clients: %d winners, errors %v", clients, wins, other)
				}
				lv := f.level(t, sku, "")
				if lv.Reserved != 1 || lv.Available() != 0 || lv.ProductID != p.ID {
					t.Fatalf("level after race: %+v", lv)
				}
			}
		}
		f.clean(t)
	})
}

// TestFlashSale: hundreds of clients, several SKUs and kits sharing
// components, reservations and releases interleaved.
func TestFlashSale(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		f.facility(t, "MAIN", inventory.Own, 1)
		f.facility(t, "EAST", inventory.Own, 2)
		stock := map[string]int64{"A": 40, "B": 25, "C": 60}
		for sku, n := range stock {
			f.product(t, sku, false)
			f.receive(t, sku, "MAIN", n/2)
			f.receive(t, sku, "EAST", n-n/2)
		}
		f.product(t, "KIT-AB", false, catalog.DraftComponent{SKU: "A", Quantity: 1}, catalog.DraftComponent{SKU: "B", Quantity: 2})
		f.product(t, "KIT-AC", false, catalog.DraftComponent{SKU: "A", Quantity: 2}, catalog.DraftComponent{SKU: "C", Quantity: 1})
		skus := []string{"A", "B", "C", "KIT-AB", "KIT-AC"}
		clients := 200
		if testing.Short() {
			clients = 40
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var failures []error
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				for i := 0; i < 3; i++ {
					sku := skus[(c+i)%len(skus)]
					r, _, err := f.inv.MakeReservation(ctx, f.tenant, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: sku, Quantity: int64(1 + (c+i)%2)}}})
					if err != nil {
						if errs.CodeOf(err) != inventory.ErrCodeInsufficient {
							mu.Lock()
							failures = append(failures, err)
							mu.Unlock()
						}
						continue
					}
					if (c+i)%5 == 0 { // some buyers abandon their cart
						if _, err := f.inv.ReleaseReservation(ctx, f.tenant, r.ID, "test"); err != nil {
							mu.Lock()
							failures = append(failures, err)
							mu.Unlock()
						}
					}
				}
			}(c)
		}
		wg.Wait()
		if len(failures) > 0 {
			t.Fatalf("%d unexpected errors, first: %v", len(failures), failures[0])
		}
		ls, _, err := f.inv.Levels(ctx, f.tenant, inventory.LevelFilter{Limit: 250})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			if l.Available() < 0 || l.Reserved > l.OnHand {
				t.Errorf("oversold %s at %s: %+v", l.SKU, l.FacilityCode, l.Level)
			}
		}
		f.clean(t)
	})
}

// TestLedgerProperties: random sequences of receive, adjust, reserve,
// release, consume, transfer and count keep on_hand ≥ reserved ≥ 0 and the
// balances equal to a replay of the ledger.
func TestLedgerProperties(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		f.product(t, "P1", false)
		f.product(t, "P2", false)
		f.product(t, "BO", true)
		f.product(t, "KIT", false, catalog.DraftComponent{SKU: "P1", Quantity: 2}, catalog.DraftComponent{SKU: "P2", Quantity: 1})
		facs := []string{"F1", "F2"}
		for i, c := range facs {
			f.facility(t, c, inventory.Own, i)
		}
		var open []string
		rapid.Check(t, func(rt *rapid.T) {
			steps := rapid.IntRange(1, 15).Draw(rt, "steps")
			for i := 0; i < steps; i++ {
				sku := rapid.SampledFrom([]string{"P1", "P2", "BO"}).Draw(rt, "sku")
				fac := rapid.SampledFrom(facs).Draw(rt, "fac")
				q := rapid.Int64Range(1, 6).Draw(rt, "q")
				var err error
				switch rapid.IntRange(0, 6).Draw(rt, "op") {
				case 0:
					_, _, err = f.inv.Adjust(ctx, f.tenant, inventory.Adjustment{SKU: sku, Facility: fac, Quantity: q, Kind: inventory.Receive})
				case 1:
					_, _, err = f.inv.Adjust(ctx, f.tenant, inventory.Adjustment{SKU: sku, Facility: fac, Quantity: -q, Reason: "damage"})
				case 2:
					rs := rapid.SampledFrom([]string{sku, "KIT"}).Draw(rt, "rsku")
					var r inventory.Reservation
					r, _, err = f.inv.MakeReservation(ctx, f.tenant, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: rs, Quantity: q}}})
					if err == nil {
						open = append(open, r.ID)
					}
				case 3, 4:
					if len(open) > 0 {
						k := rapid.IntRange(0, len(open)-1).Draw(rt, "k")
						if rapid.Bool().Draw(rt, "consume") {
							_, err = f.inv.ConsumeReservation(ctx, f.tenant, open[k], "p")
						} else {
							_, err = f.inv.ReleaseReservation(ctx, f.tenant, open[k], "p")
						}
						open = append(open[:k], open[k+1:]...)
					}
				case 5:
					to := facs[0]
					if fac == to {
						to = facs[1]
					}
					var tr inventory.Transfer
					tr, err = f.inv.CreateTransfer(ctx, f.tenant, inventory.TransferRequest{From: fac, To: to, Lines: []inventory.ReserveLine{{SKU: sku, Quantity: q}}})
					if err == nil && rapid.Bool().Draw(rt, "receive") {
						_, err = f.inv.ReceiveTransfer(ctx, f.tenant, tr.ID, "", "p")
					}
				case 6:
					_, _, err = f.inv.RecordCount(ctx, f.tenant, fac, []inventory.CountLine{{SKU: sku, Counted: rapid.Int64Range(0, 20).Draw(rt, "counted")}}, "p")
				}
				if err != nil && !errs.Is(errs.Conflict, err) {
					rt.Fatalf("unexpected error: %v", err)
				}
			}
			ls, _, err := f.inv.Levels(ctx, f.tenant, inventory.LevelFilter{Limit: 250})
			if err != nil {
				rt.Fatal(err)
			}
			for _, l := range ls {
				if l.Reserved < 0 || l.OnHand < 0 || l.Incoming < 0 {
					rt.Fatalf("negative balance: %+v", l.Level)
				}
				if l.SKU != "BO" && l.Reserved > l.OnHand {
					rt.Fatalf("promised more than on hand: %+v", l.Level)
				}
			}
			ds, err := f.inv.Check(ctx)
			if err != nil || len(ds) > 0 {
				rt.Fatalf("ledger disagrees: %+v %v", ds, err)
			}
		})
	})
}
