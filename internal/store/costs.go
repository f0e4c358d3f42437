package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/waybill/waybill/internal/costs"
)

// Costs keeps cost profiles and supplier prices.
type Costs struct{ db *DB }

// NewCosts returns the costs store.
func NewCosts(db *DB) *Costs { return &Costs{db: db} }

func (s *Costs) Profiles(ctx context.Context, tenantID string) ([]costs.Profile, error) {
	const op = "store.Profiles"
	rows, err := s.db.R.QueryContext(ctx, `SELECT facility_id, tenant_id, currency, per_order, per_unit, storage_unit_month, receiving_unit, monthly_fixed, updated_at
		FROM facility_costs WHERE tenant_id = $1 ORDER BY facility_id`, tenantID)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []costs.Profile
	for rows.Next() {
		var p costs.Profile
		if err := rows.Scan(&p.FacilityID, &p.TenantID, &p.Currency, &p.PerOrder, &p.PerUnit, &p.StorageUnitMonth, &p.ReceivingUnit, &p.MonthlyFixed, &p.UpdatedAt); err != nil {
			return nil, wrap(op, err)
		}
		p.UpdatedAt = p.UpdatedAt.UTC()
		out = append(out, p)
	}
	return out, wrap(op, rows.Err())
}

func (s *Costs) SaveProfile(ctx context.Context, p *costs.Profile) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO facility_costs (facility_id, tenant_id, currency, per_order, per_unit, storage_unit_month, receiving_unit, monthly_fixed, updated_at)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE EXISTS (SELECT 1 FROM facilities WHERE id = $1 AND tenant_id = $2)
		ON CONFLICT (facility_id) DO UPDATE SET currency = excluded.currency, per_order = excluded.per_order, per_unit = excluded.per_unit,
			storage_unit_month = excluded.storage_unit_month, receiving_unit = excluded.receiving_unit, monthly_fixed = excluded.monthly_fixed, updated_at = excluded.updated_at`,
		p.FacilityID, p.TenantID, p.Currency, p.PerOrder, p.PerUnit, p.StorageUnitMonth, p.ReceivingUnit, p.MonthlyFixed, p.UpdatedAt)
	return wrap("store.SaveProfile", err)
}

func (s *Costs) SupplierCosts(ctx context.Context, tenantID, facilityID string) ([]costs.SupplierCost, error) {
	const op = "store.SupplierCosts"
	rows, err := s.db.R.QueryContext(ctx, `SELECT facility_id, sku, currency, unit_cost, updated_at FROM supplier_costs
		WHERE tenant_id = $1 AND facility_id = $2 ORDER BY sku`, tenantID, facilityID)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []costs.SupplierCost
	for rows.Next() {
		var c costs.SupplierCost
		if err := rows.Scan(&c.FacilityID, &c.SKU, &c.Currency, &c.UnitCost, &c.UpdatedAt); err != nil {
			return nil, wrap(op, err)
		}
		c.UpdatedAt = c.UpdatedAt.UTC()
		out = append(out, c)
	}
	return out, wrap(op, rows.Err())
}

func (s *Costs) SetSupplierCosts(ctx context.Context, tenantID, facilityID string, cs []costs.SupplierCost) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM supplier_costs WHERE tenant_id = $1 AND facility_id = $2`, tenantID, facilityID); err != nil {
			return wrap("store.SetSupplierCosts", err)
		}
		for _, c := range cs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO supplier_costs (tenant_id, facility_id, sku, currency, unit_cost, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (tenant_id, facility_id, sku) DO UPDATE SET currency = excluded.currency, unit_cost = excluded.unit_cost, updated_at = excluded.updated_at`,
				tenantID, facilityID, c.SKU, c.Currency, c.UnitCost, c.UpdatedAt); err != nil {
				return wrap("store.SetSupplierCosts", err)
			}
		}
		return nil
	})
}

func (s *Costs) Volume(ctx context.Context, tenantID string, since time.Time) (costs.Volume, error) {
	const op = "store.Volume"
	var v costs.Volume
	var units, cost, sUnits, sCost, sGoods sql.NullInt64
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(DISTINCT sh.order_id), CAST(SUM(sl.quantity) AS BIGINT),
			CAST(SUM(sl.quantity * COALESCE(p.cost_minor, 0)) AS BIGINT),
			CAST(SUM(CASE WHEN sc.unit_cost IS NOT NULL THEN sl.quantity END) AS BIGINT),
			CAST(SUM(sl.quantity * sc.unit_cost) AS BIGINT),
			CAST(SUM(CASE WHEN sc.unit_cost IS NOT NULL THEN sl.quantity * COALESCE(p.cost_minor, 0) END) AS BIGINT)
		FROM shipments sh
		JOIN shipment_lines sl ON sl.shipment_id = sh.id
		LEFT JOIN products p ON p.tenant_id = sh.tenant_id AND p.sku = sl.sku
		LEFT JOIN (SELECT sku, MIN(unit_cost) AS unit_cost FROM supplier_costs WHERE tenant_id = $1 GROUP BY sku) sc ON sc.sku = sl.sku
		WHERE sh.tenant_id = $1 AND sh.created_at >= $2`, tenantID, since).Scan(&v.Orders, &units, &cost, &sUnits, &sCost, &sGoods)
	if err != nil {
		return v, wrap(op, err)
	}
	v.Units, v.ProductCost, v.SupplierUnits, v.SupplierCost, v.SupplierGoods = units.Int64, cost.Int64, sUnits.Int64, sCost.Int64, sGoods.Int64
	var stock sql.NullInt64
	if err := s.db.R.QueryRowContext(ctx, `SELECT CAST(SUM(l.on_hand) AS BIGINT) FROM stock_levels l
		JOIN facilities f ON f.id = l.facility_id WHERE l.tenant_id = $1 AND f.kind <> 'dropship'`, tenantID).Scan(&stock); err != nil {
		return v, wrap(op, err)
	}
	v.StockUnits = stock.Int64
	return v, nil
}
