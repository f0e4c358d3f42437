package app_test

import (
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/costs"
	"github.com/waybill/waybill/internal/dispatch"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/provider/amazonmcf/mcffake"
	"github.com/waybill/waybill/internal/provider/shipbob/shipbobfake"
	"github.com/waybill/waybill/internal/testenv"
)

// setupShop makes a tenant with a product stocked only at a facility of
// kind, and places an order for 2 of it.
func setupShop(t *testing.T, a *testenv.App, kind, code string, conn dispatch.ConnectionInput) (tenantID, facilityID string, o order.Order) {
	t.Helper()
	ctx := context.Background()
	ten, key := a.Tenant("Shop")
	do := func(method, path string, body any, code int) {
		t.Helper()
		if r := a.Do(method, path, key, body); r.Code != code {
			t.Fatalf("%s %s: %d %s", method, path, r.Code, r.Body)
		}
	}
	do("POST", "/api/v1/products", map[string]any{"sku": "LAMP", "name": "Desk lamp", "cost": "8.00", "currency": "USD"}, 201)
	f, err := a.Inventory.CreateFacility(ctx, ten.ID, inventory.FacilityInput{Code: code, Name: code + " partner", Kind: inventory.FacilityKind(kind)})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Dispatch.Connect(ctx, ten.ID, f.ID, conn); err != nil {
		t.Fatal(err)
	}
	do("POST", "/api/v1/inventory/adjustments", map[string]any{"sku": "LAMP", "facility": code, "quantity": 5, "kind": "receive"}, 201)
	o, _, err = a.Orders.Create(ctx, ten.ID, order.Input{Channel: "api", ExternalID: "D-1", Currency: "USD",
		Customer:        order.Customer{Name: "Grace Hopper", Email: "grace@example.com"},
		ShippingAddress: &order.Address{Name: "Grace Hopper", Line1: "2 Navy Way", City: "Arlington", Region: "VA", PostalCode: "22201", Country: "US"},
		Lines:           []order.LineInput{{SKU: "LAMP", Quantity: 2, UnitPrice: "30.00"}}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return ten.ID, f.ID, o
}

func onlyFO(t *testing.T, a *testenv.App, tenantID, orderID string) order.FulfillmentOrderView {
	t.Helper()
	fos, err := a.Orders.FulfillmentOrders(context.Background(), tenantID, orderID)
	if err != nil {
		t.Fatal(err)
	}
	var open []order.FulfillmentOrderView
	for _, f := range fos {
		if f.Status != order.FulfillmentClosed && f.Status != order.FulfillmentCancelled {
			open = append(open, f)
		}
	}
	if len(open) != 1 {
		t.Fatalf("fulfilment orders: %+v", fos)
	}
	return open[0]
}

// ShipBob: the request becomes a ShipBob order; polling brings back its
// shipment with tracking, which fulfils the order; stock is pulled.
func TestShipBobFulfilment(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		sb := shipbobfake.New()
		defer sb.Close()
		sb.SetStock("LAMP", 5)
		a := testenv.NewApp(t, e, func(c *config.Config) { c.AllowPrivateWebhookURLs = true })
		ctx := context.Background()
		tenantID, facID, o := setupShop(t, a, "3pl", "SB1", dispatch.ConnectionInput{Method: dispatch.ShipBob, FetchStock: true,
			Settings: map[string]any{"channel_id": shipbobfake.ChannelID, "endpoint": sb.URL()}, Secrets: map[string]any{"token": shipbobfake.Token}})
		// Credentials are checked when connecting.
		if _, _, err := a.Dispatch.Connect(ctx, tenantID, facID, dispatch.ConnectionInput{Method: dispatch.ShipBob, Settings: map[string]any{"channel_id": "x"},
			Secrets: map[string]any{"token": ""}}); err == nil {
			t.Fatal("bad ShipBob settings accepted")
		}
		fo := onlyFO(t, a, tenantID, o.ID)
		if _, err := a.Dispatch.Run(ctx); err != nil {
			t.Fatal(err)
		}
		fo = onlyFO(t, a, tenantID, o.ID)
		if fo.RequestStatus != order.RequestSubmitted || fo.ProviderRef == "" || fo.Pending != order.PendingPoll || fo.LastError != "" {
			t.Fatalf("after submit: %+v", fo)
		}
		if n := len(sb.Orders()); n != 1 {
			t.Fatalf("ShipBob has %d orders", n)
		}
		if err := sb.Ship(fo.ProviderRef, "USPS", "9400100000000000000001"); err != nil {
			t.Fatal(err)
		}
		later := time.Now().UTC().Add(10 * time.Minute)
		a.Orders.SetClock(func() time.Time { return later })
		a.Dispatch.SetClock(func() time.Time { return later })
		if _, err := a.Dispatch.Run(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := a.Orders.Get(ctx, tenantID, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Fulfillment != order.Fulfilled {
			fo, _ := a.Orders.FulfillmentOrder(ctx, tenantID, fo.ID)
			t.Fatalf("order %s, fulfilment order %+v", got.Fulfillment, fo)
		}
		fo, _ = a.Orders.FulfillmentOrder(ctx, tenantID, fo.ID)
		if fo.Status != order.FulfillmentClosed || fo.RequestStatus != order.RequestClosed || fo.Pending != "" {
			t.Fatalf("fulfilment order after shipping: %+v", fo)
		}
		// Polling again records nothing twice.
		if _, err := a.Dispatch.Run(ctx); err != nil {
			t.Fatal(err)
		}
		ls, _, _ := a.Inventory.Levels(ctx, tenantID, inventory.LevelFilter{SKU: "LAMP", FacilityID: facID, Limit: 5})
		if len(ls) != 1 || ls[0].OnHand != 3 || ls[0].Reserved != 0 {
			t.Fatalf("LAMP at SB1: %+v", ls)
		}
		// ShipBob's sellable stock comes into the ledger as a count.
		sb.SetStock("LAMP", 11)
		if _, err := a.Dispatch.SyncAllStock(ctx); err != nil {
			t.Fatal(err)
		}
		ls, _, _ = a.Inventory.Levels(ctx, tenantID, inventory.LevelFilter{SKU: "LAMP", FacilityID: facID, Limit: 5})
		if len(ls) != 1 || ls[0].OnHand != 11 {
			t.Fatalf("LAMP at SB1 after the stock pull: %+v", ls)
		}
		if ds, err := a.Inventory.Check(ctx); err != nil || len(ds) != 0 {
			t.Fatalf("check: %v %+v", err, ds)
		}
	})
}

// Dropship: the supplier gets a purchase order by e-mail with the PDF and
// CSV attached and a portal link; through the link it confirms and enters
// tracking, which fulfils the order. A tampered link shows nothing.
func TestDropshipPurchaseOrder(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		box, smtpAddr := startInbox(t)
		a := testenv.NewApp(t, e, func(c *config.Config) {
			c.SMTPURL = "smtp://" + smtpAddr + "?starttls=none"
			c.MailFrom = "Shop <orders@shop.example>"
			c.PublicURL = "https://waybill.shop.example"
		})
		ctx := context.Background()
		tenantID, facID, o := setupShop(t, a, "dropship", "ACME", dispatch.ConnectionInput{Method: dispatch.Email, Email: "orders@acme.example"})
		if r := a.Do("PUT", "/api/v1/facilities/"+facID+"/supplier-costs", "", nil); r.Code != 401 {
			t.Fatalf("unauthenticated: %d", r.Code)
		}
		if err := a.Costs.SetSupplierCosts(ctx, tenantID, facID, []costs.SupplierCost{{SKU: "LAMP", Currency: "USD", UnitCost: 1150}}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Dispatch.Run(ctx); err != nil {
			t.Fatal(err)
		}
		msgs := box.wait(t, 1, "purchase order")
		m, err := mail.ReadMessage(strings.NewReader(msgs[0]))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Header.Get("Subject"), "PO-") {
			t.Fatalf("subject %q", m.Header.Get("Subject"))
		}
		var text string
		names := map[string][]byte{}
		var walk func(ct string, body io.Reader)
		walk = func(ct string, body io.Reader) {
			mt, params, _ := mime.ParseMediaType(ct)
			if !strings.HasPrefix(mt, "multipart/") {
				return
			}
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextPart()
				if err != nil {
					return
				}
				var r io.Reader = p
				if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
					r = base64.NewDecoder(base64.StdEncoding, p)
				}
				pct := p.Header.Get("Content-Type")
				switch {
				case strings.HasPrefix(pct, "multipart/"):
					walk(pct, r)
				case p.FileName() != "":
					names[p.FileName()], _ = io.ReadAll(r)
				case strings.HasPrefix(pct, "text/plain"):
					b, _ := io.ReadAll(r)
					text += string(b)
				}
			}
		}
		walk(m.Header.Get("Content-Type"), m.Body)
		var pdf, csv []byte
		for n, b := range names {
			switch {
			case strings.HasSuffix(n, ".pdf"):
				pdf = b
			case strings.HasSuffix(n, ".csv"):
				csv = b
			}
		}
		if !strings.HasPrefix(string(pdf), "%PDF-") || !strings.Contains(string(csv), "LAMP") || !strings.Contains(string(csv), "11.50") {
			t.Fatalf("attachments: %v; csv %q", len(names), csv)
		}
		i := strings.Index(text, "https://waybill.shop.example/portal/fulfillment-orders/")
		if i < 0 {
			t.Fatalf("no portal link in %q", text)
		}
		link := strings.Fields(text[i:])[0]
		u, err := url.Parse(strings.ReplaceAll(link, "=\r\n", ""))
		if err != nil {
			t.Fatal(err)
		}
		token := u.Query().Get("token")
		fo := onlyFO(t, a, tenantID, o.ID)
		if fo.RequestStatus != order.RequestSubmitted {
			t.Fatalf("after sending: %+v", fo)
		}
		if _, err := a.Dispatch.OpenPortal(ctx, fo.ID, token+"x"); err == nil {
			t.Fatal("a tampered token opened the portal")
		}
		p, err := a.Dispatch.OpenPortal(ctx, fo.ID, token)
		if err != nil {
			t.Fatalf("portal: %v", err)
		}
		if p.PurchaseOrder.Lines[0].UnitCost.Minor != 1150 || p.Order.Number != o.Number {
			t.Fatalf("portal shows %+v", p.PurchaseOrder)
		}
		if _, err := a.Dispatch.PortalAct(ctx, fo.ID, token, order.FulfillmentAction{Kind: order.ActionAccept}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Dispatch.PortalFulfil(ctx, fo.ID, token, order.FulfillInput{Carrier: "UPS", TrackingNumber: "1ZACME"}); err != nil {
			t.Fatal(err)
		}
		got, _ := a.Orders.Get(ctx, tenantID, o.ID)
		if got.Fulfillment != order.Fulfilled {
			t.Fatalf("order %s", got.Fulfillment)
		}
		// Once the secret is rotated, the old link stops working.
		if _, err := a.Dispatch.RotateSecret(ctx, tenantID, facID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Dispatch.OpenPortal(ctx, fo.ID, token); err == nil {
			t.Fatal("an old link still works after rotating the secret")
		}
	})
}

// Amazon MCF: the request becomes an MCF fulfilment order; Amazon marking
// it Unfulfillable is a rejection, which re-sources the units elsewhere.
func TestAmazonMCFFulfilment(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		mcf := mcffake.New()
		defer mcf.Close()
		mcf.SetStock("LAMP", 5)
		a := testenv.NewApp(t, e, func(c *config.Config) { c.AllowPrivateWebhookURLs = true })
		ctx := context.Background()
		cfg := mcf.Config()
		tenantID, _, o := setupShop(t, a, "3pl", "FBA", dispatch.ConnectionInput{Method: dispatch.AmazonMCF,
			Settings: map[string]any{"region": cfg.Region, "marketplace_id": cfg.MarketplaceID, "client_id": cfg.ClientID, "endpoint": cfg.Endpoint, "token_url": cfg.TokenURL},
			Secrets:  map[string]any{"client_secret": cfg.ClientSecret, "refresh_token": cfg.RefreshToken}})
		if _, err := a.Dispatch.Run(ctx); err != nil {
			t.Fatal(err)
		}
		fo := onlyFO(t, a, tenantID, o.ID)
		if fo.RequestStatus != order.RequestSubmitted || fo.ProviderRef == "" || fo.LastError != "" {
			t.Fatalf("after submit: %+v", fo)
		}
		if err := mcf.Ship(fo.ProviderRef, "UPS", "1ZMCF0001"); err != nil {
			t.Fatal(err)
		}
		later := time.Now().UTC().Add(10 * time.Minute)
		a.Orders.SetClock(func() time.Time { return later })
		a.Dispatch.SetClock(func() time.Time { return later })
		if _, err := a.Dispatch.Run(ctx); err != nil {
			t.Fatal(err)
		}
		got, _ := a.Orders.Get(ctx, tenantID, o.ID)
		if got.Fulfillment != order.Fulfilled {
			fo, _ := a.Orders.FulfillmentOrder(ctx, tenantID, fo.ID)
			t.Fatalf("order %s; fulfilment order %+v", got.Fulfillment, fo)
		}

		// A second order Amazon cannot fulfil: rejected, and with no other
		// facility the order is held with the reason, stock kept.
		o2, _, err := a.Orders.Create(ctx, tenantID, order.Input{Channel: "api", ExternalID: "D-2", Currency: "USD", Customer: order.Customer{Name: "Alan"},
			ShippingAddress: &order.Address{Name: "Alan Turing", Line1: "1 Bletchley Park", City: "Milton Keynes", PostalCode: "MK3 6EB", Country: "GB"},
			Lines:           []order.LineInput{{SKU: "LAMP", Quantity: 1, UnitPrice: "30.00"}}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Dispatch.Run(ctx); err != nil {
			t.Fatal(err)
		}
		fo2 := onlyFO(t, a, tenantID, o2.ID)
		if err := mcf.Advance(fo2.ProviderRef, "Unfulfillable"); err != nil {
			t.Fatal(err)
		}
		evenLater := later.Add(10 * time.Minute)
		a.Orders.SetClock(func() time.Time { return evenLater })
		a.Dispatch.SetClock(func() time.Time { return evenLater })
		if _, err := a.Dispatch.Run(ctx); err != nil {
			t.Fatal(err)
		}
		fo2, _ = a.Orders.FulfillmentOrder(ctx, tenantID, fo2.ID)
		got, _ = a.Orders.Get(ctx, tenantID, o2.ID)
		if fo2.RequestStatus != order.RequestRejected || !got.OnHold() || got.Lines[0].Reserved != 1 {
			t.Fatalf("after Unfulfillable: %+v; order holds %+v lines %+v", fo2, got.Holds, got.Lines)
		}
		hist, _ := a.Orders.RequestHistory(ctx, tenantID, fo.ID)
		if len(hist) == 0 || !strings.Contains(hist[0].Message, "estimated fee") {
			t.Fatalf("the first request's history does not carry Amazon's quote: %+v", hist)
		}

		// Amazon's preview says it cannot ship a third: rejected before any
		// MCF order is made there.
		mcf.SetStock("LAMP", 0)
		made := len(mcf.Requests("createFulfillmentOrder"))
		o3, _, err := a.Orders.Create(ctx, tenantID, order.Input{Channel: "api", ExternalID: "D-3", Currency: "USD", Customer: order.Customer{Name: "Ada"},
			ShippingAddress: &order.Address{Name: "Ada", Line1: "1 Main St", City: "Boulder", Region: "CO", PostalCode: "80302", Country: "US"},
			Lines:           []order.LineInput{{SKU: "LAMP", Quantity: 1, UnitPrice: "30.00"}}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Dispatch.Run(ctx); err != nil {
			t.Fatal(err)
		}
		fo3 := onlyFO(t, a, tenantID, o3.ID)
		if fo3.RequestStatus != order.RequestRejected || len(mcf.Requests("createFulfillmentOrder")) != made {
			t.Fatalf("after an unfulfillable preview: %+v (%d orders made, %d before)", fo3, len(mcf.Requests("createFulfillmentOrder")), made)
		}
		if ds, err := a.Inventory.Check(ctx); err != nil || len(ds) != 0 {
			t.Fatalf("check: %v %+v", err, ds)
		}
	})
}

// A 3PL refusing a request e-mails the owners, saying what happens next.
func TestFulfillmentRejectedEmail(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		box, smtpAddr := startInbox(t)
		a := testenv.NewApp(t, e, func(c *config.Config) {
			c.SMTPURL = "smtp://" + smtpAddr + "?starttls=none"
			c.MailFrom = "Waybill <alerts@shop.example>"
			c.PublicURL = "https://waybill.shop.example"
		})
		ctx, stop := context.WithCancel(context.Background())
		done := a.StartBackground(ctx)
		defer func() { stop(); <-done }()
		tenantID, _, o := setupShop(t, a, "3pl", "EU1", dispatch.ConnectionInput{Method: dispatch.Callback, CallbackURL: "https://3pl.example/waybill"})
		if _, err := a.Auth.CreateUser(ctx, tenantID, auth.NewUser{Email: "owner@shop.example", Name: "Olga Owner", Role: auth.Owner, Password: "long-enough-pw"}); err != nil {
			t.Fatal(err)
		}
		fo := onlyFO(t, a, tenantID, o.ID)
		if _, err := a.Orders.Act(ctx, tenantID, fo.ID, order.FulfillmentAction{Kind: order.ActionReject, Reason: "INVENTORY_OUT_OF_STOCK", Message: "flooded"}, "key:3pl"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			box.mu.Lock()
			var found string
			for _, m := range box.msgs {
				if strings.Contains(m, "EU1 refused order "+o.Number) {
					found = m
				}
			}
			box.mu.Unlock()
			if found != "" {
				for _, want := range []string{"INVENTORY_OUT_OF_STOCK", "flooded", "on hold", "https://waybill.shop.example/fulfillment/" + fo.ID} {
					if !strings.Contains(strings.ReplaceAll(found, "=\r\n", ""), want) {
						t.Fatalf("the e-mail lacks %q:\n%s", want, found)
					}
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("no e-mail about the refusal")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
