package webhook

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every server in these tests listens on loopback, and every refusal is made
// before a connection is attempted: nothing here reaches another address.

// receiver is a webhook endpoint that verifies what it is sent.
type receiver struct {
	secret string
	hits   atomic.Int64
	mu     sync.Mutex
	last   *http.Request
	body   []byte
	err    error
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.hits.Add(1)
	body, _ := io.ReadAll(r.Body)
	err := Verify([]string{rc.secret}, r.Header, body, time.Now(), 0)
	rc.mu.Lock()
	rc.last, rc.body, rc.err = r, body, err
	rc.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	w.Header().Set("X-Receipt", "ok")
	w.WriteHeader(http.StatusNoContent)
}

func TestDeliverSignedToReceiver(t *testing.T) {
	rc := &receiver{secret: NewSecret()}
	srv := httptest.NewServer(rc)
	defer srv.Close()

	body := []byte(`{"type":"order.created","timestamp":"2026-03-01T12:00:00Z","data":{"id":"ord_1"}}`)
	c := Policy{AllowPrivate: true}.Client(5 * time.Second)
	res := Deliver(context.Background(), c, srv.URL+"/hooks", rc.secret, "msg_01", time.Now(), body)
	if !res.OK() || res.Err != "" {
		t.Fatalf("Deliver = %+v", res)
	}
	if res.StatusCode != http.StatusNoContent || res.ResponseHeaders.Get("X-Receipt") != "ok" || res.Latency <= 0 {
		t.Fatalf("Deliver = %+v", res)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.err != nil {
		t.Fatalf("the receiver could not verify the delivery: %v", rc.err)
	}
	if rc.last.Method != http.MethodPost || rc.last.URL.Path != "/hooks" || !bytes.Equal(rc.body, body) {
		t.Fatalf("receiver got %s %s %q", rc.last.Method, rc.last.URL.Path, rc.body)
	}
	if ct, ua := rc.last.Header.Get("Content-Type"), rc.last.Header.Get("User-Agent"); ct != "application/json" || ua != "Waybill-Webhooks/1" {
		t.Fatalf("Content-Type %q, User-Agent %q", ct, ua)
	}
	// A receiver holding a different secret rejects the same delivery.
	other := &receiver{secret: NewSecret()}
	srv2 := httptest.NewServer(other)
	defer srv2.Close()
	res = Deliver(context.Background(), c, srv2.URL, rc.secret, "msg_01", time.Now(), body)
	if res.OK() || res.StatusCode != http.StatusUnauthorized || res.Err != "status 401 Unauthorized" {
		t.Fatalf("Deliver with a wrong secret = %+v", res)
	}
	if !strings.Contains(string(res.ResponseBody), "no matching signature") {
		t.Fatalf("response body %q", res.ResponseBody)
	}
}

func TestDeliverSignedDuringRotation(t *testing.T) {
	oldSecret, newSecret := NewSecret(), NewSecret()
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		body, _ := io.ReadAll(r.Body)
		// A receiver still on the old secret, and one already on the new.
		for _, s := range []string{oldSecret, newSecret} {
			if err := Verify([]string{s}, r.Header, body, time.Now(), 0); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
		}
	}))
	defer srv.Close()
	c := Policy{AllowPrivate: true}.Client(2 * time.Second)
	res := DeliverSigned(context.Background(), c, srv.URL, []string{newSecret, oldSecret}, "evt_01", time.Now(), []byte(`{}`))
	if !res.OK() {
		t.Fatalf("DeliverSigned = %+v", res)
	}
	if sigs := strings.Fields(got.Get("webhook-signature")); len(sigs) != 2 {
		t.Fatalf("webhook-signature = %q, want two signatures", got.Get("webhook-signature"))
	}
	if res := DeliverSigned(context.Background(), c, srv.URL, nil, "evt_01", time.Now(), nil); res.OK() || !strings.Contains(res.Err, "no secret") {
		t.Fatalf("DeliverSigned with no secret = %+v", res)
	}
}

// TestDeliverRefusesLoopback: the production client reaches no loopback
// endpoint, however its address is written.
func TestDeliverRefusesLoopback(t *testing.T) {
	rc := &receiver{secret: NewSecret()}
	srv := httptest.NewTLSServer(rc)
	defer srv.Close()
	plain := httptest.NewServer(rc)
	defer plain.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	plainPort := plain.Listener.Addr().(*net.TCPAddr).Port
	p := func(port int) string { return ":" + strconv.Itoa(port) }

	c := Policy{Resolver: fakeResolver(t, nil)}.Client(2 * time.Second)
	for _, tt := range []struct{ url, want string }{
		{srv.URL, "refused: 127.0.0.1 is a loopback address"},
		{plain.URL, "refused: must use https"},
		{"https://localhost" + p(port), "refused: localhost is a private network name"},
		{"https://127.1" + p(port), "refused: 127.1 is 127.0.0.1, a loopback address"},
		{"https://2130706433" + p(port), "refused: 2130706433 is 127.0.0.1"},
		{"https://0177.0.0.1" + p(port), "refused: 0177.0.0.1 is 127.0.0.1"},
		{"https://0x7f.1" + p(port), "refused: 0x7f.1 is 127.0.0.1"},
		{"https://[::ffff:127.0.0.1]" + p(port), "refused: ::ffff:127.0.0.1 is an IPv4-mapped form of 127.0.0.1"},
		{"https://[::1]" + p(port), "refused: ::1 is a loopback address"},
		{"https://0.0.0.0" + p(port), "refused: 0.0.0.0 is the unspecified address"},
		{"http://127.0.0.1" + p(plainPort), "refused: must use https"},
	} {
		res := Deliver(context.Background(), c, tt.url, rc.secret, "msg_1", time.Now(), []byte(`{}`))
		if res.OK() || !strings.HasPrefix(res.Err, tt.want) || res.StatusCode != 0 {
			t.Errorf("Deliver(%s) = %+v, want Err starting %q", tt.url, res, tt.want)
		}
	}
	if n := rc.hits.Load(); n != 0 {
		t.Fatalf("the receiver was reached %d times", n)
	}
}

// TestControlRefusesLocalhostAtConnect takes away the URL check, leaving the
// dialer's own: localhost resolves to loopback, and the connection is refused
// when it is made.
func TestControlRefusesLocalhostAtConnect(t *testing.T) {
	rc := &receiver{secret: NewSecret()}
	srv := httptest.NewTLSServer(rc)
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	c := Policy{Resolver: fakeResolver(t, nil)}.Client(2 * time.Second)
	c.Transport = c.Transport.(*guard).base // dial-time check only
	res := Deliver(context.Background(), c, "https://localhost:"+strconv.Itoa(port)+"/", rc.secret, "msg_1", time.Now(), []byte(`{}`))
	if res.OK() || !strings.HasPrefix(res.Err, "refused: ") || !strings.Contains(res.Err, "is a loopback address") {
		t.Fatalf("Deliver(localhost) = %+v, want a loopback refusal", res)
	}
	if n := rc.hits.Load(); n != 0 {
		t.Fatalf("the receiver was reached %d times", n)
	}
}

// TestDeliverRefusesNameResolvingToLoopback: a public-looking name passes
// CheckURL, but the address it resolves to is checked at connect time, so a
// name pointing (or rebinding) at an internal address is refused.
func TestDeliverRefusesNameResolvingToLoopback(t *testing.T) {
	rc := &receiver{secret: NewSecret()}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	port := strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)
	resolver := fakeResolver(t, map[string]netip.Addr{
		"hooks.waybill.test.":  netip.MustParseAddr("127.0.0.1"),
		"mapped.waybill.test.": netip.MustParseAddr("::ffff:127.0.0.1"),
	})

	prod := Policy{Resolver: resolver}
	for _, host := range []string{"hooks.waybill.test", "mapped.waybill.test"} {
		url := "https://" + host + ":" + port + "/"
		if err := prod.CheckURL(url); err != nil {
			t.Fatalf("CheckURL(%s) = %v; the name itself is fine", url, err)
		}
		res := Deliver(context.Background(), prod.Client(2*time.Second), url, rc.secret, "msg_1", time.Now(), []byte(`{}`))
		if res.OK() || res.Err != "refused: 127.0.0.1 is a loopback address" {
			t.Errorf("Deliver(%s) = %+v, want a loopback refusal", url, res)
		}
	}
	if n := rc.hits.Load(); n != 0 {
		t.Fatalf("the receiver was reached %d times", n)
	}

	// The same name works in development, which shows that the refusal came
	// from the address and not from the lookup failing.
	dev := Policy{AllowPrivate: true, Resolver: resolver}
	res := Deliver(context.Background(), dev.Client(2*time.Second), "http://hooks.waybill.test:"+port+"/", rc.secret, "msg_1", time.Now(), []byte(`{}`))
	if !res.OK() {
		t.Fatalf("development Deliver = %+v", res)
	}
}

func TestDeliverDoesNotFollowRedirects(t *testing.T) {
	internal := &receiver{secret: NewSecret()}
	target := httptest.NewServer(internal)
	defer target.Close()
	var hits atomic.Int64
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, target.URL+"/admin", http.StatusFound)
	}))
	defer redirector.Close()

	c := Policy{AllowPrivate: true}.Client(2 * time.Second)
	res := Deliver(context.Background(), c, redirector.URL, internal.secret, "msg_1", time.Now(), []byte(`{}`))
	if res.OK() || res.StatusCode != http.StatusFound || res.Err != "redirect 302 not followed" {
		t.Fatalf("Deliver = %+v", res)
	}
	if loc := res.ResponseHeaders.Get("Location"); loc != target.URL+"/admin" {
		t.Fatalf("Location = %q", loc)
	}
	if hits.Load() != 1 || internal.hits.Load() != 0 {
		t.Fatalf("redirector hit %d times, redirect target %d times", hits.Load(), internal.hits.Load())
	}
	// And the production policy would refuse the target outright.
	if err := (Policy{}).CheckURL(target.URL); err == nil {
		t.Fatal("CheckURL accepts the redirect target")
	}
}

func TestDeliverFailures(t *testing.T) {
	for _, tt := range []struct {
		status int
		want   string
	}{
		{301, "redirect 301 not followed"},
		{307, "redirect 307 not followed"},
		{308, "redirect 308 not followed"},
		{304, "redirect 304 not followed"},
		{400, "status 400 Bad Request"},
		{404, "status 404 Not Found"},
		{410, "status 410 Gone"},
		{429, "status 429 Too Many Requests"},
		{500, "status 500 Internal Server Error"},
		{503, "status 503 Service Unavailable"},
		{599, "status 599 "},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(tt.status)
			io.WriteString(w, "nope")
		}))
		res := Deliver(context.Background(), Policy{AllowPrivate: true}.Client(time.Second), srv.URL, NewSecret(), "msg_1", time.Now(), nil)
		srv.Close()
		if res.OK() || res.StatusCode != tt.status || res.Err != tt.want || res.ResponseHeaders.Get("Retry-After") != "120" {
			t.Errorf("status %d: Deliver = %+v, want Err %q", tt.status, res, tt.want)
		}
	}
	for _, status := range []int{200, 201, 202, 204, 299} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
		res := Deliver(context.Background(), Policy{AllowPrivate: true}.Client(time.Second), srv.URL, NewSecret(), "msg_1", time.Now(), nil)
		srv.Close()
		if !res.OK() || res.StatusCode != status {
			t.Errorf("status %d: Deliver = %+v, want success", status, res)
		}
	}
}

func TestDeliverTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	c := Policy{AllowPrivate: true}.Client(200 * time.Millisecond)
	res := Deliver(context.Background(), c, srv.URL, NewSecret(), "msg_1", time.Now(), nil)
	if res.OK() || !strings.HasPrefix(res.Err, "timed out after ") || res.StatusCode != 0 {
		t.Fatalf("Deliver = %+v, want a time-out", res)
	}
	if res.Latency < 200*time.Millisecond || res.Latency > 2*time.Second {
		t.Fatalf("Latency = %v", res.Latency)
	}
	if !strings.HasPrefix(res.Err, "timed out after 20") {
		t.Errorf("Err = %q, want about 200ms", res.Err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res := Deliver(ctx, c, srv.URL, NewSecret(), "msg_1", time.Now(), nil); res.Err != "canceled" {
		t.Fatalf("Deliver with a canceled context = %+v", res)
	}
}

func TestDeliverConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	url := "http://" + addr + "/hook?token=s3cret"
	res := Deliver(context.Background(), Policy{AllowPrivate: true}.Client(time.Second), url, NewSecret(), "msg_1", time.Now(), nil)
	if res.OK() || !strings.Contains(res.Err, "connection refused") {
		t.Fatalf("Deliver = %+v", res)
	}
	if strings.Contains(res.Err, "s3cret") {
		t.Fatalf("Err repeats the URL: %q", res.Err)
	}
}

func TestDeliverBadInput(t *testing.T) {
	c := Policy{AllowPrivate: true}.Client(time.Second)
	if res := Deliver(context.Background(), c, "http://127.0.0.1:1/", "whsec_short", "msg_1", time.Now(), nil); res.OK() || !strings.Contains(res.Err, "secret") {
		t.Fatalf("bad secret: %+v", res)
	}
	if res := Deliver(context.Background(), c, "http://127.0.0.1:1/", NewSecret(), "a.b", time.Now(), nil); res.OK() || !strings.Contains(res.Err, "message id") {
		t.Fatalf("bad id: %+v", res)
	}
	if res := Deliver(context.Background(), c, "http://a b/", NewSecret(), "msg_1", time.Now(), nil); res.OK() || !strings.HasPrefix(res.Err, "invalid URL") {
		t.Fatalf("bad URL: %+v", res)
	}
}

func TestResponseBodyIsLimited(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 1<<20)
	got, err := ReadLimited(bytes.NewReader(big))
	if err != nil || len(got) != MaxResponseBody {
		t.Fatalf("ReadLimited = %d bytes, %v", len(got), err)
	}
	got, err = ReadLimited(strings.NewReader("short"))
	if err != nil || string(got) != "short" {
		t.Fatalf("ReadLimited = %q, %v", got, err)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for i := 0; i < 64; i++ { // 64 MiB, far more than is read
			if _, err := w.Write(big); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	res := Deliver(context.Background(), Policy{AllowPrivate: true}.Client(5*time.Second), srv.URL, NewSecret(), "msg_1", time.Now(), nil)
	if !res.OK() || len(res.ResponseBody) != MaxResponseBody {
		t.Fatalf("Deliver = status %d, %d body bytes, Err %q", res.StatusCode, len(res.ResponseBody), res.Err)
	}
}

// BenchmarkDeliver measures signed deliveries per second from 16 concurrent
// senders to a fast local receiver through the checking client.
func BenchmarkDeliver(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c := Policy{AllowPrivate: true}.Client(10 * time.Second)
	defer c.CloseIdleConnections()
	secret := NewSecret()
	body := bytes.Repeat([]byte(`{"type":"order.created","data":{"id":"ord_01jd5x"}}`), 10)

	const senders = 16
	var next, failed atomic.Int64
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				res := Deliver(context.Background(), c, srv.URL, secret, "msg_01jd5x", time.Now(), body)
				if !res.OK() {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d deliveries failed", n)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}

// fakeResolver returns a resolver that never leaves the machine: it asks a
// small DNS server on loopback, which answers A and AAAA questions for names
// (fully qualified, lower case) and NXDOMAIN for the rest. Answers carry a
// zero TTL, as a rebinding attacker's would.
func fakeResolver(t testing.TB, names map[string]netip.Addr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n], names); resp != nil {
				pc.WriteTo(resp, from)
			}
		}
	}()
	server := pc.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", server)
		},
	}
}

// dnsAnswer builds the reply to a one-question DNS query (RFC 1035 4.1).
func dnsAnswer(q []byte, names map[string]netip.Addr) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil
	}
	var name strings.Builder
	i := 12
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if l > 63 || i+1+l > len(q) {
			return nil
		}
		name.WriteString(strings.ToLower(string(q[i+1 : i+1+l])))
		name.WriteByte('.')
		i += 1 + l
	}
	end := i + 5 // the root label, QTYPE and QCLASS
	if end > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	resp := append([]byte(nil), q[:end]...)
	resp[2] = 0x81 // a response to a recursive query
	resp[3] = 0x80 // recursion available, no error
	binary.BigEndian.PutUint16(resp[6:], 0)
	binary.BigEndian.PutUint16(resp[8:], 0)
	binary.BigEndian.PutUint16(resp[10:], 0)
	ip, ok := names[name.String()]
	if !ok {
		resp[3] |= 3 // NXDOMAIN
		return resp
	}
	var rdata []byte
	switch {
	case qtype == 1 && ip.Is4():
		b := ip.As4()
		rdata = b[:]
	case qtype == 28 && !ip.Is4():
		b := ip.As16()
		rdata = b[:]
	default:
		return resp // the name exists, without an address of this type
	}
	binary.BigEndian.PutUint16(resp[6:], 1)
	resp = append(resp, 0xc0, 12) // the name, by pointer to the question
	resp = binary.BigEndian.AppendUint16(resp, qtype)
	resp = binary.BigEndian.AppendUint16(resp, 1) // IN
	resp = binary.BigEndian.AppendUint32(resp, 0) // TTL
	resp = binary.BigEndian.AppendUint16(resp, uint16(len(rdata)))
	return append(resp, rdata...)
}
