package ebay

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/order"
)

func sample(t *testing.T, page string, idx int) apiOrder {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", page))
	if err != nil {
		t.Fatal(err)
	}
	p, err := parseOrders(b)
	if err != nil {
		t.Fatal(err)
	}
	return p.Orders[idx]
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
		wantTotal string // eBay's pricingSummary.total
	}{
		{
			name: "US order: promotion, collect-and-remit tax listed twice, SKU-less variation, discounted shipping",
			page: "orders_page1.json", idx: 0,
			want: order.Input{
				Channel: "ebay", ExternalID: "12-11223-33445", Number: "12-11223-33445",
				PlacedAt: tp("2024-05-01T09:12:45Z"), UpdatedAt: tp("2024-05-01T09:15:02.768Z"),
				Currency: "USD",
				Customer: order.Customer{Name: "Jane Buyer", Email: "jbuyer@example.com", Phone: "5550100199"},
				ShippingAddress: &order.Address{Name: "Jane Buyer", Line1: "2 Main St", Line2: "Unit 5", City: "San Jose",
					Region: "CA", PostalCode: "95125", Country: "US", Phone: "5550100199"},
				Lines: []order.LineInput{
					{SKU: "MUG-BLUE", Name: "Enamel camping mug, blue, 350 ml", ExternalID: "10047651402301", Quantity: 3,
						UnitPrice: "19.99", Discount: "5.00", TaxLines: []order.TaxInput{{Title: "STATE_SALES_TAX", Amount: "4.12"}}},
					{SKU: "ebay-item-110554330093-410553210986", Name: "Paracord, 30 m, olive", ExternalID: "10047651402302", Quantity: 1,
						UnitPrice: "12.50", TaxLines: []order.TaxInput{{Title: "STATE_SALES_TAX", Amount: "0.94"}}},
				},
				ShippingLines:    []order.ShippingInput{{Title: "USPSPriority", Code: "USPSPriority", Price: "5.95"}},
				PaymentStatus:    "paid",
				Note:             "Please leave at the back door.",
				AllowUnknownSKUs: true,
			},
			wantTotal: "78.48",
		},
		{
			name: "Global Shipping Program order awaiting payment with a cancellation requested",
			page: "orders_page1.json", idx: 1,
			want: order.Input{
				Channel: "ebay", ExternalID: "05-10293-84756", Number: "05-10293-84756",
				PlacedAt: tp("2024-05-01T13:40:00Z"), UpdatedAt: tp("2024-05-01T14:02:11.431Z"),
				Currency: "USD",
				Customer: order.Customer{Name: "uk_hiker"},
				ShippingAddress: &order.Address{Name: "Global Shipping Center", Company: "Pitney Bowes", Line1: "1850 Airport Exchange Blvd",
					Line2: "#200", City: "Erlanger", Region: "KY", PostalCode: "41025-2501", Country: "US", Phone: "8005551234"},
				Lines: []order.LineInput{{SKU: "STOVE-1", Name: "Folding wood stove", ExternalID: "10047651402401", Quantity: 1,
					UnitPrice: "30.00"}},
				ShippingLines:    []order.ShippingInput{{Title: "USPSPriority", Code: "USPSPriority", Price: "11.00"}},
				PaymentStatus:    "pending",
				Tags:             []string{"cancel-requested", "GSP"},
				Note:             "Global Shipping Program reference #5000012345678: print it on the label above the address.",
				AllowUnknownSKUs: true,
			},
			wantTotal: "41.00",
		},
		{
			name: "cancelled and refunded German order with a masked e-mail and shipping only on the line",
			page: "orders_page2.json", idx: 0,
			want: order.Input{
				Channel: "ebay", ExternalID: "09-98765-43210", Number: "09-98765-43210",
				PlacedAt: tp("2024-04-12T08:00:00Z"), UpdatedAt: tp("2024-05-01T16:45:30Z"),
				Currency: "EUR",
				Customer: order.Customer{Name: "Max Mustermann"},
				ShippingAddress: &order.Address{Name: "Max Mustermann", Line1: "Hauptstraße 5", City: "München",
					PostalCode: "80331", Country: "DE"},
				Lines: []order.LineInput{{SKU: "TENT-2P", Name: "Ultraleichtes Zelt für 2 Personen", ExternalID: "10047651402501", Quantity: 1,
					UnitPrice: "25.00"}},
				ShippingLines:    []order.ShippingInput{{Title: "DE_DHLPaket", Code: "DE_DHLPaket", Price: "4.90"}},
				PaymentStatus:    "refunded",
				Cancelled:        true,
				CancelReason:     "customer",
				AllowUnknownSKUs: true,
			},
			wantTotal: "29.90",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := toInput(sample(t, tt.page, tt.idx))
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
				t.Errorf("total = %s, want eBay's %s", total, tt.wantTotal)
			}
		})
	}
}

// total adds an input up the way the order service does.
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

func TestUnevenLineCostKeepsEveryCent(t *testing.T) {
	o := sample(t, "orders_page1.json", 0)
	o.LineItems[0].LineItemCost.Value = "10.00"
	o.LineItems[0].DiscountedLineItemCost = nil
	o.LineItems[0].AppliedPromotions = nil
	in, err := toInput(o)
	if err != nil {
		t.Fatal(err)
	}
	// 10.00 for 3: 3 × 3.34 − 0.02 = 10.00
	if l := in.Lines[0]; l.UnitPrice != "3.34" || l.Discount != "0.02" {
		t.Errorf("line = %+v", l)
	}
}

func TestDiscountsWrittenNegative(t *testing.T) {
	o := sample(t, "orders_page1.json", 0)
	o.LineItems[0].DiscountedLineItemCost = nil
	o.LineItems[0].AppliedPromotions[0].DiscountAmount.Value = "-5.00"
	in, err := toInput(o)
	if err != nil {
		t.Fatal(err)
	}
	if in.Lines[0].Discount != "5.00" {
		t.Errorf("discount = %q", in.Lines[0].Discount)
	}
}

func TestParseRejectsBrokenResponses(t *testing.T) {
	for _, body := range []string{``, `[]`, `{"orders":[{"creationDate":"2024-05-01T00:00:00.000Z"}]}`, `{"orders":{}}`} {
		if _, err := parseOrders([]byte(body)); err == nil {
			t.Errorf("parseOrders(%q) succeeded", body)
		}
	}
	o := sample(t, "orders_page1.json", 0)
	o.LineItems[1].LineItemCost.Currency = "EUR"
	if _, err := toInput(o); err == nil {
		t.Error("toInput accepted a line in another currency")
	}
	o = sample(t, "orders_page1.json", 0)
	o.LastModifiedDate = "05/01/2024"
	if _, err := toInput(o); err == nil {
		t.Error("toInput accepted an unreadable lastModifiedDate")
	}
}
