package web_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/waybill/waybill/internal/demo"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/testenv"
)

// TestBrowserRouting drives Settings → Routing of a whole Waybill in
// Chromium: add "destination not in the US → only the EU 3PL" (after a
// mistake the page points out), then test a German order from its order
// page and see the rule fire. Any script error or Content-Security-Policy
// violation fails it.
func TestBrowserRouting(t *testing.T) {
	t.Parallel()
	chromium := testenv.Chromium(t)
	e := testenv.Engines(t)[0] // SQLite: the browser is what is under test here
	a := testenv.NewApp(t, e)
	if _, err := demo.Seed(t.Context(), a.Auth, a.Catalog, a.Inventory); err != nil {
		t.Fatal(err)
	}
	tn, err := a.Auth.TenantByName(t.Context(), demo.TenantName)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Orders.Create(t.Context(), tn.ID, order.Input{Channel: "shopify", Number: "#7001", Currency: "EUR", PaymentStatus: "paid",
		Customer:        order.Customer{Name: "Jonas Weber", Email: "jonas@example.de"},
		ShippingAddress: &order.Address{Name: "Jonas Weber", Line1: "Torstraße 1", City: "Berlin", PostalCode: "10119", Country: "DE"},
		Lines:           []order.LineInput{{SKU: "STOVE-TI", Quantity: 1, UnitPrice: "59.00"}}}, "test"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()

	b := openTab(t, chromium, 1366, 900, 60*time.Second)
	ctx, problems, step, shot, text, poll := b.ctx, b.problems, b.step, b.shot, b.text, b.poll
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	visible := func(sel string) bool {
		ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const e = document.querySelector('`+sel+`'); return !!e && e.offsetParent !== null })()`))
		return ok
	}

	step("sign in",
		chromedp.Navigate(srv.URL+"/settings/routing"),
		chromedp.WaitVisible(css(`input[name="email"]`)),
		chromedp.SendKeys(css(`input[name="email"]`), demo.Email),
		chromedp.SendKeys(css(`input[name="password"]`), demo.Password),
		chromedp.Click(css(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(css(`form.rule-form`)),
	)
	// "Only" is chosen: the facilities are shown and the hold part is not;
	// choosing "hold" swaps them (CSS only).
	if !visible(`.then-facilities`) || visible(`.then-hold`) {
		t.Error("with “only” chosen, the facilities should show and the hold fields not")
	}
	step("choose hold", chromedp.Click(css(`input[name="kind"][value="hold"]`)))
	if visible(`.then-facilities`) || !visible(`.then-hold`) {
		t.Error("with “hold” chosen, the hold fields should show and the facilities not")
	}
	step("choose only", chromedp.Click(css(`input[name="kind"][value="only"]`)))

	// A mistake first: no facility ticked, and a country that is not one.
	step("add a rule with mistakes",
		chromedp.SendKeys(css(`input[name="name"]`), "Outside the US: EU 3PL"),
		chromedp.SendKeys(css(`input[name="not_countries"]`), "US, USA"),
		chromedp.Click(css(`form.rule-form button[type="submit"]`)),
	)
	poll("errors shown", `document.querySelector('.rule-form .field.has-error input[name="not_countries"]')`)
	if got := text(`.rule-form .field.has-error:has(input[name="not_countries"]) .field-error`); !strings.Contains(got, "“USA” must be an ISO 3166-1 alpha-2 country code") {
		t.Errorf("not_countries error = %q", got)
	}
	if got := text(`#rule-form .alert.error`); !strings.Contains(got, "2 things need fixing") || !strings.Contains(got, "Facilities: name at least one facility") {
		t.Errorf("summary = %q", got)
	}
	shot("routing-errors.png")

	step("fix and add",
		chromedp.SetValue(css(`input[name="not_countries"]`), "US"),
		chromedp.Click(css(`input[name="facility"][value="EU-3PL"]`)),
		chromedp.Click(css(`form.rule-form button[type="submit"]`)),
	)
	poll("added flash", `document.querySelector('.flash') && document.querySelector('.flash').textContent.includes('Rule “Outside the US: EU 3PL” added.')`)
	if got := text(`tr[data-rule="Outside the US: EU 3PL"] .rule-summary`); !strings.Contains(got, "country not US") || !strings.Contains(got, "only EU-3PL") {
		t.Errorf("rule summary = %q", got)
	}
	shot("routing-rules.png")

	// From the order page to its explanation.
	step("open the order", chromedp.Navigate(srv.URL+"/orders"), chromedp.WaitVisible(css(`table.orders`)),
		chromedp.Click(css(`table.orders tbody tr[data-order="#7001"] a[href^="/orders/ord_"]`)), chromedp.WaitVisible(css(`.routing-card`)))
	step("explain", chromedp.Click(css(`.routing-card a`)))
	poll("explanation", `document.querySelector('.explanation')`)
	if got := text(`.explanation .trace`); !strings.Contains(got, "Outside the US: EU 3PL") || !strings.Contains(got, "line 1 (STOVE-TI): not DEN") {
		t.Errorf("trace = %q", got)
	}
	if got := text(`.explanation tr[data-sku="STOVE-TI"] .line-facilities`); strings.TrimSpace(got) != "EU-3PL" {
		t.Errorf("STOVE-TI may go to %q, want EU-3PL only", got)
	}
	shot("routing-explained.png")

	// The box takes an order number too.
	step("test by number",
		chromedp.SetValue(css(`form.test-order input[name="order"]`), "#7001"),
		chromedp.Click(css(`form.test-order button[type="submit"]`)),
	)
	poll("explained by number", `location.search.includes('order=%237001') && document.querySelector('.explanation')`)
	if got := text(`.explanation h3`); !strings.Contains(got, "#7001") || !strings.Contains(got, "DE") {
		t.Errorf("explanation heading = %q", got)
	}

	for _, p := range problems() {
		t.Errorf("browser reported %s", p)
	}
	t.Logf("screenshots in %s", b.dir)
}
