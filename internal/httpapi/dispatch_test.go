package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/dispatch"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/testenv"
	"github.com/waybill/waybill/internal/webhook"
)

// fake3PL is a 3PL speaking the generic protocol: it verifies each
// request's signature with the secret it was given and keeps the requests.
type fake3PL struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	got    []dispatch.Request
	ids    []string
	stock  map[string]int64
	status int // answer to notifications; 0 means 200
	hits   int // notifications received, answered or not
}

func newFake3PL(t *testing.T) *fake3PL {
	f := &fake3PL{t: t, stock: map[string]int64{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		if err := webhook.Verify([]string{f.secret}, r.Header, body, time.Now(), 0); err != nil {
			t.Errorf("%s %s: signature does not verify: %v", r.Method, r.URL.Path, err)
			http.Error(w, "bad signature", 401)
			return
		}
		switch {
		case r.Method == "POST" && r.URL.Path == "/fulfillment/fulfillment_order_notification":
			f.hits++
			if f.status != 0 {
				w.WriteHeader(f.status)
				return
			}
			var req dispatch.Request
			if err := json.Unmarshal(body, &req); err != nil {
				t.Errorf("request body: %v", err)
			}
			f.got = append(f.got, req)
			f.ids = append(f.ids, r.Header.Get("webhook-id"))
		case r.Method == "GET" && r.URL.Path == "/fulfillment/fetch_stock":
			json.NewEncoder(w).Encode(f.stock)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake3PL) requests() []dispatch.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]dispatch.Request(nil), f.got...)
}

func allowPrivate(c *config.Config) { c.AllowPrivateWebhookURLs = true }

// onHand reads one balance.
func onHand(t *testing.T, a *testenv.App, tenantID, sku, facilityID string) inventory.Level {
	t.Helper()
	ls, _, err := a.Inventory.Levels(context.Background(), tenantID, inventory.LevelFilter{SKU: sku, FacilityID: facilityID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var out inventory.Level
	for _, l := range ls {
		out.OnHand += l.OnHand
		out.Reserved += l.Reserved
	}
	return out
}

// shop3PL is a tenant selling TENT with its own warehouse DEN and a 3PL
// EU1 (preferred) that speaks the generic protocol to a fake, and EU1's
// restricted key.
type shop3PL struct {
	a        *testenv.App
	tenantID string
	key      string
	tpl      *fake3PL
	den, eu  string // facility ids
	tplKey   string
}

func newShop3PL(t *testing.T, e testenv.Engine) *shop3PL {
	t.Helper()
	s := &shop3PL{a: testenv.NewApp(t, e, allowPrivate), tpl: newFake3PL(t)}
	ten, key := s.a.Tenant("Shop")
	s.tenantID, s.key = ten.ID, key
	s.must(t, s.a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "TENT", "name": "Tent"}), 201)
	var den, eu struct {
		ID             string
		CallbackSecret string `json:"callback_secret"`
	}
	s.must(t, s.a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "DEN", "name": "Denver", "kind": "own"}), 201).JSON(t, &den)
	s.must(t, s.a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "EU1", "name": "EU 3PL", "kind": "3pl", "priority": 1,
		"callback_url": s.tpl.srv.URL + "/fulfillment"}), 201).JSON(t, &eu)
	s.den, s.eu, s.tpl.secret = den.ID, eu.ID, eu.CallbackSecret
	var k struct{ Key string }
	s.must(t, s.a.Do("POST", "/api/v1/facilities/"+eu.ID+"/api-keys", key, nil), 201).JSON(t, &k)
	s.tplKey = k.Key
	return s
}

// must fails the test unless r has status code.
func (s *shop3PL) must(t *testing.T, r testenv.Response, code int) testenv.Response {
	t.Helper()
	if r.Code != code {
		t.Fatalf("status %d, want %d: %s", r.Code, code, r.Body)
	}
	return r
}

// The proof: an order split between the own warehouse and a 3PL
// becomes two fulfilment orders; the 3PL's callback receives a verifiable
// request, it accepts and fulfils with tracking, the warehouse fulfils its
// part, and the order ends fulfilled with stock down by exactly what
// shipped.
func TestThreePLHandshakeEndToEnd(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e, allowPrivate)
		ctx := context.Background()
		ten, key := a.Tenant("Shop")
		tpl := newFake3PL(t)
		must := func(r testenv.Response, code int) testenv.Response {
			t.Helper()
			if r.Code != code {
				t.Fatalf("status %d, want %d: %s", r.Code, code, r.Body)
			}
			return r
		}
		must(a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "MUG", "name": "Mug"}), 201)
		must(a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "TENT", "name": "Tent"}), 201)
		var den, eu struct {
			ID             string
			CallbackSecret string `json:"callback_secret"`
		}
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "DEN", "name": "Denver", "kind": "own"}), 201).JSON(t, &den)
		// A bad callback URL is refused and creates nothing.
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "EU1", "name": "EU 3PL", "kind": "3pl", "callback_url": "ftp://x"}), 422)
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "EU1", "name": "EU 3PL", "kind": "3pl", "callback_url": tpl.srv.URL + "/fulfillment/",
			"fetch_stock": true}), 201).JSON(t, &eu)
		if eu.CallbackSecret == "" {
			t.Fatal("no callback secret in the answer")
		}
		tpl.secret = eu.CallbackSecret
		var again map[string]any
		must(a.Do("GET", "/api/v1/facilities/"+eu.ID, key, nil), 200).JSON(t, &again)
		if again["callback_secret"] != nil {
			t.Fatalf("the secret is shown again: %v", again)
		}
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "MUG", "facility": "DEN", "quantity": 10, "kind": "receive"}), 201)
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "TENT", "facility": "EU1", "quantity": 5, "kind": "receive"}), 201)

		var o order.Doc
		must(a.Do("POST", "/api/v1/orders", key, map[string]any{"external_id": "E2E-1", "currency": "USD", "customer": map[string]any{"name": "Ada", "email": "ada@example.com"},
			"shipping_address": map[string]any{"name": "Ada Lovelace", "line1": "1 Main St", "city": "Boulder", "region": "CO", "postal_code": "80302", "country": "US"},
			"shipping_lines":   []map[string]any{{"title": "Express", "price": "9.00"}},
			"lines":            []map[string]any{{"sku": "MUG", "quantity": 3, "unit_price": "10.00"}, {"sku": "TENT", "quantity": 2, "unit_price": "100.00"}}}), 201).JSON(t, &o)

		// The fulfilment orders exist as soon as the stock is reserved.
		var list struct{ Items []order.FulfillmentOrderDoc }
		list.Items = nil
		must(a.Do("GET", "/api/v1/fulfillment-orders?request_status=UNSUBMITTED", key, nil), 200).JSON(t, &list)
		if len(list.Items) != 1 || list.Items[0].Facility != "EU1" || list.Items[0].Pending != "request" {
			t.Fatalf("unsubmitted: %+v", list.Items)
		}
		euFO := list.Items[0].ID
		list.Items = nil
		must(a.Do("GET", "/api/v1/orders/"+o.ID+"/fulfillment-orders", key, nil), 200).JSON(t, &list)
		var denFO string
		for _, f := range list.Items {
			if f.Facility == "DEN" {
				denFO = f.ID
				if f.RequestStatus != "" {
					t.Fatalf("own facility has a request status: %+v", f)
				}
			}
		}

		// The dispatcher sends the 3PL its request, signed; a failure is
		// kept and tried again.
		tpl.status = 503
		if _, err := a.Dispatch.Run(ctx); err != nil {
			t.Fatal(err)
		}
		var fo order.FulfillmentOrderDoc
		fo = order.FulfillmentOrderDoc{}
		must(a.Do("GET", "/api/v1/fulfillment-orders/"+euFO, key, nil), 200).JSON(t, &fo)
		if fo.RequestStatus != order.RequestUnsubmitted || fo.Attempts != 1 || fo.LastError == "" || fo.NextAttemptAt == nil {
			t.Fatalf("after a failed send: %+v", fo)
		}
		tpl.status = 0
		a.Orders.SetClock(func() time.Time { return time.Now().UTC().Add(2 * time.Minute) })
		a.Dispatch.SetClock(func() time.Time { return time.Now().UTC().Add(2 * time.Minute) })
		if _, err := a.Dispatch.Run(ctx); err != nil {
			t.Fatal(err)
		}
		got := tpl.requests()
		if len(got) != 1 {
			t.Fatalf("3PL got %d requests", len(got))
		}
		r := got[0]
		if r.Kind != "FULFILLMENT_REQUEST" || r.Facility != "EU1" || r.FulfillmentOrder.ID != euFO || r.FulfillmentOrder.OrderNumber != o.Number ||
			len(r.FulfillmentOrder.Lines) != 1 || r.FulfillmentOrder.Lines[0].SKU != "TENT" || r.FulfillmentOrder.Lines[0].Quantity != 2 ||
			r.FulfillmentOrder.Destination.City != "Boulder" || r.FulfillmentOrder.Destination.Email != "ada@example.com" ||
			r.FulfillmentOrder.ShippingMethod.Speed != "priority" || r.Actions["accept"] == "" {
			t.Fatalf("request: %+v", r)
		}
		// Nothing more is sent once it is submitted.
		if _, err := a.Dispatch.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(tpl.requests()); n != 1 {
			t.Fatalf("sent again: %d", n)
		}

		// The 3PL answers with a key restricted to its facility.
		var k struct{ Key string }
		must(a.Do("POST", "/api/v1/facilities/"+eu.ID+"/api-keys", key, map[string]any{"name": "EU1"}), 201).JSON(t, &k)
		tplKey := k.Key
		list.Items = nil
		must(a.Do("GET", "/api/v1/fulfillment-orders", tplKey, nil), 200).JSON(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != euFO || list.Items[0].RequestStatus != order.RequestSubmitted {
			t.Fatalf("3PL list: %+v", list.Items)
		}
		must(a.Do("GET", "/api/v1/fulfillment-orders/"+denFO, tplKey, nil), 404)
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+denFO+"/fulfill", tplKey, map[string]any{}), 404)
		must(a.Do("GET", "/api/v1/orders", tplKey, nil), 403)
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+euFO+"/move", tplKey, map[string]any{"facility": "DEN"}), 403)

		fo = order.FulfillmentOrderDoc{}
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+euFO+"/accept", tplKey, map[string]any{"message": "will ship today"}), 200).JSON(t, &fo)
		if fo.RequestStatus != order.RequestAccepted {
			t.Fatalf("accepted: %+v", fo)
		}
		var shipped struct {
			FulfillmentOrder order.FulfillmentOrderDoc `json:"fulfillment_order"`
			Shipment         order.ShipmentDoc
		}
		body := map[string]any{"carrier": "DHL", "tracking_number": "JD0001", "tracking_url": "https://dhl.example/JD0001", "shipment_id": "3pl-shp-1"}
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+euFO+"/fulfill", tplKey, body), 201).JSON(t, &shipped)
		if shipped.FulfillmentOrder.Status != order.FulfillmentClosed || shipped.Shipment.TrackingNumber != "JD0001" {
			t.Fatalf("3PL fulfil: %+v", shipped)
		}
		// The 3PL reporting the same shipment again records nothing new.
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+euFO+"/fulfill", tplKey, body), 409)

		must(a.Do("POST", "/api/v1/fulfillment-orders/"+denFO+"/fulfill", key, map[string]any{"carrier": "UPS", "tracking_number": "1Z1"}), 201)
		must(a.Do("GET", "/api/v1/orders/"+o.ID, key, nil), 200).JSON(t, &o)
		if o.FulfillmentStatus != "fulfilled" || o.Status != "closed" {
			t.Fatalf("order: %s %s", o.Status, o.FulfillmentStatus)
		}
		if l := onHand(t, a, ten.ID, "MUG", den.ID); l.OnHand != 7 || l.Reserved != 0 {
			t.Fatalf("MUG at DEN: %+v", l)
		}
		if l := onHand(t, a, ten.ID, "TENT", eu.ID); l.OnHand != 3 || l.Reserved != 0 {
			t.Fatalf("TENT at EU1: %+v", l)
		}
		var hist struct {
			Items []struct{ Kind, RequestStatus string }
		}
		must(a.Do("GET", "/api/v1/fulfillment-orders/"+euFO+"/requests", key, nil), 200).JSON(t, &hist)
		var kinds []string
		for _, m := range hist.Items {
			kinds = append(kinds, m.Kind)
		}
		if len(kinds) != 2 || kinds[0] != "fulfillment_request" || kinds[1] != "accepted" {
			t.Fatalf("history: %v", kinds)
		}

		// fetch_stock: the 3PL says it can sell 9 TENT; on hand follows.
		tpl.stock = map[string]int64{"TENT": 9, "NOT-IN-CATALOGUE": 4}
		var sync struct{ Reported, Unknown, Changed int }
		must(a.Do("POST", "/api/v1/facilities/"+eu.ID+"/stock-sync", key, nil), 200).JSON(t, &sync)
		if sync.Reported != 1 || sync.Unknown != 1 || sync.Changed != 1 {
			t.Fatalf("stock sync: %+v", sync)
		}
		if l := onHand(t, a, ten.ID, "TENT", eu.ID); l.OnHand != 9 {
			t.Fatalf("TENT at EU1 after sync: %+v", l)
		}
		if ds, err := a.Inventory.Check(ctx); err != nil || len(ds) != 0 {
			t.Fatalf("check: %v %+v", err, ds)
		}
	})
}

// A rejected request re-sources the units at another allowed facility;
// when none can take them all, the reservation stays and the order is held
// with the reason. Nothing is lost or oversold.
func TestThreePLRejectionResources(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		sh := newShop3PL(t, e)
		a, ctx, key, tpl := sh.a, context.Background(), sh.key, sh.tpl
		must := func(r testenv.Response, code int) testenv.Response { t.Helper(); return sh.must(t, r, code) }
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "TENT", "facility": "EU1", "quantity": 4, "kind": "receive"}), 201)
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "TENT", "facility": "DEN", "quantity": 2, "kind": "receive"}), 201)

		place := func(ext string) (order.Doc, string) {
			t.Helper()
			var o order.Doc
			must(a.Do("POST", "/api/v1/orders", key, map[string]any{"external_id": ext, "currency": "USD", "customer": map[string]any{"name": "Ada"},
				"lines": []map[string]any{{"sku": "TENT", "quantity": 2, "unit_price": "100.00"}}}), 201).JSON(t, &o)
			var list struct{ Items []order.FulfillmentOrderDoc }
			list.Items = nil
			must(a.Do("GET", "/api/v1/orders/"+o.ID+"/fulfillment-orders", key, nil), 200).JSON(t, &list)
			if len(list.Items) != 1 || list.Items[0].Facility != "EU1" {
				t.Fatalf("%s placed at %+v", ext, list.Items)
			}
			if _, err := a.Dispatch.Run(ctx); err != nil {
				t.Fatal(err)
			}
			return o, list.Items[0].ID
		}

		// First order: EU1 rejects, DEN has 2 → re-sourced there.
		o1, fo1 := place("R-1")
		var fo order.FulfillmentOrderDoc
		fo = order.FulfillmentOrderDoc{}
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+fo1+"/reject", sh.tplKey, map[string]any{"reason": "INVENTORY_OUT_OF_STOCK", "message": "damaged"}), 200).JSON(t, &fo)
		if fo.RequestStatus != order.RequestRejected || fo.Status != order.FulfillmentClosed {
			t.Fatalf("rejected: %+v", fo)
		}
		var list struct{ Items []order.FulfillmentOrderDoc }
		list.Items = nil
		must(a.Do("GET", "/api/v1/orders/"+o1.ID+"/fulfillment-orders", key, nil), 200).JSON(t, &list)
		var open []order.FulfillmentOrderDoc
		for _, f := range list.Items {
			if f.Status == order.FulfillmentOpen {
				open = append(open, f)
			}
		}
		if len(open) != 1 || open[0].Facility != "DEN" || open[0].Lines[0].Quantity != 2 {
			t.Fatalf("after reject: %+v", list.Items)
		}
		must(a.Do("GET", "/api/v1/orders/"+o1.ID, key, nil), 200).JSON(t, &o1)
		if len(o1.Holds) != 0 {
			t.Fatalf("re-sourced order held: %+v", o1.Holds)
		}
		if l := onHand(t, a, sh.tenantID, "TENT", sh.eu); l.Reserved != 0 {
			t.Fatalf("EU1 still holds %+v", l)
		}
		if l := onHand(t, a, sh.tenantID, "TENT", sh.den); l.Reserved != 2 {
			t.Fatalf("DEN holds %+v", l)
		}

		// Second order: EU1 rejects, nowhere else has 2 → held, stock kept.
		o2, fo2 := place("R-2")
		fo = order.FulfillmentOrderDoc{}
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+fo2+"/reject", sh.tplKey, map[string]any{"reason": "OTHER"}), 200).JSON(t, &fo)
		if fo.RequestStatus != order.RequestRejected || fo.Status == order.FulfillmentClosed {
			t.Fatalf("rejected without re-sourcing: %+v", fo)
		}
		must(a.Do("GET", "/api/v1/orders/"+o2.ID, key, nil), 200).JSON(t, &o2)
		if len(o2.Holds) != 1 || o2.Holds[0].Reason != "OTHER" || o2.Lines[0].Reserved != 2 {
			t.Fatalf("order after reject: holds %+v lines %+v", o2.Holds, o2.Lines)
		}
		if l := onHand(t, a, sh.tenantID, "TENT", sh.eu); l.Reserved != 2 || l.OnHand != 4 {
			t.Fatalf("EU1 after a reject with nowhere to go: %+v", l)
		}
		// Moving it to a facility without the stock is refused; nothing changes.
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+fo2+"/move", key, map[string]any{"facility": "DEN"}), 409)
		// Stock arrives at DEN: the merchant moves it there.
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "TENT", "facility": "DEN", "quantity": 2, "kind": "receive"}), 201)
		fo = order.FulfillmentOrderDoc{}
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+fo2+"/move", key, map[string]any{"facility": "DEN"}), 200).JSON(t, &fo)
		if fo.Facility != "DEN" || len(fo.Lines) != 1 || fo.Lines[0].Quantity != 2 {
			t.Fatalf("moved: %+v", fo)
		}
		if l := onHand(t, a, sh.tenantID, "TENT", sh.eu); l.Reserved != 0 {
			t.Fatalf("EU1 after move: %+v", l)
		}
		if l := onHand(t, a, sh.tenantID, "TENT", sh.den); l.Reserved != 4 || l.OnHand != 4 {
			t.Fatalf("DEN after move: %+v", l)
		}

		// Cancellation: a third order goes to EU1, is accepted, then the
		// merchant cancels; the 3PL is asked and agrees.
		_, fo3 := place("R-3")
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+fo3+"/accept", sh.tplKey, nil), 200)
		fo = order.FulfillmentOrderDoc{}
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+fo3+"/cancel", key, nil), 200).JSON(t, &fo)
		if fo.RequestStatus != order.RequestCancellationRequest || fo.Pending != "cancel" {
			t.Fatalf("cancel requested: %+v", fo)
		}
		if _, err := a.Dispatch.Run(ctx); err != nil {
			t.Fatal(err)
		}
		reqs := tpl.requests()
		if last := reqs[len(reqs)-1]; last.Kind != "CANCELLATION_REQUEST" || last.FulfillmentOrder.ID != fo3 {
			t.Fatalf("last request: %+v", last)
		}
		fo = order.FulfillmentOrderDoc{}
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+fo3+"/accept_cancellation", sh.tplKey, nil), 200).JSON(t, &fo)
		if fo.Status != order.FulfillmentCancelled || fo.RequestStatus != order.RequestCancellationAccepted {
			t.Fatalf("cancelled: %+v", fo)
		}
		// The replacement waits on hold at EU1 with the stock still reserved.
		list.Items = nil
		must(a.Do("GET", "/api/v1/fulfillment-orders?facility=EU1&status=ON_HOLD", key, nil), 200).JSON(t, &list)
		if len(list.Items) != 1 || list.Items[0].Lines[0].Quantity != 2 || list.Items[0].RequestStatus != order.RequestUnsubmitted {
			t.Fatalf("replacement: %+v", list.Items)
		}
		// Cancelling an order whose request the 3PL accepted asks it to
		// cancel; its confirmation closes the request.
		o4, fo4 := place("R-4")
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+fo4+"/accept", sh.tplKey, nil), 200)
		must(a.Do("POST", "/api/v1/orders/"+o4.ID+"/cancel", key, map[string]any{"reason": "customer"}), 200)
		fo = order.FulfillmentOrderDoc{}
		must(a.Do("GET", "/api/v1/fulfillment-orders/"+fo4, key, nil), 200).JSON(t, &fo)
		if fo.Status != order.FulfillmentCancelled || fo.RequestStatus != order.RequestCancellationRequest || fo.Pending != "cancel" {
			t.Fatalf("after the order was cancelled: %+v", fo)
		}
		if _, err := a.Dispatch.Run(ctx); err != nil {
			t.Fatal(err)
		}
		reqs = tpl.requests()
		if last := reqs[len(reqs)-1]; last.Kind != "CANCELLATION_REQUEST" || last.FulfillmentOrder.ID != fo4 {
			t.Fatalf("last request: %+v", last)
		}
		fo = order.FulfillmentOrderDoc{}
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+fo4+"/accept_cancellation", sh.tplKey, nil), 200).JSON(t, &fo)
		if fo.RequestStatus != order.RequestCancellationAccepted {
			t.Fatalf("confirmed: %+v", fo)
		}
		if ds, err := a.Inventory.Check(ctx); err != nil || len(ds) != 0 {
			t.Fatalf("check: %v %+v", err, ds)
		}
	})
}

// A scheduled fulfilment order is neither sent nor shipped before its time,
// then opens and goes out; a 3PL closing a request unfinished leaves it
// INCOMPLETE with the rest reserved, for the merchant to move.
func TestFulfillmentScheduleAndIncomplete(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		sh := newShop3PL(t, e)
		a, ctx, key, tpl := sh.a, context.Background(), sh.key, sh.tpl
		must := func(r testenv.Response, code int) testenv.Response { t.Helper(); return sh.must(t, r, code) }
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "TENT", "facility": "EU1", "quantity": 3, "kind": "receive"}), 201)
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "TENT", "facility": "DEN", "quantity": 3, "kind": "receive"}), 201)
		var o order.Doc
		must(a.Do("POST", "/api/v1/orders", key, map[string]any{"external_id": "P-1", "currency": "USD", "customer": map[string]any{"name": "Ada"},
			"lines": []map[string]any{{"sku": "TENT", "quantity": 3, "unit_price": "100.00"}}}), 201).JSON(t, &o)
		var fos struct{ Items []order.FulfillmentOrderDoc }
		must(a.Do("GET", "/api/v1/orders/"+o.ID+"/fulfillment-orders", key, nil), 200).JSON(t, &fos)
		foID := fos.Items[0].ID

		p := problemOf(t, must(a.Do("POST", "/api/v1/fulfillment-orders/"+foID+"/schedule", key, map[string]any{"fulfill_at": "2020-01-01T00:00:00Z"}), 422))
		if len(p.Errors) != 1 || p.Errors[0].Location != "body.fulfill_at" {
			t.Fatalf("past date: %+v", p)
		}
		at := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
		var fo order.FulfillmentOrderDoc
		fo = order.FulfillmentOrderDoc{}
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+foID+"/schedule", key, map[string]any{"fulfill_at": at}), 200).JSON(t, &fo)
		if fo.Status != order.FulfillmentScheduled || fo.FulfillAt == nil || !fo.FulfillAt.Equal(at) {
			t.Fatalf("scheduled: %+v", fo)
		}
		if _, err := a.Dispatch.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(tpl.requests()); n != 0 {
			t.Fatalf("a scheduled request was sent (%d)", n)
		}
		if p := problemOf(t, must(a.Do("POST", "/api/v1/fulfillment-orders/"+foID+"/fulfill", key, map[string]any{}), 409)); p.Code != "fulfillment_order_scheduled" {
			t.Fatalf("fulfil while scheduled: %+v", p)
		}
		// Its time comes: it opens and the request goes out.
		later := time.Now().UTC().Add(2 * time.Hour)
		a.Orders.SetClock(func() time.Time { return later })
		if _, err := a.Dispatch.Run(ctx); err != nil {
			t.Fatal(err)
		}
		fo = order.FulfillmentOrderDoc{}
		must(a.Do("GET", "/api/v1/fulfillment-orders/"+foID, key, nil), 200).JSON(t, &fo)
		if fo.Status != order.FulfillmentOpen || fo.RequestStatus != order.RequestSubmitted || len(tpl.requests()) != 1 {
			t.Fatalf("opened: %+v (%d requests)", fo, len(tpl.requests()))
		}

		// The 3PL ships 1 of 3 and closes the request: INCOMPLETE, 2 still
		// reserved at EU1, the order held.
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+foID+"/accept", sh.tplKey, nil), 200)
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+foID+"/fulfill", sh.tplKey, map[string]any{"lines": []map[string]any{{"sku": "TENT", "quantity": 1}}}), 201)
		fo = order.FulfillmentOrderDoc{}
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+foID+"/close", sh.tplKey, map[string]any{"reason": "INVENTORY_OUT_OF_STOCK", "message": "two damaged"}), 200).JSON(t, &fo)
		if fo.Status != order.FulfillmentIncomplete || fo.RequestStatus != order.RequestClosed || fo.Lines[0].Quantity != 2 || fo.Lines[0].Fulfilled != 1 {
			t.Fatalf("closed unfinished: %+v", fo)
		}
		must(a.Do("GET", "/api/v1/orders/"+o.ID, key, nil), 200).JSON(t, &o)
		if len(o.Holds) != 1 || o.FulfillmentStatus != "partially_fulfilled" {
			t.Fatalf("order: holds %+v, %s", o.Holds, o.FulfillmentStatus)
		}
		if l := onHand(t, a, sh.tenantID, "TENT", sh.eu); l.Reserved != 2 || l.OnHand != 2 {
			t.Fatalf("EU1: %+v", l)
		}
		// The merchant moves the rest to DEN and releases the hold.
		fo = order.FulfillmentOrderDoc{}
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+foID+"/move", key, map[string]any{"facility": "DEN"}), 200).JSON(t, &fo)
		if fo.Facility != "DEN" || fo.Lines[0].Quantity != 2 {
			t.Fatalf("moved: %+v", fo)
		}
		if l := onHand(t, a, sh.tenantID, "TENT", sh.eu); l.Reserved != 0 {
			t.Fatalf("EU1 after move: %+v", l)
		}
		must(a.Do("POST", "/api/v1/orders/"+o.ID+"/holds/release", key, map[string]any{"reason": "OTHER"}), 200)
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+fo.ID+"/fulfill", key, map[string]any{}), 201)
		must(a.Do("GET", "/api/v1/orders/"+o.ID, key, nil), 200).JSON(t, &o)
		if o.FulfillmentStatus != "fulfilled" {
			t.Fatalf("order: %s", o.FulfillmentStatus)
		}
		if ds, err := a.Inventory.Check(ctx); err != nil || len(ds) != 0 {
			t.Fatalf("check: %v %+v", err, ds)
		}
	})
}

// Split sends part of a fulfilment order to another facility; merge brings
// one back into another; both move the stock exactly.
func TestFulfillmentSplitAndMerge(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e)
		ctx := context.Background()
		ten, key := a.Tenant("Shop")
		must := func(r testenv.Response, code int) testenv.Response {
			t.Helper()
			if r.Code != code {
				t.Fatalf("status %d, want %d: %s", r.Code, code, r.Body)
			}
			return r
		}
		must(a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "MUG", "name": "Mug"}), 201)
		must(a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "CUP", "name": "Cup"}), 201)
		var den, bos struct{ ID string }
		// Boston is preferred, but only Denver has cups: the order ships
		// from Denver, and the split goes to the preferred facility.
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "DEN", "name": "Denver", "kind": "own", "priority": 2}), 201).JSON(t, &den)
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "BOS", "name": "Boston", "kind": "own", "priority": 1}), 201).JSON(t, &bos)
		for _, f := range []string{"DEN", "BOS"} {
			must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "MUG", "facility": f, "quantity": 5, "kind": "receive"}), 201)
		}
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "CUP", "facility": "DEN", "quantity": 5, "kind": "receive"}), 201)
		place := func(ext string) (order.Doc, string) {
			var o order.Doc
			must(a.Do("POST", "/api/v1/orders", key, map[string]any{"external_id": ext, "currency": "USD", "customer": map[string]any{"name": "Ada"},
				"lines": []map[string]any{{"sku": "MUG", "quantity": 4, "unit_price": "10.00"}, {"sku": "CUP", "quantity": 1, "unit_price": "5.00"}}}), 201).JSON(t, &o)
			var fos struct{ Items []order.FulfillmentOrderDoc }
			must(a.Do("GET", "/api/v1/orders/"+o.ID+"/fulfillment-orders", key, nil), 200).JSON(t, &fos)
			if ext == "SM-1" && (len(fos.Items) != 1 || fos.Items[0].Facility != "DEN") {
				t.Fatalf("placed: %+v", fos.Items)
			}
			return o, fos.Items[0].ID
		}
		o, denFO := place("SM-1")
		level := func(sku, fac string) int64 { return onHand(t, a, ten.ID, sku, fac).Reserved }

		// Asking to split off more than is there changes nothing.
		p := problemOf(t, must(a.Do("POST", "/api/v1/fulfillment-orders/"+denFO+"/move", key, map[string]any{"facility": "BOS",
			"lines": []map[string]any{{"sku": "MUG", "quantity": 9}}}), 422))
		if len(p.Errors) != 1 || p.Errors[0].Location != "body.lines[0].quantity" || level("MUG", den.ID) != 4 {
			t.Fatalf("over-split: %+v", p)
		}
		// Split: 1 mug goes to Boston; 3 mugs and the cup stay in Denver.
		var fo order.FulfillmentOrderDoc
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+denFO+"/move", key, map[string]any{"facility": "BOS",
			"lines": []map[string]any{{"sku": "MUG", "quantity": 1}}}), 200).JSON(t, &fo)
		if fo.Facility != "BOS" || len(fo.Lines) != 1 || fo.Lines[0].Quantity != 1 {
			t.Fatalf("split off: %+v", fo)
		}
		bosFO := fo.ID
		fo = order.FulfillmentOrderDoc{}
		must(a.Do("GET", "/api/v1/fulfillment-orders/"+denFO, key, nil), 200).JSON(t, &fo)
		if fo.Status != order.FulfillmentOpen || len(fo.Lines) != 2 || fo.Lines[0].Quantity != 3 || fo.Lines[1].Quantity != 1 {
			t.Fatalf("what stayed: %+v", fo)
		}
		if level("MUG", den.ID) != 3 || level("MUG", bos.ID) != 1 || level("CUP", den.ID) != 1 {
			t.Fatalf("reserved after split: DEN %d BOS %d", level("MUG", den.ID), level("MUG", bos.ID))
		}
		// Merge Boston's part back into Denver's.
		_, otherFO := place("SM-2")
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+bosFO+"/merge", key, map[string]any{"into": otherFO}), 422)
		fo = order.FulfillmentOrderDoc{}
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+bosFO+"/merge", key, map[string]any{"into": denFO}), 200).JSON(t, &fo)
		if fo.ID != denFO || fo.Lines[0].Quantity != 4 {
			t.Fatalf("merged: %+v", fo)
		}
		fo = order.FulfillmentOrderDoc{}
		must(a.Do("GET", "/api/v1/fulfillment-orders/"+bosFO, key, nil), 200).JSON(t, &fo)
		if fo.Status != order.FulfillmentClosed {
			t.Fatalf("merged away: %+v", fo)
		}
		// (The second order's 4 mugs are reserved at BOS: DEN had 2 left.)
		if level("MUG", den.ID) != 4 || level("MUG", bos.ID) != 4 {
			t.Fatalf("reserved after merge: DEN %d BOS %d", level("MUG", den.ID), level("MUG", bos.ID))
		}
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+denFO+"/fulfill", key, map[string]any{}), 201)
		must(a.Do("GET", "/api/v1/orders/"+o.ID, key, nil), 200).JSON(t, &o)
		if o.FulfillmentStatus != "fulfilled" {
			t.Fatalf("order: %s", o.FulfillmentStatus)
		}
		if ds, err := a.Inventory.Check(ctx); err != nil || len(ds) != 0 {
			t.Fatalf("check: %v %+v", err, ds)
		}
	})
}

// A 3PL that is down is called once per dispatcher run, not once per
// waiting request; each request records the failure and is tried again.
func TestDispatchSkipsAFacilityThatIsDown(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		sh := newShop3PL(t, e)
		a, key := sh.a, sh.key
		sh.must(t, a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "TENT", "facility": "EU1", "quantity": 9, "kind": "receive"}), 201)
		for _, ext := range []string{"DN-1", "DN-2", "DN-3"} {
			sh.must(t, a.Do("POST", "/api/v1/orders", key, map[string]any{"external_id": ext, "currency": "USD", "customer": map[string]any{"name": "Ada"},
				"lines": []map[string]any{{"sku": "TENT", "quantity": 1, "unit_price": "100.00"}}}), 201)
		}
		sh.tpl.status = 503
		if _, err := a.Dispatch.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		sh.tpl.mu.Lock()
		hits := sh.tpl.hits
		sh.tpl.mu.Unlock()
		if hits != 1 {
			t.Fatalf("the 3PL was called %d times in one run", hits)
		}
		var list struct{ Items []order.FulfillmentOrderDoc }
		sh.must(t, a.Do("GET", "/api/v1/fulfillment-orders?facility=EU1", key, nil), 200).JSON(t, &list)
		for _, f := range list.Items {
			if f.Attempts != 1 || f.LastError == "" || f.RequestStatus != order.RequestUnsubmitted {
				t.Fatalf("after the 3PL was down: %+v", f)
			}
		}
	})
}

// An order changed after its 3PL got the request (a new address, fewer
// units) is recalled: the 3PL is asked to cancel, and once it confirms the
// new version goes out by itself. Shipping part of it is no change.
func TestChangedOrderIsRecalled(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		sh := newShop3PL(t, e)
		a, key, ctx := sh.a, sh.key, context.Background()
		sh.must(t, a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "TENT", "facility": "EU1", "quantity": 9, "kind": "receive"}), 201)
		var o order.Doc
		sh.must(t, a.Do("POST", "/api/v1/orders", key, map[string]any{"external_id": "RC-1", "currency": "USD", "customer": map[string]any{"name": "Ada"},
			"shipping_address": map[string]any{"name": "Ada", "line1": "1 Old Rd", "city": "Boulder", "country": "US"},
			"lines":            []map[string]any{{"sku": "TENT", "quantity": 3, "unit_price": "100.00"}}}), 201).JSON(t, &o)
		run := func() {
			t.Helper()
			if _, err := a.Dispatch.Run(ctx); err != nil {
				t.Fatal(err)
			}
		}
		run()
		var fos struct{ Items []order.FulfillmentOrderDoc }
		sh.must(t, a.Do("GET", "/api/v1/orders/"+o.ID+"/fulfillment-orders", key, nil), 200).JSON(t, &fos)
		foID := fos.Items[0].ID
		sh.must(t, a.Do("POST", "/api/v1/fulfillment-orders/"+foID+"/accept", sh.tplKey, nil), 200)
		// The 3PL ships one: no change to what was asked.
		sh.must(t, a.Do("POST", "/api/v1/fulfillment-orders/"+foID+"/fulfill", sh.tplKey, map[string]any{"lines": []map[string]any{{"sku": "TENT", "quantity": 1}}}), 201)
		var fo order.FulfillmentOrderDoc
		sh.must(t, a.Do("GET", "/api/v1/fulfillment-orders/"+foID, key, nil), 200).JSON(t, &fo)
		if fo.RequestStatus != order.RequestAccepted {
			t.Fatalf("after shipping part: %+v", fo)
		}
		// The customer moved: the 3PL is asked to cancel.
		sh.must(t, a.Do("PATCH", "/api/v1/orders/"+o.ID, key, map[string]any{"shipping_address": map[string]any{"name": "Ada", "line1": "9 New St", "city": "Denver", "country": "US"}}), 200)
		fo = order.FulfillmentOrderDoc{}
		sh.must(t, a.Do("GET", "/api/v1/fulfillment-orders/"+foID, key, nil), 200).JSON(t, &fo)
		if fo.RequestStatus != order.RequestCancellationRequest || fo.Pending != "cancel" {
			t.Fatalf("after the address changed: %+v", fo)
		}
		run()
		reqs := sh.tpl.requests()
		if last := reqs[len(reqs)-1]; last.Kind != "CANCELLATION_REQUEST" || last.FulfillmentOrder.ID != foID {
			t.Fatalf("last request: %+v", last)
		}
		sh.must(t, a.Do("POST", "/api/v1/fulfillment-orders/"+foID+"/accept_cancellation", sh.tplKey, nil), 200)
		// The new version goes out by itself, to the new address, with what is left.
		run()
		reqs = sh.tpl.requests()
		last := reqs[len(reqs)-1]
		if last.Kind != "FULFILLMENT_REQUEST" || last.FulfillmentOrder.ID == foID || last.FulfillmentOrder.Destination.Address1 != "9 New St" ||
			len(last.FulfillmentOrder.Lines) != 1 || last.FulfillmentOrder.Lines[0].Quantity != 2 {
			t.Fatalf("the new version: %+v", last)
		}
		if ds, err := a.Inventory.Check(ctx); err != nil || len(ds) != 0 {
			t.Fatalf("check: %v %+v", err, ds)
		}
	})
}

// A line taken off an order before its request went out leaves nothing
// for that facility: its fulfilment order is cancelled, nothing is sent.
func TestEmptiedFulfillmentOrderIsCancelled(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		sh := newShop3PL(t, e)
		a, key := sh.a, sh.key
		sh.must(t, a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "MUG", "name": "Mug"}), 201)
		sh.must(t, a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "TENT", "facility": "EU1", "quantity": 5, "kind": "receive"}), 201)
		sh.must(t, a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "MUG", "facility": "DEN", "quantity": 5, "kind": "receive"}), 201)
		var o order.Doc
		sh.must(t, a.Do("POST", "/api/v1/orders", key, map[string]any{"external_id": "EM-1", "currency": "USD", "customer": map[string]any{"name": "Ada"},
			"lines": []map[string]any{{"sku": "TENT", "quantity": 1, "unit_price": "100.00"}, {"sku": "MUG", "quantity": 1, "unit_price": "10.00"}}}), 201).JSON(t, &o)
		var tentLine string
		for _, l := range o.Lines {
			if l.SKU == "TENT" {
				tentLine = l.ID
			}
		}
		sh.must(t, a.Do("PATCH", "/api/v1/orders/"+o.ID, key, map[string]any{"remove_lines": []string{tentLine}}), 200)
		if _, err := a.Dispatch.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(sh.tpl.requests()); n != 0 {
			t.Fatalf("%d requests sent for nothing", n)
		}
		var fos struct{ Items []order.FulfillmentOrderDoc }
		sh.must(t, a.Do("GET", "/api/v1/orders/"+o.ID+"/fulfillment-orders", key, nil), 200).JSON(t, &fos)
		for _, f := range fos.Items {
			switch f.Facility {
			case "EU1":
				if f.Status != order.FulfillmentCancelled || f.Pending != "" {
					t.Fatalf("EU1: %+v", f)
				}
			case "DEN":
				if f.Status != order.FulfillmentOpen {
					t.Fatalf("DEN: %+v", f)
				}
			}
		}
	})
}

// Shopify's split at one facility: some units go into a new fulfilment
// order there (ship part now, part later); the stock stays where it is.
// Merging puts them back; a split-off part can also move elsewhere.
func TestSameFacilitySplit(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e)
		ctx := context.Background()
		ten, key := a.Tenant("Shop")
		must := func(r testenv.Response, code int) testenv.Response {
			t.Helper()
			if r.Code != code {
				t.Fatalf("status %d, want %d: %s", r.Code, code, r.Body)
			}
			return r
		}
		for _, sku := range []string{"MUG", "CUP"} {
			must(a.Do("POST", "/api/v1/products", key, map[string]any{"sku": sku, "name": sku}), 201)
		}
		var den, bos struct{ ID string }
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "DEN", "name": "Denver", "kind": "own", "priority": 1}), 201).JSON(t, &den)
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "BOS", "name": "Boston", "kind": "own", "priority": 2}), 201).JSON(t, &bos)
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "MUG", "facility": "DEN", "quantity": 10, "kind": "receive"}), 201)
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "CUP", "facility": "DEN", "quantity": 5, "kind": "receive"}), 201)
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "MUG", "facility": "BOS", "quantity": 5, "kind": "receive"}), 201)
		var o order.Doc
		must(a.Do("POST", "/api/v1/orders", key, map[string]any{"external_id": "SP-1", "currency": "USD", "customer": map[string]any{"name": "Ada"},
			"lines": []map[string]any{{"sku": "MUG", "quantity": 4, "unit_price": "10.00"}, {"sku": "CUP", "quantity": 1, "unit_price": "5.00"}}}), 201).JSON(t, &o)
		get := func(id string) order.FulfillmentOrderDoc {
			t.Helper()
			var fo order.FulfillmentOrderDoc
			must(a.Do("GET", "/api/v1/fulfillment-orders/"+id, key, nil), 200).JSON(t, &fo)
			return fo
		}
		units := func(fo order.FulfillmentOrderDoc) map[string]int64 {
			m := map[string]int64{}
			for _, l := range fo.Lines {
				m[l.SKU] += l.Quantity
			}
			return m
		}
		reserved := func(sku, fac string) int64 { return onHand(t, a, ten.ID, sku, fac).Reserved }
		var fos struct{ Items []order.FulfillmentOrderDoc }
		must(a.Do("GET", "/api/v1/orders/"+o.ID+"/fulfillment-orders", key, nil), 200).JSON(t, &fos)
		main := fos.Items[0].ID
		split := func(id string, body map[string]any, code int) order.FulfillmentOrderDoc {
			t.Helper()
			var fo order.FulfillmentOrderDoc
			r := must(a.Do("POST", "/api/v1/fulfillment-orders/"+id+"/split", key, body), code)
			if code == 200 {
				r.JSON(t, &fo)
			}
			return fo
		}
		// Refused: more than it holds, or all of it.
		split(main, map[string]any{"lines": []map[string]any{{"sku": "MUG", "quantity": 9}}}, 422)
		split(main, map[string]any{"lines": []map[string]any{{"sku": "MUG", "quantity": 4}, {"sku": "CUP", "quantity": 1}}}, 422)

		b := split(main, map[string]any{"lines": []map[string]any{{"sku": "MUG", "quantity": 1}}}, 200)
		if b.Facility != "DEN" || units(b)["MUG"] != 1 || len(b.Lines) != 1 {
			t.Fatalf("split off: %+v", b)
		}
		if u := units(get(main)); u["MUG"] != 3 || u["CUP"] != 1 || reserved("MUG", den.ID) != 4 {
			t.Fatalf("main after split: %v, DEN reserved %d", u, reserved("MUG", den.ID))
		}
		// Ship the split-off part now; the rest waits.
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+b.ID+"/fulfill", key, map[string]any{"carrier": "UPS"}), 201)
		if fo := get(b.ID); fo.Status != order.FulfillmentClosed {
			t.Fatalf("shipped part: %+v", fo)
		}
		if u := units(get(main)); u["MUG"] != 3 || u["CUP"] != 1 || reserved("MUG", den.ID) != 3 {
			t.Fatalf("main after shipping the split part: %v, DEN reserved %d", u, reserved("MUG", den.ID))
		}
		// Split and merge back.
		c := split(main, map[string]any{"lines": []map[string]any{{"sku": "CUP", "quantity": 1}}}, 200)
		var merged order.FulfillmentOrderDoc
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+c.ID+"/merge", key, map[string]any{"into": main}), 200).JSON(t, &merged)
		if merged.ID != main || units(merged)["CUP"] != 1 || units(merged)["MUG"] != 3 || get(c.ID).Status != order.FulfillmentClosed {
			t.Fatalf("merged back: %+v", merged)
		}
		// A split-off part moves to Boston on its own.
		d := split(main, map[string]any{"lines": []map[string]any{{"sku": "MUG", "quantity": 2}}}, 200)
		var moved order.FulfillmentOrderDoc
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+d.ID+"/move", key, map[string]any{"facility": "BOS"}), 200).JSON(t, &moved)
		if moved.Facility != "BOS" || units(moved)["MUG"] != 2 || get(d.ID).Status != order.FulfillmentClosed {
			t.Fatalf("moved split part: %+v", moved)
		}
		if u := units(get(main)); u["MUG"] != 1 || u["CUP"] != 1 || reserved("MUG", den.ID) != 1 || reserved("MUG", bos.ID) != 2 {
			t.Fatalf("after the move: main %v, DEN %d, BOS %d", u, reserved("MUG", den.ID), reserved("MUG", bos.ID))
		}
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+main+"/fulfill", key, map[string]any{}), 201)
		must(a.Do("POST", "/api/v1/fulfillment-orders/"+moved.ID+"/fulfill", key, map[string]any{}), 201)
		must(a.Do("GET", "/api/v1/orders/"+o.ID, key, nil), 200).JSON(t, &o)
		if o.FulfillmentStatus != "fulfilled" {
			t.Fatalf("order: %s", o.FulfillmentStatus)
		}
		if l := onHand(t, a, ten.ID, "MUG", den.ID); l.OnHand != 8 || l.Reserved != 0 {
			t.Fatalf("MUG at DEN: %+v", l)
		}
		if ds, err := a.Inventory.Check(ctx); err != nil || len(ds) != 0 {
			t.Fatalf("check: %v %+v", err, ds)
		}
	})
}
