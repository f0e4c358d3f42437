package httpapi_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"strings"
	"testing"

	"github.com/waybill/waybill/internal/httpapi"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/testenv"
)

func shopifySig(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// A Shopify store's webhooks through the real router: connect the channel
// with the API, then deliver orders/create as Shopify does — signed, then
// forged, malformed, duplicated and stale.
func TestShopifyWebhooksEndToEnd(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e)
		_, key := a.Tenant("Tea Shop")
		must := func(r testenv.Response, code int) testenv.Response {
			t.Helper()
			if r.Code != code {
				t.Fatalf("status %d, want %d: %s", r.Code, code, r.Body)
			}
			return r
		}
		must(a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "TEA-KYOTO-BLK", "name": "Kyoto black tea"}), 201)
		must(a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "MAIN", "name": "Main", "kind": "own"}), 201)
		must(a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "TEA-KYOTO-BLK", "facility": "MAIN", "quantity": 100, "kind": "receive"}), 201)

		// Refused settings name the field; nothing is stored.
		p := problemOf(t, must(a.Do("POST", "/api/v1/channels", key, map[string]any{"kind": "shopify", "name": "Shop", "shop_domain": "https://x/y"}), 422))
		if len(p.Errors) == 0 {
			t.Fatalf("no field errors: %+v", p)
		}
		var ch httpapi.Channel
		must(a.Do("POST", "/api/v1/channels", key, map[string]any{"kind": "shopify", "name": "Tea Shop (Shopify)", "shop_domain": "tea-shop.myshopify.com",
			"access_token": "shpat_secret_token", "webhook_secret": "whsec_shopify"}), 201).JSON(t, &ch)
		if !strings.HasSuffix(ch.WebhookURL, httpapi.HooksPrefix+ch.ID) || len(ch.SecretsSet) != 2 {
			t.Fatalf("channel: %+v", ch)
		}
		r := must(a.Do("GET", "/api/v1/channels/"+ch.ID, key, nil), 200)
		if strings.Contains(string(r.Body), "whsec_shopify") || strings.Contains(string(r.Body), "shpat_secret_token") {
			t.Fatalf("a secret is shown: %s", r.Body)
		}

		body, err := os.ReadFile("../channels/shopify/testdata/orders_create.json")
		if err != nil {
			t.Fatal(err)
		}
		hook := func(b []byte, sig, eventID string) testenv.Response {
			return a.Do("POST", httpapi.HooksPrefix+ch.ID, "", b, "X-Shopify-Hmac-Sha256", sig, "X-Shopify-Topic", "orders/create",
				"X-Shopify-Shop-Domain", "tea-shop.myshopify.com", "X-Shopify-Webhook-Id", eventID, "X-Shopify-Event-Id", eventID)
		}
		listOrders := func() []order.Doc {
			var l struct{ Items []order.Doc }
			must(a.Do("GET", "/api/v1/orders?channel=shopify", key, nil), 200).JSON(t, &l)
			return l.Items
		}
		// Forged: 401, nothing stored.
		must(hook(body, shopifySig("not-the-secret", body), "e1"), 401)
		// Tampered body with the original signature: 401.
		must(hook([]byte(strings.Replace(string(body), "#1001", "#9999", 1)), shopifySig("whsec_shopify", body), "e1"), 401)
		// Malformed but signed: a 4xx, nothing stored.
		junk := []byte(`{"id": "not a number"`)
		if r := hook(junk, shopifySig("whsec_shopify", junk), "e0"); r.Code < 400 || r.Code >= 500 {
			t.Fatalf("malformed: %d %s", r.Code, r.Body)
		}
		if n := len(listOrders()); n != 0 {
			t.Fatalf("%d orders after refused deliveries", n)
		}
		// Signed: the order, with the number people know.
		must(hook(body, shopifySig("whsec_shopify", body), "e1"), 200)
		os := listOrders()
		if len(os) != 1 || os[0].Number != "#1001" || os[0].ExternalID != "5934567890123" || os[0].ChannelID != ch.ID {
			t.Fatalf("orders: %+v", os)
		}
		// The same delivery again, and again under another delivery id: one order.
		r = must(hook(body, shopifySig("whsec_shopify", body), "e1"), 200)
		if !strings.Contains(string(r.Body), `"duplicate":true`) {
			t.Fatalf("duplicate not recognised: %s", r.Body)
		}
		must(hook(body, shopifySig("whsec_shopify", body), "e2"), 200)
		if n := len(listOrders()); n != 1 {
			t.Fatalf("%d orders after duplicates", n)
		}
		// Unknown channel: 404.
		must(a.Do("POST", httpapi.HooksPrefix+"chn_nope", "", body, "X-Shopify-Hmac-Sha256", shopifySig("whsec_shopify", body)), 404)
	})
}
