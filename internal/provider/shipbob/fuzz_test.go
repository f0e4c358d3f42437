package shipbob

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/provider"
)

var orderSeeds = []string{
	`{"id":1000001,"reference_id":"ful_1","status":"Processing","channel":{"id":100102},
	  "products":[{"id":5,"reference_id":"A","sku":"A","quantity":2}],
	  "shipments":[{"id":7,"status":"Processing","products":[{"id":5,"reference_id":"A","inventory_items":[{"id":3,"quantity":2}]}]}]}`,
	`{"id":2,"status":"PartiallyFulfilled","products":[{"id":5,"reference_id":"KIT","quantity":1}],
	  "shipments":[{"id":8,"status":"Completed","ship_option":"Standard","actual_fulfillment_date":"2026-03-02T10:00:00.1234567",
	   "tracking":{"carrier":"UPS","carrier_service":"Ground","tracking_number":"1Z","tracking_url":"https://ups.example/1Z","shipping_date":"2026-03-02T10:00:00Z"},
	   "products":[{"id":5,"reference_id":"KIT","inventory_items":[{"quantity":1},{"quantity":2}]}]},
	   {"id":9,"status":"OnHold","status_details":[{"name":"InvalidAddress","description":"Invalid Address"}]}]}`,
	`{"status":"Exception","shipments":[{"id":1,"status":"Exception","status_details":[{"name":"OutOfStock","description":null}]}]}`,
	`{"status":"Teleported\u0000\n","shipments":null}`,
	`{"id":-1,"status":"Fulfilled","shipments":[{"id":1,"status":"Completed","products":[{"inventory_items":[{"quantity":-4}]}]}]}`,
	`[]`, `null`, `{"id":1e3}`,
}

var validStates = []provider.State{provider.Pending, provider.Accepted, provider.InProgress, provider.Shipped, provider.Cancelled}

// FuzzParseOrder feeds order answers to the parser and the status mapping.
// Whatever ShipBob sends, a status is one of ours, Rejected never comes from
// a poll, and every shipment has an id and lines with a SKU and units.
func FuzzParseOrder(f *testing.F) {
	for _, s := range orderSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := parseOrder(data)
		if err != nil {
			return
		}
		st := o.status()
		if !slices.Contains(validStates, st.State) {
			t.Fatalf("state %q from %s", st.State, data)
		}
		if !utf8.ValidString(st.Reason) || strings.ContainsAny(st.Reason, "\n\r") || len(st.Reason) > 600 {
			t.Fatalf("reason %q", st.Reason)
		}
		for _, s := range st.Shipments {
			if s.ID == "" || s.ID == "0" || strings.HasPrefix(s.ID, "-") {
				t.Fatalf("shipment id %q", s.ID)
			}
			if s.TrackingURL != "" && !strings.HasPrefix(s.TrackingURL, "http") {
				t.Fatalf("tracking URL %q", s.TrackingURL)
			}
			seen := map[string]bool{}
			for _, l := range s.Lines {
				if l.SKU == "" || l.Quantity < 1 || seen[l.SKU] {
					t.Fatalf("line %+v in %+v", l, s)
				}
				seen[l.SKU] = true
			}
		}
	})
}

// FuzzParseLevels feeds inventory pages to the parser: levels have a SKU
// and never a negative quantity.
func FuzzParseLevels(f *testing.F) {
	f.Add([]byte(`{"items":[{"inventory_id":1,"sku":"A","total_fulfillable_quantity":4,"total_sellable_quantity":3}],"next":"/2025-07/inventory-level?Cursor=1"}`))
	f.Add([]byte(`{"items":[{"sku":" ","total_fulfillable_quantity":-4},{"sku":"B","total_sellable_quantity":null,"total_fulfillable_quantity":9}],"next":null}`))
	f.Add([]byte(`{"items":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseLevels(data)
		if err != nil {
			return
		}
		for _, l := range p.levels() {
			if strings.TrimSpace(l.SKU) == "" || l.Available < 0 {
				t.Fatalf("level %+v", l)
			}
		}
		c := New(Config{Token: "t", ChannelID: "1", Endpoint: "https://api.example"}, nil)
		if u, err := c.resolve(p.Next); err == nil && u != "" && !strings.HasPrefix(u, "https://api.example/2025-07/") {
			t.Fatalf("next %q resolved off the endpoint: %q", p.Next, u)
		}
	})
}

// FuzzParseCancel feeds cancellation answers to the parser: a refusal
// always has a reason.
func FuzzParseCancel(f *testing.F) {
	f.Add([]byte(`{"order_id":1,"status":"Success","canceled_shipment_results":[{"action":"Cancel","is_success":true,"reason":null,"shipment_id":7}]}`))
	f.Add([]byte(`{"status":"PartialSuccess","canceled_shipment_results":[{"is_success":false,"reason":"Shipment has already been shipped.","shipment_id":7},{"is_success":true}]}`))
	f.Add([]byte(`{"canceled_shipment_results":[{"is_success":false}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseCancel(data)
		if err != nil {
			return
		}
		if !r.succeeded() && strings.TrimSpace(r.reason()) == "" {
			t.Fatalf("a refusal without a reason from %s", data)
		}
	})
}

// FuzzErrorMessage feeds error answers to errorMessage: one line of valid
// UTF-8, bounded.
func FuzzErrorMessage(f *testing.F) {
	for _, s := range []string{
		`{"reference_id":["An order with reference id \"x\" already exists."]}`,
		`{"title":"One or more validation errors occurred.","errors":{"Zip":["bad"],"A":[["x"],{"b":"y"}]}}`,
		`{"statusCode":429,"message":"Rate limit is exceeded."}`,
		`[[[[[["deep"]]]]]]`, "<html>\xff\xfe</html>", `"\u2028x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := errorMessage(data)
		if !utf8.ValidString(m) || strings.ContainsAny(m, "\n\r\t") || len(m) > 300 {
			t.Fatalf("message %q from %q", m, data)
		}
	})
}
