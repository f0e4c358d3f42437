package httpapi_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/waybill/waybill/internal/httpapi"
	"github.com/waybill/waybill/internal/testenv"
)

func TestInventoryAPI(t *testing.T) {
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
		var prod httpapi.Product
		must(a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "MUG", "name": "Mug"}), 201).JSON(t, &prod)
		must(a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "SET", "name": "Set", "kit_components": []map[string]any{{"sku": "MUG", "quantity": 2}}}), 201)
		var fac httpapi.Facility
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "MAIN", "name": "Main warehouse", "kind": "own",
			"address": map[string]any{"line1": "1 Dock St", "city": "Denver", "region": "CO", "postal_code": "80202", "country": "us"}, "timezone": "America/Denver", "cutoff_time": "15:00"}), 201).JSON(t, &fac)
		if fac.Address.Country != "US" || fac.CutoffTime != "15:00" {
			t.Fatalf("facility: %+v", fac)
		}
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "MAIN", "name": "Again", "kind": "own"}), 409)
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "EU1", "name": "EU 3PL", "kind": "3pl", "priority": 200}), 201)
		p := problemOf(t, must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "bad code", "name": "", "kind": "own", "timezone": "Mars/Base"}), 422))
		if len(p.Errors) < 3 {
			t.Fatalf("facility errors: %+v", p)
		}
		var bin httpapi.Bin
		must(a.Do("POST", "/api/v1/facilities/"+fac.ID+"/bins", key, map[string]any{"code": "A-03-2-B", "aisle": "A", "bay": "03", "level": "2", "position": "B"}), 201).JSON(t, &bin)
		must(a.Do("PATCH", "/api/v1/bins/"+bin.ID, key, map[string]any{"pickable": false}), 200)

		// Receive 10 into the bin, then the ledger and level agree.
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "MUG", "facility": "MAIN", "bin": "A-03-2-B", "quantity": 10, "kind": "receive"}), 201)
		var levels struct{ Items []httpapi.StockLevel }
		must(a.Do("GET", "/api/v1/inventory?sku=MUG&facility=MAIN", key, nil), 200).JSON(t, &levels)
		if len(levels.Items) != 1 || levels.Items[0].OnHand != 10 || levels.Items[0].Available != 10 {
			t.Fatalf("levels: %+v", levels)
		}
		// Adjustments that break the rules change nothing.
		p = problemOf(t, must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "MUG", "facility": "MAIN", "quantity": -11, "reason": "damaged"}), 409))
		if p.Code != "insufficient_stock" {
			t.Fatalf("code %q", p.Code)
		}
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "MUG", "facility": "MAIN", "quantity": -1}), 422)
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "NOPE", "facility": "MAIN", "quantity": 1, "reason": "x"}), 422)

		// Reservations: all or none, kits take components.
		var res httpapi.Reservation
		must(a.Do("POST", "/api/v1/reservations", key, map[string]any{"lines": []map[string]any{{"sku": "SET", "quantity": 3}}, "ttl_seconds": 600, "ref_type": "checkout"}), 201).JSON(t, &res)
		if len(res.Lines) != 1 || res.Lines[0].SKU != "MUG" || res.Lines[0].KitSKU != "SET" || res.Lines[0].Quantity != 6 || res.ExpiresAt == nil {
			t.Fatalf("reservation: %+v", res)
		}
		p = problemOf(t, must(a.Do("POST", "/api/v1/reservations", key, map[string]any{"lines": []map[string]any{{"sku": "MUG", "quantity": 3}, {"sku": "MUG", "quantity": 2}}}), 409))
		if p.Code != "insufficient_stock" || len(p.Errors) != 1 || p.Errors[0].Location != "body.lines[1].quantity" {
			t.Fatalf("short: %+v", p)
		}
		must(a.Do("GET", "/api/v1/inventory?sku=MUG", key, nil), 200).JSON(t, &levels)
		if levels.Items[0].Reserved != 6 {
			t.Fatalf("a refused reservation changed stock: %+v", levels.Items[0])
		}
		must(a.Do("DELETE", "/api/v1/reservations/"+res.ID, key, nil), 200).JSON(t, &res)
		if res.Status != "released" {
			t.Fatalf("released: %+v", res)
		}
		// Transfer to the 3PL and receive it.
		var tr httpapi.Transfer
		must(a.Do("POST", "/api/v1/inventory/transfers", key, map[string]any{"from": "MAIN", "to": "EU1", "lines": []map[string]any{{"sku": "MUG", "quantity": 4}}}), 201).JSON(t, &tr)
		if tr.Status != "in_transit" || tr.From != "MAIN" || tr.To != "EU1" {
			t.Fatalf("transfer: %+v", tr)
		}
		must(a.Do("GET", "/api/v1/inventory?facility=EU1", key, nil), 200).JSON(t, &levels)
		if len(levels.Items) != 1 || levels.Items[0].Incoming != 4 {
			t.Fatalf("incoming: %+v", levels)
		}
		must(a.Do("POST", "/api/v1/inventory/transfers/"+tr.ID+"/receive", key, nil), 200).JSON(t, &tr)
		if tr.Status != "received" {
			t.Fatalf("received: %+v", tr)
		}
		// Count the bin: 6 expected (10 received, 4 transferred out of it), 5 counted.
		var count struct {
			ID    string
			Lines []httpapi.CountLineResult
		}
		must(a.Do("POST", "/api/v1/inventory/counts", key, map[string]any{"facility": "MAIN", "lines": []map[string]any{{"sku": "MUG", "bin": "A-03-2-B", "counted": 5}}}), 201).JSON(t, &count)
		if count.Lines[0].Expected != 6 || count.Lines[0].Delta != -1 {
			t.Fatalf("count: %+v", count)
		}
		var ms struct{ Items []httpapi.Movement }
		must(a.Do("GET", "/api/v1/inventory/movements?sku=MUG&facility=MAIN", key, nil), 200).JSON(t, &ms)
		if len(ms.Items) < 5 || ms.Items[0].Kind != "count" || ms.Items[0].Bin != "A-03-2-B" {
			t.Fatalf("movements: %+v", ms.Items)
		}
		// Reorder settings and days of cover.
		must(a.Do("PUT", "/api/v1/products/"+prod.ID+"/reorder-settings", key, map[string]any{"lead_time_days": 30, "safety_days": 14}), 200)
		var rs httpapi.ReorderSettings
		must(a.Do("GET", "/api/v1/products/"+prod.ID+"/reorder-settings", key, nil), 200).JSON(t, &rs)
		if rs.LeadTimeDays != 30 || rs.SafetyDays != 14 {
			t.Fatalf("reorder settings: %+v", rs)
		}
		if ds, _ := a.Inventory.Check(t.Context()); len(ds) > 0 {
			t.Fatalf("ledger disagrees: %+v", ds)
		}
	})
}

// TestReservationRaceOverHTTP: the last unit, 16 clients through the whole
// HTTP stack; one wins, the rest get 409, none a 5xx.
func TestReservationRaceOverHTTP(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e)
		_, key := a.Tenant("Shop")
		a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "MAIN", "name": "Main", "kind": "own"})
		for trial := 0; trial < 5; trial++ {
			sku := fmt.Sprintf("LAST-%d", trial)
			a.Do("POST", "/api/v1/products", key, map[string]any{"sku": sku, "name": "Last"})
			a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": sku, "facility": "MAIN", "quantity": 1, "kind": "receive"})
			var wg sync.WaitGroup
			codes := make([]int, 16)
			for i := range codes {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					codes[i] = a.Do("POST", "/api/v1/reservations", key, map[string]any{"lines": []map[string]any{{"sku": sku, "quantity": 1}}}).Code
				}(i)
			}
			wg.Wait()
			won := 0
			for _, c := range codes {
				switch c {
				case 201:
					won++
				case 409:
				default:
					t.Fatalf("status %d in the race", c)
				}
			}
			if won != 1 {
				t.Fatalf("%d winners for the last unit", won)
			}
		}
	})
}

func problemOf(t *testing.T, r testenv.Response) problem {
	t.Helper()
	var p problem
	r.JSON(t, &p)
	return p
}
