package web_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/id"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
	"github.com/waybill/waybill/internal/web"
)

const (
	testPassword = "correct horse battery"
	pageSize     = 50 // the product list's page size
)

var testHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword(testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

// fixture is a dashboard on a real database with two tenants: Alpha (an
// owner, a warehouse worker and a viewer) and Beta (an owner).
type fixture struct {
	t       *testing.T
	srv     *httptest.Server
	auth    *auth.Service
	catalog *catalog.Service
	inv     *inventory.Service
	alpha   auth.Tenant
	beta    auth.Tenant
	users   map[string]auth.User // by e-mail
	db      *store.DB
	logs    *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newFixture(t *testing.T, e testenv.Engine) *fixture {
	t.Helper()
	db := e.Open(t)
	f := &fixture{t: t, auth: auth.NewService(store.NewAuth(db)), catalog: catalog.NewService(store.NewCatalog(db)),
		inv: inventory.NewService(store.NewInventory(db)), users: map[string]auth.User{}, logs: &syncBuffer{}, db: db}
	h := web.New(web.Deps{Config: config.Defaults(), Log: slog.New(slog.NewTextHandler(f.logs, nil)),
		Auth: f.auth, Catalog: f.catalog, Inventory: f.inv, Sessions: store.NewSessions(db)})
	f.srv = httptest.NewServer(withRequestID(h))
	t.Cleanup(f.srv.Close)

	ctx := t.Context()
	var err error
	if f.alpha, err = f.auth.CreateTenant(ctx, "Alpha Goods", "Europe/Lisbon", "EUR"); err != nil {
		t.Fatal(err)
	}
	if f.beta, err = f.auth.CreateTenant(ctx, "Beta Supply", "UTC", "USD"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		tenant string
		email  string
		role   auth.Role
	}{{f.alpha.ID, "owner@alpha.example", auth.Owner}, {f.alpha.ID, "viewer@alpha.example", auth.Viewer},
		{f.alpha.ID, "warehouse@alpha.example", auth.Warehouse}, {f.beta.ID, "owner@beta.example", auth.Owner}} {
		// Straight to the store with a hash made once: argon2 is the slow
		// part of these tests.
		made := auth.User{ID: id.New("usr"), TenantID: u.tenant, Email: u.email, Name: "Test", Role: u.role, CreatedAt: time.Now().UTC()}
		if err := store.NewAuth(db).CreateUser(ctx, made, testHash()); err != nil {
			t.Fatal(err)
		}
		f.users[u.email] = made
	}
	return f
}

// withRequestID stands in for the API's middleware, which app wraps around
// the dashboard.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", id.New("req"))
		next.ServeHTTP(w, r)
	})
}

// client is a browser without JavaScript: it keeps cookies and does not
// follow redirects, so tests see them.
type client struct {
	t    *testing.T
	hc   *http.Client
	base string
}

func (f *fixture) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: f.t, base: f.srv.URL, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return res, string(body)
}

// get fetches path; headers come as name, value pairs.
func (c *client) get(path string, headers ...string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

func (c *client) post(path string, form url.Values, headers ...string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

func (f *fixture) signIn(email string, password ...string) *client {
	f.t.Helper()
	c := f.client()
	pw := testPassword
	if len(password) > 0 {
		pw = password[0]
	}
	res, body := c.post("/login", url.Values{"email": {email}, "password": {pw}})
	if res.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("sign in %s: status %d\n%s", email, res.StatusCode, body)
	}
	return c
}

func wantStatus(t *testing.T, res *http.Response, body string, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", res.Request.Method, res.Request.URL.Path, res.StatusCode, want, body)
	}
}

func wantRedirect(t *testing.T, res *http.Response, want string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
		t.Fatalf("%s %s: status %d to %q, want 303 to %q", res.Request.Method, res.Request.URL.Path, res.StatusCode, res.Header.Get("Location"), want)
	}
}

func wantContains(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("page does not contain %q", s)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", body)
	}
}

func wantNotContains(t *testing.T, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(body, s) {
			t.Errorf("page contains %q", s)
		}
	}
}

func sessionCookie(t *testing.T, res *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == "waybill_session" {
			return c
		}
	}
	t.Fatalf("no waybill_session cookie in %v", res.Header["Set-Cookie"])
	return nil
}

func (f *fixture) product(tenant auth.Tenant, d catalog.Draft) catalog.Product {
	f.t.Helper()
	p, err := f.catalog.Create(f.t.Context(), tenant.ID, tenant.Currency, d)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func TestLogin(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		c := f.client()

		res, body := c.get("/login")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `name="email"`, `name="password"`)

		const failed = "Wrong e-mail or password."
		for _, tc := range []struct{ name, email, password string }{
			{"wrong password", "owner@alpha.example", "not the password"},
			{"unknown e-mail", "nobody@alpha.example", testPassword},
			{"empty", "", ""},
		} {
			res, body := c.post("/login", url.Values{"email": {tc.email}, "password": {tc.password}})
			wantStatus(t, res, body, http.StatusUnauthorized)
			wantContains(t, body, failed)
			if tc.email != "" {
				wantContains(t, body, `value="`+tc.email+`"`)
			}
			for _, ck := range res.Cookies() {
				if ck.Name == "waybill_session" && ck.MaxAge >= 0 {
					t.Errorf("%s: a failed sign-in set a session cookie", tc.name)
				}
			}
		}

		res, _ = c.post("/login", url.Values{"email": {"Owner@Alpha.example "}, "password": {testPassword}, "next": {"/products?q=tent"}})
		wantRedirect(t, res, "/products?q=tent")
		ck := sessionCookie(t, res)
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure {
			t.Errorf("cookie = %+v, want HttpOnly, SameSite=Lax, not Secure (plain HTTP)", ck)
		}
		res, body = c.get("/products")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "Alpha Goods", "owner@alpha.example", "Sign out")

		// The database keeps only a hash of the token.
		var raw, all int
		if err := f.db.R.QueryRow(`SELECT COUNT(*) FROM sessions WHERE token = $1`, ck.Value).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if err := f.db.R.QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&all); err != nil {
			t.Fatal(err)
		}
		if raw != 0 || all == 0 {
			t.Errorf("sessions: %d rows hold the cookie's token as is, %d rows in all", raw, all)
		}

		// Signing in again, as someone who may have had a planted token,
		// gives a new token.
		res, _ = c.post("/login", url.Values{"email": {"owner@alpha.example"}, "password": {testPassword}})
		if again := sessionCookie(t, res); again.Value == ck.Value {
			t.Error("the session token was not renewed on sign-in")
		}

		res, _ = c.post("/logout", nil)
		wantRedirect(t, res, "/login")
		res, _ = c.get("/products")
		wantRedirect(t, res, "/login?next=%2Fproducts")
	})
}

func TestSignedOut(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		c := f.client()
		for path, want := range map[string]string{
			"/":                  "/login",
			"/products":          "/login?next=%2Fproducts",
			"/products?q=a&b=1":  "/login?next=%2Fproducts%3Fq%3Da%26b%3D1",
			"/settings/api-keys": "/login?next=%2Fsettings%2Fapi-keys",
			"/no-such-page":      "/login?next=%2Fno-such-page",
		} {
			res, _ := c.get(path)
			wantRedirect(t, res, want)
		}
		res, _ := c.post("/products", url.Values{"sku": {"X"}, "name": {"X"}})
		wantRedirect(t, res, "/login")

		// htmx requests are told to move the whole page.
		res, _ = c.get("/products?q=a", "HX-Request", "true")
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("HX-Redirect") != "/login?next=%2Fproducts%3Fq%3Da" {
			t.Errorf("htmx signed out: %d HX-Redirect=%q", res.StatusCode, res.Header.Get("HX-Redirect"))
		}

		// next must stay on this site.
		for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/login?next=/x"} {
			res, _ := f.client().post("/login", url.Values{"email": {"owner@alpha.example"}, "password": {testPassword}, "next": {next}})
			wantRedirect(t, res, "/products")
		}
	})
}

func TestDisabledUserIsSignedOut(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		c := f.signIn("viewer@alpha.example")
		res, body := c.get("/products")
		wantStatus(t, res, body, http.StatusOK)

		yes := true
		if _, err := f.auth.UpdateUser(t.Context(), f.alpha.ID, f.users["viewer@alpha.example"].ID, nil, nil, &yes); err != nil {
			t.Fatal(err)
		}
		res, _ = c.get("/products")
		wantRedirect(t, res, "/login?next=%2Fproducts")
		res, body = c.post("/login", url.Values{"email": {"viewer@alpha.example"}, "password": {testPassword}})
		wantStatus(t, res, body, http.StatusUnauthorized)
		wantContains(t, body, "Wrong e-mail or password.")
	})
}

func TestLayout(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		c := f.signIn("owner@alpha.example")
		res, _ := c.get("/")
		wantRedirect(t, res, "/products")
		res, body := c.get("/products")
		wantStatus(t, res, body, http.StatusOK)
		for _, area := range []string{"Warehouse", "Shipping", "Returns"} {
			wantContains(t, body, `<span class="nav-item is-disabled" aria-disabled="true" title="Coming with a later release">`+area)
		}
		wantContains(t, body, `<a class="nav-item is-active" href="/products" aria-current="page">Products</a>`,
			`<a class="nav-item" href="/inventory">Inventory</a>`, `<a class="nav-item" href="/settings">Settings</a>`,
			`<a class="nav-item" href="/fulfillment">Fulfilment</a>`, `<a class="nav-item" href="/insights/costs">Insights</a>`)
		if got := res.Header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") {
			t.Errorf("CSP = %q", got)
		}
		if got := res.Header.Get("Cache-Control"); !strings.Contains(got, "no-store") {
			t.Errorf("Cache-Control = %q", got)
		}

		res, body = c.get("/no-such-page")
		wantStatus(t, res, body, http.StatusNotFound)
		wantContains(t, body, "Not found", res.Header.Get("X-Request-Id"))
	})
}

func TestStaticAssets(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		c := f.client()
		_, page := c.get("/login")
		m := regexp.MustCompile(`href="(/static/app\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no hashed stylesheet link in\n%s", page)
		}
		res, body := c.get(m[1], "Accept-Encoding", "gzip, deflate")
		if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			res.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
			t.Fatalf("GET %s: %d %v", m[1], res.StatusCode, res.Header)
		}
		if res.Header.Get("Set-Cookie") != "" {
			t.Error("a static file set a cookie")
		}
		_ = body

		// An old or missing hash is revalidated, not kept for a year.
		res, body = c.get("/static/app.css?v=0ld")
		if res.Header.Get("Cache-Control") != "no-cache" || !strings.Contains(body, "--accent") {
			t.Errorf("stale hash: %v", res.Header)
		}
		res, _ = c.get("/static/app.css", "If-None-Match", res.Header.Get("ETag"))
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %d", res.StatusCode)
		}
		for _, asset := range []string{"/static/vendor/htmx.min.js", "/static/app.js", "/static/favicon.svg"} {
			if !strings.Contains(page, asset+"?v=") {
				t.Errorf("the layout does not link %s with a hash", asset)
			}
		}
		res, _ = c.get("/static/nope.js")
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("missing asset: %d", res.StatusCode)
		}
	})
}

func TestProductCreate(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		c := f.signIn("owner@alpha.example")

		res, body := c.get("/products/new")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, `name="currency" value="EUR"`)

		bad := url.Values{
			"sku": {""}, "name": {"Trail mug"}, "price": {"12.345"}, "weight_g": {"heavy"},
			"barcodes": {"4006381333931, 4006381333932"}, "tags": {"camp, gift"}, "kit_components": {"MUG x two"}, "description": {"Keeps <coffee> hot"},
		}
		res, body = c.post("/products", bad)
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body,
			`<label class="field has-error"><span>SKU</span>`, "is required",
			"EUR allows at most 2 decimal places",
			"must be a whole number",
			"Barcode 2: &#34;4006381333932&#34;: invalid GTIN-13 check digit",
			"Line 1: write each component on its own line as SKU x QUANTITY",
			// what was typed comes back
			`value="Trail mug"`, `value="12.345"`, `value="heavy"`, "4006381333931, 4006381333932", "camp, gift", "MUG x two",
			"Keeps &lt;coffee&gt; hot")
		wantNotContains(t, body, "Line 1: quantity")
		if ps, _, _ := f.catalog.List(t.Context(), f.alpha.ID, catalog.Filter{Status: catalog.AnyState}); len(ps) != 0 {
			t.Fatalf("an invalid form stored %d products", len(ps))
		}

		// Catalog's own rules reach the form too (here: a kit component that
		// does not exist).
		res, body = c.post("/products", url.Values{"sku": {"KIT-1"}, "name": {"Kit"}, "kit_components": {"NOPE x 2"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Line 1: SKU “NOPE” no product has this SKU")

		good := url.Values{
			"sku": {"MUG-ENM-WHT"}, "name": {"Enamel mug, white"}, "vendor": {"Emberline"}, "price": {"16.00"}, "cost": {"4.10"},
			"currency": {"eur"}, "weight_g": {"210"}, "barcodes": {"4006381333931\n"}, "tags": {"gift\ncooking"}, "allow_backorder": {"1"},
		}
		res, body = c.post("/products", good)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: %d\n%s", res.StatusCode, body)
		}
		p, err := f.catalog.BySKU(t.Context(), f.alpha.ID, "MUG-ENM-WHT")
		if err != nil {
			t.Fatal(err)
		}
		wantRedirect(t, res, "/products/"+p.ID)
		if p.Price == nil || *p.Price != 1600 || p.Currency != "EUR" || p.WeightG != 210 || len(p.Barcodes) != 1 ||
			strings.Join(p.Tags, ",") != "cooking,gift" || !p.AllowBackorder {
			t.Errorf("stored %+v", p)
		}
		res, body = c.get("/products/" + p.ID)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "Product MUG-ENM-WHT created.", `value="Enamel mug, white"`, `value="16.00"`)

		// A second product with the same SKU is refused at the SKU field.
		res, body = c.post("/products", good)
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "a product with this SKU exists already")

		// A kit of it, then an edit and archive.
		res, _ = c.post("/products", url.Values{"sku": {"KIT-MUGS"}, "name": {"Two mugs"}, "kit_components": {"MUG-ENM-WHT x 2"}})
		kit, err := f.catalog.BySKU(t.Context(), f.alpha.ID, "KIT-MUGS")
		if err != nil || len(kit.Components) != 1 || kit.Components[0].Quantity != 2 {
			t.Fatalf("kit: %v %+v", err, kit)
		}
		wantRedirect(t, res, "/products/"+kit.ID)
		edit := url.Values{}
		for k, v := range good {
			edit[k] = v
		}
		edit.Set("price", "18.50")
		edit.Set("tags", "")
		res, _ = c.post("/products/"+p.ID, edit)
		wantRedirect(t, res, "/products/"+p.ID)
		if p, _ = f.catalog.Get(t.Context(), f.alpha.ID, p.ID); *p.Price != 1850 || len(p.Tags) != 0 {
			t.Errorf("after edit: %+v", p)
		}
		res, _ = c.post("/products/"+p.ID+"/archive", nil)
		wantRedirect(t, res, "/products/"+p.ID)
		if p, _ = f.catalog.Get(t.Context(), f.alpha.ID, p.ID); p.ArchivedAt == nil {
			t.Error("not archived")
		}
		res, body = c.get("/products/" + p.ID)
		wantContains(t, body, "MUG-ENM-WHT archived", "Unarchive")
		res, _ = c.post("/products/"+p.ID+"/unarchive", nil)
		wantRedirect(t, res, "/products/"+p.ID)
	})
}

func TestProductList(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		f.product(f.alpha, catalog.Draft{SKU: "TENT-2P", Name: "Ridgeline tent", Vendor: "Ridgeline", Price: "289.00", WeightG: 2350,
			Tags: []string{"camping"}, Barcodes: []string{"4006381333931"}})
		f.product(f.alpha, catalog.Draft{SKU: "MUG-1", Name: "Enamel mug", Vendor: "Emberline", Price: "16.00", Tags: []string{"gift"}})
		f.product(f.alpha, catalog.Draft{SKU: "KIT-CAMP", Name: "Camp kit", Components: []catalog.DraftComponent{{SKU: "TENT-2P", Quantity: 1}, {SKU: "MUG-1", Quantity: 2}}})
		old := f.product(f.alpha, catalog.Draft{SKU: "OLD-1", Name: "Old mug"})
		if _, err := f.catalog.Archive(t.Context(), f.alpha.ID, old.ID); err != nil {
			t.Fatal(err)
		}
		f.product(f.beta, catalog.Draft{SKU: "BETA-TENT", Name: "Beta's tent"})

		c := f.signIn("owner@alpha.example")
		res, body := c.get("/products")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "TENT-2P", "MUG-1", "KIT-CAMP", "EUR 289.00", "2.35 kg", "4006381333931", `<span class="tag">camping</span>`, "New product")
		wantNotContains(t, body, "OLD-1", "BETA-TENT")

		for _, tc := range []struct {
			query    string
			want     []string
			wantNone []string
		}{
			{"q=tent", []string{"TENT-2P"}, []string{"MUG-1", "BETA-TENT"}},
			{"q=EMBER", []string{"MUG-1"}, []string{"TENT-2P"}},
			{"tag=gift", []string{"MUG-1"}, []string{"TENT-2P"}},
			{"kind=kit", []string{"KIT-CAMP"}, []string{"MUG-1"}},
			{"kind=product", []string{"MUG-1", "TENT-2P"}, []string{"KIT-CAMP"}},
			{"status=archived", []string{"OLD-1"}, []string{"MUG-1"}},
			{"status=any&q=mug", []string{"OLD-1", "MUG-1"}, []string{"TENT-2P"}},
			{"barcode=4006381333931", []string{"TENT-2P"}, []string{"MUG-1"}},
			{"q=4006381333931", []string{"TENT-2P", "showing the product with that barcode"}, []string{"MUG-1"}},
			{"q=nothing-like-this", []string{"No products match."}, []string{"TENT-2P"}},
		} {
			res, body := c.get("/products?" + tc.query)
			wantStatus(t, res, body, http.StatusOK)
			for _, s := range tc.want {
				if !strings.Contains(body, s) {
					t.Errorf("%s: missing %q", tc.query, s)
				}
			}
			for _, s := range tc.wantNone {
				if strings.Contains(body, ">"+s+"<") {
					t.Errorf("%s: should not list %q", tc.query, s)
				}
			}
		}

		// htmx gets the results alone; a history restore the whole page.
		res, body = c.get("/products?q=tent", "HX-Request", "true")
		wantStatus(t, res, body, http.StatusOK)
		if !strings.HasPrefix(strings.TrimSpace(body), `<div id="product-results"`) || strings.Contains(body, "<html") {
			t.Errorf("htmx response is not the results fragment:\n%s", body)
		}
		_, body = c.get("/products?q=tent", "HX-Request", "true", "HX-History-Restore-Request", "true")
		wantContains(t, body, "<html")
	})
}

func TestProductPagination(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		for i := range pageSize + 3 {
			f.product(f.alpha, catalog.Draft{SKU: "SKU-" + strconv.Itoa(1000+i), Name: "Thing " + strconv.Itoa(i), Tags: []string{"bulk"}})
		}
		c := f.signIn("viewer@alpha.example")
		_, body := c.get("/products?tag=bulk")
		wantContains(t, body, "SKU-1000", "SKU-1049", "Next page")
		wantNotContains(t, body, "SKU-1050", "First page")
		i := strings.Index(body, `rel="next"`)
		start := strings.LastIndex(body[:i], `href="`) + len(`href="`)
		next := strings.ReplaceAll(body[start:strings.Index(body[start:], `"`)+start], "&amp;", "&")
		if !strings.Contains(next, "tag=bulk") || !strings.Contains(next, "after=prod_") {
			t.Fatalf("next link %q does not keep the filter", next)
		}
		_, body = c.get(next)
		wantContains(t, body, "SKU-1050", "SKU-1052", "First page", `href="/products?tag=bulk"`)
		wantNotContains(t, body, "SKU-1049", `rel="next"`)
	})
}

func TestViewerCannotWrite(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		p := f.product(f.alpha, catalog.Draft{SKU: "MUG-1", Name: "Enamel mug"})
		c := f.signIn("viewer@alpha.example")

		res, body := c.get("/products")
		wantStatus(t, res, body, http.StatusOK)
		wantNotContains(t, body, "New product")
		res, body = c.get("/products/" + p.ID)
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "<fieldset class=\"plain\" disabled>")
		wantNotContains(t, body, "Save changes", "Archive")

		res, body = c.get("/products/new")
		wantStatus(t, res, body, http.StatusForbidden)
		for _, path := range []string{"/products", "/products/" + p.ID, "/products/" + p.ID + "/archive", "/settings/api-keys", "/settings/users"} {
			res, body := c.post(path, url.Values{"sku": {"NEW-1"}, "name": {"New"}, "email": {"x@y.example"}})
			wantStatus(t, res, body, http.StatusForbidden)
			wantContains(t, body, "Your role does not allow this")
		}
		if _, err := f.catalog.BySKU(t.Context(), f.alpha.ID, "NEW-1"); err == nil {
			t.Error("a viewer created a product")
		}
		res, body = c.get("/settings/api-keys")
		wantStatus(t, res, body, http.StatusForbidden)
		res, body = c.get("/settings/users")
		wantStatus(t, res, body, http.StatusOK)
		wantNotContains(t, body, "Add a person", "Disable")
	})
}

func TestCrossOriginPostRefused(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		c := f.signIn("owner@alpha.example")
		form := url.Values{"sku": {"CSRF-1"}, "name": {"Forged"}}

		res, body := c.post("/products", form, "Sec-Fetch-Site", "cross-site")
		wantStatus(t, res, body, http.StatusForbidden)
		wantContains(t, body, "sent from another site")
		res, body = c.post("/products", form, "Origin", "https://evil.example")
		wantStatus(t, res, body, http.StatusForbidden)
		res, body = f.client().post("/login", url.Values{"email": {"owner@alpha.example"}, "password": {testPassword}}, "Sec-Fetch-Site", "cross-site")
		wantStatus(t, res, body, http.StatusForbidden)
		if _, err := f.catalog.BySKU(t.Context(), f.alpha.ID, "CSRF-1"); err == nil {
			t.Fatal("a cross-site POST created a product")
		}

		// The same form from our own pages goes through.
		res, _ = c.post("/products", form, "Sec-Fetch-Site", "same-origin", "Origin", f.srv.URL)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("same-origin POST: %d", res.StatusCode)
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		theirs := f.product(f.beta, catalog.Draft{SKU: "BETA-1", Name: "Beta's product"})
		c := f.signIn("owner@alpha.example")

		res, body := c.get("/products/" + theirs.ID)
		wantStatus(t, res, body, http.StatusNotFound)
		wantNotContains(t, body, "BETA-1", "Beta")
		wantContains(t, body, res.Header.Get("X-Request-Id"))
		for _, path := range []string{"/products/" + theirs.ID, "/products/" + theirs.ID + "/archive"} {
			res, body := c.post(path, url.Values{"sku": {"STOLEN"}, "name": {"Stolen"}})
			wantStatus(t, res, body, http.StatusNotFound)
		}
		if p, _ := f.catalog.Get(t.Context(), f.beta.ID, theirs.ID); p.SKU != "BETA-1" || p.ArchivedAt != nil {
			t.Errorf("tenant B's product changed: %+v", p)
		}
		res, body = c.post("/settings/users/"+f.users["owner@beta.example"].ID, url.Values{"action": {"disable"}})
		wantStatus(t, res, body, http.StatusNotFound)
	})
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		c := f.signIn("owner@alpha.example")

		res, body := c.get("/settings/api-keys")
		wantStatus(t, res, body, http.StatusOK)
		if n := strings.Count(body, `name="scope"`); n != 2*len(auth.Areas) || strings.Count(body, " checked") != n {
			t.Errorf("want %d scope checkboxes, all ticked", 2*len(auth.Areas))
		}

		res, body = c.post("/settings/api-keys", url.Values{"name": {"No scopes"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "Choose at least one area", `value="No scopes"`)

		res, body = c.post("/settings/api-keys", url.Values{"name": {"Shop sync"}, "scope": {"catalog:write", "orders:read"}})
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "Copy this key now", "shown only once", `data-copy="new-secret"`)
		i := strings.Index(body, `value="wb_`)
		if i < 0 {
			t.Fatal("no secret on the page")
		}
		secret := body[i+len(`value="`):]
		secret = secret[:strings.IndexByte(secret, '"')]
		p, err := f.auth.Authenticate(t.Context(), secret)
		if err != nil || p.TenantID != f.alpha.ID || !p.Can("catalog:write") || p.Can("orders:write") {
			t.Fatalf("the shown secret does not authenticate as a catalog key of Alpha: %v %+v", err, p)
		}

		res, body = c.get("/settings/api-keys")
		wantNotContains(t, body, secret, "Copy this key now")
		wantContains(t, body, "Shop sync", secret[:10]+"…", "catalog (write), orders (read)", "Revoke")

		keys, _ := f.auth.ListAPIKeys(t.Context(), f.alpha.ID)
		res, _ = c.post("/settings/api-keys/"+keys[0].ID+"/revoke", nil)
		wantRedirect(t, res, "/settings/api-keys")
		if _, err := f.auth.Authenticate(t.Context(), secret); err == nil {
			t.Error("a revoked key still works")
		}
		_, body = c.get("/settings/api-keys")
		wantContains(t, body, "revoked.", "Revoked ")

		// Another tenant's key cannot be revoked from here.
		_, theirs, _ := f.auth.CreateAPIKey(t.Context(), f.beta.ID, "beta", nil)
		bk, _ := f.auth.ListAPIKeys(t.Context(), f.beta.ID)
		res, body = c.post("/settings/api-keys/"+bk[0].ID+"/revoke", nil)
		wantStatus(t, res, body, http.StatusNotFound)
		if _, err := f.auth.Authenticate(t.Context(), theirs); err != nil {
			t.Error("tenant B's key was revoked by tenant A")
		}
	})
}

func TestUsers(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		c := f.signIn("owner@alpha.example")

		res, body := c.get("/settings/users")
		wantStatus(t, res, body, http.StatusOK)
		wantContains(t, body, "owner@alpha.example", "viewer@alpha.example", "Add a person")
		wantNotContains(t, body, "owner@beta.example")

		res, body = c.post("/settings/users", url.Values{"email": {"not-an-email"}, "name": {"Pat"}, "role": {"warehouse"}, "password": {"short"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		wantContains(t, body, "must be an e-mail address", "must be at least 10 characters", `value="Pat"`)

		res, _ = c.post("/settings/users", url.Values{"email": {"pat@alpha.example"}, "name": {"Pat"}, "role": {"warehouse"}, "password": {"pat's long password"}})
		wantRedirect(t, res, "/settings/users")
		pat := f.signIn("pat@alpha.example", "pat's long password")
		users, _ := f.auth.ListUsers(t.Context(), f.alpha.ID)
		var patID string
		for _, u := range users {
			if u.Email == "pat@alpha.example" {
				patID = u.ID
			}
		}

		res, _ = c.post("/settings/users/"+patID, url.Values{"action": {"role"}, "role": {"viewer"}})
		wantRedirect(t, res, "/settings/users")
		if u, _ := f.auth.User(t.Context(), f.alpha.ID, patID); u.Role != auth.Viewer {
			t.Errorf("role = %s", u.Role)
		}
		res, _ = c.post("/settings/users/"+patID, url.Values{"action": {"disable"}})
		wantRedirect(t, res, "/settings/users")
		res, _ = pat.get("/products")
		wantRedirect(t, res, "/login?next=%2Fproducts")

		// Nobody locks themselves or the tenant out.
		me := f.users["owner@alpha.example"].ID
		res, body = c.post("/settings/users/"+me, url.Values{"action": {"disable"}})
		wantStatus(t, res, body, http.StatusConflict)
		wantContains(t, body, "You cannot disable your own account")
		res, body = c.post("/settings/users/"+me, url.Values{"action": {"role"}, "role": {"viewer"}})
		wantStatus(t, res, body, http.StatusConflict)
		wantContains(t, body, "at least one active owner")
	})
}

func TestTimesInTenantZone(t *testing.T) {
	t.Parallel()
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		f := newFixture(t, e)
		p := f.product(f.alpha, catalog.Draft{SKU: "MUG-1", Name: "Enamel mug"})
		c := f.signIn("owner@alpha.example")
		_, body := c.get("/products/" + p.ID)
		loc, _ := time.LoadLocation("Europe/Lisbon")
		wantContains(t, body, "Created "+p.CreatedAt.In(loc).Format("2 Jan 2006 15:04 MST"))
	})
}
