package app

import (
	"context"
	"time"

	"github.com/waybill/waybill/internal/dispatch"
	"github.com/waybill/waybill/internal/job"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/webhook"
)

// Job kinds of the fulfilment dispatcher.
const (
	jobDispatch  = "fulfillment.dispatch"
	jobSyncStock = "fulfillment.sync_stock"
)

// wireDispatch builds the dispatcher (3PL requests, provider polls,
// supplier purchase orders) and its jobs.
func (a *App) wireDispatch() {
	policy := webhook.Policy{AllowPrivate: a.Config.AllowPrivateWebhookURLs}
	a.Dispatch = dispatch.NewService(store.NewDispatch(a.DB), a.Orders, a.Inventory, policy.Client(30*time.Second))
	a.Dispatch.CheckURL = policy.CheckURL
	a.Dispatch.BaseURL = a.Config.PublicURL
	registerProviders(a.Dispatch)
	a.Runner.Handle(jobDispatch, 1, 5*time.Minute, func(ctx context.Context, j job.Job) error {
		n, err := a.Dispatch.Run(ctx)
		if n > 0 {
			a.Log.Info("fulfilment requests dispatched", "count", n)
		}
		return err
	})
	a.Runner.Every(jobDispatch, 2*time.Second)
	a.Runner.Handle(jobSyncStock, 1, 10*time.Minute, func(ctx context.Context, j job.Job) error {
		rs, err := a.Dispatch.SyncAllStock(ctx)
		for _, r := range rs {
			if r.Changed > 0 {
				a.Log.Info("3PL stock synced", "facility", r.Facility, "changed", r.Changed)
			}
		}
		return err
	})
	a.Runner.Every(jobSyncStock, dispatch.StockEvery)
}

// registerProviders installs the 3PL adapters this build has.
func registerProviders(d *dispatch.Service) {}
