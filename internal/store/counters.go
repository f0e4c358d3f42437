package store

import (
	"context"
	"database/sql"
	"errors"
)

// Counters are small per-tenant numbers kept in the counters table: order
// numbers, and bookmarks such as when the last new-order e-mail went out.
type Counters struct{ db *DB }

// NewCounters returns the counters store.
func NewCounters(db *DB) *Counters { return &Counters{db: db} }

// Get reads a counter (0 when it was never set).
func (s *Counters) Get(ctx context.Context, tenantID, name string) (int64, error) {
	var v int64
	err := s.db.R.QueryRowContext(ctx, `SELECT value FROM counters WHERE tenant_id = $1 AND name = $2`, tenantID, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, wrap("store.Counter", err)
}

// Swap sets a counter to to if it still holds from (0 = never set), and
// reports whether it did: of several processes racing, exactly one wins.
func (s *Counters) Swap(ctx context.Context, tenantID, name string, from, to int64) (bool, error) {
	var res sql.Result
	var err error
	if from == 0 {
		res, err = s.db.W.ExecContext(ctx, `INSERT INTO counters (tenant_id, name, value) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, name) DO NOTHING`, tenantID, name, to)
	} else {
		res, err = s.db.W.ExecContext(ctx, `UPDATE counters SET value = $4 WHERE tenant_id = $1 AND name = $2 AND value = $3`, tenantID, name, from, to)
	}
	if err != nil {
		return false, wrap("store.SwapCounter", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
