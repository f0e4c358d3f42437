package ecwid

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

const clientSecret = "abcde123456789"

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sign is Ecwid's scheme: base64(HMAC-SHA256(client_secret, "{eventCreated}.{eventId}")).
func sign(eventCreated, eventID, key string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(eventCreated + "." + eventID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func hookHeaders(sig string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("X-Ecwid-Webhook-Signature", sig)
	return h
}

func testClient(base, currency string) *Client {
	c := New(Config{StoreID: "1003", AccessToken: "secret_token", ClientSecret: clientSecret, Currency: currency, BaseURL: base}, http.DefaultClient)
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
	in, err := ParseOrder(sample(t, "order.json"), "DKK")
	if err != nil {
		t.Fatal(err)
	}
	want := order.Input{
		Channel:    "ecwid",
		ExternalID: "XJ12H",
		Number:     "#XJ12H",
		PlacedAt:   ptime("2024-09-04T07:22:09Z"),
		UpdatedAt:  ptime("2024-09-04T07:26:24Z"),
		Currency:   "DKK",
		Customer:   order.Customer{Name: "Søren Kierkegaard", Email: "søren.kierkegaard@example.dk", Phone: "+45 12 34 56 78"},
		BillingAddress: &order.Address{Name: "Søren Kierkegaard", Line1: "Nytorv 2", Line2: "3. sal th.", City: "København K",
			PostalCode: "1450", Country: "DK", Phone: "+45 12 34 56 78"},
		ShippingAddress: &order.Address{Name: "Regine Olsen", Company: "Olsen & Co ApS", Line1: "Børsgade 4", City: "København",
			Region: "84", PostalCode: "1215", Country: "DK", Phone: "+45 87 65 43 21"},
		Lines: []order.LineInput{
			{SKU: "KRUS-BLÅ", Name: "Krus „Blå Bølge“", ExternalID: "1828115520", Quantity: 3, UnitPrice: "12.50", Discount: "3.75",
				TaxLines: []order.TaxInput{{Title: "Moms", Rate: "0.25", Amount: "6.75"}}},
			// The float 2.4600000000000004 is written as 2.46; coupon and
			// promotion add up to the line's discount.
			{SKU: "ecwid-product-692730799", Name: "Gavekort", ExternalID: "1828115521", Quantity: 1, UnitPrice: "14.00", Discount: "1.70",
				TaxLines: []order.TaxInput{{Title: "Moms", Rate: "0.25", Amount: "2.46"}}},
		},
		ShippingLines: []order.ShippingInput{{Title: "PostNord Pakke", Code: "1724160011-1599820000001", Price: "4.95",
			TaxLines: []order.TaxInput{{Title: "Moms", Rate: "0.25", Amount: "0.99"}}}},
		TaxesIncluded:    true,
		PaymentStatus:    "paid",
		Note:             "Ring på døren — tak!",
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

func TestParseOrderOldCancelled(t *testing.T) {
	in, err := ParseOrder(sample(t, "order_old_cancelled.json"), "USD")
	if err != nil {
		t.Fatal(err)
	}
	if in.ExternalID != "20" || in.Number != "#SHOP-20" || !in.Cancelled || in.CancelReason != "other" || in.PaymentStatus != "voided" {
		t.Errorf("order: %+v", in)
	}
	if !in.PlacedAt.Equal(*ptime("2014-09-20T19:59:43Z")) || !in.UpdatedAt.Equal(*ptime("2014-09-21T00:00:12Z")) {
		t.Errorf("times: %v %v", in.PlacedAt, in.UpdatedAt)
	}
	if d := cmp.Diff([]order.LineInput{{SKU: "00004", Name: "Cherry", ExternalID: "40989227", Quantity: 5, UnitPrice: "5.99",
		TaxLines: []order.TaxInput{{Title: "Tax X", Rate: "0.07", Amount: "1.79"}}}}, in.Lines); d != "" {
		t.Errorf("lines (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]order.ShippingInput{{Title: "2nd day delivery", Price: "10.00"}, {Title: "Wrapping", Code: "handling_fee", Price: "2.00"}}, in.ShippingLines); d != "" {
		t.Errorf("shipping (-want +got):\n%s", d)
	}
	if in.ShippingAddress != nil || in.BillingAddress == nil || in.BillingAddress.Region != "NY" {
		t.Errorf("addresses: %+v %+v", in.ShippingAddress, in.BillingAddress)
	}
	// Intake takes it: the order service's own check (amounts in the
	// currency, quantities, SKUs, totals).
	if err := order.Check(in); err != nil {
		t.Errorf("intake would refuse it: %v", err)
	}
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		payment, fulfillment string
		want                 string
		cancelled            bool
	}{
		{"PAID", "AWAITING_PROCESSING", "paid", false},
		{"PAID", "WILL_NOT_DELIVER", "paid", true},
		{"AWAITING_PAYMENT", "AWAITING_PROCESSING", "pending", false},
		{"PARTIALLY_REFUNDED", "SHIPPED", "partially_refunded", false},
		{"REFUNDED", "RETURNED", "refunded", true},
		{"CANCELLED", "AWAITING_PROCESSING", "voided", true},
		{"CUSTOM_PAYMENT_STATUS_1", "PROCESSING", "", false},
	} {
		if got, c := status(tc.payment, tc.fulfillment); got != tc.want || c != tc.cancelled {
			t.Errorf("status(%s, %s) = %q %v, want %q %v", tc.payment, tc.fulfillment, got, c, tc.want, tc.cancelled)
		}
	}
}

func TestParseOrderMalformed(t *testing.T) {
	for name, body := range map[string]string{
		"not json":       `{"id": `,
		"array":          `[]`,
		"no id":          `{"items": []}`,
		"bad timestamp":  `{"id": "A", "createTimestamp": "soon"}`,
		"bad date":       `{"id": "A", "createDate": "20/09/2014"}`,
		"bad price":      `{"id": "A", "items": [{"id": 1, "sku": "S", "quantity": 1, "price": "12,50"}]}`,
		"float quantity": `{"id": "A", "items": [{"id": 1, "sku": "S", "quantity": 1.5, "price": 1}]}`,
		"object id":      `{"id": {"x": 1}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseOrder([]byte(body), "USD"); !errs.Is(errs.Invalid, err) {
				t.Errorf("got %v, want an Invalid error", err)
			}
		})
	}
}

func TestVerifyWebhook(t *testing.T) {
	c := testClient("", "DKK")
	body := sample(t, "webhook_order_created.json")
	good := sign("1725434530", "80aece08-40e8-4145-8764-6c2f0d38678", clientSecret)
	for _, tc := range []struct {
		name string
		sig  string
		body []byte
		ok   bool
	}{
		{"good", good, body, true},
		{"wrong secret", sign("1725434530", "80aece08-40e8-4145-8764-6c2f0d38678", "secret_token"), body, false},
		{"tampered eventId", good, []byte(strings.Replace(string(body), "80aece08", "90aece08", 1)), false},
		{"tampered eventCreated", good, []byte(strings.Replace(string(body), "1725434530", "1725434531", 1)), false},
		{"missing", "", body, false},
		{"not base64", "?!", body, false},
		{"body not JSON", good, []byte("eventId=1"), false},
		{"no eventCreated", good, []byte(`{"eventId":"80aece08-40e8-4145-8764-6c2f0d38678"}`), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.VerifyWebhook(hookHeaders(tc.sig), tc.body)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, channels.ErrBadSignature)) {
				t.Errorf("VerifyWebhook = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// fakeEcwid serves the parts of Ecwid's REST API the client uses: get
// order, search orders (offset pages of two) and the store profile, with
// the bearer token checked and a queue of canned failures served first.
type fakeEcwid struct {
	mu       sync.Mutex
	orders   map[string][]byte
	list     [][]byte
	fail     []func(w http.ResponseWriter)
	requests []*http.Request
}

func (f *fakeEcwid) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
	if len(f.fail) > 0 {
		fail := f.fail[0]
		f.fail = f.fail[1:]
		fail(w)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	if r.Header.Get("Authorization") != "Bearer secret_token" {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"errorMessage":"Token is invalid or expired","errorCode":"INVALID_TOKEN"}`)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v3/1003")
	switch {
	case path == "/profile":
		fmt.Fprint(w, `{"formatsAndUnits":{"currency":"DKK"}}`)
	case strings.HasPrefix(path, "/orders/"):
		o, ok := f.orders[strings.TrimPrefix(path, "/orders/")]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errorMessage":"Order #X is not found","errorCode":"ORDER_NOT_FOUND"}`)
			return
		}
		w.Write(o)
	case path == "/orders":
		q := r.URL.Query()
		if _, err := strconv.ParseInt(q.Get("updatedFrom"), 10, 64); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		offset, _ := strconv.Atoi(q.Get("offset"))
		start := min(offset, len(f.list))
		end := min(start+2, len(f.list))
		var parts []string
		for _, o := range f.list[start:end] {
			parts = append(parts, string(o))
		}
		fmt.Fprintf(w, `{"total":%d,"count":%d,"offset":%d,"limit":%s,"items":[%s]}`, len(f.list), end-start, offset, q.Get("limit"), strings.Join(parts, ","))
	default:
		http.NotFound(w, r)
	}
}

func TestParseWebhookFetchesTheOrder(t *testing.T) {
	f := &fakeEcwid{orders: map[string][]byte{"XJ12H": sample(t, "order.json"), "20": sample(t, "order_old_cancelled.json")}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	ctx := context.Background()

	// No currency configured: it comes from the store profile, once.
	c := testClient(srv.URL, "")
	body := sample(t, "webhook_order_created.json")
	h := hookHeaders(sign("1725434530", "80aece08-40e8-4145-8764-6c2f0d38678", clientSecret))
	w, err := c.ParseWebhook(ctx, h, body)
	if err != nil {
		t.Fatal(err)
	}
	if w.ID != "80aece08-40e8-4145-8764-6c2f0d38678" || w.Topic != "order.created" || w.Ignored || len(w.Orders) != 1 ||
		w.Orders[0].ExternalID != "XJ12H" || w.Orders[0].Currency != "DKK" {
		t.Errorf("webhook: %+v", w)
	}
	if _, err := c.ParseWebhook(ctx, h, body); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, r := range f.requests {
		paths = append(paths, r.URL.Path)
		if r.Header.Get("User-Agent") != "Waybill" {
			t.Errorf("User-Agent %q", r.Header.Get("User-Agent"))
		}
	}
	if d := cmp.Diff([]string{"/api/v3/1003/profile", "/api/v3/1003/orders/XJ12H", "/api/v3/1003/orders/XJ12H"}, paths); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}

	// An old store's webhook names the order by its number in entityId.
	old := sample(t, "webhook_order_updated_old.json")
	w, err = c.ParseWebhook(ctx, hookHeaders(sign("1234567", "123456-1234-1234-1234-123412341234", clientSecret)), old)
	if err != nil || len(w.Orders) != 1 || w.Orders[0].ExternalID != "20" || !w.Orders[0].Cancelled {
		t.Errorf("old webhook: %+v, %v", w, err)
	}

	// Events that are not about orders, and deleted orders, fetch nothing.
	n := len(f.requests)
	for _, typ := range []string{"product.updated", "order.deleted", "unfinished_order.created", "application.installed"} {
		b := []byte(fmt.Sprintf(`{"eventId":"e-%s","eventCreated":1469429912,"storeId":1003,"entityId":66722483,"eventType":%q}`, typ, typ))
		w, err := c.ParseWebhook(ctx, hookHeaders(sign("1469429912", "e-"+typ, clientSecret)), b)
		if err != nil || !w.Ignored || len(w.Orders) != 0 || w.Topic != typ {
			t.Errorf("%s: %+v, %v", typ, w, err)
		}
	}
	if len(f.requests) != n {
		t.Errorf("ignored events made %d requests", len(f.requests)-n)
	}

	// Another store's webhook signed by the same app.
	other := []byte(`{"eventId":"x1","eventCreated":1,"storeId":2002,"entityId":5,"eventType":"order.created","data":{"orderId":"AAAAA"}}`)
	if _, err := c.ParseWebhook(ctx, hookHeaders(sign("1", "x1", clientSecret)), other); !errs.Is(errs.Invalid, err) {
		t.Errorf("another store: %v", err)
	}
	// An order Ecwid no longer has.
	gone := []byte(`{"eventId":"x2","eventCreated":2,"storeId":1003,"entityId":5,"eventType":"order.updated","data":{"orderId":"GONE1"}}`)
	if _, err := c.ParseWebhook(ctx, hookHeaders(sign("2", "x2", clientSecret)), gone); !errs.Is(errs.NotExist, err) {
		t.Errorf("missing order: %v", err)
	}
	// A bad signature fetches nothing.
	n = len(f.requests)
	if _, err := c.ParseWebhook(ctx, hookHeaders(sign("1725434530", "80aece08-40e8-4145-8764-6c2f0d38678", "wrong")), body); !errors.Is(err, channels.ErrBadSignature) || len(f.requests) != n {
		t.Errorf("bad signature: %v", err)
	}
}

func TestPollPages(t *testing.T) {
	base := string(sample(t, "order.json"))
	var list [][]byte
	for i, st := range []string{"PAID", "INCOMPLETE", "AWAITING_PAYMENT"} {
		o := strings.Replace(base, `"id": "XJ12H"`, fmt.Sprintf(`"id": "O%d"`, i), 1)
		list = append(list, []byte(strings.Replace(o, `"paymentStatus": "PAID"`, `"paymentStatus": "`+st+`"`, 1)))
	}
	f := &fakeEcwid{list: list}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := testClient(srv.URL, "DKK")
	since := time.Unix(1725000000, 0)

	p, err := c.Poll(context.Background(), since, "")
	if err != nil {
		t.Fatal(err)
	}
	// The unfinished order (INCOMPLETE) is skipped.
	if len(p.Orders) != 1 || p.Orders[0].ExternalID != "O0" || p.Next != "2" {
		t.Fatalf("page 1: %+v", p)
	}
	q := f.requests[0].URL.Query()
	if q.Get("updatedFrom") != "1725000000" || q.Get("limit") != "100" || q.Get("offset") != "0" {
		t.Errorf("query: %v", q)
	}
	p, err = c.Poll(context.Background(), since, p.Next)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Orders) != 1 || p.Orders[0].ExternalID != "O2" || p.Orders[0].PaymentStatus != "pending" || p.Next != "" {
		t.Errorf("page 2: %+v", p)
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
		f := &fakeEcwid{list: [][]byte{sample(t, "order.json")}, fail: []func(http.ResponseWriter){throttle("7"), throttle("7")}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		c := testClient(srv.URL, "DKK")
		var waited []time.Duration
		c.http.Sleep = func(ctx context.Context, d time.Duration) error { waited = append(waited, d); return nil }
		p, err := c.Poll(context.Background(), since, "")
		if err != nil || len(p.Orders) != 1 || len(waited) != 2 || waited[0] != 7*time.Second {
			t.Fatalf("Poll = %+v, %v; waited %v", p, err, waited)
		}
	})
	t.Run("429 until retries run out", func(t *testing.T) {
		f := &fakeEcwid{fail: []func(http.ResponseWriter){throttle("7"), throttle("7"), throttle("7"), throttle("7")}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		_, err := testClient(srv.URL, "DKK").Poll(context.Background(), since, "")
		var th channels.ErrThrottled
		if !errors.As(err, &th) || th.After != 7*time.Second || len(f.requests) != 4 {
			t.Fatalf("got %v after %d requests", err, len(f.requests))
		}
	})
	for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			f := &fakeEcwid{fail: []func(http.ResponseWriter){status(code, `{"errorMessage":"Token is invalid or expired"}`)}}
			srv := httptest.NewServer(f)
			defer srv.Close()
			_, err := testClient(srv.URL, "DKK").Poll(context.Background(), since, "")
			var auth channels.ErrAuth
			if !errors.As(err, &auth) || !strings.Contains(err.Error(), "Token is invalid") {
				t.Fatalf("got %v", err)
			}
		})
	}
	t.Run("wrong token", func(t *testing.T) {
		srv := httptest.NewServer(&fakeEcwid{})
		defer srv.Close()
		c := New(Config{StoreID: "1003", AccessToken: "secret_old", ClientSecret: clientSecret, BaseURL: srv.URL}, nil)
		var auth channels.ErrAuth
		if _, err := c.Poll(context.Background(), since, ""); !errors.As(err, &auth) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("500", func(t *testing.T) {
		f := &fakeEcwid{fail: []func(http.ResponseWriter){status(500, `{"errorMessage":"Cannot retrieve the order info because of an error on the server"}`)}}
		srv := httptest.NewServer(f)
		defer srv.Close()
		_, err := testClient(srv.URL, "DKK").Poll(context.Background(), since, "")
		var se *channels.StatusError
		if !errors.As(err, &se) || se.Code != 500 || !errs.Is(errs.Transient, err) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("context", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		defer srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := testClient(srv.URL, "DKK").Poll(ctx, since, ""); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("bad cursor", func(t *testing.T) {
		if _, err := testClient("http://127.0.0.1:1", "DKK").Poll(context.Background(), since, "x"); !errs.Is(errs.Invalid, err) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	good := Config{StoreID: "1003", AccessToken: "secret_x", ClientSecret: "cs"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mod   func(*Config)
		field string
	}{
		{func(c *Config) { c.StoreID = "" }, "store_id"},
		{func(c *Config) { c.StoreID = "store1003" }, "store_id"},
		{func(c *Config) { c.AccessToken = "" }, "access_token"},
		{func(c *Config) { c.ClientSecret = "" }, "client_secret"},
		{func(c *Config) { c.Currency = "EURO" }, "currency"},
		{func(c *Config) { c.BaseURL = "app.ecwid.com" }, "base_url"},
	} {
		c := good
		tc.mod(&c)
		fields := errs.Fields(c.Validate())
		if len(fields) != 1 || fields[0].Field != tc.field {
			t.Errorf("%+v: got %v, want a %s field error", c, fields, tc.field)
		}
	}
}

func TestKind(t *testing.T) {
	conn, err := Kind().New(map[string]any{"store_id": "1003", "access_token": "secret_x", "client_secret": "cs", "currency": "eur"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := conn.(*Client); c.api != "https://app.ecwid.com/api/v3/1003" || c.currency != "EUR" {
		t.Errorf("client: api %q currency %q", c.api, c.currency)
	}
	if _, err := Kind().New(map[string]any{"store_id": 1003}, nil); len(errs.Fields(err)) != 1 {
		t.Errorf("a number for store_id: %v", err)
	}
}

func FuzzParseOrder(f *testing.F) {
	for _, name := range []string{"order.json", "order_old_cancelled.json", "webhook_order_created.json"} {
		f.Add(sample(f, name), "DKK")
	}
	f.Add([]byte(`{"id":"A","items":[{"id":1,"quantity":2,"price":1e2,"couponAmount":1e3,"taxes":[{"value":1e-7,"total":0.0049}]}],"handlingFee":{"value":-1}}`), "JPY")
	f.Fuzz(func(t *testing.T, body []byte, currency string) {
		in, err := ParseOrder(body, currency)
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
