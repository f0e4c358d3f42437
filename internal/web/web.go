// Package web is Waybill's dashboard: server-rendered pages with their assets
// embedded in the binary.
package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/costs"
	"github.com/waybill/waybill/internal/dispatch"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/notify"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/routing"
)

// Deps are what the dashboard shows and changes.
type Deps struct {
	Config    config.Config
	Log       *slog.Logger
	Auth      *auth.Service
	Catalog   *catalog.Service
	Inventory *inventory.Service
	Sessions  scs.CtxStore
	// Notify manages webhooks and e-mail settings; NotifyLog and Jobs are
	// the reads behind the bell, the delivery log and the jobs page. Wake
	// tells the job runner a replayed delivery is waiting (nil: it polls).
	Notify    *notify.Service
	NotifyLog NotifyLog
	Jobs      JobBoard
	Wake      func()
	// Orders and Channels are the orders area and the sales-channel
	// settings; Views keeps each person's saved views of the orders list.
	// Without Orders the area is shown as not available yet.
	Orders   *order.Service
	Channels *channels.Service
	Views    SavedViews
	// Routing is the routing rules of Settings → Routing and the "test
	// this order" explanation; without it that page is not available.
	Routing *routing.Service
	// Dispatch connects 3PL and supplier facilities and serves the
	// supplier portal; Costs keeps the facilities' cost profiles and
	// supplier prices behind Insights → Fulfilment costs. Without them
	// those parts are not available.
	Dispatch *dispatch.Service
	Costs    *costs.Service
}

// Session lifetimes: a working day at most, and signed out after two idle hours.
const (
	sessionLifetime = 12 * time.Hour
	sessionIdle     = 2 * time.Hour
	sessionCookie   = "waybill_session"
)

type server struct {
	d      Deps
	sm     *scs.SessionManager
	pages  *pages
	assets *assets
	zones  zoneCache
}

// New returns the dashboard handler (mounted at /).
func New(d Deps) http.Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	s := &server{d: d, assets: loadAssets()}
	s.pages = loadPages(s.assets)

	s.sm = scs.New()
	s.sm.Store = d.Sessions
	s.sm.Lifetime = sessionLifetime
	s.sm.IdleTimeout = sessionIdle
	s.sm.Cookie.Name = sessionCookie
	s.sm.Cookie.HttpOnly = true
	s.sm.Cookie.SameSite = http.SameSiteLaxMode
	s.sm.Cookie.Secure = d.Config.SecureCookies
	s.sm.Cookie.Path = "/"
	s.sm.ErrorFunc = s.sessionError
	// Only a hash of each token is stored, so a copy of the sessions table
	// does not let anyone sign in as the people in it.
	s.sm.HashTokenInStore = true

	return s.routes()
}

// routes is the dashboard's route table. Static files are served without a
// session; every other page goes through the session, and all but the
// sign-in pages need a signed-in user. Cross-origin POSTs are refused for
// every route (that is the CSRF protection; see the tests).
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/{file...}", s.assets)

	mux.Handle("GET /login", s.public(s.loginForm))
	mux.Handle("POST /login", s.public(s.login))
	mux.Handle("POST /logout", s.public(s.logout))

	mux.Handle("GET /{$}", s.signedIn(s.home))

	mux.Handle("GET /products", s.signedIn(s.productList))
	mux.Handle("GET /products/new", s.signedIn(s.productNew))
	mux.Handle("POST /products", s.signedIn(s.productCreate))
	mux.Handle("GET /products/{id}", s.signedIn(s.productEdit))
	mux.Handle("POST /products/{id}", s.signedIn(s.productUpdate))
	mux.Handle("POST /products/{id}/archive", s.signedIn(s.productArchive))
	mux.Handle("POST /products/{id}/unarchive", s.signedIn(s.productUnarchive))

	mux.Handle("GET /inventory", s.signedIn(s.inventoryList))
	mux.Handle("GET /inventory/sku/{id}", s.signedIn(s.inventorySKU))
	mux.Handle("POST /inventory/sku/{id}/reorder", s.signedIn(s.inventoryReorder))
	mux.Handle("GET /inventory/adjust", s.signedIn(s.inventoryAdjustForm))
	mux.Handle("POST /inventory/adjust", s.signedIn(s.inventoryAdjust))
	mux.Handle("GET /inventory/transfers", s.signedIn(s.transferList))
	mux.Handle("GET /inventory/transfers/new", s.signedIn(s.transferNew))
	mux.Handle("POST /inventory/transfers/new", s.signedIn(s.transferCreate))
	mux.Handle("POST /inventory/transfers/{id}/receive", s.signedIn(s.transferReceive))
	mux.Handle("GET /inventory/count", s.signedIn(s.countForm))
	mux.Handle("POST /inventory/count", s.signedIn(s.countRecord))

	mux.Handle("GET /orders", s.signedIn(s.orderList))
	mux.Handle("GET /orders/new-count", s.signedIn(s.orderNewCount))
	mux.Handle("POST /orders/bulk", s.signedIn(s.orderBulk))
	mux.Handle("POST /orders/views", s.signedIn(s.orderViewSave))
	mux.Handle("POST /orders/views/{id}/delete", s.signedIn(s.orderViewDelete))
	mux.Handle("GET /orders/{id}", s.signedIn(s.orderShow))
	mux.Handle("POST /orders/{id}/edit", s.signedIn(s.orderEdit))
	mux.Handle("POST /orders/{id}/holds", s.signedIn(s.orderHold))
	mux.Handle("POST /orders/{id}/holds/release", s.signedIn(s.orderRelease))
	mux.Handle("POST /orders/{id}/cancel", s.signedIn(s.orderCancel))
	mux.Handle("POST /orders/{id}/fulfillment-orders/{fo}/fulfill", s.signedIn(s.orderFulfil))

	mux.Handle("GET /fulfillment", s.signedIn(s.fulfilmentQueue))
	mux.Handle("GET /fulfillment/{id}", s.signedIn(s.fulfilmentShow))
	mux.Handle("POST /fulfillment/{id}/fulfill", s.signedIn(s.fulfilmentFulfil))
	mux.Handle("POST /fulfillment/{id}/move", s.signedIn(s.fulfilmentMove))
	mux.Handle("POST /fulfillment/{id}/merge", s.signedIn(s.fulfilmentMerge))
	mux.Handle("POST /fulfillment/{id}/split", s.signedIn(s.fulfilmentSplit))
	mux.Handle("POST /fulfillment/{id}/{action}", s.signedIn(s.fulfilmentAct))

	mux.Handle("GET /insights", s.signedIn(s.insightsHome))
	mux.Handle("GET /insights/costs", s.signedIn(s.insightsCosts))

	mux.Handle("GET /settings", s.signedIn(s.settingsHome))
	mux.Handle("GET /settings/api-keys", s.signedIn(s.apiKeyList))
	mux.Handle("POST /settings/api-keys", s.signedIn(s.apiKeyCreate))
	mux.Handle("POST /settings/api-keys/{id}/revoke", s.signedIn(s.apiKeyRevoke))
	mux.Handle("GET /settings/users", s.signedIn(s.userList))
	mux.Handle("POST /settings/users", s.signedIn(s.userCreate))
	mux.Handle("POST /settings/users/{id}", s.signedIn(s.userUpdate))
	mux.Handle("GET /settings/facilities", s.signedIn(s.facilityList))
	mux.Handle("GET /settings/facilities/new", s.signedIn(s.facilityNew))
	mux.Handle("POST /settings/facilities", s.signedIn(s.facilityCreate))
	mux.Handle("GET /settings/facilities/{id}", s.signedIn(s.facilityEdit))
	mux.Handle("POST /settings/facilities/{id}", s.signedIn(s.facilityUpdate))
	mux.Handle("POST /settings/facilities/{id}/bins", s.signedIn(s.binCreate))
	mux.Handle("POST /settings/facilities/{id}/bins/{bin}", s.signedIn(s.binUpdate))
	mux.Handle("POST /settings/facilities/{id}/connection", s.signedIn(s.connectionSave))
	mux.Handle("POST /settings/facilities/{id}/connection/rotate-secret", s.signedIn(s.connectionRotate))
	mux.Handle("POST /settings/facilities/{id}/connection/disconnect", s.signedIn(s.connectionDisconnect))
	mux.Handle("POST /settings/facilities/{id}/connection/api-key", s.signedIn(s.connectionAPIKey))
	mux.Handle("POST /settings/facilities/{id}/connection/sync-stock", s.signedIn(s.connectionSyncStock))
	mux.Handle("POST /settings/facilities/{id}/costs", s.signedIn(s.costProfileSave))
	mux.Handle("POST /settings/facilities/{id}/supplier-prices", s.signedIn(s.supplierPricesSave))
	mux.Handle("GET /settings/webhooks", s.signedIn(s.webhookList))
	mux.Handle("POST /settings/webhooks", s.signedIn(s.webhookCreate))
	mux.Handle("GET /settings/webhooks/{id}", s.signedIn(s.webhookShow))
	mux.Handle("POST /settings/webhooks/{id}/enable", s.signedIn(s.webhookEnable))
	mux.Handle("POST /settings/webhooks/{id}/disable", s.signedIn(s.webhookDisable))
	mux.Handle("POST /settings/webhooks/{id}/rotate-secret", s.signedIn(s.webhookRotate))
	mux.Handle("GET /settings/webhooks/deliveries/{id}", s.signedIn(s.webhookDelivery))
	mux.Handle("POST /settings/webhooks/deliveries/{id}/replay", s.signedIn(s.webhookReplay))
	mux.Handle("GET /settings/notifications", s.signedIn(s.notificationSettings))
	mux.Handle("POST /settings/notifications", s.signedIn(s.notificationSettingsSave))
	mux.Handle("GET /settings/jobs", s.signedIn(s.jobList))
	mux.Handle("GET /settings/channels", s.signedIn(s.channelList))
	mux.Handle("POST /settings/channels", s.signedIn(s.channelCreate))
	mux.Handle("POST /settings/channels/{id}/pause", s.signedIn(s.channelPause))
	mux.Handle("POST /settings/channels/{id}/resume", s.signedIn(s.channelResume))
	mux.Handle("POST /settings/channels/{id}/poll", s.signedIn(s.channelPoll))
	mux.Handle("GET /settings/routing", s.signedIn(s.routingList))
	mux.Handle("POST /settings/routing", s.signedIn(s.routingCreate))
	mux.Handle("GET /settings/routing/{id}", s.signedIn(s.routingEdit))
	mux.Handle("POST /settings/routing/{id}", s.signedIn(s.routingUpdate))
	mux.Handle("POST /settings/routing/{id}/move", s.signedIn(s.routingMove))
	mux.Handle("POST /settings/routing/{id}/activate", s.signedIn(s.routingActivate))
	mux.Handle("POST /settings/routing/{id}/deactivate", s.signedIn(s.routingDeactivate))
	mux.Handle("POST /settings/routing/{id}/delete", s.signedIn(s.routingDelete))

	mux.Handle("GET /notifications", s.signedIn(s.notificationList))
	mux.Handle("GET /notifications/bell", s.signedIn(s.notificationBell))

	// The supplier portal works without an account: a signed link opens one
	// fulfilment order, and no sign-in cookie is read or set.
	mux.Handle("GET /portal/fulfillment-orders/{id}", s.portal(s.portalShow))
	mux.Handle("GET /portal/fulfillment-orders/{id}/po.pdf", s.portal(s.portalPDF))
	mux.Handle("POST /portal/fulfillment-orders/{id}/{action}", s.portal(s.portalAct))

	mux.Handle("/", s.signedIn(s.notFound))

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(s.public(s.crossOriginRefused))
	return securityHeaders(cop.Handler(mux))
}

// securityHeaders keeps the dashboard out of frames and its pages from
// loading anything that is not ours.
func securityHeaders(next http.Handler) http.Handler {
	const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

func (s *server) home(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/products", http.StatusSeeOther)
	return nil
}

func (s *server) settingsHome(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/settings/users", http.StatusSeeOther)
	return nil
}
