package woocommerce_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"os"
	"testing"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/channels/woocommerce"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
)

// TestWebhooksBecomeOrders sends the sample deliveries through the channel
// service into a real order service.
func TestWebhooksBecomeOrders(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		db := e.Open(t)
		ctx := context.Background()
		ten, err := auth.NewService(store.NewAuth(db)).CreateTenant(ctx, "Boutique", "UTC", "EUR")
		if err != nil {
			t.Fatal(err)
		}
		inv := inventory.NewService(store.NewInventory(db))
		if _, err := inv.CreateFacility(ctx, ten.ID, inventory.FacilityInput{Code: "MAIN", Name: "Main", Kind: inventory.Own}); err != nil {
			t.Fatal(err)
		}
		ord := order.NewService(store.NewOrders(db), inv)
		svc := channels.NewService(store.NewChannels(db), ord, http.DefaultClient, woocommerce.Kind())
		ch, err := svc.Create(ctx, ten.ID, channels.Input{Kind: "woocommerce", Name: "Boutique", Settings: map[string]any{
			"store_url": "https://boutique.example.fr", "consumer_key": "ck", "consumer_secret": "cs", "webhook_secret": "hush"}})
		if err != nil {
			t.Fatal(err)
		}
		send := func(file, topic string, signed bool) channels.Result {
			t.Helper()
			body, err := os.ReadFile("testdata/" + file)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			if signed {
				m := hmac.New(sha256.New, []byte("hush"))
				m.Write(body)
				h.Set("X-WC-Webhook-Topic", topic)
				h.Set("X-WC-Webhook-Delivery-ID", file)
				h.Set("X-WC-Webhook-Signature", base64.StdEncoding.EncodeToString(m.Sum(nil)))
			}
			res, err := svc.Receive(ctx, ch.ID, h, body)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			return res
		}
		if res := send("ping.txt", "", false); !res.Ignored || len(res.OrderIDs) != 0 {
			t.Errorf("ping: %+v", res)
		}
		res := send("order_created.json", "order.created", true)
		o, err := ord.Get(ctx, ten.ID, res.OrderIDs[0])
		if err != nil {
			t.Fatal(err)
		}
		// WooCommerce says 30.49; its unit price 3.6366… is written 3.64,
		// so three of them come to a cent more than its line total 10.91.
		if o.Total != 3050 || o.TaxTotal != 508 || o.ShippingTotal != 490 || o.DiscountTotal != 240 || o.Number != "#727" || o.TaxesIncluded {
			t.Errorf("order: total %d tax %d shipping %d discount %d", o.Total, o.TaxTotal, o.ShippingTotal, o.DiscountTotal)
		}
		res = send("order_refunded.json", "order.updated", true)
		if r, _ := ord.Get(ctx, ten.ID, res.OrderIDs[0]); r.Status != order.Cancelled || r.PaymentStatus != "refunded" {
			t.Errorf("refunded order: %+v", r)
		}
		if res := send("order_deleted.json", "order.deleted", true); !res.Ignored || len(res.OrderIDs) != 0 {
			t.Errorf("deleted: %+v", res)
		}
	})
}
