package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/waybill/waybill/internal/routing"
)

// Routing stores routing rules.
type Routing struct{ db *DB }

// NewRouting returns the routing rule store.
func NewRouting(db *DB) *Routing { return &Routing{db: db} }

// Rules lists a tenant's rules in the order they apply.
func (s *Routing) Rules(ctx context.Context, tenantID string) ([]routing.Rule, error) {
	const op = "store.RoutingRules"
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, position, name, active, conditions, action FROM routing_rules WHERE tenant_id = $1 ORDER BY position, id`, tenantID)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []routing.Rule
	for rows.Next() {
		var r routing.Rule
		var when, then string
		if err := rows.Scan(&r.ID, &r.Position, &r.Name, &r.Active, &when, &then); err != nil {
			return nil, wrap(op, err)
		}
		_ = json.Unmarshal([]byte(when), &r.When)
		_ = json.Unmarshal([]byte(then), &r.Then)
		out = append(out, r)
	}
	return out, wrap(op, rows.Err())
}

// SaveRule creates or replaces a rule.
func (s *Routing) SaveRule(ctx context.Context, tenantID string, r routing.Rule, at time.Time) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO routing_rules (id, tenant_id, position, name, active, conditions, action, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
		ON CONFLICT (id) DO UPDATE SET position = excluded.position, name = excluded.name, active = excluded.active,
			conditions = excluded.conditions, action = excluded.action, updated_at = excluded.updated_at
		WHERE routing_rules.tenant_id = excluded.tenant_id`,
		r.ID, tenantID, r.Position, r.Name, r.Active, jsonText(r.When), jsonText(r.Then), at)
	return wrap("store.SaveRoutingRule", err)
}

// DeleteRule removes a rule.
func (s *Routing) DeleteRule(ctx context.Context, tenantID, id string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM routing_rules WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	return affected("store.DeleteRoutingRule", "routing rule", res, err)
}
