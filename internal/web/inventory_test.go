package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/testenv"
)

// stock gives a tenant two facilities (DEN, own, with bin A-01; EU-3PL) and
// two products (MUG, TENT).
type stock struct {
	den, eu   inventory.Facility
	mug, tent catalog.Product
}

func (f *fixture) stock(tn auth.Tenant) stock {
	f.t.Helper()
	ctx := f.t.Context()
	var s stock
	var err error
	if s.den, err = f.inv.CreateFacility(ctx, tn.ID, inventory.FacilityInput{Code: "DEN", Name: "Denver warehouse", Kind: inventory.Own}); err != nil {
		f.t.Fatal(err)
	}
	if s.eu, err = f.inv.CreateFacility(ctx, tn.ID, inventory.FacilityInput{Code: "EU-3PL", Name: "Rotterdam 3PL", Kind: inventory.ThreePL}); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.inv.CreateBin(ctx, tn.ID, s.den.ID, inventory.BinInput{Code: "A-01", Aisle: "A", Bay: "01"}); err != nil {
		f.t.Fatal(err)
	}
	s.mug = f.product(tn, catalog.Draft{SKU: "MUG", Name: "Enamel mug", Barcodes: []string{"4006381333931"}})
	s.tent = f.product(tn, catalog.Draft{SKU: "TENT", Name: "Ridgeline tent"})
	return s
}

func (f *fixture) receive(tn auth.Tenant, sku, facility, bin string, qty int64) {
	f.t.Helper()
	if _, _, err := f.inv.Adjust(f.t.Context(), tn.ID, inventory.Adjustment{SKU: sku, Facility: facility, Bin: bin, Quantity: qty, Kind: inventory.Receive, Actor: "test"}); err != nil {
		f.t.Fatal(err)
	}
}

// level reads one balance through the service.
func (f *fixture) level(tn auth.Tenant, productID, facilityID string) inventory.Level {
	f.t.Helper()
	ls, _, err := f.inv.Levels(f.t.Context(), tn.ID, inventory.LevelFilter{ProductID: productID, FacilityID: facilityID})
	if err != nil {
		f.t.Fatal(err)
	}
	if len(ls) == 0 {
		return inventory.Level{}
	}
	return ls[0].Level
}

// ledgerAgrees fails the test when any balance disagrees with its ledger.
func (f *fixture) ledgerAgrees() {
	f.t.Helper()
	ds, err := f.inv.Check(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	if len(ds) > 0 {
		f.t.Errorf("balances disagree with the ledger: %+v", ds)
	}
}

var levelRowRe = regexp.MustCompile(`(?s)<tr( class="is-low"[^>]*)?>\s*<td class="sku"><a href="/inventory/sku/[^"]+">([^<]+)</a>.*?</td>\s*<td class="nowrap">([^<]+)</td>`)

// levelRows lists the stock table's rows as "SKU@FACILITY", low ones marked "!".
func levelRows(body string) []string {
	var out []string
	for _, m := range levelRowRe.FindAllStringSubmatch(body, -1) {
		row := m[2] + "@" + m[3]
		if m[1] != "" {
			row += "!"
		}
		out = append(out, row)
	}
	return out
}

func TestInventoryList(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		f.stock(f.alpha)
		ctx := t.Context()
		// A fixed reorder point of 10: 5 on hand at DEN is low, 20 at the 3PL is not.
		ten := int64(10)
		if _, err := f.inv.SetReorderSettings(ctx, f.alpha.ID, "MUG", inventory.ReorderSettings{LeadTimeDays: 14, ReorderPoint: &ten}); err != nil {
			t.Fatal(err)
		}
		f.receive(f.alpha, "MUG", "DEN", "A-01", 5)
		f.receive(f.alpha, "MUG", "EU-3PL", "", 20)
		f.receive(f.alpha, "TENT", "DEN", "", 40)
		f.stock(f.beta)
		f.receive(f.beta, "MUG", "DEN", "", 99)

		c := f.signIn("owner@alpha.example")
		res, body := c.get("/inventory")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `<a class="nav-item is-active" href="/inventory" aria-current="page">Inventory</a>`,
			`<option value="DEN">DEN · Denver warehouse</option>`, "Low stock only",
			`title="available 5 is at or below the reorder point 10"`, `<span class="badge low">Low</span>`,
			`<tr class="low-note"><td colspan="9">Low stock: available 5 is at or below the reorder point 10.</td></tr>`)
		got := strings.Join(levelRows(body), " ")
		for _, want := range []string{"MUG@DEN!", "TENT@DEN", "MUG@EU-3PL"} {
			if !strings.Contains(got+" ", want+" ") {
				t.Errorf("rows %q lack %q", got, want)
			}
		}
		if strings.Contains(body, ">99<") || len(levelRows(body)) != 3 {
			t.Errorf("rows %q: want alpha's three balances only", got)
		}

		for _, tc := range []struct {
			query string
			want  string
		}{
			{"q=tent", "TENT@DEN"},
			{"q=enamel", "MUG@DEN! MUG@EU-3PL"},
			{"facility=EU-3PL", "MUG@EU-3PL"},
			{"low=1", "MUG@DEN!"},
			{"low=1&facility=EU-3PL", ""},
			{"q=4006381333931", "MUG@DEN! MUG@EU-3PL"}, // a scanned barcode
			{"facility=NOPE", ""},
		} {
			res, body := c.get("/inventory?" + tc.query)
			wantStatus(t, res, body, http.StatusOK)
			if got := strings.Join(levelRows(body), " "); got != tc.want {
				t.Errorf("%s: rows %q, want %q", tc.query, got, tc.want)
			}
		}
		_, body = c.get("/inventory?low=1&facility=EU-3PL")
		wantContains(t, body, "Nothing is low on stock at EU-3PL.", `<input type="checkbox" name="low" value="1" checked>`)
		_, body = c.get("/inventory?facility=NOPE")
		wantContains(t, body, "No facility has the code “NOPE”.")
		_, body = c.get("/inventory?q=4006381333931")
		wantContains(t, body, "showing the product with that barcode")

		// htmx gets the results alone.
		res, body = c.get("/inventory?q=tent", "HX-Request", "true")
		wantStatus(t, res, body, http.StatusOK)
		if !strings.HasPrefix(strings.TrimSpace(body), `<div id="inventory-results"`) || strings.Contains(body, "<html") {
			t.Errorf("htmx response is not the results fragment:\n%s", body)
		}
	})
}

func TestInventoryListPages(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		if _, err := f.inv.CreateFacility(t.Context(), f.alpha.ID, inventory.FacilityInput{Code: "DEN", Name: "Denver", Kind: inventory.Own}); err != nil {
			t.Fatal(err)
		}
		for i := range 52 {
			sku := "SKU-" + string(rune('A'+i/26)) + string(rune('A'+i%26))
			f.product(f.alpha, catalog.Draft{SKU: sku, Name: "Thing"})
			f.receive(f.alpha, sku, "DEN", "", int64(i+1))
		}
		c := f.signIn("viewer@alpha.example")
		_, body := c.get("/inventory?facility=DEN")
		if n := len(levelRows(body)); n != 50 {
			t.Fatalf("first page has %d rows", n)
		}
		m := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(body)
		if m == nil || !strings.Contains(m[1], "facility=DEN") {
			t.Fatalf("no next link keeping the filter in\n%s", body)
		}
		_, body = c.get(strings.ReplaceAll(m[1], "&amp;", "&"))
		if n := len(levelRows(body)); n != 2 {
			t.Errorf("second page has %d rows", n)
		}
		wantContains(t, body, "← First page", `href="/inventory?facility=DEN"`)
		wantNotContains(t, body, `rel="next"`)
	})
}

func TestInventoryAdjust(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		s := f.stock(f.alpha)
		ctx := t.Context()
		c := f.signIn("owner@alpha.example")

		res, body := c.get("/inventory/adjust?sku=MUG")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `name="sku" value="MUG"`, `<option value="DEN" selected>`, `value="adjust" checked`, "Book it")

		res, _ = c.post("/inventory/adjust", url.Values{"sku": {"MUG"}, "facility": {"DEN"}, "bin": {"A-01"}, "quantity": {"12"}, "kind": {"receive"}, "reason": {"PO 1001"}})
		wantRedirect(t, res, "/inventory/sku/"+s.mug.ID)
		if l := f.level(f.alpha, s.mug.ID, s.den.ID); l.OnHand != 12 {
			t.Fatalf("on hand %d after receiving 12", l.OnHand)
		}
		res, body = c.get("/inventory/sku/" + s.mug.ID)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "Received &#43;12 MUG at DEN. On hand there is now 12, available 12.",
			`<span class="kind kind-receive">Received</span>`, `<td class="num delta pos">&#43;12</td>`, "PO 1001", "owner@alpha.example", `title="Bin">A-01<`)

		// 8 of the 12 are promised: taking 5 out is refused, and nothing changes.
		if _, _, err := f.inv.MakeReservation(ctx, f.alpha.ID, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: "MUG", Quantity: 8}}, Facility: "DEN"}); err != nil {
			t.Fatal(err)
		}
		before, _, _ := f.inv.Movements(ctx, f.alpha.ID, inventory.MovementFilter{ProductID: s.mug.ID})
		res, body = c.post("/inventory/adjust", url.Values{"sku": {"MUG"}, "facility": {"DEN"}, "quantity": {"-5"}, "kind": {"adjust"}, "reason": {"damaged"}})
		wantStatus(t, res, body, http.StatusConflict)
		wantContains(t, body, `<div class="alert error refused" role="alert"><strong>Nothing was changed.</strong> MUG: 12 on hand of which 8 reserved; removing 5 would leave less than is promised</div>`,
			`value="-5"`, `value="damaged"`, `value="adjust" checked`)
		if l := f.level(f.alpha, s.mug.ID, s.den.ID); l.OnHand != 12 || l.Reserved != 8 {
			t.Errorf("after a refused adjustment: %+v", l)
		}
		if after, _, _ := f.inv.Movements(ctx, f.alpha.ID, inventory.MovementFilter{ProductID: s.mug.ID}); len(after) != len(before) {
			t.Errorf("a refused adjustment wrote %d ledger rows", len(after)-len(before))
		}
		f.ledgerAgrees()

		// Mistakes come back beside their fields, with what was typed.
		for _, tc := range []struct {
			form url.Values
			want []string
		}{
			{url.Values{"sku": {"NOPE"}, "facility": {"DEN"}, "quantity": {"3"}, "kind": {"receive"}},
				[]string{`<label class="field has-error"><span>SKU</span>`, "no product has this SKU", `value="NOPE"`}},
			{url.Values{"sku": {"MUG"}, "facility": {"DEN"}, "quantity": {"three"}, "kind": {"receive"}},
				[]string{"must be a whole number", `value="three"`}},
			{url.Values{"sku": {"MUG"}, "facility": {"DEN"}, "quantity": {"-1"}, "kind": {"adjust"}},
				[]string{"is required for an adjustment"}},
			{url.Values{"sku": {"MUG"}, "facility": {"DEN"}, "bin": {"Z-99"}, "quantity": {"1"}, "kind": {"receive"}},
				[]string{"no bin with this code in facility DEN", `value="Z-99"`}},
			{url.Values{"sku": {"MUG"}, "facility": {"DEN"}, "quantity": {"0"}, "kind": {"receive"}},
				[]string{"must not be zero"}},
		} {
			res, body := c.post("/inventory/adjust", tc.form)
			wantStatus(t, res, body, http.StatusUnprocessableEntity)
			wantContains(t, body, tc.want...)
		}
		if l := f.level(f.alpha, s.mug.ID, s.den.ID); l.OnHand != 12 {
			t.Errorf("invalid forms changed on hand to %d", l.OnHand)
		}

		// A write-off takes stock out whatever the sign typed.
		res, _ = c.post("/inventory/adjust", url.Values{"sku": {"MUG"}, "facility": {"DEN"}, "quantity": {"2"}, "kind": {"write_off"}, "reason": {"chipped"}})
		wantRedirect(t, res, "/inventory/sku/"+s.mug.ID)
		if l := f.level(f.alpha, s.mug.ID, s.den.ID); l.OnHand != 10 {
			t.Errorf("on hand %d after writing off 2 of 12", l.OnHand)
		}
		_, body = c.get("/inventory/sku/" + s.mug.ID)
		wantContains(t, body, `<td class="num delta neg">−2</td>`, "Written off", "chipped", `<td class="num delta col-wide pos">&#43;8</td>`)
		f.ledgerAgrees()
	})
}

func TestInventorySKUPage(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		s := f.stock(f.alpha)
		f.receive(f.alpha, "MUG", "DEN", "A-01", 30)
		kit := f.product(f.alpha, catalog.Draft{SKU: "KIT-2", Name: "Two mugs", Components: []catalog.DraftComponent{{SKU: "MUG", Quantity: 2}}})
		c := f.signIn("owner@alpha.example")

		res, body := c.get("/inventory/sku/" + s.mug.ID)
		wantStatus(t, res, body, http.StatusOK)
		// Every active facility is listed, stocked or not.
		wantContains(t, body, "Denver warehouse", "Rotterdam 3PL · never stocked", `href="/inventory/adjust?sku=MUG"`,
			`name="lead_time_days" value="0"`, `name="reorder_point" value=""`, "test") // the actor as written

		res, _ = c.post("/inventory/sku/"+s.mug.ID+"/reorder", url.Values{"lead_time_days": {"30"}, "safety_days": {"14"}, "safety_stock": {"5"}, "reorder_point": {""}})
		wantRedirect(t, res, "/inventory/sku/"+s.mug.ID)
		rs, err := f.inv.ReorderSettingsOf(t.Context(), f.alpha.ID, s.mug.ID)
		if err != nil || rs.LeadTimeDays != 30 || rs.SafetyDays != 14 || rs.SafetyStock != 5 || rs.ReorderPoint != nil {
			t.Fatalf("stored %+v, %v", rs, err)
		}
		_, body = c.get("/inventory/sku/" + s.mug.ID)
		wantContains(t, body, "Reorder settings of MUG saved.", `name="lead_time_days" value="30"`)

		res, body = c.post("/inventory/sku/"+s.mug.ID+"/reorder", url.Values{"lead_time_days": {"30"}, "safety_days": {"x"}, "reorder_point": {"7"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "must be a whole number", `name="reorder_point" value="7"`, `name="safety_days" value="x"`)
		res, body = c.post("/inventory/sku/"+s.mug.ID+"/reorder", url.Values{"lead_time_days": {"-1"}, "safety_days": {"14"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "must be between 0 and 3650", `name="lead_time_days" value="-1"`)
		if rs, _ := f.inv.ReorderSettingsOf(t.Context(), f.alpha.ID, s.mug.ID); rs.LeadTimeDays != 30 || rs.ReorderPoint != nil {
			t.Errorf("invalid forms changed the settings: %+v", rs)
		}

		// A kit has no stock of its own: its page points at its components.
		res, body = c.get("/inventory/sku/" + kit.ID)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "A kit has no stock of its own", `href="/inventory/sku/`+s.mug.ID+`"`)
	})
}

func TestInventoryTransfers(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		s := f.stock(f.alpha)
		f.receive(f.alpha, "MUG", "DEN", "A-01", 10)
		f.receive(f.alpha, "TENT", "DEN", "", 3)
		c := f.signIn("warehouse@alpha.example")

		res, body := c.get("/inventory/transfers")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "No transfers yet.", `href="/inventory/transfers/new"`)
		res, body = c.get("/inventory/transfers/new")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `<select name="from" required>`, `<option value="DEN" selected>`)

		for _, tc := range []struct {
			form   url.Values
			status int
			want   []string
		}{
			{url.Values{"from": {"DEN"}, "to": {"EU-3PL"}, "lines": {"MUG x two"}}, http.StatusUnprocessableEntity,
				[]string{"Line 1: write each line as SKU x QUANTITY", "MUG x two"}},
			{url.Values{"from": {"DEN"}, "to": {"EU-3PL"}, "lines": {"MUG x 2\nNOPE x 2"}}, http.StatusUnprocessableEntity,
				[]string{"Line 2: SKU “NOPE” no product has this SKU"}},
			{url.Values{"from": {"DEN"}, "to": {"DEN"}, "lines": {"MUG x 2"}}, http.StatusUnprocessableEntity,
				[]string{"must differ from the source facility"}},
			{url.Values{"from": {"DEN"}, "to": {"EU-3PL"}, "lines": {"MUG x 4\nTENT x 5"}}, http.StatusConflict,
				[]string{"Nothing was changed.", "TENT: only 3 on hand, cannot remove 5", "TENT x 5"}},
		} {
			res, body := c.post("/inventory/transfers/new", tc.form)
			wantStatus(t, res, body, tc.status)
			wantContains(t, body, tc.want...)
		}
		if l := f.level(f.alpha, s.mug.ID, s.den.ID); l.OnHand != 10 {
			t.Fatalf("refused transfers moved stock: %+v", l)
		}

		res, _ = c.post("/inventory/transfers/new", url.Values{"from": {"DEN"}, "to": {"EU-3PL"}, "lines": {"MUG x 4\r\n\r\nTENT 1\r\n"}, "note": {"pallet 7"}})
		wantRedirect(t, res, "/inventory/transfers")
		if l := f.level(f.alpha, s.mug.ID, s.eu.ID); l.Incoming != 4 || l.OnHand != 0 {
			t.Errorf("at the destination: %+v", l)
		}
		res, body = c.get("/inventory/transfers")
		wantContains(t, body, "Transfer of 5 units from DEN to EU-3PL is on its way.", "In transit", "pallet 7", ">MUG</a> × 4", `<td class="num">5</td>`)
		// A 3PL keeps no bins: its receive form asks for none.
		wantNotContains(t, body, `name="bin"`)
		ts, _, _ := f.inv.ListTransfers(t.Context(), f.alpha.ID, "", 10)
		res, _ = c.post("/inventory/transfers/"+ts[0].ID+"/receive", url.Values{})
		wantRedirect(t, res, "/inventory/transfers")
		if l := f.level(f.alpha, s.mug.ID, s.eu.ID); l.Incoming != 0 || l.OnHand != 4 {
			t.Errorf("after receiving: %+v", l)
		}
		_, body = c.get("/inventory/transfers")
		wantContains(t, body, "Transfer received", `<span class="badge active">Received</span>`)
		wantNotContains(t, body, `/receive"`)

		// Back to DEN, into a bin that does not exist: refused, then into A-01.
		res, _ = c.post("/inventory/transfers/new", url.Values{"from": {"EU-3PL"}, "to": {"DEN"}, "lines": {"MUG x 1"}})
		wantRedirect(t, res, "/inventory/transfers")
		ts, _, _ = f.inv.ListTransfers(t.Context(), f.alpha.ID, "", 10)
		res, body = c.post("/inventory/transfers/"+ts[0].ID+"/receive", url.Values{"bin": {"Z-9"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Nothing was received. Bin “Z-9”: no bin with this code in facility DEN.", `name="bin"`)
		res, _ = c.post("/inventory/transfers/"+ts[0].ID+"/receive", url.Values{"bin": {"A-01"}})
		wantRedirect(t, res, "/inventory/transfers")
		if l := f.level(f.alpha, s.mug.ID, s.den.ID); l.OnHand != 7 {
			t.Errorf("DEN on hand %d, want 10 - 4 + 1", l.OnHand)
		}
		_, body = c.get("/inventory/sku/" + s.mug.ID)
		wantContains(t, body, "Transfer in", "Transfer out", "warehouse@alpha.example")
		f.ledgerAgrees()
	})
}

func TestInventoryCount(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		s := f.stock(f.alpha)
		f.receive(f.alpha, "MUG", "DEN", "A-01", 10)
		f.receive(f.alpha, "TENT", "DEN", "", 4)
		c := f.signIn("owner@alpha.example")

		res, body := c.get("/inventory/count")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `<select name="facility" required>`, "Save count")

		res, body = c.post("/inventory/count", url.Values{"facility": {"DEN"}, "lines": {"MUG @A-01 = 7\nTENT @Z-9 = 1\nMUG = seven"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Line 3: write each line as SKU = COUNTED", "TENT @Z-9 = 1")
		res, body = c.post("/inventory/count", url.Values{"facility": {"DEN"}, "lines": {"MUG @A-01 = 7\nTENT @Z-9 = 1"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Line 2: bin “Z-9” no bin with this code in facility DEN")
		if l := f.level(f.alpha, s.mug.ID, s.den.ID); l.OnHand != 10 {
			t.Fatalf("a refused count changed stock: %+v", l)
		}

		res, body = c.post("/inventory/count", url.Values{"facility": {"DEN"}, "lines": {"MUG @A-01 = 7\r\nTENT = 4\r\n"}})
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "Count saved", "2 lines counted at DEN;", "1 difference booked",
			`<td class="num">10</td>`, `<td class="num strong">7</td>`, `<td class="num delta neg">−3</td>`, "Count more")
		if l := f.level(f.alpha, s.mug.ID, s.den.ID); l.OnHand != 7 {
			t.Errorf("after the count: %+v", l)
		}
		_, body = c.get("/inventory/sku/" + s.mug.ID)
		wantContains(t, body, "Counted", "cycle count")

		// Counting below what is promised is refused.
		if _, _, err := f.inv.MakeReservation(t.Context(), f.alpha.ID, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: "TENT", Quantity: 3}}, Facility: "DEN"}); err != nil {
			t.Fatal(err)
		}
		res, body = c.post("/inventory/count", url.Values{"facility": {"DEN"}, "lines": {"TENT = 1"}})
		wantStatus(t, res, body, http.StatusConflict)
		wantContains(t, body, "Nothing was changed.", "TENT: 4 on hand of which 3 reserved")
		f.ledgerAgrees()
	})
}

func TestFacilities(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		c := f.signIn("owner@alpha.example")

		res, body := c.get("/settings/facilities")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "No facilities yet.", `aria-current="page">Facilities</a>`, "API keys")
		res, body = c.get("/settings/facilities/new")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `value="own" checked`, `name="timezone" value="Europe/Lisbon"`, `name="active" value="1" checked`)

		bad := url.Values{"code": {"bad code"}, "name": {"Lisbon"}, "kind": {"own"}, "address.country": {"Portugal"}, "cutoff_time": {"3pm"},
			"timezone": {"Mars/Olympus"}, "priority": {"first"}, "address.city": {"Lisboa"}}
		res, body = c.post("/settings/facilities", bad)
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "must be a whole number; lower is preferred", `value="first"`, `value="Lisboa"`)
		bad.Set("priority", "2")
		res, body = c.post("/settings/facilities", bad)
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "must be 1 to 40 letters", "must be an ISO 3166-1 alpha-2 code", "must be HH:MM", "unknown IANA time zone",
			`value="bad code"`, `value="Portugal"`)

		good := url.Values{"code": {"LIS"}, "name": {"Lisbon store"}, "kind": {"store"}, "address.line1": {"Rua Augusta 10"}, "address.city": {"Lisboa"},
			"address.country": {"pt"}, "timezone": {"Europe/Lisbon"}, "cutoff_time": {"16:30"}, "priority": {"5"}, "active": {"1"}}
		res, _ = c.post("/settings/facilities", good)
		fac, err := f.inv.FacilityByCode(t.Context(), f.alpha.ID, "LIS")
		if err != nil {
			t.Fatal(err)
		}
		wantRedirect(t, res, "/settings/facilities/"+fac.ID)
		if fac.Kind != inventory.Retail || fac.Address.Country != "PT" || fac.Cutoff != "16:30" || fac.Priority != 5 || !fac.Active {
			t.Errorf("stored %+v", fac)
		}
		res, body = c.post("/settings/facilities", good)
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "a facility with this code exists already")

		// Edit: the kind stays, whatever is sent; unticking active deactivates.
		edit := url.Values{"code": {"LIS"}, "name": {"Lisbon shop"}, "kind": {"own"}, "timezone": {"Europe/Lisbon"}, "priority": {"7"},
			"address.city": {"Lisboa"}, "address.country": {"PT"}}
		res, _ = c.post("/settings/facilities/"+fac.ID, edit)
		wantRedirect(t, res, "/settings/facilities/"+fac.ID)
		fac, _ = f.inv.Facility(t.Context(), f.alpha.ID, fac.ID)
		if fac.Name != "Lisbon shop" || fac.Kind != inventory.Retail || fac.Priority != 7 || fac.Active || fac.Cutoff != "" {
			t.Errorf("after edit %+v", fac)
		}
		res, body = c.get("/settings/facilities/" + fac.ID)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "Saved LIS.", `value="Lisbon shop"`, "Store", "fixed once created", "No bins yet.", "Add a bin")
		wantNotContains(t, body, `name="kind"`)

		// Bins.
		res, _ = c.post("/settings/facilities/"+fac.ID+"/bins", url.Values{"code": {"S-01"}, "zone": {"shop"}, "aisle": {"S"}, "bay": {"01"}, "pickable": {"1"}})
		wantRedirect(t, res, "/settings/facilities/"+fac.ID+"#bins")
		_, body = c.get("/settings/facilities/" + fac.ID)
		wantContains(t, body, "Bin S-01 added to LIS.", ">S-01<", "Stop picking")
		res, body = c.post("/settings/facilities/"+fac.ID+"/bins", url.Values{"code": {"S-01"}, "zone": {"back"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "this facility has a bin with this code already", `value="back"`)
		res, body = c.post("/settings/facilities/"+fac.ID+"/bins", url.Values{"code": {"S 02"}, "level": {strings.Repeat("9", 21)}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "e.g. A-03-2-B", "must be at most 20 characters")
		bins, _, _ := f.inv.ListBins(t.Context(), f.alpha.ID, fac.ID, "", 10)
		if len(bins) != 1 || !bins[0].Pickable || bins[0].Zone != "shop" {
			t.Fatalf("bins %+v", bins)
		}
		res, _ = c.post("/settings/facilities/"+fac.ID+"/bins/"+bins[0].ID, url.Values{"pickable": {"0"}})
		wantRedirect(t, res, "/settings/facilities/"+fac.ID+"#bins")
		if b, _ := f.inv.Bin(t.Context(), f.alpha.ID, bins[0].ID); b.Pickable {
			t.Error("the bin is still pickable")
		}

		// A 3PL keeps its own bins.
		res, _ = c.post("/settings/facilities", url.Values{"code": {"3PL"}, "name": {"Fulfilment partner"}, "kind": {"3pl"}, "active": {"1"}})
		tpl, _ := f.inv.FacilityByCode(t.Context(), f.alpha.ID, "3PL")
		wantRedirect(t, res, "/settings/facilities/"+tpl.ID)
		_, body = c.get("/settings/facilities/" + tpl.ID)
		wantContains(t, body, "keeps its own storage locations")
		wantNotContains(t, body, "Add a bin")
		res, body = c.post("/settings/facilities/"+tpl.ID+"/bins", url.Values{"code": {"X-1"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Bins belong to own warehouses and stores")

		_, body = c.get("/settings/facilities")
		wantContains(t, body, ">LIS</a>", "Lisbon shop", "Lisboa, PT", "Inactive", ">3PL</a>", "3PL")

		// Warehouse staff set up bins but do not see API keys.
		w := f.signIn("warehouse@alpha.example")
		res, _ = w.post("/settings/facilities/"+fac.ID+"/bins", url.Values{"code": {"S-02"}, "pickable": {"1"}})
		wantRedirect(t, res, "/settings/facilities/"+fac.ID+"#bins")
		_, body = w.get("/settings/facilities")
		wantContains(t, body, "New facility")
		wantNotContains(t, body, "API keys")
	})
}

func TestInventoryViewer(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		s := f.stock(f.alpha)
		f.receive(f.alpha, "MUG", "DEN", "A-01", 10)
		if _, err := f.inv.CreateTransfer(t.Context(), f.alpha.ID, inventory.TransferRequest{From: "DEN", To: "EU-3PL", Lines: []inventory.ReserveLine{{SKU: "MUG", Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
		ts, _, _ := f.inv.ListTransfers(t.Context(), f.alpha.ID, "", 1)
		bins, _, _ := f.inv.ListBins(t.Context(), f.alpha.ID, s.den.ID, "", 1)
		c := f.signIn("viewer@alpha.example")

		// Viewers look: the pages open, with no forms that change anything.
		for _, path := range []string{"/inventory", "/inventory/sku/" + s.mug.ID, "/inventory/transfers", "/settings/facilities", "/settings/facilities/" + s.den.ID} {
			res, body := c.get(path)
			wantStatus(t, res, body, http.StatusOK)
			if m := regexp.MustCompile(`<form method="post" action="(/inventory|/settings)[^"]*"`).FindString(body); m != "" {
				t.Errorf("%s shows a viewer the form %s", path, m)
			}
			wantNotContains(t, body, `href="/inventory/adjust`, `href="/inventory/count"`, "New transfer", "New facility", "Save changes", "Add a bin")
		}
		_, body := c.get("/inventory/sku/" + s.mug.ID)
		wantContains(t, body, "<dt>Lead time</dt>")

		for _, path := range []string{"/inventory/adjust", "/inventory/count", "/inventory/transfers/new", "/settings/facilities/new"} {
			res, body := c.get(path)
			wantStatus(t, res, body, http.StatusForbidden)
		}
		for _, path := range []string{"/inventory/adjust", "/inventory/count", "/inventory/transfers/new", "/inventory/transfers/" + ts[0].ID + "/receive",
			"/inventory/sku/" + s.mug.ID + "/reorder", "/settings/facilities", "/settings/facilities/" + s.den.ID,
			"/settings/facilities/" + s.den.ID + "/bins", "/settings/facilities/" + s.den.ID + "/bins/" + bins[0].ID} {
			res, body := c.post(path, url.Values{"sku": {"MUG"}, "facility": {"DEN"}, "quantity": {"5"}, "kind": {"receive"}, "code": {"V-1"}, "name": {"V"},
				"from": {"DEN"}, "to": {"EU-3PL"}, "lines": {"MUG x 1"}, "lead_time_days": {"9"}, "pickable": {"0"}})
			wantStatus(t, res, body, http.StatusForbidden)
			wantContains(t, body, "Your role does not allow this")
		}
		if l := f.level(f.alpha, s.mug.ID, s.den.ID); l.OnHand != 9 {
			t.Errorf("a viewer changed stock: %+v", l)
		}
		if fs, _ := f.inv.ListFacilities(t.Context(), f.alpha.ID); len(fs) != 2 {
			t.Errorf("a viewer created a facility: %d", len(fs))
		}
		if tr, _ := f.inv.Transfer(t.Context(), f.alpha.ID, ts[0].ID); tr.Status != inventory.InTransit {
			t.Errorf("a viewer received a transfer")
		}
	})
}

func TestInventoryTenantIsolation(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		f.stock(f.alpha)
		theirs := f.stock(f.beta)
		f.receive(f.beta, "MUG", "DEN", "A-01", 10)
		if _, err := f.inv.CreateTransfer(t.Context(), f.beta.ID, inventory.TransferRequest{From: "DEN", To: "EU-3PL", Lines: []inventory.ReserveLine{{SKU: "MUG", Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
		ts, _, _ := f.inv.ListTransfers(t.Context(), f.beta.ID, "", 1)
		bins, _, _ := f.inv.ListBins(t.Context(), f.beta.ID, theirs.den.ID, "", 1)
		ours, _ := f.inv.FacilityByCode(t.Context(), f.alpha.ID, "DEN")
		c := f.signIn("owner@alpha.example")

		for _, path := range []string{"/settings/facilities/" + theirs.den.ID, "/inventory/sku/" + theirs.mug.ID} {
			res, body := c.get(path)
			wantStatus(t, res, body, http.StatusNotFound)
			wantNotContains(t, body, "Denver warehouse")
		}
		for _, path := range []string{"/settings/facilities/" + theirs.den.ID, "/settings/facilities/" + theirs.den.ID + "/bins",
			"/settings/facilities/" + theirs.den.ID + "/bins/" + bins[0].ID, "/settings/facilities/" + ours.ID + "/bins/" + bins[0].ID,
			"/inventory/transfers/" + ts[0].ID + "/receive", "/inventory/sku/" + theirs.mug.ID + "/reorder"} {
			res, body := c.post(path, url.Values{"code": {"STOLEN"}, "name": {"Stolen"}, "pickable": {"0"}, "lead_time_days": {"99"}})
			wantStatus(t, res, body, http.StatusNotFound)
		}
		if fac, _ := f.inv.Facility(t.Context(), f.beta.ID, theirs.den.ID); fac.Code != "DEN" || fac.Name != "Denver warehouse" {
			t.Errorf("tenant B's facility changed: %+v", fac)
		}
		if b, _ := f.inv.Bin(t.Context(), f.beta.ID, bins[0].ID); !b.Pickable {
			t.Error("tenant B's bin changed")
		}
		if tr, _ := f.inv.Transfer(t.Context(), f.beta.ID, ts[0].ID); tr.Status != inventory.InTransit {
			t.Error("tenant B's transfer was received")
		}
		if rs, _ := f.inv.ReorderSettingsOf(t.Context(), f.beta.ID, theirs.mug.ID); rs.LeadTimeDays != 0 {
			t.Error("tenant B's reorder settings changed")
		}
		// Alpha's list and SKU pages show nothing of Beta's stock.
		_, body := c.get("/inventory")
		if rows := levelRows(body); len(rows) != 0 {
			t.Errorf("alpha sees %q", rows)
		}
	})
}
