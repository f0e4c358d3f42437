package amazon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// fakeAmazon is a local stand-in for Login with Amazon and the SP-API
// Orders v0 operations we call, written to their documentation: the LWA
// token endpoint (form-encoded refresh_token grant), getOrders with
// MarketplaceIds, LastUpdatedAfter and NextToken, getOrderItems with
// NextToken, responses wrapped in {"payload":…}, errors as
// {"errors":[{"code","message","details"}]}, x-amzn-RateLimit-Limit on
// answers, 429 QuotaExceeded when throttled and 403 for a bad token.
//
// It also plays the Tokens API v2021-03-01: createRestrictedDataToken
// (POST, JSON body {"restrictedResources":[{method,path,dataElements}]},
// answering {"restrictedDataToken","expiresIn"}, authorised by the LWA
// token) and getOrders' restricted data: called with a Restricted Data
// Token covering GET /orders/v0/orders with buyerInfo and shippingAddress
// it returns orders as the testdata has them; called with the LWA token it
// strips what Amazon withholds (the buyer's name and e-mail; the address
// but for city, region, postal code and country).
type fakeAmazon struct {
	t   *testing.T
	srv *httptest.Server

	mu sync.Mutex
	// knobs
	refreshToken   string          // the only refresh token LWA accepts
	throttleOrders int             // answer this many getOrders calls with 429 first
	throttleAll    bool            // answer every getOrders call with 429
	fail500        bool            // answer getOrders with 500
	rejectTokens   bool            // answer every SP-API call with 403
	rateHeader     string          // x-amzn-RateLimit-Limit on getOrders answers
	rateOn429      string          // x-amzn-RateLimit-Limit on 429s (the model documents none)
	rdtRefuse      int             // answer createRestrictedDataToken with this status (403 or 400: the app lacks the roles)
	throttleRDT    int             // answer this many createRestrictedDataToken calls with 429 first
	fail500RDT     bool            // answer createRestrictedDataToken with 500
	rdtLife        int             // expiresIn of the RDTs issued
	rdts           map[string]bool // the RDTs getOrders accepts (expireRDTs revokes them)
	// what was seen
	tokensIssued int
	rdtCalls     int      // createRestrictedDataToken calls, answered or not
	rdtsIssued   int      // RDTs issued
	orderTokens  []string // x-amz-access-token of each answered getOrders call
	orderCalls   []*http.Request
	itemCalls    []string // order id + "?" + NextToken
	userAgents   []string
}

const (
	testClientID     = "amzn1.application-oa2-client.test"
	testClientSecret = "amzn1.oa2-cs.v1.secret"
	testRefresh      = "Atzr|good-refresh-token"
)

func newFakeAmazon(t *testing.T) *fakeAmazon {
	f := &fakeAmazon{t: t, refreshToken: testRefresh, rateHeader: "0.0167", rdtLife: 3600, rdts: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/o2/token", f.token)
	mux.HandleFunc("POST /tokens/2021-03-01/restrictedDataToken", f.createRDT)
	mux.HandleFunc("GET /orders/v0/orders", f.getOrders)
	mux.HandleFunc("GET /orders/v0/orders/{id}/orderItems", f.getOrderItems)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// client is a Client pointed at the fake, with pacing off and sleeps
// recorded instead of slept.
func (f *fakeAmazon) client() (*Client, *[]time.Duration) {
	c := New(Config{
		Region: "na", MarketplaceIDs: []string{"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"},
		ClientID: testClientID, ClientSecret: testClientSecret, RefreshToken: testRefresh,
		Endpoint: f.srv.URL, TokenURL: f.srv.URL + "/auth/o2/token",
	}, f.srv.Client())
	c.OrdersLimiter = rate.NewLimiter(rate.Inf, 0)
	c.ItemsLimiter = rate.NewLimiter(rate.Inf, 0)
	c.TokensLimiter = rate.NewLimiter(rate.Inf, 0)
	var slept []time.Duration
	var mu sync.Mutex
	c.Sleep = func(_ context.Context, d time.Duration) error {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
		return nil
	}
	return c, &slept
}

func (f *fakeAmazon) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		f.t.Errorf("token request Content-Type = %q", ct)
	}
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("token request form: %v", err)
	}
	if r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("client_id") != testClientID || r.PostForm.Get("client_secret") != testClientSecret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"Client authentication failed"}`)
		return
	}
	if r.PostForm.Get("refresh_token") != f.refreshToken {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error_description":"The request has an invalid grant parameter : refresh_token","error":"invalid_grant"}`)
		return
	}
	f.tokensIssued++
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token":  f.currentToken(),
		"refresh_token": f.refreshToken,
		"token_type":    "bearer",
		"expires_in":    3600,
	})
}

func (f *fakeAmazon) currentToken() string { return fmt.Sprintf("Atza|access-%d", f.tokensIssued) }

// authorised checks the access token header; mu held.
func (f *fakeAmazon) authorised(w http.ResponseWriter, r *http.Request) bool {
	f.userAgents = append(f.userAgents, r.Header.Get("User-Agent"))
	if f.rejectTokens || f.tokensIssued == 0 || r.Header.Get("x-amz-access-token") != f.currentToken() {
		w.Header().Set("x-amzn-RequestId", "req-403")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		w.Write(f.file("error_unauthorized.json"))
		return false
	}
	return true
}

func (f *fakeAmazon) getOrders(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tok := r.Header.Get("x-amz-access-token")
	restricted := f.rdts[tok] && !f.rejectTokens
	if !restricted {
		if strings.HasPrefix(tok, "Atz.sprdt|") {
			// An expired or revoked RDT.
			f.userAgents = append(f.userAgents, r.Header.Get("User-Agent"))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":"The access token you provided has expired."}]}`)
			return
		}
		if !f.authorised(w, r) {
			return
		}
	} else {
		f.userAgents = append(f.userAgents, r.Header.Get("User-Agent"))
	}
	f.orderCalls = append(f.orderCalls, r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-RequestId", fmt.Sprintf("req-%d", len(f.orderCalls)))
	switch {
	case f.throttleAll || f.throttleOrders > 0:
		f.throttleOrders--
		if f.rateOn429 != "" {
			w.Header().Set("x-amzn-RateLimit-Limit", f.rateOn429)
		}
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write(f.file("error_quota.json"))
		return
	case f.fail500:
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(f.file("error_internal.json"))
		return
	}
	q := r.URL.Query()
	if q.Get("MarketplaceIds") == "" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errors":[{"code":"InvalidInput","message":"Missing required 'marketplaceIds'.","details":""}]}`)
		return
	}
	w.Header().Set("x-amzn-RateLimit-Limit", f.rateHeader)
	switch q.Get("NextToken") {
	case "":
		if _, err := time.Parse(time.RFC3339, q.Get("LastUpdatedAfter")); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"errors":[{"code":"InvalidInput","message":"Either CreatedAfter or LastUpdatedAfter must be specified.","details":""}]}`)
			return
		}
		f.orderTokens = append(f.orderTokens, tok)
		w.Write(f.orders("orders_page1.json", restricted))
	case "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4=":
		f.orderTokens = append(f.orderTokens, tok)
		w.Write(f.orders("orders_page2.json", restricted))
	default:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errors":[{"code":"InvalidInput","message":"Invalid NextToken.","details":""}]}`)
	}
}

func (f *fakeAmazon) getOrderItems(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.authorised(w, r) {
		return
	}
	id, next := r.PathValue("id"), r.URL.Query().Get("NextToken")
	f.itemCalls = append(f.itemCalls, id+"?"+next)
	name := "items_" + id + ".json"
	if next == "MRgZW55IGNhcm5hbCBwbGVhc3VyZS6=" {
		name = "items_" + id + "_2.json"
	}
	body, err := os.ReadFile(filepath.Join("testdata", filepath.Base(name)))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-RateLimit-Limit", "0.5")
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"errors":[{"code":"NotFound","message":"Order %s not found.","details":""}]}`, id)
		return
	}
	w.Write(body)
}

// createRDT is createRestrictedDataToken.
func (f *fakeAmazon) createRDT(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rdtCalls++
	if !f.authorised(w, r) { // the LWA token, never an RDT
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-RequestId", fmt.Sprintf("rdt-%d", f.rdtCalls))
	switch {
	case f.throttleRDT > 0:
		f.throttleRDT--
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write(f.file("error_quota.json"))
		return
	case f.fail500RDT:
		w.WriteHeader(http.StatusInternalServerError)
		w.Write(f.file("error_internal.json"))
		return
	case f.rdtRefuse == http.StatusForbidden:
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":""}]}`)
		return
	case f.rdtRefuse == http.StatusBadRequest:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errors":[{"code":"InvalidInput","message":"Application do not have access to some or all requested resource","details":""}]}`)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		fmt.Fprintf(w, `{"errors":[{"code":"InvalidInput","message":"Unsupported Content-Type %q","details":""}]}`, ct)
		return
	}
	var req struct {
		RestrictedResources []struct {
			Method       string   `json:"method"`
			Path         string   `json:"path"`
			DataElements []string `json:"dataElements"`
		} `json:"restrictedResources"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || len(req.RestrictedResources) != 1 {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errors":[{"code":"InvalidRequest","message":"Request is missing or has invalid parameters","details":"Resource not provided."}]}`)
		return
	}
	res := req.RestrictedResources[0]
	els := slices.Sorted(slices.Values(res.DataElements))
	if res.Method != "GET" || res.Path != "/orders/v0/orders" || !slices.Equal(els, []string{"buyerInfo", "shippingAddress"}) {
		f.t.Errorf("restricted resource = %+v", res)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errors":[{"code":"InvalidInput","message":"Application do not have access to some or all requested resource","details":""}]}`)
		return
	}
	f.rdtsIssued++
	tok := fmt.Sprintf("Atz.sprdt|rdt-%d", f.rdtsIssued)
	f.rdts[tok] = true
	w.Header().Set("x-amzn-RateLimit-Limit", "1.0")
	json.NewEncoder(w).Encode(map[string]any{"restrictedDataToken": tok, "expiresIn": f.rdtLife})
}

// expireRDTs makes Amazon forget every RDT it issued, as it does when their
// hour is up.
func (f *fakeAmazon) expireRDTs() {
	f.mu.Lock()
	clear(f.rdts)
	f.mu.Unlock()
}

// orders is a getOrders page of testdata: as it is for a call with an RDT,
// else without the buyer's name and e-mail and with only the city, region,
// postal code and country of the address, as Amazon answers the LWA token.
func (f *fakeAmazon) orders(name string, restricted bool) []byte {
	b := f.file(name)
	if restricted {
		return b
	}
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		f.t.Fatal(err)
	}
	for _, o := range doc["payload"].(map[string]any)["Orders"].([]any) {
		o := o.(map[string]any)
		if a, ok := o["ShippingAddress"].(map[string]any); ok {
			for k := range a {
				if !slices.Contains([]string{"City", "StateOrRegion", "PostalCode", "CountryCode"}, k) {
					delete(a, k)
				}
			}
		}
		if bi, ok := o["BuyerInfo"].(map[string]any); ok {
			delete(bi, "BuyerEmail")
			delete(bi, "BuyerName")
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fakeAmazon) file(name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}
