// Package document renders Waybill's business documents from plain data to
// bytes. Nothing here reads a database, the clock or a random source: the
// same input always gives the same bytes, so the output can be compared with
// golden files and sent again unchanged.
package document

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"math"
	"math/bits"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"

	"github.com/waybill/waybill/internal/csvcell"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/money"
)

// PurchaseOrder is what Waybill asks a dropship supplier to ship: which
// items, to whom, and what they cost us.
type PurchaseOrder struct {
	// Number identifies the purchase order, e.g. "PO-1042".
	Number string
	// IssuedAt is when the order was issued. Its date is printed in its own
	// time zone; it is also the PDF's creation date.
	IssuedAt time.Time
	// Merchant is the shop that buys: the sender of the order.
	Merchant Party
	// Supplier is who is asked to ship.
	Supplier Party
	// ShipTo is the customer the supplier ships to.
	ShipTo ShipTo
	// OrderNumber is the customer's order, for the packing slip.
	OrderNumber string
	// Lines are the items to ship, at least one, all priced in the same
	// currency.
	Lines []Line
	// Note is free text for the supplier; it may have several lines.
	Note string
	// PortalURL is the supplier's link to confirm, reject or add tracking. It
	// is optional, and must be an http or https URL when given.
	PortalURL string
}

// Party is a business on the order: a name, a postal address (one line of
// text per line, may be empty) and an e-mail address.
type Party struct {
	Name    string
	Address string
	Email   string
}

// ShipTo is the delivery address.
type ShipTo struct {
	Name       string
	Company    string
	Line1      string
	Line2      string
	City       string
	Region     string
	PostalCode string
	Country    string
	Phone      string
}

// Line is one item on a purchase order: Quantity units at UnitCost each.
type Line struct {
	SKU      string
	Name     string
	Quantity int64
	UnitCost money.Amount
}

// Totals returns each line's total (quantity × unit cost) and their sum, in
// the lines' currency. It fails with an Invalid error when the order is not
// valid (see PurchaseOrderPDF) or a total does not fit in int64 minor units.
func (po PurchaseOrder) Totals() (lines []money.Amount, total money.Amount, err error) {
	t, err := po.check("document.PurchaseOrder.Totals")
	if err != nil {
		return nil, money.Amount{}, err
	}
	return t.lines, t.total, nil
}

// totals is a checked purchase order's arithmetic.
type totals struct {
	currency string
	lines    []money.Amount
	total    money.Amount
	units    int64
}

// check validates po and works out its totals.
func (po PurchaseOrder) check(op string) (totals, error) {
	var fe errs.FieldList
	if strings.TrimSpace(po.Number) == "" {
		fe.Add("number", "must not be empty", po.Number)
	}
	if po.IssuedAt.IsZero() {
		fe.Add("issued_at", "must be set", nil)
	}
	if po.PortalURL != "" && !webURL(po.PortalURL) {
		fe.Add("portal_url", "must be an absolute http or https URL", po.PortalURL)
	}
	if len(po.Lines) == 0 {
		fe.Add("lines", "needs at least one line", nil)
	}
	t := totals{}
	if len(po.Lines) > 0 {
		t.currency = po.Lines[0].UnitCost.Currency
		if !money.ValidCurrency(t.currency) {
			fe.Add("lines[0].unit_cost.currency", "must be an ISO 4217 code such as USD", t.currency)
		}
	}
	for i, l := range po.Lines {
		field := func(name string) string { return fmt.Sprintf("lines[%d].%s", i, name) }
		if strings.TrimSpace(l.SKU) == "" {
			fe.Add(field("sku"), "must not be empty", l.SKU)
		}
		if l.Quantity < 1 {
			fe.Add(field("quantity"), "must be at least 1", l.Quantity)
		}
		if l.UnitCost.Minor < 0 {
			fe.Add(field("unit_cost"), "must not be negative", l.UnitCost.String())
		}
		if i > 0 && l.UnitCost.Currency != t.currency && money.ValidCurrency(t.currency) {
			fe.Add(field("unit_cost.currency"), "must be "+t.currency+" like the first line's", l.UnitCost.Currency)
		}
	}
	if err := fe.Err(op); err != nil {
		return totals{}, err
	}

	t.lines = make([]money.Amount, len(po.Lines))
	for i, l := range po.Lines {
		hi, lo := bits.Mul64(uint64(l.Quantity), uint64(l.UnitCost.Minor))
		if hi != 0 || lo > math.MaxInt64 {
			return totals{}, errs.InvalidFields(op, errs.FieldError{Field: fmt.Sprintf("lines[%d]", i), Message: "quantity × unit cost is too large"})
		}
		t.lines[i] = money.Amount{Minor: int64(lo), Currency: t.currency}
		if t.units > math.MaxInt64-l.Quantity {
			return totals{}, errs.InvalidFields(op, errs.FieldError{Field: "lines", Message: "the quantities add up to too many units"})
		}
		t.units += l.Quantity
	}
	total, err := money.Sum(t.currency, t.lines...)
	if err != nil {
		return totals{}, errs.InvalidFields(op, errs.FieldError{Field: "lines", Message: "the line totals add up to too large an amount"})
	}
	t.total = total
	return t, nil
}

// webURL reports whether s is an absolute http or https URL with a host.
func webURL(s string) bool {
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// csvHeader is the header row of PurchaseOrderCSV.
var csvHeader = []string{
	"po_number", "order_number", "sku", "name", "quantity", "unit_cost", "currency",
	"ship_to_name", "ship_to_company", "ship_to_line1", "ship_to_line2", "ship_to_city",
	"ship_to_region", "ship_to_postal_code", "ship_to_country", "ship_to_phone",
}

// PurchaseOrderCSV renders po as CSV: a header row, then one row per line
// with the order's numbers and ship-to address repeated, so a supplier can
// import it line by line. Unit costs are plain decimals with
// the currency's digits ("12.50", "1500" for JPY). Cells a spreadsheet would
// run as a formula are neutralised (see csvcell). It fails with an Invalid
// error when po is not valid (see PurchaseOrderPDF).
func PurchaseOrderCSV(po PurchaseOrder) ([]byte, error) {
	const op = "document.PurchaseOrderCSV"
	t, err := po.check(op)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(csvHeader); err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	s := po.ShipTo
	for _, l := range po.Lines {
		row := []string{
			po.Number, po.OrderNumber, l.SKU, l.Name,
			strconv.FormatInt(l.Quantity, 10), l.UnitCost.String(), t.currency,
			s.Name, s.Company, s.Line1, s.Line2, s.City,
			s.Region, s.PostalCode, s.Country, s.Phone,
		}
		for i, c := range row {
			row[i] = csvcell.Neutralize(strings.ToValidUTF8(c, "\uFFFD"))
		}
		if err := w.Write(row); err != nil {
			return nil, errs.E(op, errs.Internal, err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	return buf.Bytes(), nil
}

// The PDF uses DejaVu Sans Condensed (regular and bold, unmodified, from
// fpdf's font directory; licence in fonts/LICENSE). fpdf embeds only the
// glyphs a document uses, and the font covers Latin, Greek and Cyrillic
// scripts, among others, where the PDF core fonts would cover cp1252 only
// ("Łódź" would lose its Ł and ź). It has no CJK glyphs.
var (
	//go:embed fonts/DejaVuSansCondensed.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSansCondensed-Bold.ttf
	fontBold []byte
)

const fontFamily = "DejaVuSansCondensed"

// pageCountAlias stands for the number of pages until the PDF is written.
const pageCountAlias = "{waybill-page-count}"

// Page geometry, in millimetres. The page is A4, but everything (the footer
// too) stays within 210 × 279.4 mm less margins, the area both A4 and US
// Letter hold, so the PDF prints unscaled on either paper.
const (
	pageWidth    = 210.0
	pageHeight   = 297.0
	marginX      = 15.0
	marginTop    = 20.0
	bodyBottom   = 252.0 // body content ends above this line
	footerY      = 258.0
	contentWidth = pageWidth - 2*marginX

	lineHeight   = 4.2 // body text at bodySize
	bodySize     = 9.0
	labelSize    = 7.5
	maxBlockRows = 10 // lines of text in one address block
	maxCellRows  = 12 // lines of text in one table cell
)

// Table columns: SKU, item, quantity, unit cost, line total.
var columns = [5]struct {
	title string
	width float64
	align string
}{
	{"SKU", 34, "L"},
	{"Item", 76, "L"},
	{"Qty", 16, "R"},
	{"Unit cost", 27, "R"},
	{"Line total", 27, "R"},
}

// PurchaseOrderPDF renders po as a PDF: the number and date, the merchant
// and the supplier, the ship-to address and customer order number, a table
// of the lines with their totals, the note, and the portal link. Long text
// wraps; a table longer than a page continues on the next with its header
// repeated. The output is deterministic.
//
// It fails with an Invalid error when po is not valid: it needs a number,
// an issue time, at least one line, and every line needs a SKU, a quantity
// of at least 1 and a non-negative unit cost in one valid currency. Other
// fields are printed as given, empty or not.
func PurchaseOrderPDF(po PurchaseOrder) ([]byte, error) {
	return purchaseOrderPDF(po, true)
}

// purchaseOrderPDF renders with or without compressed streams; the tests
// read the uncompressed form.
func purchaseOrderPDF(po PurchaseOrder, compress bool) (out []byte, err error) {
	const op = "document.PurchaseOrderPDF"
	t, err := po.check(op)
	if err != nil {
		return nil, err
	}
	defer func() {
		// fpdf reports most failures through Error, but a few inputs make
		// it panic; a purchase order is not worth a crash.
		if r := recover(); r != nil {
			out, err = nil, errs.E(op, errs.Internal, fmt.Sprintf("PDF rendering failed: %v", r))
		}
	}()

	f := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "P", UnitStr: "mm", SizeStr: "A4"})
	f.SetCompression(compress)
	f.SetCatalogSort(true)
	f.SetCreationDate(po.IssuedAt.UTC())
	f.SetModificationDate(po.IssuedAt.UTC())
	f.SetProducer("Waybill", false)
	f.SetCreator("Waybill", false)
	f.SetTitle(text("Purchase order "+po.Number), true)
	if name := text(po.Merchant.Name); name != "" {
		f.SetAuthor(name, true)
	}
	f.AddUTF8FontFromBytes(fontFamily, "", fontRegular)
	f.AddUTF8FontFromBytes(fontFamily, "B", fontBold)
	f.SetMargins(marginX, marginTop, marginX)
	f.SetAutoPageBreak(true, pageHeight-bodyBottom)
	f.AliasNbPages(pageCountAlias)

	w := &pdfWriter{f: f, po: &po, t: t}
	f.SetHeaderFunc(w.pageHeader)
	f.SetFooterFunc(w.pageFooter)
	f.AddPage()
	w.title()
	w.parties()
	w.table()
	w.note()
	w.portal()

	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, errs.E(op, errs.Internal, "PDF rendering failed", err)
	}
	return buf.Bytes(), nil
}

type pdfWriter struct {
	f  *fpdf.Fpdf
	po *PurchaseOrder
	t  totals
}

// Colours, as RGB.
var (
	colorText  = [3]int{0x22, 0x22, 0x22}
	colorMuted = [3]int{0x66, 0x66, 0x66}
	colorRule  = [3]int{0xbb, 0xbb, 0xbb}
	colorFill  = [3]int{0xee, 0xee, 0xee}
	colorLink  = [3]int{0x06, 0x45, 0xad}
)

func (w *pdfWriter) color(c [3]int) { w.f.SetTextColor(c[0], c[1], c[2]) }

func (w *pdfWriter) font(style string, size float64) { w.f.SetFont(fontFamily, style, size) }

// rule draws a thin horizontal line across the content at y.
func (w *pdfWriter) rule(y float64) {
	w.f.SetDrawColor(colorRule[0], colorRule[1], colorRule[2])
	w.f.SetLineWidth(0.2)
	w.f.Line(marginX, y, pageWidth-marginX, y)
}

// pageHeader marks the pages after the first as a continuation.
func (w *pdfWriter) pageHeader() {
	if w.f.PageNo() == 1 {
		return
	}
	w.font("", labelSize)
	w.color(colorMuted)
	w.f.SetXY(marginX, marginTop)
	w.f.CellFormat(contentWidth, lineHeight, "Purchase order "+text(w.po.Number)+" (continued)", "", 1, "L", false, 0, "")
	w.f.SetY(marginTop + lineHeight + 3)
	w.color(colorText)
}

// pageFooter prints the PO number and "Page n of m" on the left (where the
// page count, filled in at the end, cannot shift it) and the merchant on
// the right.
func (w *pdfWriter) pageFooter() {
	w.font("", labelSize)
	w.color(colorMuted)
	w.f.SetXY(marginX, footerY)
	w.f.CellFormat(contentWidth/2, lineHeight, fmt.Sprintf("%s · Page %d of %s", text(w.po.Number), w.f.PageNo(), pageCountAlias), "", 0, "L", false, 0, "")
	w.f.CellFormat(contentWidth/2, lineHeight, text(w.po.Merchant.Name), "", 0, "R", false, 0, "")
	w.color(colorText)
}

// title prints "Purchase order", the number and the date.
func (w *pdfWriter) title() {
	f := w.f
	y := marginTop
	w.color(colorText)
	w.font("B", 18)
	f.SetXY(marginX, y)
	f.CellFormat(contentWidth/2, 9, "Purchase order", "", 0, "L", false, 0, "")
	number := text(w.po.Number)
	w.fitFont("B", 13, number, contentWidth/2)
	f.SetXY(marginX+contentWidth/2, y)
	f.CellFormat(contentWidth/2, 9, number, "", 0, "R", false, 0, "")
	w.font("", bodySize)
	w.color(colorMuted)
	f.SetXY(marginX+contentWidth/2, y+9)
	f.CellFormat(contentWidth/2, lineHeight, "Issued "+w.po.IssuedAt.Format("2006-01-02"), "", 0, "R", false, 0, "")
	w.color(colorText)
	w.rule(y + 16)
	f.SetY(y + 20)
}

// block is one labelled group of lines; the first is printed in bold.
type block struct {
	label string
	lines []string
}

// parties prints the merchant and supplier side by side, then the ship-to
// address beside the customer's order number.
func (w *pdfWriter) parties() {
	po := w.po
	from := block{"FROM", partyLines(po.Merchant)}
	supplier := block{"SUPPLIER", partyLines(po.Supplier)}
	s := po.ShipTo
	shipTo := block{"SHIP TO", nonEmpty(
		text(s.Name), text(s.Company), text(s.Line1), text(s.Line2),
		joinNonEmpty(", ", text(s.City), joinNonEmpty(" ", text(s.Region), text(s.PostalCode))),
		text(s.Country),
		prefixed("Phone: ", text(s.Phone)),
	)}
	order := block{"CUSTOMER ORDER", nil}
	if n := text(po.OrderNumber); n != "" {
		order.lines = []string{n, "Please show this order number on the packing slip."}
	}
	w.blockRow(from, supplier)
	w.blockRow(shipTo, order)
}

// blockRow prints two blocks in columns and moves below the taller.
func (w *pdfWriter) blockRow(left, right block) {
	const gap = 10.0
	colWidth := (contentWidth - gap) / 2
	y := w.f.GetY()
	endLeft := w.block(left, marginX, y, colWidth)
	endRight := w.block(right, marginX+colWidth+gap, y, colWidth)
	w.f.SetY(max(endLeft, endRight) + 5)
}

// block prints b at (x, y) in width and returns where it ends.
func (w *pdfWriter) block(b block, x, y, width float64) float64 {
	f := w.f
	w.font("", labelSize)
	w.color(colorMuted)
	f.SetXY(x, y)
	f.CellFormat(width, lineHeight, b.label, "", 0, "L", false, 0, "")
	y += lineHeight
	w.color(colorText)
	type row struct{ style, text string }
	var rows []row
	for i, l := range b.lines {
		style := ""
		if i == 0 {
			style = "B"
		}
		w.font(style, bodySize)
		for _, part := range w.wrap(l, width) {
			rows = append(rows, row{style, part})
		}
	}
	if len(rows) > maxBlockRows {
		rows = rows[:maxBlockRows]
		last := &rows[maxBlockRows-1]
		w.font(last.style, bodySize)
		last.text = w.ellipsis(last.text, width)
	}
	for _, r := range rows {
		w.font(r.style, bodySize)
		f.SetXY(x, y)
		f.CellFormat(width, lineHeight, r.text, "", 0, "L", false, 0, "")
		y += lineHeight
	}
	if len(b.lines) == 0 {
		w.font("", bodySize)
		w.color(colorMuted)
		f.SetXY(x, y)
		f.CellFormat(width, lineHeight, "—", "", 0, "L", false, 0, "")
		w.color(colorText)
		y += lineHeight
	}
	return y
}

// table prints the lines with a header row and a totals row.
func (w *pdfWriter) table() {
	f := w.f
	w.font("", labelSize)
	w.color(colorMuted)
	f.SetX(marginX)
	f.CellFormat(contentWidth, lineHeight, "ITEMS (AMOUNTS IN "+w.t.currency+")", "", 1, "L", false, 0, "")
	w.color(colorText)
	w.tableHeader()
	for i, l := range w.po.Lines {
		w.tableRow([5]string{
			text(l.SKU), text(l.Name), strconv.FormatInt(l.Quantity, 10),
			l.UnitCost.String(), w.t.lines[i].String(),
		}, "")
	}
	w.tableRow([5]string{"", "Total " + w.t.currency, strconv.FormatInt(w.t.units, 10), "", w.t.total.String()}, "B")
	f.Ln(4)
}

// tableHeader prints the column titles on a grey band.
func (w *pdfWriter) tableHeader() {
	f := w.f
	w.font("B", bodySize)
	f.SetFillColor(colorFill[0], colorFill[1], colorFill[2])
	f.SetX(marginX)
	for _, c := range columns {
		f.CellFormat(c.width, lineHeight+2, c.title, "", 0, c.align, true, 0, "")
	}
	f.Ln(lineHeight + 2)
}

// tableRow prints one row; text columns wrap, number columns shrink to fit.
// A row that does not fit on the page starts a new page under a repeated
// header.
func (w *pdfWriter) tableRow(cells [5]string, style string) {
	f := w.f
	w.font(style, bodySize)
	var wrapped [5][]string
	rows := 1
	for i, c := range cells {
		if columns[i].align == "R" {
			wrapped[i] = []string{c}
			continue
		}
		ls := w.wrap(c, columns[i].width)
		if len(ls) > maxCellRows {
			ls = ls[:maxCellRows]
			ls[maxCellRows-1] = w.ellipsis(ls[maxCellRows-1], columns[i].width)
		}
		wrapped[i] = ls
		rows = max(rows, len(ls))
	}
	const pad = 0.8
	height := float64(rows)*lineHeight + 2*pad
	if f.GetY()+height > bodyBottom {
		f.AddPage()
		w.tableHeader()
		w.font(style, bodySize)
	}
	y := f.GetY()
	x := marginX
	for i, c := range columns {
		for j, l := range wrapped[i] {
			if c.align == "R" {
				w.fitFont(style, bodySize, l, c.width)
			}
			f.SetXY(x, y+pad+float64(j)*lineHeight)
			f.CellFormat(c.width, lineHeight, l, "", 0, c.align, false, 0, "")
			w.font(style, bodySize)
		}
		x += c.width
	}
	w.rule(y + height)
	f.SetXY(marginX, y+height)
}

// note prints the note, if any, under a heading.
func (w *pdfWriter) note() {
	paras := paragraphs(w.po.Note)
	if len(paras) == 0 {
		return
	}
	w.heading("NOTE")
	w.font("", bodySize)
	w.f.MultiCell(contentWidth, lineHeight, strings.Join(paras, "\n"), "", "L", false)
	w.f.Ln(4)
}

// portal prints the supplier's link as text that can be clicked.
func (w *pdfWriter) portal() {
	u := w.po.PortalURL
	if u == "" {
		return
	}
	f := w.f
	w.heading("CONFIRM, REJECT OR ADD TRACKING")
	w.font("", bodySize)
	f.MultiCell(contentWidth, lineHeight, "Open this link to confirm or reject this purchase order, and to enter the carrier and tracking number once it has shipped. No login is needed.", "", "L", false)
	f.Ln(1)
	w.color(colorLink)
	w.font("", bodySize)
	for _, l := range w.wrap(u, contentWidth) {
		f.SetX(marginX)
		f.CellFormat(contentWidth, lineHeight, l, "", 1, "L", false, 0, u)
	}
	w.color(colorText)
}

// heading prints a small section label, on a new page when there is no room
// for it and two lines under it.
func (w *pdfWriter) heading(s string) {
	f := w.f
	if f.GetY()+3*lineHeight > bodyBottom {
		f.AddPage()
	}
	w.font("", labelSize)
	w.color(colorMuted)
	f.SetX(marginX)
	f.CellFormat(contentWidth, lineHeight, s, "", 1, "L", false, 0, "")
	w.color(colorText)
}

// wrap splits s into lines that fit width in the current font.
func (w *pdfWriter) wrap(s string, width float64) []string {
	if s == "" {
		return []string{""}
	}
	ls := w.f.SplitText(s, width)
	if len(ls) == 0 {
		return []string{""}
	}
	return ls
}

// fitFont sets the font at size, or smaller (down to 5 pt) when s would not
// fit width otherwise.
func (w *pdfWriter) fitFont(style string, size float64, s string, width float64) {
	room := width - 2*w.f.GetCellMargin()
	for {
		w.font(style, size)
		if size <= 5 || w.f.GetStringWidth(s) <= room {
			return
		}
		size -= 0.5
	}
}

// text makes s printable: valid UTF-8 on one line, with runs of spaces,
// line breaks and other control characters turned into single spaces, and
// characters outside the Basic Multilingual Plane (which fpdf's font
// subsetting cannot handle) replaced by U+FFFD.
func text(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r > 0xFFFF {
			return utf8.RuneError
		}
		return r
	}, s)
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// paragraphs splits multi-line s into printable lines, keeping single blank
// lines between paragraphs and dropping blank lines at either end.
func paragraphs(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		l = text(l)
		if l == "" && (len(out) == 0 || out[len(out)-1] == "") {
			continue
		}
		out = append(out, l)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// partyLines is a party's name, address lines and e-mail address.
func partyLines(p Party) []string {
	var ls []string
	for _, l := range append([]string{text(p.Name)}, paragraphs(p.Address)...) {
		if l != "" {
			ls = append(ls, l)
		}
	}
	return append(ls, nonEmpty(text(p.Email))...)
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func joinNonEmpty(sep string, ss ...string) string { return strings.Join(nonEmpty(ss...), sep) }

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// ellipsis marks a line as cut short with "…", dropping characters from
// its end until it fits width in the current font.
func (w *pdfWriter) ellipsis(s string, width float64) string {
	room := width - 2*w.f.GetCellMargin()
	r := []rune(s)
	for {
		out := strings.TrimRight(string(r), " ") + "…"
		if len(r) == 0 || w.f.GetStringWidth(out) <= room {
			return out
		}
		r = r[:len(r)-1]
	}
}
