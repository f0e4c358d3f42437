package app_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/testenv"
)

// inbox is a real SMTP server on loopback that keeps what it receives.
type inbox struct {
	mu   sync.Mutex
	msgs []string
	rcpt []string
}

func (b *inbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &inboxSession{b: b}, nil }

type inboxSession struct {
	b    *inbox
	rcpt []string
}

func (s *inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *inboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpt = append(s.rcpt, to)
	return nil
}
func (s *inboxSession) Data(r io.Reader) error {
	var buf bytes.Buffer
	io.Copy(&buf, r)
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, buf.String())
	s.b.rcpt = append(s.b.rcpt, s.rcpt...)
	s.b.mu.Unlock()
	return nil
}

// wait returns the messages once at least n have arrived, or fails with
// what after 20 seconds.
func (b *inbox) wait(t *testing.T, n int, what string) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b.mu.Lock()
		msgs := append([]string(nil), b.msgs...)
		b.mu.Unlock()
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d e-mails, want %d", what, len(msgs), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *inboxSession) Reset()        { s.rcpt = nil }
func (s *inboxSession) Logout() error { return nil }

// startInbox runs a real SMTP server on loopback for the test and returns
// what it receives and its address.
func startInbox(t *testing.T) (*inbox, string) {
	t.Helper()
	box := &inbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			t.Log(err)
		}
	}()
	t.Cleanup(func() { srv.Close() })
	return box, l.Addr().String()
}

func TestLowStockEmail(t *testing.T) {
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

		ten, _ := a.Tenant("Trail Co")
		if _, err := a.Auth.CreateUser(ctx, ten.ID, auth.NewUser{Email: "owner@shop.example", Name: "Olga Owner", Role: auth.Owner, Password: "long-enough-pw"}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Auth.CreateUser(ctx, ten.ID, auth.NewUser{Email: "picker@shop.example", Role: auth.Warehouse, Password: "long-enough-pw"}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Catalog.Create(ctx, ten.ID, "USD", catalog.Draft{SKU: "TENT", Name: "Ridgeline tent"}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Inventory.CreateFacility(ctx, ten.ID, inventory.FacilityInput{Code: "MAIN", Name: "Main", Kind: inventory.Own}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.Inventory.Adjust(ctx, ten.ID, inventory.Adjustment{SKU: "TENT", Facility: "MAIN", Quantity: 10, Kind: inventory.Receive}); err != nil {
			t.Fatal(err)
		}
		rp := int64(5)
		if _, err := a.Inventory.SetReorderSettings(ctx, ten.ID, "TENT", inventory.ReorderSettings{LeadTimeDays: 30, ReorderPoint: &rp}); err != nil {
			t.Fatal(err)
		}
		// Selling 6 takes available to 4, below the reorder point of 5.
		if _, _, err := a.Inventory.MakeReservation(ctx, ten.ID, inventory.ReserveRequest{Lines: []inventory.ReserveLine{{SKU: "TENT", Quantity: 6}}}); err != nil {
			t.Fatal(err)
		}
		box.wait(t, 1, "no low-stock e-mail arrived")
		time.Sleep(300 * time.Millisecond) // a second copy would arrive by now
		box.mu.Lock()
		defer box.mu.Unlock()
		if len(box.msgs) != 1 {
			t.Fatalf("%d e-mails, want 1", len(box.msgs))
		}
		msg := box.msgs[0]
		for _, want := range []string{"Low stock", "TENT", "Trail Co", "alerts@shop.example", "https://waybill.shop.example"} {
			if !strings.Contains(msg, want) {
				t.Errorf("e-mail lacks %q", want)
			}
		}
		if len(box.rcpt) != 1 || box.rcpt[0] != "owner@shop.example" {
			t.Fatalf("recipients %v: only owners and admins are told", box.rcpt)
		}
	})
}

// New orders are told at once after a quiet spell, then gathered: three
// more orders inside the window make one e-mail listing all three.
func TestNewOrderEmailsAreBatched(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		box, smtpAddr := startInbox(t)
		a := testenv.NewApp(t, e, func(c *config.Config) {
			c.SMTPURL = "smtp://" + smtpAddr + "?starttls=none"
			c.MailFrom = "Waybill <orders@shop.example>"
			c.NewOrderMailEvery = 2 * time.Second
		})
		ctx, stop := context.WithCancel(context.Background())
		done := a.StartBackground(ctx)
		defer func() { stop(); <-done }()
		ten, _ := a.Tenant("Trail Co")
		if _, err := a.Auth.CreateUser(ctx, ten.ID, auth.NewUser{Email: "owner@shop.example", Role: auth.Owner, Password: "long-enough-pw"}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Catalog.Create(ctx, ten.ID, "USD", catalog.Draft{SKU: "TENT", Name: "Ridgeline tent"}); err != nil {
			t.Fatal(err)
		}
		mk := func(ext, name string) {
			t.Helper()
			if _, _, err := a.Orders.Create(ctx, ten.ID, order.Input{ExternalID: ext, Number: "#" + ext, Currency: "USD", Customer: order.Customer{Name: name},
				Lines: []order.LineInput{{SKU: "TENT", Quantity: 1, UnitPrice: "289.00"}}}, "test"); err != nil {
				t.Fatal(err)
			}
		}
		waitFor := func(n int) []string { t.Helper(); return box.wait(t, n, "too few e-mails arrived") }
		mk("5001", "Ada Lovelace")
		first := waitFor(1)[0]
		if !strings.Contains(first, "5001") || !strings.Contains(first, "Ada Lovelace") {
			t.Fatalf("first e-mail: %s", first)
		}
		mk("5002", "Grace Hopper")
		mk("5003", "Katherine Johnson")
		mk("5004", "Dorothy Vaughan")
		msgs := waitFor(2)
		time.Sleep(500 * time.Millisecond) // a third e-mail would come by now
		box.mu.Lock()
		n := len(box.msgs)
		box.mu.Unlock()
		if n != 2 {
			t.Fatalf("%d e-mails for 4 orders, want 2 (one, then a batch)", n)
		}
		for _, want := range []string{"5002", "5003", "5004", "Grace Hopper", "Dorothy Vaughan"} {
			if !strings.Contains(msgs[1], want) {
				t.Errorf("batch e-mail lacks %q", want)
			}
		}
		if strings.Contains(msgs[1], "Ada Lovelace") {
			t.Error("the batch repeats an order already told")
		}
	})
}

// A shipment tells the customer, with its tracking; the merchant's owners
// are not copied.
func TestOrderShippedEmailGoesToTheCustomer(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		box, smtpAddr := startInbox(t)
		a := testenv.NewApp(t, e, func(c *config.Config) {
			c.SMTPURL = "smtp://" + smtpAddr + "?starttls=none"
			c.MailFrom = "Trail Co <shop@shop.example>"
		})
		ctx, stop := context.WithCancel(context.Background())
		done := a.StartBackground(ctx)
		defer func() { stop(); <-done }()
		ten, _ := a.Tenant("Trail Co")
		if _, err := a.Auth.CreateUser(ctx, ten.ID, auth.NewUser{Email: "owner@shop.example", Role: auth.Owner, Password: "long-enough-pw"}); err != nil {
			t.Fatal(err)
		}
		if err := a.Notify.SetNotificationSetting(ctx, ten.ID, "new_order", false); err != nil {
			t.Fatal(err)
		}
		// Customers' e-mails are off until the merchant turns them on.
		if s, _ := a.Notify.NotificationSettings(ctx, ten.ID); s["order_shipped"] {
			t.Fatal("order_shipped e-mails are on by default")
		}
		if err := a.Notify.SetNotificationSetting(ctx, ten.ID, "order_shipped", true); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Catalog.Create(ctx, ten.ID, "USD", catalog.Draft{SKU: "TENT", Name: "Ridgeline tent"}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Inventory.CreateFacility(ctx, ten.ID, inventory.FacilityInput{Code: "MAIN", Name: "Main", Kind: inventory.Own}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.Inventory.Adjust(ctx, ten.ID, inventory.Adjustment{SKU: "TENT", Facility: "MAIN", Quantity: 5, Kind: inventory.Receive}); err != nil {
			t.Fatal(err)
		}
		o, _, err := a.Orders.Create(ctx, ten.ID, order.Input{ExternalID: "S1", Number: "#7001", Currency: "USD", Customer: order.Customer{Name: "Ada Lovelace", Email: "ada@example.com"},
			Lines: []order.LineInput{{SKU: "TENT", Name: "Ridgeline tent", Quantity: 1, UnitPrice: "289.00"}}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		fos, err := a.Orders.FulfillmentOrders(ctx, ten.ID, o.ID)
		if err != nil || len(fos) != 1 {
			t.Fatalf("fulfilment orders: %v %d", err, len(fos))
		}
		if _, _, err := a.Orders.Fulfill(ctx, ten.ID, fos[0].ID, order.FulfillInput{Carrier: "UPS", Service: "Ground", TrackingNumber: "1Z999AA10123456784",
			TrackingURL: "https://www.ups.com/track?tracknum=1Z999AA10123456784"}, "user:test"); err != nil {
			t.Fatal(err)
		}
		box.wait(t, 1, "no shipped e-mail arrived")
		time.Sleep(300 * time.Millisecond)
		box.mu.Lock()
		defer box.mu.Unlock()
		if len(box.msgs) != 1 || len(box.rcpt) != 1 || box.rcpt[0] != "ada@example.com" {
			t.Fatalf("%d e-mails to %v; want one, to the customer", len(box.msgs), box.rcpt)
		}
		for _, want := range []string{"1Z999AA10123456784", "#7001", "Ridgeline tent", "Trail Co"} {
			if !strings.Contains(box.msgs[0], want) {
				t.Errorf("shipped e-mail lacks %q", want)
			}
		}
	})
}
