package amazon

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/spapi"
)

var since = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

func TestPollPagesThroughOrdersAndItems(t *testing.T) {
	f := newFakeAmazon(t)
	c, slept := f.client()
	ctx := context.Background()

	p1, err := c.Poll(ctx, since, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(p1.Orders); !slices.Equal(got, []string{"902-1845936-5435065", "028-1234567-7654321", "114-3941689-8772232"}) {
		t.Fatalf("page 1 orders = %v", got)
	}
	if p1.Next != "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4=" {
		t.Fatalf("page 1 Next = %q", p1.Next)
	}
	first := f.orderCalls[0].URL.Query()
	if got := first.Get("LastUpdatedAfter"); got != "2024-05-01T00:00:00Z" {
		t.Errorf("LastUpdatedAfter = %q", got)
	}
	if got := first.Get("MarketplaceIds"); got != "ATVPDKIKX0DER,A2EUQ1WTGCTBG2" {
		t.Errorf("MarketplaceIds = %q", got)
	}
	// The first order's items come in two pages; both were fetched.
	if got := p1.Orders[0].Lines; len(got) != 2 || got[1].SKU != "SPORK-TI" {
		t.Errorf("order 1 lines = %+v", got)
	}
	wantItemCalls := []string{"902-1845936-5435065?", "902-1845936-5435065?MRgZW55IGNhcm5hbCBwbGVhc3VyZS6=", "028-1234567-7654321?", "114-3941689-8772232?"}
	if !slices.Equal(f.itemCalls, wantItemCalls) {
		t.Errorf("getOrderItems calls = %v, want %v", f.itemCalls, wantItemCalls)
	}

	p2, err := c.Poll(ctx, since, p1.Next)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(p2.Orders); !slices.Equal(got, []string{"113-0000001-0000001"}) || p2.Next != "" {
		t.Fatalf("page 2 = %v next %q", got, p2.Next)
	}
	if q := f.orderCalls[1].URL.Query(); q.Get("NextToken") != p1.Next || q.Get("LastUpdatedAfter") != "" || q.Get("MarketplaceIds") == "" {
		t.Errorf("page 2 query = %v", q)
	}
	if !p2.Orders[0].Cancelled {
		t.Errorf("cancelled order not marked cancelled")
	}
	if f.tokensIssued != 1 {
		t.Errorf("LWA tokens issued = %d, want 1 (cached between calls)", f.tokensIssued)
	}
	for _, ua := range f.userAgents {
		if ua != UserAgent || !strings.Contains(ua, "(Language=Go)") {
			t.Errorf("User-Agent = %q", ua)
		}
	}
	if len(*slept) != 0 {
		t.Errorf("slept %v without being throttled", *slept)
	}
	for _, in := range append(p1.Orders, p2.Orders...) {
		if err := order.Check(in); err != nil {
			t.Errorf("order %s does not pass order.Check: %v", in.ExternalID, err)
		}
	}
}

func TestPollBacksOffOnQuotaExceeded(t *testing.T) {
	tests := []struct {
		name      string
		rateOn429 string
		first     time.Duration // the first wait
	}{
		// The model lists no x-amzn-RateLimit-Limit on 429s: the client
		// waits for one token at getOrders' documented 0.0167/s.
		{"no rate header", "", 59880 * time.Millisecond},
		// When Amazon does say, its rate wins: 0.0056/s is a token every ~178 s.
		{"rate header on the 429", "0.0056", 178571 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAmazon(t)
			f.throttleOrders = 2
			f.rateOn429 = tt.rateOn429
			c, slept := f.client()
			// The documented usage plans: a poll's few calls fit in the bursts.
			c.OrdersLimiter = rate.NewLimiter(getOrdersRate, getOrdersBurst)
			c.ItemsLimiter = rate.NewLimiter(getOrderItemsRate, getOrderItemsBurst)
			p, err := c.Poll(context.Background(), since, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Orders) != 3 {
				t.Fatalf("got %d orders after the retries", len(p.Orders))
			}
			if len(f.orderCalls) != 3 {
				t.Errorf("getOrders called %d times, want 3 (two 429s, then success)", len(f.orderCalls))
			}
			s := *slept
			// Doubled on the next retry, five minutes at most.
			if len(s) != 2 || s[0] < tt.first-time.Second || s[0] > tt.first+time.Second || s[1] != min(2*s[0], 5*time.Minute) {
				t.Errorf("backoff = %v, want ~[%v %v]", s, tt.first, min(2*tt.first, 5*time.Minute))
			}
		})
	}
}

func TestPollGivesUpThrottled(t *testing.T) {
	f := newFakeAmazon(t)
	f.throttleAll = true
	c, slept := f.client()
	_, err := c.Poll(context.Background(), since, "")
	var te channels.ErrThrottled
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want ErrThrottled", err)
	}
	if te.After <= 0 || !strings.Contains(te.Error(), "QuotaExceeded") {
		t.Errorf("ErrThrottled = %v", te)
	}
	if !errs.Is(errs.Transient, err) {
		t.Errorf("kind = %v, want transient", errs.KindOf(err))
	}
	if len(*slept) != c.MaxRetries || len(f.orderCalls) != c.MaxRetries+1 {
		t.Errorf("slept %d times over %d calls, want %d and %d", len(*slept), len(f.orderCalls), c.MaxRetries, c.MaxRetries+1)
	}
}

func TestPollBadAccessTokenIsErrAuth(t *testing.T) {
	f := newFakeAmazon(t)
	f.rejectTokens = true
	c, _ := f.client()
	_, err := c.Poll(context.Background(), since, "")
	var ae channels.ErrAuth
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	if !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("err = %v, want Amazon's error code in it", err)
	}
	// A 403 first makes the client fetch a fresh token once, then give up:
	// once for createRestrictedDataToken (whose refusal then counts as the
	// app lacking the roles) and once for getOrders.
	if f.tokensIssued != 3 {
		t.Errorf("tokens issued = %d, want 3", f.tokensIssued)
	}
	if len(f.orderCalls) != 0 {
		t.Errorf("getOrders answered %d times with a rejected token", len(f.orderCalls))
	}
}

func TestPollRevokedRefreshTokenIsErrAuth(t *testing.T) {
	f := newFakeAmazon(t)
	f.refreshToken = "Atzr|another"
	c, _ := f.client()
	_, err := c.Poll(context.Background(), since, "")
	var ae channels.ErrAuth
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("err = %v, want ErrAuth with invalid_grant", err)
	}
	if len(f.orderCalls) != 0 {
		t.Errorf("getOrders was called without a token")
	}
}

func TestPollServerErrorIsTransient(t *testing.T) {
	f := newFakeAmazon(t)
	f.fail500 = true
	c, slept := f.client()
	_, err := c.Poll(context.Background(), since, "")
	if err == nil || !errs.Is(errs.Transient, err) || !strings.Contains(err.Error(), "InternalFailure") {
		t.Fatalf("err = %v, want a transient error naming InternalFailure", err)
	}
	var te channels.ErrThrottled
	var ae channels.ErrAuth
	if errors.As(err, &te) || errors.As(err, &ae) {
		t.Errorf("a 500 is neither throttling nor bad credentials: %v", err)
	}
	if len(*slept) != 0 {
		t.Errorf("slept %v on a 500", *slept)
	}
}

func TestPollHonoursCancellation(t *testing.T) {
	f := newFakeAmazon(t)
	f.throttleAll = true
	c, _ := f.client()
	c.Sleep = spapi.Sleep // the real one: a 60 s backoff that cancellation must cut short
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Poll(ctx, since, "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Poll took %v after cancellation", d)
	}

	// A cancelled context stops the client before it calls anything.
	calls := len(f.orderCalls)
	if _, err := c.Poll(ctx, since, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v on a cancelled context", err)
	}
	if len(f.orderCalls) != calls {
		t.Errorf("a call went out on a cancelled context")
	}
}

func TestAccessTokenRenewedBeforeExpiry(t *testing.T) {
	f := newFakeAmazon(t)
	c, _ := f.client()
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	c.Now = func() time.Time { return now }
	ctx := context.Background()
	if _, err := c.AccessToken(ctx); err != nil {
		t.Fatal(err)
	}
	now = now.Add(58 * time.Minute)
	if _, err := c.AccessToken(ctx); err != nil || f.tokensIssued != 1 {
		t.Fatalf("after 58 min: tokens issued %d, err %v; want the cached one", f.tokensIssued, err)
	}
	now = now.Add(90 * time.Second) // 59.5 min: within a minute of expiry
	if _, err := c.AccessToken(ctx); err != nil || f.tokensIssued != 2 {
		t.Fatalf("near expiry: tokens issued %d, err %v; want a fresh one", f.tokensIssued, err)
	}
}

func TestRateHeaderRaisesLimiter(t *testing.T) {
	f := newFakeAmazon(t)
	f.rateHeader = "0.0222" // a better plan than the documented 0.0167
	c, _ := f.client()
	c.OrdersLimiter = rate.NewLimiter(getOrdersRate, getOrdersBurst)
	if _, err := c.Poll(context.Background(), since, ""); err != nil {
		t.Fatal(err)
	}
	if got := c.OrdersLimiter.Limit(); got != 0.0222 {
		t.Errorf("getOrders limit = %v, want the header's 0.0222", got)
	}
	// getOrderItems answered 0.5, which is the default: nothing to adopt,
	// and our test limiter (Inf) is never lowered.
	if got := c.ItemsLimiter.Limit(); got != rate.Inf {
		t.Errorf("items limit = %v", got)
	}
}

func TestDefaultPacingIsTheDocumentedUsagePlan(t *testing.T) {
	c := New(Config{Region: "eu"}, nil)
	if c.OrdersLimiter.Limit() != 0.0167 || c.OrdersLimiter.Burst() != 20 {
		t.Errorf("getOrders limiter %v/%d", c.OrdersLimiter.Limit(), c.OrdersLimiter.Burst())
	}
	if c.ItemsLimiter.Limit() != 0.5 || c.ItemsLimiter.Burst() != 30 {
		t.Errorf("getOrderItems limiter %v/%d", c.ItemsLimiter.Limit(), c.ItemsLimiter.Burst())
	}
	if c.TokensLimiter.Limit() != 1 || c.TokensLimiter.Burst() != 10 {
		t.Errorf("createRestrictedDataToken limiter %v/%d", c.TokensLimiter.Limit(), c.TokensLimiter.Burst())
	}
	if c.Endpoint() != "https://sellingpartnerapi-eu.amazon.com" || c.TokenURL() != "https://api.amazon.com/auth/o2/token" {
		t.Errorf("endpoint %q token URL %q", c.Endpoint(), c.TokenURL())
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{Region: "na", MarketplaceIDs: []string{"ATVPDKIKX0DER"}, ClientID: "id", ClientSecret: "s", RefreshToken: "r"}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	bad := Config{Region: "asia", MarketplaceIDs: []string{"ATVPDKIKX0DER", "x"}, Endpoint: "ftp://x"}
	err := bad.Validate()
	if !errs.Is(errs.Invalid, err) {
		t.Fatalf("err = %v, want invalid", err)
	}
	var fields []string
	for _, f := range errs.Fields(err) {
		fields = append(fields, f.Field)
	}
	want := []string{"region", "marketplace_ids[1]", "client_id", "client_secret", "refresh_token", "endpoint"}
	if !slices.Equal(fields, want) {
		t.Errorf("fields = %v, want %v", fields, want)
	}
	wrongRegion := good
	wrongRegion.MarketplaceIDs = []string{"A1PA6795UKMFR9"}
	if err := wrongRegion.Validate(); err == nil || errs.Fields(err)[0].Field != "marketplace_ids[0]" {
		t.Errorf("a German marketplace in region na: %v", err)
	}
}

func ids(ins []order.Input) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.ExternalID)
	}
	return out
}

func TestKindKeepsOneClientPerConnection(t *testing.T) {
	k := Kind()
	if k.Name != "amazon" || k.Webhooks || !slices.Contains(k.Secrets, "refresh_token") || !slices.Contains(k.Secrets, "client_secret") {
		t.Errorf("kind = %+v", k)
	}
	settings := map[string]any{"region": "na", "marketplace_ids": []any{"ATVPDKIKX0DER"}, "client_id": "id", "client_secret": "s", "refresh_token": "r"}
	a, err := k.New(settings, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := k.New(settings, nil)
	if a != b {
		t.Error("the same settings built a second client: its pacing and token would be lost")
	}
	settings["refresh_token"] = "r2"
	if c, _ := k.New(settings, nil); c == a {
		t.Error("new credentials reused the old client")
	}
	if _, err := k.New(map[string]any{"region": "na", "marketplace_ids": "ATVPDKIKX0DER"}, nil); !errs.Is(errs.Invalid, err) {
		t.Errorf("bad settings: %v", err)
	}
	if _, err := k.New(map[string]any{"region": "moon"}, nil); len(errs.Fields(err)) == 0 {
		t.Errorf("invalid settings: %v", err)
	}
}
