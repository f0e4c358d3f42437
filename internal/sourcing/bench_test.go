package sourcing

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchOrders generates n orders against f facilities with realistic stock:
// a few SKUs stocked nearly everywhere, more held at one place only, some
// lines restricted by routing rules.
func benchOrders(f, n, maxLines int) []Problem {
	r := rand.New(rand.NewPCG(uint64(f), 2024))
	facilities := make([]Facility, f)
	for i := range facilities {
		facilities[i] = Facility{
			ID:           fmt.Sprintf("fac-%02d", i),
			Rank:         i,
			PerShipment:  200 + r.Int64N(600),
			PerUnit:      20 + r.Int64N(80),
			DistanceCost: r.Int64N(2000),
		}
	}
	orders := make([]Problem, n)
	for o := range orders {
		stock := map[string]map[string]int64{}
		for _, fac := range facilities {
			stock[fac.ID] = map[string]int64{}
			for s := range 5 {
				if r.IntN(100) < 85 {
					stock[fac.ID][fmt.Sprint("common-", s)] = r.Int64N(30)
				}
			}
		}
		for s := range 10 {
			stock[facilities[r.IntN(f)].ID][fmt.Sprint("rare-", s)] = 1 + r.Int64N(20)
		}
		p := Problem{Facilities: facilities, Available: stock}
		for range 1 + r.IntN(maxLines) {
			sku := fmt.Sprint("common-", r.IntN(5))
			if r.IntN(100) < 40 {
				sku = fmt.Sprint("rare-", r.IntN(10))
			}
			var allowed []int
			if r.IntN(100) < 20 {
				allowed = []int{}
				for i := range f {
					if r.IntN(2) == 0 {
						allowed = append(allowed, i)
					}
				}
			}
			p.Lines = append(p.Lines, Line{SKU: sku, Quantity: 1 + r.Int64N(4)})
			p.Allowed = append(p.Allowed, allowed)
		}
		orders[o] = p
	}
	return orders
}

// gap returns the mean cost gap of got over want in percent, and the percent
// of orders where got fulfils fewer units or needs more shipments.
func gap(orders []Problem, got, want []Assignment) (costGap, worse float64) {
	var sum float64
	var priced, bad int
	for i := range orders {
		g, w := got[i], want[i]
		var gu, wu int64
		for l := range g.Unfulfilled {
			gu += g.Unfulfilled[l]
			wu += w.Unfulfilled[l]
		}
		if gu != wu || g.Shipments != w.Shipments {
			bad++
		}
		if w.Cost > 0 {
			sum += 100 * float64(g.Cost-w.Cost) / float64(w.Cost)
			priced++
		}
	}
	return sum / float64(max(priced, 1)), 100 * float64(bad) / float64(len(orders))
}

// BenchmarkSolve reports µs per order and the cost gap to Exhaustive, for
// Solve and for its heuristic alone (forced on every order).
func BenchmarkSolve(b *testing.B) {
	const n = 200
	for _, f := range []int{3, 5, 8, 10} {
		orders := benchOrders(f, n, 5)
		ref := make([]Assignment, n)
		heur := make([]Assignment, n)
		start := time.Now()
		for i, p := range orders {
			ref[i] = Exhaustive(p)
		}
		exhaustive := time.Since(start)
		for i, p := range orders {
			heur[i] = newModel(p).search(false, 0, fillLeaves)
		}
		b.Run(fmt.Sprintf("facilities=%d", f), func(b *testing.B) {
			got := make([]Assignment, n)
			b.ResetTimer()
			for i := range b.N {
				got[i%n] = Solve(orders[i%n])
			}
			b.StopTimer()
			if b.N < n {
				return
			}
			exact := 0
			for _, a := range got {
				if a.Exact {
					exact++
				}
			}
			costGap, worse := gap(orders, got, ref)
			hGap, hWorse := gap(orders, heur, ref)
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/order")
			b.ReportMetric(costGap, "gap-%")
			b.ReportMetric(worse, "worse-%")
			b.ReportMetric(100*float64(exact)/n, "exact-%")
			b.ReportMetric(hGap, "heur-gap-%")
			b.ReportMetric(hWorse, "heur-worse-%")
			b.ReportMetric(float64(exhaustive.Microseconds())/n, "exhaustive-µs/order")
			b.ReportMetric(0, "ns/op")
		})
	}
}
