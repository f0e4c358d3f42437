package inventory_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/testenv"
)

// BenchmarkReserve measures reservations per second with 16 concurrent
// clients (8 × GOMAXPROCS on 2 cores), each reserving 1–3 units of one of
// 50 SKUs spread over two facilities: the balance lock, the conditional
// update, the ledger row, the reservation rows and the outbox event.
//
//	go test -run '^$' -bench Reserve -benchtime 3000x ./internal/inventory/
func BenchmarkReserve(b *testing.B) {
	for _, e := range testenv.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			f := setup(b, e)
			f.facility(b, "MAIN", inventory.Own, 1)
			f.facility(b, "EAST", inventory.Own, 2)
			for i := 0; i < 50; i++ {
				sku := fmt.Sprintf("SKU-%02d", i)
				f.product(b, sku, false)
				f.receive(b, sku, "MAIN", 1_000_000)
				f.receive(b, sku, "EAST", 1_000_000)
			}
			ctx := context.Background()
			var n atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					_, _, err := f.inv.MakeReservation(ctx, f.tenant, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: fmt.Sprintf("SKU-%02d", i%50), Quantity: 1 + i%3}}})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reservations/s")
			f.clean(b)
		})
	}
}
