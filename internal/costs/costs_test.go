package costs

import (
	"math/rand/v2"
	"testing"
)

func TestEstimateOrder(t *testing.T) {
	p := &Profile{Currency: "USD", PerOrder: 250, PerUnit: 40}
	units := []Units{{"MUG", 3}, {"TENT", 1}}
	e := EstimateOrder(p, "USD", units, nil)
	if e.PickPack != 250+4*40 || e.Total != e.PickPack || e.Supplier != 0 {
		t.Fatalf("own: %+v", e)
	}
	sup := map[string]SupplierCost{"MUG": {SKU: "MUG", Currency: "USD", UnitCost: 700}, "TENT": {SKU: "TENT", Currency: "EUR", UnitCost: 9000}}
	e = EstimateOrder(nil, "USD", units, sup)
	if e.Supplier != 2100 || e.PickPack != 0 || e.Total != 2100 || len(e.Missing) != 1 || e.Missing[0] != "TENT" {
		t.Fatalf("dropship: %+v", e)
	}
	if e := EstimateOrder(p, "USD", nil, nil); e.Total != 0 {
		t.Fatalf("nothing to ship costs %+v", e)
	}
}

func TestCompareWorkedExample(t *testing.T) {
	// 300 orders of 1.5 units in 30 days, 900 units in stock.
	v := Volume{Days: 30, Orders: 300, Units: 450, StockUnits: 900, SupplierUnits: 100, SupplierCost: 100 * 1500, SupplierGoods: 100 * 1000}
	opts := []Option{
		{Code: "OWN", Kind: "own", Profile: Profile{Currency: "USD", PerOrder: 100, PerUnit: 50, MonthlyFixed: 150000}},
		{Code: "3PL", Kind: "3pl", Profile: Profile{Currency: "USD", PerOrder: 300, PerUnit: 50, StorageUnitMonth: 20, ReceivingUnit: 25}},
		{Code: "DS", Kind: "dropship", Profile: Profile{Currency: "USD"}},
	}
	rows := Compare(opts, v, 0)
	// OWN: 1500.00 fixed + 300×1.00 + 450×0.50 = 1500 + 300 + 225 = 2025.00 a month, 6.75 an order.
	if rows[0].Monthly != 202500 || rows[0].PerOrder != 675 {
		t.Fatalf("own: %+v", rows[0])
	}
	// 3PL: 300×3.00 + 450×0.50 + 900×0.20 + 450×0.25 = 900 + 225 + 180 + 112.50 = 1417.50; 4.725 → 4.73.
	if rows[1].Monthly != 141750 || rows[1].PerOrder != 473 {
		t.Fatalf("3pl: %+v", rows[1])
	}
	// Dropship: a 5.00 premium per unit × 450 = 2250.00; 7.50 an order.
	if rows[2].Monthly != 225000 || rows[2].PerOrder != 750 {
		t.Fatalf("dropship: %+v", rows[2])
	}
	// At 3,000 orders a month the fixed cost spreads: own falls below 3PL.
	rows = Compare(opts, v, 3000)
	if rows[0].PerOrder >= rows[1].PerOrder {
		t.Fatalf("at 3000/month own %d, 3PL %d", rows[0].PerOrder, rows[1].PerOrder)
	}
}

// Property: the breakdown adds up, costs grow with volume and, with a
// fixed cost, the cost per order does not grow with volume.
func TestCompareProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		v := Volume{Days: 1 + r.IntN(90), Orders: r.Int64N(10000), StockUnits: r.Int64N(100000)}
		v.Units = v.Orders * (1 + r.Int64N(4))
		v.SupplierUnits = r.Int64N(v.Units + 1)
		v.SupplierGoods = v.SupplierUnits * r.Int64N(5000)
		v.SupplierCost = v.SupplierGoods + v.SupplierUnits*r.Int64N(3000)
		p := Profile{Currency: "USD", PerOrder: r.Int64N(1000), PerUnit: r.Int64N(300), StorageUnitMonth: r.Int64N(100), ReceivingUnit: r.Int64N(100), MonthlyFixed: r.Int64N(1000000)}
		kind := []string{"own", "3pl", "dropship"}[r.IntN(3)]
		lo := 1 + r.Float64()*1000
		hi := lo * (1 + r.Float64()*10)
		a := Compare([]Option{{Kind: kind, Profile: p}}, v, lo)[0]
		b := Compare([]Option{{Kind: kind, Profile: p}}, v, hi)[0]
		bd := a.Breakdown
		if a.Monthly != bd.Fixed+bd.PickPack+bd.Storage+bd.Receiving+bd.SupplierPremium {
			t.Fatalf("breakdown does not add up: %+v", a)
		}
		if b.Monthly < a.Monthly {
			t.Fatalf("more orders cost less a month: %d < %d (%+v %+v)", b.Monthly, a.Monthly, v, p)
		}
		// Per-order cost may only fall with volume (rounding aside).
		if b.PerOrder > a.PerOrder+1 {
			t.Fatalf("per order rose with volume: %d > %d (%s %+v %+v)", b.PerOrder, a.PerOrder, kind, v, p)
		}
	}
}
