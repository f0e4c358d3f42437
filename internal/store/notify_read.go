package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/waybill/waybill/internal/notify"
)

// Reads for the dashboard's notification bell, webhook delivery log and
// jobs page. They are here rather than in notify.go and jobs.go only so the
// dashboard's work stays out of files others are changing; every query
// names its tenant.

// CountEventsAfter counts a tenant's events of the given types whose id is
// greater than after, stopping at limit: the bell shows "99+" rather than
// paying for an exact count. One range scan of events_type per type.
func (s *Notify) CountEventsAfter(ctx context.Context, tenantID string, types []string, after string, limit int) (int, error) {
	if len(types) == 0 {
		return 0, nil
	}
	args := []any{tenantID, after, limit}
	for _, t := range types {
		args = append(args, t)
	}
	var n int
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM events
		WHERE tenant_id = $1 AND type IN (`+placeholders(4, len(types))+`) AND id > $2 LIMIT $3) AS recent`, args...).Scan(&n)
	return n, wrap("store.CountEventsAfter", err)
}

// LatestEvents lists a tenant's newest events of the given types, newest
// first. Each type is read newest-first from events_type and only the
// newest limit of them merged, so the cost does not grow with history.
func (s *Notify) LatestEvents(ctx context.Context, tenantID string, types []string, limit int) ([]notify.Event, error) {
	if len(types) == 0 {
		return nil, nil
	}
	args := []any{tenantID, limit}
	q := ""
	for i, t := range types {
		args = append(args, t)
		if i > 0 {
			q += ` UNION ALL `
		}
		// SQLite takes ORDER BY and LIMIT in a compound member only inside
		// a subquery; PostgreSQL accepts the same text.
		q += `SELECT * FROM (SELECT ` + eventCols + ` FROM events WHERE tenant_id = $1 AND type = $` + itoa(len(args)) +
			` ORDER BY id DESC LIMIT $2) AS t` + itoa(i)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+eventCols+` FROM (`+q+`) AS latest ORDER BY id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, wrap("store.LatestEvents", err)
	}
	defer rows.Close()
	var out []notify.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, wrap("store.LatestEvents", err)
		}
		out = append(out, e)
	}
	return out, wrap("store.LatestEvents", rows.Err())
}

// LastLatencies returns the latency of the latest attempt of each of the
// given deliveries (those not yet tried are missing from the map).
func (s *Notify) LastLatencies(ctx context.Context, tenantID string, deliveryIDs []string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	if len(deliveryIDs) == 0 {
		return out, nil
	}
	args := []any{tenantID}
	for _, id := range deliveryIDs {
		args = append(args, id)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT delivery_id, latency_ms FROM webhook_attempts
		WHERE tenant_id = $1 AND delivery_id IN (`+placeholders(2, len(deliveryIDs))+`) ORDER BY delivery_id, attempt_no`, args...)
	if err != nil {
		return nil, wrap("store.LastLatencies", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var ms int64
		if err := rows.Scan(&id, &ms); err != nil {
			return nil, wrap("store.LastLatencies", err)
		}
		out[id] = time.Duration(ms) * time.Millisecond // the last attempt wins
	}
	return out, wrap("store.LastLatencies", rows.Err())
}

// A tenant's view of the job queue: its own jobs and the install's
// tenant-less housekeeping, never another tenant's (their errors can name
// their webhook URLs). Stats and Recent in jobs.go are the install-wide view.

// Job states as an operator reads them: an available job with an error is
// waiting to be retried, one without is queued.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobRetrying  = "retrying"
	JobCompleted = "completed"
	JobDiscarded = "discarded"
)

// TenantJobStats counts the tenant's jobs (and the tenant-less ones) by kind
// and state (JobQueued … JobDiscarded).
func (s *Jobs) TenantJobStats(ctx context.Context, tenantID string) ([]JobCount, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT kind,
		CASE WHEN status = 'available' AND last_error <> '' THEN 'retrying' WHEN status = 'available' THEN 'queued' ELSE status END AS state,
		COUNT(*) FROM jobs WHERE tenant_id IN ($1, '') GROUP BY 1, 2 ORDER BY 1, 2`, tenantID)
	if err != nil {
		return nil, wrap("store.TenantJobStats", err)
	}
	defer rows.Close()
	var out []JobCount
	for rows.Next() {
		var c JobCount
		if err := rows.Scan(&c.Kind, &c.Status, &c.Count); err != nil {
			return nil, wrap("store.TenantJobStats", err)
		}
		out = append(out, c)
	}
	return out, wrap("store.TenantJobStats", rows.Err())
}

// JobFailure is a job whose last run failed: still to be retried (or being
// retried now), or discarded.
type JobFailure struct {
	JobRow
	Payload    string
	FinishedAt *time.Time
}

// TenantJobFailures lists the tenant's (and the tenant-less) jobs whose last
// run failed and that have not since succeeded, newest first.
func (s *Jobs) TenantJobFailures(ctx context.Context, tenantID string, limit int) ([]JobFailure, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, kind, tenant_id, status, last_error, locked_by, attempt, max_attempts, run_at, created_at, payload, finished_at
		FROM jobs WHERE tenant_id IN ($1, '') AND last_error <> '' AND status <> 'completed' ORDER BY id DESC LIMIT $2`, tenantID, limit)
	if err != nil {
		return nil, wrap("store.TenantJobFailures", err)
	}
	defer rows.Close()
	var out []JobFailure
	for rows.Next() {
		var j JobFailure
		var finished sql.NullTime
		if err := rows.Scan(&j.ID, &j.Kind, &j.TenantID, &j.Status, &j.LastError, &j.LockedBy, &j.Attempt, &j.MaxAttempts, &j.RunAt, &j.CreatedAt,
			&j.Payload, &finished); err != nil {
			return nil, wrap("store.TenantJobFailures", err)
		}
		j.RunAt, j.CreatedAt, j.FinishedAt = j.RunAt.UTC(), j.CreatedAt.UTC(), timePtr(finished)
		out = append(out, j)
	}
	return out, wrap("store.TenantJobFailures", rows.Err())
}
