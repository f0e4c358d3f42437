package shopify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

const secret = "shpss_test_secret"

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sign(body []byte, key string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func hookHeaders(topic string, body []byte) http.Header {
	h := http.Header{}
	h.Set("X-Shopify-Topic", topic)
	h.Set("X-Shopify-Hmac-Sha256", sign(body, secret))
	h.Set("X-Shopify-Shop-Domain", "acme.myshopify.com")
	h.Set("X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
	h.Set("X-Shopify-Api-Version", "2025-07")
	return h
}

func testClient(base string) *Client {
	c := New(Config{ShopDomain: "acme.myshopify.com", AccessToken: "shpat_token", WebhookSecret: secret, BaseURL: base}, http.DefaultClient)
	c.http.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	return c
}

func ptime(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func TestParseOrder(t *testing.T) {
	in, err := ParseOrder(sample(t, "orders_create.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := order.Input{
		Channel:    "shopify",
		ExternalID: "5934567890123",
		Number:     "#1001",
		PlacedAt:   ptime("2025-03-14T14:21:07Z"),
		UpdatedAt:  ptime("2025-03-14T15:02:45Z"),
		Currency:   "USD",
		Customer:   order.Customer{Name: "Zoë Müller", Email: "zoe.mueller@example.com", Phone: "+4915112345678"},
		ShippingAddress: &order.Address{Name: "Zoë Müller", Company: "Müller & Söhne GmbH", Line1: "Königstraße 12", Line2: "Hinterhaus, 3. OG",
			City: "Berlin", Region: "BE", PostalCode: "10117", Country: "DE", Phone: "+49 30 1234567"},
		BillingAddress: &order.Address{Name: "Zoë Müller", Line1: "Königstraße 12", Line2: "Hinterhaus, 3. OG",
			City: "Berlin", PostalCode: "10117", Country: "DE", Phone: "+49 30 1234567"},
		Lines: []order.LineInput{
			// 3 ordered, 2 left: the 9.00 of discount and tax scale to 6.00.
			{SKU: "TEA-KYOTO-BLK", Name: "Teekanne „Kyōto“ - 急須 / Schwarz", ExternalID: "13912345678901", Quantity: 2, UnitPrice: "49.99", Discount: "6.00",
				TaxLines: []order.TaxInput{{Title: "State Tax", Rate: "0.06", Amount: "6.00"}}},
			{SKU: "shopify-variant-4264200", Name: "Gift wrap", ExternalID: "13912345678902", Quantity: 1, UnitPrice: "19.99", Discount: "1.50",
				TaxLines: []order.TaxInput{{Title: "State Tax", Rate: "0.06", Amount: "1.08"}}},
		},
		ShippingLines: []order.ShippingInput{{Title: "DHL Paket (2–3 Werktage)", Code: "DHL Paket", Price: "9.00",
			TaxLines: []order.TaxInput{{Title: "State Tax", Rate: "0.06", Amount: "0.54"}}}},
		PaymentStatus:    "paid",
		Tags:             []string{"VIP", "wholesale", "gift"},
		Note:             "Bitte vor 12 Uhr liefern — danke! 🙂",
		AllowUnknownSKUs: true,
	}
	if d := cmp.Diff(want, in); d != "" {
		t.Errorf("ParseOrder (-want +got):\n%s", d)
	}
	// Intake takes it: the order service's own check (amounts in the
	// currency, quantities, SKUs, totals).
	if err := order.Check(in); err != nil {
		t.Errorf("intake would refuse it: %v", err)
	}
}

func TestParseOrderCancelled(t *testing.T) {
	in, err := ParseOrder(sample(t, "orders_cancelled.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !in.Cancelled || in.CancelReason != "customer" || in.PaymentStatus != "voided" || !in.TaxesIncluded || in.Currency != "JPY" {
		t.Errorf("cancelled order: %+v", in)
	}
	// A cancelled order keeps what was ordered (current_quantity is 0).
	if len(in.Lines) != 1 || in.Lines[0].Quantity != 2 || in.Lines[0].UnitPrice != "1500" || in.Lines[0].TaxLines[0].Amount != "272" || in.Lines[0].TaxLines[0].Title != "消費税" {
		t.Errorf("lines: %+v", in.Lines)
	}
	if in.BillingAddress != nil {
		t.Errorf("a billing address with no street must be left out, got %+v", in.BillingAddress)
	}
	if a := in.ShippingAddress; a == nil || a.City != "東京都" || a.Region != "JP-13" || a.Country != "JP" {
		t.Errorf("shipping address: %+v", a)
	}
	if in.Customer.Name != "山田 太郎" {
		t.Errorf("customer: %+v", in.Customer)
	}
	// Intake takes it: the order service's own check (amounts in the
	// currency, quantities, SKUs, totals).
	if err := order.Check(in); err != nil {
		t.Errorf("intake would refuse it: %v", err)
	}
}

func TestParseOrderNothingLeft(t *testing.T) {
	body := `{"id": 7, "name": "#1007", "currency": "EUR", "cancelled_at": null, "financial_status": "refunded",
		"line_items": [{"id": 70, "sku": "A", "quantity": 2, "current_quantity": 0, "price": "5.00",
			"discount_allocations": [{"amount": "1.00"}], "tax_lines": [{"title": "VAT", "price": "1.60", "rate": 0.2}]}]}`
	in, err := ParseOrder([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []order.LineInput{{SKU: "A", ExternalID: "70", Quantity: 2, UnitPrice: "5.00", Discount: "1.00",
		TaxLines: []order.TaxInput{{Title: "VAT", Rate: "0.2", Amount: "1.60"}}}}
	if !in.Cancelled || in.CancelReason != "other" || in.PaymentStatus != "refunded" || !cmp.Equal(want, in.Lines) {
		t.Errorf("an order with nothing left: %+v", in)
	}
}

func TestParseOrderMalformed(t *testing.T) {
	for name, body := range map[string]string{
		"not json":       `{"id": `,
		"array":          `[]`,
		"string id":      `{"id": "gid://shopify/Order/1", "currency": "USD"}`,
		"bad time":       `{"id": 1, "currency": "USD", "created_at": "yesterday"}`,
		"bad price":      `{"id": 1, "currency": "USD", "line_items": [{"id": 2, "sku": "A", "quantity": 1, "price": "1,99"}]}`,
		"float quantity": `{"id": 1, "currency": "USD", "line_items": [{"id": 2, "sku": "A", "quantity": 1.5, "price": "1.99"}]}`,
		"current > qty":  `{"id": 1, "currency": "USD", "line_items": [{"id": 2, "sku": "A", "quantity": 1, "current_quantity": 2, "price": "1.99"}]}`,
		"object sku":     `{"id": 1, "currency": "USD", "line_items": [{"id": 2, "sku": {}, "quantity": 1, "price": "1.99"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseOrder([]byte(body))
			if !errs.Is(errs.Invalid, err) {
				t.Errorf("got %v, want an Invalid error", err)
			}
		})
	}
}

func TestVerifyWebhook(t *testing.T) {
	c := testClient("")
	body := sample(t, "orders_create.json")
	tampered := []byte(strings.Replace(string(body), `"49.99"`, `"0.99"`, 1))
	for _, tc := range []struct {
		name string
		sig  string
		body []byte
		ok   bool
	}{
		{"good", sign(body, secret), body, true},
		{"wrong secret", sign(body, "other"), body, false},
		{"tampered body", sign(body, secret), tampered, false},
		{"missing", "", body, false},
		{"not base64", "%%%", body, false},
		{"hex instead of base64", fmt.Sprintf("%x", []byte(sign(body, secret))), body, false},
		{"truncated", sign(body, secret)[:20], body, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("X-Shopify-Hmac-Sha256", tc.sig)
			err := c.VerifyWebhook(h, tc.body)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, channels.ErrBadSignature)) {
				t.Errorf("VerifyWebhook = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	// A connection without a secret verifies nothing.
	empty := New(Config{ShopDomain: "acme.myshopify.com"}, nil)
	if err := empty.VerifyWebhook(hookHeaders("orders/create", body), body); !errors.Is(err, channels.ErrBadSignature) {
		t.Errorf("no secret: %v", err)
	}
}

func TestParseWebhook(t *testing.T) {
	c := testClient("")
	ctx := context.Background()
	body := sample(t, "orders_create.json")

	h := hookHeaders("orders/create", body)
	w, err := c.ParseWebhook(ctx, h, body)
	if err != nil {
		t.Fatal(err)
	}
	if w.ID != "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043" || w.Topic != "orders/create" || w.Ignored || len(w.Orders) != 1 || w.Orders[0].ExternalID != "5934567890123" {
		t.Errorf("webhook: %+v", w)
	}
	h.Set("X-Shopify-Event-Id", "98880550-7158-44d4-b7cd-2c97c8a091b5")
	if w, _ := c.ParseWebhook(ctx, h, body); w.ID != "98880550-7158-44d4-b7cd-2c97c8a091b5" {
		t.Errorf("the event id should win: %q", w.ID)
	}

	for _, topic := range []string{"orders/updated", "orders/cancelled", "orders/paid"} {
		if w, err := c.ParseWebhook(ctx, hookHeaders(topic, body), body); err != nil || len(w.Orders) != 1 || w.Ignored {
			t.Errorf("%s: %+v, %v", topic, w, err)
		}
	}

	product := []byte(`{"id": 788032119674292922, "title": "Example T-Shirt"}`)
	w, err = c.ParseWebhook(ctx, hookHeaders("products/update", product), product)
	if err != nil || !w.Ignored || len(w.Orders) != 0 || w.Topic != "products/update" {
		t.Errorf("products/update: %+v, %v", w, err)
	}

	bad := hookHeaders("orders/create", body)
	bad.Set("X-Shopify-Hmac-Sha256", sign(body, "wrong"))
	if _, err := c.ParseWebhook(ctx, bad, body); !errors.Is(err, channels.ErrBadSignature) {
		t.Errorf("bad signature: %v", err)
	}

	junk := []byte(`{"id": "not a number"`)
	if _, err := c.ParseWebhook(ctx, hookHeaders("orders/create", junk), junk); !errs.Is(errs.Invalid, err) {
		t.Errorf("malformed: %v", err)
	}
}

func TestParseWebhookEditedFetchesTheOrder(t *testing.T) {
	orderJSON := sample(t, "orders_create.json")
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		if r.URL.Path != "/admin/api/2025-07/orders/5934567890123.json" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"order": %s}`, orderJSON)
	}))
	defer srv.Close()
	c := testClient(srv.URL)
	body := sample(t, "orders_edited.json")
	w, err := c.ParseWebhook(context.Background(), hookHeaders("orders/edited", body), body)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Orders) != 1 || w.Orders[0].Number != "#1001" {
		t.Errorf("webhook: %+v", w)
	}
	if got.Header.Get("X-Shopify-Access-Token") != "shpat_token" || got.Header.Get("User-Agent") != "Waybill" {
		t.Errorf("request headers: %v", got.Header)
	}

	noID := []byte(`{"order_edit": {"id": 1}}`)
	if _, err := c.ParseWebhook(context.Background(), hookHeaders("orders/edited", noID), noID); !errs.Is(errs.Invalid, err) {
		t.Errorf("edit without order id: %v", err)
	}
}

// fakeShop serves /admin/api/2025-07/orders.json the way Shopify does:
// cursor pages linked by a Link header, the token checked, and a queue of
// canned failures served first.
type fakeShop struct {
	t        *testing.T
	mu       sync.Mutex
	orders   [][]byte // one order JSON per order; two per page
	fail     []func(w http.ResponseWriter)
	requests []*http.Request
}

func (f *fakeShop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
	if len(f.fail) > 0 {
		fail := f.fail[0]
		f.fail = f.fail[1:]
		fail(w)
		return
	}
	if r.Header.Get("X-Shopify-Access-Token") != "shpat_token" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`)
		return
	}
	if r.URL.Path != "/admin/api/2025-07/orders.json" {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	start := 0
	switch pi := q.Get("page_info"); pi {
	case "":
		if q.Get("status") != "any" || q.Get("updated_at_min") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
	default:
		if q.Has("status") || q.Has("updated_at_min") {
			// Shopify: page_info cannot be combined with filters.
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"errors":{"page_info":"Invalid value."}}`)
			return
		}
		fmt.Sscanf(pi, "cursor-%d", &start)
	}
	end := min(start+2, len(f.orders))
	var links []string
	if start > 0 {
		links = append(links, fmt.Sprintf(`<https://acme.myshopify.com/admin/api/2025-07/orders.json?limit=250&page_info=cursor-%d>; rel="previous"`, start-2))
	}
	if end < len(f.orders) {
		links = append(links, fmt.Sprintf(`<https://acme.myshopify.com/admin/api/2025-07/orders.json?limit=250&page_info=cursor-%d>; rel="next"`, end))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	fmt.Fprintf(w, `{"orders":[%s]}`, joinJSON(f.orders[start:end]))
}

func joinJSON(items [][]byte) string {
	var parts []string
	for _, b := range items {
		parts = append(parts, string(b))
	}
	return strings.Join(parts, ",")
}

func shopOrders(t *testing.T, n int) [][]byte {
	base := string(sample(t, "orders_create.json"))
	var out [][]byte
	for i := range n {
		out = append(out, []byte(strings.Replace(base, `"id": 5934567890123`, fmt.Sprintf(`"id": %d`, 1000+i), 1)))
	}
	return out
}

func TestPollPages(t *testing.T) {
	f := &fakeShop{t: t, orders: shopOrders(t, 3)}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := testClient(srv.URL)
	since := time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("EST", -5*3600))

	p, err := c.Poll(context.Background(), since, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Orders) != 2 || p.Orders[0].ExternalID != "1000" || p.Next != "cursor-2" {
		t.Fatalf("page 1: %d orders, next %q", len(p.Orders), p.Next)
	}
	q := f.requests[0].URL.Query()
	if q.Get("updated_at_min") != "2025-03-01T17:00:00Z" || q.Get("limit") != "250" || q.Get("status") != "any" {
		t.Errorf("page 1 query: %v", q)
	}
	if ua := f.requests[0].Header.Get("User-Agent"); ua != "Waybill" {
		t.Errorf("User-Agent %q", ua)
	}
	p, err = c.Poll(context.Background(), since, p.Next)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Orders) != 1 || p.Orders[0].ExternalID != "1002" || p.Next != "" {
		t.Errorf("page 2: %d orders, next %q", len(p.Orders), p.Next)
	}
}

func TestPollFailures(t *testing.T) {
	throttle := func(after string) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", after)
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}`)
		}
	}
	status := func(code int, body string) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) { w.WriteHeader(code); fmt.Fprint(w, body) }
	}
	since := time.Now().Add(-time.Hour)

	t.Run("429 then success honours Retry-After", func(t *testing.T) {
		f := &fakeShop{t: t, orders: shopOrders(t, 1), fail: []func(http.ResponseWriter){throttle("2.0"), throttle("1")}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		c := testClient(srv.URL)
		var waited []time.Duration
		c.http.Sleep = func(ctx context.Context, d time.Duration) error { waited = append(waited, d); return nil }
		p, err := c.Poll(context.Background(), since, "")
		if err != nil || len(p.Orders) != 1 {
			t.Fatalf("Poll = %d orders, %v", len(p.Orders), err)
		}
		if d := cmp.Diff([]time.Duration{2 * time.Second, time.Second}, waited); d != "" {
			t.Errorf("waits (-want +got):\n%s", d)
		}
	})
	t.Run("429 until retries run out", func(t *testing.T) {
		f := &fakeShop{t: t, fail: []func(http.ResponseWriter){throttle("2.0"), throttle("2.0"), throttle("2.0"), throttle("3"), throttle("2.0")}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		_, err := testClient(srv.URL).Poll(context.Background(), since, "")
		var th channels.ErrThrottled
		if !errors.As(err, &th) || th.After != 3*time.Second || !errs.Is(errs.Transient, err) {
			t.Fatalf("got %v, want ErrThrottled after 3s", err)
		}
		if len(f.requests) != 4 {
			t.Errorf("%d requests, want 1 + 3 retries", len(f.requests))
		}
	})
	t.Run("Retry-After too long to wait", func(t *testing.T) {
		f := &fakeShop{t: t, fail: []func(http.ResponseWriter){throttle("3600")}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		_, err := testClient(srv.URL).Poll(context.Background(), since, "")
		var th channels.ErrThrottled
		if !errors.As(err, &th) || th.After != time.Hour || len(f.requests) != 1 {
			t.Fatalf("got %v after %d requests", err, len(f.requests))
		}
	})
	for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			f := &fakeShop{t: t, fail: []func(http.ResponseWriter){status(code, `{"errors":"[API] This action requires merchant approval for read_orders scope."}`)}}
			srv := httptest.NewServer(f)
			defer srv.Close()
			_, err := testClient(srv.URL).Poll(context.Background(), since, "")
			var auth channels.ErrAuth
			if !errors.As(err, &auth) || !strings.Contains(err.Error(), "merchant approval") {
				t.Fatalf("got %v, want ErrAuth with Shopify's message", err)
			}
		})
	}
	t.Run("wrong token", func(t *testing.T) {
		srv := httptest.NewServer(&fakeShop{t: t})
		defer srv.Close()
		c := New(Config{ShopDomain: "acme.myshopify.com", AccessToken: "stale", WebhookSecret: secret, BaseURL: srv.URL}, nil)
		var auth channels.ErrAuth
		if _, err := c.Poll(context.Background(), since, ""); !errors.As(err, &auth) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("500", func(t *testing.T) {
		f := &fakeShop{t: t, fail: []func(http.ResponseWriter){status(500, `{"errors":"Internal Server Error"}`)}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		_, err := testClient(srv.URL).Poll(context.Background(), since, "")
		var se *channels.StatusError
		if !errors.As(err, &se) || se.Code != 500 || !errs.Is(errs.Transient, err) || len(f.requests) != 1 {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("not JSON", func(t *testing.T) {
		f := &fakeShop{t: t, fail: []func(http.ResponseWriter){status(200, `<html>maintenance</html>`)}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		if _, err := testClient(srv.URL).Poll(context.Background(), since, ""); err == nil {
			t.Fatal("want an error")
		}
	})
}

func TestPollHonoursContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := testClient(srv.URL).Poll(ctx, time.Now(), "")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}

	// A cancelled context also ends the wait for a Retry-After.
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv2.Close()
	c := New(Config{ShopDomain: "acme.myshopify.com", AccessToken: "t", WebhookSecret: secret, BaseURL: srv2.URL}, nil)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if _, err := c.Poll(ctx2, time.Now(), ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting out a Retry-After: %v", err)
	}
}

func TestNextPageInfo(t *testing.T) {
	for _, tc := range []struct {
		links []string
		want  string
	}{
		{nil, ""},
		{[]string{`<https://s.myshopify.com/admin/api/2025-07/orders.json?limit=250&page_info=eyJsYXN0X2lkIjo0fQ>; rel="next"`}, "eyJsYXN0X2lkIjo0fQ"},
		{[]string{`<https://s/orders.json?page_info=p1>; rel="previous", <https://s/orders.json?page_info=n2&limit=250>; rel="next"`}, "n2"},
		{[]string{`<https://s/orders.json?page_info=p1>; rel="previous"`}, ""},
		{[]string{`garbage`}, ""},
	} {
		if got := nextPageInfo(tc.links); got != tc.want {
			t.Errorf("nextPageInfo(%q) = %q, want %q", tc.links, got, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{ShopDomain: "acme.myshopify.com", AccessToken: "shpat_x", WebhookSecret: "s"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	custom := good
	custom.ShopDomain, custom.APIVersion = "shop.example.co.uk", "2024-10"
	if err := custom.Validate(); err != nil {
		t.Errorf("a custom host: %v", err)
	}
	for _, tc := range []struct {
		mod   func(*Config)
		field string
	}{
		{func(c *Config) { c.ShopDomain = "" }, "shop_domain"},
		{func(c *Config) { c.ShopDomain = "https://acme.myshopify.com" }, "shop_domain"},
		{func(c *Config) { c.ShopDomain = "acme.myshopify.com/admin" }, "shop_domain"},
		{func(c *Config) { c.ShopDomain = "acme" }, "shop_domain"},
		{func(c *Config) { c.AccessToken = " " }, "access_token"},
		{func(c *Config) { c.WebhookSecret = "" }, "webhook_secret"},
		{func(c *Config) { c.APIVersion = "2025-08" }, "api_version"},
		{func(c *Config) { c.BaseURL = "ftp://x" }, "base_url"},
	} {
		c := good
		tc.mod(&c)
		err := c.Validate()
		fields := errs.Fields(err)
		if len(fields) != 1 || fields[0].Field != tc.field {
			t.Errorf("%+v: got %v, want a %s field error", c, err, tc.field)
		}
	}
}

func TestKind(t *testing.T) {
	k := Kind()
	conn, err := k.New(map[string]any{"shop_domain": "acme.myshopify.com", "access_token": "t", "webhook_secret": "s"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := conn.(*Client); c.cfg.APIVersion != DefaultAPIVersion || c.base != "https://acme.myshopify.com" {
		t.Errorf("client: %+v", c)
	}
	_, err = k.New(map[string]any{"shop_domain": 42}, nil)
	if f := errs.Fields(err); len(f) != 1 || f[0].Field != "shop_domain" {
		t.Errorf("wrong type: %v", err)
	}
	_, err = k.New(map[string]any{}, nil)
	if len(errs.Fields(err)) != 3 {
		t.Errorf("empty settings: %v", err)
	}
}

func FuzzParseOrder(f *testing.F) {
	for _, name := range []string{"orders_create.json", "orders_cancelled.json", "orders_edited.json"} {
		f.Add(sample(f, name))
	}
	f.Add([]byte(`{"id":1,"currency":"KWD","line_items":[{"id":2,"quantity":3,"current_quantity":1,"price":"1.2345","total_discount":"9e1","tax_lines":[{"price":"0.1","rate":1e2}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := ParseOrder(body)
		if err != nil {
			if !errs.Is(errs.Invalid, err) {
				t.Fatalf("error of the wrong kind: %v", err)
			}
			return
		}
		for _, l := range in.Lines {
			if l.Quantity < 1 || l.SKU == "" {
				t.Fatalf("bad line %+v", l)
			}
		}
	})
}
