package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Sessions keeps dashboard sessions in the database (an scs.CtxStore), so
// several waybill processes behind one load balancer share them.
type Sessions struct{ db *DB }

// NewSessions returns the session store.
func NewSessions(db *DB) *Sessions { return &Sessions{db: db} }

func (s *Sessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var data []byte
	err := s.db.R.QueryRowContext(ctx, `SELECT data FROM sessions WHERE token = $1 AND expiry > $2`, token, Now()).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, wrap("store.SessionFind", err)
	}
	return data, true, nil
}

func (s *Sessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`, token, b, expiry.UTC())
	return wrap("store.SessionCommit", err)
}

func (s *Sessions) DeleteCtx(ctx context.Context, token string) error {
	_, err := s.db.W.ExecContext(ctx, `DELETE FROM sessions WHERE token = $1`, token)
	return wrap("store.SessionDelete", err)
}

// The context-free variants scs also asks for.
func (s *Sessions) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}
func (s *Sessions) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}
func (s *Sessions) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

// PruneSessions removes expired sessions.
func (s *Sessions) Prune(ctx context.Context) error {
	_, err := s.db.W.ExecContext(ctx, `DELETE FROM sessions WHERE expiry < $1`, Now())
	return wrap("store.SessionPrune", err)
}
