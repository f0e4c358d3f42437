package web_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/testenv"
)

var connSecretRe = regexp.MustCompile(`id="connection-secret" class="mono secret" type="text" value="([^"]+)"`)
var keyRe = regexp.MustCompile(`id="facility-key" class="mono secret" type="text" value="([^"]+)"`)

func TestFacilityConnection(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		ff := newFulfilFixture(t, e)
		a, ctx := ff.alpha, t.Context()
		ff.product(a, catalog.Draft{SKU: "TENT", Name: "Tent", Price: "150.00"})
		sup := ff.facility(a, "SUP", inventory.Dropship, nil)
		eu := ff.facility(a, "EU3", inventory.ThreePL, map[string]int64{"TENT": 5})
		main, err := ff.inv.FacilityByCode(ctx, a.ID, "MAIN")
		if err != nil {
			t.Fatal(err)
		}
		c := ff.signIn("owner@alpha.example")
		page := "/settings/facilities/" + sup.ID

		res, body := c.get(page)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `id="connection-h">Connection`, "Not connected: requests to SUP wait", `<option value="email" selected>`,
			`<option value="callback">`, `action="`+page+`/connection#connection"`, `id="costs-h">Costs`, `name="prices"`)
		wantNotContains(t, body, `value="shipbob"`, "Rotate secret")
		// A 3PL is offered the providers, not e-mail.
		_, body = c.get("/settings/facilities/" + eu.ID)
		wantContains(t, body, `<option value="callback" selected>`, `<option value="shipbob">`, `<option value="amazon_mcf">`)
		wantNotContains(t, body, `<option value="email"`, `name="prices"`)
		// The own warehouse has costs but no connection.
		_, body = c.get("/settings/facilities/" + main.ID)
		wantContains(t, body, `id="costs-h">Costs`)
		wantNotContains(t, body, `id="connection-h"`)
		res, body = c.post("/settings/facilities/"+main.ID+"/connection", url.Values{"method": {"callback"}, "callback_url": {"https://x.example"}})
		wantStatus(t, res, body, http.StatusBadRequest)
		wantContains(t, body, "MAIN is your own facility")

		// Mistakes are shown beside their fields, and nothing is saved.
		res, body = c.post(page+"/connection", url.Values{"method": {"email"}, "email": {"not an address"}, "fetch_stock": {"1"},
			"settings": {"region=eu\nno equals sign"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Line 2: write key=value.", `value="not an address"`, "region=eu")
		res, body = c.post(page+"/connection", url.Values{"method": {"email"}, "email": {"not an address"}, "fetch_stock": {"1"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Must be the supplier&#39;s e-mail address.", "Supplier e-mail: must be the supplier&#39;s e-mail address.",
			"Fetch stock: suppliers reached by e-mail have no stock to fetch.")
		if _, err := ff.dispatch.Connection(ctx, a.ID, sup.ID); !errs.Is(errs.NotExist, err) {
			t.Fatalf("a refused connection was saved: %v", err)
		}

		// Connecting shows the signing secret once.
		res, body = c.post(page+"/connection", url.Values{"method": {"email"}, "email": {"orders@supplier.example"}})
		wantStatus(t, res, body, http.StatusOK)
		m := connSecretRe.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no secret shown after connecting:\n%s", body)
		}
		conn, err := ff.dispatch.Connection(ctx, a.ID, sup.ID)
		if err != nil {
			t.Fatal(err)
		}
		if html.UnescapeString(m[1]) != conn.Secret || !strings.HasPrefix(conn.Secret, "whsec_") {
			t.Errorf("shown secret %q, stored %q", m[1], conn.Secret)
		}
		wantContains(t, body, "Copy the signing secret now.", "E-mail with a purchase order and a portal link")
		_, body = c.get(page)
		wantNotContains(t, body, conn.Secret, "connection-secret")
		wantContains(t, body, `value="orders@supplier.example"`, "Rotate secret", "Create the supplier's API key", "Disconnect")
		wantNotContains(t, body, "Sync stock now") // e-mail suppliers have no stock to pull

		// Saving again keeps the secret; rotating makes a new one, shown once.
		res, _ = c.post(page+"/connection", url.Values{"method": {"email"}, "email": {"po@supplier.example"}})
		wantRedirect(t, res, page+"#connection")
		if again, _ := ff.dispatch.Connection(ctx, a.ID, sup.ID); again.Secret != conn.Secret || again.Email != "po@supplier.example" {
			t.Errorf("after saving: secret kept %v, e-mail %q", again.Secret == conn.Secret, again.Email)
		}
		res, body = c.post(page+"/connection/rotate-secret", nil)
		wantStatus(t, res, body, http.StatusOK)
		m = connSecretRe.FindStringSubmatch(body)
		rotated, _ := ff.dispatch.Connection(ctx, a.ID, sup.ID)
		if m == nil || html.UnescapeString(m[1]) != rotated.Secret || rotated.Secret == conn.Secret {
			t.Errorf("rotation: shown %v, stored %q, old %q", m, rotated.Secret, conn.Secret)
		}
		wantContains(t, body, "Copy the new signing secret now.")

		// The supplier's API key, shown once, works its facility only.
		res, body = c.post(page+"/connection/api-key", url.Values{"name": {"Supplier portal key"}})
		wantStatus(t, res, body, http.StatusOK)
		k := keyRe.FindStringSubmatch(body)
		if k == nil {
			t.Fatalf("no key shown:\n%s", body)
		}
		p, err := ff.auth.Authenticate(ctx, html.UnescapeString(k[1]))
		if err != nil || p.FacilityID != sup.ID || p.TenantID != a.ID || p.Can("orders:read") || !p.Can("fulfillment:write") {
			t.Errorf("the key: %+v, %v", p, err)
		}
		wantContains(t, body, "Copy the API key “Supplier portal key” now.")

		// A 3PL with stock to pull: its callback answers fetch_stock.
		threePL := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/fetch_stock" || r.Header.Get("webhook-signature") == "" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"TENT": 7, "GHOST-1": 3}`))
		}))
		defer threePL.Close()
		epage := "/settings/facilities/" + eu.ID
		res, body = c.post(epage+"/connection", url.Values{"method": {"shipbob"}, "secrets": {"token=abc"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "this build has no shipbob adapter")
		res, body = c.post(epage+"/connection", url.Values{"method": {"callback"}, "callback_url": {threePL.URL + "/"}, "fetch_stock": {"1"}})
		wantStatus(t, res, body, http.StatusOK)
		if connSecretRe.FindStringSubmatch(body) == nil {
			t.Fatal("no secret shown for the 3PL")
		}
		_, body = c.get(epage)
		wantContains(t, body, "Sync stock now", `value="`+threePL.URL+`"`)
		res, _ = c.post(epage+"/connection/sync-stock", nil)
		wantRedirect(t, res, epage+"#connection")
		_, body = c.get(epage)
		wantContains(t, body, "Stock of EU3 synced: 1 SKU reported, 1 unknown to the catalogue, 1 changed.")
		wantLevel(t, ff.orderFixture, a, "TENT", "EU3", 7, 0)
		// A 3PL that fails is a notice, not an error page.
		threePL.Close()
		res, body = c.post(epage+"/connection/sync-stock", nil)
		wantStatus(t, res, body, http.StatusBadGateway)
		wantContains(t, body, "Stock was not synced")

		// Disconnecting: requests wait again.
		res, _ = c.post(epage+"/connection/disconnect", nil)
		wantRedirect(t, res, epage+"#connection")
		if _, err := ff.dispatch.Connection(ctx, a.ID, eu.ID); !errs.Is(errs.NotExist, err) {
			t.Errorf("still connected after disconnecting: %v", err)
		}
		res, body = c.post(epage+"/connection/sync-stock", nil)
		wantStatus(t, res, body, http.StatusConflict)
		wantContains(t, body, "EU3 is not connected")

		// A viewer sees the section without its forms and may not post;
		// the warehouse may pull stock but not change the connection.
		viewer := ff.signIn("viewer@alpha.example")
		_, body = viewer.get(page)
		wantContains(t, body, "Your role cannot change connections.")
		wantNotContains(t, body, `action="`+page+`/connection#connection"`)
		res, body = viewer.post(page+"/connection/rotate-secret", nil)
		wantStatus(t, res, body, http.StatusForbidden)
		wh := ff.signIn("warehouse@alpha.example")
		res, body = wh.post(page+"/connection", url.Values{"method": {"email"}, "email": {"x@y.example"}})
		wantStatus(t, res, body, http.StatusForbidden)
		res, body = c.post(page+"/connection/disconnect", nil, "Sec-Fetch-Site", "cross-site")
		wantStatus(t, res, body, http.StatusForbidden)
		if _, err := ff.dispatch.Connection(ctx, a.ID, sup.ID); err != nil {
			t.Errorf("refused disconnections disconnected: %v", err)
		}
		// Another tenant's facility is not found.
		res, body = ff.signIn("owner@beta.example").post(page+"/connection/rotate-secret", nil)
		wantStatus(t, res, body, http.StatusNotFound)
	})
}

func TestFacilityCosts(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		ff := newFulfilFixture(t, e)
		a, ctx := ff.alpha, t.Context()
		sup := ff.facility(a, "SUP", inventory.Dropship, nil)
		main, err := ff.inv.FacilityByCode(ctx, a.ID, "MAIN")
		if err != nil {
			t.Fatal(err)
		}
		c := ff.signIn("owner@alpha.example")
		page := "/settings/facilities/" + main.ID

		res, body := c.get(page)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `action="`+page+`/costs#costs"`, "Per order <em class=\"opt\">EUR</em>", "No profile yet")
		wantNotContains(t, body, `name="prices"`)

		res, body = c.post(page+"/costs", url.Values{"per_order": {"2.505"}, "per_unit": {"abc"}, "monthly_fixed": {"1200"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Must be an amount in EUR, such as 12.50.", `value="2.505"`, `value="abc"`, `value="1200"`)
		if ps, _ := ff.costs.Profiles(ctx, a.ID); len(ps) != 0 {
			t.Fatalf("a refused profile was saved: %+v", ps)
		}
		res, _ = c.post(page+"/costs", url.Values{"per_order": {"2.50"}, "per_unit": {"0.40"}, "storage_unit_month": {"0.05"}, "monthly_fixed": {"1200"}})
		wantRedirect(t, res, page+"#costs")
		ps, err := ff.costs.Profiles(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p := ps[main.ID]; p.Currency != "EUR" || p.PerOrder != 250 || p.PerUnit != 40 || p.StorageUnitMonth != 5 || p.ReceivingUnit != 0 || p.MonthlyFixed != 120000 {
			t.Errorf("profile = %+v", p)
		}
		_, body = c.get(page)
		wantContains(t, body, "Cost profile of MAIN saved, in EUR.", `name="per_order" value="2.50"`, `name="monthly_fixed" value="1200.00"`,
			`name="receiving_unit" value="0.00"`)

		// A supplier's prices: all lines or none, mistakes named by line.
		spage := "/settings/facilities/" + sup.ID
		res, body = c.post(spage+"/supplier-prices", url.Values{"prices": {"LAMP,12.00\nno comma here\nMUG,x\n\nLAMP,13.00"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Nothing was saved.", "Line 2: write SKU,price, such as MUG-1,4.20.", "Line 3: “x” is not an amount in EUR.",
			"Line 5: LAMP has a price on line 1 already.", "no comma here")
		if cs, _ := ff.costs.SupplierCosts(ctx, a.ID, sup.ID); len(cs) != 0 {
			t.Fatalf("refused prices were saved: %+v", cs)
		}
		res, body = c.post(spage+"/supplier-prices", url.Values{"prices": {"LAMP,12.00\n" + strings.Repeat("X", 65) + ",1.00"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Line 2: SKU “"+strings.Repeat("X", 65)+"” must be 1 to 64 characters.")
		res, _ = c.post(spage+"/supplier-prices", url.Values{"prices": {"LAMP,12.00\r\nMUG, 3.5\r\n"}})
		wantRedirect(t, res, spage+"#costs")
		cs, err := ff.costs.SupplierCosts(ctx, a.ID, sup.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 2 || cs["LAMP"].UnitCost != 1200 || cs["MUG"].UnitCost != 350 || cs["MUG"].Currency != "EUR" {
			t.Errorf("prices = %+v", cs)
		}
		_, body = c.get(spage)
		wantContains(t, body, "Saved 2 supplier prices for SUP, in EUR.", "LAMP,12.00\nMUG,3.50</textarea>", "2 saved")
		res, body = c.post(page+"/supplier-prices", url.Values{"prices": {"LAMP,1.00"}})
		wantStatus(t, res, body, http.StatusBadRequest)
		wantContains(t, body, "MAIN is not a dropship supplier")

		// The warehouse and viewers see the figures but cannot change them.
		for _, who := range []string{"warehouse@alpha.example", "viewer@alpha.example"} {
			u := ff.signIn(who)
			_, body := u.get(page)
			wantContains(t, body, `name="per_order" value="2.50"`)
			wantNotContains(t, body, "Save cost profile")
			res, body := u.post(page+"/costs", url.Values{"per_order": {"9.99"}})
			wantStatus(t, res, body, http.StatusForbidden)
		}
	})
}

func TestInsightsCosts(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		ff := newFulfilFixture(t, e)
		a, ctx := ff.alpha, t.Context()
		eu := ff.facility(a, "EU3", inventory.ThreePL, nil)
		main, err := ff.inv.FacilityByCode(ctx, a.ID, "MAIN")
		if err != nil {
			t.Fatal(err)
		}
		c := ff.signIn("owner@alpha.example")

		res, body := c.get("/insights")
		wantRedirect(t, res, "/insights/costs")
		res, body = c.get("/insights/costs")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `<a class="nav-item is-active" href="/insights/costs" aria-current="page">Insights</a>`,
			"No facility has a cost profile yet.", `<a href="/settings/facilities">Settings → Facilities</a>`)

		// Two orders shipped in the window: 2 a month. The own warehouse
		// costs 1000 a month whatever the volume, the 3PL 5 an order.
		for _, n := range []string{"#6001", "#6002"} {
			o := ff.order(a, order.Input{Number: n})
			if _, _, err := ff.orders.Fulfill(ctx, a.ID, ff.fo(a, o.ID, "MAIN").ID, order.FulfillInput{}, "test"); err != nil {
				t.Fatal(err)
			}
		}
		res, _ = c.post("/settings/facilities/"+main.ID+"/costs", url.Values{"monthly_fixed": {"1000"}})
		wantRedirect(t, res, "/settings/facilities/"+main.ID+"#costs")
		res, _ = c.post("/settings/facilities/"+eu.ID+"/costs", url.Values{"per_order": {"5"}})
		wantRedirect(t, res, "/settings/facilities/"+eu.ID+"#costs")

		res, body = c.get("/insights/costs")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `<dd class="vol-orders">2</dd>`, `<dd class="vol-units">2</dd>`, `<dd class="vol-rate">2</dd>`, "The comparison is at your own volume.",
			`<tr data-facility="EU3" class="is-cheapest">`, `<span class="mono strong">EU3</span> <span class="badge active">Cheapest</span>`,
			`<td class="num nowrap strong monthly">EUR 10.00</td>`, `<td class="num nowrap per-order">EUR 5.00</td>`,
			`<tr data-facility="MAIN">`, `<td class="num nowrap strong monthly">EUR 1000.00</td>`, `<td class="num nowrap per-order">EUR 500.00</td>`,
			"fixed EUR 1000.00 · pick &amp; pack EUR 0.00", "3PL", "Own warehouse")
		wantNotContains(t, body, `<tr data-facility="MAIN" class="is-cheapest">`)

		// An order's page shows what fulfilling it costs.
		res, _ = c.post("/settings/facilities/"+main.ID+"/costs", url.Values{"monthly_fixed": {"1000"}, "per_order": {"2.50"}})
		wantRedirect(t, res, "/settings/facilities/"+main.ID+"#costs")
		placed := ff.order(a, order.Input{Number: "#6003"})
		res, body = c.get("/orders/" + placed.ID)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "Estimated cost to fulfil: <strong>2.50 EUR</strong>")
		res, _ = c.post("/settings/facilities/"+main.ID+"/costs", url.Values{"monthly_fixed": {"1000"}})
		wantRedirect(t, res, "/settings/facilities/"+main.ID+"#costs")

		// At 1000 orders a month the own warehouse wins.
		res, body = c.get("/insights/costs?days=90&orders_per_month=1000")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "The comparison is at <strong>1000 orders a month</strong>", `<tr data-facility="MAIN" class="is-cheapest">`,
			`<td class="num nowrap strong monthly">EUR 5000.00</td>`, `<td class="num nowrap per-order">EUR 1.00</td>`,
			`<option value="90" selected>`, "Your volume, last 90 days", `<a class="button ghost" href="/insights/costs?days=90">At my volume</a>`)

		for _, q := range []string{"days=7", "orders_per_month=-1", "orders_per_month=lots"} {
			res, body := c.get("/insights/costs?" + q)
			wantStatus(t, res, body, http.StatusUnprocessableEntity)
			wantContains(t, body, `class="field has-error"`)
		}
		// Everyone who may read analytics sees it; beta sees its own, none.
		res, body = ff.signIn("viewer@alpha.example").get("/insights/costs")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `data-facility="EU3"`)
		_, body = ff.signIn("owner@beta.example").get("/insights/costs")
		wantContains(t, body, "No facility has a cost profile yet.")
	})
}
