// Package mcffake is an in-process stand-in for the parts of Amazon that
// package amazonmcf calls, written to their documentation, for tests of any
// package that fulfils through Amazon Multi-Channel Fulfillment:
//
//   - Login with Amazon: POST /auth/o2/token, a form-encoded refresh_token
//     grant, answering an access token that lasts an hour (expires_in 3600),
//     or invalid_client / invalid_grant.
//   - Fulfillment Outbound API v2020-07-01: getFulfillmentPreview,
//     createFulfillmentOrder, getFulfillmentOrder and cancelFulfillmentOrder.
//   - FBA Inventory API v1: getInventorySummaries, 50 summaries a page,
//     paged with nextToken in the answer's pagination.
//
// SP-API answers are wrapped in {"payload": …} and failures are
// {"errors":[{"code","message","details"}]} with an x-amzn-RequestId, as
// the models specify: 403 Unauthorized for an access token the fake did not
// issue (or after ExpireTokens, or while DenyAccess), 429 QuotaExceeded
// while throttled, 400 InvalidInput for a request the model does not allow,
// 404 NotFound for an unknown order. Successful answers carry
// x-amzn-RateLimit-Limit with the operation's documented rate.
//
// The fake's Amazon holds stock per SKU (SetStock). A created order takes
// its units from the fulfillable stock; its status then moves only as a test
// says: Advance, Ship. Where Amazon's documentation leaves something open,
// the fake decides, and says so here:
//
//   - createFulfillmentOrder validates at once: an order whose SKUs have
//     enough stock is Received, one without is Invalid (and takes nothing);
//     a SKU the fake never had stock of is refused with 400 InvalidInput
//     "the SellerSKU for Item Id: … is invalid.", as Amazon words it.
//   - A second createFulfillmentOrder with a sellerFulfillmentOrderId the
//     fake already has is refused with 400 InvalidInput (Amazon does not
//     document its words for this).
//   - cancelFulfillmentOrder succeeds for New, Received and Planning orders
//     (the ones Amazon documents as cancellable) and for Cancelled ones, and
//     is refused with 400 InvalidInput otherwise; cancelled units go back
//     to stock.
//   - A preview is fulfillable when every SKU has the units; its only fee
//     is FBAPerUnitFulfillmentFee, 3.50, 5.25 or 8.75 USD a unit for
//     Standard, Expedited and Priority. Its shipment leaves between one and
//     two days from now (Priority: within a day) and arrives two to five days
//     from now (Expedited: two to three, Priority: one to two). An
//     unfulfillable preview has no fees and no shipments, and names each
//     short item with the reason code InventoryUnavailable (InvalidSKU for
//     a SKU the fake never had).
package mcffake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/waybill/waybill/internal/provider"
	"github.com/waybill/waybill/internal/provider/amazonmcf"
)

// The credentials and marketplace the fake accepts; Config has them.
const (
	ClientID      = "amzn1.application-oa2-client.mcffake"
	ClientSecret  = "amzn1.oa2-cs.v1.mcffake"
	RefreshToken  = "Atzr|mcffake-refresh-token"
	MarketplaceID = "ATVPDKIKX0DER" // amazon.com, in USD
)

// PageSize is how many inventory summaries a getInventorySummaries page
// holds.
const PageSize = 50

// statuses are the fulfillmentOrderStatus values of the model.
var statuses = []string{"New", "Received", "Planning", "Processing", "Cancelled", "Complete", "CompletePartialled", "Unfulfillable", "Invalid"}

// Fake is a running fake Amazon. Its methods are safe for concurrent use.
type Fake struct {
	srv *httptest.Server

	mu       sync.Mutex
	known    map[string]bool  // SKUs ever given stock
	stock    map[string]int64 // fulfillable units per SKU
	reserved map[string]int64 // units taken by open orders
	orders   map[string]*order
	tokens   map[string]bool // access tokens the fake accepts
	issued   int
	throttle int
	deny     bool
	seq      int // request, shipment and package numbers
	requests []Request
}

// Request is one SP-API call the fake received, throttled and refused ones
// included.
type Request struct {
	Op     string // the operation: "createFulfillmentOrder", "getInventorySummaries", …
	Method string
	Path   string
	Query  url.Values
	Body   []byte // as sent
	Token  string // x-amz-access-token
}

type order struct {
	req       createRequest
	status    string
	received  time.Time
	updated   time.Time
	items     []*item
	shipments []shipment
}

type item struct {
	sku, id                            string
	qty, shipped, cancelled, unfulfill int64
}

func (it *item) left() int64 { return it.qty - it.shipped - it.cancelled - it.unfulfill }

type shipment struct {
	id, carrier, tracking string
	pkg                   int
	at                    time.Time
	units                 []unit
}

type unit struct {
	sku, itemID string
	qty         int64
}

// New starts a fake Amazon with no stock and no orders. Close it when done.
func New() *Fake {
	f := &Fake{
		known: map[string]bool{}, stock: map[string]int64{}, reserved: map[string]int64{},
		orders: map[string]*order{}, tokens: map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/o2/token", f.token)
	mux.HandleFunc("POST /fba/outbound/2020-07-01/fulfillmentOrders/preview", f.sp("getFulfillmentPreview", f.preview))
	mux.HandleFunc("POST /fba/outbound/2020-07-01/fulfillmentOrders", f.sp("createFulfillmentOrder", f.create))
	mux.HandleFunc("GET /fba/outbound/2020-07-01/fulfillmentOrders/{id}", f.sp("getFulfillmentOrder", f.get))
	mux.HandleFunc("PUT /fba/outbound/2020-07-01/fulfillmentOrders/{id}/cancel", f.sp("cancelFulfillmentOrder", f.cancel))
	mux.HandleFunc("GET /fba/inventory/v1/summaries", f.sp("getInventorySummaries", f.summaries))
	f.srv = httptest.NewServer(mux)
	return f
}

// Close shuts the fake down.
func (f *Fake) Close() { f.srv.Close() }

// URL is the fake's address: both the SP-API endpoint and, with
// /auth/o2/token, the LWA token endpoint.
func (f *Fake) URL() string { return f.srv.URL }

// HTTPClient is an HTTP client for the fake.
func (f *Fake) HTTPClient() *http.Client { return f.srv.Client() }

// Config is a connection to the fake: region na, MarketplaceID and the
// credentials it accepts.
func (f *Fake) Config() amazonmcf.Config {
	return amazonmcf.Config{
		Region: "na", MarketplaceID: MarketplaceID,
		ClientID: ClientID, ClientSecret: ClientSecret, RefreshToken: RefreshToken,
		Endpoint: f.srv.URL, TokenURL: f.srv.URL + "/auth/o2/token",
	}
}

// SetStock makes n units of sku fulfillable (units held by open orders are
// apart).
func (f *Fake) SetStock(sku string, n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.known[sku] = true
	f.stock[sku] = max(n, 0)
}

// Throttle answers the next n SP-API calls with 429 QuotaExceeded.
func (f *Fake) Throttle(n int) {
	f.mu.Lock()
	f.throttle = n
	f.mu.Unlock()
}

// ExpireTokens makes Amazon forget every access token it issued, as when
// they expire early: the next call with one is answered 403.
func (f *Fake) ExpireTokens() {
	f.mu.Lock()
	clear(f.tokens)
	f.mu.Unlock()
}

// DenyAccess makes every SP-API call answer 403, whatever its token (the
// seller revoked the app, or it lacks the Amazon Fulfillment role), until
// called with false.
func (f *Fake) DenyAccess(deny bool) {
	f.mu.Lock()
	f.deny = deny
	f.mu.Unlock()
}

// TokensIssued is how many access tokens LWA issued.
func (f *Fake) TokensIssued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued
}

// Requests lists the calls of operation op received so far, oldest first;
// op "" lists every call.
func (f *Fake) Requests(op string) []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Request
	for _, r := range f.requests {
		if op == "" || r.Op == op {
			out = append(out, r)
		}
	}
	return out
}

// Advance sets the fulfillmentOrderStatus of order id (its
// sellerFulfillmentOrderId) to status, one of New, Received, Planning,
// Processing, Cancelled, Complete, CompletePartialled, Unfulfillable and
// Invalid. Cancelled cancels the units not shipped, and returns them to
// stock; Unfulfillable and CompletePartialled make them unfulfillable.
// Nothing is shipped: Ship does that.
func (f *Fake) Advance(id, status string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[id]
	if !ok {
		return fmt.Errorf("mcffake: no order %q", id)
	}
	if !slices.Contains(statuses, status) {
		return fmt.Errorf("mcffake: %q is not a fulfillmentOrderStatus", status)
	}
	for _, it := range o.items {
		switch status {
		case "Cancelled":
			f.release(it.sku, it.left())
			it.cancelled += it.left()
		case "Unfulfillable", "CompletePartialled":
			f.reserved[it.sku] -= it.left()
			it.unfulfill += it.left()
		}
	}
	o.status, o.updated = status, now()
	return nil
}

// Ship sends a parcel of order id by carrier with tracking number tracking:
// one SHIPPED shipment with one package holding lines, or every unit not yet
// shipped when no lines are given. The order is then Complete when nothing
// is left to ship, else Processing.
func (f *Fake) Ship(id, carrier, tracking string, lines ...provider.Line) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[id]
	if !ok {
		return fmt.Errorf("mcffake: no order %q", id)
	}
	if !slices.Contains([]string{"New", "Received", "Planning", "Processing"}, o.status) {
		return fmt.Errorf("mcffake: order %q is %s", id, o.status)
	}
	if len(lines) == 0 {
		for _, it := range o.items {
			if it.left() > 0 {
				lines = append(lines, provider.Line{SKU: it.sku, Quantity: it.left()})
			}
		}
	}
	// Check first, then take: a failed Ship changes nothing.
	want := map[string]int64{}
	for _, l := range lines {
		want[l.SKU] += l.Quantity
	}
	for sku, n := range want {
		var left int64
		for _, it := range o.items {
			if it.sku == sku {
				left += it.left()
			}
		}
		if n < 1 || n > left {
			return fmt.Errorf("mcffake: order %q has %d units of %s to ship, not %d", id, left, sku, n)
		}
	}
	f.seq++
	s := shipment{id: fmt.Sprintf("DmcF%05d", f.seq), carrier: carrier, tracking: tracking, pkg: f.seq, at: now()}
	for _, it := range o.items {
		n := min(want[it.sku], it.left())
		if n <= 0 {
			continue
		}
		want[it.sku] -= n
		it.shipped += n
		f.reserved[it.sku] -= n
		s.units = append(s.units, unit{sku: it.sku, itemID: it.id, qty: n})
	}
	o.shipments = append(o.shipments, s)
	o.status = "Complete"
	for _, it := range o.items {
		if it.left() > 0 {
			o.status = "Processing"
		}
	}
	o.updated = now()
	return nil
}

// release returns n reserved units of sku to stock; mu held.
func (f *Fake) release(sku string, n int64) {
	f.reserved[sku] -= n
	f.stock[sku] += n
}

func now() time.Time { return time.Now().UTC().Truncate(time.Second) }

// token is the LWA token endpoint.
func (f *Fake) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := r.ParseForm(); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter or is otherwise malformed.")
		return
	}
	if r.PostForm.Get("client_id") != ClientID || r.PostForm.Get("client_secret") != ClientSecret {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		return
	}
	if r.PostForm.Get("grant_type") != "refresh_token" || r.PostForm.Get("refresh_token") != RefreshToken {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
		return
	}
	f.issued++
	tok := fmt.Sprintf("Atza|mcffake-%d", f.issued)
	f.tokens[tok] = true
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "refresh_token": RefreshToken, "token_type": "bearer", "expires_in": 3600})
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// sp wraps an SP-API operation: it records the call and answers 429 while
// throttled and 403 for a token the fake does not accept; h runs with mu
// held.
func (f *Fake) sp(op string, h func(w http.ResponseWriter, r *http.Request, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		f.mu.Lock()
		defer f.mu.Unlock()
		tok := r.Header.Get("x-amz-access-token")
		f.requests = append(f.requests, Request{Op: op, Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body, Token: tok})
		f.seq++
		w.Header().Set("x-amzn-RequestId", fmt.Sprintf("mcffake-%d", f.seq))
		switch {
		case f.deny || !f.tokens[tok]:
			apiError(w, http.StatusForbidden, "Unauthorized", "Access to requested resource is denied.", "The access token you provided is revoked, malformed or invalid.")
			return
		case f.throttle > 0:
			f.throttle--
			apiError(w, http.StatusTooManyRequests, "QuotaExceeded", "You exceeded your quota for the requested resource.", "")
			return
		}
		w.Header().Set("x-amzn-RateLimit-Limit", "2.0")
		h(w, r, body)
	}
}

func apiError(w http.ResponseWriter, status int, code, msg, details string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]string{{"code": code, "message": msg, "details": details}}})
}

func invalid(w http.ResponseWriter, format string, args ...any) {
	apiError(w, http.StatusBadRequest, "InvalidInput", fmt.Sprintf(format, args...), "")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads body into v, refusing fields the model does not have.
func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// The request bodies, with every property of the model: one it lacks is
// refused.

type address struct {
	Name             string `json:"name"`
	AddressLine1     string `json:"addressLine1"`
	AddressLine2     string `json:"addressLine2,omitempty"`
	AddressLine3     string `json:"addressLine3,omitempty"`
	City             string `json:"city,omitempty"`
	DistrictOrCounty string `json:"districtOrCounty,omitempty"`
	StateOrRegion    string `json:"stateOrRegion,omitempty"`
	PostalCode       string `json:"postalCode"`
	CountryCode      string `json:"countryCode"`
	Phone            string `json:"phone,omitempty"`
}

type money struct {
	CurrencyCode string `json:"currencyCode"`
	Value        string `json:"value"`
}

type createItem struct {
	SellerSKU             string `json:"sellerSku"`
	SellerItemID          string `json:"sellerFulfillmentOrderItemId"`
	Quantity              *int64 `json:"quantity"`
	GiftMessage           string `json:"giftMessage,omitempty"`
	DisplayableComment    string `json:"displayableComment,omitempty"`
	FulfillmentNetworkSKU string `json:"fulfillmentNetworkSku,omitempty"`
	PerUnitDeclaredValue  *money `json:"perUnitDeclaredValue,omitempty"`
	PerUnitPrice          *money `json:"perUnitPrice,omitempty"`
	PerUnitTax            *money `json:"perUnitTax,omitempty"`
}

type createRequest struct {
	MarketplaceID            string          `json:"marketplaceId,omitempty"`
	SellerFulfillmentOrderID string          `json:"sellerFulfillmentOrderId"`
	DisplayableOrderID       string          `json:"displayableOrderId"`
	DisplayableOrderDate     string          `json:"displayableOrderDate"`
	DisplayableOrderComment  string          `json:"displayableOrderComment"`
	ShippingSpeedCategory    string          `json:"shippingSpeedCategory"`
	DeliveryWindow           json.RawMessage `json:"deliveryWindow,omitempty"`
	DestinationAddress       *address        `json:"destinationAddress"`
	DeliveryPreferences      json.RawMessage `json:"deliveryPreferences,omitempty"`
	FulfillmentAction        string          `json:"fulfillmentAction,omitempty"`
	FulfillmentPolicy        string          `json:"fulfillmentPolicy,omitempty"`
	CODSettings              json.RawMessage `json:"codSettings,omitempty"`
	ShipFromCountryCode      string          `json:"shipFromCountryCode,omitempty"`
	NotificationEmails       []string        `json:"notificationEmails,omitempty"`
	FeatureConstraints       json.RawMessage `json:"featureConstraints,omitempty"`
	Items                    []createItem    `json:"items"`
	PaymentInformation       json.RawMessage `json:"paymentInformation,omitempty"`
}

type previewRequest struct {
	MarketplaceID                string          `json:"marketplaceId,omitempty"`
	Address                      *address        `json:"address"`
	Items                        []createItem    `json:"items"`
	ShippingSpeedCategories      []string        `json:"shippingSpeedCategories,omitempty"`
	IncludeCODFulfillmentPreview bool            `json:"includeCODFulfillmentPreview,omitempty"`
	IncludeDeliveryWindows       bool            `json:"includeDeliveryWindows,omitempty"`
	FeatureConstraints           json.RawMessage `json:"featureConstraints,omitempty"`
}

var speeds = []string{"Standard", "Expedited", "Priority"}

// checkAddress is what the model requires of an address.
func checkAddress(a *address) string {
	switch {
	case a == nil:
		return "the destination address is required"
	case strings.TrimSpace(a.Name) == "":
		return "the address name is required"
	case strings.TrimSpace(a.AddressLine1) == "":
		return "addressLine1 is required"
	case strings.TrimSpace(a.PostalCode) == "":
		return "postalCode is required"
	case len(a.CountryCode) != 2 || strings.ToUpper(a.CountryCode) != a.CountryCode:
		return fmt.Sprintf("countryCode %q is not an ISO 3166-1 alpha-2 code", a.CountryCode)
	}
	return ""
}

// checkItems is what the model requires of items: 1 to 100 of them, 250
// units at most, each with a SKU and item id of at most 50 characters (the
// item ids unique) and a positive quantity.
func checkItems(items []createItem) string {
	if len(items) == 0 || len(items) > 100 {
		return fmt.Sprintf("an order has 1 to 100 items, not %d", len(items))
	}
	ids := map[string]bool{}
	var units int64
	for _, it := range items {
		switch {
		case it.SellerSKU == "" || utf8.RuneCountInString(it.SellerSKU) > 50:
			return fmt.Sprintf("sellerSku %q must have 1 to 50 characters", it.SellerSKU)
		case it.SellerItemID == "" || utf8.RuneCountInString(it.SellerItemID) > 50:
			return fmt.Sprintf("sellerFulfillmentOrderItemId %q must have 1 to 50 characters", it.SellerItemID)
		case ids[it.SellerItemID]:
			return fmt.Sprintf("sellerFulfillmentOrderItemId %q is not unique", it.SellerItemID)
		case it.Quantity == nil || *it.Quantity < 1:
			return fmt.Sprintf("the quantity of item %q must be positive", it.SellerItemID)
		}
		ids[it.SellerItemID] = true
		units += *it.Quantity
	}
	if units > 250 {
		return fmt.Sprintf("an order has at most 250 units, not %d", units)
	}
	return ""
}

// short lists the items stock cannot fill, with their reason codes; mu held.
func (f *Fake) short(items []createItem) map[string]string {
	want := map[string]int64{}
	for _, it := range items {
		want[it.SellerSKU] += *it.Quantity
	}
	out := map[string]string{}
	for sku, n := range want {
		switch {
		case !f.known[sku]:
			out[sku] = "InvalidSKU"
		case f.stock[sku] < n:
			out[sku] = "InventoryUnavailable"
		}
	}
	return out
}

var unitFee = map[string]string{"Standard": "3.50", "Expedited": "5.25", "Priority": "8.75"}

// fee is units × the speed's unit fee, in cents written as dollars.
func fee(speed string, units int64) string {
	cents, _ := strconv.ParseInt(strings.ReplaceAll(unitFee[speed], ".", ""), 10, 64)
	c := cents * units
	return fmt.Sprintf("%d.%02d", c/100, c%100)
}

func (f *Fake) preview(w http.ResponseWriter, r *http.Request, body []byte) {
	var req previewRequest
	if err := decode(body, &req); err != nil {
		invalid(w, "Request is missing or has invalid parameters: %v", err)
		return
	}
	if req.MarketplaceID != "" && req.MarketplaceID != MarketplaceID {
		invalid(w, "Invalid marketplaceId %q.", req.MarketplaceID)
		return
	}
	if msg := checkAddress(req.Address); msg != "" {
		invalid(w, "%s", msg)
		return
	}
	if msg := checkItems(req.Items); msg != "" {
		invalid(w, "%s", msg)
		return
	}
	asked := req.ShippingSpeedCategories
	if len(asked) == 0 {
		asked = speeds
	}
	short := f.short(req.Items)
	var units int64
	for _, it := range req.Items {
		units += *it.Quantity
	}
	t := now()
	day := 24 * time.Hour
	var previews []map[string]any
	for _, s := range asked {
		if !slices.Contains(speeds, s) {
			invalid(w, "Invalid shippingSpeedCategory %q.", s)
			return
		}
		p := map[string]any{
			"shippingSpeedCategory": s, "isFulfillable": len(short) == 0, "isCODCapable": false,
			"marketplaceId": MarketplaceID, "estimatedFees": []any{}, "fulfillmentPreviewShipments": []any{},
			"unfulfillablePreviewItems": []any{},
		}
		if len(short) == 0 {
			p["estimatedFees"] = []any{map[string]any{"name": "FBAPerUnitFulfillmentFee", "amount": money{CurrencyCode: "USD", Value: fee(s, units)}}}
			ship, arrive, by := 1*day, 2*day, 5*day
			switch s {
			case "Expedited":
				by = 3 * day
			case "Priority":
				ship, arrive, by = 0, day, 2*day
			}
			var items []map[string]any
			for _, it := range req.Items {
				items = append(items, map[string]any{"sellerSku": it.SellerSKU, "quantity": *it.Quantity, "sellerFulfillmentOrderItemId": it.SellerItemID})
			}
			p["fulfillmentPreviewShipments"] = []any{map[string]any{
				"earliestShipDate": t.Add(ship).Format(time.RFC3339), "latestShipDate": t.Add(ship + day).Format(time.RFC3339),
				"earliestArrivalDate": t.Add(arrive).Format(time.RFC3339), "latestArrivalDate": t.Add(by).Format(time.RFC3339),
				"fulfillmentPreviewItems": items,
			}}
		} else {
			var items []map[string]any
			for _, it := range req.Items {
				if code, ok := short[it.SellerSKU]; ok {
					items = append(items, map[string]any{"sellerSku": it.SellerSKU, "quantity": *it.Quantity, "sellerFulfillmentOrderItemId": it.SellerItemID, "itemUnfulfillableReasons": []string{code}})
				}
			}
			p["unfulfillablePreviewItems"] = items
		}
		previews = append(previews, p)
	}
	writeJSON(w, http.StatusOK, map[string]any{"payload": map[string]any{"fulfillmentPreviews": previews}})
}

// displayableOK is the model's rule for displayableOrderId: 1 to 40 ISO
// 8859-1 characters, no two spaces in a row, no space at either end.
func displayableOK(s string) bool {
	n := utf8.RuneCountInString(s)
	if n < 1 || n > 40 || strings.Contains(s, "  ") || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if r > unicode.MaxLatin1 || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

func (f *Fake) create(w http.ResponseWriter, r *http.Request, body []byte) {
	var req createRequest
	if err := decode(body, &req); err != nil {
		invalid(w, "Request is missing or has invalid parameters: %v", err)
		return
	}
	id := req.SellerFulfillmentOrderID
	at, dateErr := time.Parse(time.RFC3339, req.DisplayableOrderDate)
	switch {
	case req.MarketplaceID != "" && req.MarketplaceID != MarketplaceID:
		invalid(w, "Invalid marketplaceId %q.", req.MarketplaceID)
	case id == "" || utf8.RuneCountInString(id) > 40:
		invalid(w, "sellerFulfillmentOrderId must have 1 to 40 characters.")
	case !displayableOK(req.DisplayableOrderID):
		invalid(w, "Invalid displayableOrderId %q.", req.DisplayableOrderID)
	case dateErr != nil || at.IsZero():
		invalid(w, "Invalid displayableOrderDate %q.", req.DisplayableOrderDate)
	case req.DisplayableOrderComment == "" || utf8.RuneCountInString(req.DisplayableOrderComment) > 750:
		invalid(w, "displayableOrderComment must have 1 to 750 characters.")
	case !slices.Contains(speeds, req.ShippingSpeedCategory):
		invalid(w, "Invalid shippingSpeedCategory %q.", req.ShippingSpeedCategory)
	case req.FulfillmentAction != "" && req.FulfillmentAction != "Ship" && req.FulfillmentAction != "Hold":
		invalid(w, "Invalid fulfillmentAction %q.", req.FulfillmentAction)
	case req.FulfillmentPolicy != "" && !slices.Contains([]string{"FillOrKill", "FillAll", "FillAllAvailable"}, req.FulfillmentPolicy):
		invalid(w, "Invalid fulfillmentPolicy %q.", req.FulfillmentPolicy)
	case checkAddress(req.DestinationAddress) != "":
		invalid(w, "%s", checkAddress(req.DestinationAddress))
	case checkItems(req.Items) != "":
		invalid(w, "%s", checkItems(req.Items))
	case slices.ContainsFunc(req.NotificationEmails, func(e string) bool { return len(e) > 64 }):
		invalid(w, "A notification e-mail address has more than 64 characters.")
	case f.orders[id] != nil:
		invalid(w, "A fulfillment order with sellerFulfillmentOrderId %s already exists.", id)
	default:
		for _, it := range req.Items {
			if !f.known[it.SellerSKU] {
				invalid(w, "the SellerSKU for Item Id: %s is invalid.", it.SellerItemID)
				return
			}
		}
		t := now()
		o := &order{req: req, status: "Received", received: t, updated: t}
		if len(f.short(req.Items)) > 0 {
			o.status = "Invalid"
		}
		for _, it := range req.Items {
			o.items = append(o.items, &item{sku: it.SellerSKU, id: it.SellerItemID, qty: *it.Quantity})
			if o.status == "Received" {
				f.stock[it.SellerSKU] -= *it.Quantity
				f.reserved[it.SellerSKU] += *it.Quantity
			} else {
				o.items[len(o.items)-1].unfulfill = *it.Quantity
			}
		}
		f.orders[id] = o
		writeJSON(w, http.StatusOK, map[string]any{})
	}
}

func (f *Fake) get(w http.ResponseWriter, r *http.Request, _ []byte) {
	o, ok := f.orders[r.PathValue("id")]
	if !ok {
		apiError(w, http.StatusNotFound, "NotFound", "The requested fulfillment order was not found.", "")
		return
	}
	q := o.req
	fo := map[string]any{
		"sellerFulfillmentOrderId": q.SellerFulfillmentOrderID, "marketplaceId": MarketplaceID,
		"displayableOrderId": q.DisplayableOrderID, "displayableOrderDate": q.DisplayableOrderDate,
		"displayableOrderComment": q.DisplayableOrderComment, "shippingSpeedCategory": q.ShippingSpeedCategory,
		"destinationAddress": q.DestinationAddress, "fulfillmentAction": or(q.FulfillmentAction, "Ship"),
		"fulfillmentPolicy": or(q.FulfillmentPolicy, "FillOrKill"), "receivedDate": o.received.Format(time.RFC3339),
		"fulfillmentOrderStatus": o.status, "statusUpdatedDate": o.updated.Format(time.RFC3339),
	}
	if len(q.NotificationEmails) > 0 {
		fo["notificationEmails"] = q.NotificationEmails
	}
	items := []map[string]any{}
	for _, it := range o.items {
		items = append(items, map[string]any{
			"sellerSku": it.sku, "sellerFulfillmentOrderItemId": it.id, "quantity": it.qty,
			"cancelledQuantity": it.cancelled, "unfulfillableQuantity": it.unfulfill, "orderItemDisposition": "Sellable",
		})
	}
	shipments := []map[string]any{}
	for _, s := range o.shipments {
		var units []map[string]any
		for _, u := range s.units {
			units = append(units, map[string]any{"sellerSku": u.sku, "sellerFulfillmentOrderItemId": u.itemID, "quantity": u.qty, "packageNumber": s.pkg})
		}
		shipments = append(shipments, map[string]any{
			"amazonShipmentId": s.id, "fulfillmentCenterId": "MCF1", "fulfillmentShipmentStatus": "SHIPPED",
			"shippingDate": s.at.Format(time.RFC3339), "fulfillmentShipmentItem": units,
			"fulfillmentShipmentPackage": []map[string]any{{"packageNumber": s.pkg, "carrierCode": s.carrier, "trackingNumber": s.tracking}},
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"payload": map[string]any{
		"fulfillmentOrder": fo, "fulfillmentOrderItems": items, "fulfillmentShipments": shipments,
		"returnItems": []any{}, "returnAuthorizations": []any{},
	}})
}

// or is s, or def when s is empty.
func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (f *Fake) cancel(w http.ResponseWriter, r *http.Request, _ []byte) {
	o, ok := f.orders[r.PathValue("id")]
	switch {
	case !ok:
		apiError(w, http.StatusNotFound, "NotFound", "The requested fulfillment order was not found.", "")
	case o.status == "Cancelled":
		writeJSON(w, http.StatusOK, map[string]any{})
	case slices.Contains([]string{"New", "Received", "Planning"}, o.status):
		for _, it := range o.items {
			f.release(it.sku, it.left())
			it.cancelled += it.left()
		}
		o.status, o.updated = "Cancelled", now()
		writeJSON(w, http.StatusOK, map[string]any{})
	default:
		invalid(w, "The fulfillment order cannot be cancelled in status %s.", o.status)
	}
}

func (f *Fake) summaries(w http.ResponseWriter, r *http.Request, _ []byte) {
	q := r.URL.Query()
	switch {
	case q.Get("granularityType") != "Marketplace":
		invalid(w, "Invalid granularityType %q.", q.Get("granularityType"))
		return
	case q.Get("granularityId") != MarketplaceID:
		invalid(w, "Invalid granularityId %q.", q.Get("granularityId"))
		return
	case len(q["marketplaceIds"]) != 1 || q.Get("marketplaceIds") != MarketplaceID:
		invalid(w, "Invalid marketplaceIds %q.", q["marketplaceIds"])
		return
	}
	skus := make([]string, 0, len(f.known))
	for sku := range f.known {
		skus = append(skus, sku)
	}
	slices.Sort(skus)
	from := 0
	if tok := q.Get("nextToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		n, perr := strconv.Atoi(strings.TrimPrefix(string(b), "from:"))
		if err != nil || perr != nil || !strings.HasPrefix(string(b), "from:") || n < 0 || n > len(skus) {
			invalid(w, "Invalid nextToken.")
			return
		}
		from = n
	}
	to := min(from+PageSize, len(skus))
	details := q.Get("details") == "true"
	list := []map[string]any{}
	for _, sku := range skus[from:to] {
		s := map[string]any{
			"asin": "B0MCFFAKE0", "fnSku": "X0MCFFAKE0", "sellerSku": sku, "condition": "NewItem",
			"lastUpdatedTime": now().Format(time.RFC3339), "productName": sku,
			"totalQuantity": f.stock[sku] + f.reserved[sku],
		}
		if details {
			s["inventoryDetails"] = map[string]any{
				"fulfillableQuantity": f.stock[sku], "inboundWorkingQuantity": 0, "inboundShippedQuantity": 0, "inboundReceivingQuantity": 0,
				"reservedQuantity": map[string]any{"totalReservedQuantity": f.reserved[sku], "pendingCustomerOrderQuantity": f.reserved[sku], "pendingTransshipmentQuantity": 0, "fcProcessingQuantity": 0},
			}
		}
		list = append(list, s)
	}
	doc := map[string]any{"payload": map[string]any{
		"granularity":        map[string]string{"granularityType": "Marketplace", "granularityId": MarketplaceID},
		"inventorySummaries": list,
	}}
	if to < len(skus) {
		doc["pagination"] = map[string]string{"nextToken": base64.RawURLEncoding.EncodeToString([]byte("from:" + strconv.Itoa(to)))}
	}
	writeJSON(w, http.StatusOK, doc)
}
