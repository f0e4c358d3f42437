package notify

import (
	"context"
	"fmt"
	"time"
)

// Result is what one HTTP attempt returned.
type Result struct {
	StatusCode int
	Latency    time.Duration
	Body       []byte
	Err        string // empty on a 2xx
}

// Poster sends one signed webhook request: body signed with every secret
// given (two while a secret is being rotated), under message id msgID.
type Poster func(ctx context.Context, url string, secrets []string, msgID string, ts time.Time, body []byte) Result

// Deliverer sends deliveries; its Deliver is the webhook.deliver job.
type Deliverer struct {
	store Store
	post  Poster
	now   func() time.Time
	// OnDisabled is told when an endpoint is disabled for failing (to
	// e-mail its owner); it may be nil.
	OnDisabled func(ctx context.Context, e Endpoint, reason string)
	// Schedule is the delay before each attempt (default: the published
	// Schedule); DisableAfter how long an endpoint may fail before it is
	// disabled (default DisableAfter). Tests shorten both.
	Schedule     []time.Duration
	DisableAfter time.Duration
}

// NewDeliverer returns a Deliverer.
func NewDeliverer(store Store, post Poster) *Deliverer {
	return &Deliverer{store: store, post: post, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		Schedule: Schedule, DisableAfter: DisableAfter}
}

// ErrRetry is returned with the delay before the next attempt; the job
// runner turns it into a reschedule.
type ErrRetry struct {
	After time.Duration
	Err   string
}

func (e ErrRetry) Error() string { return e.Err }

// Deliver makes one attempt of a delivery. It returns nil when the delivery
// is finished (succeeded, failed for good, or nothing to do), or ErrRetry
// with the published schedule's next delay.
func (d *Deliverer) Deliver(ctx context.Context, tenantID, deliveryID string) error {
	del, err := d.store.Delivery(ctx, tenantID, deliveryID)
	if err != nil {
		return err
	}
	if del.Status != "pending" {
		return nil // replayed or finished by an earlier run
	}
	ep, err := d.store.Endpoint(ctx, tenantID, del.EndpointID)
	if err != nil {
		return err
	}
	now := d.now()
	if ep.Status != "active" {
		del.Status, del.LastError, del.NextAttemptAt = "failed", "endpoint is disabled", nil
		return d.store.RecordAttempt(ctx, Attempt{AttemptNo: del.Attempts, URL: ep.URL, Error: "not sent: endpoint is disabled"}, del, ep.FailingSince, "")
	}
	ev, err := d.store.Event(ctx, tenantID, del.EventID)
	if err != nil {
		return err
	}
	body, err := Body(ev)
	if err != nil {
		return err
	}
	secrets := []string{ep.Secret}
	if ep.PreviousSecret != "" && ep.PreviousExpiresAt != nil && now.Before(*ep.PreviousExpiresAt) {
		secrets = append(secrets, ep.PreviousSecret)
	}
	// The message id is the event id: a receiver deduplicates on it across
	// retries, replays and endpoints.
	res := d.post(ctx, ep.URL, secrets, ev.ID, now, body)
	del.Attempts++
	del.LastStatusCode, del.LastError = res.StatusCode, res.Err
	a := Attempt{AttemptNo: del.Attempts, URL: ep.URL, StatusCode: res.StatusCode, ResponseBody: string(res.Body), Latency: res.Latency, Error: res.Err}
	if res.Err == "" {
		del.Status, del.NextAttemptAt = "succeeded", nil
		return d.store.RecordAttempt(ctx, a, del, nil, "")
	}
	failing := ep.FailingSince
	if failing == nil {
		failing = &now
	}
	disable := ""
	if now.Sub(*failing) >= d.DisableAfter {
		disable = fmt.Sprintf("every delivery failed for %s (last: %s)", now.Sub(*failing).Round(time.Hour), res.Err)
	}
	if del.Attempts >= len(d.Schedule) || disable != "" {
		del.Status, del.NextAttemptAt = "failed", nil
		if err := d.store.RecordAttempt(ctx, a, del, failing, disable); err != nil {
			return err
		}
		if disable != "" && d.OnDisabled != nil {
			d.OnDisabled(ctx, ep, disable)
		}
		return nil
	}
	next := now.Add(d.Schedule[del.Attempts])
	del.NextAttemptAt = &next
	if err := d.store.RecordAttempt(ctx, a, del, failing, ""); err != nil {
		return err
	}
	return ErrRetry{After: d.Schedule[del.Attempts], Err: res.Err}
}
