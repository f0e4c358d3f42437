package web_test

import (
	"flag"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/demo"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
	"github.com/waybill/waybill/internal/web"
)

var screenshots = flag.String("screenshots", "", "keep the browser test's screenshots in this directory (default: a temporary one)")

// TestBrowser drives the dashboard in a real Chromium: sign in, create a
// product through the form, find it with the search box (htmx), find a SKU's
// stock, adjust it through the form and see the ledger row, and take
// screenshots at laptop and tablet sizes. Any script error or blocked
// resource (a Content-Security-Policy violation, say) fails it.
func TestBrowser(t *testing.T) {
	t.Parallel()
	chromium := testenv.Chromium(t)
	e := testenv.Engines(t)[0] // SQLite: the browser is what is under test here
	db := e.Open(t)
	as, cs, inv := auth.NewService(store.NewAuth(db)), catalog.NewService(store.NewCatalog(db)), inventory.NewService(store.NewInventory(db))
	if _, err := demo.Seed(t.Context(), as, cs, inv); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(withRequestID(web.New(web.Deps{Config: config.Defaults(), Log: slog.New(slog.DiscardHandler),
		Auth: as, Catalog: cs, Inventory: inv, Sessions: store.NewSessions(db)})))
	defer srv.Close()

	dir := *screenshots
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, problems := startBrowser(t, chromium, 1280, 800, 40*time.Second)

	shot := func(name string, full bool) {
		t.Helper()
		var buf []byte
		var err error
		if full {
			buf, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		} else {
			buf, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
		}
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		runStep(t, ctx, what, actions...)
	}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	// Signed out, the products page leads to the sign-in form and back.
	step("sign-in page",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(srv.URL+"/products"),
		chromedp.WaitVisible(css(`input[name="email"]`)),
	)
	shot("login.png", false)
	step("sign in",
		chromedp.SendKeys(css(`input[name="email"]`), demo.Email),
		chromedp.SendKeys(css(`input[name="password"]`), demo.Password),
		chromedp.Click(css(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(css(`#product-results table`)),
	)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/products") {
		t.Errorf("after sign-in at %s, want /products", loc)
	}
	if title, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.nav-item.is-disabled').title`)); title != "Coming with a later release" {
		t.Errorf("disabled nav item title = %q", title)
	}
	shot("products-1280x800.png", false)

	step("create a product",
		chromedp.Navigate(srv.URL+"/products/new"),
		chromedp.WaitVisible(css(`input[name="sku"]`)),
		chromedp.SendKeys(css(`input[name="sku"]`), "LANTERN-MINI"),
		chromedp.SendKeys(css(`input[name="name"]`), "Mini lantern, rechargeable"),
		chromedp.SendKeys(css(`input[name="vendor"]`), "Brightpath"),
		chromedp.SendKeys(css(`input[name="price"]`), "24.90"),
		chromedp.SendKeys(css(`input[name="weight_g"]`), "180"),
		chromedp.SendKeys(css(`textarea[name="tags"]`), "battery, small"),
		chromedp.Click(css(`.form-actions button[type="submit"]`)),
		chromedp.WaitVisible(css(`.flash`)),
	)
	if flash, _ := chromedp.Run(ctx, chromedp.Text(css(`.flash`))); !strings.Contains(flash, "Product LANTERN-MINI created.") {
		t.Errorf("flash = %q", flash)
	}
	shot("product-form.png", false)

	// A mistake comes back with the field's message beside it.
	step("invalid product",
		chromedp.Navigate(srv.URL+"/products/new"),
		chromedp.WaitVisible(css(`input[name="sku"]`)),
		chromedp.SendKeys(css(`input[name="sku"]`), "BAD SKU"),
		chromedp.SendKeys(css(`input[name="name"]`), "Lantern"),
		chromedp.SendKeys(css(`input[name="price"]`), "24,90"),
		chromedp.Click(css(`.form-actions button[type="submit"]`)),
		chromedp.WaitVisible(css(`.field-error`)),
	)
	if msg, _ := chromedp.Run(ctx, chromedp.Text(css(`.field.has-error .field-error`))); !strings.Contains(msg, "must not contain spaces") {
		t.Errorf("first field error = %q", msg)
	}
	shot("product-errors.png", false)
	if p, err := cs.BySKU(t.Context(), mustTenant(t, as).ID, "LANTERN-MINI"); err != nil || p.Price == nil || *p.Price != 2490 {
		t.Fatalf("stored product: %+v, %v", p, err)
	}

	// The search box narrows the table while typing, without a page load.
	step("search",
		chromedp.Navigate(srv.URL+"/products"),
		chromedp.WaitVisible(css(`input[name="q"]`)),
		chromedp.Evaluate[chromedp.Void](`window.__samePage = true`),
		chromedp.SendKeys(css(`input[name="q"]`), "mini lantern"),
	)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('#product-results tbody tr').length === 1 &&
		document.querySelector('#product-results tbody tr').textContent.includes('LANTERN-MINI')`)); err != nil {
		rows, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#product-results').innerText`))
		t.Fatalf("the search did not narrow the list to the new product: %v\n%s", err, rows)
	}
	if same, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__samePage === true`)); !same {
		t.Error("the search reloaded the page instead of swapping the results")
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "q=mini") || !strings.Contains(loc, "lantern") {
		t.Errorf("the search did not update the address: %s", loc)
	}
	shot("products-search.png", false)

	// Inventory: a SKU whose fixed reorder point is above its stock shows
	// as low; narrow the list to one SKU, open its history, adjust it.
	tn := mustTenant(t, as)
	twenty := int64(20)
	if _, err := inv.SetReorderSettings(t.Context(), tn.ID, "PAD-AIR-R", inventory.ReorderSettings{LeadTimeDays: 21, SafetyDays: 7, ReorderPoint: &twenty}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := inv.Adjust(t.Context(), tn.ID, inventory.Adjustment{SKU: "PAD-AIR-R", Facility: "DEN", Quantity: -1, Kind: inventory.WriteOff, Reason: "torn", Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	step("inventory",
		chromedp.Click(css(`a.nav-item[href="/inventory"]`)),
		chromedp.WaitVisible(css(`#inventory-results table`)),
	)
	shot("inventory-1280x800.png", false)
	step("low stock only", chromedp.Click(css(`input[name="low"]`)))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
		const rows = document.querySelectorAll('#inventory-results tbody tr:not(.low-note)');
		return rows.length === 1 && rows[0].classList.contains('is-low') && rows[0].textContent.includes('PAD-AIR-R');
	})()`)); err != nil {
		rows, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#inventory-results').innerText`))
		t.Fatalf("low stock only did not leave PAD-AIR-R alone: %v\n%s", err, rows)
	}
	step("all stock again", chromedp.Click(css(`input[name="low"]`)))
	step("filter the stock list",
		chromedp.Evaluate[chromedp.Void](`window.__samePage = true`),
		chromedp.SendKeys(css(`input[name="q"]`), "MUG-ENM"),
	)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
		const rows = document.querySelectorAll('#inventory-results tbody tr');
		return rows.length > 0 && [...rows].every(r => r.querySelector('td.sku').textContent.trim() === 'MUG-ENM-WHT');
	})()`)); err != nil {
		rows, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#inventory-results').innerText`))
		t.Fatalf("the search did not narrow the stock list to MUG-ENM-WHT: %v\n%s", err, rows)
	}
	if same, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__samePage === true`)); !same {
		t.Error("the stock search reloaded the page instead of swapping the results")
	}
	step("open the SKU's history",
		chromedp.Click(css(`#inventory-results td.sku a`)),
		chromedp.WaitVisible(css(`#ledger table`)),
		chromedp.Click(css(`.head-actions a[href^="/inventory/adjust"]`)),
		chromedp.WaitVisible(css(`input[name="quantity"]`)),
		chromedp.Click(css(`input[name="kind"][value="adjust"] + span`)),
		chromedp.SendKeys(css(`input[name="quantity"]`), "6"),
		chromedp.SendKeys(css(`input[name="bin"]`), "A-03-2-A"),
		chromedp.SendKeys(css(`input[name="reason"]`), "found behind the shelf"),
	)
	shot("inventory-adjust.png", false)
	step("adjust", chromedp.Click(css(`form.stock-form button[type="submit"]`)), chromedp.WaitVisible(css(`.flash`)))
	if flash, _ := chromedp.Run(ctx, chromedp.Text(css(`.flash`))); !strings.Contains(flash, "Adjusted +6 MUG-ENM-WHT at DEN.") {
		t.Errorf("flash = %q", flash)
	}
	if row, _ := chromedp.Run(ctx, chromedp.Text(css(`#ledger tbody tr`))); !strings.Contains(row, "Adjusted") || !strings.Contains(row, "+6") ||
		!strings.Contains(row, "found behind the shelf") || !strings.Contains(row, demo.Email) || !strings.Contains(row, "A-03-2-A") {
		t.Errorf("newest ledger row = %q", row)
	}
	shot("inventory-sku.png", true)

	step("API key",
		chromedp.Navigate(srv.URL+"/settings/api-keys"),
		chromedp.WaitVisible(css(`input[name="name"]`)),
		chromedp.SendKeys(css(`input[name="name"]`), "Shop sync"),
		chromedp.Click(css(`form[action="/settings/api-keys"] button[type="submit"]`)),
		chromedp.WaitVisible(css(`#new-secret`)),
	)
	if secret, _ := chromedp.Run(ctx, chromedp.Value(css(`#new-secret`))); !strings.HasPrefix(secret, auth.KeyPrefix) {
		t.Errorf("secret field = %q", secret)
	}
	shot("api-key-created.png", false)
	step("users", chromedp.Navigate(srv.URL+"/settings/users"), chromedp.WaitVisible(css(`table.users`)))
	shot("users.png", false)

	// A warehouse tablet: the sidebar folds into a top bar with a menu.
	step("tablet",
		chromedp.EmulateViewport(800, 1100),
		chromedp.Navigate(srv.URL+"/products"),
		chromedp.WaitVisible(css(`#product-results table`)),
	)
	shot("products-800x1100.png", false)
	step("tablet inventory", chromedp.Navigate(srv.URL+"/inventory"), chromedp.WaitVisible(css(`#inventory-results table`)))
	shot("inventory-800x1100.png", false)
	step("open the menu", chromedp.Click(css(`label.menu-button`)), chromedp.WaitVisible(css(`nav.nav`)))
	shot("menu-800x1100.png", false)
	step("tablet form", chromedp.Navigate(srv.URL+"/products/new"), chromedp.WaitVisible(css(`input[name="sku"]`)))
	shot("product-form-800x1100.png", false)

	for _, p := range problems() {
		t.Errorf("browser reported %s", p)
	}
	t.Logf("screenshots in %s", dir)
}

func mustTenant(t *testing.T, as *auth.Service) auth.Tenant {
	t.Helper()
	tn, err := as.TenantByName(t.Context(), demo.TenantName)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}
