package shipbob

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/provider"
	"github.com/waybill/waybill/internal/provider/shipbob/shipbobfake"
)

// recorder notes every request the client sends.
type recorder struct {
	mu   sync.Mutex
	seen []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, req.Clone(context.Background()))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// calls lists the requests sent as "METHOD path".
func (r *recorder) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, q := range r.seen {
		out = append(out, q.Method+" "+q.URL.Path)
	}
	return out
}

type harness struct {
	fake   *shipbobfake.Fake
	client *Client
	rec    *recorder
	slept  []time.Duration
}

func newHarness(t *testing.T) *harness {
	h := &harness{fake: shipbobfake.New(), rec: &recorder{}}
	t.Cleanup(h.fake.Close)
	cfg := Config{Token: shipbobfake.Token, ChannelID: shipbobfake.ChannelID, Endpoint: h.fake.URL()}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h.client = New(cfg, &http.Client{Transport: h.rec})
	h.client.Sleep = func(ctx context.Context, d time.Duration) error {
		h.slept = append(h.slept, d)
		return nil
	}
	return h
}

func testRequest(id string) provider.Request {
	return provider.Request{
		ID:          id,
		OrderNumber: "#1001",
		OrderedAt:   time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600)),
		ShipTo: provider.Address{
			Name: "Ada Lovelace", Company: "Analytical Engines", Line1: "12 St James's Square", Line2: "Flat 2",
			City: "London", PostalCode: "SW1Y 4JH", Country: "gb", Phone: "+44 20 7946 0000",
		},
		Email: "ada@example.com",
		Speed: provider.Expedited,
		Lines: []provider.Line{{SKU: "CHAIR-OAK", Quantity: 2}, {SKU: "LAMP-BRASS", Quantity: 1}, {SKU: "CHAIR-OAK", Quantity: 1}},
		Note:  "leave at the door",
	}
}

func (h *harness) submit(t *testing.T, id string) string {
	h.fake.SetStock("CHAIR-OAK", 10)
	h.fake.SetStock("LAMP-BRASS", 10)
	ref, err := h.client.Submit(t.Context(), testRequest(id))
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func jsonEqual(t *testing.T, got []byte, want string) {
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%v in %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Errorf("JSON (-want +got):\n%s", d)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // fields reported
	}{
		{"valid", Config{Token: "abc", ChannelID: "56232"}, nil},
		{"valid with everything", Config{Token: "abc", ChannelID: "56232", Endpoint: SandboxURL + "/",
			ShippingMethods: map[provider.Speed]string{provider.Priority: "Overnight"}}, nil},
		{"empty", Config{}, []string{"token", "channel_id"}},
		{"bad values", Config{Token: "ab c", ChannelID: "x56", Endpoint: "ftp://example.com",
			ShippingMethods: map[provider.Speed]string{"teleport": "Beam", provider.Standard: " "}},
			[]string{"token", "channel_id", "endpoint", "shipping_methods.standard", "shipping_methods.teleport"}},
		{"negative channel, relative endpoint", Config{Token: "abc", ChannelID: "-1", Endpoint: "/shipbob"},
			[]string{"channel_id", "endpoint"}},
		{"endpoint with query", Config{Token: "abc", ChannelID: "1", Endpoint: "https://x.example?a=1"}, []string{"endpoint"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			var got []string
			for _, f := range errs.Fields(err) {
				got = append(got, f.Field)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("fields (-want +got):\n%s\n%v", d, err)
			}
			if tc.want != nil && !errs.Is(errs.Invalid, err) {
				t.Errorf("kind of %v is %v, want invalid", err, errs.KindOf(err))
			}
		})
	}
}

func TestSubmitCreatesOrder(t *testing.T) {
	h := newHarness(t)
	ref := h.submit(t, "ful_01")

	orders := h.fake.Orders()
	if len(orders) != 1 {
		t.Fatalf("fake has %d orders, want 1", len(orders))
	}
	o := orders[0]
	if ref != o.ID || o.ReferenceID != "ful_01" || o.Channel != shipbobfake.ChannelID || o.Status != "Processing" {
		t.Errorf("ref %q, fake order %+v", ref, o)
	}
	jsonEqual(t, o.Created, `{
		"reference_id": "ful_01",
		"order_number": "#1001",
		"type": "DTC",
		"shipping_method": "Expedited",
		"purchase_date": "2026-03-01T11:00:00Z",
		"recipient": {
			"name": "Ada Lovelace",
			"address": {"address1": "12 St James's Square", "address2": "Flat 2", "company_name": "Analytical Engines",
				"city": "London", "country": "GB", "zip_code": "SW1Y 4JH"},
			"email": "ada@example.com",
			"phone_number": "+44 20 7946 0000"
		},
		"products": [{"reference_id": "CHAIR-OAK", "quantity": 3}, {"reference_id": "LAMP-BRASS", "quantity": 1}]
	}`)
	req := h.rec.seen[0]
	if got := req.Header.Get("Authorization"); got != "Bearer "+shipbobfake.Token {
		t.Errorf("Authorization %q", got)
	}
	if got := req.Header.Get("shipbob_channel_id"); got != shipbobfake.ChannelID {
		t.Errorf("shipbob_channel_id %q", got)
	}
}

func TestSubmitShippingMethods(t *testing.T) {
	h := newHarness(t)
	h.fake.SetStock("CHAIR-OAK", 1)
	h.fake.SetStock("LAMP-BRASS", 1)
	cfg := Config{Token: shipbobfake.Token, ChannelID: shipbobfake.ChannelID, Endpoint: h.fake.URL(),
		ShippingMethods: map[provider.Speed]string{provider.Priority: "Overnight"}}
	c := New(cfg, nil)
	for i, tc := range []struct {
		speed provider.Speed
		want  string
	}{{"", "Standard"}, {provider.Standard, "Standard"}, {provider.Expedited, "Expedited"}, {provider.Priority, "Overnight"}} {
		r := testRequest(fmt.Sprintf("ful_%d", i))
		r.Speed = tc.speed
		if _, err := c.Submit(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		var body struct {
			ShippingMethod string `json:"shipping_method"`
		}
		json.Unmarshal(h.fake.Orders()[i].Created, &body)
		if body.ShippingMethod != tc.want {
			t.Errorf("speed %q went as %q, want %q", tc.speed, body.ShippingMethod, tc.want)
		}
	}
}

func TestSubmitTwiceMakesOneOrder(t *testing.T) {
	h := newHarness(t)
	first := h.submit(t, "ful_02")
	second := h.submit(t, "ful_02")
	if first != second {
		t.Errorf("second submit gave %q, first %q", second, first)
	}
	if n := len(h.fake.Orders()); n != 1 {
		t.Errorf("fake has %d orders, want 1", n)
	}
	want := []string{"POST /2025-07/order", "POST /2025-07/order", "GET /2025-07/order"}
	if d := cmp.Diff(want, h.rec.calls()); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
	if q := h.rec.seen[2].URL.Query().Get("ReferenceIds"); q != "ful_02" {
		t.Errorf("looked up ReferenceIds=%q", q)
	}
	// Another request is another order.
	if third := h.submit(t, "ful_03"); third == first {
		t.Errorf("a new request got the first order's ref %q", third)
	}
}

func TestSubmitRefused(t *testing.T) {
	h := newHarness(t)
	r := testRequest("ful_04")
	r.Lines = []provider.Line{{SKU: "NEVER-STOCKED", Quantity: 1}}
	_, err := h.client.Submit(t.Context(), r)
	rej, ok := provider.IsRejected(err)
	if !ok {
		t.Fatalf("got %v, want a rejection", err)
	}
	if !strings.Contains(rej.Reason, "NEVER-STOCKED") {
		t.Errorf("reason %q does not name the SKU", rej.Reason)
	}
	if n := len(h.fake.Orders()); n != 0 {
		t.Errorf("fake has %d orders", n)
	}
}

func TestSubmitInvalid(t *testing.T) {
	h := newHarness(t)
	r := provider.Request{
		ID:     "a,b",
		Speed:  "teleport",
		ShipTo: provider.Address{Country: "Britain"},
		Lines:  []provider.Line{{SKU: "", Quantity: 1}, {SKU: "X", Quantity: 0}},
	}
	_, err := h.client.Submit(t.Context(), r)
	var got []string
	for _, f := range errs.Fields(err) {
		got = append(got, f.Field)
	}
	want := []string{"id", "speed", "ship_to.name", "ship_to.line1", "ship_to.city", "ship_to.country", "lines[0].sku", "lines[1].quantity"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
	if _, rejected := provider.IsRejected(err); rejected || !errs.Is(errs.Invalid, err) {
		t.Errorf("got %v, want an invalid request", err)
	}
	if len(h.rec.seen) != 0 {
		t.Errorf("sent %v", h.rec.calls())
	}
}

func TestStatusMapping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		move   func(f *shipbobfake.Fake, ref string) error
		raw    string
		state  provider.State
		reason string // a part of the reason
		sent   int    // shipments that left
	}{
		{"new", func(*shipbobfake.Fake, string) error { return nil }, "Processing", provider.Accepted, "", 0},
		{"import review", func(f *shipbobfake.Fake, ref string) error { return f.SetStatus(ref, "ImportReview") },
			"ImportReview", provider.Pending, "review", 0},
		{"exception", func(f *shipbobfake.Fake, ref string) error { return f.Exception(ref, "OutOfStock") },
			"Exception", provider.Pending, "OutOfStock: No Stock On Hand For Sku", 0},
		{"partly shipped", func(f *shipbobfake.Fake, ref string) error {
			return f.Ship(ref, "USPS", "9400", provider.Line{SKU: "CHAIR-OAK", Quantity: 1})
		}, "PartiallyFulfilled", provider.InProgress, "", 1},
		{"shipped", func(f *shipbobfake.Fake, ref string) error { return f.Ship(ref, "UPS", "1Z999") },
			"Fulfilled", provider.Shipped, "", 1},
		{"cancelled", func(f *shipbobfake.Fake, ref string) error {
			c := New(Config{Token: shipbobfake.Token, ChannelID: shipbobfake.ChannelID, Endpoint: f.URL()}, nil)
			return c.Cancel(context.Background(), ref)
		}, "Cancelled", provider.Cancelled, "", 0},
		{"a status ShipBob may add", func(f *shipbobfake.Fake, ref string) error { return f.SetStatus(ref, "Teleported") },
			"Teleported", provider.Pending, `"Teleported"`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			ref := h.submit(t, "ful_05")
			if err := tc.move(h.fake, ref); err != nil {
				t.Fatal(err)
			}
			st, err := h.client.Status(t.Context(), ref)
			if err != nil {
				t.Fatal(err)
			}
			if st.Raw != tc.raw || st.State != tc.state || len(st.Shipments) != tc.sent {
				t.Errorf("got %s/%s with %d shipments, want %s/%s with %d", st.Raw, st.State, len(st.Shipments), tc.raw, tc.state, tc.sent)
			}
			if !strings.Contains(st.Reason, tc.reason) || (tc.reason == "" && st.Reason != "") {
				t.Errorf("reason %q, want %q in it", st.Reason, tc.reason)
			}
		})
	}
}

func TestStatusShipments(t *testing.T) {
	h := newHarness(t)
	ref := h.submit(t, "ful_06")
	if err := h.fake.Ship(ref, "USPS", "9400111", provider.Line{SKU: "CHAIR-OAK", Quantity: 2}); err != nil {
		t.Fatal(err)
	}
	first, err := h.client.Status(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.fake.Ship(ref, "UPS", "1Z999"); err != nil {
		t.Fatal(err)
	}
	st, err := h.client.Status(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != provider.Shipped || len(st.Shipments) != 2 {
		t.Fatalf("got %+v", st)
	}
	for _, s := range st.Shipments {
		if s.ShippedAt.IsZero() || time.Since(s.ShippedAt) > time.Hour {
			t.Errorf("shipment %s shipped at %v", s.ID, s.ShippedAt)
		}
	}
	if st.Shipments[0].ID != first.Shipments[0].ID {
		t.Errorf("shipment id changed between polls: %q, then %q", first.Shipments[0].ID, st.Shipments[0].ID)
	}
	got := st.Shipments
	for i := range got {
		got[i].ID, got[i].ShippedAt = "", time.Time{}
	}
	want := []provider.Shipment{
		{Carrier: "USPS", Service: "Expedited", TrackingNumber: "9400111", TrackingURL: h.fake.URL() + "/track/9400111",
			Lines: []provider.Line{{SKU: "CHAIR-OAK", Quantity: 2}}},
		{Carrier: "UPS", Service: "Expedited", TrackingNumber: "1Z999", TrackingURL: h.fake.URL() + "/track/1Z999",
			Lines: []provider.Line{{SKU: "CHAIR-OAK", Quantity: 1}, {SKU: "LAMP-BRASS", Quantity: 1}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("shipments (-want +got):\n%s", d)
	}
}

func TestStatusBadRef(t *testing.T) {
	h := newHarness(t)
	for _, ref := range []string{"", "0", "-3", "12/../34", "0012", "ful_01"} {
		if _, err := h.client.Status(t.Context(), ref); !errs.Is(errs.Invalid, err) {
			t.Errorf("Status(%q): %v, want invalid", ref, err)
		}
	}
	if _, err := h.client.Status(t.Context(), "424242"); !errs.Is(errs.NotExist, err) {
		t.Errorf("unknown order: %v, want not found", err)
	}
	if n := len(h.rec.seen); n != 1 {
		t.Errorf("sent %d requests, want the one for 424242", n)
	}
}

// TestStatusOfShipments covers what the fake does not play: shipments on
// hold or labelled in an order still Processing, bundles, odd fields.
func TestStatusOfShipments(t *testing.T) {
	for _, tc := range []struct {
		name   string
		order  string
		state  provider.State
		reason string
		lines  []provider.Line
	}{
		{"labelled", `{"status":"Processing","shipments":[{"id":1,"status":"LabeledCreated"}]}`, provider.InProgress, "", nil},
		{"on hold", `{"status":"Processing","shipments":[{"id":1,"status":"OnHold",
			"status_details":[{"name":"InvalidAddress","description":"Invalid Address"}]}]}`,
			provider.Pending, "InvalidAddress: Invalid Address", nil},
		{"one held, one labelled", `{"status":"Processing","shipments":[{"id":1,"status":"OnHold"},{"id":2,"status":"LabeledCreated"}]}`,
			provider.InProgress, "a shipment is OnHold", nil},
		{"exception without details", `{"status":"Exception","shipments":[{"id":1,"status":"Exception"}]}`,
			provider.Pending, "Exception", nil},
		{"bundle counts the order's quantity", `{"status":"Fulfilled",
			"products":[{"id":7,"reference_id":"KIT","quantity":2}],
			"shipments":[{"id":1,"status":"Completed","products":[{"id":7,"reference_id":"KIT",
				"inventory_items":[{"id":1,"quantity":2},{"id":2,"quantity":4}]}]}]}`,
			provider.Shipped, "", []provider.Line{{SKU: "KIT", Quantity: 2}}},
		{"sku when no reference, lines merged, empty dropped", `{"status":"Fulfilled",
			"shipments":[{"id":1,"status":"Completed","products":[
				{"sku":"A","inventory_items":[{"quantity":1}]},
				{"reference_id":"A","inventory_items":[{"quantity":2}]},
				{"reference_id":"B","inventory_items":[{"quantity":0}]},
				{"inventory_items":[{"quantity":5}]}]}]}`,
			provider.Shipped, "", []provider.Line{{SKU: "A", Quantity: 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseOrder([]byte(tc.order))
			if err != nil {
				t.Fatal(err)
			}
			st := o.status()
			if st.State != tc.state || !strings.Contains(st.Reason, tc.reason) {
				t.Errorf("got %s %q, want %s with %q", st.State, st.Reason, tc.state, tc.reason)
			}
			var lines []provider.Line
			for _, s := range st.Shipments {
				lines = append(lines, s.Lines...)
			}
			if d := cmp.Diff(tc.lines, lines); d != "" {
				t.Errorf("lines (-want +got):\n%s", d)
			}
		})
	}
}

func TestShipmentFields(t *testing.T) {
	o, err := parseOrder([]byte(`{"status":"Fulfilled","shipments":[
		{"id":9,"status":"Completed","ship_option":"Standard","actual_fulfillment_date":"2026-03-02T10:00:00.1234567",
		 "tracking":{"carrier":" FedEx ","carrier_service":"Ground","tracking_number":"7","tracking_url":"javascript:alert(1)"}},
		{"id":0,"status":"Completed"},
		{"id":10,"status":"Cancelled"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	st := o.status()
	want := []provider.Shipment{{ID: "9", Carrier: "FedEx", Service: "Ground", TrackingNumber: "7",
		ShippedAt: time.Date(2026, 3, 2, 10, 0, 0, 123456700, time.UTC)}}
	if d := cmp.Diff(want, st.Shipments); d != "" {
		t.Errorf("shipments (-want +got):\n%s", d)
	}
}

func TestCancel(t *testing.T) {
	t.Run("accepted", func(t *testing.T) {
		h := newHarness(t)
		ref := h.submit(t, "ful_07")
		if err := h.client.Cancel(t.Context(), ref); err != nil {
			t.Fatal(err)
		}
		if st := h.fake.Orders()[0].Status; st != "Cancelled" {
			t.Errorf("fake order is %s", st)
		}
		if err := h.client.Cancel(t.Context(), ref); err != nil {
			t.Errorf("cancelling again: %v", err)
		}
		if c := h.rec.calls(); c[1] != "POST /2025-07/order/"+ref+":cancel" {
			t.Errorf("calls %v", c)
		}
	})
	t.Run("refused once shipped", func(t *testing.T) {
		h := newHarness(t)
		ref := h.submit(t, "ful_08")
		if err := h.fake.Ship(ref, "UPS", "1Z1"); err != nil {
			t.Fatal(err)
		}
		err := h.client.Cancel(t.Context(), ref)
		rej, ok := provider.IsRejected(err)
		if !ok || !errs.Is(errs.Conflict, err) || !strings.Contains(rej.Reason, "already been shipped") {
			t.Fatalf("got %v, want a rejection saying the order shipped", err)
		}
		if st := h.fake.Orders()[0].Status; st != "Fulfilled" {
			t.Errorf("fake order is %s", st)
		}
	})
	t.Run("partly shipped", func(t *testing.T) {
		h := newHarness(t)
		ref := h.submit(t, "ful_09")
		if err := h.fake.Ship(ref, "UPS", "1Z2", provider.Line{SKU: "LAMP-BRASS", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		err := h.client.Cancel(t.Context(), ref)
		if rej, ok := provider.IsRejected(err); !ok || !strings.Contains(rej.Reason, "only part") {
			t.Fatalf("got %v, want a partial rejection", err)
		}
		st, err := h.client.Status(t.Context(), ref)
		if err != nil {
			t.Fatal(err)
		}
		if st.State != provider.Shipped || len(st.Shipments) != 1 {
			t.Errorf("after cancelling the rest: %+v", st)
		}
	})
}

// TestCancelUnprocessable covers ShipBob refusing a cancellation with 422,
// which the fake does not do.
func TestCancelUnprocessable(t *testing.T) {
	var cancels int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method + " " + r.URL.Path {
		case "POST /2025-07/order/77:cancel":
			cancels++
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprint(w, `{"type":"about:blank","title":"Unprocessable","status":422,"detail":"Order 77 is being packed"}`)
		case "GET /2025-07/order/77":
			fmt.Fprint(w, `{"id":77,"status":"Processing","shipments":[{"id":1,"status":"LabeledCreated"}]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := New(Config{Token: "t", ChannelID: "1", Endpoint: srv.URL}, nil)
	err := c.Cancel(t.Context(), "77")
	rej, ok := provider.IsRejected(err)
	if !ok || rej.Reason != "Order 77 is being packed" {
		t.Errorf("got %v, want ShipBob's refusal", err)
	}
	if cancels != 1 {
		t.Errorf("%d cancellations sent", cancels)
	}
}

func TestStock(t *testing.T) {
	h := newHarness(t)
	var want []provider.Level
	for i := range 230 {
		sku := fmt.Sprintf("SKU-%03d", i)
		h.fake.SetStock(sku, int64(i%7))
		want = append(want, provider.Level{SKU: sku, Available: int64(i % 7)})
	}
	got, err := h.client.Stock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("levels (-want +got):\n%s", d)
	}
	if n := len(h.rec.seen); n != 3 {
		t.Errorf("read %d pages, want 3 of %d", n, pageSize)
	}
	if q := h.rec.seen[0].URL.Query().Get("PageSize"); q != fmt.Sprint(pageSize) {
		t.Errorf("PageSize %q", q)
	}
}

func TestStockLessExceptions(t *testing.T) {
	h := newHarness(t)
	ref := h.submit(t, "ful_10") // 3 CHAIR-OAK, 1 LAMP-BRASS; 10 of each in stock
	if err := h.fake.Exception(ref, "InventoryPartiallyCommitted"); err != nil {
		t.Fatal(err)
	}
	got, err := h.client.Stock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []provider.Level{{SKU: "CHAIR-OAK", Available: 7}, {SKU: "LAMP-BRASS", Available: 9}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("levels (-want +got):\n%s", d)
	}
}

func TestResolveNext(t *testing.T) {
	c := New(Config{Token: "t", ChannelID: "1", Endpoint: "https://proxy.example/shipbob/"}, nil)
	for next, want := range map[string]string{
		"":                                   "",
		"/2025-07/inventory-level?Cursor=2":  "https://proxy.example/shipbob/2025-07/inventory-level?Cursor=2",
		"/inventory-level?Cursor=2":          "https://proxy.example/shipbob/2025-07/inventory-level?Cursor=2",
		"inventory-level?Cursor=2":           "https://proxy.example/shipbob/2025-07/inventory-level?Cursor=2",
		"https://evil.example/2025-07/x?c=1": "https://proxy.example/shipbob/2025-07/x?c=1",
	} {
		if got, err := c.resolve(next); err != nil || got != want {
			t.Errorf("resolve(%q) = %q, %v; want %q", next, got, err, want)
		}
	}
	if _, err := c.resolve("?Cursor=2"); err == nil {
		t.Error("a link without a path resolved")
	}
}

func TestStockPagesLoop(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"items":[{"sku":"A","total_fulfillable_quantity":1}],"next":"/2025-07/inventory-level?Cursor=same"}`)
	}))
	defer srv.Close()
	c := New(Config{Token: "t", ChannelID: "1", Endpoint: srv.URL}, nil)
	if _, err := c.Stock(t.Context()); !errs.Is(errs.Internal, err) {
		t.Errorf("got %v, want an error for pages that loop", err)
	}
}

func TestThrottled(t *testing.T) {
	h := newHarness(t)
	h.fake.SetStock("A", 5)
	h.fake.Throttle(2)
	got, err := h.client.Stock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Available != 5 {
		t.Errorf("levels %v", got)
	}
	if d := cmp.Diff([]time.Duration{shipbobfake.RetryAfter, shipbobfake.RetryAfter}, h.slept); d != "" {
		t.Errorf("waits (-want +got):\n%s", d)
	}

	h.slept = nil
	h.fake.Throttle(100)
	_, err = h.client.Stock(t.Context())
	if !errs.Is(errs.Transient, err) || !strings.Contains(err.Error(), "429") {
		t.Errorf("got %v, want a transient 429", err)
	}
	if len(h.slept) != h.client.Retries {
		t.Errorf("waited %d times, want %d", len(h.slept), h.client.Retries)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"X-Retry-After": {"25"}}, 25 * time.Second},
		{http.Header{"X-Retry-After": {"25"}, "Retry-After": {"3"}}, 25 * time.Second},
		{http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(7 * time.Second).Format(http.TimeFormat)}}, 7 * time.Second},
		{http.Header{"Retry-After": {"soon"}}, defaultRetryAfter},
		{http.Header{"X-Retry-After": {"NaN"}}, defaultRetryAfter},
		{http.Header{"X-Retry-After": {"1e300"}}, 24 * time.Hour},
		{http.Header{}, defaultRetryAfter},
	} {
		if got := retryAfter(tc.h, now); got != tc.want {
			t.Errorf("retryAfter(%v) = %v, want %v", tc.h, got, tc.want)
		}
	}
}

func TestWrongToken(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		cfg  Config
		word string
	}{
		{Config{Token: "revoked", ChannelID: shipbobfake.ChannelID, Endpoint: h.fake.URL()}, "401"},
		{Config{Token: shipbobfake.Token, ChannelID: "999", Endpoint: h.fake.URL()}, "channel 999"},
	} {
		_, err := New(tc.cfg, nil).Stock(t.Context())
		if !errs.Is(errs.Permission, err) || !strings.Contains(err.Error(), "personal access token (token)") ||
			!strings.Contains(err.Error(), tc.word) {
			t.Errorf("got %v, want a permission error naming the token and %q", err, tc.word)
		}
	}
}

func TestServerError(t *testing.T) {
	h := newHarness(t)
	h.fake.Fail(1)
	_, err := h.client.Status(t.Context(), "1000001")
	if !errs.Is(errs.Transient, err) || !strings.Contains(err.Error(), "HTTP 500") {
		t.Errorf("got %v, want a transient HTTP 500", err)
	}
	if len(h.slept) != 0 || len(h.rec.seen) != 1 {
		t.Errorf("retried a 500: %v", h.rec.calls())
	}
}

func TestAnswerTooLong(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"items":[`)
		pad := strings.Repeat(" ", 1<<16)
		for range maxBody/len(pad) + 1 {
			fmt.Fprint(w, pad)
		}
		fmt.Fprint(w, `]}`)
	}))
	defer srv.Close()
	c := New(Config{Token: "t", ChannelID: "1", Endpoint: srv.URL}, nil)
	if _, err := c.Stock(t.Context()); !errs.Is(errs.Internal, err) || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("got %v, want an answer too long", err)
	}
}

func TestErrorMessage(t *testing.T) {
	for body, want := range map[string]string{
		`{"reference_id":["An order with reference id \"x\" already exists."]}`:                                   `reference_id: An order with reference id "x" already exists.`,
		`{"title":"One or more validation errors occurred.","status":400,"errors":{"Zip":["bad"],"A":["x","y"]}}`: "A: x; y; Zip: bad",
		`{"statusCode":429,"message":"Rate limit is exceeded. Try again in 25 seconds."}`:                         "Rate limit is exceeded. Try again in 25 seconds.",
		`{"title":"Unprocessable","detail":"Order is packed"}`:                                                    "Order is packed",
		`"plain\nstring"`:               "plain string",
		"<html>\n Bad\tGateway </html>": "<html> Bad Gateway </html>",
		`{"status":500}`:                "",
		"":                              "",
	} {
		if got := errorMessage([]byte(body)); got != want {
			t.Errorf("errorMessage(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestCancelResult(t *testing.T) {
	for body, want := range map[string]bool{
		`{"status":"Success"}`:        true,
		`{"status":"Failure"}`:        false,
		`{"status":"PartialSuccess"}`: false,
		`{"status":"Queued"}`:         false,
		`{"canceled_shipment_results":[{"is_success":true},{"is_success":true}]}`:  true,
		`{"canceled_shipment_results":[{"is_success":true},{"is_success":false}]}`: false,
	} {
		r, err := parseCancel([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.succeeded(); got != want {
			t.Errorf("%s: succeeded %v, want %v", body, got, want)
		}
	}
}
