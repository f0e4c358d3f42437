package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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
)

// TestThreeProcessesShareOnePostgres runs three waybill serve processes on
// one PostgreSQL database, sends writes to all of them, and checks that the
// background work they share (fanning events out, delivering webhooks) is
// done once: every event reaches the receiver exactly once, and no job is
// left behind.
func TestThreeProcessesShareOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	var pg *testenv.Engine
	for _, e := range testenv.Engines(t) {
		if e.Name == "postgres" {
			pg = &e
		}
	}
	if pg == nil {
		t.Skip("needs PostgreSQL (WAYBILL_TEST_POSTGRES)")
	}
	bin := filepath.Join(t.TempDir(), "waybill")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dsn := pg.DSN(t)
	dir := t.TempDir()
	cli := func(args ...string) string {
		cmd := exec.Command(bin, append(args, "--db", dsn)...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("waybill %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	cli("migrate")
	cli("tenant", "create", "Busy Shop")
	key := cli("apikey", "create", "--tenant", "Busy Shop")

	var mu sync.Mutex
	got := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.Header.Get("webhook-id")]++
		mu.Unlock()
		w.WriteHeader(204)
	}))
	defer recv.Close()

	var addrs []string
	var procs []*exec.Cmd
	for i := 0; i < 3; i++ {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		p := exec.Command(bin, "serve", "--db", dsn, "--addr", addr, "--allow-private-webhook-urls", "--rate-limit", "0")
		p.Dir = dir
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
		addrs = append(addrs, addr)
	}
	defer func() {
		for _, p := range procs {
			p.Process.Kill()
			p.Wait()
		}
	}()
	for _, addr := range addrs {
		ok := false
		for i := 0; i < 200 && !ok; i++ {
			if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
				resp.Body.Close()
				ok = resp.StatusCode == 200
			}
			time.Sleep(25 * time.Millisecond)
		}
		if !ok {
			t.Fatalf("%s never became ready", addr)
		}
	}
	call := func(addr, method, path string, body any) (int, []byte) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, "http://"+addr+"/api/v1"+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	if code, out := call(addrs[0], "POST", "/webhook-endpoints", map[string]any{"url": recv.URL, "events": []string{"inventory.adjusted"}}); code != 201 {
		t.Fatalf("endpoint: %d %s", code, out)
	}
	call(addrs[1], "POST", "/facilities", map[string]any{"code": "MAIN", "name": "Main", "kind": "own"})
	const skus, perSKU = 10, 20
	for s := 0; s < skus; s++ {
		call(addrs[2], "POST", "/products", map[string]any{"sku": fmt.Sprintf("S%d", s), "name": "Part"})
	}
	// Writes from 12 clients spread over the three processes.
	var wg sync.WaitGroup
	for c := 0; c < 12; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; i < skus*perSKU/12+1; i++ {
				n := c*1000 + i
				if n%1000 >= skus*perSKU/12+1 {
					break
				}
				code, out := call(addrs[n%3], "POST", "/inventory/adjustments", map[string]any{"sku": fmt.Sprintf("S%d", n%skus), "facility": "MAIN", "quantity": 1, "kind": "receive"})
				if code != 201 {
					t.Errorf("adjust: %d %s", code, out)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	_, out := call(addrs[0], "GET", "/events?type=inventory.adjusted&limit=250", nil)
	var page struct{ Items []struct{ ID string } }
	json.Unmarshal(out, &page)
	want := len(page.Items)
	if want == 0 {
		t.Fatal("no events")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events delivered", n, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // room for any duplicate to show
	mu.Lock()
	for id, n := range got {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	mu.Unlock()
	for _, p := range procs {
		p.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		if err := p.Wait(); err != nil {
			t.Errorf("a process did not stop cleanly: %v", err)
		}
	}
	procs = nil
	// No job stuck: nothing left running or discarded, and nothing waiting
	// but a periodic job whose slot began as the processes stopped.
	db := testenvOpen(t, dsn)
	var stuck int
	if err := db.QueryRow(`SELECT COUNT(*) FROM jobs WHERE status IN ('running', 'discarded') OR (status = 'available' AND unique_key IS NULL)`).Scan(&stuck); err != nil {
		t.Fatal(err)
	}
	if stuck != 0 {
		rows, _ := db.Query(`SELECT kind, status, attempt, last_error FROM jobs WHERE status IN ('running', 'discarded') OR (status = 'available' AND unique_key IS NULL)`)
		for rows.Next() {
			var k, s, e string
			var a int
			rows.Scan(&k, &s, &a, &e)
			t.Logf("job %s %s attempt %d: %s", k, s, a, e)
		}
		t.Fatalf("%d jobs not completed", stuck)
	}
}
