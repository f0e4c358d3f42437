package ordercsv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func readAll(t *testing.T, data []byte) []Order {
	t.Helper()
	rd, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out []Order
	for {
		o, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("rows %d-%d: %v", o.FirstRow, o.LastRow, err)
		}
		out = append(out, o)
	}
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// golden compares the orders read from a sample with testdata/<name>;
// go test -update rewrites it.
func golden(t *testing.T, name string, orders []Order) {
	t.Helper()
	type row struct {
		FirstRow, LastRow int
		Input             order.Input
	}
	var rows []row
	for _, o := range orders {
		rows = append(rows, row{o.FirstRow, o.LastRow, o.Input})
	}
	got, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", name, diff)
	}
}

// checked builds every order as order.Create would, proving its sums.
func checked(t *testing.T, orders []Order) {
	t.Helper()
	for _, o := range orders {
		if err := order.Check(o.Input); err != nil {
			t.Errorf("order %s (rows %d-%d): %v", o.Input.Number, o.FirstRow, o.LastRow, err)
		}
	}
}

func TestShopifyExport(t *testing.T) {
	orders := readAll(t, testdata(t, "shopify_orders.csv"))
	golden(t, "shopify_orders.golden.json", orders)
	checked(t, orders)
	if len(orders) != 6 {
		t.Fatalf("read %d orders, want 6", len(orders))
	}
	byName := map[string]Order{}
	for _, o := range orders {
		byName[o.Input.Number] = o
	}

	// Two lines, tax added, by name with rates.
	o := byName["#1001"]
	if o.FirstRow != 2 || o.LastRow != 3 || o.Input.Channel != "shopify" || o.Input.ExternalID != "5612345678901" || len(o.Input.Lines) != 2 {
		t.Errorf("#1001: rows %d-%d, channel %q, external id %q, %d lines", o.FirstRow, o.LastRow, o.Input.Channel, o.Input.ExternalID, len(o.Input.Lines))
	}
	if want := time.Date(2024, 1, 15, 15, 23, 45, 0, time.UTC); o.Input.PlacedAt == nil || !o.Input.PlacedAt.Equal(want) {
		t.Errorf("#1001 placed at %v, want %v", o.Input.PlacedAt, want)
	}
	if o.Input.TaxesIncluded || o.Input.Total != "117.37" {
		t.Errorf("#1001: taxes included %v, total %q", o.Input.TaxesIncluded, o.Input.Total)
	}
	wantTax := []order.TaxInput{{Title: "NY State Tax 4%", Rate: "0.04", Amount: "1.44"}, {Title: "New York City Tax 4.875%", Rate: "0.04875", Amount: "1.76"}}
	if diff := cmp.Diff(wantTax, o.Input.Lines[0].TaxLines); diff != "" {
		t.Errorf("#1001 first line's taxes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]order.ShippingInput{{Title: "Standard Shipping", Price: "7.95"}}, o.Input.ShippingLines); diff != "" {
		t.Errorf("#1001 shipping (-want +got):\n%s", diff)
	}

	// A discount code spread exactly; VAT included; the zip's apostrophe gone.
	o = byName["#1002"]
	var discounts []string
	for _, l := range o.Input.Lines {
		discounts = append(discounts, l.Discount)
	}
	if diff := cmp.Diff([]string{"8.99", "3.99", "2.50"}, discounts); diff != "" {
		t.Errorf("#1002 line discounts (-want +got):\n%s", diff)
	}
	if !o.Input.TaxesIncluded || o.Input.Total != "144.17" {
		t.Errorf("#1002: taxes included %v, total %q", o.Input.TaxesIncluded, o.Input.Total)
	}
	if a := o.Input.ShippingAddress; a == nil || a.PostalCode != "01067" || a.Name != "Jürgen Groß" || a.Country != "DE" {
		t.Errorf("#1002 shipping address %+v", a)
	}

	// Yen without decimals, a kanji name.
	o = byName["#1003"]
	if o.Input.Currency != "JPY" || o.Input.Lines[0].UnitPrice != "1200" || o.Input.Customer.Name != "山田 太郎" || o.Input.PaymentStatus != "authorized" {
		t.Errorf("#1003: %+v", o.Input)
	}

	// Cancelled and refunded.
	o = byName["#1004"]
	if !o.Input.Cancelled || o.Input.PaymentStatus != "refunded" {
		t.Errorf("#1004: cancelled %v, payment %q", o.Input.Cancelled, o.Input.PaymentStatus)
	}

	// The gift card is left out, so Total cannot be checked.
	o = byName["#1005"]
	if len(o.Input.Lines) != 1 || o.Input.Lines[0].SKU != "SPOON-OLV" || o.Input.Total != "" || o.LastRow != 10 {
		t.Errorf("#1005: %d lines, total %q, rows %d-%d", len(o.Input.Lines), o.Input.Total, o.FirstRow, o.LastRow)
	}

	// A line's own discount, a note across lines, tags, high risk.
	o = byName["#1006"]
	if o.Input.Lines[0].Discount != "30.00" || o.Input.Lines[1].Discount != "" || o.Input.RiskLevel != "high" ||
		!strings.Contains(o.Input.Note, "\"4411\"\nLeave") || !cmp.Equal(o.Input.Tags, []string{"vip", "repeat-customer"}) {
		t.Errorf("#1006: %+v", o.Input)
	}
	if o.Input.ShippingAddress.Company != "Al Ahmad Trading LLC" || o.Input.BillingAddress.Company != "" {
		t.Errorf("#1006 addresses: %+v / %+v", o.Input.ShippingAddress, o.Input.BillingAddress)
	}
}

func TestWaybillFormat(t *testing.T) {
	data := testdata(t, "waybill_orders.csv")
	orders := readAll(t, append([]byte("\uFEFF"), data...)) // a byte order mark changes nothing
	golden(t, "waybill_orders.golden.json", orders)
	checked(t, orders)
	type span struct {
		channel, id     string
		first, last, nl int
	}
	var got []span
	for _, o := range orders {
		got = append(got, span{o.Input.Channel, o.Input.ExternalID, o.FirstRow, o.LastRow, len(o.Input.Lines)})
	}
	want := []span{{"amazon", "171-5550123-4455667", 2, 3, 2}, {"woocommerce", "20417", 4, 5, 2}, {"csv", "M-0001", 6, 6, 1}, {"ebay", "12-34567-89012", 8, 10, 3}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(span{})); diff != "" {
		t.Errorf("orders (-want +got):\n%s", diff)
	}
	if o := orders[1].Input; o.Note != "Lieferung an die Rezeption, 2. OG" || len(o.ShippingLines) != 1 || o.ShippingLines[0].Code != "dhl_paket" {
		t.Errorf("repeated order fields read as %+v", o)
	}
	if l := orders[2].Input.Lines[0]; len(l.TaxLines) != 1 || l.TaxLines[0].Amount != "5.73" {
		t.Errorf("tax column read as %+v", l.TaxLines)
	}
}

const waybillHeader = "channel,external_id,currency,ship_name,ship_line1,ship_city,ship_postal_code,ship_country,sku,quantity,unit_price\n"

func problemTexts(ps []RowError) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Error())
	}
	return out
}

func TestProblemsByRow(t *testing.T) {
	shopifyHeader := "Name,Email,Currency,Shipping,Taxes,Total,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem discount,Shipping Name,Shipping Address1,Shipping City,Shipping Zip,Shipping Country\n"
	for _, tc := range []struct {
		name, csv string
		want      []string
	}{{
		name: "bad quantity",
		csv: waybillHeader +
			"web,A1,USD,Ada,1 Main St,Denver,80202,US,MUG,2,10.00\n" +
			"web,A1,USD,Ada,1 Main St,Denver,80202,US,STOVE,two,64.50\n",
		want: []string{`row 3, quantity: "two": must be a whole number from 1 to 1000000`},
	}, {
		name: "bad country",
		csv: waybillHeader +
			"web,A1,USD,Ada,1 Main St,Denver,80202,US,MUG,2,10.00\n" +
			"web,B2,EUR,Jürgen,Prager Straße 12,Dresden,01067,Germany,MUG,1,9.00\n",
		want: []string{`row 3, ship_country: "Germany": must be an ISO 3166-1 alpha-2 code such as US or DE`},
	}, {
		name: "currency differs in a later row of the order",
		csv: waybillHeader +
			"web,A1,USD,Ada,1 Main St,Denver,80202,US,MUG,2,10.00\n" +
			"web,A1,,,,,,,STOVE,1,64.50\n" +
			"web,A1,EUR,,,,,,LAMP,1,24.95\n",
		want: []string{`row 4, currency: "EUR" differs from "USD" on row 2: the rows of one order must agree on its order fields (or leave them empty)`},
	}, {
		name: "a price that is not a number, and the check's own problems",
		csv: waybillHeader +
			"web,A1,USD,Ada,1 Main St,Denver,80202,US,,2,10.00\n" +
			"web,A1,USD,Ada,1 Main St,Denver,80202,US,STOVE,1,$64.50\n",
		want: []string{`row 2, sku: is required`, `row 3, unit_price: "$64.50": not a plain decimal number (want e.g. "19.99" or "-3.10")`},
	}, {
		name: "an order whose rows are apart",
		csv: waybillHeader +
			"web,A1,USD,Ada,1 Main St,Denver,80202,US,MUG,2,10.00\n" +
			"web,B2,USD,Bo,2 Main St,Denver,80202,US,MUG,1,10.00\n" +
			"web,A1,USD,Ada,1 Main St,Denver,80202,US,STOVE,1,64.50\n",
		want: []string{`row 4: the same order (channel and external_id) is also on rows 2-2; the rows of one order must be next to each other`},
	}, {
		name: "no external id",
		csv:  waybillHeader + "web,,USD,Ada,1 Main St,Denver,80202,US,MUG,2,10.00\n",
		want: []string{`row 2, external_id: is required: it is the channel's id of the order, and the rows of one order repeat it`},
	}, {
		name: "Shopify: a bad quantity on an order's second row",
		csv: shopifyHeader +
			"#1001,a@example.com,USD,5.00,0.00,25.00,0.00,Standard,2024-01-15 10:23:45 -0500,1,Mug,10.00,MUG,0.00,Ada,1 Main St,Denver,80202,US\n" +
			"#1001,a@example.com,,,,,,,,1.5,Spoon,10.00,SPOON,0.00,,,,,\n",
		want: []string{`row 3, Lineitem quantity: "1.5": must be a whole number from 1 to 1000000`},
	}, {
		name: "Shopify: a total that does not add up",
		csv: shopifyHeader +
			"#1001,a@example.com,USD,5.00,0.00,26.00,0.00,Standard,2024-01-15 10:23:45 -0500,2,Mug,10.00,MUG,0.00,Ada,1 Main St,Denver,80202,US\n",
		want: []string{`row 2, Total: "26.00": does not add up: lines + shipping + tax − discounts = 25.00`},
	}, {
		name: "Shopify: a discount larger than the lines",
		csv: shopifyHeader +
			"#1001,a@example.com,USD,5.00,0.00,5.00,30.00,Standard,2024-01-15 10:23:45 -0500,2,Mug,10.00,MUG,0.00,Ada,1 Main St,Denver,80202,US\n",
		want: []string{`row 2, Discount Amount: "30.00" is more than the lines cost (20.00)`},
	}, {
		name: "Shopify: a bad time and a bad email",
		csv: shopifyHeader +
			"#1001,not-an-email,USD,0,0,,,,15/01/2024,1,Mug,10.00,MUG,,Ada,1 Main St,Denver,80202,US\n",
		want: []string{`row 2, Created at: "15/01/2024": must be a time such as 2024-01-15T10:23:45Z or 2024-01-15 10:23:45 -0500`,
			`row 2, Email: "not-an-email": must be an e-mail address`},
	}, {
		name: "not CSV",
		csv:  waybillHeader + "web,A1,USD,Ada,\"1 Main St,Denver,80202,US,MUG,2,10.00\n",
		want: []string{`row 2: not valid CSV at line 2, column 55: extraneous or missing " in quoted-field (a double quote inside a cell must be doubled, and the cell quoted)`},
	}, {
		name: "unknown layout",
		csv:  "order;sku;qty\n1;MUG;2\n",
		want: []string{`row 1: unknown layout: the header has neither Shopify's order export columns (Name, Lineitem quantity, Lineitem sku, Lineitem price, Currency, …) nor Waybill's (channel, external_id, currency, sku, quantity, unit_price, …); the columns must be separated by commas`},
	}, {
		name: "missing columns",
		csv:  "channel,external_id,sku,quantity\n",
		want: []string{`row 1: the file looks like Waybill's order CSV but has no currency, unit_price column`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, problems, err := Check(strings.NewReader(tc.csv), order.Check, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, problemTexts(problems)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNextNamesRowAndColumn(t *testing.T) {
	csv := "Name,Currency,Lineitem quantity,Lineitem price,Lineitem sku\n#1,USD,1,10.00,MUG\n#1,,,x,SPOON\n#2,USD,1,1.00,MUG\n"
	rd, err := NewReader(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Next(); !errs.Is(errs.Invalid, err) {
		t.Fatalf("first order: %v, want an Invalid error", err)
	} else {
		var fields []string
		for _, f := range errs.Fields(err) {
			fields = append(fields, f.Field)
		}
		if diff := cmp.Diff([]string{"row 3: Lineitem quantity", "row 3: Lineitem price"}, fields); diff != "" {
			t.Errorf("fields (-want +got):\n%s", diff)
		}
	}
	// Reading goes on after a wrong order.
	o, err := rd.Next()
	if err != nil || o.Input.Number != "#2" || o.FirstRow != 4 {
		t.Fatalf("second order: %+v, %v", o, err)
	}
	if _, err := rd.Next(); err != io.EOF {
		t.Fatalf("after the last order: %v, want io.EOF", err)
	}

	if _, err := NewReader(strings.NewReader("a,b\n1,2\n")); !errs.Is(errs.Invalid, err) || !strings.Contains(err.Error(), "unknown layout") {
		t.Errorf("NewReader of an unknown layout: %v", err)
	}
}

func TestHeaderCaseBOMAndUnknownColumns(t *testing.T) {
	csv := "\uFEFFNAME, lineitem  SKU ,LINEITEM QUANTITY,Lineitem Price,currency,Favourite Colour,Channel\n#7,MUG,2,10.00,usd,teal,pos\n"
	orders := readAll(t, []byte(csv))
	if len(orders) != 1 {
		t.Fatalf("%d orders", len(orders))
	}
	in := orders[0].Input
	if in.Number != "#7" || in.ExternalID != "#7" || in.Channel != "pos" || in.Currency != "USD" || in.Lines[0].SKU != "MUG" || in.Lines[0].Quantity != 2 {
		t.Errorf("read %+v", in)
	}
}

func TestAnOrderHasAtMostMaxLines(t *testing.T) {
	var b strings.Builder
	b.WriteString(waybillHeader)
	for range order.MaxLines + 2 {
		b.WriteString("web,A1,USD,Ada,1 Main St,Denver,80202,US,MUG,1,1.00\n")
	}
	b.WriteString("web,B2,USD,Ada,1 Main St,Denver,80202,US,MUG,1,1.00\n")
	orders, _, problems, err := Check(strings.NewReader(b.String()), order.Check, 0, nil)
	want := []string{"rows 2-503: the order has 502 line rows; an order may have at most 500 lines"}
	if diff := cmp.Diff(want, problemTexts(problems)); err != nil || orders != 2 || diff != "" {
		t.Errorf("%d orders, %v; problems (-want +got):\n%s", orders, err, diff)
	}
}

func TestCheckStopsAtMaxErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString(waybillHeader)
	for range 50 {
		b.WriteString("web,A1,USD,Ada,1 Main St,Denver,80202,US,MUG,none,10.00\n")
	}
	_, _, problems, err := Check(strings.NewReader(b.String()), order.Check, 10, nil)
	if err != nil || len(problems) != 10 {
		t.Fatalf("%d problems, %v; want 10", len(problems), err)
	}
}

func TestImportIsIdempotent(t *testing.T) {
	data := testdata(t, "shopify_orders.csv")
	stored := map[string]order.Input{}
	create := func(_ context.Context, in order.Input) (bool, error) {
		if err := order.Check(in); err != nil {
			return false, err
		}
		k := in.Channel + "/" + in.ExternalID
		if _, ok := stored[k]; ok {
			return false, nil
		}
		stored[k] = in
		return true, nil
	}
	var progressed int
	res, err := Import(context.Background(), bytes.NewReader(data), create, func(rows int) { progressed = rows })
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Orders: 6, Created: 6, Rows: 11}); res != want || progressed != 11 {
		t.Errorf("first import: %+v (progress %d), want %+v", res, progressed, want)
	}
	res, err = Import(context.Background(), bytes.NewReader(data), create, nil)
	if want := (Result{Orders: 6, Existing: 6, Rows: 11}); err != nil || res != want {
		t.Errorf("second import: %+v, %v; want %+v", res, err, want)
	}

	// A refusal names the rows and columns.
	refuse := func(_ context.Context, in order.Input) (bool, error) {
		return false, errs.InvalidFields("order.Create", errs.FieldError{Field: "lines[1].sku", Message: "no product has this SKU", Value: in.Lines[1].SKU})
	}
	_, err = Import(context.Background(), bytes.NewReader(data), refuse, nil)
	if fs := errs.Fields(err); !errs.Is(errs.Invalid, err) || len(fs) != 1 || fs[0].Field != "row 3: Lineitem sku" {
		t.Errorf("refused import: %v", err)
	}
}

func TestGenerateReadsBack(t *testing.T) {
	skus := []string{"MUG-ENM-WHT", "STOVE-TI", "PACK-28-GRN", "BOTTLE-750", "LAMP-HEAD", "TOTE-NAT", "SPOON-OLV", "TENUGUI-AI"}
	var a, b bytes.Buffer
	if err := Generate(&a, 2000, 7, skus); err != nil {
		t.Fatal(err)
	}
	if err := Generate(&b, 2000, 7, skus); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the same seed wrote different files")
	}
	orders, rows, problems, err := Check(bytes.NewReader(a.Bytes()), order.Check, 20, nil)
	if err != nil || len(problems) > 0 {
		t.Fatalf("generated file: %v; %v", err, problemTexts(problems))
	}
	if orders != 2000 || rows < 2000 {
		t.Errorf("read %d orders in %d rows, want 2000", orders, rows)
	}
	currencies, channels := map[string]bool{}, map[string]bool{}
	for _, o := range readAll(t, a.Bytes()) {
		currencies[o.Input.Currency] = true
		channels[o.Input.Channel] = true
		if n := len(o.Input.Lines); n < 1 || n > 4 {
			t.Fatalf("order with %d lines", n)
		}
		if p := o.Input.PlacedAt; p == nil || time.Since(*p) > 91*24*time.Hour {
			t.Fatalf("placed at %v", p)
		}
	}
	if len(currencies) < 10 || len(channels) != 6 {
		t.Errorf("%d currencies, %d channels", len(currencies), len(channels))
	}
	if err := Generate(io.Discard, 1, 1, nil); !errs.Is(errs.Invalid, err) {
		t.Errorf("Generate without SKUs: %v", err)
	}
}

// TestStreamsInBoundedMemory reads 200 000 rows generated on the fly
// through a pipe: the heap must stay small whatever the file's size.
func TestStreamsInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 200 000 rows")
	}
	// Well under the size of the file (about 38 MB): a reader that kept
	// the rows it had read could not stay below it.
	const limit = 16 << 20
	pr, pw := io.Pipe()
	var written countingWriter
	go func() {
		pw.CloseWithError(Generate(io.MultiWriter(pw, &written), 115_000, 1, []string{"A-1", "B-2", "C-3", "D-4", "E-5", "F-6"}))
	}()
	rd, err := NewReader(pr)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var ms runtime.MemStats
	var peak uint64
	rows, orders := 0, 0
	for {
		o, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		orders++
		rows += o.LastRow - o.FirstRow + 1
		if orders%5000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if rows < 200_000 || written.n < 2*limit {
		t.Fatalf("read only %d rows, %d MB", rows, written.n>>20)
	}
	t.Logf("%d orders, %d rows, %d MB of CSV; heap peaked at %d MB", orders, rows, written.n>>20, peak>>20)
	if peak > limit {
		t.Errorf("heap reached %d MB reading %d MB of CSV; want under %d MB", peak>>20, written.n>>20, limit>>20)
	}
}

func BenchmarkNext(b *testing.B) {
	var buf bytes.Buffer
	if err := Generate(&buf, 20_000, 1, []string{"A-1", "B-2", "C-3", "D-4", "E-5", "F-6"}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		rd, err := NewReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := rd.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		if err := Generate(io.Discard, 20_000, 1, []string{"A-1", "B-2", "C-3", "D-4", "E-5", "F-6"}); err != nil {
			b.Fatal(err)
		}
	}
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func TestHelpers(t *testing.T) {
	for in, want := range map[string]string{"VAT 20%": "0.2", "NY State Tax 4%": "0.04", "City 4.875%": "0.04875", "GST 5 %": "0.05",
		"IVA 10,5%": "0.105", "Full 100%": "1", "No rate": "", "Tiny 0.0000001%": ""} {
		if got := rateOf(in); got != want {
			t.Errorf("rateOf(%q) = %q, want %q", in, got, want)
		}
	}
	for _, c := range []struct{ in, cur, want string }{{"1500.00", "JPY", "1500"}, {"19.90", "USD", "19.90"}, {"19.900", "USD", "19.90"},
		{"1.2500", "KWD", "1.250"}, {"abc", "USD", "abc"}, {"", "USD", ""}} {
		if got := plainAmount(c.in, c.cur); got != c.want {
			t.Errorf("plainAmount(%q, %s) = %q, want %q", c.in, c.cur, got, c.want)
		}
	}
	for in, want := range map[string][3]any{"lines[2].tax_lines[0].amount": {"lines", 2, "tax_lines[0].amount"},
		"shipping_address.country": {"shipping_address", -1, "country"}, "tags[3]": {"tags", 3, ""}, "currency": {"currency", -1, ""}} {
		b, i, s := splitField(in)
		if got := [3]any{b, i, s}; got != want {
			t.Errorf("splitField(%q) = %v, want %v", in, got, want)
		}
	}
	for in, ok := range map[string]bool{"2": true, "2.0": true, "+2": false, "0": false, "-1": false, "1000001": false, "": false, "1e3": false} {
		if _, msg := parseQuantity(in); (msg == "") != ok {
			t.Errorf("parseQuantity(%q): %q", in, msg)
		}
	}
}

// FuzzReader feeds the reader arbitrary files: it must not panic, must
// end, and must number rows consistently.
func FuzzReader(f *testing.F) {
	for _, name := range []string{"shopify_orders.csv", "waybill_orders.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var gen bytes.Buffer
	if err := Generate(&gen, 5, 3, []string{"A", "B"}); err != nil {
		f.Fatal(err)
	}
	f.Add(gen.Bytes())
	f.Add([]byte(waybillHeader + "web,A1,USD,Ada,1 Main St,Denver,80202,US,MUG,2,10.00\nweb,A1,EUR,,,,,,X,0,-1\n"))
	f.Add([]byte("\uFEFFName,Lineitem quantity,Lineitem sku,Lineitem price,Currency,Tax 1 Value,Discount Amount,Total\n#1,1,A,1.00,USD,0.10,0.50,0.60\n#1,2,B,,,,,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, err := NewReader(bytes.NewReader(data))
		if err != nil {
			if !errs.Is(errs.Invalid, err) {
				t.Fatalf("NewReader: %v is not Invalid", err)
			}
			return
		}
		last := 1
		for n := 0; ; n++ {
			if n > len(data)+1 {
				t.Fatal("more orders than bytes: the reader does not end")
			}
			o, err := rd.Next()
			if err == io.EOF {
				break
			}
			if o.FirstRow <= last || o.LastRow < o.FirstRow {
				t.Fatalf("order at rows %d-%d after row %d", o.FirstRow, o.LastRow, last)
			}
			last = o.LastRow
			if err != nil {
				var e *errs.Error
				if !errors.As(err, &e) || e.Kind != errs.Invalid || len(e.Fields) == 0 {
					t.Fatalf("Next: %v", err)
				}
			}
		}
		// Check runs order.Check over every order and puts its problems
		// back into the file's rows.
		orders, _, problems, err := Check(bytes.NewReader(data), order.Check, 0, nil)
		if err != nil {
			t.Fatalf("Check: %v", err)
		}
		for _, p := range problems {
			if p.Row < 1 || p.Row > last || p.LastRow > last || p.Message == "" {
				t.Fatalf("problem %+v outside rows 1-%d", p, last)
			}
		}
		if orders == 0 && len(problems) > 0 && problems[0].Row != 1 {
			t.Fatalf("problems %v without orders", problems)
		}
	})
}
