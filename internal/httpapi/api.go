// Package httpapi is Waybill's JSON API under /api/v1: one route table
// (routes.go), authentication by API key, scopes, idempotent POSTs, rate
// limits, RFC 9457 problems, and the OpenAPI document generated from code.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/costs"
	"github.com/waybill/waybill/internal/dispatch"
	"github.com/waybill/waybill/internal/httpapi/docsui"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/notify"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/routing"
	"github.com/waybill/waybill/internal/store"
)

// Prefix is where the API lives.
const Prefix = "/api/v1"

// IdempotencyStore keeps Idempotency-Key records (store.Idempotency).
type IdempotencyStore interface {
	Begin(ctx context.Context, tenantID, key, hash string, stale time.Duration) (bool, store.IdemRecord, error)
	Finish(ctx context.Context, tenantID, key string, status int, contentType string, body []byte) error
	Abandon(ctx context.Context, tenantID, key string) error
}

// Deps are the services the API serves.
type Deps struct {
	Config    config.Config
	Log       *slog.Logger
	Auth      *auth.Service
	Catalog   *catalog.Service
	Inventory *inventory.Service
	Notify    *notify.Service
	Orders    *order.Service
	Channels  *channels.Service
	Routing   *routing.Service
	Dispatch  *dispatch.Service
	Costs     *costs.Service
	// Wake tells the background workers there is new work (may be nil).
	Wake        func()
	Idempotency IdempotencyStore
}

// API is the JSON API.
type API struct {
	d       Deps
	mux     *http.ServeMux
	huma    huma.API
	limiter *keyLimiter
	handler http.Handler
}

// New builds the API and its route table.
func New(d Deps) *API {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Wake == nil {
		d.Wake = func() {}
	}
	useProblems()
	a := &API{d: d, mux: http.NewServeMux(), limiter: newKeyLimiter(d.Config.RateLimit, d.Config.RateBurst)}
	cfg := huma.DefaultConfig("Waybill API", d.Config.Version)
	cfg.Info.Description = "Waybill's order fulfilment API. Authenticate with `Authorization: Bearer <API key>`. " +
		"Every POST accepts an `Idempotency-Key` header: a retry with the same key and body returns the first response. " +
		"Errors are RFC 9457 problem documents; `errors[].location` names the field. Lists are paged with `cursor`."
	cfg.OpenAPIPath = "/openapi"
	cfg.DocsPath = ""    // served from the binary below, not from a CDN
	cfg.SchemasPath = "" // schemas are inline in the document
	cfg.CreateHooks = nil
	cfg.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", schemaName)
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "An API key made with `waybill apikey create` or on the dashboard's API keys page."},
	}
	cfg.Servers = []*huma.Server{{URL: Prefix}}
	a.huma = humago.NewWithPrefix(a.mux, Prefix, cfg)
	a.huma.UseMiddleware(a.checkScope)
	a.routes()

	docs := http.StripPrefix(Prefix+"/docs", docsui.Handler())
	a.mux.Handle("GET "+Prefix+"/docs", docs)
	a.mux.Handle("GET "+Prefix+"/docs/", docs)
	a.mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, &Problem{Status: http.StatusNotFound, Title: "Not Found", Detail: "no API route " + r.Method + " " + r.URL.Path})
	})

	// Outermost first: request id, recovery, authentication, rate limit,
	// idempotency, then huma (body limits, validation, the handler).
	var h http.Handler = a.mux
	h = a.idempotency(h)
	h = a.rateLimit(h)
	h = a.authenticate(h)
	h = recoverer(d.Log, h)
	a.handler = h
	return a
}

// ServeHTTP serves everything under /api/v1.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// OpenAPI returns the generated document (the cross-tenant test walks it).
func (a *API) OpenAPI() *huma.OpenAPI { return a.huma.OpenAPI() }

// public paths need no API key.
func public(r *http.Request) bool {
	p := r.URL.Path
	return p == Prefix+"/openapi.json" || p == Prefix+"/openapi.yaml" || p == Prefix+"/openapi-3.0.json" ||
		p == Prefix+"/openapi-3.0.yaml" || p == Prefix+"/docs" || strings.HasPrefix(p, Prefix+"/docs/")
}

// authenticate resolves the Bearer key into a Principal, or answers 401.
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public(r) {
			next.ServeHTTP(w, r)
			return
		}
		h := r.Header.Get("Authorization")
		scheme, key, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="waybill"`)
			writeProblem(w, r, &Problem{Status: http.StatusUnauthorized, Title: "Unauthorized", Code: "unauthenticated",
				Detail: "send an API key as Authorization: Bearer <key>"})
			return
		}
		p, err := a.d.Auth.Authenticate(r.Context(), strings.TrimSpace(key))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="waybill", error="invalid_token"`)
			writeProblem(w, r, problemFrom(r.Context(), a.d.Log, err))
			return
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

// checkScope enforces the scope each operation declares in its metadata.
func (a *API) checkScope(ctx huma.Context, next func(huma.Context)) {
	scope, _ := ctx.Operation().Metadata["scope"].(auth.Scope)
	p, _ := auth.PrincipalFrom(ctx.Context())
	if scope == "" || !p.Can(scope) {
		_ = huma.WriteErr(a.huma, ctx, http.StatusForbidden, "this API key lacks the scope "+string(scope))
		return
	}
	next(ctx)
}

// principal returns the caller; routes behind authenticate always have one.
func principal(ctx context.Context) auth.Principal {
	p, _ := auth.PrincipalFrom(ctx)
	return p
}

func principalOK(r *http.Request) (auth.Principal, bool) { return auth.PrincipalFrom(r.Context()) }

// detach keeps the request's values (request id) but not its cancellation,
// for bookkeeping that must happen after the client has gone.
func detach(r *http.Request) context.Context { return context.WithoutCancel(r.Context()) }

// schemaName names the OpenAPI schemas. The order package's wire types get
// names that say what they are (order.Doc is "Order", order.LineDoc
// "OrderLine", order.Address "OrderAddress"); the rest keep their type name.
func schemaName(t reflect.Type, hint string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if strings.HasSuffix(t.PkgPath(), "/internal/order") && t.Name() != "" {
		n := strings.TrimSuffix(t.Name(), "Doc")
		switch {
		case n == "Customer" || n == "TaxLine":
			return n
		case strings.HasPrefix(n, "Order"):
			return n
		}
		return "Order" + n
	}
	if strings.HasSuffix(t.PkgPath(), "/internal/routing") && t.Name() != "" {
		n := strings.TrimPrefix(t.Name(), "Order")
		if strings.HasPrefix(n, "Routing") {
			return n
		}
		return "Routing" + n // routing.Rule is "RoutingRule", routing.OrderHold "RoutingHold"
	}
	return huma.DefaultSchemaNamer(t, hint)
}
