package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/waybill/waybill/internal/channels/ordercsv"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

// ImportOrdersCmd imports an order CSV.
type ImportOrdersCmd struct {
	DBFlag
	File      string `arg:"" help:"The CSV file (read twice: to check every row, then to import)."`
	Tenant    string `name:"tenant" required:"" help:"Tenant name or id."`
	DryRun    bool   `name:"dry-run" help:"Check the file without writing anything."`
	MaxErrors int    `name:"max-errors" default:"100" help:"Stop checking after this many problems."`
}

// countingReader counts what was read, for the progress bar.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *ImportOrdersCmd) Run(env *Env) error {
	const op = "cli.import.orders"
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
	bar := newImportProgress(env.Stderr, size)
	pass := func() (*countingReader, func(int)) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, nil
		}
		cr := &countingReader{r: f}
		if bar == nil {
			return cr, nil
		}
		bar.update(0, 0)
		return cr, func(rows int) { bar.update(rows, cr.n.Load()) }
	}
	// Pass 1: every row, against the catalogue too, before anything is written.
	known := map[string]bool{}
	check := func(in order.Input) error {
		if err := order.Check(in); err != nil {
			return err
		}
		var fe errs.FieldList
		var unknown []string
		for _, l := range in.Lines {
			if _, seen := known[l.SKU]; !seen {
				unknown = append(unknown, l.SKU)
			}
		}
		if len(unknown) > 0 {
			items, err := a.Inventory.Items(env.Ctx, t.ID, unknown)
			if err != nil {
				return err
			}
			for _, sku := range unknown {
				it, ok := items[sku]
				known[sku] = ok && !it.Archived
			}
		}
		for i, l := range in.Lines {
			if !known[l.SKU] {
				fe.Add(fmt.Sprintf("lines[%d].sku", i), "no active product has this SKU", l.SKU)
			}
		}
		return fe.Err(op)
	}
	cr, progress := pass()
	orders, rows, problems, err := ordercsv.Check(cr, check, c.MaxErrors, progress)
	bar.finish()
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		w := bufio.NewWriter(env.Stderr)
		for _, p := range problems {
			fmt.Fprintln(w, p.Error())
		}
		w.Flush()
		return errs.E(op, errs.Invalid, fmt.Sprintf("%s: %d %s; nothing was imported", c.File, len(problems), plural(len(problems), "problem", "problems")))
	}
	if c.DryRun {
		fmt.Fprintf(env.Stdout, "%d %s, %d %s: all good (dry run: nothing was written)\n", rows, plural(rows, "row", "rows"), orders, plural(orders, "order", "orders"))
		return nil
	}
	// Pass 2: each order is created once; one already there is left as it is.
	cr, progress = pass()
	res, err := ordercsv.Import(env.Ctx, cr, func(ctx context.Context, in order.Input) (bool, error) {
		_, created, err := a.Orders.Create(ctx, t.ID, in, "cli:import")
		return created, err
	}, progress)
	bar.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%d %s, %d %s: %d created, %d already there\n", res.Rows, plural(res.Rows, "row", "rows"), res.Orders, plural(res.Orders, "order", "orders"), res.Created, res.Existing)
	return nil
}
