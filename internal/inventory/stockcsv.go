package inventory

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/csvcell"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/id"
)

// A stock CSV says how much of each SKU is at each facility, bin and lot:
//
//	sku,facility,bin,lot,quantity
//	MUG-ENM-WHT,DEN,A-03-2-B,,140
//	STOVE-TI,EU-3PL,,L2409,32
//
// Headers match case-insensitively and in any order; bin and lot may be
// left out (or empty: the facility's unassigned location, no lot).

// Stock CSV columns.
const (
	colSKU = iota
	colFacility
	colBin
	colLot
	colQuantity
	stockColumnCount
)

var stockColumns = [stockColumnCount]string{"sku", "facility", "bin", "lot", "quantity"}

// StockColumns returns the header of a stock CSV, in order.
func StockColumns() []string { return slices.Clone(stockColumns[:]) }

// StockRow is one row of a stock CSV: the on hand of a SKU at a location.
type StockRow struct {
	Row      int // as a spreadsheet numbers it: the header is row 1
	SKU      string
	Facility string // code
	Bin      string // code; "" is the facility's unassigned location
	Lot      string
	Quantity int64
}

// RowError is one problem in one row of a CSV file. Rows are numbered as
// a spreadsheet shows them: the header is row 1.
type RowError struct {
	Row     int
	Column  string // as the file's header spells it; "" when the row as a whole is wrong
	Message string
}

func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("row %d: %s", e.Row, e.Message)
	}
	return fmt.Sprintf("row %d, %s: %s", e.Row, e.Column, e.Message)
}

// RowErrors are the problems of one row (or of the header).
type RowErrors []RowError

func (es RowErrors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

// maxQuantity bounds a quantity, as adjustments and counts do.
const maxQuantity = 1_000_000_000

// StockReader reads a stock CSV.
type StockReader struct {
	cr    *csv.Reader
	count *countingReader
	idx   [stockColumnCount]int
	names [stockColumnCount]string
	row   int
	done  bool
}

// NewStockReader reads the header of a stock CSV; a UTF-8 byte order mark
// is skipped. A header that cannot be used is RowErrors (row 1).
func NewStockReader(r io.Reader) (*StockReader, error) {
	count := &countingReader{r: r}
	br := bufio.NewReaderSize(count, 64<<10)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // spreadsheets drop trailing empty cells
	cr.ReuseRecord = true
	sr := &StockReader{cr: cr, count: count, names: stockColumns}
	for i := range sr.idx {
		sr.idx[i] = -1
	}
	header, err := cr.Read()
	sr.row = 1
	if err == io.EOF {
		return nil, RowErrors{{Row: 1, Message: "the file is empty; a stock CSV starts with the header sku,facility,bin,lot,quantity"}}
	}
	if err != nil {
		return nil, stockCSVError(1, err)
	}
	var es RowErrors
	for i, h := range header {
		h = strings.TrimSpace(csvcell.Restore(h))
		c := slices.IndexFunc(stockColumns[:], func(name string) bool { return strings.EqualFold(h, name) })
		switch {
		case c < 0:
			msg := "unknown column; the columns are sku, facility, bin, lot and quantity"
			if len(header) == 1 && strings.ContainsAny(h, ";\t") {
				msg += " (separated by commas)"
			}
			es = append(es, RowError{Row: 1, Column: h, Message: msg})
		case sr.idx[c] >= 0:
			es = append(es, RowError{Row: 1, Column: h, Message: "this column appears twice"})
		default:
			sr.idx[c], sr.names[c] = i, h
		}
	}
	for _, c := range []int{colSKU, colFacility, colQuantity} {
		if sr.idx[c] < 0 && len(es) == 0 {
			es = append(es, RowError{Row: 1, Message: "the file has no " + stockColumns[c] + " column; the columns are sku, facility, bin, lot and quantity"})
		}
	}
	if len(es) > 0 {
		return nil, es
	}
	return sr, nil
}

// BytesRead is how much of the file has been read, for progress reports.
func (sr *StockReader) BytesRead() int64 { return sr.count.n }

// Next returns the next row; at the end of the file, io.EOF. A wrong row
// comes back as RowErrors together with its Row, and reading may go on; a
// file that is not CSV (a stray quote) ends reading with RowErrors. Rows
// whose cells are all empty are skipped.
func (sr *StockReader) Next() (StockRow, error) {
	for {
		if sr.done {
			return StockRow{}, io.EOF
		}
		rec, err := sr.cr.Read()
		if err == io.EOF {
			sr.done = true
			return StockRow{}, io.EOF
		}
		sr.row++
		if err != nil {
			sr.done = true
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return StockRow{Row: sr.row}, stockCSVError(sr.row, err)
			}
			return StockRow{}, err
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue
		}
		return sr.parse(rec)
	}
}

func (sr *StockReader) parse(rec []string) (StockRow, error) {
	row := StockRow{Row: sr.row}
	var es RowErrors
	cell := func(c int) string {
		i := sr.idx[c]
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(csvcell.Restore(rec[i]))
	}
	fail := func(c int, msg string) { es = append(es, RowError{Row: row.Row, Column: sr.names[c], Message: msg}) }
	row.SKU, row.Facility, row.Bin, row.Lot = cell(colSKU), cell(colFacility), cell(colBin), cell(colLot)
	if row.SKU == "" {
		fail(colSKU, "is required")
	}
	if row.Facility == "" {
		fail(colFacility, "is required (a facility code)")
	}
	if !utf8.ValidString(row.SKU + row.Facility + row.Bin + row.Lot) {
		es = append(es, RowError{Row: row.Row, Message: "is not valid UTF-8; save the file as UTF-8"})
	}
	if utf8.RuneCountInString(row.Lot) > 100 {
		fail(colLot, "must be at most 100 characters")
	}
	q := cell(colQuantity)
	n, err := strconv.ParseInt(q, 10, 64)
	switch {
	case q == "":
		fail(colQuantity, "is required (the units there now; 0 when none)")
	case err != nil || q[0] == '+' || n < 0 || n > maxQuantity:
		fail(colQuantity, fmt.Sprintf("%q: must be a whole number from 0 to %d", q, maxQuantity))
	default:
		row.Quantity = n
	}
	if len(es) > 0 {
		return row, es
	}
	return row, nil
}

// stockCSVError reports a CSV syntax error, which ends reading: after a
// stray quote nothing more can be trusted.
func stockCSVError(row int, err error) RowErrors {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return RowErrors{{Row: row, Message: fmt.Sprintf("not valid CSV at line %d, column %d: %v (a double quote inside a cell must be doubled, and the cell quoted)", pe.Line, pe.Column, pe.Err)}}
	}
	return RowErrors{{Row: row, Message: err.Error()}}
}

// StockWriter writes a stock CSV, UTF-8, with formula-like cells
// neutralised (csvcell).
type StockWriter struct {
	cw  *csv.Writer
	rec []string
}

// NewStockWriter starts a stock CSV on w with its header row.
func NewStockWriter(w io.Writer) *StockWriter {
	sw := &StockWriter{cw: csv.NewWriter(w), rec: make([]string, stockColumnCount)}
	sw.cw.Write(StockColumns())
	return sw
}

// Write adds one row.
func (sw *StockWriter) Write(r StockRow) error {
	sw.rec[colSKU], sw.rec[colFacility], sw.rec[colBin], sw.rec[colLot] = r.SKU, r.Facility, r.Bin, r.Lot
	sw.rec[colQuantity] = strconv.FormatInt(r.Quantity, 10)
	for i := range sw.rec {
		sw.rec[i] = csvcell.Neutralize(sw.rec[i])
	}
	return sw.cw.Write(sw.rec)
}

// Flush writes out what is buffered and reports any error of the writes.
func (sw *StockWriter) Flush() error {
	sw.cw.Flush()
	return sw.cw.Error()
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ExportStock writes a stock CSV of what is on hand now, one row per SKU,
// facility, bin and lot with stock, of one facility or (facilityID "") all,
// from one consistent read. It returns the rows written. Importing the
// export changes nothing.
func (s *Service) ExportStock(ctx context.Context, tenantID string, w io.Writer, facilityID string) (int, error) {
	sw := NewStockWriter(w)
	n := 0
	err := s.store.EachLocation(ctx, tenantID, facilityID, func(l Location) error {
		n++
		return sw.Write(StockRow{SKU: l.SKU, Facility: l.FacilityCode, Bin: l.BinCode, Lot: l.Lot, Quantity: l.OnHand})
	})
	if err == nil {
		err = sw.Flush()
	}
	if err != nil {
		return n, errs.E("inventory.ExportStock", err)
	}
	return n, nil
}

// StockImportOptions adjust a stock import.
type StockImportOptions struct {
	// DryRun checks the file and counts what would change, writing nothing.
	DryRun bool
	// Actor names who imported, for the ledger ("user:…", "key:…").
	Actor string
	// Progress, when set, is called with (0, 0) as each pass begins (the
	// first reads and checks every row, the second books the counts) and
	// then every so often with the rows done and the bytes of the file read
	// up to the last of them.
	Progress func(rowsDone int, bytesRead int64)
}

// StockImportResult says what a stock import did, or why it did nothing.
type StockImportResult struct {
	Rows      int // rows in the file
	Changed   int // rows whose location held another quantity: each one count movement
	Unchanged int
	// Errors, when there are any, are why nothing was imported: at most
	// MaxImportErrors of them, in row order; MoreErrors counts the rest.
	Errors     []RowError
	MoreErrors int
}

const (
	// MaxImportErrors bounds the errors an import lists.
	MaxImportErrors = 1000
	// MaxStockImportRows bounds a stock CSV: it is imported in one
	// transaction.
	MaxStockImportRows = 100_000
	// countLines is how many rows of a facility make one count (one
	// inventory.counted event), as POST /inventory/counts allows.
	countLines = 2000
)

var (
	errDryRun    = errors.New("dry run: roll back")
	errStockRows = errors.New("stock rows refused: roll back")
)

// ImportStock sets the on hand of each SKU, facility, bin and lot the file
// names to its quantity, through the count path: each difference becomes a
// count movement (reason "stock import"), each facility's rows are counts
// of up to 2000 rows, and each count that changed something emits
// inventory.counted. Locations the file does not name keep their stock.
//
// It is all or nothing: every row is checked first (the SKU, facility and
// bin must exist, a location may appear once), and the whole file is then
// booked in one transaction that also refuses, row by row, to leave less on
// hand than is reserved. Wrong rows come back in the result and as an
// Invalid error (code invalid_csv; a Conflict with code insufficient_stock
// for reserved stock) whose fields are "row[7].quantity". Importing the same
// file again changes nothing and emits nothing.
func (s *Service) ImportStock(ctx context.Context, tenantID string, r io.Reader, opts StockImportOptions) (StockImportResult, error) {
	const op = "inventory.ImportStock"
	im := &stockImport{s: s, tenantID: tenantID, opts: opts}
	if err := im.read(r); err != nil {
		return im.res, errs.E(op, err)
	}
	if err := im.resolve(ctx); err != nil {
		return im.res, errs.E(op, err)
	}
	if len(im.res.Errors) > 0 {
		slices.SortStableFunc(im.res.Errors, func(a, b RowError) int { return a.Row - b.Row })
		return im.res, im.refusal(op, errs.Invalid, "invalid_csv")
	}
	im.res.Rows = len(im.lines)
	if len(im.lines) == 0 {
		return im.res, nil
	}
	err := s.store.InTx(ctx, func(tx Tx) error { return im.write(ctx, tx) })
	switch {
	case errors.Is(err, errStockRows):
		return im.res, im.refusal(op, errs.Conflict, ErrCodeInsufficient)
	case errors.Is(err, errDryRun):
	case err != nil:
		return im.res, errs.E(op, err)
	}
	return im.res, nil
}

// stockImport is one run of ImportStock.
type stockImport struct {
	s        *Service
	tenantID string
	opts     StockImportOptions
	res      StockImportResult
	cols     [stockColumnCount]string // the columns as the file's header spells them
	rows     []StockRow               // as read
	bytes    []int64                  // the file read up to each row, for progress
	lines    []importLine             // resolved, in file order
}

type importLine struct {
	row   int
	bytes int64
	fac   Facility
	countItem
}

func (im *stockImport) progress(rows int, bytes int64) {
	if im.opts.Progress != nil {
		im.opts.Progress(rows, bytes)
	}
}

func (im *stockImport) addErrors(es ...RowError) {
	for _, e := range es {
		if len(im.res.Errors) < MaxImportErrors {
			im.res.Errors = append(im.res.Errors, e)
		} else {
			im.res.MoreErrors++
		}
	}
}

// refusal is the error of a file with row errors.
func (im *stockImport) refusal(op string, kind errs.Kind, code string) error {
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
	return errs.WithCode(errs.E(op, kind, msg, fields), code)
}

// read is the first pass: every row, checked on its own.
func (im *stockImport) read(r io.Reader) error {
	im.progress(0, 0)
	sr, err := NewStockReader(r)
	var re RowErrors
	if errors.As(err, &re) {
		im.addErrors(re...)
		return nil
	}
	if err != nil {
		return err
	}
	im.cols = sr.names
	for {
		row, err := sr.Next()
		if err == io.EOF {
			return nil
		}
		if errors.As(err, &re) {
			im.addErrors(re...)
			continue
		}
		if err != nil {
			return errs.E("inventory.ImportStock", errs.Invalid, "cannot read the file: "+err.Error())
		}
		if len(im.rows) == MaxStockImportRows {
			im.addErrors(RowError{Row: row.Row, Message: fmt.Sprintf("the file has more than %d rows; split it into several files", MaxStockImportRows)})
			return nil
		}
		im.rows = append(im.rows, row)
		im.bytes = append(im.bytes, sr.BytesRead())
		if len(im.rows)%1000 == 0 {
			im.progress(len(im.rows), sr.BytesRead())
		}
	}
}

// resolve finds each row's SKU, facility and bin, and refuses a location
// listed twice.
func (im *stockImport) resolve(ctx context.Context) error {
	s, tenantID := im.s, im.tenantID
	var skus []string
	for _, r := range im.rows {
		skus = append(skus, r.SKU)
	}
	slices.Sort(skus)
	items := map[string]Item{}
	for chunk := range slices.Chunk(slices.Compact(skus), lockChunk) {
		m, err := s.store.Items(ctx, tenantID, chunk)
		if err != nil {
			return err
		}
		for k, v := range m {
			items[k] = v
		}
	}
	facs, err := s.store.ListFacilities(ctx, tenantID)
	if err != nil {
		return err
	}
	byCode := map[string]Facility{}
	for _, f := range facs {
		byCode[f.Code] = f
	}
	type binKey struct{ facilityID, code string }
	bins := map[binKey]string{} // bin id, "" for none such
	type location struct{ productID, facilityID, binID, lot string }
	seen := map[location]int{}
	for i, r := range im.rows {
		var es RowErrors
		it, ok := items[r.SKU]
		switch {
		case !ok:
			es = append(es, RowError{Row: r.Row, Column: im.cols[colSKU], Message: fmt.Sprintf("%q: no product has this SKU", r.SKU)})
		case len(it.Components) > 0:
			es = append(es, RowError{Row: r.Row, Column: im.cols[colSKU], Message: fmt.Sprintf("%q is a kit; kits have no stock of their own, list its components", r.SKU)})
		}
		f, fok := byCode[r.Facility]
		if !fok {
			es = append(es, RowError{Row: r.Row, Column: im.cols[colFacility], Message: fmt.Sprintf("%q: no facility has this code", r.Facility)})
		}
		binID := ""
		if fok && r.Bin != "" {
			k := binKey{f.ID, r.Bin}
			id, known := bins[k]
			if !known {
				b, err := s.store.BinByCode(ctx, tenantID, f.ID, r.Bin)
				switch {
				case err == nil:
					id = b.ID
				case !errs.Is(errs.NotExist, err):
					return err
				}
				bins[k] = id
			}
			if id == "" {
				es = append(es, RowError{Row: r.Row, Column: im.cols[colBin], Message: fmt.Sprintf("%q: no bin with this code in facility %s", r.Bin, f.Code)})
			}
			binID = id
		}
		if len(es) == 0 {
			loc := location{it.ID, f.ID, binID, r.Lot}
			if first, dup := seen[loc]; dup {
				es = append(es, RowError{Row: r.Row, Message: fmt.Sprintf("row %d has this SKU, facility, bin and lot already; list each location once", first)})
			}
			seen[loc] = r.Row
		}
		if len(es) > 0 {
			im.addErrors(es...)
			continue
		}
		im.lines = append(im.lines, importLine{row: r.Row, bytes: im.bytes[i], fac: f,
			countItem: countItem{it: it, binID: binID, bin: r.Bin, lot: r.Lot, counted: r.Quantity, field: fmt.Sprintf("row[%d].%s", r.Row, im.cols[colQuantity])}})
	}
	return nil
}

func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// write is the second pass, in one transaction: it locks the balances of
// every facility the file names (in facility, then product order), refuses
// rows that would leave less on hand than is reserved, then books the
// counts. It rolls back (errDryRun) after a dry run.
func (im *stockImport) write(ctx context.Context, tx Tx) error {
	s, tenantID := im.s, im.tenantID
	im.res.Changed, im.res.Unchanged, im.res.Errors, im.res.MoreErrors = 0, 0, nil, 0
	im.progress(0, 0)
	byFacility := map[string][]int{} // facility id -> indexes into im.lines
	for i, l := range im.lines {
		byFacility[l.fac.ID] = append(byFacility[l.fac.ID], i)
	}
	facIDs := slices.Sorted(maps.Keys(byFacility))
	for _, fid := range facIDs {
		var pids []string
		for _, i := range byFacility[fid] {
			pids = append(pids, im.lines[i].it.ID)
		}
		levels, err := lockLevels(ctx, tx, tenantID, pids, fid)
		if err != nil {
			return err
		}
		// What each balance would hold after the file, from each location
		// as it is now (read under the lock, so book need not read again).
		after := map[string]int64{}
		for _, l := range levels {
			after[l.ProductID] = l.OnHand
		}
		for _, i := range byFacility[fid] {
			l := &im.lines[i]
			exp, err := tx.LocationOnHand(ctx, tenantID, l.it.ID, fid, l.binID, l.lot)
			if err != nil {
				return err
			}
			l.expected, l.known = exp, true
			after[l.it.ID] += l.counted - exp
		}
		for _, lv := range levels {
			if after[lv.ProductID] >= lv.Reserved {
				continue
			}
			for _, i := range byFacility[fid] {
				if l := im.lines[i]; l.it.ID == lv.ProductID && l.counted < l.expected {
					im.addErrors(RowError{Row: l.row, Column: im.cols[colQuantity], Message: fmt.Sprintf("%s at %s: %d are reserved and the file leaves %d on hand; release or re-route those reservations first",
						l.it.SKU, l.fac.Code, lv.Reserved, after[lv.ProductID])})
					break
				}
			}
		}
	}
	if len(im.res.Errors) > 0 {
		slices.SortStableFunc(im.res.Errors, func(a, b RowError) int { return a.Row - b.Row })
		return errStockRows
	}
	done := 0
	for _, fid := range facIDs {
		// Stock a row adds is booked before stock a row takes away, so
		// moving units between bins never dips below what is reserved.
		slices.SortStableFunc(byFacility[fid], func(a, b int) int {
			return boolOrder(im.lines[a].counted < im.lines[a].expected, im.lines[b].counted < im.lines[b].expected)
		})
		var changed []string
		for chunk := range slices.Chunk(byFacility[fid], countLines) {
			f := im.lines[chunk[0]].fac
			items := make([]countItem, len(chunk))
			for j, i := range chunk {
				items[j] = im.lines[i].countItem
			}
			countID := id.New("cnt")
			res, err := s.book(ctx, tx, tenantID, f, items, countID, "stock import", im.opts.Actor)
			if err != nil {
				return err
			}
			pids := changedProducts(items, res)
			im.res.Changed += len(pids)
			im.res.Unchanged += len(items) - len(pids)
			if len(pids) > 0 {
				if err := tx.Emit(ctx, tenantID, "inventory.counted", "count", countID, countPayload(countID, f, res, im.opts.Actor)); err != nil {
					return err
				}
			}
			changed = append(changed, pids...)
			done += len(chunk)
			im.progress(done, im.lines[chunk[len(chunk)-1]].bytes)
		}
		if err := s.afterChange(ctx, tx, tenantID, changed, fid, nil); err != nil {
			return err
		}
	}
	if im.opts.DryRun {
		return errDryRun
	}
	return nil
}
