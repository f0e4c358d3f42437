package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
)

// ImportCmd groups CSV imports.
type ImportCmd struct {
	Products ImportProductsCmd `cmd:"" help:"Import products from a CSV in Shopify's product columns (plus Waybill's own): all rows or none."`
	Stock    ImportStockCmd    `cmd:"" help:"Set counted stock from a CSV (sku,facility,bin,lot,quantity), booked as count movements: all rows or none."`
	Orders   ImportOrdersCmd   `cmd:"" help:"Import orders from a CSV in Shopify's order export columns or Waybill's own: every row is checked first; each order is created once."`
}

// ExportCmd groups CSV exports.
type ExportCmd struct {
	Products ExportProductsCmd `cmd:"" help:"Export products as a CSV in Shopify's product columns (plus Waybill's own)."`
	Stock    ExportStockCmd    `cmd:"" help:"Export on-hand stock per SKU, facility, bin and lot as a CSV that import stock reads."`
}

// ImportProductsCmd imports a product CSV.
type ImportProductsCmd struct {
	DBFlag
	File   string `arg:"" help:"The CSV file. Standard input (-) will not do: the file is read twice, to check every row and then to import."`
	Tenant string `name:"tenant" required:"" help:"Tenant name or id."`
	DryRun bool   `name:"dry-run" help:"Check the file and count what would change, without writing anything."`
}

func (c *ImportProductsCmd) Run(env *Env) error {
	const op = "cli.import.products"
	if c.File == "-" {
		return errs.E(op, errs.Invalid, "reading the CSV from standard input is not supported: the import reads the file twice (to check every row, then to write), so save it to a file and give its path")
	}
	f, size, err := openCSV(op, c.File)
	if err != nil {
		return err
	}
	defer f.Close()
	a, t, err := env.openTenant(c.DB, c.Tenant)
	if err != nil {
		return err
	}
	defer a.Close()
	opts := catalog.ImportOptions{DryRun: c.DryRun}
	bar := newImportProgress(env.Stderr, size)
	if bar != nil {
		opts.Progress = bar.update
	}
	res, err := a.Catalog.Import(env.Ctx, t.ID, t.Currency, f, opts)
	bar.finish()
	if len(res.Errors) > 0 {
		w := bufio.NewWriter(env.Stderr)
		for _, e := range res.Errors {
			fmt.Fprintln(w, e.Error())
		}
		if res.MoreErrors > 0 {
			fmt.Fprintf(w, "… and %d more errors\n", res.MoreErrors)
		}
		w.Flush()
		n := len(res.Errors) + res.MoreErrors
		return errs.E(op, errs.Invalid, fmt.Sprintf("%s: %d %s; nothing was imported", c.File, n, plural(n, "error", "errors")))
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, importSummary(res, c.DryRun))
	return nil
}

// openCSV opens a file to import and returns its size.
func openCSV(op, path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, errs.E(op, errs.Invalid, err.Error())
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, errs.E(op, errs.Invalid, err.Error())
	}
	if st.IsDir() {
		f.Close()
		return nil, 0, errs.E(op, errs.Invalid, path+" is a directory, not a CSV file")
	}
	return f, st.Size(), nil
}

// importSummary is the one line an import prints, e.g.
// "12 rows: 10 created, 2 updated, 0 unchanged".
func importSummary(r catalog.ImportResult, dryRun bool) string {
	s := fmt.Sprintf("%d %s: %d created, %d updated, %d unchanged", r.Rows, plural(r.Rows, "row", "rows"), r.Created, r.Updated, r.Unchanged)
	if r.Archived > 0 {
		s += fmt.Sprintf(", %d archived", r.Archived)
	}
	if dryRun {
		s += " (dry run: nothing was written)"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// importProgress draws a bar per pass over the file on a terminal.
type importProgress struct {
	w    io.Writer
	size int64
	pass int
	bar  *progressbar.ProgressBar
}

var passNames = []string{"checking", "importing", "importing kits"}

// newImportProgress returns nil unless w is a terminal: a bar in a log
// file or a pipe is noise.
func newImportProgress(w io.Writer, size int64) *importProgress {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok || !term.IsTerminal(int(f.Fd())) || size <= 0 {
		return nil
	}
	return &importProgress{w: w, size: size}
}

// update follows catalog.ImportOptions.Progress: (0, 0) starts a pass.
func (p *importProgress) update(rows int, bytes int64) {
	if rows == 0 && bytes == 0 || p.bar == nil {
		p.finish()
		name := passNames[min(p.pass, len(passNames)-1)]
		p.pass++
		p.bar = progressbar.NewOptions64(p.size, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(name),
			progressbar.OptionShowBytes(true), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
		return
	}
	p.bar.Set64(min(bytes, p.size))
}

func (p *importProgress) finish() {
	if p != nil && p.bar != nil {
		p.bar.Finish()
		p.bar.Clear()
		p.bar = nil
	}
}

// ExportProductsCmd exports products.
type ExportProductsCmd struct {
	DBFlag
	Tenant string `name:"tenant" required:"" help:"Tenant name or id."`
	Out    string `name:"out" short:"o" placeholder:"FILE" help:"Write to FILE (replaced only once the export is complete) instead of standard output."`
	Status string `name:"status" default:"active" enum:"active,archived,any" help:"Which products: active, archived or any."`
}

func (c *ExportProductsCmd) Run(env *Env) error {
	a, t, err := env.openTenant(c.DB, c.Tenant)
	if err != nil {
		return err
	}
	defer a.Close()
	f := catalog.Filter{Status: catalog.Status(c.Status)}
	n, err := writeExport(env, "cli.export.products", c.Out, func(w io.Writer) (int, error) { return a.Catalog.Export(env.Ctx, t.ID, w, f) })
	if err == nil && c.Out != "" && c.Out != "-" {
		fmt.Fprintf(env.Stderr, "exported %d %s to %s\n", n, plural(n, "product", "products"), c.Out)
	}
	return err
}

// writeExport runs export into standard output or, given a file, beside
// the file and renames it into place, so a failed export never leaves half
// a file where the last good one was.
func writeExport(env *Env, op, out string, export func(io.Writer) (int, error)) (int, error) {
	if out == "" || out == "-" {
		w := bufio.NewWriterSize(env.Stdout, 64<<10)
		n, err := export(w)
		if err != nil {
			return n, err
		}
		return n, w.Flush()
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".waybill-export-*.csv")
	if err != nil {
		return 0, errs.E(op, errs.Invalid, err.Error())
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 64<<10)
	n, err := export(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return n, errs.E(op, errs.Internal, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return n, errs.E(op, errs.Invalid, err.Error())
	}
	return n, nil
}

// ImportStockCmd imports a stock CSV.
type ImportStockCmd struct {
	DBFlag
	File   string `arg:"" help:"The CSV file, with the columns sku, facility, bin, lot and quantity; - reads standard input."`
	Tenant string `name:"tenant" required:"" help:"Tenant name or id."`
	DryRun bool   `name:"dry-run" help:"Check the file and count what would change, without writing anything."`
}

func (c *ImportStockCmd) Run(env *Env) error {
	const op = "cli.import.stock"
	in, name, size := env.Stdin, "standard input", int64(0)
	if c.File != "-" {
		f, n, err := openCSV(op, c.File)
		if err != nil {
			return err
		}
		defer f.Close()
		in, name, size = f, c.File, n
	}
	a, t, err := env.openTenant(c.DB, c.Tenant)
	if err != nil {
		return err
	}
	defer a.Close()
	opts := inventory.StockImportOptions{DryRun: c.DryRun, Actor: "cli"}
	bar := newImportProgress(env.Stderr, size)
	if bar != nil {
		opts.Progress = bar.update
	}
	res, err := a.Inventory.ImportStock(env.Ctx, t.ID, in, opts)
	bar.finish()
	if len(res.Errors) > 0 {
		w := bufio.NewWriter(env.Stderr)
		for _, e := range res.Errors {
			fmt.Fprintln(w, e.Error())
		}
		if res.MoreErrors > 0 {
			fmt.Fprintf(w, "… and %d more errors\n", res.MoreErrors)
		}
		w.Flush()
		n := len(res.Errors) + res.MoreErrors
		return errs.E(op, errs.KindOf(err), fmt.Sprintf("%s: %d %s; nothing was imported", name, n, plural(n, "error", "errors")))
	}
	if err != nil {
		return err
	}
	s := fmt.Sprintf("%d %s: %d changed, %d unchanged", res.Rows, plural(res.Rows, "row", "rows"), res.Changed, res.Unchanged)
	if c.DryRun {
		s += " (dry run: nothing was written)"
	}
	fmt.Fprintln(env.Stdout, s)
	return nil
}

// ExportStockCmd exports on-hand stock.
type ExportStockCmd struct {
	DBFlag
	Tenant   string `name:"tenant" required:"" help:"Tenant name or id."`
	Facility string `name:"facility" placeholder:"CODE" help:"Only this facility's stock."`
	Out      string `name:"out" short:"o" placeholder:"FILE" help:"Write to FILE (replaced only once the export is complete) instead of standard output."`
}

func (c *ExportStockCmd) Run(env *Env) error {
	const op = "cli.export.stock"
	a, t, err := env.openTenant(c.DB, c.Tenant)
	if err != nil {
		return err
	}
	defer a.Close()
	facilityID := ""
	if c.Facility != "" {
		f, err := a.Inventory.FacilityByCode(env.Ctx, t.ID, c.Facility)
		if errs.Is(errs.NotExist, err) {
			return errs.E(op, errs.Invalid, "no facility has the code "+c.Facility)
		}
		if err != nil {
			return err
		}
		facilityID = f.ID
	}
	n, err := writeExport(env, op, c.Out, func(w io.Writer) (int, error) { return a.Inventory.ExportStock(env.Ctx, t.ID, w, facilityID) })
	if err == nil && c.Out != "" && c.Out != "-" {
		fmt.Fprintf(env.Stderr, "exported %d stock %s to %s\n", n, plural(n, "row", "rows"), c.Out)
	}
	return err
}
