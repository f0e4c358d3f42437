package job_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/job"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestRunnersShareWorkOnce(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		db := e.Open(t)
		js := store.NewJobs(db)
		ctx := context.Background()
		const n = 300
		for i := 0; i < n; i++ {
			if _, err := js.Enqueue(ctx, job.NewJob{Kind: "count", Payload: map[string]int{"i": i}}); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		runs := map[int]int{}
		var done atomic.Int64
		handler := func(ctx context.Context, j job.Job) error {
			var p struct{ I int }
			if err := j.Decode(&p); err != nil {
				return job.Permanent(err)
			}
			mu.Lock()
			runs[p.I]++
			mu.Unlock()
			done.Add(1)
			return nil
		}
		runCtx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for w := 0; w < 3; w++ { // three processes' worth of runners
			r := job.NewRunner(js, quiet, fmt.Sprintf("worker-%d", w))
			r.Poll = 10 * time.Millisecond
			r.Handle("count", 3, time.Second, handler)
			wg.Add(1)
			go func() { defer wg.Done(); r.Run(runCtx, time.Second) }()
		}
		deadline := time.Now().Add(30 * time.Second)
		for done.Load() < n && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		stop()
		wg.Wait()
		if len(runs) != n {
			t.Fatalf("%d of %d jobs ran", len(runs), n)
		}
		for i, c := range runs {
			if c != 1 {
				t.Fatalf("job %d ran %d times", i, c)
			}
		}
		stats, _ := js.Stats(ctx)
		for _, s := range stats {
			if s.Status != "completed" {
				t.Fatalf("job left %s: %+v", s.Status, s)
			}
		}
	})
}

func TestRetriesAndDiscard(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		db := e.Open(t)
		js := store.NewJobs(db)
		ctx := context.Background()
		js.Enqueue(ctx, job.NewJob{Kind: "flaky"})
		js.Enqueue(ctx, job.NewJob{Kind: "doomed"})
		js.Enqueue(ctx, job.NewJob{Kind: "hopeless", MaxAttempts: 2})
		var flaky, doomed, hopeless atomic.Int64
		r := job.NewRunner(js, quiet, "w")
		r.Poll = 5 * time.Millisecond
		r.Handle("flaky", 5, time.Second, func(ctx context.Context, j job.Job) error {
			if flaky.Add(1) < 3 {
				return job.Retry(time.Millisecond, errors.New("not yet"))
			}
			return nil
		})
		r.Handle("doomed", 5, time.Second, func(ctx context.Context, j job.Job) error {
			doomed.Add(1)
			return job.Permanent(errors.New("bad payload"))
		})
		r.Handle("hopeless", 5, time.Second, func(ctx context.Context, j job.Job) error {
			hopeless.Add(1)
			return job.Retry(time.Millisecond, errors.New("down"))
		})
		runCtx, stop := context.WithTimeout(ctx, 2*time.Second)
		defer stop()
		go func() {
			for flaky.Load() < 3 || hopeless.Load() < 2 || doomed.Load() < 1 {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond)
			stop()
		}()
		r.Run(runCtx, time.Second)
		if flaky.Load() != 3 || doomed.Load() != 1 || hopeless.Load() != 2 {
			t.Fatalf("runs: flaky %d doomed %d hopeless %d", flaky.Load(), doomed.Load(), hopeless.Load())
		}
		stats, _ := js.Stats(ctx)
		want := map[string]string{"flaky": "completed", "doomed": "discarded", "hopeless": "discarded"}
		for _, s := range stats {
			if want[s.Kind] != s.Status {
				t.Fatalf("%s ended %s", s.Kind, s.Status)
			}
		}
	})
}

func TestGracefulStopHandsBackWork(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		db := e.Open(t)
		js := store.NewJobs(db)
		ctx := context.Background()
		js.Enqueue(ctx, job.NewJob{Kind: "slow"})
		started := make(chan struct{})
		r := job.NewRunner(js, quiet, "w")
		r.Poll = 5 * time.Millisecond
		r.Handle("slow", 3, time.Minute, func(ctx context.Context, j job.Job) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		})
		runCtx, stop := context.WithCancel(ctx)
		go func() { <-started; stop() }()
		r.Run(runCtx, 50*time.Millisecond) // grace runs out: the job is cancelled and handed back
		jobs, err := js.Claim(ctx, "other", []string{"slow"}, 10, time.Now().UTC(), time.Now().UTC().Add(time.Minute))
		if err != nil || len(jobs) != 1 || jobs[0].Attempt != 1 {
			t.Fatalf("job not handed back: %v %+v", err, jobs)
		}
	})
}

func TestPeriodicOncePerSlot(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		db := e.Open(t)
		js := store.NewJobs(db)
		ctx := context.Background()
		var ticks atomic.Int64
		runCtx, stop := context.WithTimeout(ctx, 700*time.Millisecond)
		defer stop()
		var wg sync.WaitGroup
		for w := 0; w < 3; w++ {
			r := job.NewRunner(js, quiet, fmt.Sprintf("w%d", w))
			r.Poll = 10 * time.Millisecond
			r.Handle("tick", 1, time.Second, func(ctx context.Context, j job.Job) error { ticks.Add(1); return nil })
			r.Every("tick", time.Hour)
			wg.Add(1)
			go func() { defer wg.Done(); r.Run(runCtx, time.Second) }()
		}
		wg.Wait()
		if ticks.Load() != 1 {
			t.Fatalf("an hourly job ran %d times in one slot across three runners", ticks.Load())
		}
	})
}

// A job that outlives its lease keeps it through heartbeats, while a job
// whose worker vanished (claimed, never renewed) is taken over once its
// lease runs out.
func TestHeartbeatKeepsLeaseAndDeadWorkersLose(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		db := e.Open(t)
		js := store.NewJobs(db)
		ctx := context.Background()
		js.Enqueue(ctx, job.NewJob{Kind: "long"})
		js.Enqueue(ctx, job.NewJob{Kind: "orphan"})
		now := time.Now().UTC()
		// A process claims the orphan and dies at once.
		if got, err := js.Claim(ctx, "dead", []string{"orphan"}, 1, now, now.Add(300*time.Millisecond)); err != nil || len(got) != 1 {
			t.Fatalf("claim: %v %d", err, len(got))
		}
		var longRuns, orphanRuns atomic.Int64
		release := make(chan struct{})
		mk := func(name string) *job.Runner {
			r := job.NewRunner(js, quiet, name)
			r.Poll = 10 * time.Millisecond
			r.Lease = 300 * time.Millisecond
			r.Handle("long", 1, time.Minute, func(ctx context.Context, j job.Job) error {
				longRuns.Add(1)
				<-release
				return nil
			})
			r.Handle("orphan", 3, time.Minute, func(ctx context.Context, j job.Job) error { orphanRuns.Add(1); return nil })
			return r
		}
		runCtx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for _, name := range []string{"a", "b"} {
			r := mk(name)
			wg.Add(1)
			go func() { defer wg.Done(); r.Run(runCtx, time.Second) }()
		}
		time.Sleep(1500 * time.Millisecond) // five leases
		close(release)
		deadline := time.Now().Add(10 * time.Second)
		for orphanRuns.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		stop()
		wg.Wait()
		if longRuns.Load() != 1 {
			t.Fatalf("a job that outlived its lease ran %d times; the heartbeat should keep it", longRuns.Load())
		}
		if orphanRuns.Load() != 1 {
			t.Fatalf("the dead worker's job ran %d times; it should be taken over once", orphanRuns.Load())
		}
	})
}
