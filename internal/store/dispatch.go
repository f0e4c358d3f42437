package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/waybill/waybill/internal/dispatch"
)

// Dispatch keeps facility connections.
type Dispatch struct{ db *DB }

// NewDispatch returns the connection store.
func NewDispatch(db *DB) *Dispatch { return &Dispatch{db: db} }

const connectionCols = `facility_id, tenant_id, method, callback_url, secret, settings, secrets, email, fetch_stock, last_stock_at, last_error, created_at, updated_at`

func scanConnection(row interface{ Scan(...any) error }) (dispatch.Connection, error) {
	var c dispatch.Connection
	var settings, secrets string
	var last sql.NullTime
	if err := row.Scan(&c.FacilityID, &c.TenantID, &c.Method, &c.CallbackURL, &c.Secret, &settings, &secrets, &c.Email, &c.FetchStock, &last,
		&c.LastError, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(settings), &c.Settings); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(secrets), &c.Secrets); err != nil {
		return c, err
	}
	if last.Valid {
		t := last.Time.UTC()
		c.LastStockAt = &t
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

func (s *Dispatch) Connection(ctx context.Context, tenantID, facilityID string) (dispatch.Connection, error) {
	c, err := scanConnection(s.db.R.QueryRowContext(ctx, `SELECT `+connectionCols+` FROM facility_connections WHERE tenant_id = $1 AND facility_id = $2`, tenantID, facilityID))
	return c, notFound("store.Connection", "connection", err)
}

func (s *Dispatch) SaveConnection(ctx context.Context, c *dispatch.Connection) error {
	settings, err := json.Marshal(orEmpty(c.Settings))
	if err != nil {
		return wrap("store.SaveConnection", err)
	}
	secrets, err := json.Marshal(orEmpty(c.Secrets))
	if err != nil {
		return wrap("store.SaveConnection", err)
	}
	_, err = s.db.W.ExecContext(ctx, `INSERT INTO facility_connections (`+connectionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (facility_id) DO UPDATE SET method = excluded.method, callback_url = excluded.callback_url, secret = excluded.secret,
			settings = excluded.settings, secrets = excluded.secrets, email = excluded.email, fetch_stock = excluded.fetch_stock,
			last_stock_at = excluded.last_stock_at, last_error = excluded.last_error, updated_at = excluded.updated_at`,
		c.FacilityID, c.TenantID, string(c.Method), c.CallbackURL, c.Secret, string(settings), string(secrets), c.Email, c.FetchStock, c.LastStockAt,
		c.LastError, c.CreatedAt, c.UpdatedAt)
	return wrap("store.SaveConnection", err)
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func (s *Dispatch) DeleteConnection(ctx context.Context, tenantID, facilityID string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM facility_connections WHERE tenant_id = $1 AND facility_id = $2`, tenantID, facilityID)
	return affected("store.DeleteConnection", "connection", res, err)
}

func (s *Dispatch) StockConnections(ctx context.Context) ([]dispatch.Connection, error) {
	const op = "store.StockConnections"
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+connectionCols+` FROM facility_connections
		WHERE fetch_stock = TRUE ORDER BY tenant_id, facility_id`)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []dispatch.Connection
	for rows.Next() {
		c, err := scanConnection(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, c)
	}
	return out, wrap(op, rows.Err())
}

func (s *Dispatch) FulfillmentOrderTenant(ctx context.Context, foID string) (string, error) {
	var t string
	err := s.db.R.QueryRowContext(ctx, `SELECT tenant_id FROM fulfillment_orders WHERE id = $1`, foID).Scan(&t)
	return t, notFound("store.FulfillmentOrderTenant", "fulfillment order", err)
}
