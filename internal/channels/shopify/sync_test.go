package shopify_test

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
	"github.com/waybill/waybill/internal/channels/shopify"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
)

// TestWebhooksBecomeOrders sends the sample deliveries through the channel
// service into a real order service: the order service takes what the
// parser makes, and the totals it computes are Shopify's.
func TestWebhooksBecomeOrders(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		db := e.Open(t)
		ctx := context.Background()
		ten, err := auth.NewService(store.NewAuth(db)).CreateTenant(ctx, "Shop", "UTC", "USD")
		if err != nil {
			t.Fatal(err)
		}
		inv := inventory.NewService(store.NewInventory(db))
		if _, err := inv.CreateFacility(ctx, ten.ID, inventory.FacilityInput{Code: "MAIN", Name: "Main", Kind: inventory.Own}); err != nil {
			t.Fatal(err)
		}
		ord := order.NewService(store.NewOrders(db), inv)
		svc := channels.NewService(store.NewChannels(db), ord, http.DefaultClient, shopify.Kind())
		ch, err := svc.Create(ctx, ten.ID, channels.Input{Kind: "shopify", Name: "Acme", Settings: map[string]any{
			"shop_domain": "acme.myshopify.com", "access_token": "shpat_x", "webhook_secret": "hush"}})
		if err != nil {
			t.Fatal(err)
		}
		receive := func(file, topic string) order.Order {
			t.Helper()
			body, err := os.ReadFile("testdata/" + file)
			if err != nil {
				t.Fatal(err)
			}
			m := hmac.New(sha256.New, []byte("hush"))
			m.Write(body)
			h := http.Header{}
			h.Set("X-Shopify-Topic", topic)
			h.Set("X-Shopify-Webhook-Id", file)
			h.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(m.Sum(nil)))
			res, err := svc.Receive(ctx, ch.ID, h, body)
			if err != nil || len(res.OrderIDs) != 1 {
				t.Fatalf("%s: %+v, %v", file, res, err)
			}
			o, err := ord.Get(ctx, ten.ID, res.OrderIDs[0])
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
		o := receive("orders_create.json", "orders/create")
		// Shopify's current_total_price, current_total_tax, current_subtotal_price.
		if o.Total != 12909 || o.TaxTotal != 762 || o.Subtotal != 11247 || o.ShippingTotal != 900 || len(o.Lines) != 2 || o.Number != "#1001" {
			t.Errorf("order: total %d tax %d subtotal %d shipping %d, %d lines", o.Total, o.TaxTotal, o.Subtotal, o.ShippingTotal, len(o.Lines))
		}
		c := receive("orders_cancelled.json", "orders/cancelled")
		if c.Status != order.Cancelled || c.Currency != "JPY" || c.Lines[0].Cancelled != 2 {
			t.Errorf("cancelled order: %+v", c)
		}
	})
}
