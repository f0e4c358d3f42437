package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/demo"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/testenv"
	"github.com/waybill/waybill/internal/webhook"
)

// hookReceiver answers 500 to its first request and 204 afterwards, and
// keeps what it was sent.
type hookReceiver struct {
	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.requests = append(h.requests, r)
	h.bodies = append(h.bodies, body)
	first := len(h.requests) == 1
	h.mu.Unlock()
	if first {
		http.Error(w, "receiver warming up", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// TestBrowserWebhooks drives the webhook pages of a whole Waybill (API,
// dashboard, relay and job runner) in Chromium: add an endpoint through the
// form and see its secret once, watch the first delivery fail at the
// receiver, replay it from its page and see it succeed, signed with the
// secret the page showed. Any script error or blocked resource fails it.
func TestBrowserWebhooks(t *testing.T) {
	t.Parallel()
	chromium := testenv.Chromium(t)
	e := testenv.Engines(t)[0] // SQLite: the browser is what is under test here
	a := testenv.NewApp(t, e, func(c *config.Config) { c.AllowPrivateWebhookURLs = true; c.ShutdownTimeout = 2 * time.Second })
	// One attempt per delivery: the failure is final at once, so the
	// replay is the only way the event gets through.
	a.Deliverer.Schedule = []time.Duration{0}
	if _, err := demo.Seed(t.Context(), a.Auth, a.Catalog, a.Inventory); err != nil {
		t.Fatal(err)
	}
	tn, err := a.Auth.TenantByName(t.Context(), demo.TenantName)
	if err != nil {
		t.Fatal(err)
	}
	bg, stopBG := context.WithCancel(context.Background())
	bgDone := a.StartBackground(bg)
	defer func() { stopBG(); <-bgDone }()
	rc := &hookReceiver{}
	hooks := httptest.NewServer(rc)
	defer hooks.Close()
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()

	b := openTab(t, chromium, 1280, 800, 60*time.Second)
	ctx, problems, step, shot, text := b.ctx, b.problems, b.step, b.shot, b.text
	// reloadUntil reloads the page until sel's text contains want.
	reloadUntil := func(sel, want string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			if got := text(sel); strings.Contains(got, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never showed %q; it shows %q", sel, want, text(sel))
			}
			time.Sleep(250 * time.Millisecond)
			step("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
		}
	}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	step("sign in",
		chromedp.Navigate(srv.URL+"/settings/webhooks"),
		chromedp.WaitVisible(css(`input[name="email"]`)),
		chromedp.SendKeys(css(`input[name="email"]`), demo.Email),
		chromedp.SendKeys(css(`input[name="password"]`), demo.Password),
		chromedp.Click(css(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(css(`form[action="/settings/webhooks"]`)),
	)
	// The bell was fetched after the page and swapped in.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('.bell') && document.querySelector('.bell').title.includes('notifications')`)); err != nil {
		t.Errorf("the bell was not loaded: %v", err)
	}

	// A refused URL comes back with the message beside the field.
	step("private address refused",
		chromedp.SendKeys(css(`input[name="url"]`), "https://0.0.0.0/hooks"),
		chromedp.Click(css(`form[action="/settings/webhooks"] button[type="submit"]`)),
		chromedp.WaitVisible(css(`.field.has-error .field-error`)),
	)
	if msg := text(`.field.has-error .field-error`); !strings.Contains(msg, "unspecified address") {
		t.Errorf("URL field error = %q", msg)
	}

	step("add an endpoint",
		chromedp.SetValue(css(`input[name="url"]`), hooks.URL+"/hooks/waybill"),
		chromedp.SendKeys(css(`input[name="description"]`), "Stock sync"),
		chromedp.Click(css(`input[name="event"][value="*"]`)),
		chromedp.Click(css(`input[name="event"][value="inventory.adjusted"]`)),
		chromedp.Click(css(`form[action="/settings/webhooks"] button[type="submit"]`)),
		chromedp.WaitVisible(css(`#new-secret`)),
	)
	secret, _ := chromedp.Run(ctx, chromedp.Value(css(`#new-secret`)))
	eps, err := a.Notify.Endpoints(t.Context(), tn.ID)
	if err != nil || len(eps) != 1 || eps[0].Secret != secret || strings.Join(eps[0].Events, " ") != "inventory.adjusted" {
		t.Fatalf("shown secret %q; endpoints %+v %v", secret, eps, err)
	}
	shot("webhook-created.png")

	// Shown once: the list and the endpoint's page never show it again.
	step("list again", chromedp.Navigate(srv.URL+"/settings/webhooks"), chromedp.WaitVisible(css(`table.endpoints`)))
	if html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); strings.Contains(html, "whsec_") || strings.Contains(html, "new-secret") {
		t.Error("the secret is shown a second time")
	}

	// Stock changes; the receiver refuses the first delivery.
	if _, _, err := a.Inventory.Adjust(t.Context(), tn.ID, inventory.Adjustment{SKU: "PAD-AIR-R", Facility: "DEN", Quantity: 3, Kind: inventory.Receive, Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	step("open the endpoint", chromedp.Click(css(`table.endpoints a[href^="/settings/webhooks/whe_"]`)), chromedp.WaitVisible(css(`main h1`)))
	reloadUntil(`main`, "Failed")
	if row := text(`table.deliveries tbody tr`); !strings.Contains(row, "inventory.adjusted") || !strings.Contains(row, "500") || !strings.Contains(row, " ms") {
		t.Errorf("delivery row = %q", row)
	}
	shot("webhook-endpoint.png")

	step("open the delivery", chromedp.Click(css(`table.deliveries a[href^="/settings/webhooks/deliveries/"]`)), chromedp.WaitVisible(css(`form.replay-form`)))
	if got := text(`.attempts`); !strings.Contains(got, "Attempt 1") || !strings.Contains(got, "500 Internal Server Error") {
		t.Errorf("attempt log = %q", got)
	}
	step("replay", chromedp.Click(css(`form.replay-form button`)), chromedp.WaitVisible(css(`.flash`)))
	if flash := text(`.flash`); !strings.Contains(flash, "Delivery queued again") {
		t.Errorf("flash = %q", flash)
	}
	reloadUntil(`main h1`, "Succeeded")
	if got := text(`.attempts`); !strings.Contains(got, "Attempt 2") || !strings.Contains(got, "204 No Content") {
		t.Errorf("attempt log after the replay = %q", got)
	}
	shot("webhook-delivery.png")

	// Both requests carried the same event, signed with the secret the page showed.
	rc.mu.Lock()
	if len(rc.requests) != 2 || rc.requests[0].Header.Get("webhook-id") != rc.requests[1].Header.Get("webhook-id") {
		t.Errorf("receiver got %d requests", len(rc.requests))
	}
	for i, r := range rc.requests {
		if err := webhook.Verify([]string{secret}, r.Header, rc.bodies[i], time.Now(), 0); err != nil {
			t.Errorf("request %d: %v", i+1, err)
		}
	}
	rc.mu.Unlock()

	// A SKU falls to its reorder point: the bell counts it until the list is opened.
	hundred := int64(100)
	if _, err := a.Inventory.SetReorderSettings(t.Context(), tn.ID, "PAD-AIR-R", inventory.ReorderSettings{LeadTimeDays: 21, ReorderPoint: &hundred}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Inventory.Adjust(t.Context(), tn.ID, inventory.Adjustment{SKU: "PAD-AIR-R", Facility: "DEN", Quantity: -1, Kind: inventory.WriteOff, Reason: "torn", Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	step("bell", chromedp.Navigate(srv.URL+"/products"), chromedp.WaitVisible(css(`.bell .bell-count`)))
	if n := text(`.bell .bell-count`); n != "1" {
		t.Errorf("bell count = %q", n)
	}
	shot("bell.png")
	step("open the notifications", chromedp.Click(css(`a.bell`)), chromedp.WaitVisible(css(`.notices .notice.is-new`)))
	if n := text(`.notices .notice.is-new`); !strings.Contains(n, "Low stock: PAD-AIR-R at DEN") {
		t.Errorf("notice = %q", n)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('.bell') && document.querySelector('.bell').title === 'No new notifications'`)); err != nil {
		t.Errorf("the bell still counts after the list was opened: %v", err)
	}
	shot("notifications.png")

	step("jobs", chromedp.Navigate(srv.URL+"/settings/jobs"), chromedp.WaitVisible(css(`table.jobs`)))
	if row := text(`table.jobs tbody`); !strings.Contains(row, "webhook.deliver") {
		t.Errorf("jobs table = %q", row)
	}
	shot("jobs.png")
	step("notification settings", chromedp.Navigate(srv.URL+"/settings/notifications"), chromedp.WaitVisible(css(`form.notification-form`)))
	shot("notification-settings.png")

	for _, p := range problems() {
		t.Errorf("browser reported %s", p)
	}
	t.Logf("screenshots in %s", b.dir)
}
