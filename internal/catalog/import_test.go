package catalog_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
)

// shop is a catalogue with two tenants on a fresh database.
type shop struct {
	t      testing.TB
	ctx    context.Context
	cs     *catalog.Service
	tenant auth.Tenant // USD
	other  auth.Tenant // EUR
}

func newShop(t testing.TB, e testenv.Engine) *shop {
	t.Helper()
	ctx := context.Background()
	db := e.Open(t)
	as := auth.NewService(store.NewAuth(db))
	ten, err := as.CreateTenant(ctx, "Shop", "UTC", "USD")
	if err != nil {
		t.Fatal(err)
	}
	other, err := as.CreateTenant(ctx, "Other", "UTC", "EUR")
	if err != nil {
		t.Fatal(err)
	}
	return &shop{t: t, ctx: ctx, cs: catalog.NewService(store.NewCatalog(db)), tenant: ten, other: other}
}

func (s *shop) importCSV(tenant auth.Tenant, in string, opts ...catalog.ImportOptions) (catalog.ImportResult, error) {
	var o catalog.ImportOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	return s.cs.Import(s.ctx, tenant.ID, tenant.Currency, strings.NewReader(in), o)
}

// mustImport imports and checks the counts (rows, created, updated, unchanged, archived).
func (s *shop) mustImport(tenant auth.Tenant, in string, want [5]int) {
	s.t.Helper()
	res, err := s.importCSV(tenant, in)
	if err != nil {
		s.t.Fatalf("import: %v\n%v", err, res.Errors)
	}
	if got := [5]int{res.Rows, res.Created, res.Updated, res.Unchanged, res.Archived}; got != want {
		s.t.Fatalf("rows, created, updated, unchanged, archived = %v, want %v", got, want)
	}
}

// all lists every product of a tenant, archived too.
func (s *shop) all(tenant auth.Tenant) map[string]catalog.Product {
	s.t.Helper()
	out := map[string]catalog.Product{}
	f := catalog.Filter{Status: catalog.AnyState, Limit: catalog.MaxPageSize}
	for {
		ps, next, err := s.cs.List(s.ctx, tenant.ID, f)
		if err != nil {
			s.t.Fatal(err)
		}
		for _, p := range ps {
			out[p.SKU] = p
		}
		if next == "" {
			return out
		}
		f.After = next
	}
}

func (s *shop) export(tenant auth.Tenant, status catalog.Status) string {
	s.t.Helper()
	var buf bytes.Buffer
	if _, err := s.cs.Export(s.ctx, tenant.ID, &buf, catalog.Filter{Status: status}); err != nil {
		s.t.Fatal(err)
	}
	return buf.String()
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestImportShopifyAndReimport(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		s := newShop(t, e)
		sample := readFile(t, "testdata/shopify_products.csv")
		s.mustImport(s.tenant, sample, [5]int{5, 5, 0, 0, 1})
		ps := s.all(s.tenant)
		sock := ps["SOCK-MER-GRY-L"]
		if len(ps) != 5 || sock.Name != "Merino crew sock — Grey / L" || *sock.Price != 1400 || *sock.Cost != 510 || !sock.AllowBackorder ||
			sock.Vendor != "Woolly Co" || len(sock.Tags) != 3 || sock.WeightG != 85 || sock.Currency != "USD" {
			t.Fatalf("sock: %+v", sock)
		}
		if ps["LANTERN-STORM"].ArchivedAt == nil || ps["MUG-ENM-WHT"].ArchivedAt != nil {
			t.Fatal("Status archived must archive, active must not")
		}

		// The same file again changes nothing, not even updated_at.
		s.mustImport(s.tenant, sample, [5]int{5, 0, 0, 5, 0})
		for sku, p := range s.all(s.tenant) {
			if !p.UpdatedAt.Equal(ps[sku].UpdatedAt) {
				t.Errorf("%s updated by an unchanged import", sku)
			}
		}

		// A file with some columns changes only those.
		s.mustImport(s.tenant, "Variant SKU,Variant Price\nMUG-ENM-WHT,13.00\nSOCK-MER-GRY-M,14.00\n", [5]int{2, 0, 1, 1, 0})
		mug := s.all(s.tenant)["MUG-ENM-WHT"]
		if *mug.Price != 1300 || mug.Name != "Enamel mug" || len(mug.Barcodes) != 1 || mug.WeightG != 350 {
			t.Fatalf("mug after a price update: %+v", mug)
		}
		// Status active brings an archived product back; an empty Status keeps it.
		s.mustImport(s.tenant, "Variant SKU,Status\nLANTERN-STORM,\n", [5]int{1, 0, 0, 1, 0})
		s.mustImport(s.tenant, "Variant SKU,Status\nLANTERN-STORM,active\n", [5]int{1, 0, 1, 0, 0})
		if s.all(s.tenant)["LANTERN-STORM"].ArchivedAt != nil {
			t.Fatal("Status active must unarchive")
		}
		// A new SKU needs a name, which a file without Title cannot give.
		res, err := s.importCSV(s.tenant, "Variant SKU,Variant Price\nMUG-ENM-WHT,14.00\nNEW-1,2.00\n")
		if !errs.Is(errs.Invalid, err) || len(res.Errors) != 1 ||
			res.Errors[0].Error() != "row 3, Title: is required for a new SKU, and the file has no Title column" {
			t.Fatalf("new SKU without a title: %v %v", err, res.Errors)
		}
		// A price is checked in the stored product's currency.
		s.mustImport(s.tenant, "Variant SKU,Title,Currency,Variant Price\nYEN-1,Yen product,JPY,1500\n", [5]int{1, 1, 0, 0, 0})
		res, _ = s.importCSV(s.tenant, "Variant SKU,Variant Price\nYEN-1,15.50\n")
		if len(res.Errors) != 1 || res.Errors[0].Error() != `row 2, Variant Price: "15.50": JPY does not allow decimal places` {
			t.Fatalf("price in the stored currency: %v", res.Errors)
		}

		// A dry run counts and writes nothing.
		res, err = s.importCSV(s.tenant, "Variant SKU,Title,Variant Price\nDRY-1,Dry,1.00\nMUG-ENM-WHT,Enamel mug,13.00\n", catalog.ImportOptions{DryRun: true})
		if err != nil || res.Created != 1 || res.Unchanged != 1 {
			t.Fatalf("dry run: %+v %v", res, err)
		}
		if _, ok := s.all(s.tenant)["DRY-1"]; ok {
			t.Fatal("a dry run wrote")
		}
	})
}

func TestImportAllOrNothing(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		s := newShop(t, e)
		var b strings.Builder
		b.WriteString("Variant SKU,Title,Variant Barcode,Variant Price\n")
		for i := 2; i <= 30; i++ {
			code := ""
			if i == 17 {
				code = "4006381333932"
			}
			fmt.Fprintf(&b, "SKU-%d,Product %d,%s,9.99\n", i, i, code)
		}
		res, err := s.importCSV(s.tenant, b.String())
		if !errs.Is(errs.Invalid, err) {
			t.Fatalf("want Invalid, got %v", err)
		}
		want := []catalog.RowError{{Row: 17, Column: "Variant Barcode", Message: `"4006381333932": invalid GTIN-13 check digit (expected 1)`}}
		if diff := cmp.Diff(want, res.Errors); diff != "" {
			t.Fatalf("errors (-want +got):\n%s", diff)
		}
		if res.Errors[0].Error() != `row 17, Variant Barcode: "4006381333932": invalid GTIN-13 check digit (expected 1)` {
			t.Fatalf("text: %s", res.Errors[0])
		}
		fields := errs.Fields(err)
		if len(fields) != 1 || fields[0].Field != "row[17].Variant Barcode" || errs.CodeOf(err) != "invalid_csv" {
			t.Fatalf("fields: %+v, code %q", fields, errs.CodeOf(err))
		}
		if n := len(s.all(s.tenant)); n != 0 {
			t.Fatalf("%d products written from a file with an error", n)
		}

		// Errors are found across batches, listed in row order, and capped.
		b.Reset()
		b.WriteString("Variant SKU,Title,Variant Grams\n")
		for i := 2; i <= 2300; i++ {
			grams := "100"
			if i > 1000 && i <= 2010 {
				grams = "heavy"
			}
			fmt.Fprintf(&b, "SKU-%d,Product %d,%s\n", i, i, grams)
		}
		res, err = s.importCSV(s.tenant, b.String())
		if !errs.Is(errs.Invalid, err) || len(res.Errors) != catalog.MaxImportErrors || res.MoreErrors != 10 ||
			res.Errors[0].Row != 1001 || res.Errors[999].Row != 2000 {
			t.Fatalf("capped errors: %d listed, %d more, first %v, kind %v", len(res.Errors), res.MoreErrors, res.Errors[0], errs.KindOf(err))
		}
		if want := "catalog.Import: the file has 1010 errors; nothing was imported (the first 1000 are listed) (row[1001].Variant Grams"; !strings.HasPrefix(err.Error(), want) {
			t.Fatalf("message: %.200s", err)
		}
		if n := len(s.all(s.tenant)); n != 0 {
			t.Fatalf("%d products written", n)
		}
	})
}

func TestImportKits(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		s := newShop(t, e)
		s.mustImport(s.tenant, "Variant SKU,Title\nGAS-230,Gas canister\n", [5]int{1, 1, 0, 0, 0})
		// The kit comes before the components it names, which are in the
		// file, and one is in the catalogue already.
		file := "Variant SKU,Title,Kit Components\nKIT-COOK,Cook kit,STOVE-TI x1; MUG x2; GAS-230 x1\nSTOVE-TI,Stove,\nMUG,Mug,\n"
		s.mustImport(s.tenant, file, [5]int{3, 3, 0, 0, 0})
		ps := s.all(s.tenant)
		kit := ps["KIT-COOK"]
		want := []catalog.Component{{ProductID: ps["STOVE-TI"].ID, SKU: "STOVE-TI", Quantity: 1}, {ProductID: ps["MUG"].ID, SKU: "MUG", Quantity: 2},
			{ProductID: ps["GAS-230"].ID, SKU: "GAS-230", Quantity: 1}}
		if diff := cmp.Diff(want, kit.Components); diff != "" {
			t.Fatalf("kit components (-want +got):\n%s", diff)
		}
		s.mustImport(s.tenant, file, [5]int{3, 0, 0, 3, 0})
		// Without the Kit Components column a kit stays a kit.
		s.mustImport(s.tenant, "Variant SKU,Variant Price\nKIT-COOK,59.00\n", [5]int{1, 0, 1, 0, 0})
		if len(s.all(s.tenant)["KIT-COOK"].Components) != 3 {
			t.Fatal("kit lost its components")
		}

		tests := []struct {
			name, file string
			want       []string
		}{
			{"unknown component", "Variant SKU,Title,Kit Components\nK2,Kit,NOPE x1\nK3,Kit,NOPE x2\n",
				[]string{"row 2, Kit Components: no product has SKU NOPE, in this file or in the catalogue (used on 1 more rows)"}},
			{"kit in a kit, in the file", "Variant SKU,Title,Kit Components\nK2,Kit,K3 x1\nK3,Kit,MUG x1\n",
				[]string{"row 2, Kit Components: K3 is a kit itself (row 3); kits cannot contain kits"}},
			{"kit in a kit, in the catalogue", "Variant SKU,Title,Kit Components\nK2,Kit,KIT-COOK x1\n",
				[]string{"row 2, Kit Components: KIT-COOK is a kit; kits cannot contain kits"}},
			{"archived in the file", "Variant SKU,Title,Kit Components,Status\nK2,Kit,OLD x1,\nOLD,Old,,archived\n",
				[]string{"row 2, Kit Components: OLD is archived (row 3); a kit needs active components"}},
			{"a component turning into a kit", "Variant SKU,Kit Components\nMUG,GAS-230 x1\n",
				[]string{"row 2, Kit Components: this product is a component of KIT-COOK; kits cannot contain kits"}},
		}
		for _, tt := range tests {
			res, err := s.importCSV(s.tenant, tt.file)
			var got []string
			for _, e := range res.Errors {
				got = append(got, e.Error())
			}
			if !errs.Is(errs.Invalid, err) || !cmp.Equal(tt.want, got) {
				t.Errorf("%s: %v\n got %q\nwant %q", tt.name, err, got, tt.want)
			}
		}
		if _, err := s.cs.Archive(s.ctx, s.tenant.ID, ps["GAS-230"].ID); err != nil {
			t.Fatal(err)
		}
		res, _ := s.importCSV(s.tenant, "Variant SKU,Title,Kit Components\nK2,Kit,GAS-230 x1\n")
		if len(res.Errors) != 1 || res.Errors[0].Message != "GAS-230 is archived; a kit needs active components" {
			t.Fatalf("archived in the catalogue: %v", res.Errors)
		}
		if n := len(s.all(s.tenant)); n != 4 {
			t.Fatalf("%d products after failed imports, want 4", n)
		}
		// A kit made before one of its components was archived still
		// re-imports from its own export.
		s.mustImport(s.tenant, s.export(s.tenant, catalog.AnyState), [5]int{4, 0, 0, 4, 0})
	})
}

func TestImportBarcodes(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		s := newShop(t, e)
		s.mustImport(s.tenant, "Variant SKU,Title,Variant Barcode\nA,a,4006381333931\n", [5]int{1, 1, 0, 0, 0})
		res, err := s.importCSV(s.tenant, "Variant SKU,Title,Variant Barcode\nB,b,4006381333931\n")
		if !errs.Is(errs.Invalid, err) || len(res.Errors) != 1 || res.Errors[0].Error() != `row 2, Variant Barcode: "4006381333931" belongs to SKU A` {
			t.Fatalf("barcode of another product: %v %v", err, res.Errors)
		}
		res, _ = s.importCSV(s.tenant, "Variant SKU,Title,Variant Barcode\nC,c,96385074\nD,d,96385074\n")
		if len(res.Errors) != 1 || res.Errors[0].Error() != `row 3, Variant Barcode: "96385074" is also on row 2 (SKU C); a barcode belongs to one product` {
			t.Fatalf("barcode twice in the file: %v", res.Errors)
		}
		// A barcode moves when its old product is in the file without it,
		// whichever row comes first.
		s.mustImport(s.tenant, "Variant SKU,Title,Variant Barcode\nB,b,4006381333931\nA,a,\n", [5]int{2, 1, 1, 0, 0})
		ps := s.all(s.tenant)
		if len(ps["A"].Barcodes) != 0 || len(ps["B"].Barcodes) != 1 {
			t.Fatalf("barcode did not move: A %v, B %v", ps["A"].Barcodes, ps["B"].Barcodes)
		}
		s.mustImport(s.tenant, "Variant SKU,Title,Variant Barcode\nA,a,4006381333931\nB,b,\n", [5]int{2, 0, 2, 0, 0})
		if ps := s.all(s.tenant); len(ps["A"].Barcodes) != 1 || len(ps["B"].Barcodes) != 0 {
			t.Fatal("barcode did not move back")
		}
	})
}

func TestImportTenantIsolation(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		s := newShop(t, e)
		s.mustImport(s.tenant, "Variant SKU,Title,Variant Barcode,Variant Price\nX-1,Ours,4006381333931,5.00\nONLY-OURS,Ours too,,\n", [5]int{2, 2, 0, 0, 0})
		before := s.all(s.tenant)
		// The other tenant's same SKU and barcode are its own: created, not updated.
		s.mustImport(s.other, "Variant SKU,Title,Variant Barcode,Variant Price\nX-1,Theirs,4006381333931,7.00\n", [5]int{1, 1, 0, 0, 0})
		theirs := s.all(s.other)["X-1"]
		if theirs.Name != "Theirs" || theirs.Currency != "EUR" || *theirs.Price != 700 {
			t.Fatalf("other tenant's product: %+v", theirs)
		}
		if diff := cmp.Diff(before, s.all(s.tenant)); diff != "" {
			t.Fatalf("our products changed (-before +after):\n%s", diff)
		}
		// Kit components are looked up in the tenant's own catalogue only.
		res, _ := s.importCSV(s.other, "Variant SKU,Title,Kit Components\nK,Kit,ONLY-OURS x1\n")
		if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "no product has SKU ONLY-OURS") {
			t.Fatalf("kit of another tenant's SKU: %v", res.Errors)
		}
		if out := s.export(s.other, catalog.AnyState); strings.Contains(out, "Ours") || strings.Contains(out, "ONLY-OURS") {
			t.Fatalf("export shows another tenant's products:\n%s", out)
		}
	})
}

// Export → import → export gives the same file, on another tenant too.
func TestExportRoundTrip(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		s := newShop(t, e)
		golden := readFile(t, "testdata/export.golden")
		s.mustImport(s.tenant, golden, [5]int{6, 6, 0, 0, 1})
		first := s.export(s.tenant, catalog.AnyState)
		if diff := cmp.Diff(golden, first); diff != "" {
			t.Fatalf("golden → import → export (-golden +export):\n%s", diff)
		}
		s.mustImport(s.tenant, first, [5]int{6, 0, 0, 6, 0})
		s.mustImport(s.other, first, [5]int{6, 6, 0, 0, 1})
		if diff := cmp.Diff(first, s.export(s.other, catalog.AnyState)); diff != "" {
			t.Fatalf("export → import → export (-first +second):\n%s", diff)
		}
		if p := s.all(s.tenant)["FORMULA-1"]; p.Name != `=HYPERLINK("http://x")` || p.Vendor != "+Vendor" {
			t.Fatalf("formula product came back as %+v", p)
		}
		active, archived := s.export(s.tenant, ""), s.export(s.tenant, catalog.Archived)
		if strings.Contains(active, "LANTERN-STORM") || strings.Count(active, "\n") != 7 || strings.Count(archived, "\n") != 2 {
			t.Fatalf("status filter:\n%s\n%s", active, archived)
		}
	})
}

func TestImportLargeFile(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		s := newShop(t, e)
		in := generateCSV(1203)
		var passes, calls int
		var last int64
		res, err := s.cs.Import(s.ctx, s.tenant.ID, "USD", strings.NewReader(in), catalog.ImportOptions{Progress: func(rows int, bytes int64) {
			calls++
			if rows == 0 && bytes == 0 {
				passes++
			}
			last = bytes
		}})
		if err != nil || res.Created != 1203 {
			t.Fatalf("import: %+v %v", res, err)
		}
		// Check, write products, write kits (generateCSV makes some).
		if passes != 3 || last != int64(len(in)) || calls < 6 {
			t.Fatalf("progress: %d passes, %d calls, last %d of %d bytes", passes, calls, last, len(in))
		}
		var buf bytes.Buffer
		n, err := s.cs.Export(s.ctx, s.tenant.ID, &buf, catalog.Filter{})
		if err != nil || n != 1203 || strings.Count(buf.String(), "\nsku-") != 1203 {
			t.Fatalf("export of %d products over pages: %d %v", 1203, n, err)
		}
		s.mustImport(s.tenant, buf.String(), [5]int{1203, 0, 0, 1203, 0})
	})
}

// generateCSV makes a product CSV of n rows; every 50th is a kit of the
// two rows after it.
func generateCSV(n int) string {
	var b strings.Builder
	b.WriteString("Handle,Title,Body (HTML),Vendor,Type,Tags,Variant SKU,Variant Grams,Variant Inventory Policy,Variant Price,Cost per item,Variant Barcode,Length (mm),Width (mm),Height (mm),HS Code,Country of Origin,Kit Components,Status\n")
	for i := 0; i < n; i++ {
		kit := ""
		if i%50 == 0 && i+2 < n {
			kit = fmt.Sprintf("SKU-%06d x1; SKU-%06d x2", i+1, i+2)
		}
		fmt.Fprintf(&b, "sku-%06d,Product %d,\"<p>Good, solid product %d.</p>\",Acme,Gear,\"camping, sale\",SKU-%06d,%d,deny,%d.99,%d.10,BC-%06d,%d,%d,%d,6109.10,PT,%s,active\n",
			i, i, i, i, 100+i%900, 10+i%90, 5+i%50, i, 100+i%50, 80+i%40, 20+i%10, kit)
	}
	return b.String()
}

// BenchmarkImport10k imports a file of 10 000 new SKUs (with barcodes,
// tags and some kits) into a fresh tenant per iteration.
//
//	go test -run '^$' -bench Import10k -benchtime 3x ./internal/catalog/
func BenchmarkImport10k(b *testing.B) {
	const rows = 10000
	in := generateCSV(rows)
	for _, e := range testenv.Engines(b) {
		b.Run(e.Name, func(b *testing.B) {
			ctx := context.Background()
			db := e.Open(b)
			as := auth.NewService(store.NewAuth(db))
			cs := catalog.NewService(store.NewCatalog(db))
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				ten, err := as.CreateTenant(ctx, fmt.Sprintf("Bench %d", i), "UTC", "USD")
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				res, err := cs.Import(ctx, ten.ID, "USD", strings.NewReader(in), catalog.ImportOptions{})
				if err != nil || res.Created != rows {
					b.Fatalf("import: %+v %v", res.Created, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}
