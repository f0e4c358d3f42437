package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/job"
	"github.com/waybill/waybill/internal/notify"
)

// Notify is the database side of package notify.
type Notify struct{ db *DB }

var _ notify.Store = (*Notify)(nil)

// NewNotify returns the notify store.
func NewNotify(db *DB) *Notify { return &Notify{db: db} }

// JobDeliverWebhook is the job kind that sends one delivery.
const JobDeliverWebhook = "webhook.deliver"

func scanEvent(row interface{ Scan(...any) error }) (notify.Event, error) {
	var e notify.Event
	var payload string
	err := row.Scan(&e.ID, &e.TenantID, &e.Type, &e.ObjectType, &e.ObjectID, &payload, &e.CreatedAt)
	e.Payload, e.CreatedAt = json.RawMessage(payload), e.CreatedAt.UTC()
	return e, err
}

const eventCols = `id, tenant_id, type, object_type, object_id, payload, created_at`

func (s *Notify) Events(ctx context.Context, tenantID string, f notify.EventFilter) ([]notify.Event, error) {
	args := []any{tenantID}
	arg := func(v any) string { args = append(args, v); return "$" + itoa(len(args)) }
	where := []string{"tenant_id = $1"}
	switch {
	case strings.HasSuffix(f.Type, ".*"):
		where = append(where, "type LIKE "+arg(likeEscape(strings.TrimSuffix(f.Type, "*"))+"%")+` ESCAPE '\'`)
	case f.Type != "":
		where = append(where, "type = "+arg(f.Type))
	}
	if f.ObjectID != "" {
		where = append(where, "object_id = "+arg(f.ObjectID))
	}
	if f.Since != nil {
		where = append(where, "created_at >= "+arg(f.Since.UTC()))
	}
	if f.Until != nil {
		where = append(where, "created_at < "+arg(f.Until.UTC()))
	}
	if f.After != "" {
		where = append(where, "id < "+arg(f.After))
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+eventCols+` FROM events WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT `+arg(f.Limit), args...)
	if err != nil {
		return nil, wrap("store.Events", err)
	}
	defer rows.Close()
	var out []notify.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, wrap("store.Events", err)
		}
		out = append(out, e)
	}
	return out, wrap("store.Events", rows.Err())
}

func (s *Notify) Event(ctx context.Context, tenantID, id string) (notify.Event, error) {
	e, err := scanEvent(s.db.R.QueryRowContext(ctx, `SELECT `+eventCols+` FROM events WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return e, notFound("store.Event", "event", err)
}

func (s *Notify) CreateEndpoint(ctx context.Context, e *notify.Endpoint) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO webhook_endpoints (id, tenant_id, url, description, events, secret, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, e.ID, e.TenantID, e.URL, e.Description, strings.Join(e.Events, " "), e.Secret, e.Status, e.CreatedAt, e.UpdatedAt)
	return wrap("store.CreateEndpoint", err)
}

func (s *Notify) UpdateEndpoint(ctx context.Context, e *notify.Endpoint) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE webhook_endpoints SET url = $3, description = $4, events = $5, secret = $6, previous_secret = $7,
		previous_expires_at = $8, status = $9, disabled_reason = $10, failing_since = $11, updated_at = $12 WHERE tenant_id = $1 AND id = $2`,
		e.TenantID, e.ID, e.URL, e.Description, strings.Join(e.Events, " "), e.Secret, e.PreviousSecret, e.PreviousExpiresAt, e.Status, e.DisabledReason, e.FailingSince, e.UpdatedAt)
	return affected("store.UpdateEndpoint", "webhook endpoint", res, err)
}

const endpointCols = `id, tenant_id, url, description, events, secret, previous_secret, previous_expires_at, status, disabled_reason, failing_since, created_at, updated_at`

func scanEndpoint(row interface{ Scan(...any) error }) (notify.Endpoint, error) {
	var e notify.Endpoint
	var events string
	var prevExp, failing sql.NullTime
	err := row.Scan(&e.ID, &e.TenantID, &e.URL, &e.Description, &events, &e.Secret, &e.PreviousSecret, &prevExp, &e.Status, &e.DisabledReason, &failing, &e.CreatedAt, &e.UpdatedAt)
	e.Events = strings.Fields(events)
	e.PreviousExpiresAt, e.FailingSince = timePtr(prevExp), timePtr(failing)
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	return e, err
}

func (s *Notify) Endpoint(ctx context.Context, tenantID, id string) (notify.Endpoint, error) {
	e, err := scanEndpoint(s.db.R.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return e, notFound("store.Endpoint", "webhook endpoint", err)
}

func (s *Notify) Endpoints(ctx context.Context, tenantID string) ([]notify.Endpoint, error) {
	return s.endpoints(ctx, s.db.R, tenantID, false)
}

func (s *Notify) endpoints(ctx context.Context, q Querier, tenantID string, activeOnly bool) ([]notify.Endpoint, error) {
	query := `SELECT ` + endpointCols + ` FROM webhook_endpoints WHERE tenant_id = $1`
	if activeOnly {
		query += ` AND status = 'active'`
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY id`, tenantID)
	if err != nil {
		return nil, wrap("store.Endpoints", err)
	}
	defer rows.Close()
	var out []notify.Endpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, wrap("store.Endpoints", err)
		}
		out = append(out, e)
	}
	return out, wrap("store.Endpoints", rows.Err())
}

const deliveryCols = `d.id, d.tenant_id, d.endpoint_id, d.event_id, e.type, d.status, d.attempts, d.last_status_code, d.last_error, d.next_attempt_at, d.created_at, d.updated_at`

func scanDelivery(row interface{ Scan(...any) error }) (notify.Delivery, error) {
	var d notify.Delivery
	var next sql.NullTime
	err := row.Scan(&d.ID, &d.TenantID, &d.EndpointID, &d.EventID, &d.EventType, &d.Status, &d.Attempts, &d.LastStatusCode, &d.LastError, &next, &d.CreatedAt, &d.UpdatedAt)
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = timePtr(next), d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return d, err
}

func (s *Notify) Delivery(ctx context.Context, tenantID, id string) (notify.Delivery, error) {
	d, err := scanDelivery(s.db.R.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
		WHERE d.tenant_id = $1 AND d.id = $2`, tenantID, id))
	return d, notFound("store.Delivery", "webhook delivery", err)
}

func (s *Notify) Deliveries(ctx context.Context, tenantID, endpointID, after string, limit int) ([]notify.Delivery, error) {
	q := `SELECT ` + deliveryCols + ` FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE d.tenant_id = $1 AND d.endpoint_id = $2`
	args := []any{tenantID, endpointID, limit}
	if after != "" {
		q += ` AND d.id < $4`
		args = append(args, after)
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY d.id DESC LIMIT $3`, args...)
	if err != nil {
		return nil, wrap("store.Deliveries", err)
	}
	defer rows.Close()
	var out []notify.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, wrap("store.Deliveries", err)
		}
		out = append(out, d)
	}
	return out, wrap("store.Deliveries", rows.Err())
}

func (s *Notify) Attempts(ctx context.Context, tenantID, deliveryID string) ([]notify.Attempt, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, delivery_id, attempt_no, url, status_code, response_body, latency_ms, error, created_at
		FROM webhook_attempts WHERE tenant_id = $1 AND delivery_id = $2 ORDER BY attempt_no`, tenantID, deliveryID)
	if err != nil {
		return nil, wrap("store.Attempts", err)
	}
	defer rows.Close()
	var out []notify.Attempt
	for rows.Next() {
		var a notify.Attempt
		var ms int64
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.AttemptNo, &a.URL, &a.StatusCode, &a.ResponseBody, &ms, &a.Error, &a.CreatedAt); err != nil {
			return nil, wrap("store.Attempts", err)
		}
		a.Latency, a.CreatedAt = time.Duration(ms)*time.Millisecond, a.CreatedAt.UTC()
		out = append(out, a)
	}
	return out, wrap("store.Attempts", rows.Err())
}

func (s *Notify) Replay(ctx context.Context, tenantID, deliveryID string) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		now := Now()
		res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, updated_at = $3 WHERE tenant_id = $1 AND id = $2`, tenantID, deliveryID, now)
		if err := affected("store.Replay", "webhook delivery", res, err); err != nil {
			return err
		}
		_, err = enqueue(ctx, tx, job.NewJob{Kind: JobDeliverWebhook, TenantID: tenantID, Payload: map[string]string{"delivery_id": deliveryID}, MaxAttempts: 3 * len(notify.Schedule)})
		return err
	})
}

// Relay claims undispatched events (SKIP LOCKED on PostgreSQL), creates one
// delivery and one delivery job per subscribed active endpoint, and marks
// the events dispatched — all in one transaction, so an event is fanned out
// exactly once however many processes relay.
func (s *Notify) Relay(ctx context.Context, limit int, emails map[string]string) (int, error) {
	const op = "store.Relay"
	n := 0
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, tenant_id, type FROM events WHERE dispatched_at IS NULL ORDER BY id LIMIT $1`+skipLocked(s.db.Engine), limit)
		if err != nil {
			return wrap(op, err)
		}
		type ev struct{ id, tenant, typ string }
		var evs []ev
		for rows.Next() {
			var e ev
			if err := rows.Scan(&e.id, &e.tenant, &e.typ); err != nil {
				rows.Close()
				return wrap(op, err)
			}
			evs = append(evs, e)
		}
		rows.Close()
		if len(evs) == 0 {
			return nil
		}
		endpoints := map[string][]notify.Endpoint{}
		now := Now()
		for _, e := range evs {
			if kind, ok := emails[e.typ]; ok {
				if _, err := enqueue(ctx, tx, job.NewJob{Kind: notify.JobEmail, TenantID: e.tenant, Payload: map[string]string{"event_id": e.id, "kind": kind},
					UniqueKey: "email:" + e.id, MaxAttempts: 8}); err != nil {
					return err
				}
			}
			eps, ok := endpoints[e.tenant]
			if !ok {
				if eps, err = s.endpoints(ctx, tx, e.tenant, true); err != nil {
					return err
				}
				endpoints[e.tenant] = eps
			}
			for _, ep := range eps {
				if !ep.Wants(e.typ) {
					continue
				}
				did := id.New("whd")
				res, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, status, next_attempt_at, created_at, updated_at)
					VALUES ($1, $2, $3, $4, 'pending', $5, $5, $5) ON CONFLICT (endpoint_id, event_id) DO NOTHING`, did, e.tenant, ep.ID, e.id, now)
				if err != nil {
					return wrap(op, err)
				}
				if k, _ := res.RowsAffected(); k == 0 {
					continue
				}
				if _, err := enqueue(ctx, tx, job.NewJob{Kind: JobDeliverWebhook, TenantID: e.tenant, Payload: map[string]string{"delivery_id": did}, MaxAttempts: 3 * len(notify.Schedule)}); err != nil {
					return err
				}
			}
		}
		args := []any{now}
		for _, e := range evs {
			args = append(args, e.id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE events SET dispatched_at = $1 WHERE id IN (`+placeholders(2, len(evs))+`)`, args...); err != nil {
			return wrap(op, err)
		}
		n = len(evs)
		return nil
	})
	return n, err
}

func (s *Notify) RecordAttempt(ctx context.Context, a notify.Attempt, d notify.Delivery, failingSince *time.Time, disable string) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		now := Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (id, tenant_id, delivery_id, attempt_no, url, status_code, response_body, latency_ms, error, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, id.New("wha"), d.TenantID, d.ID, a.AttemptNo, a.URL, a.StatusCode, truncate(a.ResponseBody, 4096),
			a.Latency.Milliseconds(), truncate(a.Error, 1000), now); err != nil {
			return wrap("store.RecordAttempt", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $3, attempts = $4, last_status_code = $5, last_error = $6, next_attempt_at = $7, updated_at = $8
			WHERE tenant_id = $1 AND id = $2`, d.TenantID, d.ID, d.Status, d.Attempts, d.LastStatusCode, truncate(d.LastError, 1000), d.NextAttemptAt, now); err != nil {
			return wrap("store.RecordAttempt", err)
		}
		if disable != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $3, failing_since = $4, updated_at = $5
				WHERE tenant_id = $1 AND id = $2 AND status = 'active'`, d.TenantID, d.EndpointID, disable, failingSince, now); err != nil {
				return wrap("store.RecordAttempt", err)
			}
			return emit(ctx, tx, d.TenantID, "webhook_endpoint.disabled", "webhook_endpoint", d.EndpointID, map[string]any{"id": d.EndpointID, "reason": disable, "failing_since": failingSince})
		}
		_, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = $3 WHERE tenant_id = $1 AND id = $2`, d.TenantID, d.EndpointID, failingSince)
		return wrap("store.RecordAttempt", err)
	})
}

func (s *Notify) NotificationSettings(ctx context.Context, tenantID string) (map[string]bool, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT kind, enabled FROM notification_settings WHERE tenant_id = $1`, tenantID)
	if err != nil {
		return nil, wrap("store.NotificationSettings", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		var on bool
		if err := rows.Scan(&k, &on); err != nil {
			return nil, wrap("store.NotificationSettings", err)
		}
		out[k] = on
	}
	return out, wrap("store.NotificationSettings", rows.Err())
}

func (s *Notify) SetNotificationSetting(ctx context.Context, tenantID, kind string, enabled bool) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO notification_settings (tenant_id, kind, enabled) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id, kind) DO UPDATE SET enabled = excluded.enabled`, tenantID, kind, enabled)
	return wrap("store.SetNotificationSetting", err)
}
