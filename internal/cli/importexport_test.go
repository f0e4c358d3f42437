package cli

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waybill/waybill/internal/app"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/testenv"
)

func TestImportExportProducts(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "w.db")
	if code, _, errOut := run(t, "", "tenant", "create", "Acme Outdoor", "--db", db, "--currency", "EUR"); code != 0 {
		t.Fatalf("tenant create: %d %s", code, errOut)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("products.csv", "Variant SKU,Title,Variant Price,Kit Components\nKIT-1,Kit,10.00,APPLE x2; BEAN x1\nAPPLE,Apple,1.50,\nBEAN,Bean,2.00,\n")
	imp := func(args ...string) (int, string, string) {
		return run(t, "", append([]string{"import", "products"}, append(args, "--tenant", "Acme Outdoor", "--db", db)...)...)
	}

	code, out, errOut := imp(good)
	if code != 0 || out != "3 rows: 3 created, 0 updated, 0 unchanged\n" || errOut != "" {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	if code, out, _ := imp(good); code != 0 || out != "3 rows: 0 created, 0 updated, 3 unchanged\n" {
		t.Fatalf("second import: %d %q", code, out)
	}
	changed := write("changed.csv", "Variant SKU,Title,Variant Price,Status\nAPPLE,Apple,1.75,\nPEAR,Pear,3.00,archived\n")
	if code, out, _ := imp(changed, "--dry-run"); code != 0 || out != "2 rows: 1 created, 1 updated, 0 unchanged, 1 archived (dry run: nothing was written)\n" {
		t.Fatalf("dry run: %d %q", code, out)
	}

	bad := write("bad.csv", "Variant SKU,Title,Variant Barcode,Variant Price\nPEAR,Pear,,3.00\nFIG,Fig,4006381333932,2.00\nAPPLE,Apple,,1.999\n")
	code, out, errOut = imp(bad)
	wantErr := `row 3, Variant Barcode: "4006381333932": invalid GTIN-13 check digit (expected 1)
row 4, Variant Price: "1.999": EUR allows at most 2 decimal places
waybill: ` + bad + `: 2 errors; nothing was imported
`
	if code != 1 || out != "" || errOut != wantErr {
		t.Fatalf("bad file: %d %q\n%s", code, out, errOut)
	}
	if code, _, errOut := imp("-"); code != 1 || !strings.Contains(errOut, "standard input is not supported") {
		t.Fatalf("stdin: %d %q", code, errOut)
	}
	if code, _, errOut := imp(filepath.Join(dir, "missing.csv")); code != 1 || !strings.Contains(errOut, "no such file") {
		t.Fatalf("missing file: %d %q", code, errOut)
	}

	code, csv, errOut := run(t, "", "export", "products", "--tenant", "Acme Outdoor", "--db", db)
	if code != 0 || !strings.HasPrefix(csv, "Handle,Title,Body (HTML),") || strings.Count(csv, "\n") != 4 || errOut != "" {
		t.Fatalf("export: %d %q %q", code, csv, errOut)
	}
	if !strings.Contains(csv, "KIT-1,0,,,deny,manual,10.00,") || !strings.Contains(csv, ",EUR,FALSE,FALSE,APPLE x2; BEAN x1\n") {
		t.Fatalf("export content:\n%s", csv)
	}
	if strings.Contains(csv, "PEAR") {
		t.Fatal("the dry run or the failed import wrote PEAR")
	}
	outFile := filepath.Join(dir, "out.csv")
	code, _, errOut = run(t, "", "export", "products", "--tenant", "Acme Outdoor", "--db", db, "--out", outFile)
	if code != 0 || errOut != "exported 3 products to "+outFile+"\n" {
		t.Fatalf("export --out: %d %q", code, errOut)
	}
	if b, _ := os.ReadFile(outFile); string(b) != csv {
		t.Fatalf("file and standard output differ:\n%s", b)
	}
	// The export imports as it is.
	if code, out, _ := imp(outFile); code != 0 || out != "3 rows: 0 created, 0 updated, 3 unchanged\n" {
		t.Fatalf("import of the export: %d %q", code, out)
	}
	if code, csv, _ := run(t, "", "export", "products", "--tenant", "Acme Outdoor", "--db", db, "--status", "archived"); code != 0 || strings.Count(csv, "\n") != 1 {
		t.Fatalf("archived export: %d %q", code, csv)
	}
}

func TestImportExportStock(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		dir := t.TempDir()
		db := e.DSN(t)
		if code, _, errOut := run(t, "", "tenant", "create", "Acme Outdoor", "--db", db); code != 0 {
			t.Fatalf("tenant create: %d %s", code, errOut)
		}
		write := func(name, content string) string {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
		if code, _, errOut := run(t, "", "import", "products", write("products.csv", "Variant SKU,Title\nMUG,Mug\nSTOVE,Stove\n"), "--tenant", "Acme Outdoor", "--db", db); code != 0 {
			t.Fatalf("import products: %s", errOut)
		}
		// Facilities and bins have no commands yet; make them through the app.
		a, err := app.Open(t.Context(), func() config.Config { c := config.Defaults(); c.DB = db; return c }(), slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		ten, err := a.Auth.TenantByName(t.Context(), "Acme Outdoor")
		if err != nil {
			t.Fatal(err)
		}
		main, err := a.Inventory.CreateFacility(t.Context(), ten.ID, inventory.FacilityInput{Code: "MAIN", Name: "Main", Kind: inventory.Own})
		if err == nil {
			_, err = a.Inventory.CreateBin(t.Context(), ten.ID, main.ID, inventory.BinInput{Code: "A-01"})
		}
		if err == nil {
			_, err = a.Inventory.CreateFacility(t.Context(), ten.ID, inventory.FacilityInput{Code: "EU1", Name: "EU 3PL", Kind: inventory.ThreePL})
		}
		a.Close()
		if err != nil {
			t.Fatal(err)
		}

		imp := func(args ...string) (int, string, string) {
			return run(t, "", append([]string{"import", "stock"}, append(args, "--tenant", "Acme Outdoor", "--db", db)...)...)
		}
		good := write("stock.csv", "sku,facility,bin,lot,quantity\nMUG,MAIN,A-01,,7\nSTOVE,EU1,,L1,4\n")
		if code, out, errOut := imp(good, "--dry-run"); code != 0 || out != "2 rows: 2 changed, 0 unchanged (dry run: nothing was written)\n" || errOut != "" {
			t.Fatalf("dry run: %d %q %q", code, out, errOut)
		}
		if code, out, errOut := imp(good); code != 0 || out != "2 rows: 2 changed, 0 unchanged\n" || errOut != "" {
			t.Fatalf("import: %d %q %q", code, out, errOut)
		}
		if code, out, _ := imp(good); code != 0 || out != "2 rows: 0 changed, 2 unchanged\n" {
			t.Fatalf("second import: %d %q", code, out)
		}
		code, out, errOut := run(t, "sku,facility,quantity\nMUG,MAIN,3\n", "import", "stock", "-", "--tenant", "Acme Outdoor", "--db", db)
		if code != 0 || out != "1 row: 1 changed, 0 unchanged\n" {
			t.Fatalf("from standard input: %d %q %q", code, out, errOut)
		}

		bad := write("bad.csv", "sku,facility,bin,quantity\nMUG,MAIN,Z-9,1\nMUG,MAIN,,many\n")
		code, out, errOut = imp(bad)
		wantErr := `row 2, bin: "Z-9": no bin with this code in facility MAIN
row 3, quantity: "many": must be a whole number from 0 to 1000000000
waybill: ` + bad + `: 2 errors; nothing was imported
`
		if code != 1 || out != "" || errOut != wantErr {
			t.Fatalf("bad file: %d %q\n%s", code, out, errOut)
		}
		if code, _, errOut := imp(filepath.Join(dir, "missing.csv")); code != 1 || !strings.Contains(errOut, "no such file") {
			t.Fatalf("missing file: %d %q", code, errOut)
		}

		exp := func(args ...string) (int, string, string) {
			return run(t, "", append([]string{"export", "stock"}, append(args, "--tenant", "Acme Outdoor", "--db", db)...)...)
		}
		want := "sku,facility,bin,lot,quantity\nSTOVE,EU1,,L1,4\nMUG,MAIN,,,3\nMUG,MAIN,A-01,,7\n"
		if code, csv, errOut := exp(); code != 0 || csv != want || errOut != "" {
			t.Fatalf("export: %d %q %q", code, csv, errOut)
		}
		if code, csv, _ := exp("--facility", "EU1"); code != 0 || csv != "sku,facility,bin,lot,quantity\nSTOVE,EU1,,L1,4\n" {
			t.Fatalf("export --facility: %d %q", code, csv)
		}
		if code, _, errOut := exp("--facility", "NOPE"); code != 1 || errOut != "waybill: no facility has the code NOPE\n" {
			t.Fatalf("unknown facility: %d %q", code, errOut)
		}
		outFile := filepath.Join(dir, "out.csv")
		if code, _, errOut := exp("--out", outFile); code != 0 || errOut != "exported 3 stock rows to "+outFile+"\n" {
			t.Fatalf("export --out: %d %q", code, errOut)
		}
		if b, _ := os.ReadFile(outFile); string(b) != want {
			t.Fatalf("file: %q", b)
		}
		if code, out, _ := imp(outFile); code != 0 || out != "3 rows: 0 changed, 3 unchanged\n" {
			t.Fatalf("import of the export: %d %q", code, out)
		}
		if code, out, _ := run(t, "", "check", "--db", db); code != 0 || !strings.HasPrefix(out, "ok:") {
			t.Fatalf("check: %d %q", code, out)
		}
	})
}
