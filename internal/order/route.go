package order

import (
	"context"

	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/sourcing"
)

// Router decides which facilities may fulfil an order's lines — the
// tenant's routing rules. Without one, every active facility may, in the
// default order (priority, then code).
type Router interface {
	Route(ctx context.Context, o *Order, facilities []inventory.Facility) (Route, error)
}

// Route is where an order's lines may be fulfilled from.
type Route struct {
	// BySKU lists, per SKU, the facility IDs allowed, most preferred
	// first. A SKU that is absent may use every facility.
	BySKU map[string][]string
	// Hold is set when a rule puts the order on hold.
	Hold *RouteHold
	// Costs are the facilities' fulfilment fees (set by the Service from
	// its Coster, not by the Router); the optimiser weighs them after
	// fewest shipments.
	Costs map[string]FacilityCost
}

// FacilityCost is what a facility charges to ship an order: per parcel and
// per unit, in minor units.
type FacilityCost struct {
	PerShipment int64
	PerUnit     int64
}

// Coster reads a tenant's facility fees.
type Coster func(ctx context.Context, tenantID string) (map[string]FacilityCost, error)

// SetCoster installs the facility fees the optimiser weighs.
func (s *Service) SetCoster(c Coster) { s.coster = c }

// crossBorder is the carriage surcharge the optimiser assumes for a parcel
// leaving its facility's country: a rough zone step, so that among equal
// plans the domestic facility wins.
const crossBorder = 1000

// RouteHold is a hold a routing rule asks for.
type RouteHold struct {
	Reason HoldReason
	Note   string
}

// SetRouter installs the routing rules' router.
func (s *Service) SetRouter(r Router) { s.router = r }

func (s *Service) route(ctx context.Context, o *Order, facilities []inventory.Facility) (Route, error) {
	var r Route
	if s.router != nil {
		var err error
		if r, err = s.router.Route(ctx, o, facilities); err != nil {
			return r, err
		}
	}
	if s.coster != nil {
		var err error
		if r.Costs, err = s.coster(ctx, o.TenantID); err != nil {
			return r, err
		}
	}
	return r, nil
}

// facilitiesFor narrows the candidates to those the route allows for sku,
// in its order of preference.
func (r Route) facilitiesFor(sku string, all []inventory.Facility) []inventory.Facility {
	ids, ok := r.BySKU[sku]
	if !ok {
		return all
	}
	byID := map[string]inventory.Facility{}
	for _, f := range all {
		byID[f.ID] = f
	}
	out := make([]inventory.Facility, 0, len(ids))
	for _, id := range ids {
		if f, ok := byID[id]; ok {
			out = append(out, f)
		}
	}
	return out
}

// unroutable lists the SKUs of open lines no facility may fulfil.
func (r Route) unroutable(o *Order, all []inventory.Facility) []string {
	var out []string
	for _, l := range o.Lines {
		if l.Open() > 0 && len(r.facilitiesFor(l.SKU, all)) == 0 {
			out = append(out, l.SKU)
		}
	}
	return out
}

// plan chooses facilities for a new order's lines with the sourcing
// optimiser: fewest unfulfilled units, then fewest shipments, then
// preference. It returns, per line, the facilities to reserve at, in
// turn, with how many units each. levels are the locked balances.
func (r Route) plan(o *Order, items map[string]inventory.Item, all []inventory.Facility, levels map[[2]string]inventory.Level) [][]planPart {
	p := sourcing.Problem{Available: map[string]map[string]int64{}}
	index := map[string]int{}
	dest := ""
	if o.ShippingAddress != nil {
		dest = o.ShippingAddress.Country
	}
	for i, f := range all {
		index[f.ID] = i
		sf := sourcing.Facility{ID: f.ID, Rank: i}
		if c, ok := r.Costs[f.ID]; ok {
			sf.PerShipment, sf.PerUnit = c.PerShipment, c.PerUnit
		}
		if dest != "" && f.Address.Country != "" && f.Address.Country != dest {
			sf.DistanceCost = crossBorder
		}
		p.Facilities = append(p.Facilities, sf)
		p.Available[f.ID] = map[string]int64{}
	}
	// A facility ranks by the best place any rule's preference gives it;
	// the rest keep the default order after those.
	for i := range p.Facilities {
		p.Facilities[i].Rank = len(all) + i
	}
	for _, ids := range r.BySKU {
		for pos, id := range ids {
			if i, ok := index[id]; ok {
				p.Facilities[i].Rank = min(p.Facilities[i].Rank, pos)
			}
		}
	}
	for _, l := range o.Lines {
		p.Lines = append(p.Lines, sourcing.Line{SKU: l.SKU, Quantity: l.Open() - l.Reserved})
		allowed := []int{}
		for _, f := range r.facilitiesFor(l.SKU, all) {
			allowed = append(allowed, index[f.ID])
		}
		p.Allowed = append(p.Allowed, allowed)
		it, ok := items[l.SKU]
		if !ok {
			continue
		}
		for _, f := range all {
			p.Available[f.ID][l.SKU] = available(it, f.ID, levels)
		}
	}
	a := sourcing.Solve(p)
	out := make([][]planPart, len(o.Lines))
	for _, part := range a.Parts {
		out[part.Line] = append(out[part.Line], planPart{facility: all[index[part.FacilityID]], quantity: part.Quantity})
	}
	return out
}

type planPart struct {
	facility inventory.Facility
	quantity int64
}

// available is how many units of it a facility can give: whole kits its
// components allow, unlimited when backorder is allowed.
func available(it inventory.Item, facilityID string, levels map[[2]string]inventory.Level) int64 {
	comps := it.Components
	if len(comps) == 0 {
		comps = []inventory.ItemComponent{{ProductID: it.ID, Quantity: 1, AllowBackorder: it.AllowBackorder}}
	}
	n := int64(1 << 40)
	for _, c := range comps {
		if c.AllowBackorder {
			continue
		}
		n = min(n, max(levels[[2]string{c.ProductID, facilityID}].Available(), 0)/max(c.Quantity, 1))
	}
	return n
}
