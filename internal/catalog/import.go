package catalog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
)

// ImportOptions adjust an import.
type ImportOptions struct {
	// DryRun checks the file and counts what would change, writing nothing.
	DryRun bool
	// Progress, when set, is called with (0, 0) as each pass over the file
	// begins — the first checks every row, the second writes the products,
	// a third writes the kits when the file has any — and then every so
	// often with the rows handled and the bytes read in that pass.
	Progress func(rowsDone int, bytesRead int64)
}

// ImportResult says what an import did, or why it did nothing.
type ImportResult struct {
	Rows      int // product rows (SKUs) in the file
	Created   int
	Updated   int
	Unchanged int
	Archived  int // products the import archived (Status archived)
	// Errors, when there are any, are why nothing was imported: at most
	// MaxImportErrors of them, in row order; MoreErrors counts the rest.
	Errors     []RowError
	MoreErrors int
}

const (
	// MaxImportErrors bounds the errors an import lists.
	MaxImportErrors = 1000
	// importBatch is how many rows are looked up, and written in one
	// transaction, at a time.
	importBatch = 500
	exportPage  = 500
)

// Import reads a product CSV (see ProductReader) and creates the SKUs the
// catalogue lacks and updates those it has; columns the file lacks leave
// the stored values as they are. It is all or nothing for the file's
// content: a first pass checks every row (and kit components, and barcodes
// against other products) and, if anything is wrong, writes nothing and
// returns the row errors, both in the result and as an Invalid error whose
// fields are "row[17].Variant Barcode". A second pass writes, 500 products
// to a transaction, kits after the products they contain.
//
// Importing the same file again changes nothing (every row is Unchanged).
// A failure while writing (the database going away, or the same SKUs
// being edited at the same moment) can leave earlier batches written;
// running the import again completes it.
//
// The file is read more than once, so r must seek; memory grows only with
// the number of SKUs and barcodes in the file, not with its size.
func (s *Service) Import(ctx context.Context, tenantID, defaultCurrency string, r io.ReadSeeker, opts ImportOptions) (ImportResult, error) {
	const op = "catalog.Import"
	im := &importer{s: s, ctx: ctx, tenantID: tenantID, currency: defaultCurrency, r: r, opts: opts,
		skus: map[string]fileSKU{}, barcodes: map[string]barcodeUse{}, uses: map[string]componentUse{}}
	if err := im.check(); err != nil {
		return im.res, errs.E(op, err)
	}
	if len(im.res.Errors) > 0 {
		return im.res, im.invalid(op)
	}
	if opts.DryRun {
		return im.res, nil
	}
	// Count again while writing: the first pass's counts were a forecast.
	im.res.Created, im.res.Updated, im.res.Unchanged, im.res.Archived = 0, 0, 0, 0
	if err := im.write(false); err != nil {
		return im.res, errs.E(op, err)
	}
	if im.kits > 0 {
		if err := im.write(true); err != nil {
			return im.res, errs.E(op, err)
		}
	}
	return im.res, nil
}

// importer is one run of Import.
type importer struct {
	s                  *Service
	ctx                context.Context
	tenantID, currency string
	r                  io.ReadSeeker
	opts               ImportOptions
	res                ImportResult
	kits               int

	// What the first pass learns of the file, to check references between
	// rows once it has seen them all.
	skus     map[string]fileSKU
	barcodes map[string]barcodeUse
	uses     map[string]componentUse // kit components, by SKU
}

type fileSKU struct {
	row      int
	kit      bool // after the import
	archived bool // after the import
	invalid  bool // the row has errors already
	stored   bool // the catalogue had the SKU when the file was checked
}

type barcodeUse struct {
	row      int
	sku, col string
}

type componentUse struct {
	row  int
	col  string
	more int // other rows using the same SKU
}

// open starts a pass over the file.
func (im *importer) open() (*ProductReader, error) {
	if _, err := im.r.Seek(0, io.SeekStart); err != nil {
		return nil, errs.E("catalog.importer", errs.Internal, "cannot read the file from the start", err)
	}
	im.progress(0, 0)
	return NewProductReader(im.r, im.currency)
}

func (im *importer) progress(rows int, bytes int64) {
	if im.opts.Progress != nil {
		im.opts.Progress(rows, bytes)
	}
}

func (im *importer) addErrors(es ...RowError) {
	for _, e := range es {
		if len(im.res.Errors) < MaxImportErrors {
			im.res.Errors = append(im.res.Errors, e)
		} else {
			im.res.MoreErrors++
		}
	}
}

// invalid is the error of a file with row errors.
func (im *importer) invalid(op string) error {
	n := len(im.res.Errors) + im.res.MoreErrors
	msg := fmt.Sprintf("the file has %d errors; nothing was imported", n)
	if n == 1 {
		msg = "the file has 1 error; nothing was imported"
	}
	if im.res.MoreErrors > 0 {
		msg += fmt.Sprintf(" (the first %d are listed)", len(im.res.Errors))
	}
	fields := make([]errs.FieldError, len(im.res.Errors))
	for i, e := range im.res.Errors {
		f := fmt.Sprintf("row[%d]", e.Row)
		if e.Column != "" {
			f += "." + e.Column
		}
		fields[i] = errs.FieldError{Field: f, Message: e.Message}
	}
	return errs.WithCode(errs.E(op, errs.Invalid, msg, fields), "invalid_csv")
}

// check is the first pass: every row, then the references between rows
// and to the catalogue. It returns only errors that stop the import from
// being checked at all; row errors go to im.res.Errors.
func (im *importer) check() error {
	pr, err := im.open()
	var re RowErrors
	if errors.As(err, &re) {
		im.addErrors(re...)
		return nil
	}
	if err != nil {
		return err
	}
	batch := make([]ProductRow, 0, importBatch)
	flush := func() error {
		err := im.checkBatch(batch)
		batch = batch[:0]
		im.progress(im.res.Rows, pr.BytesRead())
		return err
	}
	for {
		row, err := pr.Next()
		if err == io.EOF {
			break
		}
		if errors.As(err, &re) {
			im.addErrors(re...)
			if row.SKU != "" {
				im.res.Rows++
				if _, ok := im.skus[row.SKU]; !ok {
					im.skus[row.SKU] = fileSKU{row: row.Row, invalid: true}
				}
			}
			if im.res.Rows%1000 == 0 {
				if err := im.ctx.Err(); err != nil {
					return errs.E("catalog.importer", errs.Transient, err)
				}
			}
			continue
		}
		if err != nil {
			return errs.E("catalog.importer", errs.Invalid, "cannot read the file", err)
		}
		im.res.Rows++
		batch = append(batch, row)
		if len(batch) == importBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if err := im.checkComponents(); err != nil {
		return err
	}
	if err := im.checkBarcodes(); err != nil {
		return err
	}
	slices.SortStableFunc(im.res.Errors, func(a, b RowError) int { return cmp.Compare(a.Row, b.Row) })
	return nil
}

// prepared is one row merged with the stored product of its SKU.
type prepared struct {
	row  ProductRow
	cur  *Product // nil for a new SKU
	p    Product  // the product the row describes, validated
	errs RowErrors
}

// prepare looks up the batch's SKUs and validates each row over the
// stored product (columns the file lacks keep their stored values). The
// writing passes look up only the SKUs the check found stored: new ones
// need no lookup, which is most of a first import.
func (im *importer) prepare(batch []ProductRow, checked bool) ([]prepared, error) {
	skus := make([]string, 0, len(batch))
	for _, r := range batch {
		if !checked || im.skus[r.SKU].stored {
			skus = append(skus, r.SKU)
		}
	}
	cur, err := im.s.store.ProductsBySKU(im.ctx, im.tenantID, skus)
	if err != nil {
		return nil, err
	}
	out := make([]prepared, len(batch))
	for i, row := range batch {
		out[i].row = row
		base := Draft{}
		if c, ok := cur[row.SKU]; ok {
			base = DraftOf(c)
			out[i].cur = &c
		}
		p, err := row.Draft(base).Validate(im.currency)
		if err != nil {
			out[i].errs = row.rowErrors(err)
			continue
		}
		out[i].p = p
	}
	return out, nil
}

func (im *importer) checkBatch(batch []ProductRow) error {
	if len(batch) == 0 {
		return nil
	}
	preps, err := im.prepare(batch, false)
	if err != nil {
		return err
	}
	now := im.s.now()
	for i := range preps {
		pp := &preps[i]
		row, p := pp.row, pp.p
		if pp.errs != nil {
			im.addErrors(pp.errs...)
			im.skus[row.SKU] = fileSKU{row: row.Row, invalid: true}
			continue
		}
		planned, outcome, archiving := plan(pp, im.tenantID, now)
		im.count(outcome, archiving)
		im.skus[p.SKU] = fileSKU{row: row.Row, kit: p.IsKit(), archived: planned.ArchivedAt != nil, stored: pp.cur != nil}
		if p.IsKit() {
			im.kits++
			// A product turning into a kit must not be inside a kit.
			if pp.cur != nil && !pp.cur.IsKit() {
				kits, err := im.s.store.KitsUsing(im.ctx, im.tenantID, pp.cur.ID)
				if err != nil {
					return err
				}
				if len(kits) > 0 {
					im.addErrors(RowError{Row: row.Row, Column: row.col(cKitComponents),
						Message: "this product is a component of " + strings.Join(kits, ", ") + "; kits cannot contain kits"})
				}
			}
		}
		for _, b := range p.Barcodes {
			if u, ok := im.barcodes[b.Code]; ok && u.sku != p.SKU {
				im.addErrors(RowError{Row: row.Row, Column: row.col(cBarcode), Message: fmt.Sprintf("%q is also on row %d (SKU %s); a barcode belongs to one product", b.Code, u.row, u.sku)})
				continue
			}
			im.barcodes[b.Code] = barcodeUse{row: row.Row, sku: p.SKU, col: row.col(cBarcode)}
		}
		// Components are checked as Create and Update check them, so only
		// for kits whose components change: a kit made before one of its
		// components was archived still re-imports from its own export.
		if pp.cur != nil && sameComponents(pp.cur.Components, p.Components) {
			continue
		}
		for _, c := range p.Components {
			if u, ok := im.uses[c.SKU]; ok {
				u.more++
				im.uses[c.SKU] = u
				continue
			}
			im.uses[c.SKU] = componentUse{row: row.Row, col: row.col(cKitComponents)}
		}
	}
	return nil
}

func (im *importer) count(o outcome, archiving bool) {
	switch o {
	case created:
		im.res.Created++
	case updated:
		im.res.Updated++
	case unchanged:
		im.res.Unchanged++
	}
	if archiving {
		im.res.Archived++
	}
}

// checkComponents checks that every kit component is a product that is
// not a kit and not archived, in the file or else in the catalogue.
func (im *importer) checkComponents() error {
	used := func(sku string, u componentUse, msg string) {
		if u.more > 0 {
			msg += fmt.Sprintf(" (used on %d more rows)", u.more)
		}
		im.addErrors(RowError{Row: u.row, Column: u.col, Message: msg})
	}
	var lookup []string
	for sku, u := range im.uses {
		f, ok := im.skus[sku]
		switch {
		case !ok:
			lookup = append(lookup, sku)
		case f.invalid:
		case f.kit:
			used(sku, u, fmt.Sprintf("%s is a kit itself (row %d); kits cannot contain kits", sku, f.row))
		case f.archived:
			used(sku, u, fmt.Sprintf("%s is archived (row %d); a kit needs active components", sku, f.row))
		}
	}
	slices.Sort(lookup)
	for chunk := range slices.Chunk(lookup, importBatch) {
		refs, err := im.s.store.ProductIDsBySKU(im.ctx, im.tenantID, chunk)
		if err != nil {
			return err
		}
		for _, sku := range chunk {
			ref, ok := refs[sku]
			u := im.uses[sku]
			switch {
			case !ok:
				used(sku, u, "no product has SKU "+sku+", in this file or in the catalogue")
			case ref.IsKit:
				used(sku, u, sku+" is a kit; kits cannot contain kits")
			case ref.Archived:
				used(sku, u, sku+" is archived; a kit needs active components")
			}
		}
	}
	return nil
}

// checkBarcodes checks that no barcode in the file belongs to a product
// that keeps it. One that belongs to another SKU of the same file moves,
// since that SKU's row no longer lists it.
func (im *importer) checkBarcodes() error {
	codes := make([]string, 0, len(im.barcodes))
	for c := range im.barcodes {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for chunk := range slices.Chunk(codes, importBatch) {
		owners, err := im.s.store.BarcodeOwners(im.ctx, im.tenantID, chunk)
		if err != nil {
			return err
		}
		for _, code := range chunk {
			owner, ok := owners[code]
			u := im.barcodes[code]
			if _, inFile := im.skus[owner]; ok && owner != u.sku && !inFile {
				im.addErrors(RowError{Row: u.row, Column: u.col, Message: fmt.Sprintf("%q belongs to SKU %s", code, owner)})
			}
		}
	}
	return nil
}

type outcome int

const (
	unchanged outcome = iota
	created
	updated
)

// plan decides what becomes of one checked row: the product to write, and
// whether that creates, updates or leaves it, and archives it.
func plan(pp *prepared, tenantID string, now time.Time) (Product, outcome, bool) {
	p := pp.p
	p.TenantID = tenantID
	if pp.cur == nil {
		p.ID, p.CreatedAt, p.UpdatedAt = id.New("prod"), now, now
		if pp.row.Status == Archived {
			p.ArchivedAt = &now
			return p, created, true
		}
		return p, created, false
	}
	c := pp.cur
	p.ID, p.CreatedAt, p.UpdatedAt, p.ArchivedAt = c.ID, c.CreatedAt, c.UpdatedAt, c.ArchivedAt
	archiving := false
	switch pp.row.Status {
	case Archived:
		if c.ArchivedAt == nil {
			p.ArchivedAt, archiving = &now, true
		}
	case Active:
		p.ArchivedAt = nil
	}
	if sameProduct(*c, p) && (c.ArchivedAt == nil) == (p.ArchivedAt == nil) {
		return p, unchanged, false
	}
	p.UpdatedAt = now
	return p, updated, archiving
}

// sameProduct reports whether a and b have the same editable fields.
func sameProduct(a, b Product) bool {
	eq := func(x, y *int64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	return a.SKU == b.SKU && a.Name == b.Name && a.Description == b.Description && a.Vendor == b.Vendor &&
		a.ProductType == b.ProductType && a.WeightG == b.WeightG && a.LengthMM == b.LengthMM && a.WidthMM == b.WidthMM &&
		a.HeightMM == b.HeightMM && a.Currency == b.Currency && eq(a.Price, b.Price) && eq(a.Cost, b.Cost) &&
		a.HSCode == b.HSCode && a.CountryOfOrigin == b.CountryOfOrigin && a.AllowBackorder == b.AllowBackorder &&
		a.LotTracked == b.LotTracked && a.SerialTracked == b.SerialTracked &&
		slices.EqualFunc(a.Barcodes, b.Barcodes, func(x, y Barcode) bool { return x.Code == y.Code && x.Kind == y.Kind }) &&
		slices.Equal(sorted(a.Tags), sorted(b.Tags)) && sameComponents(a.Components, b.Components)
}

func sameComponents(a, b []Component) bool {
	return slices.EqualFunc(a, b, func(x, y Component) bool { return x.SKU == y.SKU && x.Quantity == y.Quantity })
}

// write is a writing pass: plain products, or kits.
func (im *importer) write(kits bool) error {
	pr, err := im.open()
	if err != nil {
		return changedFile(err)
	}
	batch := make([]ProductRow, 0, importBatch)
	done := 0
	flush := func() error {
		err := im.writeBatch(batch, kits)
		done += len(batch)
		batch = batch[:0]
		im.progress(done, pr.BytesRead())
		return err
	}
	for {
		row, err := pr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return changedFile(err)
		}
		if im.skus[row.SKU].kit != kits {
			continue
		}
		batch = append(batch, row)
		if len(batch) == importBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// changedFile is the error of a row that passed the check and then failed.
func changedFile(err error) error {
	var re RowErrors
	if errors.As(err, &re) {
		return errs.E("catalog.importer", errs.Conflict, "the file changed while it was imported: "+re.Error(), err)
	}
	return err
}

func (im *importer) writeBatch(batch []ProductRow, kits bool) error {
	if len(batch) == 0 {
		return nil
	}
	preps, err := im.prepare(batch, true)
	if err != nil {
		return err
	}
	now := im.s.now()
	var create, update []Product
	var comps []string
	for i := range preps {
		pp := &preps[i]
		if pp.errs != nil {
			return errs.E("catalog.importer", errs.Conflict, "the catalogue changed while the file was imported: "+pp.errs.Error())
		}
		if pp.p.IsKit() != kits {
			return errs.E("catalog.importer", errs.Conflict, fmt.Sprintf("the catalogue changed while the file was imported: row %d, SKU %s", pp.row.Row, pp.row.SKU))
		}
		p, o, archiving := plan(pp, im.tenantID, now)
		im.count(o, archiving)
		switch o {
		case created:
			create = append(create, p)
		case updated:
			update = append(update, p)
		}
		if o != unchanged {
			for _, c := range p.Components {
				comps = append(comps, c.SKU)
			}
		}
	}
	if len(comps) > 0 {
		slices.Sort(comps)
		comps = slices.Compact(comps)
		refs := map[string]SKURef{}
		for chunk := range slices.Chunk(comps, importBatch) {
			got, err := im.s.store.ProductIDsBySKU(im.ctx, im.tenantID, chunk)
			if err != nil {
				return err
			}
			for k, v := range got {
				refs[k] = v
			}
		}
		for _, ps := range [][]Product{create, update} {
			for i := range ps {
				for j := range ps[i].Components {
					c := &ps[i].Components[j]
					ref, ok := refs[c.SKU]
					if !ok || ref.IsKit {
						return errs.E("catalog.importer", errs.Conflict, "the catalogue changed while the file was imported: kit "+ps[i].SKU+" needs "+c.SKU)
					}
					c.ProductID = ref.ID
				}
			}
		}
	}
	return im.s.store.WriteProducts(im.ctx, im.tenantID, create, update)
}

// Export writes the products f selects (all pages; f.Status defaults to
// Active) as a product CSV to w, a page of 500 at a time, and returns how
// many it wrote.
func (s *Service) Export(ctx context.Context, tenantID string, w io.Writer, f Filter) (int, error) {
	const op = "catalog.Export"
	if f.Status == "" {
		f.Status = Active
	}
	f.Limit = exportPage
	pw := NewProductWriter(w)
	n := 0
	for {
		ps, err := s.store.ListProducts(ctx, tenantID, f)
		if err != nil {
			return n, errs.E(op, err)
		}
		for _, p := range ps {
			if err := pw.Write(p); err != nil {
				return n, errs.E(op, err)
			}
			n++
		}
		if len(ps) < f.Limit {
			break
		}
		f.After = ps[len(ps)-1].ID
	}
	if err := pw.Flush(); err != nil {
		return n, errs.E(op, err)
	}
	return n, nil
}
