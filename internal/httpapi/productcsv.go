package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/waybill/waybill/internal/catalog"
)

// maxImportBytes bounds a CSV upload: about 100 000 product rows.
const maxImportBytes = 50 << 20

// importPath is the upload route, which gets maxImportBytes instead of the
// usual body limit (see maxBody).
const importPath = Prefix + "/products/import"

// ProductImportResult says what an import did.
type ProductImportResult struct {
	Rows      int  `json:"rows" doc:"Product rows (SKUs) in the file."`
	Created   int  `json:"created"`
	Updated   int  `json:"updated"`
	Unchanged int  `json:"unchanged"`
	Archived  int  `json:"archived" doc:"Products archived because their Status was archived."`
	DryRun    bool `json:"dry_run" doc:"True when nothing was written and the counts say what would be."`
}

// csvUpload configures the import operation: a raw CSV body of up to
// 50 MB, with time to upload it.
func csvUpload(op *huma.Operation) {
	op.MaxBodyBytes = maxImportBytes
	op.BodyReadTimeout = 5 * time.Minute
	op.Description = "The body is a product CSV (`Content-Type: text/csv`, UTF-8, up to 50 MB) in Shopify's product columns — " +
		"a Shopify product export imports as it is — plus Waybill's own: `Length (mm)`, `Width (mm)`, `Height (mm)`, `HS Code`, " +
		"`Country of Origin`, `Currency`, `Lot Tracked`, `Serial Tracked` and `Kit Components` (`STOVE-TI x1; MUG-ENM-WHT x2`). " +
		"Each row with a `Variant SKU` is one product: new SKUs are created, existing ones updated, and columns the file lacks leave " +
		"stored values as they are. All rows or none: if any row is wrong nothing is written and the 422 problem lists every error " +
		"(up to 1000) with a location such as `body.row[17].Variant Barcode`; rows are numbered as a spreadsheet shows them, the header being row 1. " +
		"Importing the same file again changes nothing."
}

// csvDownload documents the export's text/csv response.
func csvDownload(op *huma.Operation) {
	op.Description = "The same columns an import reads, one row per SKU, with cells that a spreadsheet would run as a formula " +
		"(starting with `=`, `+`, `-`, `@`, tab or carriage return) preceded by a single quote, which an import removes again."
	op.Responses = map[string]*huma.Response{
		"200": {Description: "A product CSV.", Content: map[string]*huma.MediaType{"text/csv": {Schema: &huma.Schema{Type: "string"}}}},
	}
}

func (a *API) importProducts(ctx context.Context, in *struct {
	DryRun  bool   `query:"dry_run" doc:"Check the file and count what would change, without writing anything."`
	RawBody []byte `contentType:"text/csv"`
}) (*struct{ Body ProductImportResult }, error) {
	res, err := a.d.Catalog.Import(ctx, principal(ctx).TenantID, a.tenantCurrency(ctx), bytes.NewReader(in.RawBody),
		catalog.ImportOptions{DryRun: in.DryRun})
	if err != nil {
		return nil, err
	}
	return &struct{ Body ProductImportResult }{Body: ProductImportResult{Rows: res.Rows, Created: res.Created, Updated: res.Updated,
		Unchanged: res.Unchanged, Archived: res.Archived, DryRun: in.DryRun}}, nil
}

type csvOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

func (a *API) exportProducts(ctx context.Context, in *struct {
	Status string `query:"status" enum:"active,archived,any" default:"active"`
}) (*csvOutput, error) {
	var buf bytes.Buffer
	if _, err := a.d.Catalog.Export(ctx, principal(ctx).TenantID, &buf, catalog.Filter{Status: catalog.Status(in.Status)}); err != nil {
		return nil, err
	}
	return &csvOutput{ContentType: "text/csv; charset=utf-8", ContentDisposition: `attachment; filename="products.csv"`, Body: buf.Bytes()}, nil
}

// isImport reports whether r is a CSV upload (see maxBody).
func isImport(r *http.Request) bool {
	return r != nil && r.Method == http.MethodPost && (r.URL.Path == importPath || r.URL.Path == stockImportPath)
}
