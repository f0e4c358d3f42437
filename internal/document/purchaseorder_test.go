package document

import (
	"bytes"
	"encoding/csv"
	"flag"
	"fmt"
	"math"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"pgregory.net/rapid"

	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/money"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func eur(minor int64) money.Amount { return money.Amount{Minor: minor, Currency: "EUR"} }

// samplePO is a one-page purchase order with non-ASCII text everywhere, a
// name that wraps and cells a spreadsheet would take for formulas.
func samplePO() PurchaseOrder {
	return PurchaseOrder{
		Number:   "PO-1042",
		IssuedAt: time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC),
		Merchant: Party{
			Name:    "Acme Outdoor GmbH",
			Address: "Hauptstraße 5\n10115 Berlin\nGermany",
			Email:   "orders@acme-outdoor.example",
		},
		Supplier: Party{Name: "Łódź Textiles Sp. z o.o.", Email: "zamowienia@lodz-textiles.example"},
		ShipTo: ShipTo{
			Name:       "Zoë Ångström",
			Company:    "Ångström & Søn",
			Line1:      "ul. Piotrkowska 104",
			Line2:      "m. 12",
			City:       "Łódź",
			Region:     "łódzkie",
			PostalCode: "90-001",
			Country:    "Poland",
			Phone:      "+48 42 123 45 67",
		},
		OrderNumber: "#1001",
		Lines: []Line{
			{SKU: "TENT-2P-GRN", Name: "Trekking tent, two person, forest green", Quantity: 1, UnitCost: eur(18950)},
			{SKU: "SLEEP-PAD-XL", Name: "Self-inflating sleeping pad XL with repair kit, compression straps, stuff sack and a very long product name that has to wrap onto several lines of the table", Quantity: 2, UnitCost: eur(4425)},
			{SKU: "=HYPERLINK(\"x\")", Name: "-Gaiters (pair), größe M", Quantity: 3, UnitCost: eur(1299)},
		},
		Note:      "Please ship in plain packaging without invoices or prices.\r\n\r\nDelivery before Friday, if possible.",
		PortalURL: "https://waybill.example.com/supplier/po/AXBvXzAxanh2bjNtZTdxNGgwMjA0Mjl0M2sxcwAAAABp6xSAz8Vw-3Lk9sI8vU1gq0o2yqKkT0X5S6gXq3jWb4lYc0M",
	}
}

// manyLinesPO has n lines, enough for several pages.
func manyLinesPO(n int) PurchaseOrder {
	po := samplePO()
	po.Number = "PO-2000"
	po.Lines = nil
	for i := range n {
		name := fmt.Sprintf("Replacement part %d", i+1)
		if i%7 == 3 {
			name += " for the deluxe camp kitchen, with a description long enough to wrap"
		}
		po.Lines = append(po.Lines, Line{SKU: fmt.Sprintf("PART-%04d", i+1), Name: name, Quantity: int64(i%5 + 1), UnitCost: eur(int64(100 + 37*i))})
	}
	return po
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (%d bytes, want %d); if the change is intended, run go test -update and look at the result", name, len(got), len(want))
	}
}

func TestPurchaseOrderCSV(t *testing.T) {
	got, err := PurchaseOrderCSV(samplePO())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "po_1042.csv", got)

	recs, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := "po_number,order_number,sku,name,quantity,unit_cost,currency,ship_to_name,ship_to_company,ship_to_line1,ship_to_line2,ship_to_city,ship_to_region,ship_to_postal_code,ship_to_country,ship_to_phone"
	if h := strings.Join(recs[0], ","); h != wantHeader {
		t.Errorf("header = %s", h)
	}
	if len(recs) != 4 {
		t.Fatalf("got %d rows, want a header and 3 lines", len(recs))
	}
	want := []string{"PO-1042", "#1001", "'=HYPERLINK(\"x\")", "'-Gaiters (pair), größe M", "3", "12.99", "EUR", "Zoë Ångström", "Ångström & Søn", "ul. Piotrkowska 104", "m. 12", "Łódź", "łódzkie", "90-001", "Poland", "'+48 42 123 45 67"}
	if !slices.Equal(recs[3], want) {
		t.Errorf("third line =\n%q\nwant\n%q", recs[3], want)
	}
	if recs[1][5] != "189.50" || recs[2][4] != "2" {
		t.Errorf("first lines = %q, %q", recs[1], recs[2])
	}

	// Amounts come out with their currency's digits.
	po := samplePO()
	for i := range po.Lines {
		po.Lines[i].UnitCost = money.Amount{Minor: 1500, Currency: "JPY"}
	}
	got, err = PurchaseOrderCSV(po)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), ",1500,JPY,") {
		t.Errorf("JPY CSV:\n%s", got)
	}
}

// pageCount counts the page objects (not the /Pages tree) in a PDF.
func pageCount(pdf []byte) int {
	return len(regexp.MustCompile(`/Type /Page\b[^s]`).FindAll(pdf, -1))
}

// pdfString is s as fpdf writes text in a UTF-8 font: UTF-16BE, escaped.
func pdfString(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	r := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`, "\r", `\r`)
	return []byte(r.Replace(string(b)))
}

func TestPurchaseOrderPDF(t *testing.T) {
	for _, tc := range []struct {
		name  string
		po    PurchaseOrder
		pages int
	}{
		{"po_1042.pdf", samplePO(), 1},
		{"po_2000_many_lines.pdf", manyLinesPO(70), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PurchaseOrderPDF(tc.po)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, got)
			if !bytes.HasPrefix(got, []byte("%PDF-")) || !bytes.HasSuffix(bytes.TrimSpace(got), []byte("%%EOF")) {
				t.Errorf("not a PDF: starts %q", got[:min(len(got), 16)])
			}
			if n := pageCount(got); n != tc.pages {
				t.Errorf("%d pages, want %d", n, tc.pages)
			}
			again, err := PurchaseOrderPDF(tc.po)
			if err != nil || !bytes.Equal(got, again) {
				t.Errorf("a second rendering differs (err %v)", err)
			}

			plain, err := purchaseOrderPDF(tc.po, false)
			if err != nil {
				t.Fatal(err)
			}
			if n := pageCount(plain); n != tc.pages {
				t.Errorf("uncompressed: %d pages, want %d", n, tc.pages)
			}
			// The table header is repeated on every page.
			if n := bytes.Count(plain, pdfString("Line total")); n != tc.pages {
				t.Errorf("the table header appears %d times, want once per page (%d)", n, tc.pages)
			}
			total, _ := tc.po.totalString()
			for _, s := range []string{
				tc.po.Number, "Issued 2026-03-14", "Zoë Ångström", "Łódź Textiles Sp. z o.o.", "ul. Piotrkowska 104",
				"Łódź, łódzkie 90-001", "#1001", "Hauptstraße 5", "orders@acme-outdoor.example",
				"Total EUR", total,
				fmt.Sprintf("Page %d of %d", tc.pages, tc.pages),
			} {
				if !bytes.Contains(plain, pdfString(s)) {
					t.Errorf("the PDF lacks %q", s)
				}
			}
			// The portal link is clickable.
			if !bytes.Contains(plain, []byte("/URI ("+tc.po.PortalURL+")")) {
				t.Error("the PDF has no link annotation to the portal URL")
			}
		})
	}
}

// totalString is the grand total as the PDF prints it.
func (po PurchaseOrder) totalString() (string, error) {
	_, total, err := po.Totals()
	return total.String(), err
}

// TestPurchaseOrderPDFText reads the text back with pdftotext (poppler),
// when it is installed, to check what a reader sees.
func TestPurchaseOrderPDFText(t *testing.T) {
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext is not installed")
	}
	pdf, err := PurchaseOrderPDF(samplePO())
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-layout", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	txt := string(out)
	for _, s := range []string{
		"Purchase order", "PO-1042", "Issued 2026-03-14", "Zoë Ångström", "Łódź Textiles Sp. z o.o.",
		"Ångström & Søn", "Łódź, łódzkie 90-001", "Phone: +48 42 123 45 67", "Hauptstraße 5",
		"TENT-2P-GRN", "189.50", "88.50", "38.97", "Total EUR", "316.97",
		"Please ship in plain packaging", "Delivery before Friday", "Page 1 of 1",
		"https://waybill.example.com/supplier/po/",
	} {
		if !strings.Contains(txt, s) {
			t.Errorf("the text lacks %q:\n%s", s, txt)
		}
	}
}

func TestPurchaseOrderPDFOddText(t *testing.T) {
	po := samplePO()
	po.Supplier.Name = "Emoji 📦 and CJK 東京 and a\x00control\tchar and \xff invalid"
	po.Lines[0].Name = strings.Repeat("Unbrokenwordwithoutanyspaces", 40)
	po.Lines[1].SKU = strings.Repeat("SKU-", 50)
	po.Lines[2].UnitCost = eur(math.MaxInt64 / 4)
	po.Merchant.Address = strings.Repeat("Line\n", 40)
	po.Note = strings.Repeat("A long note. ", 600)
	po.PortalURL = ""
	pdf, err := PurchaseOrderPDF(po)
	if err != nil {
		t.Fatal(err)
	}
	if pageCount(pdf) < 2 {
		t.Errorf("%d pages; the long note should run onto a second page", pageCount(pdf))
	}
	if strings.Contains(string(pdf), "/URI") {
		t.Error("a link without a portal URL")
	}
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"  Zoë \r\n Ångström\t": "Zoë Ångström",
		"a\x00b":                "a b",
		"📦 box":                 "\uFFFD box",
		"bad \xff byte":         "bad \uFFFD byte",
	} {
		if got := text(in); got != want {
			t.Errorf("text(%q) = %q, want %q", in, got, want)
		}
	}
	if got := paragraphs("\n\nOne\r\n\r\n\r\nTwo\rThree\n\n"); !slices.Equal(got, []string{"One", "", "Two", "Three"}) {
		t.Errorf("paragraphs = %q", got)
	}
}

func TestPurchaseOrderInvalid(t *testing.T) {
	for _, tc := range []struct {
		field string
		edit  func(*PurchaseOrder)
	}{
		{"number", func(po *PurchaseOrder) { po.Number = " " }},
		{"issued_at", func(po *PurchaseOrder) { po.IssuedAt = time.Time{} }},
		{"portal_url", func(po *PurchaseOrder) { po.PortalURL = "javascript:alert(1)" }},
		{"portal_url", func(po *PurchaseOrder) { po.PortalURL = "/relative/link" }},
		{"lines", func(po *PurchaseOrder) { po.Lines = nil }},
		{"lines[0].unit_cost.currency", func(po *PurchaseOrder) { po.Lines[0].UnitCost.Currency = "eur" }},
		{"lines[1].unit_cost.currency", func(po *PurchaseOrder) { po.Lines[1].UnitCost.Currency = "USD" }},
		{"lines[1].sku", func(po *PurchaseOrder) { po.Lines[1].SKU = "" }},
		{"lines[2].quantity", func(po *PurchaseOrder) { po.Lines[2].Quantity = 0 }},
		{"lines[2].unit_cost", func(po *PurchaseOrder) { po.Lines[2].UnitCost.Minor = -1 }},
		{"lines[0]", func(po *PurchaseOrder) { po.Lines[0].Quantity, po.Lines[0].UnitCost.Minor = 1<<40, 1<<30 }},
		{"lines", func(po *PurchaseOrder) { po.Lines[0].UnitCost.Minor, po.Lines[1].UnitCost.Minor = math.MaxInt64, 1 }},
		{"lines", func(po *PurchaseOrder) {
			po.Lines[0].Quantity, po.Lines[0].UnitCost.Minor, po.Lines[1].Quantity = math.MaxInt64, 0, 1
		}},
	} {
		po := samplePO()
		tc.edit(&po)
		for name, render := range map[string]func(PurchaseOrder) ([]byte, error){"PDF": PurchaseOrderPDF, "CSV": PurchaseOrderCSV} {
			out, err := render(po)
			fields := errs.Fields(err)
			if out != nil || !errs.Is(errs.Invalid, err) || len(fields) != 1 || fields[0].Field != tc.field {
				t.Errorf("%s with a bad %s: err = %v", name, tc.field, err)
			}
		}
	}
}

func TestTotals(t *testing.T) {
	lines, total, err := samplePO().Totals()
	if err != nil {
		t.Fatal(err)
	}
	if want := []money.Amount{eur(18950), eur(8850), eur(3897)}; !slices.Equal(lines, want) || total != eur(31697) {
		t.Errorf("Totals = %v, %v", lines, total)
	}
}

// TestTotalsProperty checks, for random lines, that each line total is
// quantity × unit cost and the total their sum, computed without overflow,
// or that Totals refuses exactly when a result does not fit in int64.
func TestTotalsProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		currency := rapid.SampledFrom([]string{"USD", "JPY", "KWD"}).Draw(t, "currency")
		n := rapid.IntRange(1, 20).Draw(t, "lines")
		big8 := rapid.Bool().Draw(t, "large")
		po := samplePO()
		po.Lines = nil
		for i := range n {
			maxQty, maxCost := int64(1000), int64(10_000_000)
			if big8 {
				maxQty, maxCost = math.MaxInt64, math.MaxInt64
			}
			po.Lines = append(po.Lines, Line{
				SKU:      fmt.Sprintf("SKU-%d", i),
				Quantity: rapid.Int64Range(1, maxQty).Draw(t, "qty"),
				UnitCost: money.Amount{Minor: rapid.Int64Range(0, maxCost).Draw(t, "cost"), Currency: currency},
			})
		}
		lines, total, err := po.Totals()

		fits := func(x *big.Int) bool { return x.IsInt64() }
		sum, units := new(big.Int), new(big.Int)
		ok := true
		want := make([]*big.Int, n)
		for i, l := range po.Lines {
			want[i] = new(big.Int).Mul(big.NewInt(l.Quantity), big.NewInt(l.UnitCost.Minor))
			ok = ok && fits(want[i])
			sum.Add(sum, want[i])
			units.Add(units, big.NewInt(l.Quantity))
		}
		ok = ok && fits(sum) && fits(units)
		if !ok {
			if err == nil || !errs.Is(errs.Invalid, err) {
				t.Fatalf("Totals = %v, %v, %v; want an Invalid error for results beyond int64", lines, total, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range lines {
			if lines[i].Currency != currency || lines[i].Minor != want[i].Int64() {
				t.Fatalf("line %d total = %v, want %v %s", i, lines[i], want[i], currency)
			}
		}
		if total.Currency != currency || total.Minor != sum.Int64() {
			t.Fatalf("total = %v, want %v %s", total, sum, currency)
		}
	})
}
