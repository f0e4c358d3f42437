// Command search fills a database with a million realistic orders and
// measures the latency of the ten most common order list and search
// queries, through the same code the API uses (order.Service.List).
//
//	go run ./bench/search -db orders-1m.db -orders 1000000
//	go run ./bench/search -db postgres://… -orders 1000000 -explain
//
// A database that already holds the orders is reused (-orders is then the
// number it must have).
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/store"
)

func main() {
	dsn := flag.String("db", "bench-orders.db", "database (SQLite path or postgres:// URL)")
	n := flag.Int("orders", 1_000_000, "orders to generate")
	runs := flag.Int("runs", 40, "runs of each query")
	explain := flag.Bool("explain", false, "print each query's plan")
	flag.Parse()
	if err := run(*dsn, *n, *runs, *explain); err != nil {
		fmt.Fprintln(os.Stderr, "search:", err)
		os.Exit(1)
	}
}

func run(dsn string, n, runs int, explain bool) error {
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	as := auth.NewService(store.NewAuth(db))
	ten, err := as.TenantByName(ctx, "Bench Shop")
	if errs.Is(errs.NotExist, err) {
		ten, err = as.CreateTenant(ctx, "Bench Shop", "UTC", "USD")
	}
	if err != nil {
		return err
	}
	os := store.NewOrders(db)
	svc := order.NewService(os, inventory.NewService(store.NewInventory(db)))
	g := newGen()
	have, err := count(ctx, db, ten.ID)
	if err != nil {
		return err
	}
	if have < n {
		start := time.Now()
		if err := db.Relaxed(ctx, func() error { return g.fill(ctx, os, ten.ID, have, n) }); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "generated %d orders in %s\n", n-have, time.Since(start).Round(time.Second))
		if _, err := db.W.ExecContext(ctx, "ANALYZE"); err != nil {
			return err
		}
	}
	queries := g.queries()
	fmt.Printf("| query | p50 ms | p95 ms | rows |\n|---|---|---|---|\n")
	for _, q := range queries {
		var lat []time.Duration
		rows := 0
		for i := 0; i < runs; i++ {
			f := q.filter(g.rng)
			t := time.Now()
			res, _, err := svc.List(ctx, ten.ID, f, "")
			if err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
			lat = append(lat, time.Since(t))
			rows += len(res)
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		fmt.Printf("| %s | %.1f | %.1f | %d |\n", q.name, ms(lat[len(lat)/2]), ms(lat[len(lat)*95/100]), rows/runs)
		if explain {
			plan, err := os.ExplainList(ctx, ten.ID, withLimit(q.filter(g.rng)))
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "-- %s\n%s\n", q.name, plan)
		}
	}
	return nil
}

var stderr = os.Stderr

func withLimit(f order.Filter) order.Filter {
	f.Limit = 51
	if f.Sort == "" {
		f.Sort = "-placed_at"
	}
	return f
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func count(ctx context.Context, db *store.DB, tenantID string) (int, error) {
	var n int
	err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE tenant_id = $1`, tenantID).Scan(&n)
	return n, err
}

// gen makes realistic orders: customers who come back, popular SKUs,
// channels and destinations in the proportions of a mid-size brand.
type gen struct {
	rng       *rand.Rand
	skus      []string
	prices    []string
	zipf      *rand.Zipf
	customers []customer
	now       time.Time
}

type customer struct {
	name, email, city, postal, country string
}

var (
	firsts    = []string{"Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Sophia", "Mia", "Jürgen", "Lena", "Chloé", "Sven", "Daan", "Oliver", "Aoife", "Marta", "Yuki", "Hana", "Isabela", "Mateo", "Charlotte", "Søren", "Zoë", "José", "Aleksandr", "Fatima", "Wei", "Priya", "Kwame", "Ingrid"}
	lasts     = []string{"Johnson", "García", "Nguyen", "Smith", "Brown", "O'Brien", "Kowalski", "Thompson", "Groß", "Müller", "Lefèvre", "Åström", "de Vries", "Hughes", "Ní Bhriain", "Zieliński", "田中", "김", "Conceição", "Rossi", "Wilson", "Kierkegaard", "Ñúñez", "Petrov", "Haddad", "Chen", "Sharma", "Mensah", "Larsen", "Okafor"}
	places    = [][3]string{{"Boulder", "80302", "US"}, {"Austin", "78701", "US"}, {"Seattle", "98101", "US"}, {"Denver", "80202", "US"}, {"Chicago", "60601", "US"}, {"New York", "10001", "US"}, {"Toronto", "M5V 2T6", "CA"}, {"München", "80331", "DE"}, {"Berlin", "10117", "DE"}, {"Lyon", "69002", "FR"}, {"Göteborg", "411 04", "SE"}, {"Utrecht", "3511 AB", "NL"}, {"Edinburgh", "EH1 1YZ", "GB"}, {"London", "N1 1AA", "GB"}, {"Kraków", "31-042", "PL"}, {"東京都", "100-0005", "JP"}, {"서울", "04524", "KR"}, {"Lisboa", "1100-148", "PT"}, {"Torino", "10121", "IT"}, {"Melbourne", "3000", "AU"}}
	channelsW = []string{"shopify", "shopify", "shopify", "shopify", "shopify", "amazon", "amazon", "amazon", "ebay", "woocommerce", "api", "csv"}
)

func newGen() *gen {
	rng := rand.New(rand.NewPCG(1, 2))
	g := &gen{rng: rng, now: time.Now().UTC().Truncate(time.Second)}
	for i := 0; i < 2000; i++ {
		g.skus = append(g.skus, fmt.Sprintf("SKU-%04d", i))
		g.prices = append(g.prices, fmt.Sprintf("%d.%02d", 5+rng.IntN(300), rng.IntN(100)))
	}
	g.zipf = rand.NewZipf(rng, 1.2, 4, uint64(len(g.skus)-1))
	for i := 0; i < 150_000; i++ {
		f, l := firsts[rng.IntN(len(firsts))], lasts[rng.IntN(len(lasts))]
		p := places[rng.IntN(len(places))]
		g.customers = append(g.customers, customer{name: f + " " + l, email: fmt.Sprintf("%s.%d@example.com", strings.ToLower(ascii(f)), i), city: p[0], postal: p[1], country: p[2]})
	}
	return g
}

func ascii(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && r != '\'' && r != ' ' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "c"
	}
	return b.String()
}

func (g *gen) order(tenantID string, i int) (order.Order, error) {
	rng := g.rng
	c := g.customers[int(float64(len(g.customers))*rng.Float64()*rng.Float64())] // some customers buy often
	ch := channelsW[rng.IntN(len(channelsW))]
	age := time.Duration(rng.Float64() * rng.Float64() * float64(730*24*time.Hour)) // busier lately
	placed := g.now.Add(-age)
	in := order.Input{Channel: ch, ExternalID: fmt.Sprintf("%s-%d", ch, 5_000_000+i), Number: fmt.Sprintf("#%d", 1001+i), Currency: "USD", PlacedAt: &placed,
		Customer:        order.Customer{Name: c.name, Email: c.email},
		ShippingAddress: &order.Address{Name: c.name, Line1: fmt.Sprintf("%d Main St", 1+rng.IntN(999)), City: c.city, PostalCode: c.postal, Country: c.country},
		ShippingLines:   []order.ShippingInput{{Title: "Standard", Code: "ups_ground", Price: "6.95"}}, PaymentStatus: "paid"}
	seen := map[int]bool{}
	for l := 0; l < 1+rng.IntN(4); l++ {
		k := int(g.zipf.Uint64())
		if seen[k] {
			continue
		}
		seen[k] = true
		in.Lines = append(in.Lines, order.LineInput{SKU: g.skus[k], Quantity: 1 + int64(rng.IntN(3)/2), UnitPrice: g.prices[k]})
	}
	switch r := rng.IntN(100); {
	case r < 10:
		in.Tags = []string{"gift"}
	case r < 13:
		in.Tags = []string{"vip"}
	case r < 15:
		in.Tags = []string{"wholesale", "net30"}
	}
	o, err := order.Build(in)
	if err != nil {
		return o, err
	}
	o.ID, o.TenantID = id.New("ord"), tenantID
	o.CreatedAt, o.UpdatedAt = placed, placed.Add(time.Duration(rng.IntN(72))*time.Hour)
	for j := range o.Lines {
		o.Lines[j].ID = id.New("oli")
	}
	r := rng.IntN(100)
	switch {
	case age > 72*time.Hour && r < 95:
		o.Status, o.Fulfillment = order.Closed, order.Fulfilled
		for j := range o.Lines {
			o.Lines[j].Fulfilled = o.Lines[j].Quantity
		}
	case r < 97 && age > 72*time.Hour:
		t := placed.Add(time.Hour)
		o.Status, o.CancelledAt, o.CancelReason = order.Cancelled, &t, "customer"
		for j := range o.Lines {
			o.Lines[j].Cancelled, o.Lines[j].Quantity = o.Lines[j].Quantity, 0
		}
	default:
		for j := range o.Lines {
			o.Lines[j].Reserved = o.Lines[j].Quantity
		}
		if rng.IntN(8) == 0 {
			reason := order.HoldReasons[rng.IntN(len(order.HoldReasons))]
			o.Holds = []order.Hold{{ID: id.New("hld"), Reason: reason, CreatedBy: "system", CreatedAt: placed}}
			if reason == order.InventoryOutOfStock {
				o.Lines[0].Reserved, o.Lines[0].Backordered = 0, o.Lines[0].Quantity
			}
		}
	}
	return o, nil
}

func (g *gen) fill(ctx context.Context, s *store.Orders, tenantID string, from, to int) error {
	const batch = 2000
	for i := from; i < to; i += batch {
		var os []order.Order
		for j := i; j < min(i+batch, to); j++ {
			o, err := g.order(tenantID, j)
			if err != nil {
				return err
			}
			os = append(os, o)
		}
		if err := s.InsertBulk(ctx, os); err != nil {
			return err
		}
		if (i/batch)%25 == 0 {
			fmt.Fprintf(stderr, "\r%d / %d orders", i+len(os), to)
		}
	}
	fmt.Fprintln(stderr)
	return nil
}

type query struct {
	name   string
	filter func(*rand.Rand) order.Filter
}

// queries are the ten lists people open most: the default list, the work
// queues, and the searches support staff type when a customer writes in.
func (g *gen) queries() []query {
	yes := true
	week := g.now.Add(-7 * 24 * time.Hour)
	return []query{
		{"all orders, newest first", func(*rand.Rand) order.Filter { return order.Filter{} }},
		{"open orders, oldest first (work queue)", func(*rand.Rand) order.Filter { return order.Filter{Status: order.Open, Sort: "placed_at"} }},
		{"unfulfilled", func(*rand.Rand) order.Filter { return order.Filter{Fulfillment: order.Unfulfilled} }},
		{"on hold", func(*rand.Rand) order.Filter { return order.Filter{OnHold: &yes} }},
		{"channel = amazon", func(*rand.Rand) order.Filter { return order.Filter{Channel: "amazon"} }},
		{"placed in the last 7 days", func(*rand.Rand) order.Filter { return order.Filter{Since: &week} }},
		{"order number", func(r *rand.Rand) order.Filter { return order.Filter{Number: fmt.Sprint(1001 + r.IntN(900_000))} }},
		{"customer e-mail", func(r *rand.Rand) order.Filter {
			return order.Filter{Email: g.customers[int(float64(len(g.customers))*r.Float64()*r.Float64())].email}
		}},
		{"text search: customer name", func(r *rand.Rand) order.Filter {
			return order.Filter{Query: firsts[r.IntN(len(firsts))] + " " + lasts[r.IntN(len(lasts))]}
		}},
		{"SKU", func(r *rand.Rand) order.Filter { return order.Filter{SKU: g.skus[r.IntN(len(g.skus))]} }},
		{"country = DE, tag = gift", func(*rand.Rand) order.Filter { return order.Filter{Country: "DE", Tag: "gift"} }},
	}
}
