package app

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/channels/amazon"
	"github.com/waybill/waybill/internal/channels/ebay"
	"github.com/waybill/waybill/internal/channels/ecwid"
	"github.com/waybill/waybill/internal/channels/shopify"
	"github.com/waybill/waybill/internal/channels/woocommerce"
	"github.com/waybill/waybill/internal/job"
)

const (
	jobPollChannels = "channels.poll"
	jobPollChannel  = "channels.poll_one"
)

// channelHTTPClient is the client channel connectors call vendors with.
func channelHTTPClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second}
}

// channelKinds are the sales channels this binary can connect.
func channelKinds() []channels.Kind {
	return []channels.Kind{shopify.Kind(), woocommerce.Kind(), ecwid.Kind(), amazon.Kind(), ebay.Kind()}
}

// wireChannels schedules the reconciliation polls: every minute the due
// channels each get a poll job (one per channel and minute, whatever the
// number of processes), which a throttled vendor reschedules.
func (a *App) wireChannels() {
	a.Runner.Handle(jobPollChannels, 1, time.Minute, func(ctx context.Context, j job.Job) error {
		due, err := a.Channels.Due(ctx)
		if err != nil {
			return err
		}
		slot := time.Now().UTC().Truncate(time.Minute).Unix()
		for _, c := range due {
			if _, err := a.Jobs.Enqueue(ctx, job.NewJob{Kind: jobPollChannel, TenantID: c.TenantID, Payload: map[string]string{"channel_id": c.ID},
				UniqueKey: jobPollChannel + ":" + c.ID + "@" + strconv.FormatInt(slot, 10), MaxAttempts: 5}); err != nil {
				return err
			}
		}
		if len(due) > 0 {
			a.Runner.Wake()
		}
		return nil
	})
	a.Runner.Every(jobPollChannels, time.Minute)
	a.Runner.Handle(jobPollChannel, 5, 10*time.Minute, func(ctx context.Context, j job.Job) error {
		var p struct {
			ChannelID string `json:"channel_id"`
		}
		if err := j.Decode(&p); err != nil {
			return job.Permanent(err)
		}
		n, err := a.Channels.Poll(ctx, j.TenantID, p.ChannelID)
		if n > 0 {
			a.Log.Info("channel poll brought orders", "channel", p.ChannelID, "changed", n)
			a.Runner.Wake()
		}
		var th channels.ErrThrottled
		if errors.As(err, &th) {
			return job.Retry(th.After, err)
		}
		var auth channels.ErrAuth
		if errors.As(err, &auth) {
			return job.Permanent(err) // recorded on the channel; new credentials are needed
		}
		return err
	})
}
