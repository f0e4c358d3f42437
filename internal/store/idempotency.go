package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Idempotency records POST requests by (tenant, Idempotency-Key) so a retry
// gets the first response back instead of doing the work twice.
type Idempotency struct{ db *DB }

// NewIdempotency returns the idempotency store.
func NewIdempotency(db *DB) *Idempotency { return &Idempotency{db: db} }

// IdemRecord is a stored request and, once finished, its response.
type IdemRecord struct {
	RequestHash  string
	Done         bool
	Committed    bool // the request's writes committed (its response may be lost)
	StatusCode   int
	ResponseType string
	ResponseBody []byte
	CreatedAt    time.Time
}

// Begin claims key for a request with the given hash. It returns claimed=true
// when this caller must do the work; otherwise the existing record.
// A record older than stale that never finished (its process died) is taken
// over.
func (s *Idempotency) Begin(ctx context.Context, tenantID, key, hash string, stale time.Duration) (claimed bool, rec IdemRecord, err error) {
	const op = "store.IdempotencyBegin"
	now := Now()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (tenant_id, key, request_hash, state, created_at)
			VALUES ($1, $2, $3, 'running', $4) ON CONFLICT (tenant_id, key) DO NOTHING`, tenantID, key, hash, now)
		if err != nil {
			return wrap(op, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			claimed = true
			return nil
		}
		var state string
		var body []byte
		err = tx.QueryRowContext(ctx, `SELECT request_hash, state, committed, status_code, response_type, response_body, created_at
			FROM idempotency_keys WHERE tenant_id = $1 AND key = $2`, tenantID, key).
			Scan(&rec.RequestHash, &state, &rec.Committed, &rec.StatusCode, &rec.ResponseType, &body, &rec.CreatedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // deleted between the two statements: treated as in flight; the client retries
		}
		if err != nil {
			return wrap(op, err)
		}
		rec.Done = state == "done"
		rec.ResponseBody = body
		if !rec.Done && !rec.Committed && rec.RequestHash == hash && now.Sub(rec.CreatedAt.UTC()) > stale {
			if _, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET created_at = $3 WHERE tenant_id = $1 AND key = $2`, tenantID, key, now); err != nil {
				return wrap(op, err)
			}
			claimed = true
		}
		return nil
	})
	return claimed, rec, err
}

// Finish stores the response of a claimed key.
func (s *Idempotency) Finish(ctx context.Context, tenantID, key string, status int, contentType string, body []byte) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE idempotency_keys SET state = 'done', status_code = $3, response_type = $4, response_body = $5
		WHERE tenant_id = $1 AND key = $2`, tenantID, key, status, contentType, body)
	return wrap("store.IdempotencyFinish", err)
}

// Abandon forgets a claimed key whose request failed in a way worth retrying
// (a 5xx or a panic), so the client's retry runs again.
func (s *Idempotency) Abandon(ctx context.Context, tenantID, key string) error {
	_, err := s.db.W.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND state = 'running'`, tenantID, key)
	return wrap("store.IdempotencyAbandon", err)
}

// Prune deletes records older than the given age (we keep them at least 24 h).
func (s *Idempotency) Prune(ctx context.Context, olderThan time.Duration) (int64, error) {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, Now().Add(-olderThan))
	if err != nil {
		return 0, wrap("store.IdempotencyPrune", err)
	}
	return res.RowsAffected()
}

type idemKey struct{}

type idemRef struct{ tenantID, key string }

// WithIdempotencyKey marks ctx as serving the request with that key: every
// write transaction of the request also marks the key committed, in the same
// transaction, so a retry after a crash between commit and response can
// never do the work a second time.
func WithIdempotencyKey(ctx context.Context, tenantID, key string) context.Context {
	return context.WithValue(ctx, idemKey{}, idemRef{tenantID, key})
}

// markCommitted is called by Tx just before it commits.
func markCommitted(ctx context.Context, tx *sql.Tx) error {
	ref, ok := ctx.Value(idemKey{}).(idemRef)
	if !ok {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET committed = TRUE WHERE tenant_id = $1 AND key = $2 AND state = 'running'`, ref.tenantID, ref.key)
	return wrap("store.markCommitted", err)
}
