// Command load drives Waybill's real HTTP API with concurrent clients that
// create 3-line orders (each reserving stock, writing the ledger and an
// event), and measures orders per second and latency. Side by side it runs
// the ceiling: bare SQL transactions doing the same writes with nothing
// else, so the report shows what the application costs on top.
//
//	go run ./bench/load -db load.db -clients 16 -duration 20s
//	go run ./bench/load -db postgres://… -clients 16 -duration 20s
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/waybill/waybill/internal/app"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/store"
)

func main() {
	dsn := flag.String("db", "bench-load.db", "database (SQLite path or postgres:// URL); it is filled with a bench tenant")
	clients := flag.Int("clients", 16, "concurrent clients")
	duration := flag.Duration("duration", 20*time.Second, "how long each of the two runs lasts")
	skus := flag.Int("skus", 200, "products to order from")
	flag.Parse()
	if err := run(*dsn, *clients, *duration, *skus); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

type result struct {
	n        int
	elapsed  time.Duration
	p50, p99 time.Duration
	errors   int
}

func (r result) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

func run(dsn string, clients int, d time.Duration, nskus int) error {
	ctx := context.Background()
	cfg := config.Defaults()
	cfg.DB = dsn
	cfg.RateLimit = 0 // unlimited: we measure the server, not the limiter
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer a.Close()
	name := "Load " + time.Now().Format("150405")
	ten, err := a.Auth.CreateTenant(ctx, name, "UTC", "USD")
	if err != nil {
		return err
	}
	_, key, err := a.Auth.CreateAPIKey(ctx, ten.ID, "load", nil)
	if err != nil {
		return err
	}
	fac, err := a.Inventory.CreateFacility(ctx, ten.ID, inventory.FacilityInput{Code: "MAIN", Name: "Main", Kind: inventory.Own})
	if err != nil {
		return err
	}
	var skus, pids []string
	for i := 0; i < nskus; i++ {
		p, err := a.Catalog.Create(ctx, ten.ID, "USD", catalog.Draft{SKU: fmt.Sprintf("LOAD-%04d", i), Name: "Load item", Price: "10.00"})
		if err != nil {
			return err
		}
		if _, _, err := a.Inventory.Adjust(ctx, ten.ID, inventory.Adjustment{SKU: p.SKU, Facility: "MAIN", Quantity: 10_000_000, Kind: inventory.Receive}); err != nil {
			return err
		}
		skus, pids = append(skus, p.SKU), append(pids, p.ID)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler}
	go srv.Serve(l)
	defer srv.Close()
	bg, stop := context.WithCancel(ctx)
	done := a.StartBackground(bg) // the relay and workers run as in production
	defer func() { stop(); <-done }()
	url := "http://" + l.Addr().String() + "/api/v1/orders"

	api := measure(clients, d, func(c, i int, rng *rand.Rand) error {
		body, _ := json.Marshal(map[string]any{"channel": "load", "external_id": fmt.Sprintf("c%d-%d", c, i), "currency": "USD",
			"customer":         map[string]any{"name": "Load Tester", "email": "load@example.com"},
			"shipping_address": map[string]any{"name": "Load Tester", "line1": "1 Main St", "city": "Denver", "postal_code": "80202", "country": "US"},
			"lines":            threeLines(rng, skus)})
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})

	bare := measure(clients, d, func(c, i int, rng *rand.Rand) error {
		return bareOrder(ctx, a.DB, ten.ID, fac.ID, pids, rng)
	})

	engine := "SQLite"
	if store.IsPostgresURL(dsn) {
		engine = "PostgreSQL"
	}
	fmt.Printf("| %s, %d clients, 3-line orders | orders/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|\n", engine, clients)
	for _, r := range []struct {
		name string
		r    result
	}{{"HTTP API (reserve, ledger, event, idempotency, auth)", api}, {"bare SQL transaction, same writes (ceiling)", bare}} {
		fmt.Printf("| %s | %.0f | %.1f | %.1f | %d |\n", r.name, r.r.rate(), ms(r.r.p50), ms(r.r.p99), r.r.errors)
	}
	fmt.Printf("\nAPI / ceiling = %.2f\n", api.rate()/bare.rate())
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func threeLines(rng *rand.Rand, skus []string) []map[string]any {
	perm := rng.Perm(len(skus))[:3]
	var out []map[string]any
	for _, k := range perm {
		out = append(out, map[string]any{"sku": skus[k], "quantity": 1 + rng.IntN(2), "unit_price": "10.00"})
	}
	return out
}

// measure runs fn from clients goroutines for d and collects latencies.
func measure(clients int, d time.Duration, fn func(client, i int, rng *rand.Rand) error) result {
	var mu sync.Mutex
	var lat []time.Duration
	var errCount atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), uint64(time.Now().UnixNano())))
			var mine []time.Duration
			for i := 0; time.Now().Before(deadline); i++ {
				t := time.Now()
				if err := fn(c, i, rng); err != nil {
					if errCount.Add(1) == 1 {
						fmt.Fprintln(os.Stderr, "first error:", err)
					}
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	r := result{n: len(lat), elapsed: time.Since(start), errors: int(errCount.Load())}
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		r.p50, r.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	return r
}

// bareOrder is the ceiling: the rows an order must write, in one
// transaction, with nothing around them — the order and its lines, a
// conditional reserve per line (never oversell), a ledger row per line and
// one outbox event.
func bareOrder(ctx context.Context, db *store.DB, tenantID, facID string, pids []string, rng *rand.Rand) error {
	now := time.Now().UTC()
	oid := id.New("ord")
	return db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO orders (id, tenant_id, channel, source, external_id, number, placed_at, created_at, updated_at, currency,
			subtotal, shipping_total, tax_total, discount_total, total, status, fulfillment_status) VALUES ($1, $2, 'bare', 'bare', $1, $1, $3, $3, $3, 'USD', 3000, 0, 0, 0, 3000, 'open', 'unfulfilled')`,
			oid, tenantID, now); err != nil {
			return err
		}
		picked := rng.Perm(len(pids))[:3]
		sort.Ints(picked) // lock balances in one order, as the application does
		for i, k := range picked {
			pid := pids[k]
			if _, err := tx.ExecContext(ctx, `INSERT INTO order_lines (id, tenant_id, order_id, line_no, product_id, sku, quantity, reserved, unit_price)
				VALUES ($1, $2, $3, $4, $5, $5, 1, 1, 1000)`, id.New("oli"), tenantID, oid, i, pid); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, `UPDATE stock_levels SET reserved = reserved + 1, updated_at = $4
				WHERE tenant_id = $1 AND product_id = $2 AND facility_id = $3 AND on_hand - reserved >= 1`, tenantID, pid, facID, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return fmt.Errorf("out of stock")
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO stock_movements (id, tenant_id, product_id, facility_id, kind, on_hand_delta, reserved_delta, incoming_delta, created_at)
				VALUES ($1, $2, $3, $4, 'reserve', 0, 1, 0, $5)`, id.New("mov"), tenantID, pid, facID, now); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO events (id, tenant_id, type, object_type, object_id, payload, created_at) VALUES ($1, $2, 'order.created', 'order', $3, '{}', $4)`,
			id.New("evt"), tenantID, oid, now)
		return err
	})
}
