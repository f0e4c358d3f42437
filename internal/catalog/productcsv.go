package catalog

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/csvcell"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/money"
)

// Product CSV files use Shopify's product CSV columns, so a Shopify export
// imports as it is, plus columns of Waybill's own for what Shopify lacks
// (dimensions, customs data, currency, tracking, kits). Each row with a
// Variant SKU is one Waybill product. Headers match case-insensitively and
// in any order; columns Waybill does not know are ignored.

// column is one column a product CSV may have.
type column int

const (
	cHandle column = iota
	cTitle
	cBody
	cVendor
	cCategory
	cType
	cTags
	cPublished
	cOption1Name
	cOption1Value
	cOption2Name
	cOption2Value
	cOption3Name
	cOption3Value
	cSKU
	cGrams
	cInventoryTracker
	cInventoryQty
	cInventoryPolicy
	cFulfillmentService
	cPrice
	cCompareAtPrice
	cRequiresShipping
	cTaxable
	cBarcode
	cImageSrc
	cImagePosition
	cImageAltText
	cGiftCard
	cSEOTitle
	cSEODescription
	cVariantImage
	cWeightUnit
	cTaxCode
	cCost
	cStatus
	// Waybill's own columns.
	cLength
	cWidth
	cHeight
	cHSCode
	cCountryOfOrigin
	cCurrency
	cLotTracked
	cSerialTracked
	cKitComponents
	// Read, never written: a weight in Variant Weight Unit, for files that
	// have no Variant Grams.
	cWeight
	numColumns
)

// exportColumns is how many columns an export has: all but the read-only ones.
const exportColumns = int(cKitComponents) + 1

var columnNames = [numColumns]string{
	cHandle: "Handle", cTitle: "Title", cBody: "Body (HTML)", cVendor: "Vendor", cCategory: "Product Category",
	cType: "Type", cTags: "Tags", cPublished: "Published",
	cOption1Name: "Option1 Name", cOption1Value: "Option1 Value", cOption2Name: "Option2 Name", cOption2Value: "Option2 Value",
	cOption3Name: "Option3 Name", cOption3Value: "Option3 Value",
	cSKU: "Variant SKU", cGrams: "Variant Grams", cInventoryTracker: "Variant Inventory Tracker", cInventoryQty: "Variant Inventory Qty",
	cInventoryPolicy: "Variant Inventory Policy", cFulfillmentService: "Variant Fulfillment Service", cPrice: "Variant Price",
	cCompareAtPrice: "Variant Compare At Price", cRequiresShipping: "Variant Requires Shipping", cTaxable: "Variant Taxable",
	cBarcode: "Variant Barcode", cImageSrc: "Image Src", cImagePosition: "Image Position", cImageAltText: "Image Alt Text",
	cGiftCard: "Gift Card", cSEOTitle: "SEO Title", cSEODescription: "SEO Description", cVariantImage: "Variant Image",
	cWeightUnit: "Variant Weight Unit", cTaxCode: "Variant Tax Code", cCost: "Cost per item", cStatus: "Status",
	cLength: "Length (mm)", cWidth: "Width (mm)", cHeight: "Height (mm)", cHSCode: "HS Code", cCountryOfOrigin: "Country of Origin",
	cCurrency: "Currency", cLotTracked: "Lot Tracked", cSerialTracked: "Serial Tracked", cKitComponents: "Kit Components",
	cWeight: "Variant Weight",
}

// ProductColumns returns the header of a product CSV export, in order.
func ProductColumns() []string { return slices.Clone(columnNames[:exportColumns]) }

// defaultTitle is the option value Shopify gives the one variant of a
// product without options.
const defaultTitle = "Default Title"

// RowError is one problem in one row of a CSV file. Rows are numbered as a
// spreadsheet shows them: the header is row 1.
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

// fields is a set of Draft fields a row sets; the others keep the value
// the product has (Shopify's rule: a column the file lacks changes nothing).
type fields uint32

const (
	fName fields = 1 << iota
	fDescription
	fVendor
	fProductType
	fBarcodes
	fWeight
	fLength
	fWidth
	fHeight
	fCurrency
	fPrice
	fCost
	fHSCode
	fCountryOfOrigin
	fTags
	fAllowBackorder
	fLotTracked
	fSerialTracked
	fComponents
)

// ProductRow is one product as a row of a CSV file describes it.
type ProductRow struct {
	Row    int // in the file; the header is row 1
	Handle string
	SKU    string
	// Status is Active or Archived when the row says so, "" when the
	// product's archive state is to stay as it is.
	Status Status

	draft Draft
	sets  fields
	names *[numColumns]string // the header's spelling of each column
	// weightCol is where the weight came from (Variant Grams or Variant Weight).
	weightCol column
}

// Draft returns base with the fields this row sets replaced by the row's
// values: base is DraftOf the stored product when the SKU exists, else the
// zero Draft.
func (r ProductRow) Draft(base Draft) Draft {
	d, s := r.draft, r.sets
	base.SKU = d.SKU
	set := func(f fields) bool { return s&f != 0 }
	if set(fName) {
		base.Name = d.Name
	}
	if set(fDescription) {
		base.Description = d.Description
	}
	if set(fVendor) {
		base.Vendor = d.Vendor
	}
	if set(fProductType) {
		base.ProductType = d.ProductType
	}
	if set(fBarcodes) {
		base.Barcodes = slices.Clone(d.Barcodes)
	}
	if set(fWeight) {
		base.WeightG = d.WeightG
	}
	if set(fLength) {
		base.LengthMM = d.LengthMM
	}
	if set(fWidth) {
		base.WidthMM = d.WidthMM
	}
	if set(fHeight) {
		base.HeightMM = d.HeightMM
	}
	if set(fCurrency) {
		base.Currency = d.Currency
	}
	if set(fPrice) {
		base.Price = d.Price
	}
	if set(fCost) {
		base.Cost = d.Cost
	}
	if set(fHSCode) {
		base.HSCode = d.HSCode
	}
	if set(fCountryOfOrigin) {
		base.CountryOfOrigin = d.CountryOfOrigin
	}
	if set(fTags) {
		base.Tags = slices.Clone(d.Tags)
	}
	if set(fAllowBackorder) {
		base.AllowBackorder = d.AllowBackorder
	}
	if set(fLotTracked) {
		base.LotTracked = d.LotTracked
	}
	if set(fSerialTracked) {
		base.SerialTracked = d.SerialTracked
	}
	if set(fComponents) {
		base.Components = slices.Clone(d.Components)
	}
	return base
}

// col is the header's spelling of c, or Waybill's when the file lacks c.
func (r ProductRow) col(c column) string {
	if r.names != nil && r.names[c] != "" {
		return r.names[c]
	}
	return columnNames[c]
}

// fieldColumns maps the API field names Draft.Validate reports to columns.
var fieldColumns = map[string]column{
	"sku": cSKU, "name": cTitle, "description": cBody, "vendor": cVendor, "product_type": cType,
	"barcodes": cBarcode, "length_mm": cLength, "width_mm": cWidth, "height_mm": cHeight,
	"currency": cCurrency, "price": cPrice, "cost": cCost, "hs_code": cHSCode, "country_of_origin": cCountryOfOrigin,
	"tags": cTags, "kit_components": cKitComponents, "lot_tracked": cLotTracked, "serial_tracked": cSerialTracked,
	"allow_backorder": cInventoryPolicy,
}

// rowErrors turns the field errors of Draft.Validate (or of a check in
// the API's field names) into errors naming this row's columns.
func (r ProductRow) rowErrors(err error) RowErrors {
	var out RowErrors
	fes := errs.Fields(err)
	if len(fes) == 0 {
		return RowErrors{{Row: r.Row, Message: err.Error()}}
	}
	for _, fe := range fes {
		name, index, sub := splitField(fe.Field)
		msg := fe.Message
		var col column
		switch c, ok := fieldColumns[name]; {
		case name == "weight_g":
			col = r.weightCol
		case ok:
			col = c
		default:
			out = append(out, RowError{Row: r.Row, Message: fe.Field + ": " + msg})
			continue
		}
		switch {
		case name == "name" && msg == "is required" && r.sets&fName == 0:
			msg = "is required for a new SKU, and the file has no " + columnNames[cTitle] + " column"
		case name == "kit_components" && index >= 0:
			what := fmt.Sprintf("component %d", index+1)
			if index < len(r.draft.Components) && r.draft.Components[index].SKU != "" {
				what = r.draft.Components[index].SKU
			}
			if sub == "quantity" {
				msg = "quantity " + msg
			}
			msg = what + ": " + msg
		case name == "tags" && index >= 0:
			if s, ok := fe.Value.(string); ok {
				msg = strconv.Quote(s) + ": " + msg
			}
		case name == "sku" && msg != "is required":
			if s, ok := fe.Value.(string); ok {
				msg = strconv.Quote(s) + ": " + msg
			}
		case (name == "hs_code" || name == "country_of_origin" || name == "currency") && fe.Value != nil:
			if s, ok := fe.Value.(string); ok && s != "" {
				msg = strconv.Quote(s) + ": " + msg
			}
		}
		out = append(out, RowError{Row: r.Row, Column: r.col(col), Message: msg})
	}
	return out
}

// splitField splits "kit_components[2].quantity" into its name, index and
// sub-field; index is -1 without one.
func splitField(f string) (name string, index int, sub string) {
	name, rest, ok := strings.Cut(f, "[")
	if !ok {
		return f, -1, ""
	}
	num, rest, _ := strings.Cut(rest, "]")
	i, err := strconv.Atoi(num)
	if err != nil {
		return name, -1, ""
	}
	return name, i, strings.TrimPrefix(rest, ".")
}

// ProductReader reads products from a product CSV one row at a time, so a
// file of any size needs little memory: it keeps only the current handle's
// product-level values and the set of SKUs seen (to report duplicates).
type ProductReader struct {
	cr       *csv.Reader
	count    *countingReader
	idx      [numColumns]int // column index in the file, -1 when absent
	names    [numColumns]string
	currency string
	row      int
	group    group
	skus     map[string]int
	done     bool
}

// group is the product-level values of the current handle. In Shopify's
// files a product with variants is several rows with the same Handle; the
// first carries Title, Body, Vendor, Type, Tags and Status, and the rows
// after leave them empty.
type group struct {
	handle, title, body, vendor, ptype, tags, status string
}

// NewProductReader reads the header of a product CSV. A UTF-8 byte order
// mark is skipped. defaultCurrency is the currency of prices in rows
// without a Currency. A header that cannot be used is RowErrors (row 1).
func NewProductReader(r io.Reader, defaultCurrency string) (*ProductReader, error) {
	count := &countingReader{r: r}
	br := bufio.NewReaderSize(count, 64<<10)
	if b, err := br.Peek(3); err == nil && string(b) == "\uFEFF" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // spreadsheets drop trailing empty cells
	cr.ReuseRecord = true
	pr := &ProductReader{cr: cr, count: count, currency: defaultCurrency, skus: map[string]int{}}
	for i := range pr.idx {
		pr.idx[i] = -1
	}
	header, err := cr.Read()
	pr.row = 1
	if err == io.EOF {
		return nil, RowErrors{{Row: 1, Message: "the file is empty; a product CSV starts with a header row such as Handle,Title,Variant SKU,…"}}
	}
	if err != nil {
		return nil, csvError(1, err)
	}
	var unknown int
	for i, h := range header {
		h = strings.TrimSpace(unformula(h))
		c, ok := lookupColumn(h)
		if !ok {
			unknown++
			continue
		}
		if pr.idx[c] >= 0 {
			return nil, RowErrors{{Row: 1, Column: h, Message: "this column appears twice"}}
		}
		pr.idx[c], pr.names[c] = i, h
	}
	if pr.idx[cSKU] < 0 {
		msg := "the file has no " + columnNames[cSKU] + " column; every row with a SKU there becomes a product"
		if unknown == len(header) && len(header) == 1 && strings.ContainsAny(header[0], ";\t") {
			msg += " (the columns must be separated by commas)"
		}
		return nil, RowErrors{{Row: 1, Message: msg}}
	}
	return pr, nil
}

func lookupColumn(h string) (column, bool) {
	for c, name := range columnNames {
		if strings.EqualFold(h, name) {
			return column(c), true
		}
	}
	return 0, false
}

// BytesRead is how much of the file has been read, for progress reports.
func (pr *ProductReader) BytesRead() int64 { return pr.count.n }

// Next returns the next product row. At the end of the file it returns
// io.EOF. A row that is wrong comes back as RowErrors together with what
// was read of it (Row and SKU at least), and reading may go on; a file that
// is not CSV (a stray quote) ends reading with RowErrors. Rows without a
// SKU that are not variants (Shopify's extra image rows) or are gift cards
// are skipped.
//
// A row returned without error is valid on its own: its Draft over a base
// with a name passes Draft.Validate. Whether it is valid for the product it
// updates (a price in that product's currency, say) the caller checks.
func (pr *ProductReader) Next() (ProductRow, error) {
	for {
		if pr.done {
			return ProductRow{}, io.EOF
		}
		rec, err := pr.cr.Read()
		if err == io.EOF {
			pr.done = true
			return ProductRow{}, io.EOF
		}
		pr.row++
		if err != nil {
			pr.done = true
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return ProductRow{Row: pr.row}, csvError(pr.row, err)
			}
			return ProductRow{}, err
		}
		row, rowErrs, ok := pr.parse(rec)
		if !ok {
			continue
		}
		if len(rowErrs) > 0 {
			return row, rowErrs
		}
		return row, nil
	}
}

// csvError reports a CSV syntax error, which ends reading: after a stray
// quote nothing more can be trusted.
func csvError(row int, err error) RowErrors {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return RowErrors{{Row: row, Message: fmt.Sprintf("not valid CSV at line %d, column %d: %v (a double quote inside a cell must be doubled, and the cell quoted)", pe.Line, pe.Column, pe.Err)}}
	}
	return RowErrors{{Row: row, Message: err.Error()}}
}

// parse turns one record into a row; ok is false for a row to skip.
func (pr *ProductReader) parse(rec []string) (row ProductRow, es RowErrors, ok bool) {
	row.Row, row.names, row.weightCol = pr.row, &pr.names, cGrams
	cell := func(c column) string {
		i := pr.idx[c]
		if i < 0 || i >= len(rec) {
			return ""
		}
		return unformula(rec[i])
	}
	has := func(c column) bool { return pr.idx[c] >= 0 }
	fail := func(c column, msg string) {
		es = append(es, RowError{Row: row.Row, Column: row.col(c), Message: msg})
	}
	for c := range numColumns {
		if v := cell(c); !utf8.ValidString(v) {
			fail(c, "is not valid UTF-8 text (save the file as \"CSV UTF-8\")")
		}
	}
	if len(es) > 0 {
		row.SKU = strings.TrimSpace(strings.ToValidUTF8(cell(cSKU), ""))
		pr.noteSKU(&row, nil)
		return row, es, true
	}

	// Product-level values, inherited from the first row of the handle.
	row.Handle = strings.TrimSpace(cell(cHandle))
	own := group{handle: row.Handle, title: cell(cTitle), body: cell(cBody), vendor: cell(cVendor),
		ptype: cell(cType), tags: cell(cTags), status: cell(cStatus)}
	g := own
	if row.Handle != "" && row.Handle == pr.group.handle && (strings.TrimSpace(own.title) == "" || own.title == pr.group.title) {
		inherit := func(v *string, from string) {
			if strings.TrimSpace(*v) == "" {
				*v = from
			}
		}
		inherit(&g.title, pr.group.title)
		inherit(&g.body, pr.group.body)
		inherit(&g.vendor, pr.group.vendor)
		inherit(&g.ptype, pr.group.ptype)
		inherit(&g.tags, pr.group.tags)
		inherit(&g.status, pr.group.status)
	} else {
		pr.group = own
	}

	row.SKU = strings.TrimSpace(cell(cSKU))
	var opts []string
	for _, c := range []column{cOption1Value, cOption2Value, cOption3Value} {
		if v := strings.TrimSpace(cell(c)); v != "" && !strings.EqualFold(v, defaultTitle) {
			opts = append(opts, v)
		}
	}
	if row.SKU == "" {
		variant := len(opts) > 0 || strings.TrimSpace(own.title) != ""
		for _, c := range []column{cPrice, cBarcode, cCost, cKitComponents, cOption1Value} {
			variant = variant || strings.TrimSpace(cell(c)) != ""
		}
		// Gift cards are neither stocked nor shipped; Shopify gives them no SKU.
		if gift, _ := parseBool(cell(cGiftCard)); gift || !variant {
			return row, nil, false
		}
		fail(cSKU, "is required: each variant becomes a Waybill product, and a product needs a SKU")
		return row, es, true
	}

	d := &row.draft
	d.SKU = row.SKU
	if has(cTitle) {
		row.sets |= fName
		d.Name = strings.TrimSpace(g.title)
		if d.Name != "" && len(opts) > 0 {
			d.Name += " — " + strings.Join(opts, " / ")
		}
	}
	if has(cBody) {
		row.sets |= fDescription
		d.Description = g.body
	}
	if has(cVendor) {
		row.sets |= fVendor
		d.Vendor = g.vendor
	}
	if has(cType) {
		row.sets |= fProductType
		d.ProductType = g.ptype
	}
	if has(cTags) {
		row.sets |= fTags
		d.Tags = splitList(g.tags, ",")
	}
	if has(cBarcode) {
		row.sets |= fBarcodes
		d.Barcodes = splitList(cell(cBarcode), ";")
	}
	if has(cCurrency) {
		row.sets |= fCurrency
		d.Currency = strings.ToUpper(strings.TrimSpace(cell(cCurrency)))
	}
	currency := d.Currency
	if currency == "" {
		currency = pr.currency
	}
	if has(cPrice) {
		row.sets |= fPrice
		d.Price = plainAmount(cell(cPrice), currency)
	}
	if has(cCost) {
		row.sets |= fCost
		d.Cost = plainAmount(cell(cCost), currency)
	}
	if has(cHSCode) {
		row.sets |= fHSCode
		d.HSCode = cell(cHSCode)
	}
	if has(cCountryOfOrigin) {
		row.sets |= fCountryOfOrigin
		d.CountryOfOrigin = cell(cCountryOfOrigin)
	}

	// Weight: Variant Grams is always grams (Shopify's rule, whatever the
	// display unit); a bare Variant Weight is in Variant Weight Unit.
	switch grams, weight := strings.TrimSpace(cell(cGrams)), strings.TrimSpace(cell(cWeight)); {
	case grams != "":
		row.sets |= fWeight
		if v, err := parseNumber(grams, 1); err != nil {
			fail(cGrams, strconv.Quote(grams)+": "+err.Error()+" (want grams, e.g. 250)")
		} else {
			d.WeightG = v
		}
	case weight != "":
		row.sets |= fWeight
		row.weightCol = cWeight
		unit := strings.ToLower(strings.TrimSpace(cell(cWeightUnit)))
		factor, ok := weightUnits[unit]
		if !ok {
			fail(cWeightUnit, strconv.Quote(cell(cWeightUnit))+": want g, kg, lb or oz")
		} else if v, err := parseNumber(weight, factor); err != nil {
			fail(cWeight, strconv.Quote(weight)+": "+err.Error()+" (want e.g. 0.25)")
		} else {
			d.WeightG = v
		}
	case has(cGrams) || has(cWeight):
		row.sets |= fWeight
	}
	for _, m := range []struct {
		c   column
		f   fields
		dst *int64
	}{{cLength, fLength, &d.LengthMM}, {cWidth, fWidth, &d.WidthMM}, {cHeight, fHeight, &d.HeightMM}} {
		if !has(m.c) {
			continue
		}
		row.sets |= m.f
		s := strings.TrimSpace(cell(m.c))
		if s == "" {
			continue
		}
		if v, err := parseNumber(s, 1); err != nil {
			fail(m.c, strconv.Quote(s)+": "+err.Error()+" (want millimetres, e.g. 120)")
		} else {
			*m.dst = v
		}
	}
	if has(cInventoryPolicy) {
		row.sets |= fAllowBackorder
		switch s := strings.ToLower(strings.TrimSpace(cell(cInventoryPolicy))); s {
		case "continue":
			d.AllowBackorder = true
		case "deny", "":
		default:
			fail(cInventoryPolicy, strconv.Quote(cell(cInventoryPolicy))+": want deny or continue")
		}
	}
	for _, b := range []struct {
		c   column
		f   fields
		dst *bool
	}{{cLotTracked, fLotTracked, &d.LotTracked}, {cSerialTracked, fSerialTracked, &d.SerialTracked}} {
		if !has(b.c) {
			continue
		}
		row.sets |= b.f
		v, ok := parseBool(cell(b.c))
		if !ok {
			fail(b.c, strconv.Quote(cell(b.c))+": want TRUE or FALSE")
		}
		*b.dst = v
	}
	if has(cKitComponents) {
		row.sets |= fComponents
		cs, err := parseComponents(cell(cKitComponents))
		if err != nil {
			fail(cKitComponents, err.Error())
		}
		d.Components = cs
	}
	switch s := strings.ToLower(strings.TrimSpace(g.status)); s {
	case "":
	case "active", "draft", "unlisted":
		row.Status = Active
	case "archived":
		row.Status = Archived
	default:
		fail(cStatus, strconv.Quote(g.status)+": want active, draft or archived")
	}

	pr.noteSKU(&row, &es)
	// Check the row as Validate will: over a base with a name when the file
	// has no Title (the name then comes from the stored product).
	base := Draft{}
	if row.sets&fName == 0 {
		base.Name = row.SKU
	}
	if _, err := row.Draft(base).Validate(pr.currency); err != nil {
		seen := map[string]bool{}
		for _, e := range es {
			seen[e.Column] = true
		}
		for _, e := range row.rowErrors(err) {
			if !seen[e.Column] || e.Column == "" {
				es = append(es, e)
			}
		}
	}
	return row, es, true
}

// noteSKU remembers the row's SKU and reports it when it was seen before.
func (pr *ProductReader) noteSKU(row *ProductRow, es *RowErrors) {
	if row.SKU == "" {
		return
	}
	if first, ok := pr.skus[row.SKU]; ok {
		if es != nil {
			*es = append(*es, RowError{Row: row.Row, Column: row.col(cSKU), Message: fmt.Sprintf("%q is also on row %d; each SKU may appear once", row.SKU, first)})
		}
		return
	}
	pr.skus[row.SKU] = row.Row
}

var weightUnits = map[string]float64{"": 1, "g": 1, "kg": 1000, "lb": 453.59237, "lbs": 453.59237, "oz": 28.349523125}

// parseNumber reads a plain decimal ("250", "0.5", "-3") and returns it
// times factor, rounded to a whole number.
func parseNumber(s string, factor float64) (int64, error) {
	digits := strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(digits, ".")
	if intPart == "" && frac == "" || strings.Trim(intPart, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" || len(digits) > 30 {
		return 0, errors.New("not a number")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errors.New("not a number")
	}
	v = math.Round(v * factor)
	if v > 1e15 || v < -1e15 {
		return 0, errors.New("too large")
	}
	return int64(v), nil
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "y", "1":
		return true, true
	case "false", "no", "n", "0", "":
		return false, true
	}
	return false, false
}

// plainAmount drops trailing zeros after the decimal point ("1500.00" →
// "1500"): exact for every currency, and it lets exports that always write
// two decimals carry prices in currencies with none (JPY).
func plainAmount(s, currency string) string {
	s = strings.TrimSpace(s)
	intPart, frac, ok := strings.Cut(s, ".")
	if !ok || intPart == "" || strings.Trim(frac, "0123456789") != "" {
		return s
	}
	digits, _ := money.Digits(currency)
	for len(frac) > digits && strings.HasSuffix(frac, "0") {
		frac = frac[:len(frac)-1]
	}
	if frac == "" {
		return intPart
	}
	return intPart + "." + frac
}

func splitList(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseComponents reads "STOVE-TI x1; MUG-ENM-WHT x2". A component
// without a quantity counts once.
func parseComponents(s string) ([]DraftComponent, error) {
	var out []DraftComponent
	for _, item := range splitList(s, ";") {
		f := strings.Fields(item)
		var qty string
		switch {
		case len(f) == 1:
			qty = "1"
		case len(f) == 2 && (strings.HasPrefix(f[1], "x") || strings.HasPrefix(f[1], "X")):
			qty = f[1][1:]
		case len(f) == 2 && strings.HasPrefix(f[1], "×"):
			qty = strings.TrimPrefix(f[1], "×")
		case len(f) == 2:
			qty = f[1]
		case len(f) == 3 && (f[1] == "x" || f[1] == "X" || f[1] == "×"):
			qty = f[2]
		default:
			return out, fmt.Errorf("%q: write each component as SKU xQUANTITY, separated by semicolons (e.g. STOVE-TI x1; MUG-ENM-WHT x2)", item)
		}
		n, err := strconv.ParseInt(qty, 10, 64)
		if err != nil || qty == "" || qty[0] == '+' || qty[0] == '-' {
			return out, fmt.Errorf("%q: the quantity must be a whole number, as in %s x2", item, f[0])
		}
		out = append(out, DraftComponent{SKU: f[0], Quantity: n})
	}
	return out, nil
}

// neutralize makes a cell safe to open in a spreadsheet (see csvcell).
func neutralize(s string) string { return csvcell.Neutralize(s) }

// unformula undoes neutralize.
func unformula(s string) string { return csvcell.Restore(s) }

// ProductWriter writes a product CSV: one row per SKU in Shopify's columns
// and Waybill's, UTF-8, with formula-like cells neutralised.
type ProductWriter struct {
	cw  *csv.Writer
	rec []string
}

// NewProductWriter starts a product CSV on w with its header row.
func NewProductWriter(w io.Writer) *ProductWriter {
	pw := &ProductWriter{cw: csv.NewWriter(w), rec: make([]string, exportColumns)}
	pw.cw.Write(ProductColumns())
	return pw
}

// Write adds one product.
func (pw *ProductWriter) Write(p Product) error {
	r := pw.rec
	clear(r)
	b := func(v bool) string {
		if v {
			return "TRUE"
		}
		return "FALSE"
	}
	amount := func(v *int64) string {
		if v == nil {
			return ""
		}
		return money.Amount{Minor: *v, Currency: p.Currency}.String()
	}
	r[cHandle] = strings.ToLower(p.SKU)
	r[cTitle] = p.Name
	r[cBody] = p.Description
	r[cVendor] = p.Vendor
	r[cType] = p.ProductType
	r[cTags] = strings.Join(p.Tags, ", ")
	r[cPublished] = b(p.ArchivedAt == nil)
	r[cOption1Name] = "Title"
	r[cOption1Value] = defaultTitle
	r[cSKU] = p.SKU
	r[cGrams] = strconv.FormatInt(p.WeightG, 10)
	r[cInventoryPolicy] = "deny"
	if p.AllowBackorder {
		r[cInventoryPolicy] = "continue"
	}
	r[cFulfillmentService] = "manual"
	r[cPrice] = amount(p.Price)
	r[cRequiresShipping] = "TRUE"
	r[cTaxable] = "TRUE"
	codes := make([]string, len(p.Barcodes))
	for i, bc := range p.Barcodes {
		codes[i] = bc.Code
	}
	r[cBarcode] = strings.Join(codes, ";")
	r[cGiftCard] = "FALSE"
	r[cWeightUnit] = "g"
	r[cCost] = amount(p.Cost)
	r[cStatus] = string(Active)
	if p.ArchivedAt != nil {
		r[cStatus] = string(Archived)
	}
	r[cLength] = strconv.FormatInt(p.LengthMM, 10)
	r[cWidth] = strconv.FormatInt(p.WidthMM, 10)
	r[cHeight] = strconv.FormatInt(p.HeightMM, 10)
	r[cHSCode] = p.HSCode
	r[cCountryOfOrigin] = p.CountryOfOrigin
	r[cCurrency] = p.Currency
	r[cLotTracked] = b(p.LotTracked)
	r[cSerialTracked] = b(p.SerialTracked)
	comps := make([]string, len(p.Components))
	for i, c := range p.Components {
		comps[i] = c.SKU + " x" + strconv.FormatInt(c.Quantity, 10)
	}
	r[cKitComponents] = strings.Join(comps, "; ")
	for i := range r {
		r[i] = neutralize(r[i])
	}
	return pw.cw.Write(r)
}

// Flush writes out what is buffered and reports any error of the writes.
func (pw *ProductWriter) Flush() error {
	pw.cw.Flush()
	return pw.cw.Error()
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
