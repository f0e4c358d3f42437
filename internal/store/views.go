package store

import (
	"context"
	"time"

	"github.com/waybill/waybill/internal/id"
)

// SavedView is a named filter set of one person on one list of the
// dashboard ("orders"): Query is the list's query string, as its URL has it.
type SavedView struct {
	ID        string
	TenantID  string
	UserID    string
	Area      string
	Name      string
	Query     string
	CreatedAt time.Time
}

// Views stores saved views (saved_views).
type Views struct{ db *DB }

// NewViews returns the saved-view store.
func NewViews(db *DB) *Views { return &Views{db: db} }

// ListViews returns a person's views of an area in the order they were made,
// which is the order of the tabs.
func (s *Views) ListViews(ctx context.Context, tenantID, userID, area string) ([]SavedView, error) {
	const op = "store.ListViews"
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, tenant_id, user_id, area, name, query, created_at FROM saved_views
		WHERE tenant_id = $1 AND user_id = $2 AND area = $3 ORDER BY created_at, id`, tenantID, userID, area)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []SavedView
	for rows.Next() {
		var v SavedView
		if err := rows.Scan(&v.ID, &v.TenantID, &v.UserID, &v.Area, &v.Name, &v.Query, &v.CreatedAt); err != nil {
			return nil, wrap(op, err)
		}
		v.CreatedAt = v.CreatedAt.UTC()
		out = append(out, v)
	}
	return out, wrap(op, rows.Err())
}

// SaveView stores v under its name: a view of the same name (same person
// and area) gets v's query and keeps its id and place among the tabs.
func (s *Views) SaveView(ctx context.Context, v SavedView) (SavedView, error) {
	const op = "store.SaveView"
	v.ID, v.CreatedAt = id.New("view"), Now()
	err := s.db.W.QueryRowContext(ctx, `INSERT INTO saved_views (id, tenant_id, user_id, area, name, query, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (tenant_id, user_id, area, name) DO UPDATE SET query = excluded.query
		RETURNING id, created_at`, v.ID, v.TenantID, v.UserID, v.Area, v.Name, v.Query, v.CreatedAt).Scan(&v.ID, &v.CreatedAt)
	if err != nil {
		return SavedView{}, wrap(op, err)
	}
	v.CreatedAt = v.CreatedAt.UTC()
	return v, nil
}

// DeleteView removes one of a person's views; NotExist when they have no
// view with that id.
func (s *Views) DeleteView(ctx context.Context, tenantID, userID, viewID string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM saved_views WHERE tenant_id = $1 AND user_id = $2 AND id = $3`, tenantID, userID, viewID)
	return affected("store.DeleteView", "saved view", res, err)
}
