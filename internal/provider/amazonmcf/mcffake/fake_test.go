package mcffake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/waybill/waybill/internal/provider"
)

// token gets an access token from the fake's LWA endpoint.
func token(t *testing.T, f *Fake) string {
	resp, err := f.HTTPClient().PostForm(f.URL()+"/auth/o2/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {RefreshToken}, "client_id": {ClientID}, "client_secret": {ClientSecret},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || tr.AccessToken == "" || tr.ExpiresIn != 3600 {
		t.Fatalf("token answer %+v %v", tr, err)
	}
	return tr.AccessToken
}

// call makes an SP-API call and returns its status, Amazon's first error
// code and the body.
func call(t *testing.T, f *Fake, tok, method, path, body string) (int, string, string) {
	req, _ := http.NewRequest(method, f.URL()+path, strings.NewReader(body))
	req.Header.Set("x-amz-access-token", tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var doc struct {
		Errors []struct{ Code string } `json:"errors"`
	}
	_ = json.Unmarshal(b, &doc)
	code := ""
	if len(doc.Errors) > 0 {
		code = doc.Errors[0].Code
	}
	if resp.StatusCode >= 400 && resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("%s %s: no x-amzn-RequestId", method, path)
	}
	return resp.StatusCode, code, string(b)
}

const orderJSON = `{"sellerFulfillmentOrderId":"ful_1","displayableOrderId":"#1","displayableOrderDate":"2024-05-01T10:00:00Z",
	"displayableOrderComment":"hi","shippingSpeedCategory":"Standard",
	"destinationAddress":{"name":"J","addressLine1":"1 St","city":"Canton","stateOrRegion":"MI","postalCode":"48817","countryCode":"US"},
	"items":[{"sellerSku":"A","sellerFulfillmentOrderItemId":"1","quantity":2}]}`

func TestFakeFollowsTheModel(t *testing.T) {
	f := New()
	defer f.Close()
	f.SetStock("A", 3)
	if st, code, _ := call(t, f, "Atza|forged", "GET", "/fba/outbound/2020-07-01/fulfillmentOrders/x", ""); st != 403 || code != "Unauthorized" {
		t.Errorf("a forged token: %d %s", st, code)
	}
	tok := token(t, f)
	for name, body := range map[string]string{
		"unknown field":  strings.Replace(orderJSON, `"items"`, `"lineItems"`, 1),
		"no postal code": strings.Replace(orderJSON, `"postalCode":"48817",`, ``, 1),
		"bad speed":      strings.Replace(orderJSON, `"Standard"`, `"Teleport"`, 1),
		"zero quantity":  strings.Replace(orderJSON, `"quantity":2`, `"quantity":0`, 1),
		"two spaces":     strings.Replace(orderJSON, `"#1"`, `"a  b"`, 1),
		"long id":        strings.Replace(orderJSON, `"ful_1"`, `"`+strings.Repeat("x", 41)+`"`, 1),
		"unknown SKU":    strings.Replace(orderJSON, `"sellerSku":"A"`, `"sellerSku":"Z"`, 1),
	} {
		if st, code, _ := call(t, f, tok, "POST", "/fba/outbound/2020-07-01/fulfillmentOrders", body); st != 400 || code != "InvalidInput" {
			t.Errorf("%s: %d %s, want 400 InvalidInput", name, st, code)
		}
	}
	if st, _, _ := call(t, f, tok, "POST", "/fba/outbound/2020-07-01/fulfillmentOrders", orderJSON); st != 200 {
		t.Fatalf("create: %d", st)
	}
	if st, code, _ := call(t, f, tok, "POST", "/fba/outbound/2020-07-01/fulfillmentOrders", orderJSON); st != 400 || code != "InvalidInput" {
		t.Errorf("a duplicate: %d %s", st, code)
	}
	st, _, body := call(t, f, tok, "GET", "/fba/outbound/2020-07-01/fulfillmentOrders/ful_1", "")
	if st != 200 || !strings.Contains(body, `"payload"`) || !strings.Contains(body, `"fulfillmentOrderStatus":"Received"`) {
		t.Errorf("get: %d %s", st, body)
	}
	if st, code, _ := call(t, f, tok, "GET", "/fba/outbound/2020-07-01/fulfillmentOrders/nope", ""); st != 404 || code != "NotFound" {
		t.Errorf("unknown order: %d %s", st, code)
	}
	if st, code, _ := call(t, f, tok, "GET", "/fba/inventory/v1/summaries?granularityType=Marketplace&granularityId="+MarketplaceID+"&marketplaceIds="+MarketplaceID+"&nextToken=bogus", ""); st != 400 || code != "InvalidInput" {
		t.Errorf("a bad nextToken: %d %s", st, code)
	}
	if st, _, body := call(t, f, tok, "GET", "/fba/inventory/v1/summaries?granularityType=Marketplace&granularityId="+MarketplaceID+"&marketplaceIds="+MarketplaceID, ""); st != 200 ||
		!strings.Contains(body, `"totalQuantity":3`) || strings.Contains(body, "inventoryDetails") {
		t.Errorf("summaries without details: %d %s", st, body)
	}
	f.Throttle(1)
	if st, code, _ := call(t, f, tok, "GET", "/fba/outbound/2020-07-01/fulfillmentOrders/ful_1", ""); st != 429 || code != "QuotaExceeded" {
		t.Errorf("throttled: %d %s", st, code)
	}
	// The forged, found, unknown and throttled ones.
	if n := len(f.Requests("getFulfillmentOrder")); n != 4 {
		t.Errorf("%d getFulfillmentOrder calls recorded, want 4", n)
	}
}

func TestFakeControls(t *testing.T) {
	f := New()
	defer f.Close()
	if err := f.Advance("nope", "Planning"); err == nil {
		t.Error("advanced an unknown order")
	}
	f.SetStock("A", 3)
	tok := token(t, f)
	if st, _, _ := call(t, f, tok, "POST", "/fba/outbound/2020-07-01/fulfillmentOrders", orderJSON); st != 200 {
		t.Fatalf("create: %d", st)
	}
	if err := f.Advance("ful_1", "Shipped"); err == nil {
		t.Error("advanced to a status the model does not have")
	}
	if err := f.Ship("ful_1", "UPS", "1Z", provider.Line{SKU: "A", Quantity: 3}); err == nil {
		t.Error("shipped more than was ordered")
	}
	if err := f.Ship("ful_1", "UPS", "1Z", provider.Line{SKU: "A", Quantity: 2}); err != nil {
		t.Fatal(err)
	}
	if err := f.Ship("ful_1", "UPS", "1Z"); err == nil {
		t.Error("shipped a complete order")
	}
	_, _, body := call(t, f, tok, "GET", "/fba/outbound/2020-07-01/fulfillmentOrders/ful_1", "")
	if !strings.Contains(body, `"fulfillmentOrderStatus":"Complete"`) || !strings.Contains(body, `"trackingNumber":"1Z"`) {
		t.Errorf("after Ship: %s", body)
	}
}
