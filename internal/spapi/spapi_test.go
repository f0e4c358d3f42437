package spapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/waybill/waybill/internal/errs"
)

// server is a minimal LWA + SP-API: it issues tokens and answers /op with
// whatever answer says, counting what it saw.
type server struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	tokens  int        // issued
	lwa     func() int // LWA status to answer (0: 200)
	answer  func(n int, r *http.Request) (status int, header http.Header, body string)
	calls   []*http.Request
	bodies  []string
	lwaForm url.Values
}

func newServer(t *testing.T) *server {
	s := &server{t: t}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		_ = r.ParseForm()
		s.lwaForm = r.PostForm
		if s.lwa != nil {
			if st := s.lwa(); st != 0 {
				w.Header().Set("Retry-After", "7")
				w.WriteHeader(st)
				fmt.Fprint(w, `{"error":"invalid_grant","error_description":"The request has an invalid grant parameter : refresh_token"}`)
				return
			}
		}
		s.tokens++
		fmt.Fprintf(w, `{"access_token":"Atza|%d","token_type":"bearer","expires_in":3600}`, s.tokens)
	})
	mux.HandleFunc("/op", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		b, _ := io.ReadAll(r.Body)
		s.calls = append(s.calls, r)
		s.bodies = append(s.bodies, string(b))
		st, h, body := s.answer(len(s.calls), r)
		for k, v := range h {
			w.Header()[k] = v
		}
		w.WriteHeader(st)
		fmt.Fprint(w, body)
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// client is a Client of s whose sleeps are recorded.
func (s *server) client() (*Client, *[]time.Duration) {
	c := New(Config{Region: "na", ClientID: " id ", ClientSecret: "secret", RefreshToken: "Atzr|r", Endpoint: s.srv.URL + "/", TokenURL: s.srv.URL + "/token"}, s.srv.Client())
	var slept []time.Duration
	c.Sleep = func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		return nil
	}
	return c, &slept
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

const quota = `{"errors":[{"code":"QuotaExceeded","message":"You exceeded your quota for the requested resource.","details":""}]}`

func TestDoSendsTheTokenAndBody(t *testing.T) {
	s := newServer(t)
	s.answer = func(int, *http.Request) (int, http.Header, string) { return 200, nil, `{"payload":{}}` }
	c, _ := s.client()
	q := url.Values{"MarketplaceIds": {"ATVPDKIKX0DER,A2EUQ1WTGCTBG2"}}
	body, err := c.Do(context.Background(), Call{Op: "op", Method: http.MethodPost, Path: "/op", Query: q, Body: []byte(`{"a":1}`)})
	if err != nil || string(body) != `{"payload":{}}` {
		t.Fatalf("body %q err %v", body, err)
	}
	if _, err := c.Do(context.Background(), Call{Op: "op", Method: http.MethodGet, Path: "/op"}); err != nil {
		t.Fatal(err)
	}
	r := s.calls[0]
	if r.Header.Get("x-amz-access-token") != "Atza|1" || r.Header.Get("User-Agent") != UserAgent || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", r.Header)
	}
	if r.URL.Query().Get("MarketplaceIds") != "ATVPDKIKX0DER,A2EUQ1WTGCTBG2" || s.bodies[0] != `{"a":1}` {
		t.Errorf("query %v body %q", r.URL.RawQuery, s.bodies[0])
	}
	if ct := s.calls[1].Header.Get("Content-Type"); ct != "" {
		t.Errorf("a GET without a body sent Content-Type %q", ct)
	}
	if s.tokens != 1 {
		t.Errorf("tokens issued = %d, want 1 (cached)", s.tokens)
	}
	if got := s.lwaForm; got.Get("grant_type") != "refresh_token" || got.Get("client_id") != "id" || got.Get("client_secret") != "secret" || got.Get("refresh_token") != "Atzr|r" {
		t.Errorf("LWA form = %v", got)
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	s := newServer(t)
	c, _ := s.client()
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	c.Now = func() time.Time { return now }
	ctx := context.Background()
	for _, step := range []struct {
		after  time.Duration
		tokens int
	}{{0, 1}, {58 * time.Minute, 1}, {90 * time.Second, 2}} {
		now = now.Add(step.after)
		if _, err := c.AccessToken(ctx); err != nil || s.tokens != step.tokens {
			t.Fatalf("after %v: tokens %d err %v, want %d", step.after, s.tokens, err, step.tokens)
		}
	}
	if Life(time.Hour) != 59*time.Minute || Life(5*time.Minute) != 270*time.Second {
		t.Errorf("Life: %v %v", Life(time.Hour), Life(5*time.Minute))
	}
}

func TestDoBacksOffOn429(t *testing.T) {
	s := newServer(t)
	s.answer = func(n int, _ *http.Request) (int, http.Header, string) {
		if n <= 2 {
			return 429, header("x-amzn-RequestId", fmt.Sprint("r", n)), quota
		}
		return 200, nil, `{}`
	}
	c, slept := s.client()
	lim := rate.NewLimiter(0.5, 30)
	if _, err := c.Do(context.Background(), Call{Op: "op", Limiter: lim, Method: http.MethodGet, Path: "/op"}); err != nil {
		t.Fatal(err)
	}
	// A token at 0.5/s is two seconds, doubled on the next retry.
	if !slices.Equal(*slept, []time.Duration{2 * time.Second, 4 * time.Second}) {
		t.Errorf("backoff = %v", *slept)
	}
}

func TestDoGivesUpThrottled(t *testing.T) {
	s := newServer(t)
	s.answer = func(int, *http.Request) (int, http.Header, string) {
		return 429, header("x-amzn-RequestId", "rq", "Retry-After", "30"), quota
	}
	c, slept := s.client()
	_, err := c.Do(context.Background(), Call{Op: "op", Method: http.MethodGet, Path: "/op"})
	var te *ThrottledError
	var ae *APIError
	if !errors.As(err, &te) || !errors.As(err, &ae) || !errs.Is(errs.Transient, err) {
		t.Fatalf("err = %v, want a transient ThrottledError", err)
	}
	if te.After != 30*time.Second || ae.Code != "QuotaExceeded" || ae.RequestID != "rq" || ae.Status != 429 {
		t.Errorf("ThrottledError %+v, APIError %+v", te, ae)
	}
	// Retry-After wins over the shorter computed wait.
	if len(*slept) != c.MaxRetries || (*slept)[0] != 30*time.Second || len(s.calls) != c.MaxRetries+1 {
		t.Errorf("slept %v over %d calls", *slept, len(s.calls))
	}
}

func TestDoRefreshesTheTokenOnceOn403(t *testing.T) {
	s := newServer(t)
	ok := map[string]bool{"Atza|2": true}
	s.answer = func(_ int, r *http.Request) (int, http.Header, string) {
		if !ok[r.Header.Get("x-amz-access-token")] {
			return 403, header("x-amzn-RequestId", "r403"), `{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":""}]}`
		}
		return 200, nil, `{}`
	}
	c, _ := s.client()
	forgot := 0
	call := Call{Op: "op", Method: http.MethodGet, Path: "/op", Forget: func() { forgot++ }}
	if _, err := c.Do(context.Background(), call); err != nil {
		t.Fatalf("with a fresh token: %v", err)
	}
	if s.tokens != 2 || forgot != 1 {
		t.Errorf("tokens %d, Forget called %d times; want 2 and 1", s.tokens, forgot)
	}
	clear(ok)
	_, err := c.Do(context.Background(), call)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 403 || ae.Code != "Unauthorized" || !errs.Is(errs.Unauthenticated, err) {
		t.Fatalf("err = %v, want an unauthenticated 403", err)
	}
	if s.tokens != 3 {
		t.Errorf("tokens = %d, want one more, then give up", s.tokens)
	}
}

func TestDoUsesTheCallersToken(t *testing.T) {
	s := newServer(t)
	s.answer = func(int, *http.Request) (int, http.Header, string) { return 200, nil, `{}` }
	c, _ := s.client()
	call := Call{Op: "op", Method: http.MethodGet, Path: "/op", Token: func(context.Context) (string, error) { return "Atz.sprdt|x", nil }}
	if _, err := c.Do(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	if got := s.calls[0].Header.Get("x-amz-access-token"); got != "Atz.sprdt|x" || s.tokens != 0 {
		t.Errorf("token %q, LWA tokens %d", got, s.tokens)
	}
	failing := errors.New("no token for you")
	call.Token = func(context.Context) (string, error) { return "", failing }
	if _, err := c.Do(context.Background(), call); !errors.Is(err, failing) || len(s.calls) != 1 {
		t.Errorf("err = %v after %d calls", err, len(s.calls))
	}
}

func TestDoErrorKinds(t *testing.T) {
	for _, tt := range []struct {
		status  int
		body    string
		kind    errs.Kind
		text    string
		refused bool
	}{
		{400, `{"errors":[{"code":"InvalidInput","message":"Invalid NextToken.","details":"x"}]}`, errs.Internal, "HTTP 400 InvalidInput: Invalid NextToken. (x) [request q]", true},
		{409, `{"errors":[{"code":"Conflict","message":"no"}]}`, errs.Internal, "HTTP 409 Conflict: no", true},
		{404, `{"errors":[{"code":"NotFound","message":"gone"}]}`, errs.NotExist, "HTTP 404 NotFound: gone", false},
		{500, `{"errors":[{"code":"InternalFailure","message":"We encountered an internal error. Please try again."}]}`, errs.Transient, "InternalFailure", false},
		{503, `<html>Service Unavailable</html>`, errs.Transient, "HTTP 503: <html>Service Unavailable</html>", false},
	} {
		s := newServer(t)
		s.answer = func(int, *http.Request) (int, http.Header, string) {
			return tt.status, header("x-amzn-RequestId", "q"), tt.body
		}
		c, slept := s.client()
		_, err := c.Do(context.Background(), Call{Op: "op", Method: http.MethodGet, Path: "/op"})
		var ae *APIError
		if !errors.As(err, &ae) || errs.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.text) || ae.Refused() != tt.refused {
			t.Errorf("%d: err = %v (kind %v), want %v with %q", tt.status, err, errs.KindOf(err), tt.kind, tt.text)
		}
		if len(*slept) != 0 || len(s.calls) != 1 {
			t.Errorf("%d: retried", tt.status)
		}
	}
}

func TestTokenEndpointFailures(t *testing.T) {
	for _, tt := range []struct {
		status    int
		kind      errs.Kind
		throttled bool
	}{
		{400, errs.Unauthenticated, false},
		{401, errs.Unauthenticated, false},
		{429, errs.Transient, true},
		{500, errs.Transient, false},
	} {
		s := newServer(t)
		s.lwa = func() int { return tt.status }
		c, _ := s.client()
		_, err := c.Do(context.Background(), Call{Op: "op", Method: http.MethodGet, Path: "/op"})
		var te *TokenError
		var th *ThrottledError
		if !errors.As(err, &te) || te.Status != tt.status || te.Code != "invalid_grant" || errs.KindOf(err) != tt.kind || errors.As(err, &th) != tt.throttled {
			t.Errorf("LWA %d: err = %v (kind %v)", tt.status, err, errs.KindOf(err))
		}
		if tt.throttled && th.After != 7*time.Second {
			t.Errorf("LWA 429: after %v, want the Retry-After", th.After)
		}
		if len(s.calls) != 0 {
			t.Errorf("LWA %d: SP-API called without a token", tt.status)
		}
	}
}

func TestDoAdoptsABetterRate(t *testing.T) {
	s := newServer(t)
	rateHdr := "5.0"
	s.answer = func(int, *http.Request) (int, http.Header, string) {
		return 200, header("x-amzn-RateLimit-Limit", rateHdr), `{}`
	}
	c, _ := s.client()
	lim := rate.NewLimiter(2, 30)
	call := Call{Op: "op", Limiter: lim, Method: http.MethodGet, Path: "/op"}
	if _, err := c.Do(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	if lim.Limit() != 5 {
		t.Errorf("limit = %v, want the announced 5", lim.Limit())
	}
	rateHdr = "0.5" // worse than ours: not adopted
	if _, err := c.Do(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "abc", "-1", "NaN", "+Inf"} {
		rateHdr = bad
		if _, err := c.Do(context.Background(), call); err != nil {
			t.Fatal(err)
		}
	}
	if lim.Limit() != 5 {
		t.Errorf("limit = %v after worse or broken headers", lim.Limit())
	}
}

func TestDoHonoursCancellation(t *testing.T) {
	s := newServer(t)
	s.answer = func(int, *http.Request) (int, http.Header, string) { return 429, nil, quota }
	c, _ := s.client()
	c.Sleep = Sleep // a real one-second backoff
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Do(ctx, Call{Op: "op", Method: http.MethodGet, Path: "/op"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("took %v", d)
	}
	calls := len(s.calls)
	if _, err := c.Do(ctx, Call{Op: "op", Limiter: rate.NewLimiter(1, 1), Method: http.MethodGet, Path: "/op"}); !errors.Is(err, context.DeadlineExceeded) || len(s.calls) != calls {
		t.Errorf("on an ended context: err %v, %d calls went out", err, len(s.calls)-calls)
	}
}

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		r       rate.Limit
		attempt int
		retry   string
		want    time.Duration
	}{
		{0, 0, "", time.Second},
		{rate.Inf, 2, "", 4 * time.Second},
		{2, 0, "", time.Second}, // half a second, raised to one
		{0.0167, 0, "", 59880 * time.Millisecond},
		{0.0167, 1, "", 119760 * time.Millisecond},
		{0.0167, 3, "", 5 * time.Minute},
		{1, 40, "", 256 * time.Second}, // doubled eight times at most
		{0.5, 40, "", 5 * time.Minute},
		{1, 0, "90", 90 * time.Second},
		{1, 0, "7200", time.Hour},
		{1, 0, "soon", time.Second},
	} {
		if got := Backoff(tt.r, tt.attempt, header("Retry-After", tt.retry)); got < tt.want-time.Millisecond || got > tt.want+time.Millisecond {
			t.Errorf("Backoff(%v, %d, %q) = %v, want %v", tt.r, tt.attempt, tt.retry, got, tt.want)
		}
	}
}

func TestChecks(t *testing.T) {
	fields := func(fe errs.FieldList) []string {
		var out []string
		for _, f := range fe {
			out = append(out, f.Field)
		}
		return out
	}
	var fe errs.FieldList
	CheckRegion(&fe, " NA ")
	CheckMarketplace(&fe, "m", "ATVPDKIKX0DER", "na")
	CheckMarketplace(&fe, "m", "AUNKNOWNNEW1", "na") // not listed: accepted
	Config{ClientID: "i", ClientSecret: "s", RefreshToken: "r", Endpoint: "http://localhost:8080"}.CheckAccess(&fe)
	if len(fe) != 0 {
		t.Errorf("good values: %v", fe)
	}
	CheckRegion(&fe, "us")
	CheckMarketplace(&fe, "m[0]", "atvpdkikx0der", "na")
	CheckMarketplace(&fe, "m[1]", "A1VC38T7YXB528", "eu") // Japan is fe
	CheckMarketplace(&fe, "m[2]", "A1VC38T7YXB528", "moon")
	Config{ClientSecret: " ", Endpoint: "sellingpartnerapi-na.amazon.com", TokenURL: "ftp://x/y"}.CheckAccess(&fe)
	want := []string{"region", "m[0]", "m[1]", "client_id", "client_secret", "refresh_token", "endpoint", "token_url"}
	if got := fields(fe); !slices.Equal(got, want) {
		t.Errorf("fields = %v, want %v", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	code, msg, det := ParseErrors([]byte(`{"errors":[{"code":"A","message":"B","details":"C"},{"code":"D"}]}`))
	if code != "A" || msg != "B" || det != "C" {
		t.Errorf("%q %q %q", code, msg, det)
	}
	long := strings.Repeat("x", 500)
	if _, msg, _ := ParseErrors([]byte(long)); len(msg) != 200 {
		t.Errorf("message of a long body has %d bytes", len(msg))
	}
	if _, msg, _ := ParseErrors([]byte("\xff\xfe oops")); !json.Valid([]byte(fmt.Sprintf("%q", msg))) || strings.Contains(msg, "\xff") {
		t.Errorf("message %q", msg)
	}
}
