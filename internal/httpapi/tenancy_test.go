package httpapi_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/notify"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/routing"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
)

// TestCrossTenant walks every operation in the generated OpenAPI document —
// so a new route is covered the day it is added — and sends it with tenant
// A's all-scopes key at tenant B's objects. No answer may be a 2xx, no
// answer may mention B's objects, and B's objects must be unchanged after.
func TestCrossTenant(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e)
		ctx := context.Background()
		_, keyA := a.Tenant("Tenant A")
		tenB, keyB := a.Tenant("Tenant B")

		// One object of every kind a path can address, owned by B.
		prodB, err := a.Catalog.Create(ctx, tenB.ID, "USD", catalog.Draft{SKU: "B-SKU", Name: "B's product", Barcodes: []string{"4006381333931"}})
		if err != nil {
			t.Fatal(err)
		}
		userB, err := a.Auth.CreateUser(ctx, tenB.ID, auth.NewUser{Email: "b@example.com", Role: auth.Owner, Password: "b-password-123"})
		if err != nil {
			t.Fatal(err)
		}
		keysB, _ := a.Auth.ListAPIKeys(ctx, tenB.ID)
		facB, err := a.Inventory.CreateFacility(ctx, tenB.ID, inventory.FacilityInput{Code: "B-WH", Name: "B's warehouse", Kind: inventory.Own})
		if err != nil {
			t.Fatal(err)
		}
		binB, err := a.Inventory.CreateBin(ctx, tenB.ID, facB.ID, inventory.BinInput{Code: "B-01"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.Inventory.Adjust(ctx, tenB.ID, inventory.Adjustment{SKU: "B-SKU", Facility: "B-WH", Quantity: 10, Kind: inventory.Receive}); err != nil {
			t.Fatal(err)
		}
		facB2, _ := a.Inventory.CreateFacility(ctx, tenB.ID, inventory.FacilityInput{Code: "B-3PL", Name: "B's 3PL", Kind: inventory.ThreePL})
		trB, err := a.Inventory.CreateTransfer(ctx, tenB.ID, inventory.TransferRequest{From: "B-WH", To: "B-3PL", Lines: []inventory.ReserveLine{{SKU: "B-SKU", Quantity: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		resB, _, err := a.Inventory.MakeReservation(ctx, tenB.ID, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: "B-SKU", Quantity: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		ordB, _, err := a.Orders.Create(ctx, tenB.ID, order.Input{ExternalID: "B-1", Currency: "USD", Customer: order.Customer{Name: "B buyer", Email: "buyer-b@example.com"},
			Lines: []order.LineInput{{SKU: "B-SKU", Quantity: 1, UnitPrice: "5.00"}}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		fosB, err := a.Orders.FulfillmentOrders(ctx, tenB.ID, ordB.ID)
		if err != nil || len(fosB) != 1 {
			t.Fatal("B has no fulfilment order", fosB, err)
		}
		chB := channels.Channel{ID: "chn_b", TenantID: tenB.ID, Kind: "shopify", Name: "B's shop", Active: true, Settings: map[string]any{"shop_domain": "b-shop.myshopify.com"},
			CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
		chB.SetSecrets(map[string]any{"webhook_secret": "b-secret-value"})
		if err := store.NewChannels(a.DB).Create(ctx, &chB); err != nil {
			t.Fatal(err)
		}
		ruleB, err := a.Routing.Save(ctx, tenB.ID, routing.Rule{Name: "B's rule", Active: true, Then: routing.Action{Kind: routing.Only, Facilities: []string{"B-WH"}}})
		if err != nil {
			t.Fatal(err)
		}
		epB, err := a.Notify.CreateEndpoint(ctx, tenB.ID, notify.EndpointInput{URL: "https://hooks.example.com/b"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Notify.Relay(ctx); err != nil {
			t.Fatal(err)
		}
		evsB, _, err := a.Notify.Events(ctx, tenB.ID, notify.EventFilter{})
		if err != nil || len(evsB) == 0 {
			t.Fatal("B has no events", err)
		}
		delsB, _, err := a.Notify.Deliveries(ctx, tenB.ID, epB.ID, "", 10)
		if err != nil || len(delsB) == 0 {
			t.Fatal("B has no deliveries", err)
		}
		// objects maps the first path segment to B's object there. A route
		// whose path names a resource missing here fails the test: add it.
		objects := map[string]string{
			"products":           prodB.ID,
			"users":              userB.ID,
			"api-keys":           keysB[0].ID,
			"facilities":         facB.ID,
			"bins":               binB.ID,
			"transfers":          trB.ID,
			"reservations":       resB.ID,
			"orders":             ordB.ID,
			"fulfillment-orders": fosB[0].ID,
			"channels":           chB.ID,
			"routing-rules":      ruleB.ID,
			"events":             evsB[0].ID,
			"webhook-endpoints":  epB.ID,
			"webhook-deliveries": delsB[0].ID,
		}
		// Bodies that would succeed on A's own objects, so a refusal is the
		// tenant wall and not a validation error.
		bodies := map[string]any{
			"update-product":          map[string]any{"name": "hijacked"},
			"update-user":             map[string]any{"disabled": true, "role": "viewer"},
			"create-product":          map[string]any{"sku": "A-SKU", "name": "A's product"},
			"create-user":             map[string]any{"email": "a@example.com", "password": "a-password-123"},
			"create-api-key":          map[string]any{"name": "a"},
			"update-facility":         map[string]any{"name": "hijacked"},
			"create-bin":              map[string]any{"code": "A-HIJACK"},
			"update-bin":              map[string]any{"pickable": false},
			"set-reorder-settings":    map[string]any{"lead_time_days": 99},
			"receive-transfer":        map[string]any{},
			"update-webhook-endpoint": map[string]any{"enabled": false, "url": "https://evil.example.com/"},
			"edit-order":              map[string]any{"note": "hijacked"},
			"update-channel":          map[string]any{"name": "hijacked"},
			"update-routing-rule":     map[string]any{"name": "hijacked", "then": map[string]any{"kind": "hold", "hold_reason": "OTHER"}},
			"cancel-order":            map[string]any{},
			"hold-order":              map[string]any{"reason": "OTHER"},
			"release-order-hold":      map[string]any{"reason": "OTHER"},
		}
		bodies["fulfill-fulfillment-order"] = map[string]any{}
		secretsOfB := []string{prodB.ID, userB.ID, keysB[0].ID, "B-SKU", "b@example.com", tenB.ID, facB.ID, facB2.ID, binB.ID, trB.ID, resB.ID, "B-WH", epB.ID, evsB[0].ID, delsB[0].ID, "hooks.example.com", epB.Secret, ordB.ID, "buyer-b@example.com", "b-shop.myshopify.com", "b-secret-value", fosB[0].ID}

		doc := a.API.OpenAPI()
		paths := make([]string, 0, len(doc.Paths))
		for p := range doc.Paths {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		checked := 0
		for _, p := range paths {
			item := doc.Paths[p]
			for method, op := range map[string]any{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
				if op == nil || isNilOp(op) {
					continue
				}
				opID := opIDOf(op)
				path := p
				addressed := strings.Contains(p, "{")
				if addressed {
					// The resource is the segment before {id}.
					segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
					seg := ""
					for i, s := range segs {
						if s == "{id}" && i > 0 {
							seg = segs[i-1]
						}
					}
					obj, ok := objects[seg]
					if !ok {
						t.Fatalf("route %s %s addresses an object kind this test does not know; add one of tenant B's to objects", method, p)
					}
					path = strings.Replace(p, "{id}", obj, 1)
					if strings.Contains(path, "{") {
						t.Fatalf("route %s %s has a path parameter this test cannot fill", method, p)
					}
				}
				var body any
				if method == "POST" || method == "PATCH" || method == "PUT" {
					body = bodies[opID]
				}
				r := a.Do(method, "/api/v1"+path, keyA, body)
				checked++
				if addressed && r.Code >= 200 && r.Code < 300 {
					t.Errorf("%s %s with tenant A's key on B's object: %d %s", method, p, r.Code, r.Body)
				}
				for _, s := range secretsOfB {
					if strings.Contains(string(r.Body), s) {
						t.Errorf("%s %s shows tenant B's %q to tenant A", method, p, s)
					}
				}
			}
		}
		if checked < 10 {
			t.Fatalf("only %d operations checked; the OpenAPI walk is broken", checked)
		}
		// B's world is as it was.
		got, err := a.Catalog.Get(ctx, tenB.ID, prodB.ID)
		if err != nil || got.Name != "B's product" || got.ArchivedAt != nil {
			t.Fatalf("B's product changed: %+v %v", got, err)
		}
		u, _ := a.Auth.User(ctx, tenB.ID, userB.ID)
		if u.Disabled || u.Role != auth.Owner {
			t.Fatalf("B's user changed: %+v", u)
		}
		if tr, _ := a.Inventory.Transfer(ctx, tenB.ID, trB.ID); tr.Status != inventory.InTransit {
			t.Fatalf("B's transfer changed: %+v", tr)
		}
		if r, err := a.Routing.Rule(ctx, tenB.ID, ruleB.ID); err != nil || r.Name != "B's rule" {
			t.Fatalf("B's routing rule changed: %+v %v", r, err)
		}
		if c, _ := a.Channels.Get(ctx, tenB.ID, chB.ID); c.Name != "B's shop" {
			t.Fatalf("B's channel changed: %+v", c)
		}
		if o, _ := a.Orders.Get(ctx, tenB.ID, ordB.ID); o.Status != order.Open || o.Note != "" || len(o.Holds) != 0 {
			t.Fatalf("B's order changed: %+v", o)
		}
		if r, _ := a.Inventory.Reservation(ctx, tenB.ID, resB.ID); r.Status != inventory.Active {
			t.Fatalf("B's reservation changed: %+v", r)
		}
		if ds, _ := a.Inventory.Check(ctx); len(ds) > 0 {
			t.Fatalf("ledger disagrees: %+v", ds)
		}
		if ep, _ := a.Notify.Endpoint(ctx, tenB.ID, epB.ID); ep.Status != "active" || ep.Secret != epB.Secret || ep.URL != epB.URL {
			t.Fatalf("B's webhook endpoint changed: %+v", ep)
		}
		if r := a.Do("GET", "/api/v1/products", keyB, nil); r.Code != 200 {
			t.Fatalf("B's key stopped working: %d", r.Code)
		}
	})
}
