package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/dispatch"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/notify"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/testenv"
)

// BenchmarkWebhookThroughput measures the whole delivery pipeline — relay
// from the outbox, job claim, signing, HTTP POST to a fast local receiver,
// attempt log — as events delivered per second, with the default 4 workers.
// The events are written before the timer starts.
//
//	go test -run '^$' -bench WebhookThroughput -benchtime 2000x ./internal/app/
func BenchmarkWebhookThroughput(b *testing.B) {
	for _, e := range testenv.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			a := testenv.NewApp(b, e, func(c *config.Config) { c.AllowPrivateWebhookURLs = true; c.Workers = 8 })
			var got atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1); w.WriteHeader(204) }))
			defer srv.Close()
			ctx := context.Background()
			ten, _ := a.Tenant("Bench")
			if _, err := a.Notify.CreateEndpoint(ctx, ten.ID, notify.EndpointInput{URL: srv.URL, Events: []string{"inventory.adjusted"}}); err != nil {
				b.Fatal(err)
			}
			a.Catalog.Create(ctx, ten.ID, "USD", catalog.Draft{SKU: "X", Name: "X"})
			a.Inventory.CreateFacility(ctx, ten.ID, inventory.FacilityInput{Code: "M", Name: "M", Kind: inventory.Own})
			for i := 0; i < b.N; i++ {
				if _, _, err := a.Inventory.Adjust(ctx, ten.ID, inventory.Adjustment{SKU: "X", Facility: "M", Quantity: 1, Kind: inventory.Receive}); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			runCtx, stop := context.WithCancel(ctx)
			done := a.StartBackground(runCtx)
			for got.Load() < int64(b.N) {
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			stop()
			<-done
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkDispatch measures the fulfilment dispatcher sending requests to
// a 3PL on the generic protocol (read the fulfilment order and its order,
// sign, POST to a fast local receiver, record SUBMITTED and the history),
// as requests per second from one dispatcher. The orders are placed before
// the timer starts.
//
//	go test -run '^$' -bench Dispatch -benchtime 500x ./internal/app/
func BenchmarkDispatch(b *testing.B) {
	for _, e := range testenv.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			a := testenv.NewApp(b, e, func(c *config.Config) { c.AllowPrivateWebhookURLs = true })
			var got atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1); w.WriteHeader(204) }))
			defer srv.Close()
			ctx := context.Background()
			ten, _ := a.Tenant("Bench")
			a.Catalog.Create(ctx, ten.ID, "USD", catalog.Draft{SKU: "X", Name: "X"})
			f, err := a.Inventory.CreateFacility(ctx, ten.ID, inventory.FacilityInput{Code: "TPL", Name: "TPL", Kind: inventory.ThreePL})
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := a.Dispatch.Connect(ctx, ten.ID, f.ID, dispatch.ConnectionInput{Method: dispatch.Callback, CallbackURL: srv.URL}); err != nil {
				b.Fatal(err)
			}
			if _, _, err := a.Inventory.Adjust(ctx, ten.ID, inventory.Adjustment{SKU: "X", Facility: "TPL", Quantity: int64(b.N), Kind: inventory.Receive}); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				if _, _, err := a.Orders.Create(ctx, ten.ID, order.Input{Channel: "api", ExternalID: fmt.Sprint("B-", i), Currency: "USD",
					Customer: order.Customer{Name: "Ada"}, Lines: []order.LineInput{{SKU: "X", Quantity: 1, UnitPrice: "1.00"}}}, "bench"); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			start := time.Now()
			for got.Load() < int64(b.N) {
				if _, err := a.Dispatch.Run(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "requests/s")
		})
	}
}
