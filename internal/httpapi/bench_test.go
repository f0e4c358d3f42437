package httpapi_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/testenv"
)

// BenchmarkCreateProduct measures POST /api/v1/products through the whole
// stack (auth, idempotency claim, validation, one write transaction) with
// 16 concurrent clients, on each engine.
//
//	go test -run '^$' -bench CreateProduct -benchtime 2000x ./internal/httpapi/
func BenchmarkCreateProduct(b *testing.B) {
	for _, e := range testenv.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			a := testenv.NewApp(b, e, func(c *config.Config) { c.RateLimit = 0 })
			_, key := a.Tenant("Bench")
			var n atomic.Int64
			b.SetParallelism(8) // 8 × GOMAXPROCS (2 here) = 16 concurrent clients
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					r := a.Do("POST", "/api/v1/products", key, map[string]any{
						"sku": fmt.Sprintf("SKU-%d", i), "name": "Bench product", "price": "9.99",
						"barcodes": []string{fmt.Sprintf("B-%d", i)}, "tags": []string{"bench"},
					}, "Idempotency-Key", fmt.Sprintf("k-%d", i))
					if r.Code != 201 {
						b.Fatalf("create: %d %s", r.Code, r.Body)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "products/s")
		})
	}
}

// BenchmarkListProducts measures GET /api/v1/products (a page of 50 with
// barcodes and tags) over a catalogue of 2,000 products.
func BenchmarkListProducts(b *testing.B) {
	for _, e := range testenv.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			a := testenv.NewApp(b, e, func(c *config.Config) { c.RateLimit = 0 })
			_, key := a.Tenant("Bench")
			for i := 0; i < 2000; i++ {
				a.Do("POST", "/api/v1/products", key, map[string]any{"sku": fmt.Sprintf("SKU-%05d", i), "name": "Bench product", "barcodes": []string{fmt.Sprintf("B-%d", i)}, "tags": []string{"bench"}})
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if r := a.Do("GET", "/api/v1/products?limit=50&q=bench", key, nil); r.Code != 200 {
						b.Fatalf("list: %d", r.Code)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
		})
	}
}
