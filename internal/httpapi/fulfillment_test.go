package httpapi_test

import (
	"context"
	"testing"

	"github.com/waybill/waybill/internal/httpapi"
	"github.com/waybill/waybill/internal/notify"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/testenv"
)

func TestFulfillmentOrdersAPI(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e)
		ctx := context.Background()
		ten, key := a.Tenant("Shop")
		_, keyB := a.Tenant("Other shop")
		must := func(r testenv.Response, code int) testenv.Response {
			t.Helper()
			if r.Code != code {
				t.Fatalf("status %d, want %d: %s", r.Code, code, r.Body)
			}
			return r
		}
		must(a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "MUG", "name": "Mug"}), 201)
		must(a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "TENT", "name": "Tent"}), 201)
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "DEN", "name": "Denver", "kind": "own"}), 201)
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "EU1", "name": "EU 3PL", "kind": "3pl"}), 201)
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "MUG", "facility": "DEN", "quantity": 10, "kind": "receive"}), 201)
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "TENT", "facility": "EU1", "quantity": 5, "kind": "receive"}), 201)

		var o order.Doc
		must(a.Do("POST", "/api/v1/orders", key, map[string]any{"external_id": "F-1", "currency": "USD", "customer": map[string]any{"name": "Ada"},
			"lines": []map[string]any{{"sku": "MUG", "quantity": 3, "unit_price": "10.00"}, {"sku": "TENT", "quantity": 2, "unit_price": "100.00"}}}), 201).JSON(t, &o)

		var list struct {
			Items      []order.FulfillmentOrderDoc
			NextCursor string `json:"next_cursor"`
		}
		must(a.Do("GET", "/api/v1/orders/"+o.ID+"/fulfillment-orders", key, nil), 200).JSON(t, &list)
		if len(list.Items) != 2 {
			t.Fatalf("fulfilment orders: %+v", list.Items)
		}
		byFac := map[string]order.FulfillmentOrderDoc{}
		for _, f := range list.Items {
			byFac[f.Facility] = f
		}
		den, eu := byFac["DEN"], byFac["EU1"]
		if den.Status != order.FulfillmentOpen || len(den.Lines) != 1 || den.Lines[0].SKU != "MUG" || den.Lines[0].Quantity != 3 ||
			eu.Status != order.FulfillmentOpen || len(eu.Lines) != 1 || eu.Lines[0].SKU != "TENT" || eu.Lines[0].Quantity != 2 {
			t.Fatalf("DEN %+v EU1 %+v", den, eu)
		}
		// Listing again opens nothing new.
		must(a.Do("GET", "/api/v1/fulfillment-orders?order_id="+o.ID, key, nil), 200).JSON(t, &list)
		if len(list.Items) != 2 {
			t.Fatalf("list: %+v", list.Items)
		}

		fulfil := func(id string, body map[string]any, code int, idem string) testenv.Response {
			t.Helper()
			return must(a.Do("POST", "/api/v1/fulfillment-orders/"+id+"/fulfill", key, body, "Idempotency-Key", idem), code)
		}
		// More than is reserved there: 422 naming the line; nothing changes.
		p := problemOf(t, fulfil(den.ID, map[string]any{"lines": []map[string]any{{"sku": "MUG", "quantity": 4}}}, 422, "over"))
		if len(p.Errors) != 1 || p.Errors[0].Location != "body.lines[0].quantity" {
			t.Fatalf("over-quantity: %+v", p)
		}
		fulfil(den.ID, map[string]any{"lines": []map[string]any{{"sku": "TENT", "quantity": 1}}}, 422, "wrong-facility")
		// An order on hold is not fulfilled.
		must(a.Do("POST", "/api/v1/orders/"+o.ID+"/holds", key, map[string]any{"reason": "OTHER"}), 200)
		var one order.FulfillmentOrderDoc
		must(a.Do("GET", "/api/v1/fulfillment-orders/"+den.ID, key, nil), 200).JSON(t, &one)
		if one.Status != order.FulfillmentOnHold {
			t.Fatalf("held: %+v", one)
		}
		if p := problemOf(t, fulfil(den.ID, map[string]any{}, 409, "held")); p.Code != "order_on_hold" {
			t.Fatalf("held: %+v", p)
		}
		must(a.Do("POST", "/api/v1/orders/"+o.ID+"/holds/release", key, map[string]any{"reason": "OTHER"}), 200)

		// Part of a line, then (with the same key again) the same answer.
		var res struct {
			FulfillmentOrder order.FulfillmentOrderDoc `json:"fulfillment_order"`
			Shipment         order.ShipmentDoc         `json:"shipment"`
		}
		body := map[string]any{"carrier": "UPS", "service": "ground", "tracking_number": "1Z999", "tracking_url": "https://ups.example/1Z999",
			"lines": []map[string]any{{"sku": "MUG", "quantity": 1}}}
		fulfil(den.ID, body, 201, "den-1").JSON(t, &res)
		if res.FulfillmentOrder.Status != order.FulfillmentInProgress || res.FulfillmentOrder.Lines[0].Quantity != 2 || res.FulfillmentOrder.Lines[0].Fulfilled != 1 ||
			res.Shipment.Carrier != "UPS" || res.Shipment.TrackingNumber != "1Z999" || len(res.Shipment.Lines) != 1 || res.Shipment.Lines[0].Quantity != 1 {
			t.Fatalf("partial: %+v", res)
		}
		first := res.Shipment.ID
		fulfil(den.ID, body, 201, "den-1").JSON(t, &res)
		if res.Shipment.ID != first {
			t.Fatalf("a retried fulfil shipped again: %s vs %s", res.Shipment.ID, first)
		}
		must(a.Do("GET", "/api/v1/orders/"+o.ID, key, nil), 200).JSON(t, &o)
		if o.FulfillmentStatus != order.PartiallyFulfilled || o.Status != order.Open || o.Lines[0].Fulfilled != 1 || o.Lines[0].Reserved != 2 {
			t.Fatalf("after partial: %s %s %+v", o.Status, o.FulfillmentStatus, o.Lines)
		}
		// The rest at DEN closes its fulfilment order; again is a 409.
		fulfil(den.ID, map[string]any{"lines": []map[string]any{{"sku": "MUG", "quantity": 2}}}, 201, "den-2").JSON(t, &res)
		if res.FulfillmentOrder.Status != order.FulfillmentClosed || res.FulfillmentOrder.Lines[0].Quantity != 0 || res.FulfillmentOrder.Lines[0].Fulfilled != 3 {
			t.Fatalf("rest: %+v", res.FulfillmentOrder)
		}
		if p := problemOf(t, fulfil(den.ID, map[string]any{}, 409, "den-3")); p.Code != "fulfillment_order_closed" {
			t.Fatalf("closed again: %+v", p)
		}
		// Another tenant sees none of it.
		must(a.Do("GET", "/api/v1/fulfillment-orders/"+eu.ID, keyB, nil), 404)
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+eu.ID+"/fulfill", keyB, map[string]any{}), 404)
		// EU1: every remaining line.
		fulfil(eu.ID, map[string]any{"carrier": "DHL"}, 201, "eu-1").JSON(t, &res)
		if res.FulfillmentOrder.Status != order.FulfillmentClosed || len(res.Shipment.Lines) != 1 || res.Shipment.Lines[0].SKU != "TENT" || res.Shipment.Lines[0].Quantity != 2 {
			t.Fatalf("EU1: %+v", res)
		}
		must(a.Do("GET", "/api/v1/orders/"+o.ID, key, nil), 200).JSON(t, &o)
		if o.FulfillmentStatus != order.Fulfilled || o.Status != order.Closed {
			t.Fatalf("order: %s %s %+v", o.Status, o.FulfillmentStatus, o.Lines)
		}
		// Stock fell by exactly what shipped; nothing stays reserved; the
		// ledger agrees with the balances.
		var levels struct{ Items []httpapi.StockLevel }
		must(a.Do("GET", "/api/v1/inventory", key, nil), 200).JSON(t, &levels)
		got := map[string][2]int64{}
		for _, l := range levels.Items {
			got[l.SKU+"@"+l.Facility] = [2]int64{l.OnHand, l.Reserved}
		}
		if got["MUG@DEN"] != [2]int64{7, 0} || got["TENT@EU1"] != [2]int64{3, 0} {
			t.Fatalf("levels: %+v", got)
		}
		if ds, err := a.Inventory.Check(ctx); err != nil || len(ds) != 0 {
			t.Fatalf("ledger check: %+v %v", ds, err)
		}
		for typ, want := range map[string]int{order.EventFulfillmentOrderFulfilled: 3, order.EventShipmentCreated: 3} {
			evs, _, err := a.Notify.Events(ctx, ten.ID, notify.EventFilter{Type: typ})
			if err != nil || len(evs) != want {
				t.Fatalf("%s: %d events, want %d (%v)", typ, len(evs), want, err)
			}
		}
		var tl struct{ Items []httpapi.TimelineEntry }
		must(a.Do("GET", "/api/v1/orders/"+o.ID+"/timeline", key, nil), 200).JSON(t, &tl)
		n := 0
		for _, e := range tl.Items {
			if e.Kind == "fulfilled" {
				n++
			}
		}
		if n != 3 {
			t.Fatalf("%d fulfilled timeline entries: %+v", n, tl.Items)
		}
		// Lists filter and page.
		must(a.Do("GET", "/api/v1/fulfillment-orders?status=CLOSED&facility=DEN", key, nil), 200).JSON(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != den.ID {
			t.Fatalf("filtered: %+v", list.Items)
		}
		must(a.Do("GET", "/api/v1/fulfillment-orders?limit=1", key, nil), 200).JSON(t, &list)
		if len(list.Items) != 1 || list.NextCursor == "" {
			t.Fatalf("page 1: %+v", list)
		}
		var page2 struct {
			Items      []order.FulfillmentOrderDoc
			NextCursor string `json:"next_cursor"`
		}
		must(a.Do("GET", "/api/v1/fulfillment-orders?limit=1&cursor="+list.NextCursor, key, nil), 200).JSON(t, &page2)
		if len(page2.Items) != 1 || page2.NextCursor != "" || page2.Items[0].ID == list.Items[0].ID {
			t.Fatalf("page 2: %+v", page2)
		}
		must(a.Do("GET", "/api/v1/fulfillment-orders?facility=NOPE", key, nil), 422)
	})
}
