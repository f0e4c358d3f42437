package httpapi_test

import (
	"strings"
	"testing"

	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/routing"
	"github.com/waybill/waybill/internal/testenv"
)

// Routing rules decide where new orders' stock is reserved; the sourcing
// plan keeps an order in one shipment where it can.
func TestRoutingRulesAPI(t *testing.T) {
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
		var den, eu struct{ ID string }
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "DEN", "name": "Denver", "kind": "own", "priority": 1}), 201).JSON(t, &den)
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "EU1", "name": "EU 3PL", "kind": "3pl", "priority": 2}), 201).JSON(t, &eu)
		for _, p := range []string{"MUG", "PEN"} {
			must(a.Do("POST", "/api/v1/products", key, map[string]any{"sku": p, "name": p}), 201)
		}
		for _, s := range []struct {
			sku, fac string
		}{{"MUG", "DEN"}, {"MUG", "EU1"}, {"PEN", "EU1"}} {
			must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": s.sku, "facility": s.fac, "quantity": 50, "kind": "receive"}), 201)
		}
		// Refused rules name the field.
		p := problemOf(t, must(a.Do("POST", "/api/v1/routing-rules", key, map[string]any{"name": "x", "then": map[string]any{"kind": "only", "facilities": []string{"NOPE"}}}), 422))
		if len(p.Errors) == 0 || p.Errors[0].Location != "body.then.facilities[0]" {
			t.Fatalf("problem: %+v", p)
		}
		var custom, abroad routing.Rule
		must(a.Do("POST", "/api/v1/routing-rules", key, map[string]any{"name": "Custom work ships from our warehouse",
			"when": map[string]any{"tags": []string{"custom"}}, "then": map[string]any{"kind": "only", "facility_kinds": []string{"own"}}}), 201).JSON(t, &custom)
		must(a.Do("POST", "/api/v1/routing-rules", key, map[string]any{"name": "Outside the US from the EU 3PL",
			"when": map[string]any{"not_countries": []string{"US"}}, "then": map[string]any{"kind": "only", "facilities": []string{"EU1"}}}), 201).JSON(t, &abroad)
		must(a.Do("POST", "/api/v1/routing-rules", key, map[string]any{"name": "Big orders are checked first",
			"when": map[string]any{"min_total": "1000"}, "then": map[string]any{"kind": "hold", "hold_reason": "OTHER", "hold_note": "check big orders"}}), 201)
		if custom.Position >= abroad.Position {
			t.Fatalf("positions %d, %d", custom.Position, abroad.Position)
		}
		mk := func(ext, country string, tags []string, lines ...map[string]any) order.Doc {
			t.Helper()
			var o order.Doc
			must(a.Do("POST", "/api/v1/orders", key, map[string]any{"external_id": ext, "currency": "USD", "customer": map[string]any{"name": "C"}, "tags": tags,
				"shipping_address": map[string]any{"name": "C", "line1": "1 St", "city": "Town", "postal_code": "1", "country": country}, "lines": lines}), 201).JSON(t, &o)
			return o
		}
		mug := map[string]any{"sku": "MUG", "quantity": 1, "unit_price": "10.00"}
		pen := map[string]any{"sku": "PEN", "quantity": 1, "unit_price": "2.00"}
		if o := mk("1", "US", []string{"custom"}, mug); o.Lines[0].FacilityID != den.ID || o.OnHold {
			t.Fatalf("custom US order: %+v holds %+v", o.Lines, o.Holds)
		}
		if o := mk("2", "DE", nil, mug); o.Lines[0].FacilityID != eu.ID {
			t.Fatalf("DE order reserved at %s, want EU1", o.Lines[0].FacilityID)
		}
		o := mk("3", "DE", []string{"custom"}, mug)
		routed := false
		for _, h := range o.Holds {
			routed = routed || (h.Reason == order.OtherHold && strings.Contains(h.Note, "no facility for MUG"))
		}
		if o.Lines[0].Reserved != 0 || !routed {
			t.Fatalf("custom DE order should wait on a hold: %+v %+v", o.Lines, o.Holds)
		}
		// MUG is at both, PEN only at the 3PL: one shipment from the 3PL
		// beats the Denver warehouse's priority.
		if o := mk("4", "US", nil, mug, pen); o.Lines[0].FacilityID != eu.ID || o.Lines[1].FacilityID != eu.ID {
			t.Fatalf("split where one shipment would do: %+v", o.Lines)
		}
		big := mk("5", "US", nil, map[string]any{"sku": "MUG", "quantity": 2, "unit_price": "600.00"})
		if !big.OnHold || big.Holds[0].Note != "check big orders" || big.Lines[0].Reserved != 2 {
			t.Fatalf("big order: %+v %+v", big.Holds, big.Lines)
		}
		// The preview says which rules fired.
		var res routing.Result
		must(a.Do("GET", "/api/v1/orders/"+o.ID+"/routing", key, nil), 200).JSON(t, &res)
		if len(res.Trace) != 2 || !res.Lines[0].Unroutable {
			t.Fatalf("preview: %+v", res)
		}
		// Rules are listed in order, changed and deleted.
		var list struct{ Items []routing.Rule }
		must(a.Do("GET", "/api/v1/routing-rules", key, nil), 200).JSON(t, &list)
		if len(list.Items) != 3 || list.Items[0].ID != custom.ID {
			t.Fatalf("list: %+v", list.Items)
		}
		must(a.Do("PUT", "/api/v1/routing-rules/"+custom.ID, key, map[string]any{"name": "Custom work: own warehouse", "active": false,
			"when": map[string]any{"tags": []string{"custom"}}, "then": map[string]any{"kind": "only", "facility_kinds": []string{"own"}}}), 200)
		must(a.Do("DELETE", "/api/v1/routing-rules/"+abroad.ID, key, nil), 204)
		must(a.Do("GET", "/api/v1/routing-rules/"+abroad.ID, key, nil), 404)
		if o := mk("6", "DE", []string{"custom"}, mug); o.OnHold || o.Lines[0].FacilityID != den.ID {
			t.Fatalf("with the rules off, the default order applies: %+v %+v", o.Lines, o.Holds)
		}
	})
}
