package webhook

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/waybill/waybill/internal/errs"
)

func TestRefused(t *testing.T) {
	refused := map[string]string{
		"0.0.0.0":         "the unspecified address",
		"0.1.2.3":         "this network",
		"10.0.0.5":        "a private address",
		"10.255.255.255":  "a private address",
		"100.64.0.1":      "carrier-grade NAT",
		"100.100.100.200": "carrier-grade NAT",
		"127.0.0.1":       "a loopback address",
		"127.255.255.254": "a loopback address",
		"169.254.169.254": "the cloud metadata address",
		"169.254.0.1":     "a link-local address",
		"172.16.0.1":      "a private address",
		"172.31.255.255":  "a private address",
		"192.0.0.8":       "IETF protocol assignment",
		"192.0.2.1":       "documentation",
		"192.88.99.1":     "6to4 relay",
		"192.168.1.1":     "a private address",
		"198.18.0.1":      "benchmarking",
		"198.19.255.255":  "benchmarking",
		"198.51.100.7":    "documentation",
		"203.0.113.9":     "documentation",
		"224.0.0.1":       "multicast",
		"239.255.255.250": "multicast",
		"240.0.0.1":       "reserved",
		"255.255.255.255": "the broadcast address",

		"::":                       "the unspecified address",
		"::1":                      "a loopback address",
		"::ffff:127.0.0.1":         "IPv4-mapped form of 127.0.0.1, a loopback address",
		"::ffff:7f00:1":            "IPv4-mapped form of 127.0.0.1",
		"::ffff:169.254.169.254":   "IPv4-mapped form of 169.254.169.254, the cloud metadata address",
		"::ffff:10.0.0.1":          "a private address",
		"::127.0.0.1":              "IPv4-compatible form of 127.0.0.1",
		"::8.8.8.8":                "deprecated IPv4-compatible",
		"::ffff:0:127.0.0.1":       "IPv4-translated form of 127.0.0.1",
		"64:ff9b::7f00:1":          "NAT64 form of 127.0.0.1, a loopback address",
		"64:ff9b::a9fe:a9fe":       "NAT64 form of 169.254.169.254",
		"64:ff9b::10.1.2.3":        "NAT64 form of 10.1.2.3, a private address",
		"64:ff9b:1::1":             "local-use NAT64",
		"2002:7f00:1::1":           "6to4 form of 127.0.0.1, a loopback address",
		"2002:a00:5::":             "6to4 form of 10.0.0.5, a private address",
		"2002:c0a8:101::1":         "6to4 form of 192.168.1.1",
		"100::1":                   "discard-only",
		"2001::1":                  "Teredo",
		"2001:db8::1":              "documentation",
		"3fff::1":                  "documentation",
		"fc00::1":                  "unique local",
		"fd00:ec2::254":            "unique local",
		"fe80::1":                  "a link-local address",
		"fe80::1%eth0":             "zone eth0",
		"fec0::1":                  "site-local",
		"ff02::1":                  "multicast",
		"1::1":                     "not a global unicast address",
		"4000::1":                  "not a global unicast address",
		"2606:4700:4700::1%eth0":   "zone",
		"::ffff:255.255.255.255":   "broadcast",
		"64:ff9b::e000:1":          "multicast",
		"2002:ffff:ffff::1":        "broadcast",
		"::ffff:0.0.0.0":           "unspecified",
		"::ffff:198.18.0.1":        "benchmarking",
		"::ffff:100.64.0.1":        "carrier-grade NAT",
		"::ffff:192.0.2.1":         "documentation",
		"2002:c000:0201::1":        "documentation",
		"64:ff9b::203.0.113.1":     "documentation",
		"::ffff:0:0.0.0.0":         "unspecified",
		"2001:2::1":                "benchmarking",
		"2001:20::1":               "ORCHID",
		"5f00::1":                  "SRv6",
		"fc00:0:0:0:0:ffff:7f00:1": "unique local",
	}
	for s, want := range refused {
		ip := netip.MustParseAddr(s)
		got, reason := Refused(ip)
		if !got || !strings.Contains(reason, want) {
			t.Errorf("Refused(%s) = %v, %q; want true and a reason containing %q", s, got, reason, want)
		}
	}
	if got, reason := Refused(netip.Addr{}); !got || reason == "" {
		t.Errorf("Refused(zero Addr) = %v, %q", got, reason)
	}

	allowed := []string{
		"1.1.1.1", "8.8.8.8", "9.9.9.9", "100.63.255.255", "100.128.0.0", "172.15.255.255",
		"172.32.0.0", "192.0.1.1", "192.169.0.1", "198.17.255.255", "198.20.0.0", "223.255.255.255",
		"2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8",
		"64:ff9b::808:808", "2002:808:808::1", "2001:4860:4860::8888",
	}
	for _, s := range allowed {
		if got, reason := Refused(netip.MustParseAddr(s)); got {
			t.Errorf("Refused(%s) = true, %q; want false", s, reason)
		}
	}
}

// The battery every endpoint URL check must pass: all of these must be
// refused in production.
var refusedURLs = []struct{ url, want string }{
	{"http://127.0.0.1/", "must use https"},
	{"https://127.0.0.1/", "127.0.0.1 is a loopback address"},
	{"https://127.0.0.1:8443/hook", "loopback"},
	{"https://127.1/", "127.1 is 127.0.0.1, a loopback address"},
	{"https://127.0.1/", "127.0.1 is 127.0.0.1"},
	{"https://2130706433/", "2130706433 is 127.0.0.1, a loopback address"},
	{"https://0177.0.0.1/", "0177.0.0.1 is 127.0.0.1"},
	{"https://0x7f.1/", "0x7f.1 is 127.0.0.1"},
	{"https://0x7f000001/", "0x7f000001 is 127.0.0.1"},
	{"https://0X7F.0.0.1/", "127.0.0.1"},
	{"https://0x7f.0x0.0x0.0x1/", "127.0.0.1"},
	{"https://017700000001/", "127.0.0.1"},
	{"https://127.000.000.001/", "127.0.0.1"},
	{"https://127.0.0.1./", "127.0.0.1"},
	{"https://%31%32%37.0.0.1/", "not a valid URL"}, // url.Parse refuses escapes in a host name
	{"https://localhost/", "private network name"},
	{"https://localhost:8443/", "private network name"},
	{"https://LOCALHOST./", "private network name"},
	{"https://api.localhost/", "private network name"},
	{"https://printer.local/", "private network name"},
	{"https://metadata.google.internal/computeMetadata/v1/", "private network name"},
	{"https://router.home.arpa/", "private network name"},
	{"https://intranet/", "fully qualified"},
	{"https://10.0.0.5/", "10.0.0.5 is a private address"},
	{"https://172.16.0.1/", "a private address"},
	{"https://172.31.255.255/", "a private address"},
	{"https://192.168.1.1/", "a private address"},
	{"https://100.64.0.1/", "carrier-grade NAT"},
	{"https://169.254.169.254/latest/meta-data/", "169.254.169.254 is the cloud metadata address"},
	{"https://2852039166/", "2852039166 is 169.254.169.254, the cloud metadata address"},
	{"https://0xa9fea9fe/", "169.254.169.254"},
	{"https://169.254.43518/", "169.254.169.254"},
	{"https://0251.0376.0251.0376/", "169.254.169.254"},
	{"https://0.0.0.0/", "the unspecified address"},
	{"https://0/", "0 is 0.0.0.0, the unspecified address"},
	{"https://0x/", "0.0.0.0"},
	{"https://255.255.255.255/", "broadcast"},
	{"https://224.0.0.1/", "multicast"},
	{"https://198.18.0.1/", "benchmarking"},
	{"https://192.0.0.1/", "IETF"},
	{"https://192.0.2.1/", "documentation"},
	{"https://[::1]/", "::1 is a loopback address"},
	{"https://[::1]:443/", "loopback"},
	{"https://[0:0:0:0:0:0:0:1]/", "0:0:0:0:0:0:0:1 is ::1, a loopback address"},
	{"https://[::]/", "unspecified"},
	{"https://[::ffff:127.0.0.1]/", "IPv4-mapped form of 127.0.0.1"},
	{"https://[::ffff:7f00:1]/", "IPv4-mapped form of 127.0.0.1"},
	{"https://[::ffff:169.254.169.254]/", "metadata"},
	{"https://[::127.0.0.1]/", "IPv4-compatible"},
	{"https://[64:ff9b::7f00:1]/", "NAT64 form of 127.0.0.1"},
	{"https://[2002:7f00:1::1]/", "6to4 form of 127.0.0.1"},
	{"https://[fe80::1]/", "link-local"},
	{"https://[fe80::1%25eth0]/", "zone"},
	{"https://[2606:4700::1%25eth0]/", "zone"},
	{"https://[fd00::1]/", "unique local"},
	{"https://[ff02::1]/", "multicast"},
	{"https://[::ffff:0177.0.0.1]/", "not a valid URL"},
	{"https://[::ffff:1.2.3]/", "not a valid"},

	// Spellings that are neither a name nor an address a resolver agrees on.
	{"https://08.0.0.1/", "neither a host name nor a valid IP address"},
	{"https://1.2.3.4.5/", "neither a host name nor a valid IP address"},
	{"https://256.0.0.1/", "neither"},
	{"https://1.2.65536/", "neither"},
	{"https://4294967296/", "neither"},
	{"https://0x1g.1/", "neither"},
	{"https://example.123/", "neither"},
	{"https://1..1/", "not a valid host name"},
	{"https://.example.com/", "not a valid host name"},

	// The shape of the URL.
	{"", "absolute http or https URL"},
	{"example.com/hook", "absolute http or https URL"},
	{"//example.com/hook", "absolute http or https URL"},
	{"ftp://example.com/", "absolute http or https URL"},
	{"file:///etc/passwd", "absolute http or https URL"},
	{"gopher://example.com/", "absolute http or https URL"},
	{"https:example.com", "absolute http or https URL"},
	{"http://example.com/", "must use https"},
	{"https:///hook", "must have a host"},
	{"https://user:pass@example.com/", "user name or password"},
	{"https://user@example.com/", "user name or password"},
	{"https://example.com@127.0.0.1/", "user name or password"},
	{"https://example.com:0/", "port must be between 1 and 65535"},
	{"https://example.com:65536/", "port must be between 1 and 65535"},
	{"https://example.com:99999999999999999999/", "port"},
	{"https://example.com:-1/", "not a valid URL"},
	{"https://exa mple.com/", "not a valid URL"},
	{"https://exa%20mple.com/", "not a valid URL"},
	{"https://exa_mple.com;x/", "contains"},
	{"https://exa!mple.com/", "contains"},
	{"https://bücher.example/", "xn--"},
	{"https://１２７．０．０．１/", "xn--"},
	{"https://example.com/" + strings.Repeat("a", 2048), "at most 2048 characters"},
}

func TestCheckURLRefuses(t *testing.T) {
	for _, tt := range refusedURLs {
		err := Policy{}.CheckURL(tt.url)
		if err == nil {
			t.Errorf("CheckURL(%q) = nil, want an error containing %q", tt.url, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckURL(%q) = %q, want it to contain %q", tt.url, err, tt.want)
		}
		if !errs.Is(errs.Invalid, err) {
			t.Errorf("CheckURL(%q) kind = %v, want invalid", tt.url, errs.KindOf(err))
		}
	}
}

func TestCheckURLAccepts(t *testing.T) {
	for _, raw := range []string{
		"https://example.com/",
		"https://example.com",
		"https://hooks.example.com/waybill?token=abc#frag",
		"https://Example.COM:8443/a/b",
		"https://example.com./hook",
		"https://my_host.example.com/",
		"https://xn--bcher-kva.example/",
		"https://1.1.1.1/",
		"https://8.8.8.8:443/",
		"https://[2606:4700:4700::1111]/",
		"https://[::ffff:8.8.8.8]/",
		"https://[64:ff9b::808:808]/",
		"HTTPS://example.com/",
		"https://1e100.net/",
		"https://0x.example.com/",
	} {
		if err := (Policy{}).CheckURL(raw); err != nil {
			t.Errorf("CheckURL(%q) = %v, want nil", raw, err)
		}
	}
}

func TestCheckURLAllowPrivate(t *testing.T) {
	dev := Policy{AllowPrivate: true}
	for _, raw := range []string{
		"http://127.0.0.1:8080/hook",
		"http://localhost:3000/",
		"http://intranet/",
		"https://10.0.0.5/",
		"http://[::1]:8080/",
		"http://192.168.1.20/",
		"http://example.com/",
	} {
		if err := dev.CheckURL(raw); err != nil {
			t.Errorf("AllowPrivate CheckURL(%q) = %v, want nil", raw, err)
		}
	}
	// Still refused: no valid destination, or a spelling that a resolver may
	// read differently from us.
	for _, tt := range []struct{ url, want string }{
		{"http://169.254.169.254/", "cloud metadata"}, // it hands out cloud credentials
		{"http://0.0.0.0:8080/", "unspecified"},
		{"http://[::]:8080/", "unspecified"},
		{"http://224.0.0.1/", "multicast"},
		{"http://255.255.255.255/", "broadcast"},
		{"http://127.1:8080/", "write the IP address 127.0.0.1 in the usual dotted form"},
		{"http://2130706433/", "127.0.0.1"},
		{"http://[fe80::1%25lo]/", "zone"},
		{"ftp://127.0.0.1/", "absolute http or https"},
		{"http://user:pw@127.0.0.1/", "user name"},
	} {
		err := dev.CheckURL(tt.url)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("AllowPrivate CheckURL(%q) = %v, want an error containing %q", tt.url, err, tt.want)
		}
	}
}

func TestCheckURLRefusesNonCanonicalPublicAddress(t *testing.T) {
	err := Policy{}.CheckURL("https://134744072/") // 8.8.8.8
	if err == nil || !strings.Contains(err.Error(), "write the IP address 8.8.8.8") {
		t.Fatalf("CheckURL = %v", err)
	}
}

func TestParseInetAton(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1":       "127.0.0.1",
		"127.1":           "127.0.0.1",
		"127.0.1":         "127.0.0.1",
		"2130706433":      "127.0.0.1",
		"0x7f000001":      "127.0.0.1",
		"0x7f.1":          "127.0.0.1",
		"0177.0.0.1":      "127.0.0.1",
		"0177.1":          "127.0.0.1",
		"00000177.0.0.01": "127.0.0.1",
		"0x":              "0.0.0.0",
		"0":               "0.0.0.0",
		"1.2.3.4":         "1.2.3.4",
		"1.2.772":         "1.2.3.4",
		"1.131844":        "1.2.3.4",
		"0xffffffff":      "255.255.255.255",
		"4294967295":      "255.255.255.255",
		"0x0000000000ff":  "0.0.0.255",
	} {
		got, ok := parseInetAton(in)
		if !ok || got.String() != want {
			t.Errorf("parseInetAton(%q) = %v, %v; want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{
		"", ".", "1.", ".1", "1..2", "1.2.3.4.5", "256.1", "1.256.1.1", "1.2.3.256", "1.2.65536",
		"1.16777216", "4294967296", "0x100000000", "08", "09.1", "0x1g", "1e5", "-1", "+1", " 1", "1 ",
		"1_000", "0b1", "0o17",
	} {
		if got, ok := parseInetAton(in); ok {
			t.Errorf("parseInetAton(%q) = %v, want failure", in, got)
		}
	}
}

func TestControl(t *testing.T) {
	prod, dev := Policy{}, Policy{AllowPrivate: true}
	for _, tt := range []struct {
		addr   string
		prod   string // "" means allowed
		devErr bool
	}{
		{"10.0.0.5:443", "refused: 10.0.0.5 is a private address", false},
		{"127.0.0.1:8443", "refused: 127.0.0.1 is a loopback address", false},
		{"169.254.169.254:80", "refused: 169.254.169.254 is the cloud metadata address", true}, // never, even in development
		{"[::1]:443", "refused: ::1 is a loopback address", false},
		{"[::ffff:127.0.0.1]:443", "refused: ::ffff:127.0.0.1 is an IPv4-mapped form of 127.0.0.1, a loopback address", false},
		{"[fe80::1%eth0]:443", "refused: fe80::1%eth0 is a scoped IPv6 address (zone eth0)", false},
		{"[fd00:ec2::254]:80", "refused: fd00:ec2::254 is a unique local (private) address", false},
		{"0.0.0.0:443", "refused: 0.0.0.0 is the unspecified address", true},
		{"[::]:443", "refused: :: is the unspecified address", true},
		{"224.0.0.1:443", "refused: 224.0.0.1 is a multicast address", true},
		{"not-an-address", "refused: cannot check the address", true},
		{"8.8.8.8:443", "", false},
		{"[2606:4700:4700::1111]:443", "", false},
	} {
		err := prod.control("tcp", tt.addr, nil)
		switch {
		case tt.prod == "" && err != nil:
			t.Errorf("control(%s) = %v, want nil", tt.addr, err)
		case tt.prod != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.prod)):
			t.Errorf("control(%s) = %v, want %q", tt.addr, err, tt.prod)
		case tt.prod != "" && (!errs.Is(errs.Permission, err) || errs.CodeOf(err) != refusedCode):
			t.Errorf("control(%s) = %v: kind %v, code %q", tt.addr, err, errs.KindOf(err), errs.CodeOf(err))
		}
		if err := dev.control("tcp", tt.addr, nil); (err != nil) != tt.devErr {
			t.Errorf("AllowPrivate control(%s) = %v, want error %v", tt.addr, err, tt.devErr)
		}
	}
}

func TestClientConfiguration(t *testing.T) {
	c := Policy{}.Client(0)
	if c.Timeout != DefaultTimeout {
		t.Errorf("Timeout = %v, want %v", c.Timeout, DefaultTimeout)
	}
	if c := (Policy{}).Client(3e9); c.Timeout != 3e9 {
		t.Errorf("Timeout = %v, want 3s", c.Timeout)
	}
	if c.Jar != nil {
		t.Error("the client keeps cookies")
	}
	if err := c.CheckRedirect(&http.Request{}, nil); !errors.Is(err, http.ErrUseLastResponse) {
		t.Errorf("CheckRedirect = %v, want http.ErrUseLastResponse", err)
	}
	g, ok := c.Transport.(*guard)
	if !ok {
		t.Fatalf("Transport is %T", c.Transport)
	}
	tr := g.base
	if tr.Proxy != nil {
		t.Error("the transport takes a proxy (from the environment); it would hide the real destination")
	}
	if tr.TLSClientConfig == nil || tr.TLSClientConfig.MinVersion != tls.VersionTLS12 || tr.TLSClientConfig.InsecureSkipVerify {
		t.Errorf("TLS config = %+v, want TLS 1.2 or later with verification", tr.TLSClientConfig)
	}
	if tr.DialContext == nil || tr.DialTLSContext != nil || tr.Dial != nil || tr.DialTLS != nil {
		t.Error("connections must all go through the checking dialer")
	}
}

// FuzzCheckURL: CheckURL never panics, and whatever it accepts in
// production has an https scheme, no user info, and, when its host is an IP
// address by any reading, an address that is not refused.
func FuzzCheckURL(f *testing.F) {
	for _, tt := range refusedURLs {
		f.Add(tt.url)
	}
	for _, s := range []string{
		"https://example.com/", "https://1.1.1.1/", "https://[2606:4700:4700::1111]:443/x",
		"https://0x08.0x08.0x08.0x08/", "https://[::ffff:1.1.1.1]/", "https://a.b.c.d.e.f/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		dev := Policy{AllowPrivate: true}
		devErr := dev.CheckURL(raw)
		err := Policy{}.CheckURL(raw)
		if err == nil && devErr != nil {
			t.Fatalf("production accepts %q but development refuses it: %v", raw, devErr)
		}
		if devErr == nil {
			u, perr := url.Parse(raw)
			if perr != nil {
				t.Fatalf("accepted %q, which url.Parse refuses: %v", raw, perr)
			}
			if ip, ok := hostIP(u.Hostname()); ok {
				if reason, never := classify(ip); never {
					t.Fatalf("development accepts %q: %s is %s", raw, ip, reason)
				}
			}
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("CheckURL(%q) gave an empty message", raw)
			}
			return
		}
		u, _ := url.Parse(raw)
		if u.Scheme != "https" || u.User != nil || u.Hostname() == "" {
			t.Fatalf("accepted %q: scheme %q, user %v, host %q", raw, u.Scheme, u.User, u.Hostname())
		}
		if ip, ok := hostIP(u.Hostname()); ok {
			if refused, reason := Refused(ip); refused {
				t.Fatalf("accepted %q: %s is %s", raw, ip, reason)
			}
		}
	})
}

// hostIP reads host as an IP address in every way a resolver might.
func hostIP(host string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, true
	}
	if ip := net.ParseIP(host); ip != nil {
		a, _ := netip.AddrFromSlice(ip)
		return a, true
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if ip, ok := parseInetAton(name); ok {
		return ip, true
	}
	return netip.Addr{}, false
}
