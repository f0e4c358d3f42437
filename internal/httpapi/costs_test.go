package httpapi_test

import (
	"testing"

	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/testenv"
)

func TestCostsAPI(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e)
		_, key := a.Tenant("Shop")
		must := func(r testenv.Response, code int) testenv.Response {
			t.Helper()
			if r.Code != code {
				t.Fatalf("status %d, want %d: %s", r.Code, code, r.Body)
			}
			return r
		}
		must(a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "MUG", "name": "Mug", "cost": "3.00", "currency": "USD"}), 201)
		var den, eu, ds struct{ ID string }
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "DEN", "name": "Denver", "kind": "own"}), 201).JSON(t, &den)
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "EU1", "name": "EU 3PL", "kind": "3pl"}), 201).JSON(t, &eu)
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "ACME", "name": "Acme", "kind": "dropship"}), 201).JSON(t, &ds)

		must(a.Do("GET", "/api/v1/facilities/"+den.ID+"/cost-profile", key, nil), 404)
		p := problemOf(t, must(a.Do("PUT", "/api/v1/facilities/"+den.ID+"/cost-profile", key, map[string]any{"currency": "USD", "per_order": "1.005", "per_unit": "abc"}), 422))
		if len(p.Errors) != 2 || p.Errors[0].Location != "body.per_order" || p.Errors[1].Location != "body.per_unit" {
			t.Fatalf("bad amounts: %+v", p)
		}
		must(a.Do("GET", "/api/v1/facilities/"+den.ID+"/cost-profile", key, nil), 404)
		must(a.Do("PUT", "/api/v1/facilities/"+den.ID+"/cost-profile", key, map[string]any{"currency": "USD", "per_order": "1.00", "per_unit": "0.50", "monthly_fixed": "1500"}), 200)
		must(a.Do("PUT", "/api/v1/facilities/"+eu.ID+"/cost-profile", key, map[string]any{"currency": "USD", "per_order": "3.00", "per_unit": "0.50", "storage_unit_month": "0.20", "receiving_unit": "0.25"}), 200)
		var prof struct {
			PerOrder     string `json:"per_order"`
			MonthlyFixed string `json:"monthly_fixed"`
		}
		must(a.Do("GET", "/api/v1/facilities/"+den.ID+"/cost-profile", key, nil), 200).JSON(t, &prof)
		if prof.PerOrder != "1.00" || prof.MonthlyFixed != "1500.00" {
			t.Fatalf("profile: %+v", prof)
		}
		p = problemOf(t, must(a.Do("PUT", "/api/v1/facilities/"+ds.ID+"/supplier-costs", key, map[string]any{"items": []map[string]any{
			{"sku": "MUG", "unit_cost": "4.50", "currency": "USD"}, {"sku": "", "unit_cost": "1", "currency": "USD"}}}), 422))
		if len(p.Errors) != 1 || p.Errors[0].Location != "body.items[1].sku" {
			t.Fatalf("bad supplier price: %+v", p)
		}
		var prices struct {
			Items []struct {
				SKU      string
				UnitCost string `json:"unit_cost"`
			}
		}
		must(a.Do("GET", "/api/v1/facilities/"+ds.ID+"/supplier-costs", key, nil), 200).JSON(t, &prices)
		if len(prices.Items) != 0 {
			t.Fatalf("a refused list wrote %+v", prices.Items)
		}
		must(a.Do("PUT", "/api/v1/facilities/"+ds.ID+"/supplier-costs", key, map[string]any{"items": []map[string]any{{"sku": "MUG", "unit_cost": "4.50", "currency": "USD"}}}), 200).JSON(t, &prices)
		if len(prices.Items) != 1 || prices.Items[0].UnitCost != "4.50" {
			t.Fatalf("prices: %+v", prices)
		}

		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "MUG", "facility": "DEN", "quantity": 100, "kind": "receive"}), 201)
		var o order.Doc
		must(a.Do("POST", "/api/v1/orders", key, map[string]any{"external_id": "C-1", "currency": "USD", "customer": map[string]any{"name": "Ada"},
			"lines": []map[string]any{{"sku": "MUG", "quantity": 4, "unit_price": "10.00"}}}), 201).JSON(t, &o)
		var est struct {
			Total string
			Items []struct{ Facility, Total string }
		}
		must(a.Do("GET", "/api/v1/orders/"+o.ID+"/cost-estimate", key, nil), 200).JSON(t, &est)
		if est.Total != "3.00" || len(est.Items) != 1 || est.Items[0].Facility != "DEN" {
			t.Fatalf("estimate: %+v", est)
		}
		var fos struct{ Items []order.FulfillmentOrderDoc }
		must(a.Do("GET", "/api/v1/orders/"+o.ID+"/fulfillment-orders", key, nil), 200).JSON(t, &fos)
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+fos.Items[0].ID+"/fulfill", key, map[string]any{}), 201)

		var cmp struct {
			Orders, Units  int64
			OrdersPerMonth float64 `json:"orders_per_month"`
			Items          []struct{ Facility, Kind, Monthly, PerOrder string }
		}
		must(a.Do("GET", "/api/v1/insights/fulfillment-costs?days=30", key, nil), 200).JSON(t, &cmp)
		if cmp.Orders != 1 || cmp.Units != 4 || len(cmp.Items) != 2 || cmp.Items[0].Facility != "DEN" {
			t.Fatalf("comparison: %+v", cmp)
		}
		must(a.Do("GET", "/api/v1/insights/fulfillment-costs?days=90&orders_per_month=3000", key, nil), 200).JSON(t, &cmp)
		if cmp.OrdersPerMonth != 3000 {
			t.Fatalf("at 3000: %+v", cmp)
		}
		must(a.Do("GET", "/api/v1/insights/fulfillment-costs?days=7", key, nil), 422)
	})
}

// Among plans with as few shipments, the optimiser takes the cheaper
// facility (fees from cost profiles, a cross-border step), before the
// facilities' priority.
func TestSourcingWeighsCosts(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e)
		_, key := a.Tenant("Shop")
		must := func(r testenv.Response, code int) testenv.Response {
			t.Helper()
			if r.Code != code {
				t.Fatalf("status %d, want %d: %s", r.Code, code, r.Body)
			}
			return r
		}
		must(a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "MUG", "name": "Mug"}), 201)
		var us, nl struct{ ID string }
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "US1", "name": "Denver", "kind": "own", "priority": 1, "address": map[string]any{"country": "US"}}), 201).JSON(t, &us)
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "NL1", "name": "Rotterdam", "kind": "3pl", "priority": 2, "address": map[string]any{"country": "NL"}}), 201).JSON(t, &nl)
		for _, f := range []string{"US1", "NL1"} {
			must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "MUG", "facility": f, "quantity": 50, "kind": "receive"}), 201)
		}
		placedAt := func(ext, country string) string {
			t.Helper()
			var o order.Doc
			must(a.Do("POST", "/api/v1/orders", key, map[string]any{"external_id": ext, "currency": "USD", "customer": map[string]any{"name": "Ada"},
				"shipping_address": map[string]any{"name": "Ada", "line1": "1 St", "city": "X", "country": country},
				"lines":            []map[string]any{{"sku": "MUG", "quantity": 1, "unit_price": "10.00"}}}), 201).JSON(t, &o)
			var fos struct{ Items []order.FulfillmentOrderDoc }
			must(a.Do("GET", "/api/v1/orders/"+o.ID+"/fulfillment-orders", key, nil), 200).JSON(t, &fos)
			return fos.Items[0].Facility
		}
		// No fees known: the domestic facility wins over priority.
		if f := placedAt("S-1", "US"); f != "US1" {
			t.Fatalf("US order from %s", f)
		}
		if f := placedAt("S-2", "NL"); f != "NL1" {
			t.Fatalf("NL order from %s", f)
		}
		// US1 costs 15.00 an order to pick and pack, NL1 2.00 + 10.00 cross-border: NL1 is cheaper even for the US.
		must(a.Do("PUT", "/api/v1/facilities/"+us.ID+"/cost-profile", key, map[string]any{"currency": "USD", "per_order": "15.00"}), 200)
		must(a.Do("PUT", "/api/v1/facilities/"+nl.ID+"/cost-profile", key, map[string]any{"currency": "USD", "per_order": "2.00"}), 200)
		if f := placedAt("S-3", "US"); f != "NL1" {
			t.Fatalf("with fees, US order from %s", f)
		}
	})
}
