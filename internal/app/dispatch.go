package app

import (
	"context"
	"time"

	"github.com/waybill/waybill/internal/dispatch"
	"github.com/waybill/waybill/internal/job"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/provider/amazonmcf"
	"github.com/waybill/waybill/internal/provider/shipbob"
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
	a.Dispatch.BaseURL = (&mailer{a: a}).dashboardURL()
	a.Dispatch.Costs = a.Costs
	a.Dispatch.Merchant = func(ctx context.Context, tenantID string) (string, string, error) {
		t, err := a.Auth.Tenant(ctx, tenantID)
		return t.Name, t.Currency, err
	}
	registerProviders(a.Dispatch)
	// The sourcing optimiser weighs the facilities' fees.
	a.Orders.SetCoster(func(ctx context.Context, tenantID string) (map[string]order.FacilityCost, error) {
		ps, err := a.Costs.Profiles(ctx, tenantID)
		out := make(map[string]order.FacilityCost, len(ps))
		for id, p := range ps {
			out[id] = order.FacilityCost{PerShipment: p.PerOrder, PerUnit: p.PerUnit}
		}
		return out, err
	})
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
func registerProviders(d *dispatch.Service) {
	d.Register(dispatch.ShipBob, dispatch.Adapter(shipbob.New))
	d.Register(dispatch.AmazonMCF, dispatch.Adapter(amazonmcf.New))
}
