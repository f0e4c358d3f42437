package amazonmcf

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/provider"
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

var states = []provider.State{provider.Pending, provider.Accepted, provider.InProgress, provider.Shipped, provider.Rejected, provider.Cancelled}

// FuzzParseOrder: whatever getFulfillmentOrder answers, the client does not
// panic, and a status it reports is one of ours with parcels of real units.
func FuzzParseOrder(f *testing.F) {
	seed(f, "order_*.json")
	f.Add([]byte(`{"payload":{"fulfillmentOrder":{"fulfillmentOrderStatus":"Complete"},"fulfillmentShipments":[{"fulfillmentShipmentStatus":"SHIPPED","fulfillmentShipmentItem":[{"sellerSku":"A","quantity":2147483647,"packageNumber":1},{"sellerSku":"A","quantity":2147483647,"packageNumber":1}]}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := parseOrder(data)
		if err != nil {
			return
		}
		st, err := toStatus(o)
		if err != nil {
			return
		}
		if !containsState(st.State) || st.Raw == "" {
			t.Fatalf("status %+v", st)
		}
		if st.State == provider.Rejected && st.Reason == "" {
			t.Fatal("rejected without a reason")
		}
		for _, s := range st.Shipments {
			if len(s.Lines) == 0 && s.TrackingNumber == "" && s.Carrier == "" {
				t.Fatalf("an empty parcel %+v", s)
			}
			for _, l := range s.Lines {
				if l.SKU == "" || l.Quantity <= 0 {
					t.Fatalf("parcel %s line %+v", s.ID, l)
				}
			}
		}
	})
}

func containsState(s provider.State) bool { return slicesContains(states, s) }

func slicesContains[T comparable](xs []T, x T) bool { return slices.Contains(xs, x) }

// FuzzParsePreview: fees are valid amounts of known currencies, and the
// total, when there is one, is their sum.
func FuzzParsePreview(f *testing.F) {
	seed(f, "preview.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, speed := range []string{"Standard", "Expedited", "Priority"} {
			p, err := parsePreview(data, speed)
			if err != nil {
				continue
			}
			var sum int64
			for _, fee := range p.Fees {
				if !money.ValidCurrency(fee.Amount.Currency) {
					t.Fatalf("fee %+v", fee)
				}
				sum += fee.Amount.Minor
			}
			if p.Total != (money.Amount{}) && (p.Total.Minor != sum || p.Total.Currency != p.Fees[0].Amount.Currency) {
				t.Fatalf("total %+v of fees %+v", p.Total, p.Fees)
			}
			for _, u := range p.Unfulfillable {
				for _, r := range u.Reasons {
					if r == "" || !slicesContains(p.Reasons, u.SKU+": "+r) {
						t.Fatalf("reason %q of %s not in %v", r, u.SKU, p.Reasons)
					}
				}
			}
		}
	})
}

// FuzzParseSummaries: every level names a SKU and no negative stock.
func FuzzParseSummaries(f *testing.F) {
	seed(f, "summaries.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		levels, next, err := parseSummaries(data)
		if err != nil {
			if levels != nil || next != "" {
				t.Fatal("a failed page returned data")
			}
			return
		}
		for _, l := range levels {
			if l.SKU == "" || l.Available < 0 || strings.TrimSpace(l.SKU) != l.SKU {
				t.Fatalf("level %+v", l)
			}
		}
	})
}

// FuzzOrderID: any id gives a sellerFulfillmentOrderId Amazon takes, the
// same every time, and a valid one is kept.
func FuzzOrderID(f *testing.F) {
	for _, s := range []string{"ful_01jd5x7q4m2k8v9w0x1y2z3a4b", "order 17", "", strings.Repeat("é", 30), "a+b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		got := OrderID(id)
		if got == "" || len(got) > maxOrderID || !plainID(got) || got != OrderID(id) || OrderID(got) != got {
			t.Fatalf("OrderID(%q) = %q", id, got)
		}
		if id != "" && len(id) <= maxOrderID && plainID(id) && got != id {
			t.Fatalf("OrderID(%q) = %q changed a valid id", id, got)
		}
	})
}
