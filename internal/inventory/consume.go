package inventory

import (
	"context"
	"fmt"

	"github.com/waybill/waybill/internal/errs"
)

// PartTx is what consuming part of a reservation needs from the store
// beyond the rest of Tx.
type PartTx interface {
	// ShrinkReservationLine takes by units off one line of an active
	// reservation; false when the reservation is not active or the line
	// holds fewer.
	ShrinkReservationLine(ctx context.Context, tenantID, reservationID string, lineNo int, by int64) (bool, error)
	// KitComponents reads how many of each component (product ID →
	// quantity) one unit of a kit holds.
	KitComponents(ctx context.Context, tenantID, kitID string) (map[string]int64, error)
}

// ConsumeIn ships units of an active reservation inside the caller's
// transaction: on hand and reserved fall together in the ledger (Ship
// movements) at the reservation's facilities, and the reservation holds
// that much less. A kit's reservation is consumed in whole kits. Consuming
// every unit it holds closes it as consumed (CloseIn); more than it holds is
// a Conflict (code reservation_short).
func (s *Service) ConsumeIn(ctx context.Context, tx Tx, tenantID, reservationID string, units int64, actor string) error {
	const op = "inventory.ConsumeIn"
	if units <= 0 {
		return errs.E(op, errs.Invalid, "units to consume must be positive")
	}
	r, err := tx.Reservation(ctx, tenantID, reservationID)
	if err != nil {
		return err
	}
	if r.Status != Active {
		return errs.WithCode(errs.E(op, errs.Conflict, "reservation is "+string(r.Status)+", not active"), "reservation_closed")
	}
	per, err := perUnit(ctx, tx, tenantID, r)
	if err != nil {
		return err
	}
	held := r.Units(per)
	switch {
	case units > held:
		return errs.WithCode(errs.E(op, errs.Conflict, fmt.Sprintf("reservation holds %d units, not %d", held, units)), "reservation_short")
	case units == held:
		return s.CloseIn(ctx, tx, tenantID, reservationID, Consumed, actor)
	}
	touched := map[string][]string{}
	for i, l := range r.Lines {
		q := per[i] * units
		ok, err := tx.ShrinkReservationLine(ctx, tenantID, r.ID, l.LineNo, q)
		if err != nil {
			return err
		}
		if !ok {
			return errs.WithCode(errs.E(op, errs.Conflict, "reservation changed meanwhile"), "reservation_short")
		}
		c := Change{ProductID: l.ProductID, FacilityID: l.FacilityID, Kind: Ship, OnHand: -q, Reserved: -q,
			AllowNegativeAvailable: true, // on hand and reserved fall together; available is unchanged
			RefType:                "reservation", RefID: r.ID, Actor: actor}
		if _, err := tx.Apply(ctx, tenantID, c); err != nil {
			return err
		}
		touched[l.FacilityID] = append(touched[l.FacilityID], l.ProductID)
	}
	for fid, ps := range touched {
		if err := s.afterChange(ctx, tx, tenantID, ps, fid, nil); err != nil {
			return err
		}
	}
	return nil
}

// Units is how many whole units (kits, for a kit) the reservation holds,
// given what one unit takes of each line (ReservationUnits).
func (r Reservation) Units(per []int64) int64 {
	if len(r.Lines) == 0 {
		return 0
	}
	n := int64(1 << 62)
	for i, l := range r.Lines {
		n = min(n, l.Quantity/max(per[i], 1))
	}
	return n
}

// ReservationUnits reads how many whole units (kits, for a kit) an active
// reservation holds.
func (s *Service) ReservationUnits(ctx context.Context, tx Tx, tenantID string, r Reservation) (int64, error) {
	per, err := perUnit(ctx, tx, tenantID, r)
	if err != nil {
		return 0, err
	}
	return r.Units(per), nil
}

// perUnit is what one unit takes of each of r's lines: 1 for a plain SKU,
// the component's quantity for a kit.
func perUnit(ctx context.Context, tx Tx, tenantID string, r Reservation) ([]int64, error) {
	per := make([]int64, len(r.Lines))
	comps := map[string]map[string]int64{}
	for i, l := range r.Lines {
		per[i] = 1
		if l.KitID == "" {
			continue
		}
		c, ok := comps[l.KitID]
		if !ok {
			var err error
			if c, err = tx.KitComponents(ctx, tenantID, l.KitID); err != nil {
				return nil, err
			}
			comps[l.KitID] = c
		}
		if q := c[l.ProductID]; q > 0 {
			per[i] = q
		}
	}
	return per, nil
}
