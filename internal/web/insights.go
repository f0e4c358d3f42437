package web

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/waybill/waybill/internal/costs"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
)

// Insights → Fulfilment costs: self-fulfilment, 3PLs and dropship side by
// side, per month and per order, at the merchant's own volume of the last
// 30 or 90 days or at one they type in. Every facility with a cost profile
// is a row; reading it needs analytics:read.

// costRow is one facility's line of the comparison, amounts written out.
type costRow struct {
	costs.Row
	Name, KindLabel                                                 string
	Monthly, PerOrder, Fixed, PickPack, Storage, Receiving, Premium string
	Cheapest                                                        bool
}

type insightsCostsPage struct {
	Days           string
	OrdersPerMonth string // as typed
	Errors         formErrors
	Currency       string
	Volume         costs.Volume
	OwnPerMonth    string // the merchant's own orders a month in the window
	ComparedAt     string // the volume the rows are for
	Typed          bool   // ComparedAt is the typed volume
	Rows           []costRow
	CanEdit        bool
}

func (s *server) insightsHome(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/insights/costs", http.StatusSeeOther)
	return nil
}

// formatRate writes orders a month with at most one decimal: "12", "0.5".
func formatRate(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

func (s *server) insightsCosts(w http.ResponseWriter, r *http.Request) error {
	if err := need(r, "analytics:read"); err != nil {
		return err
	}
	cs, err := s.costsService()
	if err != nil {
		return err
	}
	ctx, p := r.Context(), personFrom(r)
	q := r.URL.Query()
	page := insightsCostsPage{Days: q.Get("days"), OrdersPerMonth: strings.TrimSpace(q.Get("orders_per_month")), Errors: formErrors{},
		Currency: p.Tenant.Currency, CanEdit: p.Principal.Can("settings:write")}
	days := 30
	switch page.Days {
	case "", "30":
		page.Days = "30"
	case "90":
		days = 90
	default:
		page.Errors["days"] = append(page.Errors["days"], "Choose 30 or 90 days.")
		page.Days = "30"
	}
	var opm float64
	if page.OrdersPerMonth != "" {
		f, err := strconv.ParseFloat(page.OrdersPerMonth, 64)
		switch {
		case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
			page.Errors["orders_per_month"] = append(page.Errors["orders_per_month"], "Must be a number, such as 250.")
		case f < 0 || f > 100_000_000:
			page.Errors["orders_per_month"] = append(page.Errors["orders_per_month"], "Must be between 0 and 100000000.")
		default:
			opm, page.Typed = f, f > 0
		}
	}
	fs, err := s.d.Inventory.ListFacilities(ctx, p.Tenant.ID)
	if err != nil {
		return err
	}
	names := map[string]string{}
	var opts []costs.Option
	for _, f := range fs {
		names[f.ID] = f.Name
		opts = append(opts, costs.Option{FacilityID: f.ID, Code: f.Code, Kind: string(f.Kind)})
	}
	v, rows, err := cs.Comparison(ctx, p.Tenant.ID, opts, days, opm)
	if err != nil {
		if fields := errs.Fields(err); len(fields) > 0 {
			for _, fe := range fields {
				page.Errors[""] = append(page.Errors[""], upperFirst(fe.Message)+".")
			}
		} else {
			return err
		}
	}
	page.Volume = v
	page.OwnPerMonth = formatRate(float64(v.Orders) * 30 / float64(max(days, 1)))
	page.ComparedAt = page.OwnPerMonth
	cheapest := int64(math.MaxInt64)
	for _, row := range rows {
		cheapest = min(cheapest, row.Monthly)
		page.ComparedAt = formatRate(row.MonthlyOrders)
	}
	for _, row := range rows {
		c := row.Profile.Currency
		a := func(v int64) string { return formatMoney(&v, c) }
		b := row.Breakdown
		page.Rows = append(page.Rows, costRow{Row: row, Name: names[row.FacilityID], KindLabel: facilityKindLabel(inventoryKind(row.Kind)),
			Monthly: a(row.Monthly), PerOrder: a(row.PerOrder), Fixed: a(b.Fixed), PickPack: a(b.PickPack), Storage: a(b.Storage),
			Receiving: a(b.Receiving), Premium: a(b.SupplierPremium), Cheapest: len(rows) > 1 && row.Monthly == cheapest})
	}
	status := http.StatusOK
	if len(page.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return s.render(w, r, status, "insights_costs", &view{Title: "Fulfilment costs", Area: "insights", Data: page})
}

// inventoryKind is a facility kind as costs names it.
func inventoryKind(k string) inventory.FacilityKind { return inventory.FacilityKind(k) }
