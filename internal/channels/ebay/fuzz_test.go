package ebay

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/order"
)

// FuzzParseOrders feeds getOrders answers to the parser. Whatever eBay
// sends, an order that converts has only valid non-negative amounts in its
// currency, quantities the order service accepts, and lines that add up to
// exactly what eBay charged: Σ quantity × unit price − discount =
// Σ lineItemCost − discount.
func FuzzParseOrders(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "orders_*.json"))
	if err != nil || len(files) == 0 {
		f.Fatal("no seeds")
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseOrders(data)
		if err != nil {
			return
		}
		for _, o := range p.Orders {
			in, err := toInput(o)
			if err != nil {
				continue
			}
			if in.ExternalID == "" || in.Channel != "ebay" || !money.ValidCurrency(in.Currency) {
				t.Fatalf("bad input %+v", in)
			}
			amt := func(what, s string) int64 {
				if s == "" {
					return 0
				}
				a, err := money.Parse(s, in.Currency)
				if err != nil || a.Minor < 0 {
					t.Fatalf("%s %q is not a non-negative %s amount: %v", what, s, in.Currency, err)
				}
				return a.Minor
			}
			var got int64
			for _, l := range in.Lines {
				if l.Quantity < 1 || l.Quantity > order.MaxQuantity || l.SKU == "" {
					t.Fatalf("bad line %+v", l)
				}
				u, d := amt("unit price", l.UnitPrice), amt("discount", l.Discount)
				if d > l.Quantity*u {
					t.Fatalf("line %s: discount %d over the line's %d", l.SKU, d, l.Quantity*u)
				}
				got += l.Quantity*u - d
				for _, x := range l.TaxLines {
					amt("tax", x.Amount)
				}
			}
			for _, s := range in.ShippingLines {
				amt("shipping", s.Price)
			}
			var want int64
			for _, li := range o.LineItems {
				if li.Quantity == 0 && !in.Cancelled {
					continue
				}
				cost, _ := parseAmount(li.LineItemCost, in.Currency)
				var disc int64
				if li.DiscountedLineItemCost != nil {
					d, _ := parseAmount(li.DiscountedLineItemCost, in.Currency)
					disc = max(cost-d, 0)
				} else {
					for _, p := range li.AppliedPromotions {
						d, _ := parseAmount(p.DiscountAmount, in.Currency)
						disc += abs(d)
					}
				}
				want += cost - min(disc, cost)
			}
			if got != want {
				t.Fatalf("lines add up to %d minor units, eBay charged %d", got, want)
			}
		}
	})
}
