package httpapi

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/costs"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/order"
)

// What fulfilment costs: cost profiles per facility, supplier prices, the
// estimate per order and the self / 3PL / dropship comparison.

// CostProfile is a facility's fees as decimal strings in Currency.
type CostProfile struct {
	Facility         string    `json:"facility,omitempty" readOnly:"true"`
	Currency         string    `json:"currency" example:"USD"`
	PerOrder         string    `json:"per_order,omitempty" example:"2.50" doc:"Pick/pack per order."`
	PerUnit          string    `json:"per_unit,omitempty" example:"0.40" doc:"Pick/pack per unit."`
	StorageUnitMonth string    `json:"storage_unit_month,omitempty" example:"0.15" doc:"Storage per unit on hand per month."`
	ReceivingUnit    string    `json:"receiving_unit,omitempty" example:"0.25" doc:"Receiving per unit."`
	MonthlyFixed     string    `json:"monthly_fixed,omitempty" example:"0" doc:"Fixed cost per month (rent, wages, software)."`
	UpdatedAt        time.Time `json:"updated_at,omitempty" readOnly:"true"`
}

func amount(minor int64, cur string) string {
	return money.Amount{Minor: minor, Currency: cur}.String()
}

func profileDoc(code string, p costs.Profile) CostProfile {
	c := p.Currency
	return CostProfile{Facility: code, Currency: c, PerOrder: amount(p.PerOrder, c), PerUnit: amount(p.PerUnit, c), StorageUnitMonth: amount(p.StorageUnitMonth, c),
		ReceivingUnit: amount(p.ReceivingUnit, c), MonthlyFixed: amount(p.MonthlyFixed, c), UpdatedAt: p.UpdatedAt}
}

func (a *API) getCostProfile(ctx context.Context, in *struct {
	ID string `path:"id" maxLength:"64"`
}) (*struct{ Body CostProfile }, error) {
	tenantID := principal(ctx).TenantID
	f, err := a.d.Inventory.Facility(ctx, tenantID, in.ID)
	if err != nil {
		return nil, err
	}
	ps, err := a.d.Costs.Profiles(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	p, ok := ps[f.ID]
	if !ok {
		return nil, errs.E("httpapi.getCostProfile", errs.NotExist, f.Code+" has no cost profile yet")
	}
	return &struct{ Body CostProfile }{profileDoc(f.Code, p)}, nil
}

func (a *API) putCostProfile(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"64"`
	Body CostProfile
}) (*struct{ Body CostProfile }, error) {
	tenantID := principal(ctx).TenantID
	f, err := a.d.Inventory.Facility(ctx, tenantID, in.ID)
	if err != nil {
		return nil, err
	}
	b := in.Body
	p := costs.Profile{FacilityID: f.ID, TenantID: tenantID, Currency: b.Currency}
	var fe errs.FieldList
	for _, x := range []struct {
		name, v string
		into    *int64
	}{{"per_order", b.PerOrder, &p.PerOrder}, {"per_unit", b.PerUnit, &p.PerUnit}, {"storage_unit_month", b.StorageUnitMonth, &p.StorageUnitMonth},
		{"receiving_unit", b.ReceivingUnit, &p.ReceivingUnit}, {"monthly_fixed", b.MonthlyFixed, &p.MonthlyFixed}} {
		if x.v == "" {
			continue
		}
		m, err := money.Parse(x.v, b.Currency)
		if err != nil {
			fe.Add(x.name, errs.Message(err), x.v)
			continue
		}
		*x.into = m.Minor
	}
	if err := fe.Err("httpapi.putCostProfile"); err != nil {
		return nil, err
	}
	p, err = a.d.Costs.SaveProfile(ctx, p)
	if err != nil {
		return nil, err
	}
	return &struct{ Body CostProfile }{profileDoc(f.Code, p)}, nil
}

// SupplierPrice is a dropship supplier's price for one SKU.
type SupplierPrice struct {
	SKU       string    `json:"sku" maxLength:"64"`
	UnitCost  string    `json:"unit_cost" example:"12.40"`
	Currency  string    `json:"currency" example:"USD"`
	UpdatedAt time.Time `json:"updated_at,omitempty" readOnly:"true"`
}

type supplierPricesOut struct {
	Body struct {
		Items []SupplierPrice `json:"items"`
	}
}

func (a *API) listSupplierCosts(ctx context.Context, in *struct {
	ID string `path:"id" maxLength:"64"`
}) (*supplierPricesOut, error) {
	tenantID := principal(ctx).TenantID
	f, err := a.d.Inventory.Facility(ctx, tenantID, in.ID)
	if err != nil {
		return nil, err
	}
	cs, err := a.d.Costs.SupplierCosts(ctx, tenantID, f.ID)
	if err != nil {
		return nil, err
	}
	out := &supplierPricesOut{}
	out.Body.Items = []SupplierPrice{}
	for _, c := range cs {
		out.Body.Items = append(out.Body.Items, SupplierPrice{SKU: c.SKU, UnitCost: amount(c.UnitCost, c.Currency), Currency: c.Currency, UpdatedAt: c.UpdatedAt})
	}
	slices.SortFunc(out.Body.Items, func(a, b SupplierPrice) int { return strings.Compare(a.SKU, b.SKU) })
	return out, nil
}

func (a *API) putSupplierCosts(ctx context.Context, in *struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Items []SupplierPrice `json:"items" maxItems:"5000"`
	}
}) (*supplierPricesOut, error) {
	tenantID := principal(ctx).TenantID
	f, err := a.d.Inventory.Facility(ctx, tenantID, in.ID)
	if err != nil {
		return nil, err
	}
	var fe errs.FieldList
	var cs []costs.SupplierCost
	for i, p := range in.Body.Items {
		m, err := money.Parse(p.UnitCost, p.Currency)
		if err != nil {
			fe.Add("items["+strconv.Itoa(i)+"].unit_cost", errs.Message(err), p.UnitCost)
			continue
		}
		cs = append(cs, costs.SupplierCost{SKU: p.SKU, Currency: p.Currency, UnitCost: m.Minor})
	}
	if err := fe.Err("httpapi.putSupplierCosts"); err != nil {
		return nil, err
	}
	if err := a.d.Costs.SetSupplierCosts(ctx, tenantID, f.ID, cs); err != nil {
		return nil, err
	}
	return a.listSupplierCosts(ctx, &struct {
		ID string `path:"id" maxLength:"64"`
	}{in.ID})
}

// CostRow is what one way of fulfilling costs.
type CostRow struct {
	Facility        string `json:"facility"`
	Kind            string `json:"kind"`
	Monthly         string `json:"monthly"`
	PerOrder        string `json:"per_order"`
	Fixed           string `json:"fixed"`
	PickPack        string `json:"pick_pack"`
	Storage         string `json:"storage"`
	Receiving       string `json:"receiving"`
	SupplierPremium string `json:"supplier_premium" doc:"A dropship supplier's prices above the goods' catalogue cost."`
	Note            string `json:"note,omitempty"`
}

// CostComparison is what each way of fulfilling costs at a volume.
type CostComparison struct {
	Currency       string    `json:"currency"`
	Days           int       `json:"days"`
	Orders         int64     `json:"orders" doc:"Orders shipped in the window."`
	Units          int64     `json:"units"`
	StockUnits     int64     `json:"stock_units"`
	OrdersPerMonth float64   `json:"orders_per_month" doc:"The volume compared at."`
	Items          []CostRow `json:"items"`
}

func (a *API) fulfillmentCosts(ctx context.Context, in *struct {
	Days           string  `query:"days" enum:"30,90" default:"30" doc:"The window of history, in days."`
	OrdersPerMonth float64 `query:"orders_per_month" minimum:"0" maximum:"100000000" doc:"Compare at this volume instead of the merchant's own."`
}) (*struct{ Body CostComparison }, error) {
	tenantID := principal(ctx).TenantID
	t, err := a.d.Auth.Tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	fs, err := a.d.Inventory.ListFacilities(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var opts []costs.Option
	for _, f := range fs {
		opts = append(opts, costs.Option{FacilityID: f.ID, Code: f.Code, Kind: string(f.Kind)})
	}
	days := 30
	if in.Days == "90" {
		days = 90
	}
	v, rows, err := a.d.Costs.Comparison(ctx, tenantID, opts, days, in.OrdersPerMonth)
	if err != nil {
		return nil, err
	}
	out := &struct{ Body CostComparison }{}
	b := &out.Body
	b.Currency, b.Days, b.Orders, b.Units, b.StockUnits, b.Items = t.Currency, days, v.Orders, v.Units, v.StockUnits, []CostRow{}
	for _, r := range rows {
		c := r.Profile.Currency
		b.OrdersPerMonth = r.MonthlyOrders
		b.Items = append(b.Items, CostRow{Facility: r.Code, Kind: r.Kind, Monthly: amount(r.Monthly, c), PerOrder: amount(r.PerOrder, c),
			Fixed: amount(r.Breakdown.Fixed, c), PickPack: amount(r.Breakdown.PickPack, c), Storage: amount(r.Breakdown.Storage, c),
			Receiving: amount(r.Breakdown.Receiving, c), SupplierPremium: amount(r.Breakdown.SupplierPremium, c), Note: r.Note})
	}
	return out, nil
}

// CostEstimate is what fulfilling one fulfilment order costs.
type CostEstimate struct {
	FulfillmentOrderID string   `json:"fulfillment_order_id"`
	Facility           string   `json:"facility"`
	PickPack           string   `json:"pick_pack"`
	Supplier           string   `json:"supplier,omitempty"`
	Total              string   `json:"total"`
	NoProfile          bool     `json:"no_profile,omitempty" doc:"The facility has no cost profile: fees are unknown."`
	MissingPrices      []string `json:"missing_prices,omitempty" doc:"SKUs the supplier has no price for."`
}

// OrderCostEstimate is what fulfilling an order costs, per fulfilment
// order and in all.
type OrderCostEstimate struct {
	Currency string         `json:"currency"`
	Total    string         `json:"total"`
	Items    []CostEstimate `json:"items"`
}

func (a *API) orderCostEstimate(ctx context.Context, in *orderIDInput) (*struct{ Body OrderCostEstimate }, error) {
	tenantID := principal(ctx).TenantID
	o, err := a.d.Orders.Get(ctx, tenantID, in.ID)
	if err != nil {
		return nil, err
	}
	fos, err := a.d.Orders.FulfillmentOrders(ctx, tenantID, in.ID)
	if err != nil {
		return nil, err
	}
	parts, err := costParts(ctx, a.d.Inventory, tenantID, fos)
	if err != nil {
		return nil, err
	}
	es, total, err := a.d.Costs.EstimateParts(ctx, tenantID, o.Currency, parts)
	if err != nil {
		return nil, err
	}
	out := &struct{ Body OrderCostEstimate }{}
	cur := o.Currency
	out.Body.Currency, out.Body.Total, out.Body.Items = cur, amount(total, cur), []CostEstimate{}
	codes := map[string]string{}
	for _, fo := range fos {
		codes[fo.ID] = fo.FacilityCode
	}
	for _, e := range es {
		ce := CostEstimate{FulfillmentOrderID: e.Key, Facility: codes[e.Key], PickPack: amount(e.PickPack, cur), Total: amount(e.Total, cur),
			NoProfile: e.NoProfile, MissingPrices: e.Missing}
		if e.Dropship {
			ce.Supplier = amount(e.Supplier, cur)
		}
		out.Body.Items = append(out.Body.Items, ce)
	}
	return out, nil
}

// costParts is what each of an order's fulfilment orders (but cancelled
// ones) was given to ship, for an estimate.
func costParts(ctx context.Context, inv *inventory.Service, tenantID string, fos []order.FulfillmentOrderView) ([]costs.Part, error) {
	parts := []costs.Part{}
	for _, fo := range fos {
		if fo.Status == order.FulfillmentCancelled {
			continue
		}
		f, err := inv.Facility(ctx, tenantID, fo.FacilityID)
		if err != nil {
			return nil, err
		}
		pt := costs.Part{Key: fo.ID, FacilityID: f.ID, Dropship: f.Kind == inventory.Dropship}
		for _, l := range fo.Assigned() {
			pt.Units = append(pt.Units, costs.Units(l))
		}
		parts = append(parts, pt)
	}
	return parts, nil
}
