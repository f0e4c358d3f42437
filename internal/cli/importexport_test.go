package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
