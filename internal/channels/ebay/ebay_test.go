package ebay

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/order"
)

var since = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

func TestPollPagesByOffset(t *testing.T) {
	f := newFakeEbay(t)
	c, slept := f.client()
	ctx := context.Background()

	p1, err := c.Poll(ctx, since, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(p1.Orders); !slices.Equal(got, []string{"12-11223-33445", "05-10293-84756"}) || p1.Next != "2" {
		t.Fatalf("page 1 = %v next %q", got, p1.Next)
	}
	r := f.orderCalls[0]
	// The filter goes out as eBay documents it, brackets percent-encoded.
	if want := "filter=lastmodifieddate:%5B2024-05-01T00:00:00.000Z..%5D&limit=200&offset=0"; r.URL.RawQuery != want {
		t.Errorf("query = %s, want %s", r.URL.RawQuery, want)
	}
	if r.Header.Get("User-Agent") != UserAgent || r.Header.Get("Accept") != "application/json" {
		t.Errorf("headers = %v", r.Header)
	}

	p2, err := c.Poll(ctx, since, p1.Next)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(p2.Orders); !slices.Equal(got, []string{"09-98765-43210"}) || p2.Next != "" {
		t.Fatalf("page 2 = %v next %q", got, p2.Next)
	}
	if got := f.orderCalls[1].URL.Query().Get("offset"); got != "2" {
		t.Errorf("page 2 offset = %s", got)
	}
	if f.tokensIssued != 1 || f.scopes[0] != DefaultScope {
		t.Errorf("tokens issued %d with scopes %q; want one, with %s", f.tokensIssued, f.scopes, DefaultScope)
	}
	if len(*slept) != 0 {
		t.Errorf("slept %v", *slept)
	}
	for _, in := range append(p1.Orders, p2.Orders...) {
		if err := order.Check(in); err != nil {
			t.Errorf("order %s does not pass order.Check: %v", in.ExternalID, err)
		}
	}
}

func TestPollKeepsInsideTheNinetyDayWindow(t *testing.T) {
	f := newFakeEbay(t)
	c, _ := f.client()
	if _, err := c.Poll(context.Background(), time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), ""); err != nil {
		t.Fatal(err)
	}
	// Now is 2024-05-02T00:00Z; 90 days less an hour before is 2024-02-02T01:00Z.
	if got := f.orderCalls[0].URL.Query().Get("filter"); got != "lastmodifieddate:[2024-02-02T01:00:00.000Z..]" {
		t.Errorf("filter = %s", got)
	}
}

func TestPollRetriesAfterTooManyRequests(t *testing.T) {
	f := newFakeEbay(t)
	f.throttle = 2
	f.retryAfter = "7"
	c, slept := f.client()
	p, err := c.Poll(context.Background(), since, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Orders) != 2 || len(f.orderCalls) != 3 {
		t.Fatalf("%d orders after %d calls", len(p.Orders), len(f.orderCalls))
	}
	if !slices.Equal(*slept, []time.Duration{7 * time.Second, 7 * time.Second}) {
		t.Errorf("waits = %v, want Retry-After's 7 s twice", *slept)
	}
}

func TestPollGivesUpThrottled(t *testing.T) {
	f := newFakeEbay(t)
	f.throttleAll = true
	c, slept := f.client()
	_, err := c.Poll(context.Background(), since, "")
	var te channels.ErrThrottled
	if !errors.As(err, &te) || te.After <= 0 {
		t.Fatalf("err = %v, want ErrThrottled", err)
	}
	if !strings.Contains(err.Error(), "error 2001") {
		t.Errorf("err = %v, want eBay's errorId", err)
	}
	// No Retry-After: 2, 4, 8 s.
	if !slices.Equal(*slept, []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second}) {
		t.Errorf("waits = %v", *slept)
	}
}

func TestPollBadAccessTokenIsErrAuth(t *testing.T) {
	f := newFakeEbay(t)
	f.rejectTokens = true
	c, _ := f.client()
	_, err := c.Poll(context.Background(), since, "")
	var ae channels.ErrAuth
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "1001") {
		t.Fatalf("err = %v, want ErrAuth with error 1001", err)
	}
	if f.tokensIssued != 2 {
		t.Errorf("tokens issued = %d, want 2 (one fresh try after the 401)", f.tokensIssued)
	}
}

func TestPollExpiredRefreshTokenIsErrAuth(t *testing.T) {
	f := newFakeEbay(t)
	f.refreshToken = "v^1.1#another"
	c, _ := f.client()
	_, err := c.Poll(context.Background(), since, "")
	var ae channels.ErrAuth
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("err = %v, want ErrAuth with invalid_grant", err)
	}
}

func TestPollServerErrorIsTransient(t *testing.T) {
	f := newFakeEbay(t)
	f.fail500 = true
	c, _ := f.client()
	_, err := c.Poll(context.Background(), since, "")
	if !errs.Is(errs.Transient, err) || !strings.Contains(err.Error(), "30500") {
		t.Fatalf("err = %v, want a transient error with errorId 30500", err)
	}
	var te channels.ErrThrottled
	var ae channels.ErrAuth
	if errors.As(err, &te) || errors.As(err, &ae) {
		t.Errorf("a 500 is neither throttling nor bad credentials: %v", err)
	}
}

func TestPollHonoursCancellation(t *testing.T) {
	f := newFakeEbay(t)
	f.throttleAll = true
	f.retryAfter = "60"
	c, _ := f.client()
	c.Sleep = sleep
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	if _, err := c.Poll(ctx, since, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Poll took %v after cancellation", d)
	}
}

func TestPollRejectsABadCursor(t *testing.T) {
	f := newFakeEbay(t)
	c, _ := f.client()
	if _, err := c.Poll(context.Background(), since, "https://evil.example/next"); !errs.Is(errs.Invalid, err) {
		t.Errorf("err = %v, want invalid", err)
	}
	if len(f.orderCalls) != 0 {
		t.Errorf("a call went out")
	}
}

func TestDefaults(t *testing.T) {
	c := New(Config{Environment: "sandbox", Scope: " https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly  "}, nil)
	if c.base != "https://api.sandbox.ebay.com" || c.tokenURL != "https://api.sandbox.ebay.com/identity/v1/oauth2/token" {
		t.Errorf("base %q token URL %q", c.base, c.tokenURL)
	}
	if c.scope != "https://api.ebay.com/oauth/api_scope/sell.fulfillment.readonly" {
		t.Errorf("scope %q", c.scope)
	}
	if New(Config{Environment: "production"}, nil).tokenURL != "https://api.ebay.com/identity/v1/oauth2/token" {
		t.Error("production token URL")
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{ClientID: "a", ClientSecret: "b", RefreshToken: "c", Environment: "production"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	err := Config{Environment: "prod", Scope: "sell.fulfillment", BaseURL: "api.ebay.com"}.Validate()
	var fields []string
	for _, f := range errs.Fields(err) {
		fields = append(fields, f.Field)
	}
	want := []string{"environment", "client_id", "client_secret", "refresh_token", "scope", "base_url"}
	if !errs.Is(errs.Invalid, err) || !slices.Equal(fields, want) {
		t.Errorf("fields = %v, want %v (%v)", fields, want, err)
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
	if k.Name != "ebay" || k.Webhooks || !slices.Contains(k.Secrets, "refresh_token") {
		t.Errorf("kind = %+v", k)
	}
	settings := map[string]any{"environment": "production", "client_id": "id", "client_secret": "s", "refresh_token": "r"}
	a, err := k.New(settings, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := k.New(settings, nil); a != b {
		t.Error("the same settings built a second client")
	}
	if _, err := k.New(map[string]any{"environment": "staging"}, nil); !errs.Is(errs.Invalid, err) {
		t.Errorf("bad settings: %v", err)
	}
}
