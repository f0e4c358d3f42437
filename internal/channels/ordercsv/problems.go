package ordercsv

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/waybill/waybill/internal/errs"
)

// RowError is one problem of an order CSV. Rows are numbered as a
// spreadsheet shows them (the header is row 1); a problem of an order as a
// whole names all its rows, Row to LastRow.
//
// (catalog.RowError has no row range, and a channel adapter should not
// import the catalogue for one struct; hence this one.)
type RowError struct {
	Row     int
	LastRow int    // > Row when the problem is of rows Row to LastRow
	Column  string // as the file's header spells it; "" when the row or order as a whole is wrong
	Message string
}

func (e RowError) rows() string {
	if e.LastRow > e.Row {
		return fmt.Sprintf("rows %d-%d", e.Row, e.LastRow)
	}
	return fmt.Sprintf("row %d", e.Row)
}

func (e RowError) Error() string {
	if e.Column == "" {
		return e.rows() + ": " + e.Message
	}
	return e.rows() + ", " + e.Column + ": " + e.Message
}

// field is the name of the problem as a field of an Invalid error:
// "row 12: Lineitem quantity", "rows 12-14".
func (e RowError) field() string {
	if e.Column == "" {
		return e.rows()
	}
	return e.rows() + ": " + e.Column
}

// Problems puts the field errors of a check of o.Input (order.Check's,
// or any in the API's field names: "lines[2].quantity",
// "shipping_address.country") back into the rows and columns of the file
// they came from. An error without fields is a problem of the whole order.
func (o Order) Problems(err error) []RowError {
	if err == nil {
		return nil
	}
	whole := RowError{Row: o.FirstRow, LastRow: o.LastRow}
	fes := errs.Fields(err)
	if len(fes) == 0 {
		whole.Message = err.Error()
		var e *errs.Error
		if errors.As(err, &e) && e.Msg != "" {
			whole.Message = e.Msg
		}
		return []RowError{whole}
	}
	out := make([]RowError, 0, len(fes))
	for _, fe := range fes {
		msg := fe.Message
		if s, ok := fe.Value.(string); ok && strings.TrimSpace(s) != "" && !strings.HasPrefix(msg, `"`) && msg != "is required" {
			msg = quote(s) + ": " + msg
		}
		row, f, ok := o.locate(fe.Field)
		if !ok || o.src.cols.idx[f] < 0 {
			// No column of the file says it (a default, or the order as a whole).
			e := whole
			if ok {
				e.Row, e.LastRow = row, 0
			}
			e.Message = fe.Field + ": " + msg
			out = append(out, e)
			continue
		}
		out = append(out, RowError{Row: row, Column: o.src.cols.names[f], Message: msg})
	}
	return out
}

// locate finds the row and column an API field name of o.Input came from.
func (o Order) locate(name string) (int, field, bool) {
	src := o.src
	if src == nil {
		return 0, 0, false
	}
	at := func(f field) (int, field, bool) {
		if r := src.from[f]; r > 0 {
			return r, f, true
		}
		return o.FirstRow, f, true
	}
	base, index, sub := splitField(name)
	addr := func(fs map[string]field, line1 field) (int, field, bool) {
		if sub == "line1" {
			return at(line1)
		}
		if f, ok := fs[sub]; ok {
			return at(f)
		}
		return 0, 0, false
	}
	taxes := fLineTax
	if src.shopify {
		taxes = fTaxes
	}
	switch base {
	case "lines":
		if index < 0 || index >= len(src.lineRows) {
			return 0, 0, false
		}
		row := src.lineRows[index]
		switch {
		case sub == "sku":
			return row, fSKU, true
		case sub == "name":
			return row, fLineName, true
		case sub == "quantity":
			return row, fQuantity, true
		case sub == "unit_price":
			return row, fUnitPrice, true
		case sub == "discount" && src.spread:
			return at(fDiscountAmount)
		case sub == "discount":
			return row, fLineDiscount, true
		case strings.HasPrefix(sub, "tax_lines") && src.shopify:
			return at(fTaxes)
		case strings.HasPrefix(sub, "tax_lines"):
			return row, fLineTax, true
		}
	case "shipping_lines":
		switch {
		case sub == "title":
			return at(fShipTitle)
		case sub == "code":
			return at(fShipCode)
		case sub == "price":
			return at(fShipPrice)
		case strings.HasPrefix(sub, "tax_lines"):
			return at(taxes)
		}
	case "shipping_address":
		return addr(map[string]field{"name": fShipName, "company": fShipCompany, "line2": fShipLine2, "city": fShipCity,
			"region": fShipRegion, "postal_code": fShipPostal, "country": fShipCountry, "phone": fShipPhone}, src.shipLine1)
	case "billing_address":
		return addr(map[string]field{"name": fBillName, "company": fBillCompany, "line2": fBillLine2, "city": fBillCity,
			"region": fBillRegion, "postal_code": fBillPostal, "country": fBillCountry, "phone": fBillPhone}, src.billLine1)
	case "customer":
		switch sub {
		case "name":
			return at(src.custName)
		case "email":
			return at(fCustEmail)
		case "phone":
			return at(src.custPhone)
		}
	case "channel":
		return at(fChannel)
	case "external_id":
		return at(src.extID)
	case "number":
		return at(fNumber)
	case "currency":
		return at(fCurrency)
	case "placed_at":
		return at(fPlacedAt)
	case "payment_status":
		return at(fPaymentStatus)
	case "risk_level":
		return at(fRiskLevel)
	case "note":
		return at(fNote)
	case "tags":
		return at(fTags)
	case "total_price":
		return at(fTotal)
	}
	return 0, 0, false
}

// splitField splits "lines[2].tax_lines[0].amount" into "lines", 2 and
// "tax_lines[0].amount", and "shipping_address.country" into
// "shipping_address", -1 and "country".
func splitField(f string) (base string, index int, sub string) {
	i := strings.IndexAny(f, "[.")
	if i < 0 {
		return f, -1, ""
	}
	base, rest := f[:i], f[i:]
	index = -1
	if rest[0] == '[' {
		num, after, ok := strings.Cut(rest[1:], "]")
		if !ok {
			return base, -1, ""
		}
		n, err := strconv.Atoi(num)
		if err != nil {
			return base, -1, ""
		}
		index, rest = n, after
	}
	return base, index, strings.TrimPrefix(rest, ".")
}
