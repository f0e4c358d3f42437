package httpapi

import (
	"bytes"
	"context"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/waybill/waybill/internal/inventory"
)

// stockImportPath is the stock upload route, which gets maxImportBytes
// instead of the usual body limit (see maxBody).
const stockImportPath = Prefix + "/inventory/import"

// StockImportResult says what a stock import did.
type StockImportResult struct {
	Rows      int  `json:"rows" doc:"Rows in the file: one SKU at one facility, bin and lot each."`
	Changed   int  `json:"changed" doc:"Rows whose location held another quantity; each became a count movement."`
	Unchanged int  `json:"unchanged"`
	DryRun    bool `json:"dry_run" doc:"True when nothing was written and the counts say what would be."`
}

// stockCSVUpload configures the stock import: a raw CSV body of up to
// 50 MB, with time to upload it.
func stockCSVUpload(op *huma.Operation) {
	op.MaxBodyBytes = maxImportBytes
	op.BodyReadTimeout = 5 * time.Minute
	op.Description = "The body is a stock CSV (`Content-Type: text/csv`, UTF-8, up to 50 MB and 100 000 rows) with the columns " +
		"`sku`, `facility` (its code), `bin` (a bin code in that facility; empty for the unassigned location), `lot` and `quantity` " +
		"(the units there now). Each row sets the on hand of one location through the count path: a difference becomes a `count` " +
		"movement in the ledger (reason `stock import`), and each facility's rows are counts that emit `inventory.counted`. " +
		"Locations the file does not name keep their stock. All rows or none: if any row is wrong nothing is written and the " +
		"problem lists every error (up to 1000) with a location such as `body.row[17].bin`; rows are numbered as a spreadsheet " +
		"shows them, the header being row 1. A file that would leave less on hand than is reserved is 409 `insufficient_stock`, " +
		"naming the rows. Importing the same file again changes nothing; an export imports as it is."
}

// stockCSVDownload documents the export's text/csv response.
func stockCSVDownload(op *huma.Operation) {
	op.Description = "On hand now, one row per SKU, facility, bin and lot with stock, in the columns an import reads, from one " +
		"consistent read. Cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) " +
		"are preceded by a single quote, which an import removes again."
	op.Responses = map[string]*huma.Response{
		"200": {Description: "A stock CSV.", Content: map[string]*huma.MediaType{"text/csv": {Schema: &huma.Schema{Type: "string"}}}},
	}
}

func (a *API) importStock(ctx context.Context, in *struct {
	DryRun  bool   `query:"dry_run" doc:"Check the file and count what would change, without writing anything."`
	RawBody []byte `contentType:"text/csv"`
}) (*struct{ Body StockImportResult }, error) {
	res, err := a.d.Inventory.ImportStock(ctx, principal(ctx).TenantID, bytes.NewReader(in.RawBody),
		inventory.StockImportOptions{DryRun: in.DryRun, Actor: actor(ctx)})
	if err != nil {
		return nil, err
	}
	return &struct{ Body StockImportResult }{Body: StockImportResult{Rows: res.Rows, Changed: res.Changed, Unchanged: res.Unchanged, DryRun: in.DryRun}}, nil
}

func (a *API) exportStock(ctx context.Context, in *struct {
	Facility string `query:"facility" doc:"Only this facility's stock (its code)."`
}) (*csvOutput, error) {
	fid, err := a.facilityID(ctx, in.Facility, "query.facility")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := a.d.Inventory.ExportStock(ctx, principal(ctx).TenantID, &buf, fid); err != nil {
		return nil, err
	}
	return &csvOutput{ContentType: "text/csv; charset=utf-8", ContentDisposition: `attachment; filename="stock.csv"`, Body: buf.Bytes()}, nil
}
