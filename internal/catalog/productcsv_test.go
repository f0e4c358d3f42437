package catalog_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/gtin"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// readAll reads a whole product CSV, returning the rows that read cleanly
// and every error as its text.
func readAll(t testing.TB, in string) ([]catalog.ProductRow, []string) {
	t.Helper()
	pr, err := catalog.NewProductReader(strings.NewReader(in), "USD")
	if err != nil {
		var re catalog.RowErrors
		if !errors.As(err, &re) {
			t.Fatalf("header: %v", err)
		}
		return nil, errorTexts(re)
	}
	var rows []catalog.ProductRow
	var msgs []string
	for {
		row, err := pr.Next()
		if err == io.EOF {
			return rows, msgs
		}
		var re catalog.RowErrors
		if errors.As(err, &re) {
			msgs = append(msgs, errorTexts(re)...)
			continue
		}
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		rows = append(rows, row)
	}
}

func errorTexts(re catalog.RowErrors) []string {
	var out []string
	for _, e := range re {
		out = append(out, e.Error())
	}
	return out
}

// drafts is what the rows describe for new products.
func drafts(rows []catalog.ProductRow) []catalog.Draft {
	out := make([]catalog.Draft, len(rows))
	for i, r := range rows {
		out[i] = r.Draft(catalog.Draft{})
	}
	return out
}

func TestReadShopifyExport(t *testing.T) {
	b, err := os.ReadFile("testdata/shopify_products.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, errs := readAll(t, string(b))
	if len(errs) > 0 {
		t.Fatalf("errors: %q", errs)
	}
	sock := "<p>Cushioned, <strong>warm</strong> merino.</p>\n<p>Made in Portugal.</p>"
	sockTags := []string{"merino", "socks", "winter"}
	want := []catalog.Draft{
		{SKU: "SOCK-MER-GRY-M", Name: "Merino crew sock — Grey / M", Description: sock, Vendor: "Woolly Co", ProductType: "Socks",
			Tags: sockTags, Barcodes: []string{"4006381333931"}, WeightG: 80, Price: "14.00", Cost: "5.10"},
		{SKU: "SOCK-MER-GRY-L", Name: "Merino crew sock — Grey / L", Description: sock, Vendor: "Woolly Co", ProductType: "Socks",
			Tags: sockTags, WeightG: 85, Price: "14.00", Cost: "5.10", AllowBackorder: true},
		{SKU: "SOCK-MER-NVY-M", Name: "Merino crew sock — Navy / M", Description: sock, Vendor: "Woolly Co", ProductType: "Socks",
			Tags: sockTags, Barcodes: []string{"96385074"}, WeightG: 80, Price: "15.50"},
		{SKU: "MUG-ENM-WHT", Name: "Enamel mug", Description: "Classic white enamel, 350 ml.", Vendor: "Camp Kitchen", ProductType: "Mugs",
			Tags: []string{"kitchen"}, Barcodes: []string{"012345678905"}, WeightG: 350, Price: "12.50"},
		{SKU: "LANTERN-STORM", Name: "Storm lantern", Vendor: "Camp Kitchen", ProductType: "Lighting", WeightG: 910, Price: "30.00"},
	}
	if diff := cmp.Diff(want, drafts(rows), cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("drafts (-want +got):\n%s", diff)
	}
	var got []int
	var status []catalog.Status
	for _, r := range rows {
		got = append(got, r.Row)
		status = append(status, r.Status)
	}
	// Row 5 is an image row and row 8 a gift card: both skipped.
	if diff := cmp.Diff([]int{2, 3, 4, 6, 7}, got); diff != "" {
		t.Errorf("row numbers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]catalog.Status{catalog.Active, catalog.Active, catalog.Active, catalog.Active, catalog.Archived}, status); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	for _, r := range rows {
		if _, err := r.Draft(catalog.Draft{}).Validate("USD"); err != nil {
			t.Errorf("row %d does not validate: %v", r.Row, err)
		}
	}
}

func TestReadFormats(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []catalog.Draft
	}{
		{
			name: "Waybill's own columns",
			in: "Variant SKU,Title,Length (mm),Width (mm),Height (mm),HS Code,Country of Origin,Currency,Lot Tracked,Serial Tracked,Kit Components,Variant Barcode,Variant Price,Cost per item\n" +
				"STOVE-TI,Titanium stove,120,80,60,7321.11,cn,JPY,TRUE,false,,4006381333931;STOVE-INT,1500.00,900\n" +
				"KIT-COOK,Cook kit,,,,,,,,,STOVE-TI x1; MUG-ENM-WHT x2;POT ×3; CUP x 4 ;LID,,,\n",
			want: []catalog.Draft{
				{SKU: "STOVE-TI", Name: "Titanium stove", LengthMM: 120, WidthMM: 80, HeightMM: 60, HSCode: "7321.11", CountryOfOrigin: "cn",
					Currency: "JPY", LotTracked: true, Barcodes: []string{"4006381333931", "STOVE-INT"}, Price: "1500", Cost: "900"},
				{SKU: "KIT-COOK", Name: "Cook kit", Components: []catalog.DraftComponent{{SKU: "STOVE-TI", Quantity: 1}, {SKU: "MUG-ENM-WHT", Quantity: 2},
					{SKU: "POT", Quantity: 3}, {SKU: "CUP", Quantity: 4}, {SKU: "LID", Quantity: 1}}},
			},
		},
		{
			name: "byte order mark and CRLF",
			in:   "\uFEFFVariant SKU,Title\r\nA-1,First\r\nA-2,Second\r\n",
			want: []catalog.Draft{{SKU: "A-1", Name: "First"}, {SKU: "A-2", Name: "Second"}},
		},
		{
			name: "quoted fields with newlines, commas and quotes",
			in:   "Variant SKU,Title,Body (HTML)\nA-1,\"Tent, 2 person\",\"Line one\nLine \"\"two\"\"\"\nA-2,Mat,\n",
			want: []catalog.Draft{{SKU: "A-1", Name: "Tent, 2 person", Description: "Line one\nLine \"two\""}, {SKU: "A-2", Name: "Mat"}},
		},
		{
			name: "headers in any case and order, unknown columns ignored, short rows",
			in:   "notes,TITLE, variant sku ,VARIANT PRICE,variant inventory policy\nignore me,Mug,MUG-1,3.5,CONTINUE\n,Cup,CUP-1\n",
			want: []catalog.Draft{{SKU: "MUG-1", Name: "Mug", Price: "3.5", AllowBackorder: true}, {SKU: "CUP-1", Name: "Cup"}},
		},
		{
			name: "weight in a unit when there are no grams",
			in:   "Variant SKU,Title,Variant Weight,Variant Weight Unit\nA,a,1,lb\nB,b,0.25,kg\nC,c,8,oz\nD,d,40,\nE,e,,kg\n",
			want: []catalog.Draft{{SKU: "A", Name: "a", WeightG: 454}, {SKU: "B", Name: "b", WeightG: 250}, {SKU: "C", Name: "c", WeightG: 227},
				{SKU: "D", Name: "d", WeightG: 40}, {SKU: "E", Name: "e"}},
		},
		{
			name: "grams win over the display unit",
			in:   "Variant SKU,Title,Variant Grams,Variant Weight Unit\nA,a,453.6,lb\n",
			want: []catalog.Draft{{SKU: "A", Name: "a", WeightG: 454}},
		},
		{
			name: "options make the name; Default Title does not",
			in: "Handle,Title,Option1 Value,Option2 Value,Option3 Value,Variant SKU,Vendor\n" +
				"tee,Tee,Red,S,Cotton,TEE-R-S,Acme\ntee,,Red,M,,TEE-R-M,\nbag,Bag,Default Title,,,BAG,\n",
			want: []catalog.Draft{{SKU: "TEE-R-S", Name: "Tee — Red / S / Cotton", Vendor: "Acme"}, {SKU: "TEE-R-M", Name: "Tee — Red / M", Vendor: "Acme"},
				{SKU: "BAG", Name: "Bag"}},
		},
		{
			name: "a handle seen again later starts afresh",
			in:   "Handle,Title,Variant SKU,Vendor\na,Apple,A1,Orchard\nb,Bean,B1,Farm\na,Apple,A2,\n",
			want: []catalog.Draft{{SKU: "A1", Name: "Apple", Vendor: "Orchard"}, {SKU: "B1", Name: "Bean", Vendor: "Farm"}, {SKU: "A2", Name: "Apple"}},
		},
		{
			name: "blank lines and rows without a SKU or variant data",
			in:   "Handle,Title,Variant SKU,Image Src\n\nx,X,X-1,\nx,,,https://img\n\n",
			want: []catalog.Draft{{SKU: "X-1", Name: "X"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, errs := readAll(t, tt.in)
			if len(errs) > 0 {
				t.Fatalf("errors: %q", errs)
			}
			if diff := cmp.Diff(tt.want, drafts(rows), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("drafts (-want +got):\n%s", diff)
			}
		})
	}
}

// A file with some columns only changes those: the rest come from the base
// (the stored product).
func TestReadMissingColumns(t *testing.T) {
	rows, errs := readAll(t, "Variant SKU,Variant Price\nMUG-1,9.99\n")
	if len(errs) > 0 || len(rows) != 1 {
		t.Fatalf("rows %d, errors %q", len(rows), errs)
	}
	base := catalog.Draft{SKU: "MUG-1", Name: "Mug", Vendor: "Acme", Price: "5.00", Barcodes: []string{"4006381333931"}, WeightG: 300,
		Components: []catalog.DraftComponent{{SKU: "X", Quantity: 1}}}
	want := base
	want.Price = "9.99"
	if diff := cmp.Diff(want, rows[0].Draft(base)); diff != "" {
		t.Fatalf("draft (-want +got):\n%s", diff)
	}
	// An empty cell in a column the file has does clear the value.
	rows, _ = readAll(t, "Variant SKU,Variant Barcode,Vendor,Kit Components\nMUG-1,,,\n")
	got := rows[0].Draft(base)
	if len(got.Barcodes) != 0 || got.Vendor != "" || len(got.Components) != 0 || got.Name != "Mug" {
		t.Fatalf("empty cells: %+v", got)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty file", "", []string{"row 1: the file is empty; a product CSV starts with a header row such as Handle,Title,Variant SKU,…"}},
		{"no SKU column", "Handle,Title\nx,X\n", []string{"row 1: the file has no Variant SKU column; every row with a SKU there becomes a product"}},
		{"semicolons", "Variant SKU;Title\nA;B\n", []string{"row 1: the file has no Variant SKU column; every row with a SKU there becomes a product (the columns must be separated by commas)"}},
		{"column twice", "Variant SKU,Title,title\n", []string{`row 1, title: this column appears twice`}},
		{
			"bad check digit, on a variant row",
			"Handle,Title,Variant SKU,Variant Barcode\ntee,Tee,TEE-S,4006381333931\ntee,,TEE-M,\ntee,,TEE-L,4006381333932\n",
			[]string{`row 4, Variant Barcode: "4006381333932": invalid GTIN-13 check digit (expected 1)`},
		},
		{
			"the file's spelling of the column",
			"variant sku,title,VARIANT BARCODE\nA,a,4006381333932\n",
			[]string{`row 2, VARIANT BARCODE: "4006381333932": invalid GTIN-13 check digit (expected 1)`},
		},
		{"grams", "Variant SKU,Title,Variant Grams\nA,a,12kg\n", []string{`row 2, Variant Grams: "12kg": not a number (want grams, e.g. 250)`}},
		{"dimension", "Variant SKU,Title,Length (mm),Width (mm)\nA,a,-5,1e3\n", []string{
			`row 2, Width (mm): "1e3": not a number (want millimetres, e.g. 120)`,
			`row 2, Length (mm): must be between 0 and 100000000`}},
		{"weight unit", "Variant SKU,Title,Variant Weight,Variant Weight Unit\nA,a,2,stone\n", []string{`row 2, Variant Weight Unit: "stone": want g, kg, lb or oz`}},
		{"boolean", "Variant SKU,Title,Lot Tracked\nA,a,maybe\n", []string{`row 2, Lot Tracked: "maybe": want TRUE or FALSE`}},
		{"policy", "Variant SKU,Title,Variant Inventory Policy\nA,a,sometimes\n", []string{`row 2, Variant Inventory Policy: "sometimes": want deny or continue`}},
		{"status", "Variant SKU,Title,Status\nA,a,deleted\n", []string{`row 2, Status: "deleted": want active, draft or archived`}},
		{"price decimals", "Variant SKU,Title,Variant Price\nA,a,19.999\n", []string{`row 2, Variant Price: "19.999": USD allows at most 2 decimal places`}},
		{"negative price", "Variant SKU,Title,Variant Price,Cost per item\nA,a,-5,1,5\n", []string{`row 2, Variant Price: must not be negative`}},
		{"price not a number", "Variant SKU,Title,Cost per item\nA,a,$5\n", []string{`row 2, Cost per item: "$5": not a plain decimal number (want e.g. "19.99" or "-3.10")`}},
		{"currency", "Variant SKU,Title,Currency,Variant Price\nA,a,EURO,5\n", []string{`row 2, Currency: "EURO": must be an ISO 4217 currency code such as USD`}},
		{"HS code", "Variant SKU,Title,HS Code\nA,a,61\n", []string{`row 2, HS Code: "61": must be 6 to 10 digits (dots allowed), e.g. 6109.10`}},
		{"country", "Variant SKU,Title,Country of Origin\nA,a,Germany\n", []string{`row 2, Country of Origin: "Germany": must be an ISO 3166-1 alpha-2 code such as CN`}},
		{"duplicate SKU", "Variant SKU,Title\nA,a\nB,b\nA,again\n", []string{`row 4, Variant SKU: "A" is also on row 2; each SKU may appear once`}},
		{"SKU with a space", "Variant SKU,Title\nA B,a\n", []string{`row 2, Variant SKU: "A B": must not contain spaces or control characters`}},
		{"variant without SKU", "Variant SKU,Title,Variant Price\n,Thing,9.99\n", []string{`row 2, Variant SKU: is required: each variant becomes a Waybill product, and a product needs a SKU`}},
		{"no title", "Variant SKU,Title\nA,\n", []string{`row 2, Title: is required`}},
		{"title too long", "Variant SKU,Title\nA," + strings.Repeat("x", 256) + "\n", []string{`row 2, Title: must be at most 255 characters`}},
		{"tags", "Variant SKU,Title,Tags\nA,a,\"ok, " + strings.Repeat("t", 65) + "\"\n", []string{`row 2, Tags: "` + strings.Repeat("t", 65) + `": must be at most 64 characters without commas or line breaks`}},
		{"kit quantity", "Variant SKU,Title,Kit Components\nA,a,STOVE-TI two\n", []string{`row 2, Kit Components: "STOVE-TI two": the quantity must be a whole number, as in STOVE-TI x2`}},
		{"kit syntax", "Variant SKU,Title,Kit Components\nA,a,STOVE TI x 2\n", []string{`row 2, Kit Components: "STOVE TI x 2": write each component as SKU xQUANTITY, separated by semicolons (e.g. STOVE-TI x1; MUG-ENM-WHT x2)`}},
		{"kit quantity zero", "Variant SKU,Title,Kit Components\nA,a,STOVE-TI x0\n", []string{`row 2, Kit Components: STOVE-TI: quantity must be between 1 and 10000`}},
		{"kit of itself", "Variant SKU,Title,Kit Components\nA,a,B x1; A x2\n", []string{`row 2, Kit Components: A: a kit cannot contain itself`}},
		{"tracked kit", "Variant SKU,Title,Kit Components,Lot Tracked\nA,a,B x1,TRUE\n", []string{`row 2, Lot Tracked: a kit is tracked through its components, not itself`}},
		{"not UTF-8", "Variant SKU,Title\nA,Caf\xe9\n", []string{`row 2, Title: is not valid UTF-8 text (save the file as "CSV UTF-8")`}},
		{"several in one row", "Variant SKU,Title,Variant Grams,Serial Tracked\nA,,x,no way\n", []string{
			`row 2, Variant Grams: "x": not a number (want grams, e.g. 250)`,
			`row 2, Serial Tracked: "no way": want TRUE or FALSE`,
			`row 2, Title: is required`}},
		{"stray quote ends the file", "Variant SKU,Title\nA,a\nB,5\" tent\nC,c\n", []string{
			`row 3: not valid CSV at line 3, column 4: bare " in non-quoted-field (a double quote inside a cell must be doubled, and the cell quoted)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := readAll(t, tt.in)
			if diff := cmp.Diff(tt.want, errs); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// goldenProducts cover every column an export writes.
func goldenProducts() []catalog.Product {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	price := func(v int64) *int64 { return &v }
	return []catalog.Product{
		{SKU: "STOVE-TI", Name: "Titanium stove", Description: "Folds flat.\nBurns gas, not spirit.", Vendor: "Summit", ProductType: "Stoves",
			Barcodes: []catalog.Barcode{{Code: "4006381333931", Kind: gtin.KindGTIN13}, {Code: "STOVE-INT", Kind: gtin.KindOther}},
			WeightG:  85, LengthMM: 120, WidthMM: 80, HeightMM: 60, Currency: "USD", Price: price(4900), Cost: price(2210),
			HSCode: "732111", CountryOfOrigin: "CN", Tags: []string{"camping", "stoves"}, LotTracked: true},
		{SKU: "MUG-ENM-WHT", Name: "Enamel mug", Currency: "USD", Price: price(1250), AllowBackorder: true,
			Barcodes: []catalog.Barcode{{Code: "012345678905", Kind: gtin.KindGTIN12}}, Tags: []string{"kitchen"}, WeightG: 350},
		{SKU: "FORMULA-1", Name: `=HYPERLINK("http://x")`, Description: "-5 degrees, @night", Vendor: "+Vendor", Currency: "USD"},
		{SKU: "SOCK-JP", Name: "Merino sock (Japan)", Currency: "JPY", Price: price(1500), SerialTracked: true, ProductType: "'quoted type"},
		{SKU: "LANTERN-STORM", Name: "Storm lantern", Currency: "USD", Price: price(3000), ArchivedAt: &at},
		{SKU: "KIT-COOK", Name: "Cook kit", Currency: "USD", Price: price(5900),
			Components: []catalog.Component{{SKU: "STOVE-TI", Quantity: 1}, {SKU: "MUG-ENM-WHT", Quantity: 2}}},
	}
}

func writeAll(t testing.TB, ps []catalog.Product) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := catalog.NewProductWriter(&buf)
	for _, p := range ps {
		if err := w.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Fatalf("%s differs (-want +got):\n%s", path, diff)
	}
}

func TestWriteGolden(t *testing.T) {
	golden(t, "export.golden", writeAll(t, goldenProducts()))
}

// Reading what was written gives back every product exactly.
func TestWriteReadRoundTrip(t *testing.T) {
	ps := goldenProducts()
	rows, errs := readAll(t, string(writeAll(t, ps)))
	if len(errs) > 0 {
		t.Fatalf("errors: %q", errs)
	}
	if len(rows) != len(ps) {
		t.Fatalf("%d rows, want %d", len(rows), len(ps))
	}
	for i, r := range rows {
		got, err := r.Draft(catalog.Draft{}).Validate("EUR")
		if err != nil {
			t.Fatalf("row %d: %v", r.Row, err)
		}
		want := ps[i]
		for j := range want.Components {
			want.Components[j].ProductID = ""
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(catalog.Product{}, "ArchivedAt")); diff != "" {
			t.Errorf("row %d (-want +got):\n%s", r.Row, diff)
		}
		if (r.Status == catalog.Archived) != (want.ArchivedAt != nil) || r.Status == "" {
			t.Errorf("row %d: status %q", r.Row, r.Status)
		}
	}
}

func TestFormulaInjection(t *testing.T) {
	name := `=HYPERLINK("http://x")`
	out := writeAll(t, []catalog.Product{{SKU: "X-1", Name: name, Currency: "USD"}})
	if !strings.Contains(string(out), `"'=HYPERLINK(""http://x"")"`) {
		t.Fatalf("formula not neutralised:\n%s", out)
	}
	rows, errs := readAll(t, string(out))
	if len(errs) > 0 || len(rows) != 1 || rows[0].Draft(catalog.Draft{}).Name != name {
		t.Fatalf("read back: %q %+v", errs, rows)
	}

	// Every value comes back as it was, and no cell a spreadsheet would run
	// leaves the writer.
	for _, v := range []string{"=1+1", "+44 20 7946 0000", "-", "-5", "@SUM(A1)", "\tindented", "\rx", "'=already quoted", "''=twice",
		"'quoted", "'", "''", "plain", "a=b", "", "'-'", "=", "@"} {
		out := writeAll(t, []catalog.Product{{SKU: "X-1", Name: "n", Description: v, Vendor: "v" + v, Currency: "USD"}})
		recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, cell := range recs[1] {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("%q: cell %q would run as a formula", v, cell)
			}
		}
		rows, errs := readAll(t, string(out))
		if len(errs) > 0 || len(rows) != 1 {
			t.Fatalf("%q: %q", v, errs)
		}
		if got := rows[0].Draft(catalog.Draft{}).Description; got != v {
			t.Errorf("description %q came back as %q", v, got)
		}
	}
}

// FuzzReadProducts: the reader never panics, and every row it returns
// without error makes a valid product, which writes and reads back the same.
func FuzzReadProducts(f *testing.F) {
	for _, name := range []string{"testdata/shopify_products.csv", "testdata/export.golden"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("Variant SKU,Title,Kit Components,Variant Barcode\nA,a,B x2; C,4006381333931\n"))
	f.Add([]byte("\uFEFFvariant sku,title,Variant Weight,Variant Weight Unit,Status\r\nA,\"x\ny\",1.5,lb,archived\r\n"))
	f.Add([]byte("Handle,Title,Option1 Value,Variant SKU\nh,T,Red,A\nh,,Blue,B\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		pr, err := catalog.NewProductReader(bytes.NewReader(in), "USD")
		if err != nil {
			var re catalog.RowErrors
			if !errors.As(err, &re) || len(re) == 0 {
				t.Fatalf("header error %v is not RowErrors", err)
			}
			return
		}
		for i := 0; ; i++ {
			if i > len(in)+1 {
				t.Fatal("reader does not advance")
			}
			row, err := pr.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var re catalog.RowErrors
				if !errors.As(err, &re) || len(re) == 0 {
					t.Fatalf("error %v is not RowErrors", err)
				}
				continue
			}
			p, err := row.Draft(catalog.Draft{Name: "stored name"}).Validate("USD")
			if err != nil {
				t.Fatalf("row %d passed the reader but not Validate: %v", row.Row, err)
			}
			// Round trip, except what CSV itself cannot carry: a CR before a
			// newline, and the separators of lists inside a value.
			if strings.Contains(p.Description, "\r") || strings.Contains(p.Name, "\r") {
				continue
			}
			lists := false
			for _, b := range p.Barcodes {
				lists = lists || strings.Contains(b.Code, ";")
			}
			for _, c := range p.Components {
				lists = lists || strings.Contains(c.SKU, ";")
			}
			if lists {
				continue
			}
			back, errs := readAll(t, string(writeAll(t, []catalog.Product{p})))
			if len(errs) > 0 || len(back) != 1 {
				t.Fatalf("writing %+v and reading it back: %q", p, errs)
			}
			q, err := back[0].Draft(catalog.Draft{}).Validate("USD")
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			if diff := cmp.Diff(p, q, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("round trip (-wrote +read):\n%s", diff)
			}
		}
	})
}
