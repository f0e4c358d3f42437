package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/httpapi"
	"github.com/waybill/waybill/internal/testenv"
)

type problem struct {
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Code     string `json:"code"`
	Instance string `json:"instance"`
	Errors   []struct {
		Message  string `json:"message"`
		Location string `json:"location"`
	} `json:"errors"`
}

func TestProductContract(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e)
		_, key := a.Tenant("Shop")
		r := a.Do("POST", "/api/v1/products", key, map[string]any{
			"sku": "TSHIRT-BLK-M", "name": "T-shirt black M", "barcodes": []string{"4006381333931"},
			"weight_g": 180, "length_mm": 300, "width_mm": 250, "height_mm": 20, "allow_backorder": true,
		})
		if r.Code != 201 {
			t.Fatalf("create: %d %s", r.Code, r.Body)
		}
		var p httpapi.Product
		r.JSON(t, &p)
		if p.ID == "" || p.SKU != "TSHIRT-BLK-M" || !p.AllowBackorder || p.WeightG != 180 || len(p.Barcodes) != 1 {
			t.Fatalf("created product: %+v", p)
		}
		r = a.Do("GET", "/api/v1/products/"+p.ID, key, nil)
		if r.Code != 200 {
			t.Fatalf("get: %d %s", r.Code, r.Body)
		}
		var list httpapi.ProductList
		a.Do("GET", "/api/v1/products?sku=TSHIRT-BLK-M", key, nil).JSON(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != p.ID {
			t.Fatalf("list by sku: %+v", list)
		}
		a.Do("GET", "/api/v1/products?sku=NOPE", key, nil).JSON(t, &list)
		if len(list.Items) != 0 {
			t.Fatalf("list by other sku: %+v", list)
		}
		// PATCH changes only what it names.
		r = a.Do("PATCH", "/api/v1/products/"+p.ID, key, map[string]any{"price": "19.99", "tags": []string{"apparel"}})
		if r.Code != 200 {
			t.Fatalf("patch: %d %s", r.Code, r.Body)
		}
		r.JSON(t, &p)
		if p.Price == nil || *p.Price != "19.99" || p.Name != "T-shirt black M" || len(p.Tags) != 1 {
			t.Fatalf("patched: %+v", p)
		}
		r = a.Do("POST", "/api/v1/products/"+p.ID+"/archive", key, nil)
		r.JSON(t, &p)
		if r.Code != 200 || p.Status != "archived" {
			t.Fatalf("archive: %d %+v", r.Code, p)
		}
	})
}

func TestPagination(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e)
		_, key := a.Tenant("Shop")
		for i := 0; i < 7; i++ {
			if r := a.Do("POST", "/api/v1/products", key, map[string]any{"sku": fmt.Sprintf("SKU-%d", i), "name": "P"}); r.Code != 201 {
				t.Fatalf("create: %d %s", r.Code, r.Body)
			}
		}
		seen := map[string]bool{}
		cursor := ""
		for pages := 0; ; pages++ {
			var list httpapi.ProductList
			r := a.Do("GET", "/api/v1/products?limit=3&cursor="+cursor, key, nil)
			if r.Code != 200 {
				t.Fatalf("page: %d %s", r.Code, r.Body)
			}
			r.JSON(t, &list)
			for _, p := range list.Items {
				if seen[p.ID] {
					t.Fatalf("product %s on two pages", p.SKU)
				}
				seen[p.ID] = true
			}
			if list.NextCursor == "" {
				break
			}
			cursor = list.NextCursor
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
		}
		if len(seen) != 7 {
			t.Fatalf("saw %d products, want 7", len(seen))
		}
		var pr problem
		r := a.Do("GET", "/api/v1/products?cursor=!!notbase64", key, nil)
		r.JSON(t, &pr)
		if r.Code != 422 || len(pr.Errors) != 1 || pr.Errors[0].Location != "query.cursor" {
			t.Fatalf("bad cursor: %d %s", r.Code, r.Body)
		}
	})
}

func TestProblems(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e)
		_, key := a.Tenant("Shop")
		_, readOnly := a.Tenant("Reader", "catalog:read")

		cases := []struct {
			name, method, path, key string
			body                    any
			status                  int
			code                    string
			fields                  []string
		}{
			{"no key", "GET", "/api/v1/products", "", nil, 401, "unauthenticated", nil},
			{"bad key", "GET", "/api/v1/products", "wb_nope", nil, 401, "unauthenticated", nil},
			{"not bearer", "GET", "/api/v1/products", "", nil, 401, "unauthenticated", nil},
			{"missing scope", "POST", "/api/v1/products", readOnly, map[string]any{"sku": "A", "name": "A"}, 403, "", nil},
			{"settings scope", "GET", "/api/v1/api-keys", readOnly, nil, 403, "", nil},
			{"unknown product", "GET", "/api/v1/products/prod_nope", key, nil, 404, "not_found", nil},
			{"unknown route", "GET", "/api/v1/nothing", key, nil, 404, "", nil},
			{"invalid fields", "POST", "/api/v1/products", key, map[string]any{"sku": "has space", "name": "", "price": "1.999", "barcodes": []string{"4006381333932"}, "country_of_origin": "Portugal"},
				422, "invalid", []string{"body.sku", "body.name", "body.price", "body.barcodes[0]", "body.country_of_origin"}},
			{"schema violation", "POST", "/api/v1/products", key, map[string]any{"sku": "A", "name": "A", "weight_g": "heavy"}, 422, "invalid", []string{"body.weight_g"}},
			{"malformed json", "POST", "/api/v1/products", key, `{"sku":`, 400, "bad_request", nil},
			{"unknown kit sku", "POST", "/api/v1/products", key, map[string]any{"sku": "K", "name": "K", "kit_components": []map[string]any{{"sku": "NOPE", "quantity": 1}}}, 422, "invalid", []string{"body.kit_components[0].sku"}},
			{"bad scope", "POST", "/api/v1/api-keys", key, map[string]any{"scopes": []string{"catalog:delete"}}, 422, "invalid", []string{"body.scopes[0]"}},
			{"too large", "POST", "/api/v1/products", key, `{"sku":"A","name":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "body_too_large", nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var hdr []string
				if c.name == "not bearer" {
					hdr = []string{"Authorization", "Basic Zm9vOmJhcg=="}
				}
				r := a.Do(c.method, c.path, c.key, c.body, hdr...)
				if r.Code != c.status {
					t.Fatalf("status %d, want %d: %s", r.Code, c.status, r.Body)
				}
				if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Fatalf("content type %q", ct)
				}
				var p problem
				r.JSON(t, &p)
				if p.Status != c.status || p.Title == "" || !strings.HasPrefix(p.Instance, "urn:waybill:request:req_") {
					t.Fatalf("problem %+v", p)
				}
				if c.code != "" && p.Code != c.code {
					t.Fatalf("code %q, want %q", p.Code, c.code)
				}
				for _, f := range c.fields {
					found := false
					for _, e := range p.Errors {
						found = found || e.Location == f
					}
					if !found {
						t.Errorf("no error for %s in %s", f, r.Body)
					}
				}
			})
		}
		// Nothing above changed anything.
		var list httpapi.ProductList
		a.Do("GET", "/api/v1/products?status=any", key, nil).JSON(t, &list)
		if len(list.Items) != 0 {
			t.Fatalf("a failed request left products behind: %+v", list.Items)
		}
	})
}

func TestIdempotencyKey(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e)
		_, key := a.Tenant("Shop")
		body := map[string]any{"sku": "MUG", "name": "Mug"}
		r1 := a.Do("POST", "/api/v1/products", key, body, "Idempotency-Key", "k1")
		r2 := a.Do("POST", "/api/v1/products", key, body, "Idempotency-Key", "k1")
		if r1.Code != 201 || r2.Code != 201 || string(r1.Body) != string(r2.Body) {
			t.Fatalf("replay differs: %d %s / %d %s", r1.Code, r1.Body, r2.Code, r2.Body)
		}
		if r2.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("replay not marked")
		}
		r3 := a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "MUG2", "name": "Mug"}, "Idempotency-Key", "k1")
		var p problem
		r3.JSON(t, &p)
		if r3.Code != 422 || p.Code != "idempotency_key_reused" {
			t.Fatalf("different body: %d %s", r3.Code, r3.Body)
		}
		// A failed request's result is kept too: the retry gets the same 422.
		bad := map[string]any{"sku": "", "name": "x"}
		b1 := a.Do("POST", "/api/v1/products", key, bad, "Idempotency-Key", "k2")
		b2 := a.Do("POST", "/api/v1/products", key, bad, "Idempotency-Key", "k2")
		if b1.Code != 422 || b2.Code != 422 {
			t.Fatalf("bad body: %d / %d", b1.Code, b2.Code)
		}
		// Another tenant's identical key is a different key.
		_, key2 := a.Tenant("Other")
		if r := a.Do("POST", "/api/v1/products", key2, body, "Idempotency-Key", "k1"); r.Code != 201 || string(r.Body) == string(r1.Body) {
			t.Fatalf("keys leak across tenants: %d %s", r.Code, r.Body)
		}
	})
}

func TestIdempotencyConcurrent(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e)
		_, key := a.Tenant("Shop")
		const n = 20
		var wg sync.WaitGroup
		codes := make([]int, n)
		ids := make([]string, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "RACE", "name": "Race"}, "Idempotency-Key", "same-key")
				codes[i] = r.Code
				if r.Code == 201 {
					var p httpapi.Product
					r.JSON(t, &p)
					ids[i] = p.ID
				}
			}(i)
		}
		wg.Wait()
		first := ""
		for i, c := range codes {
			switch c {
			case 201:
				if first == "" {
					first = ids[i]
				} else if ids[i] != first {
					t.Fatalf("two different products: %s and %s", first, ids[i])
				}
			case 409: // still in flight: the client retries
			default:
				t.Fatalf("unexpected status %d", c)
			}
		}
		var list httpapi.ProductList
		a.Do("GET", "/api/v1/products?sku=RACE", key, nil).JSON(t, &list)
		if len(list.Items) != 1 {
			t.Fatalf("%d products made, want exactly 1", len(list.Items))
		}
		if first == "" {
			t.Fatal("no request succeeded")
		}
	})
}

func TestRateLimit(t *testing.T) {
	e := testenv.Engines(t)[0]
	a := testenv.NewApp(t, e, func(c *config.Config) { c.RateLimit = 1; c.RateBurst = 3 })
	_, key := a.Tenant("Shop")
	_, other := a.Tenant("Other")
	for i := 0; i < 3; i++ {
		if r := a.Do("GET", "/api/v1/products", key, nil); r.Code != 200 {
			t.Fatalf("request %d within burst: %d", i, r.Code)
		}
	}
	r := a.Do("GET", "/api/v1/products", key, nil)
	if r.Code != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("over the limit: %d, Retry-After %q", r.Code, r.Header.Get("Retry-After"))
	}
	if r := a.Do("GET", "/api/v1/products", other, nil); r.Code != 200 {
		t.Fatalf("another key is limited too: %d", r.Code)
	}
}

func TestRevokedKeyStopsAtOnce(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e)
		_, admin := a.Tenant("Shop")
		var nk httpapi.NewAPIKey
		r := a.Do("POST", "/api/v1/api-keys", admin, map[string]any{"name": "sync", "scopes": []string{"catalog:read"}})
		if r.Code != 201 {
			t.Fatalf("create key: %d %s", r.Code, r.Body)
		}
		r.JSON(t, &nk)
		if !strings.HasPrefix(nk.Key, "wb_") {
			t.Fatalf("key %q", nk.Key)
		}
		if r := a.Do("GET", "/api/v1/products", nk.Key, nil); r.Code != 200 {
			t.Fatalf("new key: %d", r.Code)
		}
		if r := a.Do("GET", "/api/v1/api-keys/"+nk.ID, admin, nil); r.Code != 200 || strings.Contains(string(r.Body), nk.Key) {
			t.Fatalf("get key shows secret or fails: %d %s", r.Code, r.Body)
		}
		if r := a.Do("POST", "/api/v1/api-keys/"+nk.ID+"/revoke", admin, nil); r.Code != 200 {
			t.Fatalf("revoke: %d %s", r.Code, r.Body)
		}
		if r := a.Do("GET", "/api/v1/products", nk.Key, nil); r.Code != 401 {
			t.Fatalf("revoked key still works: %d", r.Code)
		}
		// A key that may manage keys cannot mint one wider than itself.
		_, narrow := a.Tenant("Narrow", "settings:write", "catalog:read")
		if r := a.Do("POST", "/api/v1/api-keys", narrow, map[string]any{"scopes": []string{"orders:write"}}); r.Code != 403 {
			t.Fatalf("escalation: %d %s", r.Code, r.Body)
		}
		if r := a.Do("POST", "/api/v1/api-keys", narrow, map[string]any{"scopes": []string{"catalog:read"}}); r.Code != 201 {
			t.Fatalf("subset: %d %s", r.Code, r.Body)
		}
	})
}

func TestOpenAPIAndDocs(t *testing.T) {
	a := testenv.NewApp(t, testenv.Engines(t)[0])
	r := a.Do("GET", "/api/v1/openapi.json", "", nil)
	if r.Code != 200 || !strings.Contains(string(r.Body), `"openapi":"3.1.0"`) || !strings.Contains(string(r.Body), "create-product") {
		t.Fatalf("openapi: %d %.200s", r.Code, r.Body)
	}
	if r := a.Do("GET", "/api/v1/docs/", "", nil); r.Code != 200 || !strings.Contains(string(r.Body), "swagger-ui") || strings.Contains(string(r.Body), "https://") {
		t.Fatalf("docs page: %d", r.Code)
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if r := a.Do("GET", p, "", nil); r.Code != 200 {
			t.Fatalf("%s: %d", p, r.Code)
		}
	}
}
