package amazon

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/order"
)

func seed(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds for %s: %v", pattern, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkAmounts asserts what must hold of any input toInput returns: every
// amount is a valid non-negative amount of the order's currency and every
// line has a quantity the order service accepts.
func checkAmounts(t *testing.T, in order.Input) {
	t.Helper()
	ok := func(what, s string) {
		if s == "" {
			return
		}
		a, err := money.Parse(s, in.Currency)
		if err != nil || a.Minor < 0 {
			t.Fatalf("%s %q is not a non-negative %s amount: %v", what, s, in.Currency, err)
		}
	}
	for _, l := range in.Lines {
		if l.Quantity < 1 || l.Quantity > order.MaxQuantity {
			t.Fatalf("line %s quantity %d", l.SKU, l.Quantity)
		}
		if l.SKU == "" {
			t.Fatalf("line without SKU")
		}
		ok("unit price", l.UnitPrice)
		ok("discount", l.Discount)
		for _, x := range l.TaxLines {
			ok("tax", x.Amount)
		}
	}
	for _, s := range in.ShippingLines {
		ok("shipping", s.Price)
		for _, x := range s.TaxLines {
			ok("shipping tax", x.Amount)
		}
	}
}

func FuzzParseOrders(f *testing.F) {
	seed(f, "orders_*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		orders, _, err := parseOrders(data)
		if err != nil {
			return
		}
		for _, o := range orders {
			in, err := toInput(o, nil)
			if err != nil {
				continue
			}
			if in.ExternalID == "" || in.Channel != "amazon" || !money.ValidCurrency(in.Currency) {
				t.Fatalf("bad input %+v", in)
			}
			checkAmounts(t, in)
		}
	})
}

// FuzzParseOrderItems checks that the items of an order, whatever Amazon
// sends, become lines whose amounts add up to exactly what Amazon charged
// for them: Σ quantity × unit price − discount = Σ ItemPrice − promotion.
func FuzzParseOrderItems(f *testing.F) {
	seed(f, "items_*.json")
	b, err := os.ReadFile(filepath.Join("testdata", "orders_page1.json"))
	if err != nil {
		f.Fatal(err)
	}
	orders, _, err := parseOrders(b)
	if err != nil {
		f.Fatal(err)
	}
	o := orders[0]
	f.Fuzz(func(t *testing.T, data []byte) {
		items, _, err := parseOrderItems(data)
		if err != nil {
			return
		}
		in, err := toInput(o, items)
		if err != nil {
			return
		}
		checkAmounts(t, in)
		var want int64
		for _, it := range items {
			if it.QuantityOrdered == 0 {
				continue // dropped from a live order
			}
			price, _ := parseMoney(it.ItemPrice, in.Currency)
			promo, _ := parseMoney(it.PromotionDiscount, in.Currency)
			want += price - min(abs(promo), price)
		}
		var got int64
		for _, l := range in.Lines {
			u, _ := money.Parse(l.UnitPrice, in.Currency)
			d := int64(0)
			if l.Discount != "" {
				a, _ := money.Parse(l.Discount, in.Currency)
				d = a.Minor
			}
			if d > l.Quantity*u.Minor {
				t.Fatalf("line %s: discount %d over the line's %d", l.SKU, d, l.Quantity*u.Minor)
			}
			got += l.Quantity*u.Minor - d
		}
		if got != want {
			t.Fatalf("lines add up to %d minor units, Amazon charged %d", got, want)
		}
	})
}
