package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/waybill/waybill/internal/app"
	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/config"
)

// App is a real Waybill on a fresh database of one engine, driven through its
// real HTTP handler.
type App struct {
	*app.App
	T testing.TB
}

// NewApp wires a whole app on engine e. mutate may adjust the config.
func NewApp(t testing.TB, e Engine, mutate ...func(*config.Config)) *App {
	t.Helper()
	cfg := config.Defaults()
	cfg.DB = e.DSN(t)
	cfg.Version = "test"
	for _, m := range mutate {
		m(&cfg)
	}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("%s: open app: %v", e.Name, err)
	}
	t.Cleanup(func() { a.Close() })
	return &App{App: a, T: t}
}

// Tenant makes a tenant and an all-scopes API key for it.
func (a *App) Tenant(name string, scopes ...auth.Scope) (auth.Tenant, string) {
	a.T.Helper()
	ctx := context.Background()
	t, err := a.Auth.CreateTenant(ctx, name, "UTC", "USD")
	if err != nil {
		a.T.Fatalf("tenant %s: %v", name, err)
	}
	_, key, err := a.Auth.CreateAPIKey(ctx, t.ID, "test", scopes)
	if err != nil {
		a.T.Fatalf("key for %s: %v", name, err)
	}
	return t, key
}

// Response is a finished HTTP exchange.
type Response struct {
	Code   int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Do sends a request through the app's handler. body may be nil, a string,
// []byte or a value to encode as JSON. headers are name, value pairs.
func (a *App) Do(method, path, key string, body any, headers ...string) Response {
	a.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			a.T.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, req)
	return Response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}
