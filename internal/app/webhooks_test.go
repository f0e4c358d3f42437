package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/httpapi"
	"github.com/waybill/waybill/internal/testenv"
	"github.com/waybill/waybill/internal/webhook"
)

// receiver is a webhook consumer that fails for a while, then recovers,
// and verifies every signature with the Standard Webhooks algorithm.
type receiver struct {
	mu       sync.Mutex
	secret   string
	failures int               // answer 500 to this many requests first
	hang     int               // then time out on this many
	got      map[string]string // webhook-id -> type
	requests int
	badSigs  int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.requests++
	if err := webhook.Verify([]string{rc.secret}, r.Header, body, time.Now(), 5*time.Minute); err != nil {
		rc.badSigs++
	}
	if rc.failures > 0 {
		rc.failures--
		rc.mu.Unlock()
		http.Error(w, "down for maintenance", 500)
		return
	}
	if rc.hang > 0 {
		rc.hang--
		rc.mu.Unlock()
		time.Sleep(1500 * time.Millisecond)
		return
	}
	var ev struct {
		ID   string          `json:"id"`
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	_ = json.Unmarshal(body, &ev)
	if ev.ID != r.Header.Get("webhook-id") {
		rc.badSigs++
	}
	rc.got[ev.ID] = ev.Type
	rc.mu.Unlock()
	w.WriteHeader(204)
}

func (rc *receiver) count() (int, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got), rc.badSigs
}

func TestWebhooksAreDeliveredDespiteFailures(t *testing.T) {
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		a := testenv.NewApp(t, e, func(c *config.Config) { c.AllowPrivateWebhookURLs = true; c.ShutdownTimeout = 2 * time.Second })
		a.Deliverer.Schedule = []time.Duration{0, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}
		rc := &receiver{failures: 4, got: map[string]string{}}
		srv := httptest.NewServer(rc)
		defer srv.Close()
		ctx, stop := context.WithCancel(context.Background())
		done := a.StartBackground(ctx)
		defer func() { stop(); <-done }()

		_, key := a.Tenant("Shop")
		var ep httpapi.WebhookEndpointWithSecret
		r := a.Do("POST", "/api/v1/webhook-endpoints", key, map[string]any{"url": srv.URL + "/hooks", "events": []string{"inventory.*"}})
		if r.Code != 201 {
			t.Fatalf("endpoint: %d %s", r.Code, r.Body)
		}
		r.JSON(t, &ep)
		rc.mu.Lock()
		rc.secret = ep.Secret
		rc.mu.Unlock()
		a.Do("POST", "/api/v1/products", key, map[string]any{"sku": "MUG", "name": "Mug"})
		a.Do("POST", "/api/v1/facilities", key, map[string]any{"code": "MAIN", "name": "Main", "kind": "own"})
		const n = 6
		for i := 0; i < n; i++ {
			if r := a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "MUG", "facility": "MAIN", "quantity": 5, "kind": "receive"}); r.Code != 201 {
				t.Fatalf("adjust: %d %s", r.Code, r.Body)
			}
		}
		// A refused change writes no event, so nothing is delivered for it.
		if r := a.Do("POST", "/api/v1/inventory/adjustments", key, map[string]any{"sku": "MUG", "facility": "MAIN", "quantity": -1000, "reason": "x"}); r.Code != 409 {
			t.Fatalf("refused adjust: %d", r.Code)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, bad := rc.count()
			if bad > 0 {
				t.Fatalf("%d requests failed signature verification", bad)
			}
			if got >= n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d events delivered", got, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		var events struct{ Items []httpapi.Event }
		a.Do("GET", "/api/v1/events?type=inventory.adjusted", key, nil).JSON(t, &events)
		if len(events.Items) != n {
			t.Fatalf("%d inventory.adjusted events, want %d", len(events.Items), n)
		}
		rc.mu.Lock()
		for _, ev := range events.Items {
			if rc.got[ev.ID] != "inventory.adjusted" {
				t.Errorf("event %s not delivered", ev.ID)
			}
		}
		rc.mu.Unlock()
		// The delivery log shows the failed attempts and the success.
		// The receiver sees a request a moment before the worker records
		// the attempt: wait for the log to catch up.
		var ds struct{ Items []httpapi.WebhookDelivery }
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			ds.Items = nil
			a.Do("GET", "/api/v1/webhook-endpoints/"+ep.ID+"/deliveries", key, nil).JSON(t, &ds)
			pending := 0
			for _, d := range ds.Items {
				if d.Status == "pending" {
					pending++
				}
			}
			if pending == 0 || time.Now().After(deadline) {
				break
			}
		}
		retried := false
		for _, d := range ds.Items {
			if d.Status != "succeeded" {
				t.Errorf("delivery %s is %s", d.ID, d.Status)
			}
			if d.Attempts > 1 {
				retried = true
				var full httpapi.WebhookDelivery
				a.Do("GET", "/api/v1/webhook-deliveries/"+d.ID, key, nil).JSON(t, &full)
				if len(full.AttemptLog) != d.Attempts || full.AttemptLog[0].StatusCode != 500 {
					t.Errorf("attempt log: %+v", full.AttemptLog)
				}
			}
		}
		if !retried {
			t.Error("no delivery was retried although the receiver failed 4 times")
		}
		// Replay sends one again.
		before := rc.requests
		if r := a.Do("POST", "/api/v1/webhook-deliveries/"+ds.Items[0].ID+"/replay", key, nil); r.Code != 200 {
			t.Fatalf("replay: %d %s", r.Code, r.Body)
		}
		deadline = time.Now().Add(10 * time.Second)
		for {
			rc.mu.Lock()
			now := rc.requests
			rc.mu.Unlock()
			if now > before {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("replay was not sent")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
