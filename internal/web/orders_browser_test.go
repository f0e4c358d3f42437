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

// TestBrowserOrders drives the orders pages of a whole Waybill in Chromium:
// find an order by typing in the search box (htmx), open it, put it on hold
// and release it, raise a quantity and see the reserved count follow. Any
// script error or blocked resource (a Content-Security-Policy violation)
// fails it.
func TestBrowserOrders(t *testing.T) {
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
	for _, in := range []order.Input{
		{Channel: "shopify", Number: "#5001", Currency: "USD", PaymentStatus: "paid",
			Customer:        order.Customer{Name: "Chloé Lefèvre", Email: "chloe@example.fr"},
			ShippingAddress: &order.Address{Name: "Chloé Lefèvre", Line1: "12 Rue de la République", City: "Lyon", PostalCode: "69002", Country: "FR"},
			Lines:           []order.LineInput{{SKU: "PAD-AIR-R", Quantity: 1, UnitPrice: "129.00"}}},
		{Channel: "amazon", Number: "#5002", Currency: "USD", PaymentStatus: "paid",
			Customer:        order.Customer{Name: "Noah Smith", Email: "noah@example.com"},
			ShippingAddress: &order.Address{Name: "Noah Smith", Line1: "1120 SW 5th Ave", City: "Portland", Region: "OR", PostalCode: "97205", Country: "US"},
			Lines:           []order.LineInput{{SKU: "STOVE-TI", Quantity: 1, UnitPrice: "59.00"}}},
	} {
		if _, _, err := a.Orders.Create(t.Context(), tn.ID, in, "test"); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()

	b := openTab(t, chromium, 1366, 900, 60*time.Second)
	ctx, problems, step, shot, text, poll := b.ctx, b.problems, b.step, b.shot, b.text, b.poll
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	const rowsJS = `Array.from(document.querySelectorAll('table.orders tbody tr')).map(r => r.dataset.order).join(' ')`

	step("sign in",
		chromedp.Navigate(srv.URL+"/orders"),
		chromedp.WaitVisible(css(`input[name="email"]`)),
		chromedp.SendKeys(css(`input[name="email"]`), demo.Email),
		chromedp.SendKeys(css(`input[name="password"]`), demo.Password),
		chromedp.Click(css(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(css(`table.orders`)),
	)
	if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](rowsJS)); got != "#5002 #5001" {
		t.Errorf("rows = %q", got)
	}
	// The new-orders count was fetched after the page and swapped in.
	poll("new-orders count", `document.querySelector('.nav-count') && !document.querySelector('.nav-count[hx-get]')`)
	shot("orders-list.png")

	step("filter", chromedp.SendKeys(css(`input[name="q"]`), "Lefèvre"))
	poll("filtered rows", rowsJS+` === '#5001'`)
	if u, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search`)); !strings.Contains(u, "q=Lef") {
		t.Errorf("the filter is not in the address: %q", u)
	}
	// The view tabs came along out of band, offering to save the filter.
	poll("save view offered", `document.querySelector('#order-views input[name="query"]') && document.querySelector('#order-views input[name="query"]').value.includes('q=')`)
	shot("orders-filtered.png")

	step("open the order", chromedp.Click(css(`table.orders tbody tr a[href^="/orders/ord_"]`)), chromedp.WaitVisible(css(`.order-number`)))
	if got := text(`.order-number`); got != "#5001" {
		t.Fatalf("opened %q", got)
	}
	if addr := text(`.order-side .address`); !strings.Contains(addr, "12 Rue de la République") || !strings.Contains(addr, "69002 Lyon") {
		t.Errorf("address = %q", addr)
	}
	reserved := `tr[data-sku="PAD-AIR-R"] td.reserved`
	if got := text(reserved); got != "1" {
		t.Errorf("reserved before = %q", got)
	}

	step("hold",
		chromedp.SetValue(css(`form.hold-form select[name="reason"]`), "INCORRECT_ADDRESS"),
		chromedp.SendKeys(css(`form.hold-form input[name="note"]`), "Apartment number missing"),
		chromedp.Click(css(`form.hold-form button[type="submit"]`)),
	)
	poll("hold flash", `document.querySelector('.flash') && document.querySelector('.flash').textContent.includes('is on hold: Incorrect address')`)
	if h := text(`.hold-list`); !strings.Contains(h, "Incorrect address") || !strings.Contains(h, "Apartment number missing") || !strings.Contains(h, demo.Email) {
		t.Errorf("holds = %q", h)
	}
	shot("order-on-hold.png")

	// Each step waits for the page the form answers with, not just any
	// flash: the one of the page before is still visible until it loads.
	step("release", chromedp.Click(css(`form.release-form button`)))
	poll("release flash", `document.querySelector('.flash') && document.querySelector('.flash').textContent.includes('Hold released: Incorrect address')`)
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.hold-list li').length`)); n != 0 {
		t.Errorf("%d holds left", n)
	}

	step("raise the quantity",
		chromedp.SetValue(css(`tr[data-sku="PAD-AIR-R"] input.qty-input`), "2"),
		chromedp.Click(css(`form.order-edit .edit-buttons button[type="submit"]`)),
	)
	poll("saved flash", `document.querySelector('.flash') && document.querySelector('.flash').textContent.includes('Order #5001 saved.')`)
	if got := text(reserved); got != "2" {
		t.Errorf("reserved after = %q", got)
	}
	if tl := text(`.timeline li`); !strings.Contains(tl, "PAD-AIR-R 1 → 2") {
		t.Errorf("newest timeline entry = %q", tl)
	}
	shot("order.png")

	for _, p := range problems() {
		t.Errorf("browser reported %s", p)
	}
	t.Logf("screenshots in %s", b.dir)
}
