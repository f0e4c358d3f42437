package channels_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/catalog"
	"github.com/waybill/waybill/internal/channels"
	"github.com/waybill/waybill/internal/errs"
	"github.com/waybill/waybill/internal/inventory"
	"github.com/waybill/waybill/internal/order"
	"github.com/waybill/waybill/internal/store"
	"github.com/waybill/waybill/internal/testenv"
)

// fake is a channel whose webhooks are JSON orders signed with hex
// HMAC-SHA256 in X-Fake-Signature, and whose poll serves a fixed list.
type fake struct {
	secret string
	mu     *sync.Mutex
	orders *[]order.Input
}

type fakeHook struct {
	ID      string    `json:"id"`
	Ext     string    `json:"ext"`
	Qty     int64     `json:"qty"`
	Updated time.Time `json:"updated"`
	Cancel  bool      `json:"cancel"`
}

func (f fake) VerifyWebhook(h http.Header, body []byte) error {
	m := hmac.New(sha256.New, []byte(f.secret))
	m.Write(body)
	if !hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), []byte(h.Get("X-Fake-Signature"))) {
		return channels.ErrBadSignature
	}
	return nil
}

func hookInput(w fakeHook) order.Input {
	upd := w.Updated
	return order.Input{ExternalID: w.Ext, Number: "#" + w.Ext, Currency: "USD", UpdatedAt: &upd, Cancelled: w.Cancel,
		Lines: []order.LineInput{{SKU: "MUG", Quantity: w.Qty, UnitPrice: "5.00", ExternalID: "l1"}}}
}

func (f fake) ParseWebhook(ctx context.Context, h http.Header, body []byte) (channels.Webhook, error) {
	var w fakeHook
	if err := json.Unmarshal(body, &w); err != nil || w.Ext == "" {
		return channels.Webhook{}, errs.E("fake.Parse", errs.Invalid, "not an order")
	}
	return channels.Webhook{ID: w.ID, Topic: "order", Orders: []order.Input{hookInput(w)}}, nil
}

func (f fake) Poll(ctx context.Context, since time.Time, cursor string) (channels.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cursor == "" && len(*f.orders) > 1 {
		return channels.Page{Orders: (*f.orders)[:1], Next: "p2"}, nil
	}
	if cursor == "p2" {
		return channels.Page{Orders: (*f.orders)[1:]}, nil
	}
	return channels.Page{Orders: *f.orders}, nil
}

func sign(secret string, body []byte) http.Header {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	h := http.Header{}
	h.Set("X-Fake-Signature", hex.EncodeToString(m.Sum(nil)))
	return h
}

func TestWebhooksDuplicatedReorderedAndForged(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		db := e.Open(t)
		ctx := context.Background()
		ten, _ := auth.NewService(store.NewAuth(db)).CreateTenant(ctx, "Shop", "UTC", "USD")
		cat := catalog.NewService(store.NewCatalog(db))
		inv := inventory.NewService(store.NewInventory(db))
		if _, err := cat.Create(ctx, ten.ID, "USD", catalog.Draft{SKU: "MUG", Name: "Mug"}); err != nil {
			t.Fatal(err)
		}
		if _, err := inv.CreateFacility(ctx, ten.ID, inventory.FacilityInput{Code: "MAIN", Name: "Main", Kind: inventory.Own}); err != nil {
			t.Fatal(err)
		}
		inv.Adjust(ctx, ten.ID, inventory.Adjustment{SKU: "MUG", Facility: "MAIN", Quantity: 50, Kind: inventory.Receive})
		ord := order.NewService(store.NewOrders(db), inv)
		polled := &[]order.Input{}
		kind := channels.Kind{Name: "fake", Webhooks: true, Secrets: []string{"webhook_secret"}, PollEvery: time.Minute,
			New: func(s map[string]any, hc *http.Client) (channels.Connector, error) {
				sec, _ := s["webhook_secret"].(string)
				if sec == "" {
					return nil, errs.InvalidFields("fake", errs.FieldError{Field: "webhook_secret", Message: "is required"})
				}
				return fake{secret: sec, mu: &sync.Mutex{}, orders: polled}, nil
			}}
		svc := channels.NewService(store.NewChannels(db), ord, http.DefaultClient, kind)
		if _, err := svc.Create(ctx, ten.ID, channels.Input{Kind: "fake", Name: "Fake"}); !errs.Is(errs.Invalid, err) {
			t.Fatalf("missing secret: %v", err)
		}
		if _, err := svc.Create(ctx, ten.ID, channels.Input{Kind: "nope", Name: "X"}); !errs.Is(errs.Invalid, err) {
			t.Fatalf("unknown kind: %v", err)
		}
		ch, err := svc.Create(ctx, ten.ID, channels.Input{Kind: "fake", Name: "Fake", Settings: map[string]any{"webhook_secret": "s3cret", "shop": "x"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, shown := ch.Settings["webhook_secret"]; shown || len(ch.SecretsSet) != 1 {
			t.Fatalf("secret kept with the settings: %+v", ch)
		}
		t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
		mk := func(id string, qty int64, mins int, cancel bool) []byte {
			b, _ := json.Marshal(fakeHook{ID: id, Ext: "A1", Qty: qty, Updated: t0.Add(time.Duration(mins) * time.Minute), Cancel: cancel})
			return b
		}
		// A forged delivery: 401, nothing stored.
		body := mk("d0", 9, 0, false)
		if _, err := svc.Receive(ctx, ch.ID, sign("wrong", body), body); !errors.Is(err, channels.ErrBadSignature) {
			t.Fatalf("forged: %v", err)
		}
		if os, _, _ := ord.List(ctx, ten.ID, order.Filter{}, ""); len(os) != 0 {
			t.Fatal("a forged webhook made an order")
		}
		// Malformed but signed: Invalid, nothing stored.
		junk := []byte(`{"ext":`)
		if _, err := svc.Receive(ctx, ch.ID, sign("s3cret", junk), junk); !errs.Is(errs.Invalid, err) {
			t.Fatalf("malformed: %v", err)
		}
		// Created, updated twice, an old update late, duplicates of each.
		stream := [][]byte{mk("d1", 1, 0, false), mk("d2", 3, 2, false), mk("d1", 1, 0, false), mk("d3", 2, 1, false), mk("d2", 3, 2, false), mk("d4", 3, 2, false)}
		var wg sync.WaitGroup
		for _, b := range stream {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := svc.Receive(ctx, ch.ID, sign("s3cret", b), b); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		// Concurrent arrival may apply d2 before d1; apply the stream once
		// more in order to be sure the final state does not depend on it.
		for _, b := range stream {
			if _, err := svc.Receive(ctx, ch.ID, sign("s3cret", b), b); err != nil {
				t.Fatal(err)
			}
		}
		os, _, _ := ord.List(ctx, ten.ID, order.Filter{}, "")
		if len(os) != 1 || os[0].Lines[0].Quantity != 3 || os[0].Lines[0].Reserved != 3 || os[0].Channel != "fake" || os[0].ChannelID != ch.ID {
			t.Fatalf("after the stream: %d orders %+v", len(os), os)
		}
		// The reconciliation poll brings an order whose webhook was lost and
		// a cancellation of A1; pages are followed.
		upd := t0.Add(10 * time.Minute)
		*polled = []order.Input{hookInput(fakeHook{Ext: "B2", Qty: 1, Updated: upd}), hookInput(fakeHook{Ext: "A1", Qty: 3, Updated: upd, Cancel: true})}
		n, err := svc.Poll(ctx, ten.ID, ch.ID)
		if err != nil || n != 2 {
			t.Fatalf("poll: %d %v", n, err)
		}
		if n, _ := svc.Poll(ctx, ten.ID, ch.ID); n != 0 {
			t.Fatalf("second poll changed %d", n)
		}
		os, _, _ = ord.List(ctx, ten.ID, order.Filter{Sort: "placed_at"}, "")
		if len(os) != 2 || string(os[0].Status)+" "+string(os[1].Status) != "cancelled open" {
			t.Fatalf("after poll: %+v", os)
		}
		got, _ := svc.Get(ctx, ten.ID, ch.ID)
		if got.LastPollAt == nil || got.PollCursor != "" || got.LastError != "" || got.LastHookAt == nil {
			t.Fatalf("poll state: %+v", got)
		}
	})
}
