package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/job"
	"github.com/waybill/waybill/internal/notify"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/webhook"
)

// Job kinds run in the background besides webhook delivery.
const (
	jobExpireReservations = "reservations.expire"
	jobAllocateBackorders = "orders.allocate_backorders"
	jobPrune              = "maintenance.prune"
	jobRecheckLowStock    = "inventory.recheck_low_stock"
)

// wireBackground builds the job runner, its handlers and the notify service.
func (a *App) wireBackground() {
	policy := webhook.Policy{AllowPrivate: a.Config.AllowPrivateWebhookURLs}
	ns := store.NewNotify(a.DB)
	a.Notify = notify.NewService(ns, policy.CheckURL, webhook.NewSecret)
	a.Deliverer = notify.NewDeliverer(ns, poster(policy.Client(10*time.Second)))
	a.Jobs = store.NewJobs(a.DB)
	host, _ := os.Hostname()
	a.Runner = job.NewRunner(a.Jobs, a.Log, fmt.Sprintf("%s-%d-%s", host, os.Getpid(), id.Secret(6)))
	a.Runner.Workers = a.Config.Workers
	a.Runner.Poll = 500 * time.Millisecond

	a.Runner.Handle(store.JobDeliverWebhook, 3*len(notify.Schedule), 30*time.Second, func(ctx context.Context, j job.Job) error {
		var p struct {
			DeliveryID string `json:"delivery_id"`
		}
		if err := j.Decode(&p); err != nil {
			return job.Permanent(err)
		}
		err := a.Deliverer.Deliver(ctx, j.TenantID, p.DeliveryID)
		var retry notify.ErrRetry
		if errors.As(err, &retry) {
			return job.Retry(retry.After, err)
		}
		return err
	})
	a.Runner.Handle(jobExpireReservations, 1, time.Minute, func(ctx context.Context, j job.Job) error {
		n, err := a.Inventory.ExpireDue(ctx)
		if n > 0 {
			a.Log.Info("reservations expired", "count", n)
		}
		return err
	})
	a.Runner.Every(jobExpireReservations, 15*time.Second)
	a.Runner.Handle(jobAllocateBackorders, 1, time.Minute, func(ctx context.Context, j job.Job) error {
		n, err := a.Orders.AllocateBackorders(ctx)
		if n > 0 {
			a.Log.Info("backordered orders got stock", "orders", n)
			a.Runner.Wake()
		}
		return err
	})
	a.Runner.Every(jobAllocateBackorders, 10*time.Second)
	a.Runner.Handle(jobPrune, 1, 5*time.Minute, func(ctx context.Context, j job.Job) error {
		// Idempotency records are promised for 24 h and kept 48 h.
		if _, err := a.idem.Prune(ctx, 48*time.Hour); err != nil {
			return err
		}
		if err := a.sessions.Prune(ctx); err != nil {
			return err
		}
		_, err := a.Jobs.Prune(ctx, 7*24*time.Hour)
		return err
	})
	a.Runner.Every(jobPrune, time.Hour)
	// Demand ages out of the days-of-cover window without any stock change
	// to notice it; this sweep moves the low-stock flags (and alerts) along.
	a.Runner.Handle(jobRecheckLowStock, 1, 10*time.Minute, func(ctx context.Context, j job.Job) error {
		n, err := a.Inventory.RecheckLowStock(ctx)
		if n > 0 {
			a.Log.Info("low-stock flags rechecked", "changed", n)
		}
		return err
	})
	a.Runner.Every(jobRecheckLowStock, time.Hour)
}

// StartBackground runs the outbox relay and the job runner until ctx ends;
// the returned channel closes when both have stopped (running jobs get
// the shutdown timeout to finish, then are handed back).
func (a *App) StartBackground(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if a.Config.Workers <= 0 {
		close(done)
		return done
	}
	relayDone := make(chan struct{})
	go func() {
		defer close(relayDone)
		a.relay(ctx)
	}()
	go func() {
		a.Runner.Run(ctx, a.Config.ShutdownTimeout)
		<-relayDone
		close(done)
	}()
	return done
}

// relay fans committed events out to webhook deliveries, then wakes the
// runner. It polls often and cheaply (an indexed look at undispatched
// events), so a new event is on its way within a fraction of a second.
func (a *App) relay(ctx context.Context) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		n, err := a.Notify.Relay(ctx)
		if err != nil && ctx.Err() == nil {
			a.Log.Warn("events relay", "err", err)
		}
		if n > 0 {
			a.Runner.Wake()
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// poster sends a webhook signed with every given secret (two during a
// rotation) through the SSRF-checking client.
func poster(c *http.Client) notify.Poster {
	return func(ctx context.Context, url string, secrets []string, msgID string, ts time.Time, body []byte) notify.Result {
		r := webhook.DeliverSigned(ctx, c, url, secrets, msgID, ts, body)
		return notify.Result{StatusCode: r.StatusCode, Latency: r.Latency, Body: r.ResponseBody, Err: r.Err}
	}
}
