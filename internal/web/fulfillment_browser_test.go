package web_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/waybill/waybill/internal/costs"
	"github.com/waybill/waybill/internal/demo"
	"github.com/waybill/waybill/internal/mail"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/testenv"
)

// TestBrowserFulfilment drives the fulfilment pages of a whole Waybill in
// Chromium: find an order's fulfilment order in the queue, move it to the
// dropship supplier, connect the supplier by e-mail (its secret shown once)
// and give it prices and fees, send the purchase order, then, as the
// supplier through the portal link, confirm it and enter the shipment; last
// the cost comparison. Any script error or Content-Security-Policy
// violation fails it.
func TestBrowserFulfilment(t *testing.T) {
	t.Parallel()
	chromium := testenv.Chromium(t)
	e := testenv.Engines(t)[0] // SQLite: the browser is what is under test here
	a := testenv.NewApp(t, e)
	ctx := t.Context()
	if _, err := demo.Seed(ctx, a.Auth, a.Catalog, a.Inventory); err != nil {
		t.Fatal(err)
	}
	tn, err := a.Auth.TenantByName(ctx, demo.TenantName)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var mails []mail.Message
	a.Dispatch.Mail = func(_ context.Context, m mail.Message) error {
		mu.Lock()
		defer mu.Unlock()
		mails = append(mails, m)
		return nil
	}
	if _, _, err := a.Orders.Create(ctx, tn.ID, order.Input{Channel: "shopify", Number: "#8001", Currency: "USD", PaymentStatus: "paid",
		Customer:        order.Customer{Name: "Mia Chen", Email: "mia@example.com"},
		ShippingAddress: &order.Address{Name: "Mia Chen", Line1: "500 Pine St", City: "Seattle", Region: "WA", PostalCode: "98101", Country: "US"},
		Lines:           []order.LineInput{{SKU: "BAG-DOWN-R", Name: "Summit down sleeping bag, regular", Quantity: 1, UnitPrice: "249.00"}}}, "test"); err != nil {
		t.Fatal(err)
	}
	den, err := a.Inventory.FacilityByCode(ctx, tn.ID, "DEN")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Costs.SaveProfile(ctx, costs.Profile{FacilityID: den.ID, TenantID: tn.ID, Currency: "USD", PerOrder: 300, MonthlyFixed: 250000}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()

	b := openTab(t, chromium, 1366, 900, 90*time.Second)
	problems, step, shot, text, poll := b.problems, b.step, b.shot, b.text, b.poll
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	flash := func(what, contains string) {
		t.Helper()
		poll(what, `document.querySelector('.flash') && document.querySelector('.flash').textContent.includes(`+jsString(contains)+`)`)
	}

	step("sign in",
		chromedp.Navigate(srv.URL+"/fulfillment"),
		chromedp.WaitVisible(css(`input[name="email"]`)),
		chromedp.SendKeys(css(`input[name="email"]`), demo.Email),
		chromedp.SendKeys(css(`input[name="password"]`), demo.Password),
		chromedp.Click(css(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(css(`table.fo-queue`)),
	)
	if got := text(`table.fo-queue tr[data-order="#8001"] .state`); !strings.Contains(got, "Open") {
		t.Errorf("#8001 in the queue: %q", got)
	}
	step("filter by facility",
		chromedp.SetValue(css(`form.fo-filters select[name="facility"]`), "DEN"),
		chromedp.Click(css(`form.fo-filters button[type="submit"]`)),
	)
	poll("filtered", `location.search.includes('facility=DEN') && document.querySelector('table.fo-queue tr[data-order="#8001"]')`)
	shot("fulfilment-queue.png")

	step("open the fulfilment order", chromedp.Click(css(`tr[data-order="#8001"] a[href^="/fulfillment/ffo_"]`)), chromedp.WaitVisible(css(`form.fo-move`)))
	step("move it to the supplier",
		chromedp.SetValue(css(`form.fo-move select[name="facility"]`), "SUMMIT-DS"),
		chromedp.Click(css(`form.fo-move button[type="submit"]`)),
	)
	flash("moved", "Moved from DEN to SUMMIT-DS")
	if got := text(`h1 .badge.rq`); got != "Not sent yet" {
		t.Errorf("request after the move: %q", got)
	}
	shot("fulfilment-order.png")
	foURL, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	foID := foURL[strings.LastIndex(foURL, "/")+1:]
	if !strings.HasPrefix(foID, "ffo_") {
		t.Fatalf("after the move at %s", foURL)
	}

	step("go to the supplier's settings", chromedp.Click(css(`a[href$="#connection"]`)), chromedp.WaitVisible(css(`form.connection-form`)))
	step("connect it by e-mail",
		chromedp.SendKeys(css(`form.connection-form input[name="email"]`), "orders@summit.example"),
		chromedp.Click(css(`form.connection-form button[type="submit"]`)),
	)
	poll("secret shown once", `document.querySelector('#connection-secret') && document.querySelector('#connection-secret').value.startsWith('whsec_')`)
	shot("facility-connected.png")
	step("give its prices",
		chromedp.SetValue(css(`form.prices-form textarea[name="prices"]`), "BAG-DOWN-R,110.00\nnot a line"),
		chromedp.Click(css(`form.prices-form button[type="submit"]`)),
	)
	poll("price mistakes", `document.querySelector('.prices-form .alert.error')`)
	if got := text(`.prices-form .alert.error`); !strings.Contains(got, "Line 2: write SKU,price") {
		t.Errorf("price errors: %q", got)
	}
	step("fix the prices",
		chromedp.SetValue(css(`form.prices-form textarea[name="prices"]`), "BAG-DOWN-R,110.00"),
		chromedp.Click(css(`form.prices-form button[type="submit"]`)),
	)
	flash("prices saved", "Saved 1 supplier price for SUMMIT-DS")
	step("give its fees",
		chromedp.SetValue(css(`form.cost-form input[name="per_order"]`), "4.00"),
		chromedp.Click(css(`form.cost-form button[type="submit"]`)),
	)
	flash("fees saved", "Cost profile of SUMMIT-DS saved")
	if got, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!document.querySelector('#connection-secret')`)); !got {
		t.Error("the secret is shown again after another change")
	}

	// The dispatcher sends the purchase order.
	if _, err := a.Dispatch.Run(ctx); err != nil {
		t.Fatal(err)
	}
	var link string
	mu.Lock()
	for _, m := range mails {
		if strings.Contains(m.ID, foID) {
			link = portalLinkRe.FindString(m.Text)
		}
	}
	mu.Unlock()
	u, err := url.Parse(link)
	if err != nil || link == "" {
		t.Fatalf("no portal link mailed: %q", link)
	}
	step("see it sent", chromedp.Navigate(foURL), chromedp.WaitVisible(css(`h1 .badge.rq`)))
	if got := text(`h1 .badge.rq`); got != "Sent" {
		t.Errorf("request after dispatch: %q", got)
	}

	// The supplier's side.
	step("open the portal link", chromedp.Navigate(srv.URL+u.RequestURI()), chromedp.WaitVisible(css(`.portal-status`)))
	if got := text(`.po-number`); got != "PO-8001-SUMMIT-DS" {
		t.Errorf("PO number %q", got)
	}
	if got := text(`.po-total`); got != "110.00" {
		t.Errorf("PO total %q", got)
	}
	if ok, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!document.querySelector('.nav')`)); !ok {
		t.Error("the portal shows the dashboard's navigation")
	}
	shot("portal.png")
	step("confirm", chromedp.Click(css(`form.accept-form button[type="submit"]`)))
	flash("confirmed", "you confirmed this order")
	step("enter the shipment",
		chromedp.SendKeys(css(`form.ship-form input[name="carrier"]`), "UPS"),
		chromedp.SendKeys(css(`form.ship-form input[name="tracking_number"]`), "1ZPORTAL01"),
		chromedp.Click(css(`form.ship-form button[type="submit"]`)),
	)
	flash("shipped", "the shipment is recorded")
	if got := text(`.status-text`); !strings.Contains(got, "Everything on this order has shipped") {
		t.Errorf("portal status after shipping: %q", got)
	}
	shot("portal-shipped.png")

	// Back at the merchant: shipped, and the costs compared.
	step("the order page", chromedp.Navigate(foURL), chromedp.WaitVisible(css(`.fo-history`)))
	if got := text(`h1 .badge.fo-CLOSED`); got != "Closed" {
		t.Errorf("fulfilment order after shipping: %q", got)
	}
	if got := text(`.fo-history`); !strings.Contains(got, "SUMMIT-DS (supplier portal)") {
		t.Errorf("history: %q", got)
	}
	step("insights", chromedp.Click(css(`.nav a[href="/insights/costs"]`)), chromedp.WaitVisible(css(`table.cost-table`)))
	if got := text(`.vol-orders`); got != "1" {
		t.Errorf("orders shipped in the window: %q", got)
	}
	if got := text(`tr.is-cheapest`); !strings.Contains(got, "SUMMIT-DS") || !strings.Contains(got, "Cheapest") {
		t.Errorf("cheapest row: %q", got)
	}
	shot("insights-costs.png")

	for _, p := range problems() {
		t.Errorf("browser reported %s", p)
	}
	t.Logf("screenshots in %s", b.dir)
}

// jsString quotes s for a script.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
