package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/testenv"
	"github.com/waybill/waybill/internal/webhook"
)

// TestKillNineLosesNoEvent streams stock changes and orders at a real waybill serve,
// kills it with SIGKILL at random moments and restarts it. Afterwards every
// committed change has had its event delivered at least once (signed), and
// no event exists for a change that did not commit.
func TestKillNineLosesNoEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and crashes it")
	}
	bin := filepath.Join(t.TempDir(), "waybill")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	testenv.Each(t, func(t *testing.T, e testenv.Engine) {
		dir := t.TempDir()
		dsn := e.DSN(t)
		run := func(args ...string) string {
			t.Helper()
			cmd := exec.Command(bin, append(args, "--db", dsn)...)
			cmd.Dir = dir
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("waybill %v: %v", args, err)
			}
			return strings.TrimSpace(string(out))
		}
		run("tenant", "create", "Crash Shop")
		key := run("apikey", "create", "--tenant", "Crash Shop")

		var mu sync.Mutex
		delivered := map[string]bool{}
		secret := ""
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			if err := webhook.Verify([]string{secret}, r.Header, body, time.Now(), 5*time.Minute); err != nil {
				http.Error(w, "bad signature", 400)
				return
			}
			delivered[r.Header.Get("webhook-id")] = true
			w.WriteHeader(200)
		}))
		defer recv.Close()

		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		base := "http://" + addr + "/api/v1"
		var srv *exec.Cmd
		var srvMu sync.Mutex
		start := func() {
			srv = exec.Command(bin, "serve", "--db", dsn, "--addr", addr, "--allow-private-webhook-urls", "--idempotency-timeout", "1s")
			srv.Dir = dir
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 200; i++ {
				if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
					resp.Body.Close()
					if resp.StatusCode == 200 {
						return
					}
				}
				time.Sleep(25 * time.Millisecond)
			}
			t.Fatal("server did not come up")
		}
		client := &http.Client{Timeout: 5 * time.Second}
		call := func(method, path string, body any, idem string) (int, []byte) {
			b, _ := json.Marshal(body)
			req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			if idem != "" {
				req.Header.Set("Idempotency-Key", idem)
			}
			resp, err := client.Do(req)
			if err != nil {
				return 0, nil
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, out
		}
		start()
		defer func() { srvMu.Lock(); srv.Process.Kill(); srv.Wait(); srvMu.Unlock() }()
		code, out := call("POST", "/webhook-endpoints", map[string]any{"url": recv.URL, "events": []string{"inventory.adjusted", "order.created"}}, "")
		if code != 201 {
			t.Fatalf("endpoint: %d %s", code, out)
		}
		var ep struct{ Secret string }
		json.Unmarshal(out, &ep)
		mu.Lock()
		secret = ep.Secret
		mu.Unlock()
		call("POST", "/products", map[string]any{"sku": "BOLT", "name": "Bolt"}, "")
		call("POST", "/facilities", map[string]any{"code": "MAIN", "name": "Main", "kind": "own"}, "")

		// Stream receipts from a writer while a killer sends SIGKILL at
		// random moments (often mid-request) and restarts the server.
		const writes = 120
		stopKiller := make(chan struct{})
		killerDone := make(chan struct{})
		go func() {
			defer close(killerDone)
			for k := 0; k < 3; k++ {
				select {
				case <-stopKiller:
					return
				case <-time.After(time.Duration(150+rand.IntN(400)) * time.Millisecond):
				}
				srvMu.Lock()
				srv.Process.Signal(syscall.SIGKILL)
				srv.Wait()
				start()
				srvMu.Unlock()
			}
		}()
		for i := 0; i < writes; i++ {
			// A client retries with the same Idempotency-Key until it gets
			// an answer, as real integrations do.
			deadline := time.Now().Add(30 * time.Second)
			for {
				code, out := call("POST", "/inventory/adjustments", map[string]any{"sku": "BOLT", "facility": "MAIN", "quantity": 1, "kind": "receive"}, fmt.Sprintf("w-%d", i))
				if code == 201 || (code == 409 && strings.Contains(string(out), "idempotency_key_response_lost")) {
					break // done, or done before the crash took its answer
				}
				if time.Now().After(deadline) {
					t.Fatalf("write %d never succeeded (last status %d)", i, code)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if i%3 != 0 {
				continue
			}
			// Every third write is also an order reserving one bolt.
			for {
				code, out := call("POST", "/orders", map[string]any{"channel": "web", "external_id": fmt.Sprintf("o-%d", i), "currency": "USD",
					"customer": map[string]any{"name": "Crash Buyer"}, "lines": []map[string]any{{"sku": "BOLT", "quantity": 1, "unit_price": "1.00"}}}, fmt.Sprintf("o-%d", i))
				if code == 201 || code == 200 || (code == 409 && strings.Contains(string(out), "idempotency_key_response_lost")) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("order %d never succeeded (last status %d)", i, code)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		const orders = (writes + 2) / 3
		close(stopKiller)
		<-killerDone
		// Every committed change is a ledger row; each must have an event,
		// and each event must reach the receiver.
		var events []string
		cursor := ""
		for {
			_, out := call("GET", "/events?limit=250&cursor="+cursor, nil, "")
			var page struct {
				Items []struct {
					ID   string
					Type string
					Data struct{ ID string }
				}
				NextCursor string `json:"next_cursor"`
			}
			json.Unmarshal(out, &page)
			for _, it := range page.Items {
				if it.Type == "inventory.adjusted" || it.Type == "order.created" {
					events = append(events, it.ID)
				}
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		_, out = call("GET", "/inventory?sku=BOLT", nil, "")
		var lv struct {
			Items []struct {
				OnHand   int64 `json:"on_hand"`
				Reserved int64 `json:"reserved"`
			}
		}
		json.Unmarshal(out, &lv)
		if len(lv.Items) != 1 || lv.Items[0].OnHand != writes || lv.Items[0].Reserved != orders {
			t.Fatalf("stock after %d idempotent writes and %d orders: %+v", writes, orders, lv)
		}
		_, out = call("GET", "/orders?limit=250", nil, "")
		var ol struct {
			Items []struct {
				ExternalID string `json:"external_id"`
			}
		}
		json.Unmarshal(out, &ol)
		seenExt := map[string]bool{}
		for _, o := range ol.Items {
			seenExt[o.ExternalID] = true
		}
		if len(ol.Items) != orders || len(seenExt) != orders {
			t.Fatalf("%d orders (%d distinct) for %d created", len(ol.Items), len(seenExt), orders)
		}
		if len(events) != writes+orders {
			t.Fatalf("%d events for %d committed changes", len(events), writes+orders)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			missing := 0
			for _, id := range events {
				if !delivered[id] {
					missing++
				}
			}
			extra := len(delivered) - (len(events) - missing)
			mu.Unlock()
			if extra > 0 {
				t.Fatalf("%d deliveries for events that do not exist", extra)
			}
			if missing == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d events never delivered", missing, len(events))
			}
			time.Sleep(100 * time.Millisecond)
		}
		var check bytes.Buffer
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
		cmd := exec.Command(bin, "check", "--db", dsn)
		cmd.Stdout, cmd.Stderr = &check, &check
		if err := cmd.Run(); err != nil {
			t.Fatalf("waybill check after crashes: %v\n%s", err, check.String())
		}
	})
}
