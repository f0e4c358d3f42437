package inventory_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/testenv"
)

// readStock reads a whole stock CSV: the rows that read cleanly and every
// error as its text.
func readStock(t testing.TB, in string) ([]inventory.StockRow, []string) {
	t.Helper()
	sr, err := inventory.NewStockReader(strings.NewReader(in))
	var re inventory.RowErrors
	if errors.As(err, &re) {
		return nil, rowErrorTexts(re)
	}
	if err != nil {
		t.Fatalf("header: %v", err)
	}
	var rows []inventory.StockRow
	var msgs []string
	for {
		row, err := sr.Next()
		if err == io.EOF {
			return rows, msgs
		}
		if errors.As(err, &re) {
			msgs = append(msgs, rowErrorTexts(re)...)
			continue
		}
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		rows = append(rows, row)
	}
}

func rowErrorTexts(re []inventory.RowError) []string {
	var out []string
	for _, e := range re {
		out = append(out, e.Error())
	}
	return out
}

func TestStockReader(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		rows []inventory.StockRow
		errs []string
	}{
		{name: "all columns", in: "sku,facility,bin,lot,quantity\nMUG,MAIN,A-01,L1,7\nMUG,MAIN,,,0\n",
			rows: []inventory.StockRow{{Row: 2, SKU: "MUG", Facility: "MAIN", Bin: "A-01", Lot: "L1", Quantity: 7}, {Row: 3, SKU: "MUG", Facility: "MAIN"}}},
		{name: "any order, any case, BOM, CRLF, no bin or lot column, trailing cells dropped",
			in:   "\uFEFFQuantity,Facility,SKU\r\n 12 , MAIN , MUG \r\n3,EU1,STOVE\r\n",
			rows: []inventory.StockRow{{Row: 2, SKU: "MUG", Facility: "MAIN", Quantity: 12}, {Row: 3, SKU: "STOVE", Facility: "EU1", Quantity: 3}}},
		{name: "empty rows are skipped, numbering goes on", in: "sku,facility,quantity\n,,\nMUG,MAIN,1\n",
			rows: []inventory.StockRow{{Row: 3, SKU: "MUG", Facility: "MAIN", Quantity: 1}}},
		{name: "neutralised cells come back", in: "sku,facility,bin,lot,quantity\n'=MUG,MAIN,'-A,'+1,5\n",
			rows: []inventory.StockRow{{Row: 2, SKU: "=MUG", Facility: "MAIN", Bin: "-A", Lot: "+1", Quantity: 5}}},
		{name: "empty file", in: "", errs: []string{"row 1: the file is empty; a stock CSV starts with the header sku,facility,bin,lot,quantity"}},
		{name: "missing column", in: "sku,quantity\nMUG,1\n", errs: []string{"row 1: the file has no facility column; the columns are sku, facility, bin, lot and quantity"}},
		{name: "unknown and twice", in: "sku,facility,qty,SKU\n", errs: []string{
			"row 1, qty: unknown column; the columns are sku, facility, bin, lot and quantity", "row 1, SKU: this column appears twice"}},
		{name: "semicolons", in: "sku;facility;quantity\n", errs: []string{"row 1, sku;facility;quantity: unknown column; the columns are sku, facility, bin, lot and quantity (separated by commas)"}},
		{name: "bad rows", in: "SKU,facility,lot,Quantity\n,MAIN,,1\nMUG,,,\nMUG,MAIN,,-1\nMUG,MAIN,,1.5\nMUG,MAIN,,+2\nMUG,MAIN," + strings.Repeat("x", 101) + ",1000000001\nMUG,MAIN,,2\n",
			rows: []inventory.StockRow{{Row: 8, SKU: "MUG", Facility: "MAIN", Quantity: 2}},
			errs: []string{
				"row 2, SKU: is required",
				"row 3, facility: is required (a facility code)",
				"row 3, Quantity: is required (the units there now; 0 when none)",
				`row 4, Quantity: "-1": must be a whole number from 0 to 1000000000`,
				`row 5, Quantity: "1.5": must be a whole number from 0 to 1000000000`,
				`row 6, Quantity: "+2": must be a whole number from 0 to 1000000000`,
				"row 7, lot: must be at most 100 characters",
				`row 7, Quantity: "1000000001": must be a whole number from 0 to 1000000000`,
			}},
		{name: "stray quote ends reading", in: "sku,facility,quantity\nMUG,MAIN,1\nM\"UG,MAIN,1\nX,MAIN,1\n",
			rows: []inventory.StockRow{{Row: 2, SKU: "MUG", Facility: "MAIN", Quantity: 1}},
			errs: []string{`row 3: not valid CSV at line 3, column 2: bare " in non-quoted-field (a double quote inside a cell must be doubled, and the cell quoted)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, msgs := readStock(t, tc.in)
			if diff := cmp.Diff(tc.rows, rows); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.errs, msgs); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStockWriterNeutralises(t *testing.T) {
	var buf bytes.Buffer
	w := inventory.NewStockWriter(&buf)
	w.Write(inventory.StockRow{SKU: "=HYPERLINK(\"x\")", Facility: "MAIN", Bin: "-1", Lot: "@a", Quantity: 3})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "sku,facility,bin,lot,quantity\n\"'=HYPERLINK(\"\"x\"\")\",MAIN,'-1,'@a,3\n"
	if buf.String() != want {
		t.Fatalf("got %q, want %q", buf.String(), want)
	}
	rows, msgs := readStock(t, buf.String())
	if len(msgs) > 0 || len(rows) != 1 || rows[0].SKU != "=HYPERLINK(\"x\")" || rows[0].Bin != "-1" || rows[0].Lot != "@a" {
		t.Fatalf("read back: %+v %v", rows, msgs)
	}
}

// FuzzStockReader: the parser never panics or loops, every row it accepts
// is valid, and writing the accepted rows reads back the same rows.
func FuzzStockReader(f *testing.F) {
	f.Add([]byte("sku,facility,bin,lot,quantity\nMUG,MAIN,A-01,L1,7\nMUG,MAIN,,,0\n"))
	f.Add([]byte("\uFEFFQuantity,Facility,SKU\r\n 12 , MAIN , MUG \r\n"))
	f.Add([]byte("sku,facility,quantity\n'=1,\"a,b\",3\n,,\n\"x\ny\",M,1\n"))
	f.Add([]byte("sku,facility,quantity\nM\"UG,MAIN,1\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		sr, err := inventory.NewStockReader(bytes.NewReader(in))
		if err != nil {
			var re inventory.RowErrors
			if !errors.As(err, &re) || len(re) == 0 {
				t.Fatalf("header error %v is not RowErrors", err)
			}
			return
		}
		var rows []inventory.StockRow
		last := 1
		for i := 0; ; i++ {
			if i > len(in)+1 {
				t.Fatal("reader does not advance")
			}
			row, err := sr.Next()
			if err == io.EOF {
				break
			}
			if row.Row <= last {
				t.Fatalf("row %d after row %d", row.Row, last)
			}
			last = row.Row
			if err != nil {
				var re inventory.RowErrors
				if !errors.As(err, &re) || len(re) == 0 {
					t.Fatalf("row error %v is not RowErrors", err)
				}
				continue
			}
			if row.SKU == "" || row.Facility == "" || row.Quantity < 0 || row.Quantity > 1_000_000_000 {
				t.Fatalf("accepted an invalid row: %+v", row)
			}
			rows = append(rows, row)
		}
		var buf bytes.Buffer
		w := inventory.NewStockWriter(&buf)
		for _, r := range rows {
			w.Write(r)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		back, msgs := readStock(t, buf.String())
		if len(msgs) > 0 || len(back) != len(rows) {
			t.Fatalf("written rows read back with errors %v (%d of %d rows)\n%q", msgs, len(back), len(rows), buf.String())
		}
		for i := range rows {
			a, b := rows[i], back[i]
			a.Row, b.Row = 0, 0
			if a != b {
				t.Fatalf("row %d: wrote %+v, read %+v", i, a, b)
			}
		}
	})
}

func TestImportExportStock(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := setup(t, e)
		ctx := context.Background()
		mug := f.product(t, "MUG", false)
		f.product(t, "STOVE", false)
		f.product(t, "SET", false, catalog.DraftComponent{SKU: "MUG", Quantity: 2})
		main := f.facility(t, "MAIN", inventory.Own, 1)
		f.facility(t, "EU1", inventory.ThreePL, 2)
		for _, code := range []string{"A-01", "B-01"} {
			if _, err := f.inv.CreateBin(ctx, f.tenant, main.ID, inventory.BinInput{Code: code}); err != nil {
				t.Fatal(err)
			}
		}
		f.receive(t, "MUG", "MAIN", 5) // unassigned
		if _, _, err := f.inv.Adjust(ctx, f.tenant, inventory.Adjustment{SKU: "MUG", Facility: "MAIN", Bin: "A-01", Quantity: 3, Kind: inventory.Receive}); err != nil {
			t.Fatal(err)
		}
		imp := func(csv string, opts inventory.StockImportOptions) (inventory.StockImportResult, error) {
			t.Helper()
			if opts.Actor == "" {
				opts.Actor = "user:test"
			}
			return f.inv.ImportStock(ctx, f.tenant, strings.NewReader(csv), opts)
		}
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := f.db.R.QueryRow(q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		movements := func() int { return count(`SELECT COUNT(*) FROM stock_movements`) }
		events := func() int { return count(`SELECT COUNT(*) FROM events`) }

		file := "sku,facility,bin,lot,quantity\nMUG,MAIN,A-01,,7\nMUG,MAIN,,,5\nMUG,MAIN,B-01,L9,2\nSTOVE,EU1,,L1,4\n"
		m0, e0 := movements(), events()
		res, err := imp(file, inventory.StockImportOptions{DryRun: true})
		if err != nil || res.Rows != 4 || res.Changed != 3 || res.Unchanged != 1 {
			t.Fatalf("dry run: %+v %v", res, err)
		}
		if movements() != m0 || events() != e0 {
			t.Fatal("the dry run wrote")
		}
		res, err = imp(file, inventory.StockImportOptions{})
		if err != nil || !cmp.Equal(res, inventory.StockImportResult{Rows: 4, Changed: 3, Unchanged: 1}) {
			t.Fatalf("import: %+v %v", res, err)
		}
		if l := f.level(t, "MUG", main.ID); l.OnHand != 14 {
			t.Fatalf("MUG at MAIN: %+v", l)
		}
		// Through the ledger, as count movements, one event per facility's count.
		if n := count(`SELECT COUNT(*) FROM stock_movements WHERE kind = 'count' AND reason = 'stock import' AND ref_type = 'count' AND actor = 'user:test'`); n != 3 {
			t.Fatalf("%d count movements", n)
		}
		if n := count(`SELECT COUNT(*) FROM events WHERE type = 'inventory.counted'`); n != 2 {
			t.Fatalf("%d inventory.counted events", n)
		}
		// The same file again changes nothing, and says nothing.
		m1, e1 := movements(), events()
		res, err = imp(file, inventory.StockImportOptions{})
		if err != nil || !cmp.Equal(res, inventory.StockImportResult{Rows: 4, Unchanged: 4}) || movements() != m1 || events() != e1 {
			t.Fatalf("second import: %+v %v", res, err)
		}

		var out bytes.Buffer
		n, err := f.inv.ExportStock(ctx, f.tenant, &out, "")
		want := "sku,facility,bin,lot,quantity\nSTOVE,EU1,,L1,4\nMUG,MAIN,,,5\nMUG,MAIN,A-01,,7\nMUG,MAIN,B-01,L9,2\n"
		if err != nil || n != 4 || out.String() != want {
			t.Fatalf("export: %d %v\n%s", n, err, out.String())
		}
		if res, err := imp(out.String(), inventory.StockImportOptions{}); err != nil || res.Changed != 0 || movements() != m1 {
			t.Fatalf("importing the export: %+v %v", res, err)
		}
		out.Reset()
		if n, err := f.inv.ExportStock(ctx, f.tenant, &out, main.ID); err != nil || n != 3 || strings.Contains(out.String(), "EU1") {
			t.Fatalf("one facility: %d %v\n%s", n, err, out.String())
		}

		// Every wrong row at once, and nothing written.
		res, err = imp("SKU,Facility,Bin,Lot,Quantity\nNOPE,MAIN,,,1\nSET,MAIN,,,1\nMUG,NOWHERE,,,1\nMUG,MAIN,Z-9,,1\nMUG,MAIN,A-01,,3\nMUG,MAIN,A-01,,4\nMUG,MAIN,,,x\n", inventory.StockImportOptions{})
		wantErrs := []string{
			`row 2, SKU: "NOPE": no product has this SKU`,
			`row 3, SKU: "SET" is a kit; kits have no stock of their own, list its components`,
			`row 4, Facility: "NOWHERE": no facility has this code`,
			`row 5, Bin: "Z-9": no bin with this code in facility MAIN`,
			`row 7: row 6 has this SKU, facility, bin and lot already; list each location once`,
			`row 8, Quantity: "x": must be a whole number from 0 to 1000000000`,
		}
		if diff := cmp.Diff(wantErrs, rowErrorTexts(res.Errors)); diff != "" || !errs.Is(errs.Invalid, err) || errs.CodeOf(err) != "invalid_csv" {
			t.Fatalf("bad file: %v\n%s", err, diff)
		}
		if fs := errs.Fields(err); len(fs) != 6 || fs[0].Field != "row[2].SKU" || fs[4].Field != "row[7]" {
			t.Fatalf("fields: %+v", fs)
		}
		if movements() != m1 {
			t.Fatal("a refused file wrote")
		}

		// Reserved stock: a file may move it between bins, not take it away.
		if _, _, err := f.inv.MakeReservation(ctx, f.tenant, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: "MUG", Quantity: 12}}}); err != nil {
			t.Fatal(err)
		}
		res, err = imp("sku,facility,bin,lot,quantity\nSTOVE,EU1,,L1,9\nMUG,MAIN,A-01,,0\nMUG,MAIN,B-01,L9,0\n", inventory.StockImportOptions{})
		if !errs.Is(errs.Conflict, err) || errs.CodeOf(err) != inventory.ErrCodeInsufficient || len(res.Errors) != 1 ||
			res.Errors[0].Error() != "row 3, quantity: MUG at MAIN: 12 are reserved and the file leaves 5 on hand; release or re-route those reservations first" ||
			errs.Fields(err)[0].Field != "row[3].quantity" {
			t.Fatalf("below reserved: %+v %v", res, err)
		}
		if movements() != m1+1 { // the reservation's row only
			t.Fatal("a refused file wrote")
		}
		res, err = imp("sku,facility,bin,lot,quantity\nMUG,MAIN,A-01,,0\nMUG,MAIN,B-01,,7\n", inventory.StockImportOptions{})
		if err != nil || res.Changed != 2 {
			t.Fatalf("moving reserved stock between bins: %+v %v", res, err)
		}
		if l := f.level(t, "MUG", main.ID); l.OnHand != 14 || l.Reserved != 12 || l.ProductID != mug.ID {
			t.Fatalf("after the move: %+v", l)
		}
		if res, err := imp("sku,facility,quantity\n", inventory.StockImportOptions{}); err != nil || res.Rows != 0 {
			t.Fatalf("header only: %+v %v", res, err)
		}
		f.clean(t)
	})
}
