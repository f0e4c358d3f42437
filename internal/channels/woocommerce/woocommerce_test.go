package woocommerce

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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

const secret = "wc-webhook-secret"

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

// hookHeaders are the headers WC_Webhook::deliver sends.
func hookHeaders(topic string, body []byte) http.Header {
	h := http.Header{}
	resource, event, _ := strings.Cut(topic, ".")
	h.Set("Content-Type", "application/json")
	h.Set("X-WC-Webhook-Source", "https://boutique.example.fr/")
	h.Set("X-WC-Webhook-Topic", topic)
	h.Set("X-WC-Webhook-Resource", resource)
	h.Set("X-WC-Webhook-Event", event)
	h.Set("X-WC-Webhook-Signature", sign(body, secret))
	h.Set("X-WC-Webhook-ID", "15")
	h.Set("X-WC-Webhook-Delivery-ID", "4df0a951a314adc554e0f2016102e020")
	return h
}

func testClient(base string) *Client {
	if base == "" {
		base = "https://boutique.example.fr"
	}
	c := New(Config{StoreURL: base, ConsumerKey: "ck_test", ConsumerSecret: "cs_test", WebhookSecret: secret}, http.DefaultClient)
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
	in, err := ParseOrder(sample(t, "order_created.json"))
	if err != nil {
		t.Fatal(err)
	}
	addr := order.Address{Name: "Amélie Dupré-Łukasiewicz", Line1: "12 rue de l'Église", City: "Saint-Étienne", PostalCode: "42000", Country: "FR"}
	billing, shipping := addr, addr
	billing.Phone = "+33 6 12 34 56 78"
	shipping.Company, shipping.Line2 = "Atelier Œuvre", "Bâtiment B"
	want := order.Input{
		Channel:         "woocommerce",
		ExternalID:      "727",
		Number:          "#727",
		PlacedAt:        ptime("2025-03-22T15:28:02Z"),
		UpdatedAt:       ptime("2025-03-22T15:28:08Z"),
		Currency:        "EUR",
		Customer:        order.Customer{Name: "Amélie Dupré-Łukasiewicz", Email: "amelie@example.fr", Phone: "+33 6 12 34 56 78"},
		ShippingAddress: &shipping,
		BillingAddress:  &billing,
		Lines: []order.LineInput{
			{SKU: "MUG-ETE-BLEU", Name: "Tasse « Été » – Couleur: Bleu", ExternalID: "315", Quantity: 2, UnitPrice: "6.00", Discount: "2.40",
				TaxLines: []order.TaxInput{{Title: "TVA", Rate: "0.2", Amount: "1.92"}}},
			// price 3.6366… and the tax 2.1818… are rounded to cents; the
			// rate without a total (id 76) is left out.
			{SKU: "woocommerce-product-22", Name: "Carte cadeau", ExternalID: "316", Quantity: 3, UnitPrice: "3.64", Discount: "0.00",
				TaxLines: []order.TaxInput{{Title: "TVA", Rate: "0.2", Amount: "2.18"}}},
		},
		ShippingLines: []order.ShippingInput{{Title: "Colissimo – domicile", Code: "flat_rate", Price: "4.90",
			TaxLines: []order.TaxInput{{Title: "TVA", Rate: "0.2", Amount: "0.98"}}}},
		PaymentStatus:    "paid",
		Note:             "Livraison après 18h, s'il vous plaît. Code porte: 1234 & étage 2",
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

func TestParseOrderRefunded(t *testing.T) {
	in, err := ParseOrder(sample(t, "order_refunded.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !in.Cancelled || in.CancelReason != "other" || in.PaymentStatus != "refunded" || in.Currency != "JPY" {
		t.Errorf("refunded order: %+v", in)
	}
	if in.BillingAddress != nil || in.ShippingAddress != nil {
		t.Errorf("no street, no address: %+v %+v", in.BillingAddress, in.ShippingAddress)
	}
	if len(in.Lines) != 2 || in.Lines[0].SKU != "woocommerce-product-87" || in.Lines[0].UnitPrice != "900" || in.Lines[1].SKU != "NINJA" {
		t.Errorf("lines: %+v", in.Lines)
	}
	if len(in.ShippingLines) != 1 || in.ShippingLines[0].Price != "800" || in.ShippingLines[0].Code != "flat_rate:25" {
		t.Errorf("shipping: %+v", in.ShippingLines)
	}
	// Intake takes it: the order service's own check (amounts in the
	// currency, quantities, SKUs, totals).
	if err := order.Check(in); err != nil {
		t.Errorf("intake would refuse it: %v", err)
	}
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		status, paid string
		refunds      bool
		payment      string
		cancelled    bool
	}{
		{"pending", "", false, "pending", false},
		{"on-hold", "", false, "pending", false},
		{"failed", "", false, "pending", false},
		{"processing", "2025-01-01T00:00:00", false, "paid", false},
		{"completed", "2025-01-01T00:00:00", true, "partially_refunded", false},
		{"cancelled", "", false, "voided", true},
		{"cancelled", "2025-01-01T00:00:00", false, "paid", true},
		{"refunded", "2025-01-01T00:00:00", true, "refunded", true},
		{"trash", "", false, "voided", true},
		{"wc-awaiting-shipment", "2025-01-01T00:00:00", false, "paid", false},
	} {
		o := wcOrder{Status: tc.status, DatePaidGMT: tc.paid}
		if tc.refunds {
			o.Refunds = append(o.Refunds, []byte(`{"id":1,"total":"-1.00"}`))
		}
		if p, c := status(o); p != tc.payment || c != tc.cancelled {
			t.Errorf("%s (paid %q): got %q %v, want %q %v", tc.status, tc.paid, p, c, tc.payment, tc.cancelled)
		}
	}
}

func TestParseOrderMalformed(t *testing.T) {
	for name, body := range map[string]string{
		"not json":       `{"id": `,
		"array":          `[]`,
		"no id":          `{"currency": "USD"}`,
		"bad time":       `{"id": 1, "currency": "USD", "date_created_gmt": "22/03/2025"}`,
		"bad price":      `{"id": 1, "currency": "USD", "line_items": [{"id": 2, "sku": "A", "quantity": 1, "price": "abc"}]}`,
		"float quantity": `{"id": 1, "currency": "USD", "line_items": [{"id": 2, "sku": "A", "quantity": 1.5, "price": 1}]}`,
		"billing string": `{"id": 1, "currency": "USD", "billing": "x"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseOrder([]byte(body)); !errs.Is(errs.Invalid, err) {
				t.Errorf("got %v, want an Invalid error", err)
			}
		})
	}
}

func TestVerifyWebhook(t *testing.T) {
	c := testClient("")
	body := sample(t, "order_created.json")
	tampered := []byte(strings.Replace(string(body), `"9.60"`, `"0.60"`, 1))
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
		{"not base64", "not-a-signature!", body, false},
		{"unsigned ping", "", []byte("webhook_id=15"), true},
		{"ping with a bad signature", "AAAA", []byte("webhook_id=15"), false},
		{"ping-like but more", "", []byte("webhook_id=15&x=1"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("X-WC-Webhook-Signature", tc.sig)
			err := c.VerifyWebhook(h, tc.body)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, channels.ErrBadSignature)) {
				t.Errorf("VerifyWebhook = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestParseWebhook(t *testing.T) {
	c := testClient("")
	ctx := context.Background()
	body := sample(t, "order_created.json")

	for _, topic := range []string{"order.created", "order.updated", "order.restored"} {
		w, err := c.ParseWebhook(ctx, hookHeaders(topic, body), body)
		if err != nil {
			t.Fatal(err)
		}
		if w.ID != "4df0a951a314adc554e0f2016102e020" || w.Topic != topic || w.Ignored || len(w.Orders) != 1 || w.Orders[0].ExternalID != "727" {
			t.Errorf("%s: %+v", topic, w)
		}
	}

	// The ping WooCommerce sends when a webhook is saved: a form body, no
	// signature and none of the X-WC-Webhook headers.
	ping := sample(t, "ping.txt")
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	w, err := c.ParseWebhook(ctx, h, ping)
	if err != nil || !w.Ignored || w.Topic != "ping" || w.ID != "ping:15" || len(w.Orders) != 0 {
		t.Errorf("ping: %+v, %v", w, err)
	}

	deleted := sample(t, "order_deleted.json")
	w, err = c.ParseWebhook(ctx, hookHeaders("order.deleted", deleted), deleted)
	if err != nil || !w.Ignored || len(w.Orders) != 0 {
		t.Errorf("order.deleted: %+v, %v", w, err)
	}
	product := []byte(`{"id":74,"name":"product.created"}`)
	w, err = c.ParseWebhook(ctx, hookHeaders("product.created", product), product)
	if err != nil || !w.Ignored {
		t.Errorf("product.created: %+v, %v", w, err)
	}

	bad := hookHeaders("order.created", body)
	bad.Set("X-WC-Webhook-Signature", sign(body, "wrong"))
	if _, err := c.ParseWebhook(ctx, bad, body); !errors.Is(err, channels.ErrBadSignature) {
		t.Errorf("bad signature: %v", err)
	}
	junk := []byte(`{"id": [1]}`)
	if _, err := c.ParseWebhook(ctx, hookHeaders("order.created", junk), junk); !errs.Is(errs.Invalid, err) {
		t.Errorf("malformed: %v", err)
	}
}

// fakeStore serves GET /wp-json/wc/v3/orders as WooCommerce does: basic
// auth, numbered pages with X-WP-Total and X-WP-TotalPages, and a queue
// of canned failures served first.
type fakeStore struct {
	mu       sync.Mutex
	orders   [][]byte
	perPage  int
	fail     []func(w http.ResponseWriter)
	requests []*http.Request
}

func (f *fakeStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
	if len(f.fail) > 0 {
		fail := f.fail[0]
		f.fail = f.fail[1:]
		fail(w)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	if user, pass, ok := r.BasicAuth(); !ok || user != "ck_test" || pass != "cs_test" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":"woocommerce_rest_cannot_view","message":"Sorry, you cannot list resources.","data":{"status":401}}`)
		return
	}
	if r.URL.Path != "/shop/wp-json/wc/v3/orders" {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	if q.Get("modified_after") == "" || q.Get("orderby") != "modified" || q.Get("dates_are_gmt") != "true" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"code":"rest_invalid_param","message":"Invalid parameter(s): orderby","data":{"status":400}}`)
		return
	}
	page, _ := strconv.Atoi(q.Get("page"))
	per := f.perPage
	start := min((page-1)*per, len(f.orders))
	end := min(start+per, len(f.orders))
	pages := (len(f.orders) + per - 1) / per
	w.Header().Set("X-WP-Total", strconv.Itoa(len(f.orders)))
	w.Header().Set("X-WP-TotalPages", strconv.Itoa(pages))
	var parts []string
	for _, o := range f.orders[start:end] {
		parts = append(parts, string(o))
	}
	fmt.Fprintf(w, "[%s]", strings.Join(parts, ","))
}

func storeOrders(t *testing.T, n int) [][]byte {
	base := string(sample(t, "order_created.json"))
	var out [][]byte
	for i := range n {
		out = append(out, []byte(strings.Replace(base, `"id": 727`, fmt.Sprintf(`"id": %d`, 1000+i), 1)))
	}
	return out
}

func TestPollPages(t *testing.T) {
	f := &fakeStore{orders: storeOrders(t, 3), perPage: 2}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := testClient(srv.URL + "/shop/")
	since := time.Date(2025, 3, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600))

	p, err := c.Poll(context.Background(), since, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Orders) != 2 || p.Orders[0].ExternalID != "1000" || p.Next != "2" {
		t.Fatalf("page 1: %d orders, next %q", len(p.Orders), p.Next)
	}
	q := f.requests[0].URL.Query()
	if q.Get("modified_after") != "2025-03-01T12:00:00" || q.Get("per_page") != "100" || q.Get("page") != "1" || q.Get("order") != "asc" {
		t.Errorf("query: %v", q)
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
	if _, err := c.Poll(context.Background(), since, "zwei"); !errs.Is(errs.Invalid, err) {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestPollFailures(t *testing.T) {
	throttle := func(after string) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", after)
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}
	status := func(code int, body string) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) { w.WriteHeader(code); fmt.Fprint(w, body) }
	}
	since := time.Now().Add(-time.Hour)

	t.Run("429 then success honours Retry-After", func(t *testing.T) {
		f := &fakeStore{orders: storeOrders(t, 1), perPage: 2, fail: []func(http.ResponseWriter){throttle("5")}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		c := testClient(srv.URL + "/shop")
		var waited []time.Duration
		c.http.Sleep = func(ctx context.Context, d time.Duration) error { waited = append(waited, d); return nil }
		p, err := c.Poll(context.Background(), since, "")
		if err != nil || len(p.Orders) != 1 || len(waited) != 1 || waited[0] != 5*time.Second {
			t.Fatalf("Poll = %d orders, %v; waited %v", len(p.Orders), err, waited)
		}
	})
	t.Run("429 until retries run out", func(t *testing.T) {
		f := &fakeStore{perPage: 2, fail: []func(http.ResponseWriter){throttle("1"), throttle("1"), throttle("1"), throttle("1")}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		_, err := testClient(srv.URL+"/shop").Poll(context.Background(), since, "")
		var th channels.ErrThrottled
		if !errors.As(err, &th) || th.After != time.Second || len(f.requests) != 4 {
			t.Fatalf("got %v after %d requests", err, len(f.requests))
		}
	})
	t.Run("401", func(t *testing.T) {
		srv := httptest.NewServer(&fakeStore{perPage: 2})
		defer srv.Close()
		c := New(Config{StoreURL: srv.URL + "/shop", ConsumerKey: "ck_test", ConsumerSecret: "wrong", WebhookSecret: secret}, nil)
		_, err := c.Poll(context.Background(), since, "")
		var auth channels.ErrAuth
		if !errors.As(err, &auth) || !strings.Contains(err.Error(), "cannot list resources") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("500", func(t *testing.T) {
		f := &fakeStore{perPage: 2, fail: []func(http.ResponseWriter){status(500, `<p>There has been a critical error on this website.</p>`)}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		_, err := testClient(srv.URL+"/shop").Poll(context.Background(), since, "")
		var se *channels.StatusError
		if !errors.As(err, &se) || se.Code != 500 || !errs.Is(errs.Transient, err) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("404 without the REST API", func(t *testing.T) {
		f := &fakeStore{perPage: 2, fail: []func(http.ResponseWriter){status(404, `{"code":"rest_no_route","message":"No route was found matching the URL and request method.","data":{"status":404}}`)}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		_, err := testClient(srv.URL+"/shop").Poll(context.Background(), since, "")
		if !errs.Is(errs.NotExist, err) || !strings.Contains(err.Error(), "rest_no_route") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("context", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		defer srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := testClient(srv.URL).Poll(ctx, since, ""); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	good := Config{StoreURL: "https://boutique.example.fr", ConsumerKey: "ck_x", ConsumerSecret: "cs_x", WebhookSecret: "s"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mod   func(*Config)
		field string
	}{
		{func(c *Config) { c.StoreURL = "" }, "store_url"},
		{func(c *Config) { c.StoreURL = "http://boutique.example.fr" }, "store_url"},
		{func(c *Config) { c.StoreURL = "boutique.example.fr" }, "store_url"},
		{func(c *Config) { c.StoreURL = "https://boutique.example.fr/?x=1" }, "store_url"},
		{func(c *Config) { c.ConsumerKey = "" }, "consumer_key"},
		{func(c *Config) { c.ConsumerSecret = "" }, "consumer_secret"},
		{func(c *Config) { c.WebhookSecret = "" }, "webhook_secret"},
	} {
		c := good
		tc.mod(&c)
		fields := errs.Fields(c.Validate())
		if len(fields) != 1 || fields[0].Field != tc.field {
			t.Errorf("%+v: got %v, want a %s field error", c, fields, tc.field)
		}
	}
	local := good
	local.StoreURL = "http://127.0.0.1:8080/shop"
	if err := local.Validate(); err != nil {
		t.Errorf("http on loopback: %v", err)
	}
}

func TestKind(t *testing.T) {
	conn, err := Kind().New(map[string]any{"store_url": "https://boutique.example.fr/", "consumer_key": "ck", "consumer_secret": "cs", "webhook_secret": "s"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := conn.(*Client); c.base != "https://boutique.example.fr" {
		t.Errorf("base %q", c.base)
	}
	if _, err := Kind().New(map[string]any{"store_url": "https://x.example"}, nil); len(errs.Fields(err)) != 3 {
		t.Errorf("missing keys: %v", err)
	}
}

func FuzzParseOrder(f *testing.F) {
	for _, name := range []string{"order_created.json", "order_refunded.json", "order_deleted.json", "ping.txt"} {
		f.Add(sample(f, name))
	}
	f.Add([]byte(`{"id":1,"currency":"BHD","shipping":[],"line_items":[{"id":2,"quantity":7,"subtotal":"1.0005","total":"2","price":1e-3,"taxes":[{"id":1,"total":"0.0004"}]}],"tax_lines":[{"rate_id":1,"rate_percent":"7.75"}]}`))
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
