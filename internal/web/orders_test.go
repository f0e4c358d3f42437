package web_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/httpapi"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
	"github.com/waybill/waybill/internal/web"
)

// orderFixture is the dashboard fixture with orders, saved views, the
// new-orders count and sales channels wired. Its one kind of channel,
// "fakeshop", takes a webhook secret and serves polls from polled (or
// fails with pollErr).
type orderFixture struct {
	*fixture
	orders   *order.Service
	channels *channels.Service
	mu       sync.Mutex
	polled   []order.Input
	pollErr  error
	wakes    int
}

type fakeShop struct{ f *orderFixture }

func (c fakeShop) Poll(ctx context.Context, since time.Time, cursor string) (channels.Page, error) {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	return channels.Page{Orders: c.f.polled}, c.f.pollErr
}

// newOrderFixture makes the fixture; opts may add to the dashboard's
// dependencies before it is built.
func newOrderFixture(t *testing.T, e testenv.Engine, opts ...func(*orderFixture, *web.Deps)) *orderFixture {
	t.Helper()
	f := newFixture(t, e)
	of := &orderFixture{fixture: f, orders: order.NewService(store.NewOrders(f.db), f.inv)}
	kind := channels.Kind{Name: "fakeshop", Webhooks: true, Secrets: []string{"webhook_secret"}, PollEvery: 15 * time.Minute,
		New: func(s map[string]any, _ *http.Client) (channels.Connector, error) {
			if sec, _ := s["webhook_secret"].(string); sec == "" {
				return nil, errs.InvalidFields("fakeshop", errs.FieldError{Field: "webhook_secret", Message: "is required"})
			}
			return fakeShop{of}, nil
		}}
	of.channels = channels.NewService(store.NewChannels(f.db), of.orders, http.DefaultClient, kind)
	deps := web.Deps{Config: config.Defaults(), Log: slog.New(slog.NewTextHandler(f.logs, nil)),
		Auth: f.auth, Catalog: f.catalog, Inventory: f.inv, Sessions: store.NewSessions(f.db), NotifyLog: store.NewNotify(f.db),
		Orders: of.orders, Channels: of.channels, Views: store.NewViews(f.db),
		Wake: func() { of.mu.Lock(); of.wakes++; of.mu.Unlock() }}
	for _, o := range opts {
		o(of, &deps)
	}
	h := web.New(deps)
	f.srv = httptest.NewServer(withRequestID(h))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dashboard log:\n%s", f.logs)
		}
	})

	ctx := t.Context()
	for _, tn := range []auth.Tenant{f.alpha, f.beta} {
		f.product(tn, catalog.Draft{SKU: "MUG", Name: "Enamel mug", Price: "12.50"})
		f.product(tn, catalog.Draft{SKU: "TEE", Name: "T-shirt", Price: "20.00"})
		if _, err := f.inv.CreateFacility(ctx, tn.ID, inventory.FacilityInput{Code: "MAIN", Name: "Main", Kind: inventory.Own}); err != nil {
			t.Fatal(err)
		}
		for sku, n := range map[string]int64{"MUG": 10, "TEE": 5} {
			if _, _, err := f.inv.Adjust(ctx, tn.ID, inventory.Adjustment{SKU: sku, Facility: "MAIN", Quantity: n, Kind: inventory.Receive, Actor: "test"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return of
}

// order creates an order of tn; in's empty fields get defaults (one mug).
func (of *orderFixture) order(tn auth.Tenant, in order.Input) order.Order {
	of.t.Helper()
	if in.Currency == "" {
		in.Currency = tn.Currency
	}
	if len(in.Lines) == 0 {
		in.Lines = []order.LineInput{{SKU: "MUG", Quantity: 1, UnitPrice: "12.50"}}
	}
	if in.ShippingAddress == nil {
		in.ShippingAddress = &order.Address{Name: in.Customer.Name, Line1: "1 Main St", City: "Lisboa", Country: "PT"}
	}
	o, _, err := of.orders.Create(of.t.Context(), tn.ID, in, "test")
	if err != nil {
		of.t.Fatal(err)
	}
	return o
}

func (of *orderFixture) get(tn auth.Tenant, id string) order.Order {
	of.t.Helper()
	o, err := of.orders.Get(of.t.Context(), tn.ID, id)
	if err != nil {
		of.t.Fatal(err)
	}
	return o
}

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// rows returns the order numbers of a list page, in order.
var rowRe = regexp.MustCompile(`data-order="([^"]+)"`)

func rows(body string) []string {
	var out []string
	for _, m := range rowRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func wantRows(t *testing.T, what, body string, want ...string) {
	t.Helper()
	if got := rows(body); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s: rows %q, want %q", what, got, want)
	}
}

func TestOrderList(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		of := newOrderFixture(t, e)
		a := of.alpha
		// Alpha's time zone is Europe/Lisbon (UTC+1 in summer): the first
		// order was placed on 1 July there, on 30 June in UTC.
		groß := of.order(a, order.Input{Number: "#1001", Channel: "shopify", PlacedAt: at("2025-06-30T23:30:00Z"), Tags: []string{"gift"},
			Customer:        order.Customer{Name: "Jürgen Groß", Email: "juergen@example.de"},
			ShippingAddress: &order.Address{Name: "Jürgen Groß", Line1: "Marienplatz 8", City: "München", PostalCode: "80331", Country: "DE"},
			Lines:           []order.LineInput{{SKU: "MUG", Quantity: 2, UnitPrice: "12.50"}}, PaymentStatus: "paid"})
		yuki := of.order(a, order.Input{Number: "#1002", Channel: "amazon", PlacedAt: at("2025-07-02T09:00:00Z"), PaymentStatus: "pending",
			Customer:        order.Customer{Name: "Yuki 田中", Email: "yuki@example.jp"},
			ShippingAddress: &order.Address{Name: "田中 由紀", Line1: "千代田区丸の内1-9-1", City: "東京都", PostalCode: "100-0005", Country: "JP"},
			Lines:           []order.LineInput{{SKU: "TEE", Quantity: 1, UnitPrice: "20.00"}}})
		gone := of.order(a, order.Input{Number: "#1003", PlacedAt: at("2025-07-03T09:00:00Z"), Customer: order.Customer{Name: "Ann Other"}})
		if _, err := of.orders.Cancel(t.Context(), a.ID, gone.ID, order.CancelInput{Reason: "customer"}, "test"); err != nil {
			t.Fatal(err)
		}
		of.order(of.beta, order.Input{Number: "#9001", Customer: order.Customer{Name: "Beta Buyer"}})

		c := of.signIn("owner@alpha.example")
		res, body := c.get("/orders")
		wantStatus(t, res, body, http.StatusOK)
		wantRows(t, "all", body, "#1003", "#1002", "#1001")
		wantContains(t, body, `<a class="nav-item is-active" href="/orders" aria-current="page">Orders`, "Jürgen Groß", "Yuki 田中",
			"juergen@example.de", `1 Jul 2025<div class="muted">00:30</div>`, `<span class="badge hold" title="On hold: Awaiting payment">Awaiting payment</span>`,
			`<span class="badge st-cancelled">Cancelled</span>`, "EUR 25.00", `name="id" value="`+groß.ID+`"`, `action="/orders/bulk"`,
			"times in Europe/Lisbon")
		wantNotContains(t, body, "#9001", "Beta Buyer")

		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"status=cancelled", []string{"#1003"}},
			{"status=open&fulfillment=unfulfilled", []string{"#1002", "#1001"}},
			{"hold=yes", []string{"#1002"}},
			{"hold=no", []string{"#1003", "#1001"}},
			{"hold=AWAITING_PAYMENT", []string{"#1002"}},
			{"hold=INCORRECT_ADDRESS", nil},
			{"channel=Shopify", []string{"#1001"}},
			{"sku=TEE", []string{"#1002"}},
			{"email=JUERGEN@example.de", []string{"#1001"}},
			{"tag=GIFT", []string{"#1001"}},
			{"country=de", []string{"#1001"}},
			{"country=jp", []string{"#1002"}},
			{"q=groß", []string{"#1001"}},
			{"q=田中", []string{"#1002"}},
			{"q=1002", []string{"#1002"}},
			{"from=2025-07-01&to=2025-07-01", []string{"#1001"}}, // a day in Lisbon, not in UTC
			{"to=2025-06-30", nil},
			{"from=2025-07-02", []string{"#1003", "#1002"}},
			{"sort=placed_at", []string{"#1001", "#1002", "#1003"}},
			{"sort=-total_price", []string{"#1001", "#1002", "#1003"}},
		} {
			res, body := c.get("/orders?" + tc.query)
			wantStatus(t, res, body, http.StatusOK)
			wantRows(t, tc.query, body, tc.want...)
			if len(tc.want) == 0 {
				wantContains(t, body, "No orders match.")
			}
		}

		// Mistakes in the filter are named beside their input.
		res, body = c.get("/orders?country=XX&from=31.12.2025&hold=SOMETIMES")
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Must be a date such as 2025-03-31.", `value="31.12.2025" aria-invalid="true"`)
		res, body = c.get("/orders?country=XX")
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Must be an ISO 3166-1 alpha-2 code.")
		res, body = c.get("/orders?hold=SOMETIMES")
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Must be one of AWAITING_PAYMENT")
		res, body = c.get("/orders?after=garbage")
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "The link to this page is out of date.")

		// htmx gets the results and the view tabs (out of band) only.
		res, body = c.get("/orders?q=groß", "HX-Request", "true")
		wantStatus(t, res, body, http.StatusOK)
		wantRows(t, "htmx", body, "#1001")
		wantContains(t, body, `id="order-views" class="view-bar" hx-swap-oob="true"`, `id="order-results"`)
		wantNotContains(t, body, "<html", `class="filters`)

		// Pages of 50, by cursor, keeping the filter.
		for i := 0; i < 52; i++ {
			of.order(a, order.Input{PlacedAt: at("2025-05-01T09:00:00Z"), Tags: []string{"bulk"}, Customer: order.Customer{Name: "Many"},
				Lines: []order.LineInput{{SKU: "TEE", Quantity: 1, UnitPrice: "1.00"}}, AllowUnknownSKUs: true})
		}
		res, body = c.get("/orders?tag=bulk&sort=placed_at")
		wantStatus(t, res, body, http.StatusOK)
		first := rows(body)
		next := regexp.MustCompile(`href="(/orders\?[^"]*after=[^"]+)" rel="next"`).FindStringSubmatch(body)
		if len(first) != 50 || next == nil {
			t.Fatalf("first page: %d rows, next %v", len(first), next)
		}
		u := strings.ReplaceAll(next[1], "&amp;", "&")
		if !strings.Contains(u, "tag=bulk") || !strings.Contains(u, "sort=placed_at") {
			t.Errorf("next page link %q lost the filter", u)
		}
		res, body = c.get(u)
		wantStatus(t, res, body, http.StatusOK)
		if got := rows(body); len(got) != 2 || first[0] == got[0] {
			t.Errorf("second page: %q", got)
		}
		wantContains(t, body, "← First page")
		_ = yuki
	})
}

func TestOrderSavedViews(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		of := newOrderFixture(t, e)
		of.order(of.alpha, order.Input{Number: "#1", Tags: []string{"gift"}, ShippingAddress: &order.Address{Line1: "Unter den Linden 77", City: "Berlin", Country: "DE"}})
		of.order(of.alpha, order.Input{Number: "#2"})
		owner := of.signIn("owner@alpha.example")

		res, body := owner.get("/orders?tag=gift&country=DE")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `action="/orders/views"`, `name="query" value="country=DE&amp;tag=gift"`)

		res, body = owner.post("/orders/views", url.Values{"name": {""}, "query": {"country=DE&tag=gift"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Give the view a name", `aria-describedby="view-name-errors"`)
		res, body = owner.post("/orders/views", url.Values{"name": {"Everything"}, "query": {""}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Choose some filters first")

		res, _ = owner.post("/orders/views", url.Values{"name": {"German gifts"}, "query": {"tag=gift&country=DE&after=xyz"}})
		wantRedirect(t, res, "/orders?country=DE&tag=gift")
		res, body = owner.get("/orders?country=DE&tag=gift")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `View “German gifts” saved.`, `<a class="tab is-active" href="/orders?country=DE&amp;tag=gift" aria-current="page">German gifts</a>`,
			"Delete view")
		wantRows(t, "view", body, "#1")
		// Elsewhere the tab is there but not active, and All orders is.
		res, body = owner.get("/orders")
		wantContains(t, body, `<a class="tab" href="/orders?country=DE&amp;tag=gift">German gifts</a>`, `<a class="tab is-active" href="/orders" aria-current="page">All orders</a>`)

		// Views are per person: the viewer has none, and may keep their own.
		viewer := of.signIn("viewer@alpha.example")
		res, body = viewer.get("/orders")
		wantStatus(t, res, body, http.StatusOK)
		wantNotContains(t, body, "German gifts")
		res, _ = viewer.post("/orders/views", url.Values{"name": {"Open"}, "query": {"status=open"}})
		wantRedirect(t, res, "/orders?status=open")

		views, err := store.NewViews(of.db).ListViews(t.Context(), of.alpha.ID, of.users["owner@alpha.example"].ID, "orders")
		if err != nil || len(views) != 1 {
			t.Fatalf("owner's views: %+v %v", views, err)
		}
		res, body = viewer.post("/orders/views/"+views[0].ID+"/delete", nil)
		wantStatus(t, res, body, http.StatusNotFound)
		res, body = of.signIn("owner@beta.example").post("/orders/views/"+views[0].ID+"/delete", nil)
		wantStatus(t, res, body, http.StatusNotFound)
		res, _ = owner.post("/orders/views/"+views[0].ID+"/delete", nil)
		wantRedirect(t, res, "/orders")
		res, body = owner.get("/orders")
		wantContains(t, body, "View deleted.")
		wantNotContains(t, body, "German gifts")
	})
}

func TestOrderBulk(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		of := newOrderFixture(t, e)
		a := of.alpha
		o1 := of.order(a, order.Input{Number: "#1", Lines: []order.LineInput{{SKU: "MUG", Quantity: 3, UnitPrice: "12.50"}}})
		o2 := of.order(a, order.Input{Number: "#2"})
		o3 := of.order(a, order.Input{Number: "#3"})
		if _, err := of.orders.Cancel(t.Context(), a.ID, o3.ID, order.CancelInput{Reason: "fraud"}, "test"); err != nil {
			t.Fatal(err)
		}
		theirs := of.order(of.beta, order.Input{Number: "#B1"})
		c := of.signIn("owner@alpha.example")
		back := "/orders?status=open"
		ids := []string{o1.ID, o2.ID, o3.ID}
		bulk := func(form url.Values) string {
			t.Helper()
			form.Set("back", back)
			res, body := c.post("/orders/bulk", form)
			wantRedirect(t, res, back)
			res, body = c.get(back)
			wantStatus(t, res, body, http.StatusOK)
			return body
		}

		body := bulk(url.Values{"action": {"hold"}, "id": ids, "hold_reason": {"INCORRECT_ADDRESS"}, "hold_note": {"Straße fehlt"}})
		wantContains(t, body, "2 orders put on hold (Incorrect address).", "1 failed:", `<a href="/orders/`+o3.ID+`">#3</a>: The order is cancelled.`)
		if h := of.get(a, o1.ID).Holds; len(h) != 1 || h[0].Note != "Straße fehlt" || h[0].CreatedBy != "user:"+of.users["owner@alpha.example"].ID {
			t.Errorf("holds of #1: %+v", h)
		}
		body = bulk(url.Values{"action": {"hold"}, "id": ids[:2], "hold_reason": {"INCORRECT_ADDRESS"}})
		wantContains(t, body, "0 orders put on hold", "2 unchanged:", "#1</a> already on hold for that reason")

		body = bulk(url.Values{"action": {"release"}, "id": {o1.ID, o3.ID}, "release_reason": {"INCORRECT_ADDRESS"}})
		wantContains(t, body, "1 order released from their incorrect address hold.", "1 unchanged:", "#3</a> not on that hold")
		if o1, o2 := of.get(a, o1.ID), of.get(a, o2.ID); o1.OnHold() || !o2.OnHold() {
			t.Error("release changed the wrong orders")
		}

		body = bulk(url.Values{"action": {"tag"}, "id": append(ids, theirs.ID), "tag": {"vip"}})
		wantContains(t, body, "2 orders tagged “vip”.", "2 failed:", "#3</a>: The order is cancelled; only open orders can be edited.",
			"No such order.")
		if tags := of.get(a, o2.ID).Tags; len(tags) != 1 || tags[0] != "vip" {
			t.Errorf("tags of #2: %q", tags)
		}
		if tags := of.get(of.beta, theirs.ID).Tags; len(tags) != 0 {
			t.Errorf("another tenant's order was tagged: %q", tags)
		}

		// Cancelling asks first, listing what it would cancel.
		res, body := c.post("/orders/bulk", url.Values{"action": {"cancel"}, "id": {o1.ID, o2.ID, theirs.ID}, "cancel_reason": {"inventory"}, "back": {back}})
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "Cancel 2 orders?", `name="confirm" value="yes"`, `<option value="inventory" selected>`)
		wantNotContains(t, body, "#B1")
		if of.get(a, o1.ID).Status != order.Open {
			t.Fatal("the first press cancelled")
		}
		body = bulk(url.Values{"action": {"cancel"}, "confirm": {"yes"}, "id": {o1.ID, o2.ID, o3.ID}, "cancel_reason": {"inventory"}})
		wantContains(t, body, "2 orders cancelled (items unavailable).", "#3</a> was cancelled already")
		o := of.get(a, o1.ID)
		if o.Status != order.Cancelled || o.Lines[0].Reserved != 0 || o.OnHold() {
			t.Errorf("#1 after cancel: %s reserved %d holds %v", o.Status, o.Lines[0].Reserved, o.Holds)
		}

		// Refusals before anything is done.
		for _, tc := range []struct {
			form url.Values
			want string
		}{
			{url.Values{"action": {"hold"}, "hold_reason": {"OTHER"}}, "Tick the orders to change first."},
			{url.Values{"action": {""}, "id": {o1.ID}}, "Choose what to do with the ticked orders."},
			{url.Values{"action": {"hold"}, "id": {o1.ID}, "hold_reason": {"BORED"}}, "Choose why the orders are to be held."},
			{url.Values{"action": {"tag"}, "id": {o1.ID}, "tag": {" "}}, "Type the tag to add."},
		} {
			body := bulk(tc.form)
			wantContains(t, body, tc.want)
		}

		// Only owners and admins change orders; a cross-site form changes nothing.
		for _, who := range []string{"viewer@alpha.example", "warehouse@alpha.example"} {
			res, body := of.signIn(who).post("/orders/bulk", url.Values{"action": {"tag"}, "id": {o2.ID}, "tag": {"x"}})
			wantStatus(t, res, body, http.StatusForbidden)
		}
		res, body = c.post("/orders/bulk", url.Values{"action": {"tag"}, "id": {o2.ID}, "tag": {"evil"}}, "Sec-Fetch-Site", "cross-site")
		wantStatus(t, res, body, http.StatusForbidden)
		if tags := of.get(a, o2.ID).Tags; len(tags) != 1 {
			t.Errorf("tags after refusals: %q", tags)
		}
	})
}

func TestOrderDetail(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		of := newOrderFixture(t, e)
		a := of.alpha
		o := of.order(a, order.Input{Number: "#2001", Channel: "shopify", PaymentStatus: "paid", Note: "Leave at the door",
			Customer:        order.Customer{Name: "Sven Åström", Email: "sven@example.se", Phone: "+46 31 123"},
			ShippingAddress: &order.Address{Name: "Sven Åström", Line1: "Kungsportsavenyen 10", City: "Göteborg", PostalCode: "411 04", Country: "SE"},
			BillingAddress:  &order.Address{Name: "Åström AB", Line1: "Box 1", City: "Göteborg", Country: "SE"},
			Lines:           []order.LineInput{{SKU: "MUG", Quantity: 2, UnitPrice: "12.50"}, {SKU: "TEE", Quantity: 1, UnitPrice: "20.00"}},
			ShippingLines:   []order.ShippingInput{{Title: "Standard", Price: "4.95"}}})
		page := "/orders/" + o.ID
		mug, tee := o.Lines[0].ID, o.Lines[1].ID
		c := of.signIn("owner@alpha.example")

		res, body := c.get(page)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "Order <span class=\"order-number\">#2001</span>", "Sven Åström", "Kungsportsavenyen 10", "411 04 Göteborg", "Åström AB",
			"mailto:sven@example.se", `<td class="num reserved">2</td>`, "MAIN", "EUR 25.00", "EUR 49.95", "Leave at the door",
			`name="qty_`+mug+`" value="2"`, `action="`+page+`/holds"`, `action="`+page+`/cancel"`, "Order #2001 received from shopify",
			`<option value="INCORRECT_ADDRESS">Incorrect address</option>`)
		wantNotContains(t, body, "You can look, but")

		edit := func(form url.Values) (*http.Response, string) {
			t.Helper()
			cur := of.get(a, o.ID)
			form.Set("version", cur.UpdatedAt.Format(time.RFC3339Nano))
			for _, l := range cur.Lines {
				if form.Get("qty_"+l.ID) == "" {
					form.Set("qty_"+l.ID, strconv.FormatInt(l.Quantity, 10))
				}
			}
			addr := cur.ShippingAddress
			for k, v := range map[string]string{"ship_name": addr.Name, "ship_line1": addr.Line1, "ship_city": addr.City, "ship_postal_code": addr.PostalCode, "ship_country": addr.Country} {
				if _, ok := form[k]; !ok {
					form.Set(k, v)
				}
			}
			if _, ok := form["note"]; !ok {
				form.Set("note", cur.Note)
			}
			if _, ok := form["tags"]; !ok {
				form.Set("tags", strings.Join(cur.Tags, ", "))
			}
			return c.post(page+"/edit", form)
		}

		// A quantity up: stock is reserved to match.
		res, _ = edit(url.Values{"qty_" + mug: {"3"}})
		wantRedirect(t, res, page)
		res, body = c.get(page)
		wantContains(t, body, "Order #2001 saved.", `<td class="num reserved">3</td>`, "Edited: MUG 2 → 3")
		if l := of.get(a, o.ID).Lines[0]; l.Quantity != 3 || l.Reserved != 3 {
			t.Errorf("mug line: %+v", l)
		}
		// Beyond the stock: backordered, and on hold for it.
		res, _ = edit(url.Values{"qty_" + mug: {"14"}})
		wantRedirect(t, res, page)
		res, body = c.get(page)
		wantContains(t, body, "Backordered (no stock to reserve yet): 4 × MUG.", `<span class="backordered">4</span>`, "Out of stock")

		// Mistakes come back beside their input, named in the summary, as typed.
		for _, tc := range []struct {
			name string
			form url.Values
			want []string
		}{
			{"not a number", url.Values{"qty_" + mug: {"lots"}}, []string{"Quantity of MUG: must be a whole number.", `value="lots"`, `aria-label="Quantity of MUG" aria-invalid="true"`}},
			{"negative", url.Values{"qty_" + tee: {"-1"}}, []string{"Quantity of TEE: must be between 0 and 1000000."}},
			{"unknown SKU", url.Values{"add_sku": {"NOPE"}, "add_quantity": {"1"}}, []string{"SKU to add: no product has this SKU.", `name="add_sku" value="NOPE"`}},
			{"no quantity to add", url.Values{"add_quantity": {"2"}}, []string{"SKU to add: is required to add a line."}},
			{"country", url.Values{"ship_country": {"ZZ"}, "ship_city": {"Malmö"}}, []string{"Shipping address, country: must be an ISO 3166-1 alpha-2 code", `name="ship_city" value="Malmö"`}},
			{"no street", url.Values{"ship_line1": {""}}, []string{"Shipping address, address: is required."}},
			{"long tag", url.Values{"tags": {strings.Repeat("x", 41)}}, []string{"Tags: must be at most 40 characters."}},
		} {
			res, body := edit(tc.form)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("%s: status %d\n%s", tc.name, res.StatusCode, body)
			}
			wantContains(t, body, tc.want...)
			wantContains(t, body, "fixing first", `class="field-error"`)
		}
		if l := of.get(a, o.ID).Lines[0]; l.Quantity != 14 {
			t.Errorf("a refused edit changed the order: %+v", l)
		}

		// Add a line at the product's price, remove one, change the address, note and tags.
		res, _ = edit(url.Values{"qty_" + mug: {"1"}, "remove": {tee}, "add_sku": {"TEE"}, "add_quantity": {"2"},
			"ship_line1": {"Drottninggatan 5"}, "ship_city": {"Malmö"}, "ship_country": {"se"}, "note": {"Ring twice"}, "tags": {"vip, gift"}})
		wantRedirect(t, res, page)
		got := of.get(a, o.ID)
		if len(got.Lines) != 3 || got.Lines[0].Quantity != 1 || got.Lines[0].Backordered != 0 || got.Lines[1].Quantity != 0 ||
			got.Lines[2].SKU != "TEE" || got.Lines[2].UnitPrice != 2000 || got.Lines[2].Reserved != 2 {
			t.Fatalf("lines after edit: %+v", got.Lines)
		}
		if got.ShippingAddress.City != "Malmö" || got.ShippingAddress.Country != "SE" || got.Note != "Ring twice" || strings.Join(got.Tags, ",") != "vip,gift" || got.OnHold() {
			t.Errorf("after edit: %+v %q %q holds %v", got.ShippingAddress, got.Note, got.Tags, got.Holds)
		}
		res, body = c.get(page)
		wantContains(t, body, "Drottninggatan 5", "Malmö", `<span class="tag">vip</span>`, "removed TEE", "added 2 × TEE")
		// Timeline newest first.
		if i, j := strings.Index(body, "added 2 × TEE"), strings.Index(body, "Order #2001 received"); i < 0 || j < i {
			t.Error("timeline is not newest first")
		}

		// Saving a form that was opened before someone else's change is refused.
		stale := of.get(a, o.ID).UpdatedAt.Add(-time.Second).Format(time.RFC3339Nano)
		res, body = c.post(page+"/edit", url.Values{"version": {stale}, "qty_" + mug: {"5"}})
		wantStatus(t, res, body, http.StatusConflict)
		wantContains(t, body, "This order changed while you had it open")

		// Holds: add with a note, refused reason, release.
		res, body = c.post(page+"/holds", url.Values{"reason": {"NOT_A_REASON"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Hold reason: must be one of")
		res, _ = c.post(page+"/holds", url.Values{"reason": {"INCORRECT_ADDRESS"}, "note": {"No such street"}})
		wantRedirect(t, res, page)
		res, body = c.get(page)
		wantContains(t, body, "is on hold: Incorrect address.", "No such street", `action="`+page+`/holds/release"`)
		h := of.get(a, o.ID).Holds
		if len(h) != 1 {
			t.Fatalf("holds: %+v", h)
		}
		res, _ = c.post(page+"/holds/release", url.Values{"hold": {h[0].ID}})
		wantRedirect(t, res, page)
		res, body = c.get(page)
		wantContains(t, body, "Hold released: Incorrect address. The order can be fulfilled.", "On hold: Incorrect address — No such street")
		if got := of.get(a, o.ID); got.OnHold() {
			t.Error("still on hold")
		}

		// Cancel some units, too many, then the whole order.
		added := got.Lines[2].ID
		res, body = c.post(page+"/cancel", url.Values{"line_id": {added}, "quantity": {"5"}, "line_reason": {"customer"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Units to cancel: must be between 1 and 2")
		res, _ = c.post(page+"/cancel", url.Values{"line_id": {added}, "quantity": {"1"}, "line_reason": {"customer"}})
		wantRedirect(t, res, page)
		_, body = c.get(page)
		wantContains(t, body, "Cancelled 1 unit of order #2001.", "Cancelled 1 × TEE (customer)")
		if l := of.get(a, o.ID).Lines[2]; l.Quantity != 1 || l.Cancelled != 1 || l.Reserved != 1 {
			t.Errorf("after cancelling a unit: %+v", l)
		}
		res, _ = c.post(page+"/cancel", url.Values{"reason": {"staff"}})
		wantRedirect(t, res, page)
		res, body = c.get(page)
		wantContains(t, body, "is cancelled.", "Order cancelled (staff)", "This order is cancelled; it can no longer be changed.")
		wantNotContains(t, body, `action="`+page+`/holds"`, `name="qty_`)
		// A form left open elsewhere meets a cancelled order.
		res, body = c.post(page+"/holds", url.Values{"reason": {"OTHER"}})
		wantStatus(t, res, body, http.StatusConflict)
		wantContains(t, body, "Nothing was changed.", "The order is cancelled.")
	})
}

func TestOrderRolesAndTenants(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		of := newOrderFixture(t, e)
		o := of.order(of.alpha, order.Input{Number: "#3001", Customer: order.Customer{Name: "Role Test"}})
		page := "/orders/" + o.ID
		posts := map[string]url.Values{
			page + "/edit":          {"qty_" + o.Lines[0].ID: {"2"}},
			page + "/holds":         {"reason": {"OTHER"}},
			page + "/holds/release": {"hold": {"OTHER"}},
			page + "/cancel":        {"reason": {"staff"}},
		}
		for _, who := range []string{"viewer@alpha.example", "warehouse@alpha.example"} {
			c := of.signIn(who)
			res, body := c.get("/orders")
			wantStatus(t, res, body, http.StatusOK)
			wantContains(t, body, "#3001")
			wantNotContains(t, body, `name="id"`, `name="action"`)
			res, body = c.get(page)
			wantStatus(t, res, body, http.StatusOK)
			wantContains(t, body, "You can look, but your role cannot change orders.", "Role Test", `<fieldset class="plain order-fields" disabled>`)
			wantNotContains(t, body, `action="`+page+`/holds"`, `action="`+page+`/cancel"`, "Save changes")
			for p, form := range posts {
				res, body := c.post(p, form)
				wantStatus(t, res, body, http.StatusForbidden)
			}
		}

		// Another tenant's order does not exist for Beta.
		beta := of.signIn("owner@beta.example")
		res, body := beta.get(page)
		wantStatus(t, res, body, http.StatusNotFound)
		for p, form := range posts {
			res, body := beta.post(p, form)
			wantStatus(t, res, body, http.StatusNotFound)
		}
		res, body = beta.get("/orders")
		wantNotContains(t, body, "#3001")

		// Cross-site forms are refused.
		owner := of.signIn("owner@alpha.example")
		for p, form := range posts {
			res, body := owner.post(p, form, "Sec-Fetch-Site", "cross-site")
			wantStatus(t, res, body, http.StatusForbidden)
			wantContains(t, body, "sent from another site")
		}
		if got := of.get(of.alpha, o.ID); got.Status != order.Open || got.OnHold() || got.Lines[0].Quantity != 1 {
			t.Errorf("refused requests changed the order: %+v", got)
		}
	})
}

func TestOrderNewCount(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		of := newOrderFixture(t, e)
		c := of.signIn("owner@alpha.example")
		res, body := c.get("/products")
		wantContains(t, body, `hx-get="/orders/new-count" hx-trigger="load"`)
		res, body = c.get("/orders")
		wantStatus(t, res, body, http.StatusOK)
		res, body = c.get("/orders/new-count", "HX-Request", "true")
		wantStatus(t, res, body, http.StatusOK)
		if body != `<span class="nav-count" hidden></span>` {
			t.Errorf("count after opening the list: %q", body)
		}
		time.Sleep(2 * time.Millisecond) // event ids carry milliseconds
		of.order(of.alpha, order.Input{})
		of.order(of.alpha, order.Input{})
		of.order(of.beta, order.Input{})
		_, body = c.get("/orders/new-count", "HX-Request", "true")
		wantContains(t, body, `title="2 new since you last opened Orders">2<`)
		c.get("/orders")
		_, body = c.get("/orders/new-count", "HX-Request", "true")
		wantContains(t, body, "hidden")
	})
}

func TestChannelSettings(t *testing.T) {
	t.Parallel()
	if httpapi.HooksPrefix != "/hooks/channels/" {
		t.Fatalf("the dashboard shows webhook addresses under /hooks/channels/, the API takes them at %s", httpapi.HooksPrefix)
	}
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		of := newOrderFixture(t, e)
		c := of.signIn("owner@alpha.example")
		res, body := c.get("/settings/channels")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "No sales channels yet", `<option value="fakeshop">Fakeshop</option>`, `href="/settings/channels"`, "Choose the kind of channel")

		// Choosing a kind shows its fields; htmx gets the form only.
		res, body = c.get("/settings/channels?kind=fakeshop")
		wantContains(t, body, `<input type="hidden" name="kind" value="fakeshop">`, `<input type="password" name="webhook_secret" autocomplete="new-password"`)
		res, body = c.get("/settings/channels?part=connect&kind=fakeshop", "HX-Request", "true")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `<div id="connect">`, `name="webhook_secret"`)
		wantNotContains(t, body, "<html", "Connections")

		const secret = "whs-Very-Secret-Value"
		res, body = c.post("/settings/channels", url.Values{"kind": {"fakeshop"}, "name": {"Web shop"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Webhook secret: is required.", `value="Web shop"`, `aria-invalid="true"`)
		res, body = c.post("/settings/channels", url.Values{"kind": {"fakeshop"}, "name": {" "}, "webhook_secret": {secret}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Name: must be 1 to 80 characters.")
		wantNotContains(t, body, secret)
		res, body = c.post("/settings/channels", url.Values{"kind": {"nope"}, "name": {"X"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Kind: choose which kind of channel to connect.")

		res, body = c.post("/settings/channels", url.Values{"kind": {"fakeshop"}, "name": {"Web shop"}, "webhook_secret": {secret}})
		wantStatus(t, res, body, http.StatusOK)
		list, err := of.channels.List(t.Context(), of.alpha.ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("channels: %+v %v", list, err)
		}
		ch := list[0]
		hook := of.srv.URL + httpapi.HooksPrefix + ch.ID
		wantContains(t, body, "“Web shop” is connected", `value="`+hook+`"`, "Secrets stored: <strong>Webhook secret</strong>", "every 15 minutes")
		wantNotContains(t, body, secret)
		res, body = c.get("/settings/channels")
		wantContains(t, body, "Web shop", hook, `<span class="badge active">Active</span>`, "Webhook secret", `action="/settings/channels/`+ch.ID+`/poll"`)
		wantNotContains(t, body, secret)

		// Poll now brings the orders a webhook missed.
		of.mu.Lock()
		of.polled = []order.Input{{ExternalID: "W-1", Currency: "EUR", Lines: []order.LineInput{{SKU: "MUG", Quantity: 1, UnitPrice: "12.50"}}},
			{ExternalID: "W-2", Currency: "EUR", Lines: []order.LineInput{{SKU: "TEE", Quantity: 1, UnitPrice: "20.00"}}}}
		of.mu.Unlock()
		res, _ = c.post("/settings/channels/"+ch.ID+"/poll", nil)
		wantRedirect(t, res, "/settings/channels")
		res, body = c.get("/settings/channels")
		wantContains(t, body, "Polled “Web shop”: 2 orders created or brought up to date.")
		if os, _, _ := of.orders.List(t.Context(), of.alpha.ID, order.Filter{Channel: "fakeshop"}, ""); len(os) != 2 {
			t.Errorf("polled orders: %d", len(os))
		}
		of.mu.Lock()
		wakes := of.wakes
		of.pollErr = channels.ErrAuth{Err: errors.New("401 Unauthorized")}
		of.mu.Unlock()
		if wakes != 1 {
			t.Errorf("wakes = %d", wakes)
		}
		res, _ = c.post("/settings/channels/"+ch.ID+"/poll", nil)
		wantRedirect(t, res, "/settings/channels")
		res, body = c.get("/settings/channels")
		wantContains(t, body, "Polling “Web shop” failed", "the channel refused our credentials: 401 Unauthorized", `<span class="failing" title=`)

		// Pause and resume.
		res, _ = c.post("/settings/channels/"+ch.ID+"/pause", nil)
		wantRedirect(t, res, "/settings/channels")
		res, body = c.get("/settings/channels")
		wantContains(t, body, "is paused", `<span class="badge archived">Paused</span>`, `action="/settings/channels/`+ch.ID+`/resume"`)
		wantNotContains(t, body, `/poll"`)
		if got, _ := of.channels.Get(t.Context(), of.alpha.ID, ch.ID); got.Active {
			t.Error("still active")
		}
		res, _ = c.post("/settings/channels/"+ch.ID+"/resume", nil)
		wantRedirect(t, res, "/settings/channels")
		if got, _ := of.channels.Get(t.Context(), of.alpha.ID, ch.ID); !got.Active || len(got.SecretsSet) != 1 {
			t.Errorf("after resume: %+v", got)
		}

		// Viewers and warehouse staff look; Beta cannot see or touch Alpha's channel.
		for _, who := range []string{"viewer@alpha.example", "warehouse@alpha.example"} {
			c := of.signIn(who)
			res, body := c.get("/settings/channels")
			wantStatus(t, res, body, http.StatusOK)
			wantContains(t, body, "Web shop", "your role cannot connect or change sales channels")
			wantNotContains(t, body, `action="/settings/channels"`, "/pause\"")
			for _, p := range []string{"/settings/channels", "/settings/channels/" + ch.ID + "/pause", "/settings/channels/" + ch.ID + "/poll"} {
				res, body := c.post(p, url.Values{"kind": {"fakeshop"}, "name": {"Mine"}, "webhook_secret": {"x"}})
				wantStatus(t, res, body, http.StatusForbidden)
			}
		}
		beta := of.signIn("owner@beta.example")
		_, body = beta.get("/settings/channels")
		wantNotContains(t, body, "Web shop")
		for _, p := range []string{"/settings/channels/" + ch.ID + "/pause", "/settings/channels/" + ch.ID + "/poll"} {
			res, body := beta.post(p, nil)
			wantStatus(t, res, body, http.StatusNotFound)
		}
		res, body = c.post("/settings/channels/"+ch.ID+"/pause", nil, "Sec-Fetch-Site", "cross-site")
		wantStatus(t, res, body, http.StatusForbidden)
		if got, _ := of.channels.Get(t.Context(), of.alpha.ID, ch.ID); !got.Active {
			t.Error("a cross-site form paused the channel")
		}
	})
}

// TestChannelConnectForms checks the connect form of every kind the app
// registers against the kind itself: each of its secrets is a password
// input, the rest are not, and the vendor's own checks come back beside
// their fields.
func TestChannelConnectForms(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e, func(c *config.Config) { c.PublicURL = "https://waybill.example.com/" })
		tn, _ := a.Tenant("Shop")
		if _, err := a.Auth.CreateUser(t.Context(), tn.ID, auth.NewUser{Email: "owner@shop.example", Role: auth.Owner, Password: testPassword}); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(a.Handler)
		t.Cleanup(srv.Close)
		f := &fixture{t: t, srv: srv}
		c := f.signIn("owner@shop.example")

		kinds := a.Channels.Kinds()
		if len(kinds) == 0 {
			t.Skip("this build registers no channel kinds")
		}
		for _, k := range kinds {
			res, body := c.get("/settings/channels?kind=" + k.Name)
			wantStatus(t, res, body, http.StatusOK)
			for _, sec := range k.Secrets {
				wantContains(t, body, `<input type="password" name="`+sec+`"`)
			}
			for _, m := range regexp.MustCompile(`<input type="password" name="([a-z_]+)"`).FindAllStringSubmatch(body, -1) {
				if !slices.Contains(k.Secrets, m[1]) {
					t.Errorf("%s: %s is a password input but not a secret of the kind", k.Name, m[1])
				}
			}
		}

		if _, ok := a.Channels.KindOf("shopify"); ok {
			res, body := c.post("/settings/channels", url.Values{"kind": {"shopify"}, "name": {"Outdoor Co."}, "shop_domain": {"https://outdoor-co.myshopify.com/admin"},
				"access_token": {"shpat_secret_token"}, "webhook_secret": {"shopify-signing-secret"}})
			wantStatus(t, res, body, http.StatusUnprocessableEntity)
			wantContains(t, body, "Shop domain: must be the store&#39;s domain", `value="https://outdoor-co.myshopify.com/admin"`, `spellcheck="false" aria-invalid="true"`)
			wantNotContains(t, body, "shpat_secret_token", "shopify-signing-secret")
			res, body = c.post("/settings/channels", url.Values{"kind": {"shopify"}, "name": {"Outdoor Co."}, "shop_domain": {"outdoor-co.myshopify.com"},
				"access_token": {"shpat_secret_token"}, "webhook_secret": {"shopify-signing-secret"}})
			wantStatus(t, res, body, http.StatusOK)
			wantContains(t, body, `value="https://waybill.example.com/hooks/channels/chn_`, "<strong>Admin API access token</strong>, <strong>Webhook signing secret</strong>")
			wantNotContains(t, body, "shpat_secret_token", "shopify-signing-secret")
		}
		if _, ok := a.Channels.KindOf("amazon"); ok {
			res, body := c.post("/settings/channels", url.Values{"kind": {"amazon"}, "name": {"Amazon US"}, "region": {"na"}, "marketplace_ids": {"ATVPDKIKX0DER, bad id"},
				"client_id": {"amzn1.application-oa2-client.x"}, "client_secret": {"amzn-secret"}, "refresh_token": {"Atzr|token"}})
			wantStatus(t, res, body, http.StatusUnprocessableEntity)
			wantContains(t, body, "Marketplace IDs: “bad id” must be an Amazon marketplace id", `value="ATVPDKIKX0DER, bad id"`)
			res, body = c.post("/settings/channels", url.Values{"kind": {"amazon"}, "name": {"Amazon US"}, "region": {"na"}, "marketplace_ids": {"ATVPDKIKX0DER"},
				"client_id": {"amzn1.application-oa2-client.x"}, "client_secret": {"amzn-secret"}, "refresh_token": {"Atzr|token"}})
			wantStatus(t, res, body, http.StatusOK)
			wantContains(t, body, "“Amazon US” is connected", "every 10 minutes")
			wantNotContains(t, body, "Paste this address", "amzn-secret", "Atzr|token")
		}
	})
}
