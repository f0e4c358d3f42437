package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportOrders(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "w.db")
	if code, _, errOut := run(t, "", "tenant", "create", "Acme Outdoor", "--db", db, "--currency", "USD"); code != 0 {
		t.Fatalf("tenant create: %d %s", code, errOut)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	products := write("products.csv", "Variant SKU,Title,Variant Price\nMUG,Mug,16.00\nCAP,Cap,20.00\n")
	if code, _, errOut := run(t, "", "import", "products", products, "--tenant", "Acme Outdoor", "--db", db); code != 0 {
		t.Fatalf("products: %s", errOut)
	}
	imp := func(args ...string) (int, string, string) {
		return run(t, "", append([]string{"import", "orders"}, append(args, "--tenant", "Acme Outdoor", "--db", db)...)...)
	}
	head := "channel,external_id,number,currency,customer_name,ship_name,ship_line1,ship_city,ship_postal_code,ship_country,sku,quantity,unit_price,fulfillment_status\n"
	bad := write("bad.csv", head+
		"web,W1,#1,USD,Zoë,Zoë,Königstraße 1,Berlin,10117,DE,MUG,2,16.00,\n"+
		"web,W1,#1,USD,Zoë,Zoë,Königstraße 1,Berlin,10117,DE,CAP,x,20.00,\n"+
		"web,W2,#2,USD,Ann,Ann,1 Main St,Denver,80202,Germany,MUG,1,16.00,\n"+
		"web,W3,#3,USD,Bo,Bo,2 Main St,Denver,80202,US,NOPE,1,1.00,\n")
	code, out, errOut := imp(bad)
	if code != 1 || out != "" {
		t.Fatalf("bad file: %d %q %q", code, out, errOut)
	}
	for _, want := range []string{"row 3", "row 4", "ship_country", "row 5", "sku", "nothing was imported"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("errors lack %q:\n%s", want, errOut)
		}
	}
	good := write("good.csv", head+
		"web,W1,#1,USD,Zoë,Zoë,Königstraße 1,Berlin,10117,DE,MUG,2,16.00,\n"+
		"web,W1,#1,USD,Zoë,Zoë,Königstraße 1,Berlin,10117,DE,CAP,1,20.00,\n"+
		"web,W2,#2,USD,Ann,Ann,1 Main St,Denver,80202,US,MUG,1,16.00,fulfilled\n")
	if code, out, errOut := imp(good, "--dry-run"); code != 0 || !strings.Contains(out, "3 rows, 2 orders: all good (dry run") {
		t.Fatalf("dry run: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := imp(good); code != 0 || out != "3 rows, 2 orders: 2 created, 0 already there\n" {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	if code, out, _ := imp(good); code != 0 || out != "3 rows, 2 orders: 0 created, 2 already there\n" {
		t.Fatalf("second import: %d %q", code, out)
	}
}
