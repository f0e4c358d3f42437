package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/waybill/waybill/internal/auth"
)

// routes is the API's one route table, read top to bottom. Each line names
// method, path, the scope a key needs, the operation id, and the handler.
func (a *API) routes() {
	// Catalogue
	route(a, "GET /products", "catalog:read", "list-products", "List products", a.listProducts)
	route(a, "POST /products", "catalog:write", "create-product", "Create a product", a.createProduct, created)
	route(a, "GET /products/{id}", "catalog:read", "get-product", "Get a product", a.getProduct)
	route(a, "PATCH /products/{id}", "catalog:write", "update-product", "Update a product", a.updateProduct)
	route(a, "POST /products/{id}/archive", "catalog:write", "archive-product", "Archive a product", a.archiveProduct)
	route(a, "POST /products/{id}/unarchive", "catalog:write", "unarchive-product", "Unarchive a product", a.unarchiveProduct)

	// Tenant, people and keys
	route(a, "GET /tenant", "settings:read", "get-tenant", "The tenant this key belongs to", a.getTenant)
	route(a, "GET /users", "settings:read", "list-users", "List dashboard users", a.listUsers)
	route(a, "POST /users", "settings:write", "create-user", "Add a dashboard user", a.createUser, created)
	route(a, "GET /users/{id}", "settings:read", "get-user", "Get a dashboard user", a.getUser)
	route(a, "PATCH /users/{id}", "settings:write", "update-user", "Change a user's name, role or access", a.updateUser)
	route(a, "GET /api-keys", "settings:read", "list-api-keys", "List API keys", a.listAPIKeys)
	route(a, "POST /api-keys", "settings:write", "create-api-key", "Create an API key (the key is shown once)", a.createAPIKey, created)
	route(a, "GET /api-keys/{id}", "settings:read", "get-api-key", "Get an API key (without its secret)", a.getAPIKey)
	route(a, "POST /api-keys/{id}/revoke", "settings:write", "revoke-api-key", "Revoke an API key at once", a.revokeAPIKey)
}

// created marks an operation whose success is 201.
func created(op *huma.Operation) { op.DefaultStatus = http.StatusCreated }

// route registers one operation. The handler's errors become problems here,
// once, so handlers just return domain errors.
func route[I, O any](a *API, methodPath, scope, opID, summary string, h func(context.Context, *I) (*O, error), opts ...func(*huma.Operation)) {
	method, path, _ := cut(methodPath)
	op := huma.Operation{
		OperationID:  opID,
		Method:       method,
		Path:         path,
		Summary:      summary,
		Tags:         []string{tagOf(path)},
		Security:     []map[string][]string{{"bearer": {}}},
		Metadata:     map[string]any{"scope": auth.Scope(scope)},
		MaxBodyBytes: a.maxBody(nil),
		Errors:       []int{400, 401, 403, 404, 409, 413, 422, 429},
	}
	if method == http.MethodPost {
		op.Parameters = append(op.Parameters, &huma.Param{Name: "Idempotency-Key", In: "header",
			Description: "Makes the POST safe to retry: the same key and body return the first response (kept 24 h).",
			Schema:      &huma.Schema{Type: "string", MaxLength: intPtr(255)}})
	}
	for _, o := range opts {
		o(&op)
	}
	huma.Register(a.huma, op, func(ctx context.Context, in *I) (*O, error) {
		out, err := h(ctx, in)
		if err != nil {
			return nil, problemFrom(ctx, a.d.Log, err)
		}
		return out, nil
	})
}

func intPtr(i int) *int { return &i }

func cut(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return "", s, false
}

func tagOf(path string) string {
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			return path[1:i]
		}
	}
	return path[1:]
}
