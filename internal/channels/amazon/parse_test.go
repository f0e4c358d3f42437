package amazon

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/order"
)

// sample reads an order of a testdata page with all its item pages.
func sample(t *testing.T, page string, idx int) (apiOrder, []apiOrderItem) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", page))
	if err != nil {
		t.Fatal(err)
	}
	orders, _, err := parseOrders(b)
	if err != nil {
		t.Fatal(err)
	}
	o := orders[idx]
	var items []apiOrderItem
	for _, name := range []string{"items_" + o.AmazonOrderID + ".json", "items_" + o.AmazonOrderID + "_2.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		its, _, err := parseOrderItems(b)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, its...)
	}
	return o, items
}

func tp(s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestToInput(t *testing.T) {
	tests := []struct {
		name      string
		page      string
		idx       int
		want      order.Input
		wantTotal string // what the order service will compute; Amazon's OrderTotal where it sends one
	}{
		{
			name: "seller-fulfilled US order with a promotion, a line that does not divide evenly, shipping and a cancel request",
			page: "orders_page1.json", idx: 0,
			want: order.Input{
				Channel: "amazon", ExternalID: "902-1845936-5435065", Number: "902-1845936-5435065",
				PlacedAt: tp("2024-05-01T09:58:30Z"), UpdatedAt: tp("2024-05-01T10:03:32Z"),
				Currency: "USD",
				Customer: order.Customer{Name: "Jane Buyer", Email: "k7x2b3qv9w@marketplace.amazon.com"},
				ShippingAddress: &order.Address{Name: "Jane Buyer", Line1: "1 Cross St.", Line2: "Apt 4", City: "Canton",
					Region: "MI", PostalCode: "48817", Country: "US", Phone: "+1 555-010-0199"},
				Lines: []order.LineInput{
					// 25.00 for 3 is 8.333…: 3 × 8.34 − (5.00 promotion + 0.02 rounding) = 20.00
					{SKU: "MUG-BLUE", Name: "Enamel camping mug, blue, 350 ml", ExternalID: "05015851154158", Quantity: 3,
						UnitPrice: "8.34", Discount: "5.02", TaxLines: []order.TaxInput{{Title: "Tax", Amount: "1.20"}}},
					{SKU: "SPORK-TI", Name: "Titanium spork", ExternalID: "05015851154159", Quantity: 1,
						UnitPrice: "8.50", TaxLines: []order.TaxInput{{Title: "Tax", Amount: "0.68"}}},
				},
				ShippingLines: []order.ShippingInput{{Title: "Std US D2D Dom", Code: "Standard", Price: "4.99",
					TaxLines: []order.TaxInput{{Title: "Shipping tax", Amount: "0.30"}}}},
				PaymentStatus:    "paid",
				Tags:             []string{"prime", "cancel-requested"},
				Note:             "The buyer asked to cancel SPORK-TI: Found cheaper somewhere else.",
				AllowUnknownSKUs: true,
			},
			wantTotal: "35.67",
		},
		{
			name: "Amazon-fulfilled German order: FBA tag, VAT included, no address without the PII role",
			page: "orders_page1.json", idx: 1,
			want: order.Input{
				Channel: "amazon", ExternalID: "028-1234567-7654321", Number: "028-1234567-7654321",
				PlacedAt: tp("2024-05-01T08:42:57.058Z"), UpdatedAt: tp("2024-05-01T21:59:59Z"),
				Currency: "EUR", TaxesIncluded: true,
				Customer: order.Customer{Email: "q9v8c7x6z5@marketplace.amazon.de"},
				Lines: []order.LineInput{{SKU: "TENT-2P", Name: "Ultralight 2-person tent", ExternalID: "68828574383266", Quantity: 3,
					UnitPrice: "33.34", Discount: "0.02", TaxLines: []order.TaxInput{{Title: "Tax", Amount: "15.97"}}}},
				ShippingLines:    []order.ShippingInput{{Title: "Standard", Code: "Standard", Price: "0.00"}},
				PaymentStatus:    "paid",
				Tags:             []string{"FBA"},
				AllowUnknownSKUs: true,
			},
			wantTotal: "100.00",
		},
		{
			name: "pending order: no prices yet, currency from the marketplace",
			page: "orders_page1.json", idx: 2,
			want: order.Input{
				Channel: "amazon", ExternalID: "114-3941689-8772232", Number: "114-3941689-8772232",
				PlacedAt: tp("2024-05-01T11:49:35Z"), UpdatedAt: tp("2024-05-01T11:49:35Z"),
				Currency:         "USD",
				Lines:            []order.LineInput{{SKU: "MUG-BLUE", Name: "Enamel camping mug, blue, 350 ml", ExternalID: "31415926535897", Quantity: 2, UnitPrice: "0.00"}},
				PaymentStatus:    "pending",
				AllowUnknownSKUs: true,
			},
			wantTotal: "0.00",
		},
		{
			name: "cancelled order whose items Amazon reports with quantity 0",
			page: "orders_page2.json", idx: 0,
			want: order.Input{
				Channel: "amazon", ExternalID: "113-0000001-0000001", Number: "113-0000001-0000001",
				PlacedAt: tp("2024-04-30T17:12:03Z"), UpdatedAt: tp("2024-05-01T12:30:00Z"),
				Currency:  "USD",
				Customer:  order.Customer{Email: "z1y2x3w4v5@marketplace.amazon.com"},
				Lines:     []order.LineInput{{SKU: "SPORK-TI", Name: "Titanium spork", ExternalID: "27182818284590", Quantity: 1, UnitPrice: "0.00"}},
				Cancelled: true, CancelReason: "customer",
				Note:             "The buyer asked to cancel SPORK-TI: Ordered by mistake.",
				AllowUnknownSKUs: true,
			},
			wantTotal: "0.00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, items := sample(t, tt.page, tt.idx)
			got, err := toInput(o, items)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("toInput (-want +got):\n%s", d)
			}
			if err := order.Check(got); err != nil {
				t.Errorf("order.Check: %v", err)
			}
			if total := total(t, got); total != tt.wantTotal {
				t.Errorf("total = %s, want %s", total, tt.wantTotal)
			}
		})
	}
}

// total adds an input up the way the order service does: lines less
// discounts, plus shipping, plus tax unless prices include it.
func total(t *testing.T, in order.Input) string {
	t.Helper()
	p := func(s string) int64 {
		if s == "" {
			return 0
		}
		a, err := money.Parse(s, in.Currency)
		if err != nil {
			t.Fatalf("amount %q: %v", s, err)
		}
		return a.Minor
	}
	var sum, tax int64
	for _, l := range in.Lines {
		sum += l.Quantity*p(l.UnitPrice) - p(l.Discount)
		for _, x := range l.TaxLines {
			tax += p(x.Amount)
		}
	}
	for _, s := range in.ShippingLines {
		sum += p(s.Price)
		for _, x := range s.TaxLines {
			tax += p(x.Amount)
		}
	}
	if !in.TaxesIncluded {
		sum += tax
	}
	return money.Amount{Minor: sum, Currency: in.Currency}.String()
}

func TestSplitLineNeverLosesACent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		total := rapid.Int64Range(0, maxMinor).Draw(t, "total")
		qty := rapid.Int64Range(1, order.MaxQuantity).Draw(t, "qty")
		promo := rapid.Int64Range(0, total).Draw(t, "promo")
		unit, disc := channels.SplitLine(total, qty, promo)
		if qty*unit-disc != total-promo {
			t.Fatalf("%d × %d − %d ≠ %d − %d", qty, unit, disc, total, promo)
		}
		if extra := disc - promo; extra < 0 || extra >= qty {
			t.Fatalf("rounding %d outside [0, %d)", extra, qty)
		}
		if disc > qty*unit {
			t.Fatalf("discount %d exceeds the line's %d", disc, qty*unit)
		}
	})
}

func TestParseMoney(t *testing.T) {
	tests := []struct {
		m       *apiMoney
		cur     string
		want    int64
		wantErr bool
	}{
		{nil, "USD", 0, false},
		{&apiMoney{"USD", ""}, "USD", 0, false},
		{&apiMoney{"USD", "11.01"}, "USD", 1101, false},
		{&apiMoney{"", "4.5"}, "USD", 450, false},
		{&apiMoney{"JPY", "1500.00"}, "JPY", 1500, false}, // zero decimals on a zero-decimal currency
		{&apiMoney{"JPY", "25.99"}, "JPY", 0, true},       // a fraction of a yen is an error, never rounded
		{&apiMoney{"KWD", "1.250"}, "KWD", 1250, false},
		{&apiMoney{"USD", "1.005"}, "USD", 0, true},
		{&apiMoney{"EUR", "1.00"}, "USD", 0, true},
		{&apiMoney{"USD", "1e3"}, "USD", 0, true},
		{&apiMoney{"USD", "99999999999999999"}, "USD", 0, true},
	}
	for _, tt := range tests {
		got, err := parseMoney(tt.m, tt.cur)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseMoney(%+v, %s) = %d, %v; want %d, error %v", tt.m, tt.cur, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseRejectsBrokenResponses(t *testing.T) {
	for _, body := range []string{
		``, `[]`, `{"errors":[{"code":"InvalidInput","message":"x"}]}`, `{"payload":{"Orders":[{"PurchaseDate":"2024-05-01T00:00:00Z"}]}}`,
	} {
		if _, _, err := parseOrders([]byte(body)); err == nil {
			t.Errorf("parseOrders(%q) succeeded", body)
		}
	}
	o := apiOrder{AmazonOrderID: "1", PurchaseDate: "yesterday", LastUpdateDate: "2024-05-01T00:00:00Z", MarketplaceID: "ATVPDKIKX0DER"}
	if _, err := toInput(o, nil); err == nil {
		t.Error("toInput accepted an unreadable PurchaseDate")
	}
	o.PurchaseDate, o.MarketplaceID = o.LastUpdateDate, "UNKNOWN"
	if _, err := toInput(o, nil); err == nil {
		t.Error("toInput accepted an order without any currency")
	}
}

func TestLongTitlesAndOddEmailsDoNotSinkAnOrder(t *testing.T) {
	o, items := sample(t, "orders_page1.json", 0)
	long := ""
	for range 300 {
		long += "é"
	}
	items[0].Title = long
	o.BuyerInfo.BuyerEmail = "Invalid Request"
	in, err := toInput(o, items)
	if err != nil {
		t.Fatal(err)
	}
	if err := order.Check(in); err != nil {
		t.Fatalf("order.Check: %v", err)
	}
	if in.Customer.Email != "" {
		t.Errorf("email = %q", in.Customer.Email)
	}
}

func TestLenientDecoding(t *testing.T) {
	body := `{"payload":{"OrderItems":[{"ASIN":"B0","OrderItemId":"1","SellerSKU":"X","QuantityOrdered":2,
		"ItemPrice":{"CurrencyCode":"USD","Amount":19.90},"ItemTax":{"CurrencyCode":"USD","Amount":null},
		"BuyerRequestedCancel":{"IsBuyerRequestedCancel":1}}]}}`
	items, _, err := parseOrderItems([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	// A bare number is read as its text, never through a float.
	if got := items[0].ItemPrice.Amount; got != "19.90" {
		t.Errorf("Amount = %q", got)
	}
	if items[0].BuyerRequestedCancel.IsBuyerRequestedCancel {
		t.Error("an odd boolean read as true")
	}
	if _, _, err := parseOrderItems([]byte(`{"payload":{"OrderItems":[{"ItemPrice":{"Amount":true}}]}}`)); err == nil {
		t.Error("a boolean amount was accepted")
	}
}
