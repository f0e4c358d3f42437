package httpapi_test

import (
	"strings"
	"testing"

	"github.com/waybill/waybill/internal/httpapi"
	"github.com/waybill/waybill/internal/testenv"
)

func TestProductCSV(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e)
		_, key := a.Tenant("Shop")
		_, readKey := a.Tenant("Reader", "catalog:read")
		csv := "Variant SKU,Title,Variant Price,Status\nA-1,Apple,1.50,\nB-1,Bean,2.00,archived\n"
		upload := func(path, key, body string, headers ...string) testenv.Response {
			return a.Do("POST", path, key, body, append([]string{"Content-Type", "text/csv"}, headers...)...)
		}

		var res httpapi.ProductImportResult
		r := upload("/api/v1/products/import?dry_run=true", key, csv)
		r.JSON(t, &res)
		if r.Code != 200 || res != (httpapi.ProductImportResult{Rows: 2, Created: 2, Archived: 1, DryRun: true}) {
			t.Fatalf("dry run: %d %s", r.Code, r.Body)
		}
		var list httpapi.ProductList
		a.Do("GET", "/api/v1/products?status=any", key, nil).JSON(t, &list)
		if len(list.Items) != 0 {
			t.Fatalf("dry run wrote %d products", len(list.Items))
		}
		r = upload("/api/v1/products/import", key, csv)
		r.JSON(t, &res)
		if r.Code != 200 || res != (httpapi.ProductImportResult{Rows: 2, Created: 2, Archived: 1}) {
			t.Fatalf("import: %d %s", r.Code, r.Body)
		}
		r = upload("/api/v1/products/import", key, csv)
		r.JSON(t, &res)
		if r.Code != 200 || res.Unchanged != 2 {
			t.Fatalf("import again: %d %s", r.Code, r.Body)
		}

		// Row errors are a 422 problem with one error per row and column.
		var pr problem
		r = upload("/api/v1/products/import", key, "Variant SKU,Title,Variant Barcode\nC-1,Cup,4006381333932\nD-1,,\n")
		r.JSON(t, &pr)
		if r.Code != 422 || pr.Code != "invalid_csv" || pr.Detail != "the file has 2 errors; nothing was imported" || len(pr.Errors) != 2 ||
			pr.Errors[0].Location != "body.row[2].Variant Barcode" || pr.Errors[0].Message != `"4006381333932": invalid GTIN-13 check digit (expected 1)` ||
			pr.Errors[1].Location != "body.row[3].Title" || pr.Errors[1].Message != "is required" {
			t.Fatalf("bad file: %d %s", r.Code, r.Body)
		}
		if r = upload("/api/v1/products/import", key, "Title\nx\n"); r.Code != 422 || !strings.Contains(string(r.Body), `"location":"body.row[1]"`) {
			t.Fatalf("no SKU column: %d %s", r.Code, r.Body)
		}
		if r = upload("/api/v1/products/import", key, ""); r.Code != 400 {
			t.Fatalf("empty body: %d %s", r.Code, r.Body)
		}

		// Uploads may be larger than JSON bodies (1 MB), also through the
		// idempotency middleware, which reads the body first.
		big := "Variant SKU,Title,Notes\nBIG-1,Big," + strings.Repeat("x", 3<<20) + "\n"
		r = upload("/api/v1/products/import", key, big, "Idempotency-Key", "big-1")
		r.JSON(t, &res)
		if r.Code != 200 || res.Created != 1 {
			t.Fatalf("3 MB upload: %d %.300s", r.Code, r.Body)
		}
		if r = upload("/api/v1/products/import", key, big, "Idempotency-Key", "big-1"); r.Code != 200 || r.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %v", r.Code, r.Header)
		}
		if r := a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "J-1", "name": "Json", "description": strings.Repeat("x", 2<<20)}, "Idempotency-Key", "json-1"); r.Code != 413 {
			t.Fatalf("JSON bodies keep their limit: %d", r.Code)
		}

		r = a.Do("GET", "/api/v1/products/export?status=any", readKey, nil)
		if r.Code != 200 || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
			r.Header.Get("Content-Disposition") != `attachment; filename="products.csv"` || strings.Contains(string(r.Body), "A-1") {
			t.Fatalf("another tenant's export: %d %v %s", r.Code, r.Header, r.Body)
		}
		r = a.Do("GET", "/api/v1/products/export", key, nil)
		body := string(r.Body)
		if r.Code != 200 || !strings.HasPrefix(body, "Handle,Title,Body (HTML),") || !strings.Contains(body, "\na-1,Apple,") ||
			strings.Contains(body, "B-1") || !strings.Contains(body, "BIG-1") {
			t.Fatalf("export: %d %s", r.Code, body)
		}
		if r := a.Do("GET", "/api/v1/products/export?status=archived", key, nil); !strings.Contains(string(r.Body), "\nb-1,Bean,") {
			t.Fatalf("archived export: %s", r.Body)
		}
		if r := upload("/api/v1/products/import", readKey, csv); r.Code != 403 {
			t.Fatalf("import with a catalog:read key: %d", r.Code)
		}

		doc := a.API.OpenAPI()
		imp, exp := doc.Paths["/products/import"], doc.Paths["/products/export"]
		if imp == nil || imp.Post.RequestBody.Content["text/csv"] == nil || exp == nil || exp.Get.Responses["200"].Content["text/csv"] == nil {
			t.Fatal("OpenAPI does not document the CSV bodies")
		}
	})
}
