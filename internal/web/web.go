// Package web is Waybill's dashboard: server-rendered pages with their assets
// embedded in the binary.
package web

import (
	"log/slog"
	"net/http"

	"github.com/alexedwards/scs/v2"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/config"
)

// Deps are what the dashboard shows and changes.
type Deps struct {
	Config   config.Config
	Log      *slog.Logger
	Auth     *auth.Service
	Catalog  *catalog.Service
	Sessions scs.CtxStore
}

// New returns the dashboard handler (mounted at /).
func New(d Deps) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("Waybill dashboard\n"))
	})
	return mux
}
