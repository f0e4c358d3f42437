// Package job runs Waybill's background work: jobs stored in the database,
// claimed by any number of waybill processes (FOR UPDATE SKIP LOCKED on
// PostgreSQL, the single writer on SQLite), run with retries and backoff,
// periodic jobs, and a graceful stop that hands unfinished work back.
package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"
)

// Job is one unit of background work.
type Job struct {
	ID          string
	Kind        string
	TenantID    string
	Payload     json.RawMessage
	Attempt     int // 1 on the first run
	MaxAttempts int
	RunAt       time.Time
}

// Decode unmarshals the payload.
func (j Job) Decode(v any) error { return json.Unmarshal(j.Payload, v) }

// Status is where a job is.
type Status string

const (
	Available Status = "available" // waiting for run_at
	Running   Status = "running"   // claimed; locked_until bounds the claim
	Completed Status = "completed"
	Discarded Status = "discarded" // failed for good
)

// Handler does a job. A nil error completes it; an error retries it with
// backoff until MaxAttempts; Permanent(err) discards it at once; Retry(d,
// err) sets the next delay.
type Handler func(ctx context.Context, j Job) error

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks an error that retrying cannot fix.
func Permanent(err error) error { return permanentError{err} }

type retryError struct {
	after time.Duration
	err   error
}

func (e retryError) Error() string { return e.err.Error() }
func (e retryError) Unwrap() error { return e.err }

// Retry asks for the next attempt after d.
func Retry(d time.Duration, err error) error { return retryError{d, err} }

// NewJob is a job to enqueue.
type NewJob struct {
	Kind        string
	TenantID    string
	Payload     any
	RunAt       time.Time // zero = now
	MaxAttempts int       // zero = the kind's default (or 10)
	UniqueKey   string    // when set, a second job with the key is not added
}

// Store is what the runner needs from the database.
type Store interface {
	Enqueue(ctx context.Context, j NewJob) (bool, error)
	// Claim marks up to n runnable jobs of the given kinds as running by
	// worker until leaseUntil and returns them. Jobs whose lease expired
	// (their worker died) are runnable again.
	Claim(ctx context.Context, worker string, kinds []string, n int, now, leaseUntil time.Time) ([]Job, error)
	// Complete, Reschedule and Discard only act while worker still holds
	// the job; false means the lease was lost and someone else has it.
	Complete(ctx context.Context, id, worker string, at time.Time) (bool, error)
	Reschedule(ctx context.Context, id, worker string, runAt time.Time, lastErr string) (bool, error)
	Discard(ctx context.Context, id, worker string, at time.Time, lastErr string) (bool, error)
	// Unclaim hands a running job back without counting the attempt (shutdown).
	Unclaim(ctx context.Context, id, worker string) error
	// Extend renews worker's lease on running jobs (the heartbeat).
	Extend(ctx context.Context, worker string, ids []string, until time.Time) error
}

type kind struct {
	handler     Handler
	maxAttempts int
	timeout     time.Duration
}

// Runner claims and runs jobs.
type Runner struct {
	store    Store
	log      *slog.Logger
	worker   string
	kinds    map[string]kind
	periodic []periodic
	// Workers is how many jobs run at once in this process.
	Workers int
	// Poll is how often the runner looks for work when idle.
	Poll time.Duration
	// Lease is how long a claim lasts without a heartbeat before another
	// process may take the job over. Running jobs are renewed every third of
	// it, so a job may run longer; a killed process's jobs move on within it.
	Lease time.Duration
	now   func() time.Time
	wake  chan struct{}

	mu      sync.Mutex
	running map[string]struct{}
}

type periodic struct {
	kind  string
	every time.Duration
}

// NewRunner returns a runner identified as worker (unique per process).
func NewRunner(store Store, log *slog.Logger, worker string) *Runner {
	return &Runner{store: store, log: log, worker: worker, kinds: map[string]kind{}, Workers: 4, Poll: time.Second, Lease: 15 * time.Second,
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }, wake: make(chan struct{}, 1), running: map[string]struct{}{}}
}

// Handle registers the handler of a kind.
func (r *Runner) Handle(kindName string, maxAttempts int, timeout time.Duration, h Handler) {
	if maxAttempts <= 0 {
		maxAttempts = 10
	}
	if timeout <= 0 {
		timeout = time.Minute
	}
	r.kinds[kindName] = kind{handler: h, maxAttempts: maxAttempts, timeout: timeout}
}

// Every enqueues a job of kind once per interval across all processes: the
// slot's start time is the job's unique key, so only one process adds it.
func (r *Runner) Every(kindName string, every time.Duration) {
	r.periodic = append(r.periodic, periodic{kindName, every})
}

// Wake makes the runner look for work now (after a commit that enqueued).
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Backoff is the default delay before attempt n+1: 1 s, 4 s, 16 s, … capped
// at an hour, with ±20 % jitter so failing jobs do not move in lockstep.
func Backoff(attempt int) time.Duration {
	d := time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 4
	}
	d = min(d, time.Hour)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// Run claims and runs jobs until ctx is done, then waits for running jobs
// (up to grace) and hands back those that did not finish.
func (r *Runner) Run(ctx context.Context, grace time.Duration) {
	kinds := make([]string, 0, len(r.kinds))
	for k := range r.kinds {
		kinds = append(kinds, k)
	}
	slots := make(chan struct{}, max(r.Workers, 1))
	var wg sync.WaitGroup
	// Jobs run under their own context so that a shutdown lets them finish;
	// it is cancelled only when the grace period runs out.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	tick := time.NewTicker(r.Poll)
	defer tick.Stop()
	hbDone := make(chan struct{})
	go r.heartbeat(jobCtx, hbDone)
	defer close(hbDone)
	lastPeriodic := time.Time{}
	for {
		if ctx.Err() != nil {
			break
		}
		now := r.now()
		if now.Sub(lastPeriodic) >= r.Poll {
			r.schedulePeriodic(ctx, now)
			lastPeriodic = now
		}
		free := cap(slots) - len(slots)
		var jobs []Job
		if free > 0 && len(kinds) > 0 {
			var err error
			jobs, err = r.store.Claim(ctx, r.worker, kinds, free, now, now.Add(r.Lease))
			if err != nil && ctx.Err() == nil {
				r.log.Warn("jobs: claim failed", "err", err)
			}
		}
		for _, j := range jobs {
			slots <- struct{}{}
			wg.Add(1)
			r.mu.Lock()
			r.running[j.ID] = struct{}{}
			r.mu.Unlock()
			go func(j Job) {
				defer wg.Done()
				r.run(jobCtx, j)
				r.mu.Lock()
				delete(r.running, j.ID)
				r.mu.Unlock()
				<-slots
				r.Wake() // a worker is free: look for more work now, not at the next poll
			}(j)
		}
		if len(jobs) == free && free > 0 {
			continue // there may be more
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		case <-r.wake:
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		r.log.Warn("jobs: grace period over; cancelling running jobs")
		cancelJobs()
		<-done
	}
}

// heartbeat renews the lease of this process's running jobs every third of
// the lease until done is closed.
func (r *Runner) heartbeat(ctx context.Context, done <-chan struct{}) {
	t := time.NewTicker(max(r.Lease/3, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		r.mu.Lock()
		ids := make([]string, 0, len(r.running))
		for id := range r.running {
			ids = append(ids, id)
		}
		r.mu.Unlock()
		if err := r.store.Extend(ctx, r.worker, ids, r.now().Add(r.Lease)); err != nil && ctx.Err() == nil {
			r.log.Warn("jobs: lease renewal failed", "err", err)
		}
	}
}

func (r *Runner) schedulePeriodic(ctx context.Context, now time.Time) {
	for _, p := range r.periodic {
		slot := now.Truncate(p.every)
		if _, err := r.store.Enqueue(ctx, NewJob{Kind: p.kind, RunAt: slot, UniqueKey: fmt.Sprintf("%s@%d", p.kind, slot.Unix()), MaxAttempts: 1}); err != nil && ctx.Err() == nil {
			r.log.Warn("jobs: periodic enqueue failed", "kind", p.kind, "err", err)
		}
	}
}

// run executes one claimed job and records the outcome.
func (r *Runner) run(ctx context.Context, j Job) {
	k, ok := r.kinds[j.Kind]
	if !ok {
		_ = r.store.Unclaim(ctx, j.ID, r.worker)
		return
	}
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = k.maxAttempts
	}
	runCtx, cancel := context.WithTimeout(ctx, k.timeout)
	err := func() (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
			}
		}()
		return k.handler(runCtx, j)
	}()
	cancel()
	now := r.now()
	// Record the outcome even if the process is shutting down.
	bg := context.WithoutCancel(ctx)
	var held bool
	var serr error
	var pe permanentError
	var re retryError
	switch {
	case err == nil:
		held, serr = r.store.Complete(bg, j.ID, r.worker, now)
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		serr = r.store.Unclaim(bg, j.ID, r.worker)
		held = true
	case errors.As(err, &pe) || j.Attempt >= j.MaxAttempts:
		r.log.Warn("jobs: job failed for good", "kind", j.Kind, "id", j.ID, "attempt", j.Attempt, "err", err)
		held, serr = r.store.Discard(bg, j.ID, r.worker, now, err.Error())
	default:
		delay := Backoff(j.Attempt)
		if errors.As(err, &re) {
			delay = re.after
		}
		held, serr = r.store.Reschedule(bg, j.ID, r.worker, now.Add(delay), err.Error())
	}
	if serr != nil {
		r.log.Error("jobs: could not record outcome", "kind", j.Kind, "id", j.ID, "err", serr)
	} else if !held {
		r.log.Warn("jobs: lease lost before the job finished; another worker has it", "kind", j.Kind, "id", j.ID)
	}
}
