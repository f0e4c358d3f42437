package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
)

type buyer struct {
	first, last, city, region, postal, country, street string
}

// buyers are people in the countries the demo shop sells to, with names
// and places in their own scripts.
var buyers = []buyer{
	{"Emma", "Johnson", "Boulder", "CO", "80302", "US", "1450 Pearl St"},
	{"Liam", "García", "Austin", "TX", "78701", "US", "600 Congress Ave"},
	{"Olivia", "Nguyen", "Seattle", "WA", "98101", "US", "1201 3rd Ave"},
	{"Noah", "Smith", "Portland", "OR", "97205", "US", "1120 SW 5th Ave"},
	{"Ava", "Brown", "Salt Lake City", "UT", "84111", "US", "50 S Main St"},
	{"Lucas", "O'Brien", "Denver", "CO", "80202", "US", "1701 Wynkoop St"},
	{"Sophia", "Kowalski", "Chicago", "IL", "60601", "US", "233 S Wacker Dr"},
	{"Mia", "Thompson", "Toronto", "ON", "M5V 2T6", "CA", "290 Bremner Blvd"},
	{"Jürgen", "Groß", "München", "BY", "80331", "DE", "Marienplatz 8"},
	{"Lena", "Müller", "Berlin", "BE", "10117", "DE", "Unter den Linden 77"},
	{"Chloé", "Lefèvre", "Lyon", "", "69002", "FR", "12 Rue de la République"},
	{"Sven", "Åström", "Göteborg", "", "411 04", "SE", "Kungsportsavenyen 10"},
	{"Daan", "de Vries", "Utrecht", "", "3511 AB", "NL", "Oudegracht 158"},
	{"Oliver", "Hughes", "Edinburgh", "", "EH1 1YZ", "GB", "1 Princes St"},
	{"Aoife", "Ní Bhriain", "Galway", "", "H91 X2K8", "IE", "12 Shop St"},
	{"Marta", "Zieliński", "Kraków", "", "31-042", "PL", "Rynek Główny 1"},
	{"Yuki", "田中", "東京都", "", "100-0005", "JP", "千代田区丸の内1-9-1"},
	{"Hana", "김", "서울", "", "04524", "KR", "세종대로 110"},
	{"Isabela", "Conceição", "Lisboa", "", "1100-148", "PT", "Praça do Comércio"},
	{"Mateo", "Rossi", "Torino", "TO", "10121", "IT", "Via Roma 250"},
	{"Charlotte", "Wilson", "Melbourne", "VIC", "3000", "AU", "200 Collins St"},
}

// SeedOrders gives the demo shop (once) a history of orders across its
// channels over the last 90 days: older ones shipped, recent ones open,
// a few cancelled, on hold or waiting for stock — so the orders pages and
// days of cover show a living shop. The clocks of the services are moved
// through those days while seeding, so the ledger tells the same story.
func SeedOrders(ctx context.Context, tenantID string, inv *inventory.Service, ord *order.Service, n int) (int, error) {
	if n <= 0 {
		return 0, nil
	}
	if os, _, err := ord.List(ctx, tenantID, order.Filter{Limit: 1}, ""); err != nil || len(os) > 0 {
		return 0, err
	}
	defer inv.SetClock(func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) })
	defer ord.SetClock(func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) })
	rng := rand.New(rand.NewPCG(2026, 11))
	now := time.Now().UTC().Truncate(time.Minute)
	start := now.Add(-90 * 24 * time.Hour)
	times := make([]time.Time, n)
	for i := range times {
		// More orders lately: the shop is growing.
		f := 1 - rng.Float64()*rng.Float64()
		times[i] = start.Add(time.Duration(f * float64(90*24*time.Hour)))
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	items := products()
	kitSKUs := []string{"KIT-COOK", "KIT-SLEEP-R", "KIT-SOCK-3M"}
	kitPrices := []string{"119.00", "349.00", "59.00"}
	channels := []string{"shopify", "shopify", "shopify", "shopify", "shopify", "amazon", "amazon", "ebay", "web", "wholesale"}
	nextRestock := start.Add(14 * 24 * time.Hour)
	made := 0
	for i, at := range times {
		clock := func() time.Time { return at }
		inv.SetClock(clock)
		ord.SetClock(clock)
		if at.After(nextRestock) {
			// A purchase order arrives every two weeks.
			for _, p := range items {
				if _, _, err := inv.Adjust(ctx, tenantID, inventory.Adjustment{SKU: p.SKU, Facility: "DEN", Quantity: 40 + int64(rng.IntN(40)), Kind: inventory.Receive,
					Reason: "purchase order", RefType: "po", RefID: fmt.Sprintf("PO-%s", nextRestock.Format("0102")), Actor: "demo"}); err != nil {
					return made, err
				}
			}
			nextRestock = nextRestock.Add(14 * 24 * time.Hour)
		}
		b := buyers[rng.IntN(len(buyers))]
		ch := channels[rng.IntN(len(channels))]
		in := order.Input{Channel: ch, ExternalID: fmt.Sprintf("%s-%06d", ch, 100000+i), Currency: "USD", PlacedAt: &at,
			Customer:        order.Customer{Name: b.first + " " + b.last, Email: fmt.Sprintf("%s.%d@example.com", asciiName(b.first), rng.IntN(900)+100)},
			ShippingAddress: &order.Address{Name: b.first + " " + b.last, Line1: b.street, City: b.city, Region: b.region, PostalCode: b.postal, Country: b.country},
			PaymentStatus:   "paid"}
		if ch == "amazon" || ch == "ebay" {
			in.Number = in.ExternalID
		}
		lines := 1 + rng.IntN(3)
		seen := map[string]bool{}
		for l := 0; l < lines; l++ {
			if rng.IntN(12) == 0 {
				k := rng.IntN(len(kitSKUs))
				if !seen[kitSKUs[k]] {
					seen[kitSKUs[k]] = true
					in.Lines = append(in.Lines, order.LineInput{SKU: kitSKUs[k], Quantity: 1, UnitPrice: kitPrices[k]})
				}
				continue
			}
			p := items[rng.IntN(len(items))]
			if seen[p.SKU] {
				continue
			}
			seen[p.SKU] = true
			in.Lines = append(in.Lines, order.LineInput{SKU: p.SKU, Name: p.Name, Quantity: 1 + int64(rng.IntN(3)/2), UnitPrice: p.Price})
		}
		in.ShippingLines = []order.ShippingInput{{Title: "Standard", Code: "ups_ground", Price: "6.95"}}
		if b.country != "US" {
			in.ShippingLines = []order.ShippingInput{{Title: "International", Code: "dhl_express_worldwide", Price: "24.00"}}
		}
		if rng.IntN(8) == 0 {
			in.Tags = []string{"gift"}
		}
		age := now.Sub(at)
		if age < 36*time.Hour && rng.IntN(10) == 0 {
			in.PaymentStatus = "pending"
		}
		if rng.IntN(60) == 0 {
			in.RiskLevel = "high"
		}
		o, _, err := ord.Create(ctx, tenantID, in, "channel:"+ch)
		if err != nil {
			return made, fmt.Errorf("demo order %d: %w", i, err)
		}
		made++
		switch {
		case rng.IntN(40) == 0:
			later := at.Add(2 * time.Hour)
			ord.SetClock(func() time.Time { return later })
			inv.SetClock(func() time.Time { return later })
			if _, err := ord.Cancel(ctx, tenantID, o.ID, order.CancelInput{Reason: "customer"}, "user:demo"); err != nil {
				return made, err
			}
		case age > 48*time.Hour && !o.OnHold():
			// Shipped the next working day.
			shipped := at.Add(20 * time.Hour)
			ord.SetClock(func() time.Time { return shipped })
			inv.SetClock(func() time.Time { return shipped })
			// Each facility ships its part with a carrier and tracking.
			fos, err := ord.FulfillmentOrders(ctx, tenantID, o.ID)
			if err != nil {
				return made, err
			}
			for _, fo := range fos {
				if fo.Remaining() == 0 {
					continue
				}
				carrier, track := "UPS", fmt.Sprintf("1Z999AA1%010d", rng.IntN(1_000_000_000))
				if fo.FacilityCode != "DEN" {
					carrier, track = "DHL", fmt.Sprintf("JD%012d", rng.IntN(1_000_000_000))
				}
				if _, _, err := ord.Fulfill(ctx, tenantID, fo.ID, order.FulfillInput{Carrier: carrier, TrackingNumber: track}, "user:demo"); err != nil {
					return made, err
				}
			}
		}
	}
	return made, nil
}

// asciiName makes an e-mail-safe local part.
func asciiName(s string) string {
	out := []rune{}
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			out = append(out, r+'a'-'A')
		case r >= 'a' && r <= 'z':
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return "customer"
	}
	return string(out)
}
