package ordercsv

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/waybill/waybill/internal/money"
	"github.com/waybill/waybill/internal/order"
)

// Bounds that keep the sums of an order far from int64's limits; order.Check
// applies the same ones and reports them by field.
const (
	maxAmount    = 100_000_000_000_000
	maxUnitPrice = 100_000_000_000
)

// source is what an Order remembers of where its values came from, to put
// the field names of order.Check back into rows and columns.
type source struct {
	cols     *columns
	shopify  bool
	from     [numFields]int // the row of each order field; 0 when no row gave it
	lineRows []int          // the row of each of Input.Lines
	// Which column gave a value several columns can give.
	extID, custName, custPhone, shipLine1, billLine1 field
	// discounts spread from Discount Amount (Shopify) onto the lines.
	spread bool
}

// finish turns the rows of g into an Order; skip is true for an order
// with nothing to ship (Shopify lines without SKU that need no shipping:
// gift cards, tips).
func (rd *Reader) finish(g *group) (Order, bool) {
	src := &source{cols: rd.columns, shopify: rd.shopify, extID: fExternalID, custName: fCustName, custPhone: fCustPhone,
		shipLine1: fShipLine1, billLine1: fBillLine1}
	o := Order{FirstRow: g.first, LastRow: g.last, src: src}
	for f := range fSKU {
		if i := rd.idx[f]; i >= 0 {
			src.from[f] = g.from[i]
		}
	}
	get := func(f field) string {
		if i := rd.idx[f]; i >= 0 {
			return g.vals[i]
		}
		return ""
	}
	rowOf := func(f field) int {
		if r := src.from[f]; r > 0 {
			return r
		}
		return g.first
	}
	fail := func(f field, row int, msg string) {
		g.es = append(g.es, RowError{Row: row, Column: rd.names[f], Message: msg})
	}
	in := &o.Input

	in.Channel = get(fChannel)
	in.Number = get(fNumber)
	if rd.shopify {
		if in.Channel == "" {
			in.Channel = "shopify"
		}
		in.ExternalID, src.extID = get(fShopifyID), fShopifyID
		if in.ExternalID == "" {
			in.ExternalID, src.extID = g.name, fNumber
		}
	} else {
		if in.Channel == "" {
			in.Channel = "csv"
		}
		in.ExternalID = g.extID
	}
	if s := get(fPlacedAt); s != "" {
		if t, err := parseTime(s); err != nil {
			fail(fPlacedAt, rowOf(fPlacedAt), quote(s)+": "+err.Error())
		} else {
			in.PlacedAt = &t
		}
	}
	in.Currency = strings.ToUpper(get(fCurrency))
	in.Customer = order.Customer{Name: get(fCustName), Email: get(fCustEmail), Phone: get(fCustPhone)}
	if rd.shopify {
		// Shopify's export has no customer name of its own: the billing
		// name is the buyer's, the shipping name the recipient's.
		switch {
		case get(fBillName) != "":
			in.Customer.Name, src.custName = get(fBillName), fBillName
		case get(fShipName) != "":
			in.Customer.Name, src.custName = get(fShipName), fShipName
		}
		if in.Customer.Phone == "" && get(fBillPhone) != "" {
			in.Customer.Phone, src.custPhone = get(fBillPhone), fBillPhone
		}
	}
	address := func(name, company, line1, line2, street, city, region, postal, country, phone field, line1From *field) *order.Address {
		a := order.Address{Name: get(name), Company: get(company), Line1: get(line1), Line2: get(line2), City: get(city),
			Region: get(region), PostalCode: strings.TrimSpace(strings.TrimPrefix(get(postal), "'")), Country: get(country), Phone: get(phone)}
		if a.Line1 == "" && get(street) != "" {
			// Shopify's Street is Address1 and Address2 in one.
			a.Line1, a.Line2, *line1From = get(street), "", street
		}
		if a == (order.Address{}) {
			return nil
		}
		return &a
	}
	in.ShippingAddress = address(fShipName, fShipCompany, fShipLine1, fShipLine2, fShipStreet, fShipCity, fShipRegion, fShipPostal, fShipCountry, fShipPhone, &src.shipLine1)
	in.BillingAddress = address(fBillName, fBillCompany, fBillLine1, fBillLine2, fBillStreet, fBillCity, fBillRegion, fBillPostal, fBillCountry, fBillPhone, &src.billLine1)
	in.PaymentStatus = strings.ToLower(get(fPaymentStatus))
	if rd.shopify && in.PaymentStatus == "expired" {
		in.PaymentStatus = "voided" // an authorisation that lapsed: nothing was or will be paid
	}
	in.RiskLevel = strings.ToLower(get(fRiskLevel))
	in.Note = get(fNote)
	for _, t := range strings.Split(get(fTags), ",") {
		if t = strings.TrimSpace(t); t != "" {
			in.Tags = append(in.Tags, t)
		}
	}
	in.Cancelled = get(fCancelledAt) != ""
	// An order the shop already shipped comes in as fulfilled: history,
	// holding no stock.
	in.Fulfilled = strings.EqualFold(get(fFulfillmentStatus), "fulfilled")

	// Amounts are read in the order's currency, or in USD when it has none
	// that is valid (the currency is then reported by order.Check).
	cur := in.Currency
	if !money.ValidCurrency(cur) {
		cur = "USD"
	}
	format := func(v int64) string { return money.Amount{Minor: v, Currency: cur}.String() }
	if g.extra > 0 {
		g.es = append(g.es, RowError{Row: g.first, LastRow: g.last,
			Message: fmt.Sprintf("the order has %d line rows; an order may have at most %d lines", len(g.lines)+g.extra, order.MaxLines)})
	}
	if !rd.shopify {
		for _, l := range g.lines {
			li := order.LineInput{SKU: l.sku, Name: l.name, UnitPrice: plainAmount(l.price, cur), Discount: plainAmount(l.disc, cur)}
			if q, msg := parseQuantity(l.qty); msg != "" {
				fail(fQuantity, l.row, msg)
			} else {
				li.Quantity = q
			}
			if t := plainAmount(l.tax, cur); strings.Trim(t, "0.") != "" {
				li.TaxLines = []order.TaxInput{{Title: "Tax", Amount: t}}
			}
			in.Lines = append(in.Lines, li)
			src.lineRows = append(src.lineRows, l.row)
		}
		if title, code, price := get(fShipTitle), get(fShipCode), get(fShipPrice); title != "" || code != "" || price != "" {
			in.ShippingLines = []order.ShippingInput{{Title: title, Code: code, Price: plainAmount(price, cur)}}
		}
		return o, false
	}
	return o, rd.finishShopify(g, &o, get, rowOf, fail, cur, format)
}

// shopifyLine is one line item of a Shopify order, in minor units.
type shopifyLine struct {
	li          order.LineInput
	row         int
	gross, disc int64
	skip        bool
}

// finishShopify reads the line items and money of a Shopify order:
//
//   - Discount Amount is the order's whole discount, Lineitem discount
//     included; what the lines' own discounts do not account for is spread
//     over the lines in proportion to their price (money.Allocate, so the
//     parts add up exactly).
//   - Taxes (or the Tax N Name/Value pairs, when they add up to it) are
//     spread over the lines the same way, in proportion to what each line
//     costs after discounts. Shopify's export does not say how the tax
//     divides between items and shipping, and every order has a line but
//     not every one has shipping; per-line shares keep a return's tax
//     close to right, and the order's tax total is exact.
//   - Taxes are included in the prices when Total is lines + shipping
//     without them (VAT shops), else added.
//   - Total, when given, is passed on for order.Check to prove the sums.
//
// Lines without a SKU that need no shipping (gift cards, tips) are not
// Waybill's to fulfil and are left out; Total then cannot be checked. An
// order with nothing else is skipped (the result).
func (rd *Reader) finishShopify(g *group, o *Order, get func(field) string, rowOf func(field) int, fail func(field, int, string), cur string, format func(int64) string) bool {
	in, src := &o.Input, o.src
	amount := func(f field, row int, s string) (int64, bool) {
		if s == "" {
			return 0, false
		}
		v, err := parseAmount(s, cur)
		if err != nil {
			fail(f, row, err.Error())
			return 0, false
		}
		return v, true
	}
	lines := make([]shopifyLine, 0, len(g.lines))
	skipped := 0
	for _, l := range g.lines {
		sl := shopifyLine{row: l.row, li: order.LineInput{SKU: l.sku, Name: l.name}}
		if req, ok := parseBool(l.requiresShipping); l.sku == "" && l.requiresShipping != "" && ok && !req {
			sl.skip = true
			skipped++
		}
		report := fail
		if sl.skip {
			report = func(field, int, string) {} // not imported: its cells do not matter
		}
		if q, msg := parseQuantity(l.qty); msg != "" {
			report(fQuantity, l.row, msg)
		} else {
			sl.li.Quantity = q
		}
		var p int64
		ok := false
		if l.price == "" {
			report(fUnitPrice, l.row, "is required")
		} else if v, err := parseAmount(l.price, cur); err != nil {
			report(fUnitPrice, l.row, err.Error())
		} else if v > maxUnitPrice {
			report(fUnitPrice, l.row, quote(l.price)+": is too large")
		} else {
			p, ok = v, true
			sl.li.UnitPrice = format(v)
		}
		if ok && sl.li.Quantity > 0 {
			if p*sl.li.Quantity > maxAmount {
				report(fQuantity, l.row, "quantity × price is too large")
			} else {
				sl.gross = p * sl.li.Quantity
			}
		}
		if l.disc != "" {
			if v, err := parseAmount(l.disc, cur); err != nil {
				report(fLineDiscount, l.row, err.Error())
			} else {
				sl.disc = v
			}
		}
		lines = append(lines, sl)
	}
	if len(lines) > 0 && skipped == len(lines) {
		return true
	}

	var lineDisc, weightSum int64
	weights := make([]int64, len(lines))
	for i, l := range lines {
		lineDisc += l.disc
		weights[i] = max(l.gross-l.disc, 0)
		weightSum += weights[i]
	}
	if d, ok := amount(fDiscountAmount, rowOf(fDiscountAmount), get(fDiscountAmount)); ok {
		switch rest := d - lineDisc; {
		case rest < 0:
			fail(fDiscountAmount, rowOf(fDiscountAmount), fmt.Sprintf("%s is less than the lines' Lineitem discount (%s together); Discount Amount is the order's whole discount",
				quote(get(fDiscountAmount)), format(lineDisc)))
		case rest > weightSum:
			fail(fDiscountAmount, rowOf(fDiscountAmount), fmt.Sprintf("%s is more than the lines cost (%s)", quote(get(fDiscountAmount)), format(weightSum+lineDisc)))
		case rest > 0:
			parts, err := money.Allocate(money.Amount{Minor: rest, Currency: cur}, weights)
			if err != nil {
				fail(fDiscountAmount, rowOf(fDiscountAmount), err.Error())
				break
			}
			for i := range lines {
				lines[i].disc += parts[i].Minor
			}
			src.spread = true
		}
	}
	var net int64 // what the lines cost after discounts, skipped ones too
	for i := range lines {
		l := &lines[i]
		if l.disc > 0 {
			l.li.Discount = format(l.disc)
		}
		net += max(l.gross-l.disc, 0)
	}

	var ship int64
	if v, ok := amount(fShipPrice, rowOf(fShipPrice), get(fShipPrice)); ok {
		ship = v
	}
	if method := get(fShipTitle); method != "" || ship > 0 {
		if method == "" {
			method = "Shipping"
		}
		in.ShippingLines = []order.ShippingInput{{Title: method, Price: format(ship)}}
	}

	// Taxes, by name when the Tax N columns add up to Taxes.
	type tax struct {
		title  string
		amount int64
	}
	var taxes []tax
	var named int64
	for _, tc := range rd.taxes {
		if tc.value < 0 {
			continue
		}
		v := g.vals[tc.value]
		row := g.from[tc.value]
		a, err := parseAmount(v, cur)
		switch {
		case v == "":
			continue
		case err != nil:
			g.es = append(g.es, RowError{Row: row, Column: rd.columnName(tc.value), Message: err.Error()})
			continue
		case a == 0:
			continue
		}
		title := ""
		if tc.name >= 0 {
			title = g.vals[tc.name]
		}
		if title == "" {
			title = fmt.Sprintf("Tax %d", tc.n)
		}
		taxes = append(taxes, tax{title, a})
		named += a
	}
	total := named
	if v, ok := amount(fTaxes, rowOf(fTaxes), get(fTaxes)); ok {
		total = v
	} else if get(fTaxes) != "" {
		total = 0
	}
	if named != total {
		taxes = nil
		if total > 0 {
			taxes = []tax{{"Tax", total}}
		}
	}
	var kept []int
	for i, l := range lines {
		if !l.skip {
			kept = append(kept, i)
		}
	}
	if len(taxes) > 0 && len(kept) > 0 {
		w := make([]int64, len(kept))
		var sum int64
		for j, i := range kept {
			w[j] = max(lines[i].gross-lines[i].disc, 0)
			sum += w[j]
		}
		if sum == 0 {
			w[0] = 1 // nothing costs anything: the first line carries the tax
		}
		for _, t := range taxes {
			parts, err := money.Allocate(money.Amount{Minor: t.amount, Currency: cur}, w)
			if err != nil {
				fail(fTaxes, rowOf(fTaxes), err.Error())
				break
			}
			for j, i := range kept {
				if parts[j].Minor > 0 {
					lines[i].li.TaxLines = append(lines[i].li.TaxLines, order.TaxInput{Title: t.title, Rate: rateOf(t.title), Amount: format(parts[j].Minor)})
				}
			}
		}
	}
	for _, i := range kept {
		in.Lines = append(in.Lines, lines[i].li)
		src.lineRows = append(src.lineRows, lines[i].row)
	}
	if t, ok := amount(fTotal, rowOf(fTotal), get(fTotal)); ok {
		in.TaxesIncluded = total > 0 && t == net+ship
		if skipped == 0 {
			in.Total = format(t)
		}
	}
	return false
}

// parseQuantity reads a quantity; msg says what is wrong with it.
func parseQuantity(s string) (int64, string) {
	if s == "" {
		return 0, "is required"
	}
	// Spreadsheets sometimes write whole numbers as "2.0".
	t := s
	if i := strings.IndexByte(t, '.'); i > 0 && strings.Trim(t[i+1:], "0") == "" {
		t = t[:i]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || t[0] == '+' || n < 1 || n > order.MaxQuantity {
		return 0, fmt.Sprintf("%s: must be a whole number from 1 to %d", quote(s), order.MaxQuantity)
	}
	return n, ""
}

// parseAmount reads a non-negative amount in cur's minor units.
func parseAmount(s, cur string) (int64, error) {
	a, err := money.Parse(plainAmount(s, cur), cur)
	if err != nil {
		return 0, err
	}
	switch {
	case a.Minor < 0:
		return 0, errors.New(quote(s) + ": must not be negative")
	case a.Minor > maxAmount:
		return 0, errors.New(quote(s) + ": is too large")
	}
	return a.Minor, nil
}

// plainAmount drops zeros after the decimal point beyond what cur has
// ("1500.00" → "1500" for JPY): exact for every currency, and it lets files
// that always write two decimals carry prices in currencies with none.
func plainAmount(s, cur string) string {
	s = strings.TrimSpace(s)
	intPart, frac, ok := strings.Cut(s, ".")
	if !ok || intPart == "" || strings.Trim(frac, "0123456789") != "" {
		return s
	}
	digits, _ := money.Digits(cur)
	for len(frac) > digits && strings.HasSuffix(frac, "0") {
		frac = frac[:len(frac)-1]
	}
	if frac == "" {
		return intPart
	}
	return intPart + "." + frac
}

// timeLayouts are the times an order CSV may give: Shopify's export
// ("2024-01-15 10:23:45 -0500") and RFC 3339; times without a zone are UTC.
var timeLayouts = []string{"2006-01-02 15:04:05 -0700", time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("must be a time such as 2024-01-15T10:23:45Z or 2024-01-15 10:23:45 -0500")
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "y", "1":
		return true, true
	case "false", "no", "n", "0":
		return false, true
	}
	return false, false
}

var percentRe = regexp.MustCompile(`(?:^|[^0-9.,])([0-9]{1,3}(?:[.,][0-9]{1,4})?)\s*%`)

// rateOf reads the rate in a tax's name ("VAT 20%" → "0.2"), or "".
func rateOf(name string) string {
	m := percentRe.FindStringSubmatch(name)
	if m == nil {
		return ""
	}
	ip, fp, _ := strings.Cut(strings.Replace(m[1], ",", ".", 1), ".")
	digits, point := ip+fp, len(ip)-2 // divide by 100: the point moves two places left
	var whole, frac string
	if point <= 0 {
		whole, frac = "0", strings.Repeat("0", -point)+digits
	} else {
		whole, frac = digits[:point], digits[point:]
	}
	if whole = strings.TrimLeft(whole, "0"); whole == "" {
		whole = "0"
	}
	frac = strings.TrimRight(frac, "0")
	switch {
	case frac == "":
		return whole
	case len(frac) > 6:
		return ""
	}
	return whole + "." + frac
}
