package inventory

import (
	"context"
	"slices"
	"sort"

	"github.com/waybill/waybill/internal/id"
)

// RefOrderLine is the RefType of reservations held for order lines. Their
// changes are reported through order events rather than reservation.* ones.
const RefOrderLine = "order_line"

// Candidates returns the active facilities in the default sourcing order:
// priority, then code. Until routing rules decide otherwise, stock for an
// order is reserved at the first of them that has it.
func (s *Service) Candidates(ctx context.Context, tenantID string) ([]Facility, error) {
	all, err := s.store.ListFacilities(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out []Facility
	for _, f := range all {
		if f.Active {
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Priority != out[j].Priority {
			return out[i].Priority < out[j].Priority
		}
		return out[i].Code < out[j].Code
	})
	return out, nil
}

// Allocation is what ReserveIn managed to hold for one order line.
type Allocation struct {
	ReservationID string // empty when nothing was reserved
	FacilityID    string
	Reserved      int64
	ProductIDs    []string // the balances it changed (a kit's components)
}

// ReserveIn reserves up to qty units of it inside the caller's transaction,
// all at one facility: the first of facilities that has every unit, or else
// the one that has the most (the rest stays unreserved — a backorder). A kit
// counts in whole kits its components allow; a SKU that allows backorder is
// always reserved in full. Balances are read locked, so the reservation can
// never take available below zero. The caller must call Settle with the
// balances it changed before the transaction commits (once for all lines
// of an order, so low-stock checks read each balance once).
func (s *Service) ReserveIn(ctx context.Context, tx Tx, tenantID string, it Item, qty int64, facilities []Facility, refType, refID, actor string) (Allocation, error) {
	if qty <= 0 || len(facilities) == 0 {
		return Allocation{}, nil
	}
	comps := components(it)
	pids := make([]string, len(comps))
	for i, c := range comps {
		pids[i] = c.ProductID
	}
	facIDs := make([]string, len(facilities))
	for i, f := range facilities {
		facIDs[i] = f.ID
	}
	levels, err := tx.Levels(ctx, tenantID, pids, facIDs)
	if err != nil {
		return Allocation{}, err
	}
	best, bestUnits := "", int64(0)
	for _, f := range facilities {
		units := qty
		for _, c := range comps {
			if c.AllowBackorder {
				continue
			}
			units = min(units, max(levels[[2]string{c.ProductID, f.ID}].Available(), 0)/max(c.Quantity, 1))
		}
		if units > bestUnits {
			best, bestUnits = f.ID, units
		}
		if units == qty {
			break
		}
	}
	if bestUnits == 0 {
		return Allocation{}, nil
	}
	r := Reservation{ID: id.New("res"), TenantID: tenantID, Status: Active, RefType: refType, RefID: refID, CreatedAt: s.now()}
	kitID := ""
	if len(it.Components) > 0 {
		kitID = it.ID
	}
	for i, c := range comps {
		r.Lines = append(r.Lines, ReservationLine{LineNo: i, ProductID: c.ProductID, SKU: c.SKU, KitID: kitID, FacilityID: best, Quantity: c.Quantity * bestUnits})
	}
	if err := tx.CreateReservation(ctx, &r); err != nil {
		return Allocation{}, err
	}
	for i, l := range r.Lines {
		if _, err := tx.Apply(ctx, tenantID, Change{ProductID: l.ProductID, FacilityID: best, Kind: Reserve, Reserved: l.Quantity,
			AllowNegativeAvailable: comps[i].AllowBackorder, RefType: "reservation", RefID: r.ID, Actor: actor}); err != nil {
			return Allocation{}, err
		}
	}
	return Allocation{ReservationID: r.ID, FacilityID: best, Reserved: bestUnits, ProductIDs: pids}, nil
}

// Settle checks the low-stock flags of balances changed in tx by ReserveIn
// (facility ID → product IDs), emitting inventory.low_stock where one just
// fell to its reorder point.
func (s *Service) Settle(ctx context.Context, tx Tx, tenantID string, touched map[string][]string) error {
	fids := make([]string, 0, len(touched))
	for f := range touched {
		fids = append(fids, f)
	}
	sort.Strings(fids)
	for _, f := range fids {
		pids := slices.Clone(touched[f])
		slices.Sort(pids)
		if err := s.afterChange(ctx, tx, tenantID, slices.Compact(pids), f, nil); err != nil {
			return err
		}
	}
	return nil
}

// Items resolves SKUs to what stock they hold (kits to their components).
func (s *Service) Items(ctx context.Context, tenantID string, skus []string) (map[string]Item, error) {
	return s.store.Items(ctx, tenantID, skus)
}
