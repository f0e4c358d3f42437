package amazonmcf_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/provider"
	"github.com/waybill/waybill/internal/provider/amazonmcf"
	"github.com/waybill/waybill/internal/provider/amazonmcf/mcffake"
	"github.com/waybill/waybill/internal/spapi"
)

var ctx = context.Background()

// setup is a client of a fresh fake, unpaced, its sleeps recorded instead
// of slept.
func setup(t *testing.T) (*mcffake.Fake, *amazonmcf.Client, func() []time.Duration) {
	f := mcffake.New()
	t.Cleanup(f.Close)
	c := amazonmcf.New(f.Config(), f.HTTPClient())
	for _, l := range []**rate.Limiter{&c.PreviewLimiter, &c.CreateLimiter, &c.GetLimiter, &c.CancelLimiter, &c.InventoryLimiter} {
		*l = rate.NewLimiter(rate.Inf, 0)
	}
	var mu sync.Mutex
	var slept []time.Duration
	c.Sleep = func(_ context.Context, d time.Duration) error {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
		return nil
	}
	return f, c, func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(slept)
	}
}

// request is a fulfilment order of two SKUs to an address in Michigan.
func request(id string) provider.Request {
	return provider.Request{
		ID:          id,
		OrderNumber: "#1042",
		OrderedAt:   time.Date(2024, 5, 1, 10, 0, 0, 0, time.FixedZone("CEST", 2*3600)),
		ShipTo: provider.Address{
			Name: "Jane Buyer", Company: "Acme Corp", Line1: "1 Cross St.", Line2: "Apt 4", City: "Canton",
			Region: "MI", PostalCode: "48817", Country: "us", Phone: "+1 555-010-0199",
		},
		Email: "jane@example.com",
		Speed: provider.Expedited,
		Lines: []provider.Line{{SKU: "MUG-RED", Quantity: 2}, {SKU: "SPORK-TI", Quantity: 1}},
		Note:  "Thank you for shopping with us!",
	}
}

func stocked(f *mcffake.Fake) {
	f.SetStock("MUG-RED", 10)
	f.SetStock("SPORK-TI", 5)
}

// body decodes the JSON a call sent.
func body(t *testing.T, r mcffake.Request) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%s body %s: %v", r.Op, r.Body, err)
	}
	return m
}

func TestSubmitSendsWhatAmazonExpects(t *testing.T) {
	f, c, _ := setup(t)
	stocked(f)
	ref, err := c.Submit(ctx, request("ful_01jd5x7q4m2k8v9w0x1y2z3a4b"))
	if err != nil {
		t.Fatal(err)
	}
	if ref != "ful_01jd5x7q4m2k8v9w0x1y2z3a4b" {
		t.Errorf("ref = %q, want our id unchanged", ref)
	}
	calls := f.Requests("createFulfillmentOrder")
	if len(calls) != 1 || calls[0].Method != "POST" || calls[0].Path != "/fba/outbound/2020-07-01/fulfillmentOrders" {
		t.Fatalf("createFulfillmentOrder calls = %+v", calls)
	}
	if !strings.HasPrefix(calls[0].Token, "Atza|") {
		t.Errorf("x-amz-access-token = %q, want the LWA token", calls[0].Token)
	}
	want := map[string]any{
		"marketplaceId":            "ATVPDKIKX0DER",
		"sellerFulfillmentOrderId": "ful_01jd5x7q4m2k8v9w0x1y2z3a4b",
		"displayableOrderId":       "#1042",
		"displayableOrderDate":     "2024-05-01T08:00:00Z",
		"displayableOrderComment":  "Thank you for shopping with us!",
		"shippingSpeedCategory":    "Expedited",
		"destinationAddress": map[string]any{
			"name": "Jane Buyer", "addressLine1": "Acme Corp", "addressLine2": "1 Cross St.", "addressLine3": "Apt 4",
			"city": "Canton", "stateOrRegion": "MI", "postalCode": "48817", "countryCode": "US", "phone": "+1 555-010-0199",
		},
		"fulfillmentAction":  "Ship",
		"fulfillmentPolicy":  "FillOrKill",
		"notificationEmails": []any{"jane@example.com"},
		"items": []any{
			map[string]any{"sellerSku": "MUG-RED", "sellerFulfillmentOrderItemId": "1", "quantity": float64(2)},
			map[string]any{"sellerSku": "SPORK-TI", "sellerFulfillmentOrderItemId": "2", "quantity": float64(1)},
		},
	}
	if got := body(t, calls[0]); !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("createFulfillmentOrder body\n%s\nwant\n%s", g, w)
	}
	st, err := c.Status(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != provider.Accepted || st.Raw != "Received" {
		t.Errorf("status after submit = %+v, want accepted (Received)", st)
	}
}

func TestSubmitDefaults(t *testing.T) {
	f, c, _ := setup(t)
	stocked(f)
	r := request("ful_2")
	r.OrderNumber, r.Note, r.Email, r.Speed, r.ShipTo.Company, r.ShipTo.Line2 = "", "", "", "", "", ""
	if _, err := c.Submit(ctx, r); err != nil {
		t.Fatal(err)
	}
	b := body(t, f.Requests("createFulfillmentOrder")[0])
	if b["displayableOrderId"] != "ful_2" || b["displayableOrderComment"] != "Order ful_2" || b["shippingSpeedCategory"] != "Standard" {
		t.Errorf("defaults: id %v comment %v speed %v", b["displayableOrderId"], b["displayableOrderComment"], b["shippingSpeedCategory"])
	}
	if _, ok := b["notificationEmails"]; ok {
		t.Errorf("notificationEmails sent without an e-mail: %v", b["notificationEmails"])
	}
	a := b["destinationAddress"].(map[string]any)
	if a["addressLine1"] != "1 Cross St." || a["addressLine2"] != nil || a["addressLine3"] != nil {
		t.Errorf("address = %v", a)
	}
}

func TestSubmitIsIdempotent(t *testing.T) {
	f, c, _ := setup(t)
	stocked(f)
	r := request("ful_again")
	first, err := c.Submit(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Submit(ctx, r)
	if err != nil {
		t.Fatalf("a repeat of the same order: %v", err)
	}
	if first != second {
		t.Errorf("refs %q and %q", first, second)
	}
	// Amazon refused the second create as a duplicate; the client found
	// the order there.
	if n, g := len(f.Requests("createFulfillmentOrder")), len(f.Requests("getFulfillmentOrder")); n != 2 || g != 1 {
		t.Errorf("%d creates and %d reads, want 2 and 1", n, g)
	}
	// One order: its units were taken from stock once.
	levels, err := c.Stock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := available(levels)["MUG-RED"]; got != 8 {
		t.Errorf("MUG-RED available = %d, want 8 (10 less one order of 2)", got)
	}
}

func available(levels []provider.Level) map[string]int64 {
	m := map[string]int64{}
	for _, l := range levels {
		m[l.SKU] = l.Available
	}
	return m
}

func TestSubmitRefused(t *testing.T) {
	f, c, _ := setup(t)
	stocked(f)
	r := request("ful_unknown_sku")
	r.Lines = append(r.Lines, provider.Line{SKU: "NEVER-STOCKED", Quantity: 1})
	_, err := c.Submit(ctx, r)
	rej, ok := provider.IsRejected(err)
	if !ok || !strings.Contains(rej.Reason, "SellerSKU for Item Id: 3 is invalid") || !strings.HasPrefix(rej.Reason, "InvalidInput: ") {
		t.Fatalf("err = %v, want a rejection with Amazon's reason", err)
	}
	if !errs.Is(errs.Invalid, err) {
		t.Errorf("kind = %v", errs.KindOf(err))
	}
	if _, err := c.Status(ctx, "ful_unknown_sku"); !errs.Is(errs.NotExist, err) {
		t.Errorf("a refused order exists: %v", err)
	}

	// Beyond Amazon's documented 250 units: refused without asking.
	big := request("ful_big")
	big.Lines = []provider.Line{{SKU: "MUG-RED", Quantity: 251}}
	if _, err := c.Submit(ctx, big); err == nil {
		t.Fatal("251 units submitted")
	} else if _, ok := provider.IsRejected(err); !ok {
		t.Errorf("251 units: %v, want a rejection", err)
	}
	if n := len(f.Requests("createFulfillmentOrder")); n != 1 {
		t.Errorf("%d creates, want only the first", n)
	}

	// Requests we cannot make at all are Invalid, not the provider's refusal.
	for name, mod := range map[string]func(*provider.Request){
		"no id":         func(r *provider.Request) { r.ID = " " },
		"no lines":      func(r *provider.Request) { r.Lines = nil },
		"zero quantity": func(r *provider.Request) { r.Lines[0].Quantity = 0 },
		"unknown speed": func(r *provider.Request) { r.Speed = "teleport" },
	} {
		r := request("ful_bad")
		mod(&r)
		_, err := c.Submit(ctx, r)
		if _, rejected := provider.IsRejected(err); !errs.Is(errs.Invalid, err) || rejected || len(errs.Fields(err)) == 0 {
			t.Errorf("%s: %v, want invalid fields", name, err)
		}
	}
}

func TestSubmitRejectedByStockIsRejectedStatus(t *testing.T) {
	f, c, _ := setup(t)
	f.SetStock("MUG-RED", 1)
	f.SetStock("SPORK-TI", 5)
	ref, err := c.Submit(ctx, request("ful_short"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != provider.Rejected || !strings.Contains(st.Reason, "validate") {
		t.Errorf("status = %+v, want rejected: Amazon could not validate it", st)
	}
}

func TestSubmitOddIDs(t *testing.T) {
	f, c, _ := setup(t)
	stocked(f)
	id := "order 17 / fulfilment ü+2 — which is longer than forty characters"
	ref, err := c.Submit(ctx, request(id))
	if err != nil {
		t.Fatal(err)
	}
	if ref != amazonmcf.OrderID(id) || len(ref) > 40 || strings.ContainsAny(ref, " /+ü") {
		t.Errorf("ref = %q", ref)
	}
	if got := body(t, f.Requests("createFulfillmentOrder")[0])["sellerFulfillmentOrderId"]; got != ref {
		t.Errorf("sellerFulfillmentOrderId = %v, ref %q", got, ref)
	}
	if st, err := c.Status(ctx, ref); err != nil || st.State != provider.Accepted {
		t.Errorf("status of %q: %+v %v", ref, st, err)
	}
	// The same id again is the same order.
	if again, err := c.Submit(ctx, request(id)); err != nil || again != ref {
		t.Errorf("resubmitted: %q %v", again, err)
	}
}

func TestStatusMapping(t *testing.T) {
	tests := []struct {
		status string
		state  provider.State
		reason string // in Reason
	}{
		{"New", provider.Pending, ""},
		{"Received", provider.Accepted, ""},
		{"Planning", provider.InProgress, ""},
		{"Processing", provider.InProgress, ""},
		{"Complete", provider.Shipped, ""},
		{"CompletePartialled", provider.Shipped, "SPORK-TI: 1 unfulfillable"},
		{"Unfulfillable", provider.Rejected, "MUG-RED: 2 unfulfillable; SPORK-TI: 1 unfulfillable"},
		{"Invalid", provider.Rejected, "could not validate"},
		{"Cancelled", provider.Cancelled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			f, c, _ := setup(t)
			stocked(f)
			ref, err := c.Submit(ctx, request("ful_"+tt.status))
			if err != nil {
				t.Fatal(err)
			}
			if tt.status == "CompletePartialled" {
				if err := f.Ship(ref, "UPS", "1Z999", provider.Line{SKU: "MUG-RED", Quantity: 2}); err != nil {
					t.Fatal(err)
				}
			}
			if err := f.Advance(ref, tt.status); err != nil {
				t.Fatal(err)
			}
			st, err := c.Status(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != tt.state || st.Raw != tt.status {
				t.Errorf("state = %q (raw %q), want %q", st.State, st.Raw, tt.state)
			}
			if tt.reason != "" && !strings.Contains(st.Reason, tt.reason) {
				t.Errorf("reason = %q, want it to say %q", st.Reason, tt.reason)
			}
			if tt.reason == "" && st.Reason != "" {
				t.Errorf("reason = %q", st.Reason)
			}
			if tt.status == "CompletePartialled" {
				// Only the shipped lines.
				if len(st.Shipments) != 1 || !slices.Equal(st.Shipments[0].Lines, []provider.Line{{SKU: "MUG-RED", Quantity: 2}}) {
					t.Errorf("shipments = %+v, want the one parcel of MUG-RED", st.Shipments)
				}
			} else if len(st.Shipments) != 0 {
				t.Errorf("shipments = %+v", st.Shipments)
			}
		})
	}
}

func TestShipmentsWithTracking(t *testing.T) {
	f, c, _ := setup(t)
	stocked(f)
	ref, err := c.Submit(ctx, request("ful_ship"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Ship(ref, "UPS", "1Z50V7420354708051", provider.Line{SKU: "MUG-RED", Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != provider.InProgress || len(st.Shipments) != 1 {
		t.Fatalf("after the first parcel: %+v", st)
	}
	first := st.Shipments[0]
	if first.Carrier != "UPS" || first.TrackingNumber != "1Z50V7420354708051" || first.Service != "Expedited" ||
		first.ShippedAt.IsZero() || first.ID == "" || !slices.Equal(first.Lines, []provider.Line{{SKU: "MUG-RED", Quantity: 1}}) {
		t.Errorf("first parcel = %+v", first)
	}

	if err := f.Ship(ref, "USPS", "9400111899223197428490"); err != nil {
		t.Fatal(err)
	}
	st, err = c.Status(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != provider.Shipped || len(st.Shipments) != 2 {
		t.Fatalf("after the rest: %+v", st)
	}
	if !reflect.DeepEqual(st.Shipments[0], first) {
		t.Errorf("the first parcel changed between polls: %+v, was %+v", st.Shipments[0], first)
	}
	second := st.Shipments[1]
	if second.Carrier != "USPS" || second.TrackingNumber != "9400111899223197428490" || second.ID == first.ID ||
		!slices.Equal(second.Lines, []provider.Line{{SKU: "MUG-RED", Quantity: 1}, {SKU: "SPORK-TI", Quantity: 1}}) {
		t.Errorf("second parcel = %+v", second)
	}
}

func TestCancel(t *testing.T) {
	f, c, _ := setup(t)
	stocked(f)
	ref, err := c.Submit(ctx, request("ful_cancel"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Cancel(ctx, ref); err != nil {
		t.Fatal(err)
	}
	calls := f.Requests("cancelFulfillmentOrder")
	if len(calls) != 1 || calls[0].Method != "PUT" || calls[0].Path != "/fba/outbound/2020-07-01/fulfillmentOrders/ful_cancel/cancel" {
		t.Errorf("cancel calls = %+v", calls)
	}
	if st, err := c.Status(ctx, ref); err != nil || st.State != provider.Cancelled {
		t.Errorf("after cancel: %+v %v", st, err)
	}
	if err := c.Cancel(ctx, ref); err != nil {
		t.Errorf("cancelling again: %v", err)
	}
	levels, err := c.Stock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := available(levels); got["MUG-RED"] != 10 || got["SPORK-TI"] != 5 {
		t.Errorf("stock after cancelling = %v, want it all back", got)
	}

	// Planning still cancels; Processing no longer does.
	for status, cancels := range map[string]bool{"Planning": true, "Processing": false} {
		ref, err := c.Submit(ctx, request("ful_"+status))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Advance(ref, status); err != nil {
			t.Fatal(err)
		}
		err = c.Cancel(ctx, ref)
		if cancels {
			if err != nil {
				t.Errorf("cancel %s: %v", status, err)
			}
			continue
		}
		rej, ok := provider.IsRejected(err)
		if !ok || !strings.Contains(rej.Reason, "Processing") || !errs.Is(errs.Conflict, err) {
			t.Errorf("cancel %s: %v, want a rejection naming the status", status, err)
		}
		if st, _ := c.Status(ctx, ref); st.State != provider.InProgress {
			t.Errorf("a refused cancel changed the order: %+v", st)
		}
	}

	if err := c.Cancel(ctx, "ful_nonesuch"); !errs.Is(errs.NotExist, err) {
		t.Errorf("cancel an unknown order: %v", err)
	}
}

func TestCancelShippedIsRejected(t *testing.T) {
	f, c, _ := setup(t)
	stocked(f)
	ref, err := c.Submit(ctx, request("ful_gone"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Ship(ref, "UPS", "1Z1"); err != nil {
		t.Fatal(err)
	}
	if _, ok := provider.IsRejected(c.Cancel(ctx, ref)); !ok {
		t.Error("cancelling a shipped order was not rejected")
	}
}

func TestStockPages(t *testing.T) {
	f, c, _ := setup(t)
	want := map[string]int64{}
	for i := range 2*mcffake.PageSize + 7 {
		sku := fmt.Sprintf("SKU-%03d", i)
		f.SetStock(sku, int64(i%4))
		want[sku] = int64(i % 4)
	}
	levels, err := c.Stock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := available(levels); len(levels) != len(want) || !reflect.DeepEqual(got, want) {
		t.Errorf("got %d levels, want %d", len(levels), len(want))
	}
	calls := f.Requests("getInventorySummaries")
	if len(calls) != 3 {
		t.Fatalf("%d pages fetched, want 3", len(calls))
	}
	for i, call := range calls {
		q := call.Query
		if q.Get("granularityType") != "Marketplace" || q.Get("granularityId") != mcffake.MarketplaceID ||
			q.Get("marketplaceIds") != mcffake.MarketplaceID || q.Get("details") != "true" {
			t.Errorf("page %d query = %v", i, q)
		}
		if (i == 0) != (q.Get("nextToken") == "") {
			t.Errorf("page %d nextToken = %q", i, q.Get("nextToken"))
		}
	}
}

func TestPreview(t *testing.T) {
	f, c, _ := setup(t)
	stocked(f)
	r := request("")
	r.Lines = []provider.Line{{SKU: "MUG-RED", Quantity: 2}, {SKU: "SPORK-TI", Quantity: 1}}
	p, err := c.Preview(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Fulfillable || len(p.Reasons) != 0 || p.Speed != "Expedited" {
		t.Errorf("preview = %+v", p)
	}
	// The fake's Expedited fee: 5.25 a unit, three units.
	if len(p.Fees) != 1 || p.Fees[0].Name != "FBAPerUnitFulfillmentFee" || p.Fees[0].Amount.Minor != 1575 || p.Fees[0].Amount.Currency != "USD" {
		t.Errorf("fees = %+v", p.Fees)
	}
	if p.Total.Minor != 1575 || p.Total.Currency != "USD" {
		t.Errorf("total = %+v", p.Total)
	}
	if p.EarliestShip.IsZero() || p.LatestShip.Before(p.EarliestShip) || p.EarliestArrival.Before(p.EarliestShip) || p.LatestArrival.Before(p.EarliestArrival) {
		t.Errorf("dates: ship %v–%v arrive %v–%v", p.EarliestShip, p.LatestShip, p.EarliestArrival, p.LatestArrival)
	}
	calls := f.Requests("getFulfillmentPreview")
	if len(calls) != 1 || calls[0].Path != "/fba/outbound/2020-07-01/fulfillmentOrders/preview" {
		t.Fatalf("preview calls = %+v", calls)
	}
	b := body(t, calls[0])
	if !reflect.DeepEqual(b["shippingSpeedCategories"], []any{"Expedited"}) || b["marketplaceId"] != mcffake.MarketplaceID ||
		b["address"].(map[string]any)["postalCode"] != "48817" || len(b["items"].([]any)) != 2 {
		t.Errorf("preview body = %v", b)
	}
	if len(f.Requests("createFulfillmentOrder")) != 0 {
		t.Error("a preview created an order")
	}

	// No stock of a SKU: not fulfillable, and it says why.
	f.SetStock("SPORK-TI", 0)
	r.Lines = append(r.Lines, provider.Line{SKU: "NEVER-STOCKED", Quantity: 1})
	p, err = c.Preview(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if p.Fulfillable || len(p.Fees) != 0 || p.Total != (money.Amount{}) || !p.EarliestShip.IsZero() {
		t.Errorf("unfulfillable preview = %+v", p)
	}
	if !slices.Contains(p.Reasons, "SPORK-TI: InventoryUnavailable") || !slices.Contains(p.Reasons, "NEVER-STOCKED: InvalidSKU") {
		t.Errorf("reasons = %v", p.Reasons)
	}
	if len(p.Unfulfillable) != 2 || p.Unfulfillable[0].SKU != "SPORK-TI" || p.Unfulfillable[0].Quantity != 1 {
		t.Errorf("unfulfillable = %+v", p.Unfulfillable)
	}

	// An address Amazon cannot take is its refusal.
	r.ShipTo.PostalCode = ""
	if _, err := c.Preview(ctx, r); err == nil {
		t.Error("preview without a postal code")
	} else if _, ok := provider.IsRejected(err); !ok {
		t.Errorf("preview without a postal code: %v, want a rejection", err)
	}
}

func TestThrottledBacksOff(t *testing.T) {
	f, c, slept := setup(t)
	stocked(f)
	f.Throttle(2)
	if _, err := c.Submit(ctx, request("ful_slow")); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Requests("createFulfillmentOrder")); n != 3 {
		t.Errorf("%d creates, want 3 (two 429s, then the order)", n)
	}
	// Unpaced here, so one second doubled.
	if got := slept(); !slices.Equal(got, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("backoff = %v", got)
	}
	if len(f.Requests("getFulfillmentOrder")) != 0 {
		t.Error("a throttled create was taken for a refusal")
	}

	// At the documented rate, the wait is one request's worth: 2/s is half
	// a second, raised to the one-second floor, then doubled.
	f2, c2, slept2 := setup(t)
	c2.GetLimiter = rate.NewLimiter(2, 30)
	f2.Throttle(100)
	_, err := c2.Status(ctx, "ful_x")
	var te *spapi.ThrottledError
	if !errors.As(err, &te) || te.After <= 0 || !errs.Is(errs.Transient, err) || !strings.Contains(err.Error(), "QuotaExceeded") {
		t.Fatalf("err = %v, want a transient ThrottledError", err)
	}
	if got := slept2(); !slices.Equal(got, []time.Duration{time.Second, time.Second, 2 * time.Second}) {
		t.Errorf("backoff = %v", got)
	}
	if n := len(f2.Requests("getFulfillmentOrder")); n != c2.MaxRetries+1 {
		t.Errorf("%d calls, want %d", n, c2.MaxRetries+1)
	}
}

func TestForbidden(t *testing.T) {
	f, c, _ := setup(t)
	stocked(f)
	f.DenyAccess(true)
	_, err := c.Stock(ctx)
	var ae *spapi.APIError
	if !errors.As(err, &ae) || ae.Status != 403 || ae.Code != "Unauthorized" || ae.RequestID == "" || !errs.Is(errs.Unauthenticated, err) {
		t.Fatalf("err = %v, want an unauthenticated 403", err)
	}
	// A 403 gets one fresh token before it counts.
	if n := f.TokensIssued(); n != 2 {
		t.Errorf("tokens issued = %d, want 2", n)
	}
	if _, rejected := provider.IsRejected(err); rejected {
		t.Error("bad credentials read as the provider refusing the order")
	}

	// Tokens Amazon dropped early are renewed without a fuss.
	f.DenyAccess(false)
	f.ExpireTokens()
	if _, err := c.Stock(ctx); err != nil {
		t.Fatalf("after the tokens expired: %v", err)
	}
	if n := f.TokensIssued(); n != 3 {
		t.Errorf("tokens issued = %d, want 3", n)
	}
}

func TestBadRefreshToken(t *testing.T) {
	f := mcffake.New()
	defer f.Close()
	cfg := f.Config()
	cfg.RefreshToken = "Atzr|revoked"
	c := amazonmcf.New(cfg, f.HTTPClient())
	_, err := c.Status(ctx, "ful_1")
	var te *spapi.TokenError
	if !errors.As(err, &te) || te.Code != "invalid_grant" || !errs.Is(errs.Unauthenticated, err) {
		t.Fatalf("err = %v, want an unauthenticated invalid_grant", err)
	}
	if len(f.Requests("")) != 0 {
		t.Error("SP-API was called without a token")
	}
}

func TestDefaultPacingIsTheDocumentedUsagePlan(t *testing.T) {
	c := amazonmcf.New(amazonmcf.Config{Region: "eu", MarketplaceID: "A1PA6795UKMFR9"}, nil)
	for name, l := range map[string]*rate.Limiter{"preview": c.PreviewLimiter, "create": c.CreateLimiter, "get": c.GetLimiter, "cancel": c.CancelLimiter} {
		if l.Limit() != 2 || l.Burst() != 30 {
			t.Errorf("%s limiter %v/%d, want 2/30", name, l.Limit(), l.Burst())
		}
	}
	if l := c.InventoryLimiter; l.Limit() != 2 || l.Burst() != 2 {
		t.Errorf("getInventorySummaries limiter %v/%d, want 2/2", l.Limit(), l.Burst())
	}
	if c.Endpoint() != "https://sellingpartnerapi-eu.amazon.com" || c.TokenURL() != spapi.DefaultTokenURL {
		t.Errorf("endpoint %q token URL %q", c.Endpoint(), c.TokenURL())
	}
}

func TestConfigValidate(t *testing.T) {
	good := amazonmcf.Config{Region: "na", MarketplaceID: "ATVPDKIKX0DER", ClientID: "id", ClientSecret: "s", RefreshToken: "r"}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	f := mcffake.New()
	defer f.Close()
	if err := f.Config().Validate(); err != nil {
		t.Errorf("the fake's config: %v", err)
	}
	fields := func(err error) []string {
		var out []string
		for _, f := range errs.Fields(err) {
			out = append(out, f.Field)
		}
		return out
	}
	bad := amazonmcf.Config{Region: "asia", Endpoint: "ftp://x", TokenURL: "/relative"}
	err := bad.Validate()
	if !errs.Is(errs.Invalid, err) {
		t.Fatalf("err = %v, want invalid", err)
	}
	want := []string{"region", "marketplace_id", "client_id", "client_secret", "refresh_token", "endpoint", "token_url"}
	if got := fields(err); !slices.Equal(got, want) {
		t.Errorf("fields = %v, want %v", got, want)
	}
	wrong := good
	wrong.MarketplaceID = "A1PA6795UKMFR9" // Germany, in eu
	if got := fields(wrong.Validate()); !slices.Equal(got, []string{"marketplace_id"}) {
		t.Errorf("a German marketplace in region na: %v", got)
	}
	wrong.MarketplaceID = "not an id"
	if got := fields(wrong.Validate()); !slices.Equal(got, []string{"marketplace_id"}) {
		t.Errorf("a malformed marketplace id: %v", got)
	}
}

func TestSpeeds(t *testing.T) {
	f, c, _ := setup(t)
	stocked(f)
	for speed, want := range map[provider.Speed]string{provider.Standard: "Standard", provider.Expedited: "Expedited", provider.Priority: "Priority"} {
		r := request("ful_" + string(speed))
		r.Speed = speed
		if _, err := c.Submit(ctx, r); err != nil {
			t.Fatal(err)
		}
		calls := f.Requests("createFulfillmentOrder")
		if got := body(t, calls[len(calls)-1])["shippingSpeedCategory"]; got != want {
			t.Errorf("%s: shippingSpeedCategory %v, want %s", speed, got, want)
		}
	}
}
