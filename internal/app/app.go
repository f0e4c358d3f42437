// Package app is the one place where Waybill is wired together: it opens the
// database, builds the domain services, the API, the dashboard and the
// background work, and serves them.
package app

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/costs"
	"github.com/waybill/waybill/internal/dispatch"
	"github.com/waybill/waybill/internal/httpapi"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/job"
	"github.com/waybill/waybill/internal/notify"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/routing"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/web"
)

// App is a wired Waybill.
type App struct {
	Config    config.Config
	Log       *slog.Logger
	DB        *store.DB
	Auth      *auth.Service
	Catalog   *catalog.Service
	Inventory *inventory.Service
	Notify    *notify.Service
	Orders    *order.Service
	Channels  *channels.Service
	Routing   *routing.Service
	Dispatch  *dispatch.Service
	Costs     *costs.Service
	Jobs      *store.Jobs
	Runner    *job.Runner
	API       *httpapi.API
	Handler   http.Handler
	idem      *store.Idempotency
	sessions  *store.Sessions
	Deliverer *notify.Deliverer
}

// Open connects to the database, applies migrations and builds everything.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	if log == nil {
		log = slog.Default()
	}
	db, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	for _, m := range applied {
		log.Info("migration applied", "file", m)
	}
	a := &App{Config: cfg, Log: log, DB: db}
	a.Auth = auth.NewService(store.NewAuth(db))
	a.Catalog = catalog.NewService(store.NewCatalog(db))
	a.Inventory = inventory.NewService(store.NewInventory(db))
	a.Orders = order.NewService(store.NewOrders(db), a.Inventory)
	a.Routing = routing.NewService(store.NewRouting(db), a.Inventory, func(ctx context.Context, tenantID, sku string) (string, string) {
		p, err := a.Catalog.BySKU(ctx, tenantID, sku)
		if err != nil {
			return "", ""
		}
		return p.ProductType, p.Vendor
	})
	a.Orders.SetRouter(a.Routing)
	a.Channels = channels.NewService(store.NewChannels(db), a.Orders, channelHTTPClient(), channelKinds()...)
	a.idem = store.NewIdempotency(db)
	a.sessions = store.NewSessions(db)
	a.wireBackground()
	a.wireChannels()
	a.Costs = costs.NewService(store.NewCosts(db))
	a.wireDispatch()
	if err := a.wireMail(); err != nil {
		db.Close()
		return nil, err
	}
	a.API = httpapi.New(httpapi.Deps{Config: cfg, Log: log, Auth: a.Auth, Catalog: a.Catalog, Inventory: a.Inventory, Notify: a.Notify, Orders: a.Orders, Channels: a.Channels, Routing: a.Routing,
		Dispatch: a.Dispatch, Costs: a.Costs, Idempotency: a.idem, Wake: a.Runner.Wake})
	dash := web.New(web.Deps{Config: cfg, Log: log, Auth: a.Auth, Catalog: a.Catalog, Inventory: a.Inventory, Sessions: a.sessions,
		Notify: a.Notify, NotifyLog: store.NewNotify(db), Jobs: a.Jobs, Wake: a.Runner.Wake,
		Orders: a.Orders, Channels: a.Channels, Views: store.NewViews(db), Routing: a.Routing, Dispatch: a.Dispatch, Costs: a.Costs})

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newHTTPMetrics(reg)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := db.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("database unreachable\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle(httpapi.Prefix+"/", a.API)
	mux.Handle(httpapi.HooksPrefix, httpapi.ChannelHooks(a.Channels, log, a.Runner.Wake))
	mux.Handle("/", dash)
	a.Handler = httpapi.WithRequestID(m.wrap(mux))
	return a, nil
}

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }

// Serve listens on cfg.Addr until ctx ends, then shuts down gracefully.
// ready, if not nil, is called with the bound address once listening.
func (a *App) Serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // CSV uploads
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	bg, stopBG := context.WithCancel(context.Background())
	bgDone := a.StartBackground(bg)
	defer func() { stopBG(); <-bgDone }()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.Log.Info("waybill serving", "addr", "http://"+ln.Addr().String(), "db", config.MaskedDB(a.Config.DB), "engine", string(a.DB.Engine))
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waybill_http_requests_total", Help: "HTTP requests by route pattern and status."}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "waybill_http_request_duration_seconds", Help: "HTTP request latency by route pattern.", Buckets: prometheus.DefBuckets}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// wrap records each request under its route pattern (never its URL, so ids
// do not become label values).
func (m *httpMetrics) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: 200}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(r.Method, route, strconv.Itoa(sw.code)).Inc()
		m.duration.WithLabelValues(r.Method, route).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (s *statusWriter) WriteHeader(c int) {
	if !s.wrote {
		s.code, s.wrote = c, true
	}
	s.ResponseWriter.WriteHeader(c)
}
func (s *statusWriter) Write(b []byte) (int, error) { s.wrote = true; return s.ResponseWriter.Write(b) }
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
