package amazonmcf

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/provider"
)

func read(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func status(t *testing.T, name string) provider.Status {
	o, err := parseOrder(read(t, name))
	if err != nil {
		t.Fatal(err)
	}
	st, err := toStatus(o)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// The model's own getFulfillmentOrder example: PROCESSING in capitals, one
// PENDING shipment (picking has begun; nothing left yet).
func TestModelExampleOrder(t *testing.T) {
	st := status(t, "order_processing.json")
	if st.State != provider.InProgress || st.Raw != "PROCESSING" || len(st.Shipments) != 0 {
		t.Errorf("status = %+v, want in progress without parcels", st)
	}
}

func TestPartialShipment(t *testing.T) {
	st := status(t, "order_partial.json")
	want := provider.Status{
		State:  provider.Shipped,
		Raw:    "CompletePartialled",
		Reason: "Amazon shipped part of the order; not shipped: MUG-RED: 1 unfulfillable; SPORK-TI: 2 cancelled",
		Shipments: []provider.Shipment{
			{ID: "D4yZjWZVN-7", Carrier: "UPS", Service: "Expedited", TrackingNumber: "1Z50V7420354708051",
				ShippedAt: time.Date(2024, 5, 2, 16, 20, 0, 0, time.UTC), Lines: []provider.Line{{SKU: "MUG-RED", Quantity: 1}}},
			{ID: "D4yZjWZVN-8", Carrier: "UPS", Service: "Expedited", TrackingNumber: "1Z50V7420354708062",
				ShippedAt: time.Date(2024, 5, 2, 16, 20, 0, 0, time.UTC), Lines: []provider.Line{{SKU: "MUG-RED", Quantity: 1}}},
		},
	}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("status =\n%+v\nwant\n%+v", st, want)
	}
}

func TestStatusNames(t *testing.T) {
	for raw, want := range map[string]provider.State{
		"New": provider.Pending, "RECEIVED": provider.Accepted, "planning": provider.InProgress, "PROCESSING": provider.InProgress,
		"COMPLETE": provider.Shipped, "COMPLETE_PARTIALLED": "", "CompletePartialled": provider.Shipped, "UNFULFILLABLE": provider.Rejected,
		"INVALID": provider.Rejected, "CANCELLED": provider.Cancelled, " Cancelled ": provider.Cancelled, "Shipped": "", "": "",
	} {
		st, err := toStatus(apiOrderResult{FulfillmentOrder: apiOrder{FulfillmentOrderStatus: raw}})
		switch {
		case want == "" && err == nil:
			t.Errorf("%q: %+v, want an error", raw, st)
		case want != "" && (err != nil || st.State != want):
			t.Errorf("%q: %+v %v, want %s", raw, st, err, want)
		case want == provider.Rejected && st.Reason == "":
			t.Errorf("%q: rejected without a reason", raw)
		}
	}
}

func TestLooseItemsStillReported(t *testing.T) {
	o := apiOrderResult{
		FulfillmentOrder: apiOrder{FulfillmentOrderStatus: "Complete"},
		FulfillmentShipments: []apiShipment{{
			AmazonShipmentID: "S1", FulfillmentShipmentStatus: "SHIPPED",
			Items: []apiShipmentItem{
				{SellerSKU: "A", Quantity: 1, PackageNumber: 1},
				{SellerSKU: "B", Quantity: 2, PackageNumber: 99}, // no such package
				{SellerSKU: "A", Quantity: 2, PackageNumber: 1},
				{SellerSKU: "", Quantity: 5, PackageNumber: 1},
				{SellerSKU: "C", Quantity: -1, PackageNumber: 1},
			},
			Packages: []apiShipmentPackage{{PackageNumber: 1, CarrierCode: "AMZN_US", AmazonFulfillmentTrackingNumber: "TBA123"}, {PackageNumber: 1}},
		}},
	}
	st, err := toStatus(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Shipments) != 2 {
		t.Fatalf("shipments = %+v", st.Shipments)
	}
	if s := st.Shipments[0]; s.ID != "S1-1" || s.TrackingNumber != "TBA123" || !slices.Equal(s.Lines, []provider.Line{{SKU: "A", Quantity: 3}}) {
		t.Errorf("package = %+v", s)
	}
	if s := st.Shipments[1]; s.ID != "S1" || s.TrackingNumber != "" || !slices.Equal(s.Lines, []provider.Line{{SKU: "B", Quantity: 2}}) {
		t.Errorf("loose units = %+v", s)
	}
}

func TestParsePreview(t *testing.T) {
	p, err := parsePreview(read(t, "preview.json"), "Standard")
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2020, 2, d, 18, 16, 16, 0, time.UTC) }
	want := Preview{
		Speed: "Standard", Fulfillable: true,
		Fees:         []Fee{{Name: "FBAPerUnitFulfillmentFee", Amount: money.Amount{Minor: 1971, Currency: "USD"}}},
		Total:        money.Amount{Minor: 1971, Currency: "USD"},
		EarliestShip: day(11), LatestShip: day(11), EarliestArrival: day(17), LatestArrival: day(17),
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("preview =\n%+v\nwant\n%+v", p, want)
	}
	p, err = parsePreview(read(t, "preview.json"), "Priority")
	if err != nil {
		t.Fatal(err)
	}
	if p.Fulfillable || !slices.Equal(p.Reasons, []string{"DeliverySLAUnavailable", "PSMM-TEST-SKU-Jan-21_19_39_23-0788: InventoryUnavailable"}) || len(p.Unfulfillable) != 1 {
		t.Errorf("priority preview = %+v", p)
	}
	if _, err := parsePreview(read(t, "preview.json"), "Expedited"); err == nil {
		t.Error("a preview for a speed Amazon did not answer")
	}
}

func TestFeesInSeveralCurrencies(t *testing.T) {
	body := []byte(`{"payload":{"fulfillmentPreviews":[{"shippingSpeedCategory":"Standard","isFulfillable":true,"estimatedFees":[
		{"name":"FBAPerUnitFulfillmentFee","amount":{"currencyCode":"JPY","value":"1500.00"}},
		{"name":"FBATransportationFee","amount":{"currencyCode":"USD","value":2.5}}]}]}}`)
	p, err := parsePreview(body, "Standard")
	if err != nil {
		t.Fatal(err)
	}
	if p.Fees[0].Amount != (money.Amount{Minor: 1500, Currency: "JPY"}) || p.Fees[1].Amount != (money.Amount{Minor: 250, Currency: "USD"}) {
		t.Errorf("fees = %+v", p.Fees)
	}
	if p.Total != (money.Amount{}) {
		t.Errorf("total of mixed currencies = %+v, want none", p.Total)
	}
}

func TestMoney(t *testing.T) {
	for _, tt := range []struct {
		cur, value string
		minor      int64
		ok         bool
	}{
		{"USD", "19.71", 1971, true},
		{"USD", "19.710", 1971, true},
		{"usd", "3", 300, true},
		{"JPY", "1500.00", 1500, true},
		{"USD", "1.999", 0, false},
		{"JPY", "1500.5", 0, false},
		{"XXQ", "1", 0, false},
		{"USD", "", 0, false},
		{"USD", "1e3", 0, false},
	} {
		a, err := apiMoney{CurrencyCode: tt.cur, Value: decimal(tt.value)}.amount()
		if (err == nil) != tt.ok || (tt.ok && a.Minor != tt.minor) {
			t.Errorf("%s %q = %+v, %v", tt.cur, tt.value, a, err)
		}
	}
}

func TestParseSummaries(t *testing.T) {
	levels, next, err := parseSummaries(read(t, "summaries.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []provider.Level{{SKU: "EMTEC 1 GB", Available: 0}, {SKU: "Silicon Power 32GB", Available: 66}}
	if !slices.Equal(levels, want) || next != "seed" {
		t.Errorf("levels %+v next %q", levels, next)
	}
	levels, next, err = parseSummaries([]byte(`{"payload":{"inventorySummaries":[{"sellerSku":"A","totalQuantity":4},{"sellerSku":"B","inventoryDetails":{"fulfillableQuantity":-2}},{"sellerSku":""}]}}`))
	if err != nil || next != "" || !slices.Equal(levels, []provider.Level{{SKU: "A"}, {SKU: "B"}}) {
		t.Errorf("without details: %+v %q %v", levels, next, err)
	}
	for _, bad := range []string{``, `{}`, `{"errors":[{"code":"InternalFailure"}]}`, `[`} {
		if _, _, err := parseSummaries([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestOrderID(t *testing.T) {
	for _, id := range []string{"ful_01jd5x7q4m2k8v9w0x1y2z3a4b", "A-1", strings.Repeat("x", 40)} {
		if got := OrderID(id); got != id {
			t.Errorf("OrderID(%q) = %q, want it unchanged", id, got)
		}
	}
	long := strings.Repeat("y", 41)
	for _, id := range []string{long, "order 17", "a+b", "ü", "", "order/17", "x\x00"} {
		got := OrderID(id)
		if len(got) > 40 || !plainID(got) || got == id || got != OrderID(id) || OrderID(got) != got {
			t.Errorf("OrderID(%q) = %q", id, got)
		}
	}
	if OrderID("order 17") == OrderID("order+17") || OrderID(long) == OrderID(long+"y") {
		t.Error("different ids made the same sellerFulfillmentOrderId")
	}
	if got := OrderID("order 17"); !strings.HasPrefix(got, "order-17-") || len(got) != len("order-17-")+8 {
		t.Errorf("OrderID(order 17) = %q", got)
	}
}

func TestDisplayable(t *testing.T) {
	for in, want := range map[string]string{
		"#1042":                           "#1042",
		"  Bestellung   Nr.\t5 ":          "Bestellung Nr. 5",
		"Café №7":                         "Café -7",
		"a\x00b":                          "ab",
		strings.Repeat("z", 45):           strings.Repeat("z", 40),
		strings.Repeat("é", 45):           strings.Repeat("é", 40),
		"two  spaces":                     "two spaces",
		strings.Repeat("z", 39) + " tail": strings.Repeat("z", 39),
	} {
		if got := displayable(in, 40); got != want {
			t.Errorf("displayable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCreateRequestCuts(t *testing.T) {
	r := provider.Request{
		ID: "ful_1", OrderNumber: "   ", Note: strings.Repeat("n", 800), Email: strings.Repeat("e", 60) + "@example.com",
		Lines: []provider.Line{{SKU: " A ", Quantity: 1}},
	}
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	req, err := createRequest(r, "ATVPDKIKX0DER", now)
	if err != nil {
		t.Fatal(err)
	}
	if req.DisplayableOrderID != "ful_1" || len(req.DisplayableOrderComment) != 750 || req.NotificationEmails != nil ||
		req.DisplayableOrderDate != "2024-06-01T12:00:00Z" || req.Items[0].SellerSKU != "A" {
		t.Errorf("request = %+v", req)
	}
}
