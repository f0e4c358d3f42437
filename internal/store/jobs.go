package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/job"
)

// Jobs is the database side of package job.
type Jobs struct{ db *DB }

var _ job.Store = (*Jobs)(nil)

// NewJobs returns the jobs store.
func NewJobs(db *DB) *Jobs { return &Jobs{db: db} }

// Enqueue adds a job outside any other transaction.
func (s *Jobs) Enqueue(ctx context.Context, j job.NewJob) (bool, error) {
	return enqueue(ctx, s.db.W, j)
}

// enqueue adds a job inside the caller's transaction, so the job exists if
// and only if the change that asked for it committed.
func enqueue(ctx context.Context, q Querier, j job.NewJob) (bool, error) {
	payload, err := json.Marshal(j.Payload)
	if err != nil {
		return false, errs.E("store.enqueue", errs.Internal, err)
	}
	if j.Payload == nil {
		payload = []byte("{}")
	}
	runAt := j.RunAt
	if runAt.IsZero() {
		runAt = Now()
	}
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = 10
	}
	var unique any
	if j.UniqueKey != "" {
		unique = j.UniqueKey
	}
	res, err := q.ExecContext(ctx, `INSERT INTO jobs (id, kind, tenant_id, payload, unique_key, status, max_attempts, run_at, created_at)
		VALUES ($1, $2, $3, $4, $5, 'available', $6, $7, $8) ON CONFLICT DO NOTHING`,
		id.New("job"), j.Kind, j.TenantID, string(payload), unique, j.MaxAttempts, runAt.UTC(), Now())
	if err != nil {
		return false, wrap("store.enqueue", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (s *Jobs) Claim(ctx context.Context, worker string, kinds []string, n int, now, leaseUntil time.Time) ([]job.Job, error) {
	args := []any{worker, leaseUntil, now, n}
	for _, k := range kinds {
		args = append(args, k)
	}
	q := `UPDATE jobs SET status = 'running', attempt = attempt + 1, locked_by = $1, locked_until = $2
		WHERE id IN (SELECT id FROM jobs
			WHERE kind IN (` + placeholders(5, len(kinds)) + `)
			  AND ((status = 'available' AND run_at <= $3) OR (status = 'running' AND locked_until < $3))
			ORDER BY run_at, id LIMIT $4` + skipLocked(s.db.Engine) + `)
		RETURNING id, kind, tenant_id, payload, attempt, max_attempts, run_at`
	var out []job.Job
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return wrap("store.ClaimJobs", err)
		}
		defer rows.Close()
		for rows.Next() {
			var j job.Job
			var payload string
			if err := rows.Scan(&j.ID, &j.Kind, &j.TenantID, &payload, &j.Attempt, &j.MaxAttempts, &j.RunAt); err != nil {
				return wrap("store.ClaimJobs", err)
			}
			j.Payload = json.RawMessage(payload)
			out = append(out, j)
		}
		return wrap("store.ClaimJobs", rows.Err())
	})
	return out, err
}

// Extend renews worker's lease on the given running jobs until until; it is
// the heartbeat that lets a short lease survive a long job, so the jobs of a
// killed process are taken over within one lease rather than after minutes.
func (s *Jobs) Extend(ctx context.Context, worker string, ids []string, until time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{worker, until}
	for _, id := range ids {
		args = append(args, id)
	}
	_, err := s.db.W.ExecContext(ctx, `UPDATE jobs SET locked_until = $2
		WHERE locked_by = $1 AND status = 'running' AND id IN (`+placeholders(3, len(ids))+`)`, args...)
	return wrap("store.ExtendJobs", err)
}

func (s *Jobs) finish(ctx context.Context, set string, args ...any) (bool, error) {
	res, err := s.db.W.ExecContext(ctx, `UPDATE jobs SET `+set+`, locked_by = '', locked_until = NULL
		WHERE id = $1 AND locked_by = $2 AND status = 'running'`, args...)
	if err != nil {
		return false, wrap("store.FinishJob", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (s *Jobs) Complete(ctx context.Context, id, worker string, at time.Time) (bool, error) {
	return s.finish(ctx, `status = 'completed', finished_at = $3`, id, worker, at)
}

func (s *Jobs) Reschedule(ctx context.Context, id, worker string, runAt time.Time, lastErr string) (bool, error) {
	return s.finish(ctx, `status = 'available', run_at = $3, last_error = $4`, id, worker, runAt.UTC(), truncate(lastErr, 2000))
}

func (s *Jobs) Discard(ctx context.Context, id, worker string, at time.Time, lastErr string) (bool, error) {
	return s.finish(ctx, `status = 'discarded', finished_at = $3, last_error = $4`, id, worker, at, truncate(lastErr, 2000))
}

func (s *Jobs) Unclaim(ctx context.Context, id, worker string) error {
	_, err := s.finish(ctx, `status = 'available', attempt = attempt - 1`, id, worker)
	return err
}

// JobCount is how many jobs of a kind are in a status.
type JobCount struct {
	Kind   string
	Status string
	Count  int64
}

// JobStats counts jobs by kind and status (the dashboard's jobs page).
func (s *Jobs) Stats(ctx context.Context) ([]JobCount, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT kind, status, COUNT(*) FROM jobs GROUP BY kind, status ORDER BY kind, status`)
	if err != nil {
		return nil, wrap("store.JobStats", err)
	}
	defer rows.Close()
	var out []JobCount
	for rows.Next() {
		var c JobCount
		if err := rows.Scan(&c.Kind, &c.Status, &c.Count); err != nil {
			return nil, wrap("store.JobStats", err)
		}
		out = append(out, c)
	}
	return out, wrap("store.JobStats", rows.Err())
}

// JobRow is a job as an operator sees it.
type JobRow struct {
	ID, Kind, TenantID, Status, LastError, LockedBy string
	Attempt, MaxAttempts                            int
	RunAt, CreatedAt                                time.Time
}

// RecentJobs lists jobs in a status (failing ones: status available with an
// error), newest first.
func (s *Jobs) Recent(ctx context.Context, status string, failingOnly bool, limit int) ([]JobRow, error) {
	q := `SELECT id, kind, tenant_id, status, last_error, locked_by, attempt, max_attempts, run_at, created_at FROM jobs WHERE status = $1`
	if failingOnly {
		q += ` AND last_error <> ''`
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY id DESC LIMIT $2`, status, limit)
	if err != nil {
		return nil, wrap("store.RecentJobs", err)
	}
	defer rows.Close()
	var out []JobRow
	for rows.Next() {
		var j JobRow
		if err := rows.Scan(&j.ID, &j.Kind, &j.TenantID, &j.Status, &j.LastError, &j.LockedBy, &j.Attempt, &j.MaxAttempts, &j.RunAt, &j.CreatedAt); err != nil {
			return nil, wrap("store.RecentJobs", err)
		}
		out = append(out, j)
	}
	return out, wrap("store.RecentJobs", rows.Err())
}

// Prune deletes finished jobs older than age.
func (s *Jobs) Prune(ctx context.Context, age time.Duration) (int64, error) {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM jobs WHERE status IN ('completed', 'discarded') AND finished_at < $1`, Now().Add(-age))
	if err != nil {
		return 0, wrap("store.PruneJobs", err)
	}
	return res.RowsAffected()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
