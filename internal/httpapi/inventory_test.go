package httpapi_test

import (
	"fmt"
	"strings"
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
		if p.Code != "insufficient_stock" || len(p.Errors) != 1 || p.Errors[0].Location != "body.quantity" {
			t.Fatalf("short adjustment: %+v", p)
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
		var eu1 struct{ Items []httpapi.Movement }
		must(a.Do("GET", "/api/v1/inventory/movements?facility=EU1&ref_id="+tr.ID, key, nil), 200).JSON(t, &eu1)
		if len(eu1.Items) != 2 || eu1.Items[0].Kind != "transfer_in" || eu1.Items[1].Kind != "transfer_in" {
			t.Fatalf("the destination's transfer rows: %+v", eu1.Items)
		}
		// Refusals name the line that asked too much.
		p = problemOf(t, must(a.Do("POST", "/api/v1/inventory/transfers", key, map[string]any{"from": "MAIN", "to": "EU1", "lines": []map[string]any{{"sku": "MUG", "quantity": 7}}}), 409))
		if p.Code != "insufficient_stock" || len(p.Errors) != 1 || p.Errors[0].Location != "body.lines[0].quantity" {
			t.Fatalf("short transfer: %+v", p)
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

func TestStockCSV(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e)
		_, key := a.Tenant("Shop")
		_, readKey := a.Tenant("Reader", "inventory:read")
		_, otherKey := a.Tenant("Other")
		must := func(r testenv.Response, code int) testenv.Response {
			t.Helper()
			if r.Code != code {
				t.Fatalf("status %d, want %d: %.500s", r.Code, code, r.Body)
			}
			return r
		}
		upload := func(path, key, body string, headers ...string) testenv.Response {
			t.Helper()
			return a.Do("POST", path, key, body, append([]string{"Content-Type", "text/csv"}, headers...)...)
		}
		for _, sku := range []string{"MUG", "STOVE"} {
			must(a.Do("POST", "/api/v1/products", key, map[string]any{"sku": sku, "name": sku}), 201)
		}
		var fac httpapi.Facility
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "MAIN", "name": "Main", "kind": "own"}), 201).JSON(t, &fac)
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "EU1", "name": "EU 3PL", "kind": "3pl"}), 201)
		must(a.Do("POST", "/api/v1/facilities/"+fac.ID+"/bins", key, map[string]any{"code": "A-01"}), 201)
		onHand := func(sku string) int64 {
			t.Helper()
			var levels struct{ Items []httpapi.StockLevel }
			must(a.Do("GET", "/api/v1/inventory?sku="+sku, key, nil), 200).JSON(t, &levels)
			var n int64
			for _, l := range levels.Items {
				n += l.OnHand
			}
			return n
		}

		file := "sku,facility,bin,lot,quantity\nMUG,MAIN,A-01,,7\nSTOVE,EU1,,L1,4\n"
		var res httpapi.StockImportResult
		must(upload("/api/v1/inventory/import?dry_run=true", key, file), 200).JSON(t, &res)
		if res != (httpapi.StockImportResult{Rows: 2, Changed: 2, DryRun: true}) || onHand("MUG") != 0 {
			t.Fatalf("dry run: %+v", res)
		}
		must(upload("/api/v1/inventory/import", key, file), 200).JSON(t, &res)
		if res != (httpapi.StockImportResult{Rows: 2, Changed: 2}) || onHand("MUG") != 7 || onHand("STOVE") != 4 {
			t.Fatalf("import: %+v", res)
		}
		must(upload("/api/v1/inventory/import", key, file), 200).JSON(t, &res)
		if res != (httpapi.StockImportResult{Rows: 2, Unchanged: 2}) {
			t.Fatalf("import again: %+v", res)
		}
		var ms struct{ Items []httpapi.Movement }
		must(a.Do("GET", "/api/v1/inventory/movements?kind=count", key, nil), 200).JSON(t, &ms)
		if len(ms.Items) != 2 || ms.Items[0].Reason != "stock import" || !strings.HasPrefix(ms.Items[0].Actor, "key:") {
			t.Fatalf("count movements: %+v", ms.Items)
		}

		r := must(a.Do("GET", "/api/v1/inventory/export", readKey, nil), 200)
		if string(r.Body) != "sku,facility,bin,lot,quantity\n" {
			t.Fatalf("another tenant's export: %s", r.Body)
		}
		r = must(a.Do("GET", "/api/v1/inventory/export", key, nil), 200)
		if r.Header.Get("Content-Type") != "text/csv; charset=utf-8" || r.Header.Get("Content-Disposition") != `attachment; filename="stock.csv"` ||
			string(r.Body) != "sku,facility,bin,lot,quantity\nSTOVE,EU1,,L1,4\nMUG,MAIN,A-01,,7\n" {
			t.Fatalf("export: %v %s", r.Header, r.Body)
		}
		if r := must(a.Do("GET", "/api/v1/inventory/export?facility=MAIN", key, nil), 200); string(r.Body) != "sku,facility,bin,lot,quantity\nMUG,MAIN,A-01,,7\n" {
			t.Fatalf("MAIN's export: %s", r.Body)
		}
		if p := problemOf(t, must(a.Do("GET", "/api/v1/inventory/export?facility=NOPE", key, nil), 422)); p.Errors[0].Location != "query.facility" {
			t.Fatalf("unknown facility: %+v", p)
		}
		must(upload("/api/v1/inventory/import", key, string(r.Body)), 200).JSON(t, &res)
		if res.Changed != 0 {
			t.Fatalf("importing the export: %+v", res)
		}

		// Every wrong row, by row and column, and nothing changed.
		p := problemOf(t, must(upload("/api/v1/inventory/import", key, "sku,facility,bin,quantity\nMUG,MAIN,Z-9,1\nNOPE,EU1,,1\nMUG,EU1,,-1\n"), 422))
		if p.Code != "invalid_csv" || p.Detail != "the file has 3 errors; nothing was imported" || len(p.Errors) != 3 ||
			p.Errors[0].Location != "body.row[2].bin" || p.Errors[0].Message != `"Z-9": no bin with this code in facility MAIN` ||
			p.Errors[1].Location != "body.row[3].sku" || p.Errors[2].Location != "body.row[4].quantity" {
			t.Fatalf("bad file: %+v", p)
		}
		if p := problemOf(t, must(upload("/api/v1/inventory/import", key, "sku,qty\n"), 422)); p.Errors[0].Location != "body.row[1].qty" {
			t.Fatalf("bad header: %+v", p)
		}
		// Another tenant cannot name this one's SKUs or facilities.
		if p := problemOf(t, must(upload("/api/v1/inventory/import", otherKey, file), 422)); len(p.Errors) != 4 {
			t.Fatalf("another tenant's import: %+v", p)
		}
		must(upload("/api/v1/inventory/import", readKey, file), 403)
		if onHand("MUG") != 7 {
			t.Fatal("a refused import changed stock")
		}
		// Reserved stock cannot be counted away.
		must(a.Do("POST", "/api/v1/reservations", key, map[string]any{"lines": []map[string]any{{"sku": "MUG", "quantity": 5}}}), 201)
		p = problemOf(t, must(upload("/api/v1/inventory/import", key, "sku,facility,bin,quantity\nMUG,MAIN,A-01,2\n"), 409))
		if p.Code != "insufficient_stock" || len(p.Errors) != 1 || p.Errors[0].Location != "body.row[2].quantity" {
			t.Fatalf("below reserved: %+v", p)
		}
		p = problemOf(t, must(a.Do("POST", "/api/v1/inventory/counts", key, map[string]any{"facility": "MAIN", "lines": []map[string]any{{"sku": "MUG", "bin": "A-01", "counted": 2}}}), 409))
		if p.Code != "insufficient_stock" || len(p.Errors) != 1 || p.Errors[0].Location != "body.lines[0].counted" {
			t.Fatalf("count below reserved: %+v", p)
		}

		// Uploads may be larger than JSON bodies, also through the
		// idempotency middleware, which reads the body first.
		big := "sku,facility,bin,quantity\nMUG,MAIN," + strings.Repeat(" ", 2<<20) + "A-01,7\n"
		must(upload("/api/v1/inventory/import", key, big, "Idempotency-Key", "stock-big-1"), 200).JSON(t, &res)
		if res.Rows != 1 {
			t.Fatalf("2 MB upload: %+v", res)
		}
		if r := upload("/api/v1/inventory/import", key, big, "Idempotency-Key", "stock-big-1"); r.Code != 200 || r.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %v", r.Code, r.Header)
		}

		doc := a.API.OpenAPI()
		imp, exp := doc.Paths["/inventory/import"], doc.Paths["/inventory/export"]
		if imp == nil || imp.Post.RequestBody.Content["text/csv"] == nil || exp == nil || exp.Get.Responses["200"].Content["text/csv"] == nil {
			t.Fatal("OpenAPI does not document the CSV bodies")
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
