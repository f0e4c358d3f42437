package ebay

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// fakeEbay is a local stand-in for eBay's OAuth token endpoint and the Sell
// Fulfillment API's getOrders, written to their documentation: a
// refresh_token grant with Basic client credentials and a scope, getOrders
// with filter=lastmodifieddate:[…], limit and offset, paged answers with
// total and next, errors as {"errors":[{"errorId",…}]}, 401 for a bad token
// and 429 when throttled.
type fakeEbay struct {
	t   *testing.T
	srv *httptest.Server

	mu sync.Mutex
	// knobs
	refreshToken string
	throttle     int  // answer this many getOrders calls with 429 first
	throttleAll  bool // answer every getOrders call with 429
	retryAfter   string
	fail500      bool
	rejectTokens bool
	// what was seen
	tokensIssued int
	scopes       []string
	orderCalls   []*http.Request
}

const (
	testClientID     = "Waybill-Waybill-PRD-1a2b3c4d5-6e7f8a9b"
	testClientSecret = "PRD-1a2b3c4d5e6f-7a8b-9c0d-1e2f-3a4b"
	testRefresh      = "v^1.1#i^1#p^3#r^1#f^0#t^good"
)

func newFakeEbay(t *testing.T) *fakeEbay {
	f := &fakeEbay{t: t, refreshToken: testRefresh}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /identity/v1/oauth2/token", f.token)
	mux.HandleFunc("GET /sell/fulfillment/v1/order", f.getOrders)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeEbay) client() (*Client, *[]time.Duration) {
	c := New(Config{
		ClientID: testClientID, ClientSecret: testClientSecret, RefreshToken: testRefresh, Environment: "production",
		BaseURL: f.srv.URL, TokenURL: f.srv.URL + "/identity/v1/oauth2/token",
	}, f.srv.Client())
	c.Limiter = rate.NewLimiter(rate.Inf, 0)
	c.Now = func() time.Time { return time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC) }
	var slept []time.Duration
	c.Sleep = func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		return nil
	}
	return c, &slept
}

func (f *fakeEbay) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(testClientID+":"+testClientSecret))
	if r.Header.Get("Authorization") != want {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"client authentication failed"}`)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"unsupported_grant_type","error_description":"grant type in request is not supported by the authorization server"}`)
		return
	}
	if r.PostForm.Get("refresh_token") != f.refreshToken {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant","error_description":"the provided authorization refresh token is invalid or was issued to another client"}`)
		return
	}
	f.scopes = append(f.scopes, r.PostForm.Get("scope"))
	f.tokensIssued++
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": f.currentToken(),
		"expires_in":   7200,
		"token_type":   "User Access Token",
	})
}

func (f *fakeEbay) currentToken() string { return fmt.Sprintf("v^1.1#i^1#access^%d", f.tokensIssued) }

func (f *fakeEbay) getOrders(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if f.rejectTokens || f.tokensIssued == 0 || r.Header.Get("Authorization") != "Bearer "+f.currentToken() {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write(f.file("error_invalid_token.json"))
		return
	}
	f.orderCalls = append(f.orderCalls, r)
	switch {
	case f.throttleAll || f.throttle > 0:
		f.throttle--
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write(f.file("error_too_many_requests.json"))
		return
	case f.fail500:
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(f.file("error_system.json"))
		return
	}
	q := r.URL.Query()
	filter := q.Get("filter")
	if !strings.HasPrefix(filter, "lastmodifieddate:[") || !strings.HasSuffix(filter, "..]") {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"errors":[{"errorId":30800,"domain":"API_FULFILLMENT","category":"REQUEST","message":"Invalid filter value %s for filter lastmodifieddate"}]}`, filter)
		return
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", strings.TrimSuffix(strings.TrimPrefix(filter, "lastmodifieddate:["), "..]")); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errors":[{"errorId":30810,"domain":"API_FULFILLMENT","category":"REQUEST","message":"Invalid date format"}]}`)
		return
	}
	switch q.Get("offset") {
	case "", "0":
		w.Write(f.file("orders_page1.json"))
	case "2":
		w.Write(f.file("orders_page2.json"))
	default:
		fmt.Fprintf(w, `{"href":"x","total":3,"limit":200,"offset":%s,"orders":[]}`, q.Get("offset"))
	}
}

func (f *fakeEbay) file(name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}
