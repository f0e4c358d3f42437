// Package costs answers what fulfilment costs: a cost profile per facility
// (pick/pack fees per order and per unit, storage per unit per month,
// receiving per unit, a fixed monthly cost), a dropship supplier's price
// per SKU, the estimate for one fulfilment order, and the comparison a
// merchant asks for — self-fulfilment, a 3PL or dropship, per order, at
// their own volume and at one they type in. The arithmetic is pure; amounts
// are minor units of the tenant's currency.
package costs

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/money"
)

// Profile is what a facility charges (a 3PL's rate card) or costs (the
// merchant's own warehouse: rent and wages as MonthlyFixed, materials per
// order, labour per unit).
type Profile struct {
	FacilityID       string
	TenantID         string
	Currency         string
	PerOrder         int64 // pick/pack per order
	PerUnit          int64 // pick/pack per unit
	StorageUnitMonth int64 // storage per unit on hand per month
	ReceivingUnit    int64 // receiving per unit
	MonthlyFixed     int64 // fixed cost per month (rent, wages, software)
	UpdatedAt        time.Time
}

// SupplierCost is what a dropship supplier charges per unit of a SKU
// (product and shipping to the customer included).
type SupplierCost struct {
	FacilityID string
	SKU        string
	Currency   string
	UnitCost   int64
	UpdatedAt  time.Time
}

// Check reports every problem with p at once.
func (p Profile) Check() error {
	var fe errs.FieldList
	if !money.ValidCurrency(p.Currency) {
		fe.Add("currency", "must be an ISO 4217 code such as USD", p.Currency)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{"per_order", p.PerOrder}, {"per_unit", p.PerUnit}, {"storage_unit_month", p.StorageUnitMonth}, {"receiving_unit", p.ReceivingUnit}, {"monthly_fixed", p.MonthlyFixed}} {
		if f.v < 0 || f.v > 1_000_000_000_00 {
			fe.Add(f.name, "must be between 0 and 1000000000.00", f.v)
		}
	}
	return fe.Err("costs.Profile")
}

// Units is a fulfilment order's contents for an estimate.
type Units struct {
	SKU      string
	Quantity int64
}

// Estimate is what one fulfilment order costs at a facility.
type Estimate struct {
	Currency string
	PickPack int64 // per order + per unit
	Supplier int64 // a dropship supplier's prices
	Total    int64
	// Missing lists SKUs a supplier has no price for (the total leaves
	// them out).
	Missing []string
}

// EstimateOrder is the cost of shipping units from a facility with profile
// p (nil: no fees known) and, for a supplier, its prices.
func EstimateOrder(p *Profile, currency string, units []Units, supplier map[string]SupplierCost) Estimate {
	e := Estimate{Currency: currency}
	var n int64
	for _, u := range units {
		n += u.Quantity
	}
	if p != nil && n > 0 {
		e.PickPack = p.PerOrder + p.PerUnit*n
	}
	if supplier != nil {
		for _, u := range units {
			c, ok := supplier[u.SKU]
			if !ok || c.Currency != currency {
				e.Missing = append(e.Missing, u.SKU)
				continue
			}
			e.Supplier += c.UnitCost * u.Quantity
		}
	}
	e.Total = e.PickPack + e.Supplier
	return e
}

// Volume is a merchant's activity over a window, from its own history.
type Volume struct {
	Days          int
	Orders        int64 // orders shipped (each order once)
	Units         int64 // units shipped
	StockUnits    int64 // units on hand now where the merchant holds stock (not at dropship suppliers)
	ProductCost   int64 // Σ catalogue cost of the units shipped (what the merchant pays for goods)
	SupplierUnits int64 // units shipped for which a dropship supplier price is known
	SupplierCost  int64 // Σ supplier price of those units
	SupplierGoods int64 // Σ catalogue cost of those same units
}

// Option is one way to fulfil: a facility with a profile.
type Option struct {
	FacilityID string
	Code       string
	Kind       string // own, 3pl, dropship
	Profile    Profile
}

// Row is what one option costs for a volume.
type Row struct {
	Option
	MonthlyOrders float64
	// Monthly is the cost per month of fulfilling every order this way;
	// PerOrder the same per order. Dropship counts the supplier's premium
	// over the goods' own cost, so all options compare fulfilment alone.
	Monthly   int64
	PerOrder  int64
	Breakdown Breakdown
	// Note says what the figure rests on, or why it is rough.
	Note string
}

// Breakdown splits a monthly cost.
type Breakdown struct {
	Fixed, PickPack, Storage, Receiving, SupplierPremium int64
}

// Compare costs every option for the merchant's volume v, scaled to
// ordersPerMonth orders a month (their own rate when ≤ 0). Units per
// order, stock per order, and the supplier premium per unit keep the
// proportions of v.
func Compare(opts []Option, v Volume, ordersPerMonth float64) []Row {
	days := float64(max(v.Days, 1))
	own := float64(v.Orders) * 30 / days
	if ordersPerMonth <= 0 {
		ordersPerMonth = own
	}
	scale := 1.0
	if own > 0 {
		scale = ordersPerMonth / own
	}
	unitsPerMonth := float64(v.Units) * 30 / days * scale
	// Stock held grows with volume at the same days of cover.
	stock := float64(v.StockUnits) * scale
	out := make([]Row, 0, len(opts))
	for _, o := range opts {
		p := o.Profile
		r := Row{Option: o, MonthlyOrders: ordersPerMonth}
		b := &r.Breakdown
		if o.Kind == "dropship" {
			// The supplier holds and receives the stock and its price
			// covers picking; the merchant pays its premium over the
			// goods, and any per-order fee it charges.
			b.PickPack = round(float64(p.PerOrder)*ordersPerMonth + float64(p.PerUnit)*unitsPerMonth)
			if v.SupplierUnits > 0 {
				premium := float64(v.SupplierCost-v.SupplierGoods) / float64(v.SupplierUnits)
				b.SupplierPremium = round(premium * unitsPerMonth)
				r.Note = fmt.Sprintf("supplier premium from %d units with prices", v.SupplierUnits)
			} else {
				r.Note = "no supplier prices yet: premium counted as zero"
			}
			b.Fixed = p.MonthlyFixed
		} else {
			b.Fixed = p.MonthlyFixed
			b.PickPack = round(float64(p.PerOrder)*ordersPerMonth + float64(p.PerUnit)*unitsPerMonth)
			b.Storage = round(float64(p.StorageUnitMonth) * stock)
			// Stock is replenished as it sells: receiving follows units.
			b.Receiving = round(float64(p.ReceivingUnit) * unitsPerMonth)
		}
		r.Monthly = b.Fixed + b.PickPack + b.Storage + b.Receiving + b.SupplierPremium
		if ordersPerMonth > 0 {
			r.PerOrder = round(float64(r.Monthly) / ordersPerMonth)
		}
		if v.Orders == 0 && r.Note == "" {
			r.Note = "no shipped orders in the window: fees only"
		}
		out = append(out, r)
	}
	return out
}

func round(f float64) int64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return int64(math.Round(f))
}

// Store keeps profiles and supplier prices and reads the history the
// comparison rests on.
type Store interface {
	Profiles(ctx context.Context, tenantID string) ([]Profile, error)
	SaveProfile(ctx context.Context, p *Profile) error
	SupplierCosts(ctx context.Context, tenantID, facilityID string) ([]SupplierCost, error)
	SetSupplierCosts(ctx context.Context, tenantID, facilityID string, cs []SupplierCost) error
	// Volume reads the tenant's shipped orders and units since, with
	// their catalogue cost, and the stock on hand now.
	Volume(ctx context.Context, tenantID string, since time.Time) (Volume, error)
}

// Service is the costs API.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns the costs service.
func NewService(store Store) *Service {
	return &Service{store: store, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// Profiles lists the tenant's profiles by facility id.
func (s *Service) Profiles(ctx context.Context, tenantID string) (map[string]Profile, error) {
	ps, err := s.store.Profiles(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := map[string]Profile{}
	for _, p := range ps {
		out[p.FacilityID] = p
	}
	return out, nil
}

// SaveProfile sets a facility's cost profile.
func (s *Service) SaveProfile(ctx context.Context, p Profile) (Profile, error) {
	p.Currency = strings.ToUpper(strings.TrimSpace(p.Currency))
	if err := p.Check(); err != nil {
		return Profile{}, err
	}
	p.UpdatedAt = s.now()
	return p, s.store.SaveProfile(ctx, &p)
}

// SupplierCosts lists a supplier's prices by SKU.
func (s *Service) SupplierCosts(ctx context.Context, tenantID, facilityID string) (map[string]SupplierCost, error) {
	cs, err := s.store.SupplierCosts(ctx, tenantID, facilityID)
	if err != nil {
		return nil, err
	}
	out := map[string]SupplierCost{}
	for _, c := range cs {
		out[c.SKU] = c
	}
	return out, nil
}

// SetSupplierCosts replaces a supplier's price list, all or nothing.
func (s *Service) SetSupplierCosts(ctx context.Context, tenantID, facilityID string, cs []SupplierCost) error {
	var fe errs.FieldList
	if len(cs) == 0 || len(cs) > 5000 {
		fe.Add("items", "must list 1 to 5000 prices", len(cs))
	}
	seen := map[string]bool{}
	for i, c := range cs {
		if sku := strings.TrimSpace(c.SKU); seen[sku] {
			fe.Add(fmt.Sprintf("items[%d].sku", i), "is listed twice", c.SKU)
		} else {
			seen[sku] = true
		}
	}
	now := s.now()
	for i := range cs {
		c := &cs[i]
		c.SKU, c.Currency, c.FacilityID, c.UpdatedAt = strings.TrimSpace(c.SKU), strings.ToUpper(strings.TrimSpace(c.Currency)), facilityID, now
		if c.SKU == "" || len(c.SKU) > 64 {
			fe.Add(fmt.Sprintf("items[%d].sku", i), "must be 1 to 64 characters", c.SKU)
		}
		if !money.ValidCurrency(c.Currency) {
			fe.Add(fmt.Sprintf("items[%d].currency", i), "must be an ISO 4217 code such as USD", c.Currency)
		}
		if c.UnitCost < 0 {
			fe.Add(fmt.Sprintf("items[%d].unit_cost", i), "must not be negative", c.UnitCost)
		}
	}
	if err := fe.Err("costs.SetSupplierCosts"); err != nil {
		return err
	}
	return s.store.SetSupplierCosts(ctx, tenantID, facilityID, cs)
}

// Part is what one facility fulfils of an order, for an estimate.
type Part struct {
	Key        string // the caller's id for it (a fulfilment order id)
	FacilityID string
	Dropship   bool // a supplier: its prices count too
	Units      []Units
}

// PartEstimate is Estimate for one Part; NoProfile says the facility has
// no fee profile in the currency (its fees count as zero).
type PartEstimate struct {
	Part
	Estimate
	NoProfile bool
}

// EstimateParts estimates each part of an order in currency, from the
// facilities' profiles and suppliers' prices, and the total.
func (s *Service) EstimateParts(ctx context.Context, tenantID, currency string, parts []Part) ([]PartEstimate, int64, error) {
	ps, err := s.Profiles(ctx, tenantID)
	if err != nil {
		return nil, 0, err
	}
	var total int64
	out := make([]PartEstimate, 0, len(parts))
	for _, pt := range parts {
		var supplier map[string]SupplierCost
		if pt.Dropship {
			if supplier, err = s.SupplierCosts(ctx, tenantID, pt.FacilityID); err != nil {
				return nil, 0, err
			}
		}
		var prof *Profile
		if p, ok := ps[pt.FacilityID]; ok && p.Currency == currency {
			prof = &p
		}
		e := EstimateOrder(prof, currency, pt.Units, supplier)
		total += e.Total
		out = append(out, PartEstimate{Part: pt, Estimate: e, NoProfile: prof == nil})
	}
	return out, total, nil
}

// Comparison costs every facility with a profile for the merchant's last
// days of activity, at their own volume or at ordersPerMonth.
func (s *Service) Comparison(ctx context.Context, tenantID string, facilities []Option, days int, ordersPerMonth float64) (Volume, []Row, error) {
	v, err := s.Volume(ctx, tenantID, days)
	if err != nil {
		return v, nil, err
	}
	ps, err := s.Profiles(ctx, tenantID)
	if err != nil {
		return v, nil, err
	}
	var opts []Option
	for _, f := range facilities {
		if p, ok := ps[f.FacilityID]; ok {
			f.Profile = p
			opts = append(opts, f)
		}
	}
	return v, Compare(opts, v, ordersPerMonth), nil
}

// Volume reads the merchant's activity over the last days.
func (s *Service) Volume(ctx context.Context, tenantID string, days int) (Volume, error) {
	v, err := s.store.Volume(ctx, tenantID, s.now().AddDate(0, 0, -days))
	v.Days = days
	return v, err
}
