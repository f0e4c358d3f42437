package demo

import (
	"context"

	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/routing"
)

// SeedRouting gives the demo shop (once) routing rules that send its orders
// through the main warehouse, the 3PL and the dropship supplier.
func SeedRouting(ctx context.Context, tenantID string, rs *routing.Service) error {
	if existing, err := rs.Rules(ctx, tenantID); err != nil || len(existing) > 0 {
		return err
	}
	rules := []routing.Rule{
		{Name: "Knives ship from our own warehouse (age check)", Active: true,
			When: routing.Conditions{SKUs: []string{"KNIFE-*"}},
			Then: routing.Action{Kind: routing.Only, FacilityKinds: []inventory.FacilityKind{inventory.Own}}},
		{Name: "Outside North America: the Rotterdam 3PL first", Active: true,
			When: routing.Conditions{NotCountries: []string{"US", "CA"}},
			Then: routing.Action{Kind: routing.Prefer, Facilities: []string{"EU-3PL"}}},
		{Name: "Sleeping bags are dropshipped by Summit", Active: true,
			When: routing.Conditions{ProductTypes: []string{"Sleeping bags"}},
			Then: routing.Action{Kind: routing.Prefer, Facilities: []string{"SUMMIT-DS"}}},
		{Name: "Orders over $2,000 are checked first", Active: true,
			When: routing.Conditions{MinTotal: "2000"},
			Then: routing.Action{Kind: routing.Hold, HoldReason: "OTHER", HoldNote: "large order: check it before it ships"}},
	}
	for _, r := range rules {
		if _, err := rs.Save(ctx, tenantID, r); err != nil {
			return err
		}
	}
	return nil
}
