// Package ordercsv reads orders from CSV files, one order.Input per order,
// streaming: Shopify's order export as it comes, or Waybill's own simpler
// columns. It also imports such files (check every order, then create) and
// generates realistic ones for demos and benchmarks.
package ordercsv

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/csvcell"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

// Two layouts are read; the header says which (names match
// case-insensitively, in any order; columns not listed are ignored):
//
// Shopify's order export has one row per line item. The first row of an
// order carries the order's fields (Email, Financial Status, Currency,
// Shipping, Taxes, Total, Discount Amount, Shipping Method, Created at, the
// addresses, Notes, Cancelled at, Id, Tags, Risk Level, Tax 1 Name/Value …)
// and the rows after it with the same Name carry only their line item
// (Lineitem quantity, name, price, sku, requires shipping, discount).
//
// Waybill's own layout has one row per line:
//
//	channel,external_id,number,placed_at,currency,customer_name,customer_email,customer_phone,
//	ship_name,ship_company,ship_line1,ship_line2,ship_city,ship_region,ship_postal_code,ship_country,ship_phone,
//	sku,quantity,unit_price,discount,tax,shipping_title,shipping_code,shipping_price,payment_status,tags,note
//
// Consecutive rows with the same channel and external_id are one order (a
// row with an empty channel continues the order above it). Its order
// fields may be repeated on every row or given once.
//
// In both layouts a row's non-empty order fields must agree with the value
// an earlier row of the same order gave: a file whose rows disagree about
// the currency, say, says two different things and is refused.

// field is one thing a column can say.
type field int

const (
	fChannel field = iota
	fExternalID
	fShopifyID
	fNumber
	fPlacedAt
	fCurrency
	fCustName
	fCustEmail
	fCustPhone
	fShipName
	fShipCompany
	fShipLine1
	fShipLine2
	fShipStreet
	fShipCity
	fShipRegion
	fShipPostal
	fShipCountry
	fShipPhone
	fBillName
	fBillCompany
	fBillLine1
	fBillLine2
	fBillStreet
	fBillCity
	fBillRegion
	fBillPostal
	fBillCountry
	fBillPhone
	fShipTitle
	fShipCode
	fShipPrice
	fPaymentStatus
	fRiskLevel
	fTags
	fNote
	fCancelledAt
	fFulfillmentStatus
	fTaxes
	fTotal
	fDiscountAmount
	// Line fields, from here on: every row has its own.
	fSKU
	fQuantity
	fUnitPrice
	fLineName
	fLineDiscount
	fLineTax
	fRequiresShipping
	numFields
)

func (f field) orderLevel() bool { return f < fSKU }

var shopifyNames = [numFields]string{
	fChannel: "Channel", fShopifyID: "Id", fNumber: "Name", fPlacedAt: "Created at", fCurrency: "Currency",
	fCustEmail: "Email", fCustPhone: "Phone",
	fShipName: "Shipping Name", fShipCompany: "Shipping Company", fShipLine1: "Shipping Address1", fShipLine2: "Shipping Address2",
	fShipStreet: "Shipping Street", fShipCity: "Shipping City", fShipRegion: "Shipping Province", fShipPostal: "Shipping Zip",
	fShipCountry: "Shipping Country", fShipPhone: "Shipping Phone",
	fBillName: "Billing Name", fBillCompany: "Billing Company", fBillLine1: "Billing Address1", fBillLine2: "Billing Address2",
	fBillStreet: "Billing Street", fBillCity: "Billing City", fBillRegion: "Billing Province", fBillPostal: "Billing Zip",
	fBillCountry: "Billing Country", fBillPhone: "Billing Phone",
	fShipTitle: "Shipping Method", fShipPrice: "Shipping", fPaymentStatus: "Financial Status", fRiskLevel: "Risk Level",
	fTags: "Tags", fNote: "Notes", fCancelledAt: "Cancelled at", fFulfillmentStatus: "Fulfillment Status", fTaxes: "Taxes", fTotal: "Total", fDiscountAmount: "Discount Amount",
	fSKU: "Lineitem sku", fQuantity: "Lineitem quantity", fUnitPrice: "Lineitem price", fLineName: "Lineitem name",
	fLineDiscount: "Lineitem discount", fRequiresShipping: "Lineitem requires shipping",
}

var waybillNames = [numFields]string{
	fChannel: "channel", fExternalID: "external_id", fNumber: "number", fPlacedAt: "placed_at", fCurrency: "currency",
	fCustName: "customer_name", fCustEmail: "customer_email", fCustPhone: "customer_phone",
	fShipName: "ship_name", fShipCompany: "ship_company", fShipLine1: "ship_line1", fShipLine2: "ship_line2",
	fShipCity: "ship_city", fShipRegion: "ship_region", fShipPostal: "ship_postal_code", fShipCountry: "ship_country", fShipPhone: "ship_phone",
	fSKU: "sku", fQuantity: "quantity", fUnitPrice: "unit_price", fLineDiscount: "discount", fLineTax: "tax",
	fShipTitle: "shipping_title", fShipCode: "shipping_code", fShipPrice: "shipping_price",
	fPaymentStatus: "payment_status", fTags: "tags", fNote: "note", fFulfillmentStatus: "fulfillment_status",
}

// waybillOrder is the order of Waybill's columns in files it writes.
var waybillOrder = []field{fChannel, fExternalID, fNumber, fPlacedAt, fCurrency, fCustName, fCustEmail, fCustPhone,
	fShipName, fShipCompany, fShipLine1, fShipLine2, fShipCity, fShipRegion, fShipPostal, fShipCountry, fShipPhone,
	fSKU, fQuantity, fUnitPrice, fLineDiscount, fLineTax, fShipTitle, fShipCode, fShipPrice, fPaymentStatus, fTags, fNote}

// Columns returns the header of an order CSV in Waybill's own layout.
func Columns() []string {
	out := make([]string, len(waybillOrder))
	for i, f := range waybillOrder {
		out[i] = waybillNames[f]
	}
	return out
}

// taxColumnRe matches Shopify's "Tax 1 Name", "Tax 1 Value", … columns.
var taxColumnRe = regexp.MustCompile(`^tax ([0-9]{1,2}) (name|value)$`)

// taxColumns are the file's columns of one "Tax N" pair, -1 when absent.
type taxColumns struct{ n, name, value int }

// columns says where each field is in the file: its column (-1 when the
// file lacks it) and the header's spelling of it (Waybill's when absent).
type columns struct {
	idx   [numFields]int
	names [numFields]string
}

// Order is one order of the file and the rows it came from (the header is
// row 1, as a spreadsheet numbers them).
type Order struct {
	Input             order.Input
	FirstRow, LastRow int

	src *source
}

// Reader reads orders from an order CSV, one at a time: it holds the rows
// of one order (at most order.MaxLines lines of it) and nothing of the
// orders before, so a file of any size streams in little memory.
type Reader struct {
	cr      *csv.Reader
	count   *countingReader
	shopify bool
	*columns
	taxes []taxColumns
	// Per column of the file: whether it is an order field, and whether
	// rows may spell it in another case (codes).
	orderCol, foldCol []bool

	row     int      // the last row read
	endLine int      // the file's line the last row ended on
	pending []string // the row that starts the next order
	pendRow int
	done    bool
	g       group
}

// group is the rows of the order being read.
type group struct {
	first, last int
	name, extID string // what the rows of the order share (Shopify: Name)
	channel     string
	vals        []string // order fields, by column of the file, as the first row to give them had them
	from        []int    // the row each came from
	lines       []rawLine
	extra       int // line rows beyond order.MaxLines, dropped
	es          []RowError
}

// rawLine is the line cells of one row.
type rawLine struct {
	row                                                int
	sku, name, qty, price, disc, tax, requiresShipping string
}

// NewReader reads the header of an order CSV; a UTF-8 byte order mark is
// skipped. A header in neither layout is an Invalid error that says so
// (its field is "row 1").
func NewReader(r io.Reader) (*Reader, error) {
	rd, es, err := newReader(r)
	if err != nil {
		return nil, err
	}
	if len(es) > 0 {
		return nil, invalid("ordercsv.NewReader", es)
	}
	return rd, nil
}

func newReader(r io.Reader) (*Reader, []RowError, error) {
	count := &countingReader{r: r}
	br := bufio.NewReaderSize(count, 64<<10)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // spreadsheets drop trailing empty cells
	cr.ReuseRecord = true
	rd := &Reader{cr: cr, count: count, columns: &columns{}}
	for i := range rd.idx {
		rd.idx[i] = -1
	}
	header, err := cr.Read()
	if err == nil {
		rd.count1(header)
	}
	rd.row = 1
	if err == io.EOF {
		return nil, []RowError{{Row: 1, Message: "the file is empty; an order CSV starts with a header row (Shopify's order export, or channel,external_id,…,sku,quantity,unit_price,…)"}}, nil
	}
	if err != nil {
		if es := csvError(1, err); es != nil {
			return nil, es, nil
		}
		return nil, nil, err
	}
	norm := make([]string, len(header))
	for i, h := range header {
		norm[i] = strings.Join(strings.Fields(strings.ToLower(csvcell.Restore(h))), " ")
	}
	has := func(name string) bool { return slices.Contains(norm, strings.ToLower(name)) }
	names := &waybillNames
	switch {
	case has(shopifyNames[fQuantity]) || has(shopifyNames[fSKU]):
		rd.shopify, names = true, &shopifyNames
	case has(waybillNames[fSKU]) || has(waybillNames[fExternalID]):
	default:
		msg := "unknown layout: the header has neither Shopify's order export columns (Name, Lineitem quantity, Lineitem sku, Lineitem price, Currency, …) nor Waybill's (channel, external_id, currency, sku, quantity, unit_price, …)"
		if len(header) == 1 && strings.ContainsAny(header[0], ";\t") {
			msg += "; the columns must be separated by commas"
		}
		return nil, []RowError{{Row: 1, Message: msg}}, nil
	}
	var es []RowError
	taxes := map[int]*taxColumns{}
	for i, h := range norm {
		if h == "" {
			continue
		}
		if rd.shopify {
			if m := taxColumnRe.FindStringSubmatch(h); m != nil {
				n, _ := strconv.Atoi(m[1])
				t := taxes[n]
				if t == nil {
					t = &taxColumns{n: n, name: -1, value: -1}
					taxes[n] = t
				}
				if m[2] == "name" {
					t.name = i
				} else {
					t.value = i
				}
				continue
			}
		}
		f := slices.IndexFunc(names[:], func(name string) bool { return name != "" && strings.ToLower(name) == h })
		if f < 0 {
			continue
		}
		if rd.idx[f] >= 0 {
			es = append(es, RowError{Row: 1, Column: strings.TrimSpace(header[i]), Message: "this column appears twice"})
			continue
		}
		rd.idx[f], rd.names[f] = i, strings.TrimSpace(csvcell.Restore(header[i]))
	}
	for f := range numFields {
		if rd.names[f] == "" {
			rd.names[f] = names[f]
		}
	}
	required := []field{fExternalID, fCurrency, fSKU, fQuantity, fUnitPrice}
	if rd.shopify {
		required = []field{fNumber, fCurrency, fSKU, fQuantity, fUnitPrice}
	}
	var missing []string
	for _, f := range required {
		if rd.idx[f] < 0 {
			missing = append(missing, names[f])
		}
	}
	if len(missing) > 0 {
		layout := "Waybill's order CSV"
		if rd.shopify {
			layout = "Shopify's order export"
		}
		es = append(es, RowError{Row: 1, Message: fmt.Sprintf("the file looks like %s but has no %s column", layout, strings.Join(missing, ", "))})
	}
	if len(es) > 0 {
		return nil, es, nil
	}
	for n := range taxes {
		rd.taxes = append(rd.taxes, *taxes[n])
	}
	slices.SortFunc(rd.taxes, func(a, b taxColumns) int { return a.n - b.n })
	rd.orderCol = make([]bool, len(header))
	rd.foldCol = make([]bool, len(header))
	for f := range numFields {
		if i := rd.idx[f]; i >= 0 && f.orderLevel() {
			rd.orderCol[i] = true
			switch f {
			case fChannel, fCurrency, fShipCountry, fBillCountry, fPaymentStatus, fRiskLevel:
				rd.foldCol[i] = true
			}
		}
	}
	for _, t := range rd.taxes {
		for _, i := range []int{t.name, t.value} {
			if i >= 0 {
				rd.orderCol[i] = true
			}
		}
	}
	rd.g.vals = make([]string, len(header))
	rd.g.from = make([]int, len(header))
	return rd, nil, nil
}

// Shopify reports whether the file is in Shopify's layout.
func (rd *Reader) Shopify() bool { return rd.shopify }

// BytesRead is how much of the file has been read, for progress reports.
func (rd *Reader) BytesRead() int64 { return rd.count.n }

// Next returns the next order. At the end of the file it returns io.EOF.
//
// An order whose rows are wrong comes back with an Invalid error whose
// fields name each row and column ("row 12: Lineitem quantity"), together
// with what could be read of it, and reading may go on. A file that is not
// CSV (a stray quote) ends reading with such an error.
//
// An order returned without error was read correctly; whether it is a
// valid order is for order.Check (Check runs it, and Order.Problems puts
// its field names back into rows and columns). Orders with no line to
// ship (Shopify gift cards and tips alone) are skipped.
func (rd *Reader) Next() (Order, error) {
	o, es, err := rd.next()
	if err != nil {
		return o, err
	}
	if len(es) > 0 {
		return o, invalid("ordercsv.Next", es)
	}
	return o, nil
}

// next is Next with the row problems as they are.
func (rd *Reader) next() (Order, []RowError, error) {
	for {
		rec, row, es, err := rd.take()
		if err != nil {
			return Order{}, nil, err
		}
		if es != nil {
			return Order{FirstRow: row, LastRow: row}, es, nil
		}
		g := &rd.g
		rd.start(g, rec, row)
		for !rd.done {
			rec, row, err := rd.read()
			if err == io.EOF {
				break
			}
			if err != nil {
				es := csvError(row, err)
				if es == nil {
					return Order{}, nil, err
				}
				g.es = append(g.es, es...)
				g.last = row
				break
			}
			if rec == nil {
				continue // a blank row
			}
			if !rd.same(g, rec) {
				rd.pending, rd.pendRow = slices.Clone(rec), row
				break
			}
			rd.add(g, rec, row)
		}
		o, skip := rd.finish(g)
		if skip && len(g.es) == 0 {
			continue
		}
		return o, g.es, nil
	}
}

// take returns the first row of the next order: the one read ahead, or the
// next non-blank row; or the problem of a row that is not CSV.
func (rd *Reader) take() ([]string, int, []RowError, error) {
	if rd.pending != nil {
		rec, row := rd.pending, rd.pendRow
		rd.pending = nil
		return rec, row, nil, nil
	}
	for {
		rec, row, err := rd.read()
		if err == io.EOF {
			return nil, 0, nil, io.EOF
		}
		if err != nil {
			if es := csvError(row, err); es != nil {
				return nil, row, es, nil
			}
			return nil, 0, nil, err
		}
		if rec != nil {
			return rec, row, nil, nil
		}
	}
}

// read reads one row; a blank row comes back as nil. Errors end reading.
func (rd *Reader) read() ([]string, int, error) {
	if rd.done {
		return nil, rd.row, io.EOF
	}
	rec, err := rd.cr.Read()
	if err == io.EOF {
		rd.done = true
		return nil, rd.row, io.EOF
	}
	if err != nil {
		rd.done = true
		rd.row++
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			rd.row += max(pe.StartLine-rd.endLine-1, 0)
		}
		return nil, rd.row, err
	}
	rd.count1(rec)
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return rec, rd.row, nil
		}
	}
	return nil, rd.row, nil
}

// count1 numbers the record just read as a spreadsheet would: encoding/csv
// skips empty lines, which a spreadsheet shows as empty rows.
func (rd *Reader) count1(rec []string) {
	start, _ := rd.cr.FieldPos(0)
	rd.row += 1 + max(start-rd.endLine-1, 0)
	end, _ := rd.cr.FieldPos(len(rec) - 1)
	rd.endLine = end + strings.Count(rec[len(rec)-1], "\n")
}

// cell is the value of field f in rec, trimmed, with the quote a
// spreadsheet-safe export put before a formula-like value taken off.
func (rd *Reader) cell(rec []string, f field) string {
	i := rd.idx[f]
	if i < 0 || i >= len(rec) {
		return ""
	}
	return clean(rec[i])
}

func clean(s string) string { return strings.TrimSpace(csvcell.Restore(strings.TrimSpace(s))) }

// same reports whether rec continues the order g.
func (rd *Reader) same(g *group, rec []string) bool {
	if rd.shopify {
		name := rd.cell(rec, fNumber)
		return name != "" && name == g.name
	}
	id := rd.cell(rec, fExternalID)
	ch := rd.cell(rec, fChannel)
	return id != "" && id == g.extID && (ch == "" || strings.EqualFold(ch, g.channel))
}

// start begins a new order at rec.
func (rd *Reader) start(g *group, rec []string, row int) {
	clear(g.vals)
	clear(g.from)
	*g = group{first: row, vals: g.vals, from: g.from}
	if rd.shopify {
		g.name = rd.cell(rec, fNumber)
		if g.name == "" {
			g.es = append(g.es, RowError{Row: row, Column: rd.names[fNumber], Message: "is required: it is the order's name, and the rows of one order share it"})
		}
	} else {
		g.extID, g.channel = rd.cell(rec, fExternalID), rd.cell(rec, fChannel)
		if g.extID == "" {
			g.es = append(g.es, RowError{Row: row, Column: rd.names[fExternalID], Message: "is required: it is the channel's id of the order, and the rows of one order repeat it"})
		}
	}
	rd.add(g, rec, row)
}

// add takes in one row of the order g.
func (rd *Reader) add(g *group, rec []string, row int) {
	g.last = row
	for i, v := range rec {
		if i >= len(rd.orderCol) || !rd.orderCol[i] {
			continue
		}
		v = clean(v)
		if v == "" {
			continue
		}
		if !utf8.ValidString(v) {
			g.es = append(g.es, RowError{Row: row, Column: rd.columnName(i), Message: notUTF8})
			continue
		}
		switch prev := g.vals[i]; {
		case g.from[i] == 0:
			g.vals[i], g.from[i] = v, row
		case v == prev || rd.foldCol[i] && strings.EqualFold(v, prev):
		default:
			g.es = append(g.es, RowError{Row: row, Column: rd.columnName(i),
				Message: fmt.Sprintf("%s differs from %s on row %d: the rows of one order must agree on its order fields (or leave them empty)", quote(v), quote(prev), g.from[i])})
		}
	}
	if len(g.lines) >= order.MaxLines {
		g.extra++
		return
	}
	l := rawLine{row: row}
	for _, c := range []struct {
		f   field
		dst *string
	}{{fSKU, &l.sku}, {fLineName, &l.name}, {fQuantity, &l.qty}, {fUnitPrice, &l.price}, {fLineDiscount, &l.disc},
		{fLineTax, &l.tax}, {fRequiresShipping, &l.requiresShipping}} {
		v := rd.cell(rec, c.f)
		if !utf8.ValidString(v) {
			g.es = append(g.es, RowError{Row: row, Column: rd.names[c.f], Message: notUTF8})
			v = strings.ToValidUTF8(v, "")
		}
		*c.dst = v
	}
	g.lines = append(g.lines, l)
}

const notUTF8 = "is not valid UTF-8 text (save the file as \"CSV UTF-8\")"

// columnName is the header's spelling of the file's column i.
func (rd *Reader) columnName(i int) string {
	for f := range numFields {
		if rd.idx[f] == i {
			return rd.names[f]
		}
	}
	for _, t := range rd.taxes {
		if t.name == i {
			return fmt.Sprintf("Tax %d Name", t.n)
		}
		if t.value == i {
			return fmt.Sprintf("Tax %d Value", t.n)
		}
	}
	return fmt.Sprintf("column %d", i+1)
}

// csvError is the row problem of a CSV syntax error, which ends reading:
// after a stray quote nothing more can be trusted. It is nil for other
// errors (reading the file failed).
func csvError(row int, err error) []RowError {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return []RowError{{Row: row, Message: fmt.Sprintf("not valid CSV at line %d, column %d: %v (a double quote inside a cell must be doubled, and the cell quoted)", pe.Line, pe.Column, pe.Err)}}
	}
	return nil
}

func quote(s string) string {
	if utf8.RuneCountInString(s) > 60 {
		s = string([]rune(s)[:57]) + "…"
	}
	return strconv.Quote(s)
}

// invalid is the Invalid error of row problems, one field each.
func invalid(op string, es []RowError) error {
	fields := make([]errs.FieldError, len(es))
	for i, e := range es {
		fields[i] = errs.FieldError{Field: e.field(), Message: e.Message}
	}
	msg := es[0].Error()
	if len(es) > 1 {
		first, last := es[0].Row, es[0].Row
		for _, e := range es {
			first, last = min(first, e.Row), max(last, e.Row, e.LastRow)
		}
		msg = fmt.Sprintf("%d problems in rows %d-%d", len(es), first, last)
	}
	return errs.E(op, errs.Invalid, msg, fields)
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
