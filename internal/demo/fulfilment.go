package demo

import (
	"context"

	"github.com/waybill/waybill/internal/costs"
	"github.com/waybill/waybill/internal/dispatch"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/money"
)

// SeedFulfilment gives the demo shop (once) what fulfilment costs at each
// facility, the dropship supplier's prices and its e-mail connection, so
// Insights can compare self-fulfilment, the 3PL and dropship.
func SeedFulfilment(ctx context.Context, tenantID string, inv *inventory.Service, cs *costs.Service, ds *dispatch.Service) error {
	existing, err := cs.Profiles(ctx, tenantID)
	if err != nil || len(existing) > 0 {
		return err
	}
	fees := map[string]costs.Profile{
		// Rent, two packers and software; boxes and tape per order.
		"DEN": {PerOrder: 120, PerUnit: 35, MonthlyFixed: 650000},
		// The 3PL's rate card.
		"EU-3PL": {PerOrder: 325, PerUnit: 45, StorageUnitMonth: 40, ReceivingUnit: 30},
		// The supplier's prices include picking; it charges a small fee per order.
		"SUMMIT-DS": {PerOrder: 150},
	}
	for code, p := range fees {
		f, err := inv.FacilityByCode(ctx, tenantID, code)
		if err != nil {
			return err
		}
		p.FacilityID, p.TenantID, p.Currency = f.ID, tenantID, "USD"
		if _, err := cs.SaveProfile(ctx, p); err != nil {
			return err
		}
		if code != "SUMMIT-DS" {
			continue
		}
		var prices []costs.SupplierCost
		for _, pr := range products() {
			if c, err := money.Parse(pr.Cost, "USD"); err == nil && c.Minor > 0 {
				// The supplier sells at cost plus 35 %, shipping included.
				prices = append(prices, costs.SupplierCost{SKU: pr.SKU, Currency: "USD", UnitCost: c.Minor * 135 / 100})
			}
		}
		if len(prices) > 0 {
			if err := cs.SetSupplierCosts(ctx, tenantID, f.ID, prices); err != nil {
				return err
			}
		}
		if _, _, err := ds.Connect(ctx, tenantID, f.ID, dispatch.ConnectionInput{Method: dispatch.Email, Email: "orders@summit-gear.example"}); err != nil {
			return err
		}
	}
	return nil
}
