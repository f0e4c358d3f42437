package webhook

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/waybill/waybill/internal/errs"
)

// Policy decides which URLs webhooks may be delivered to. The zero value is
// the production policy: https only, public addresses only.
type Policy struct {
	// AllowPrivate is the development setting (--allow-private-webhook-urls):
	// it allows plain http and loopback, private and other non-public
	// targets. Unspecified, multicast and broadcast addresses stay refused.
	AllowPrivate bool

	// Resolver, when set, resolves host names for the Client instead of the
	// system's resolver. Whatever it answers, the address actually connected
	// to is checked again at connect time.
	Resolver *net.Resolver
}

const maxURLLen = 2048

// DefaultTimeout is the per-request timeout Client uses when given none; the
// spec recommends 15 to 30 seconds.
const DefaultTimeout = 15 * time.Second

// invalid makes a CheckURL error: errs.Invalid with the message alone as its
// text, so the caller can show it as the field error of the endpoint URL.
func invalid(format string, args ...any) error {
	return errs.E("", errs.Invalid, fmt.Sprintf(format, args...))
}

// CheckURL reports whether raw may be saved as a webhook endpoint URL, with
// an error whose text explains why not. It cannot see where a host name will
// resolve; Client checks that when it connects.
func (p Policy) CheckURL(raw string) error {
	if len(raw) > maxURLLen {
		return invalid("must be at most %d characters long", maxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalid("is not a valid URL")
	}
	return p.checkURL(u)
}

func (p Policy) checkURL(u *url.URL) error {
	if (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" {
		return invalid("must be an absolute http or https URL")
	}
	if u.Scheme != "https" && !p.AllowPrivate {
		return invalid("must use https")
	}
	if u.User != nil {
		return invalid("must not contain a user name or password")
	}
	host := u.Hostname()
	if host == "" {
		return invalid("must have a host")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return invalid("port must be between 1 and 65535")
		}
	}
	return p.checkHost(host)
}

// checkHost judges the host the way the resolver would read it. Anything
// that a resolver might take for an IPv4 address (getaddrinfo accepts the
// inet_aton spellings 2130706433, 0177.0.0.1, 0x7f.1 and 127.1) is parsed as
// one; if it cannot be parsed it is refused rather than passed on as a name.
func (p Policy) checkHost(host string) error {
	if strings.Contains(host, ":") {
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return invalid("[%s] is not a valid IPv6 address", host)
		}
		if ip.Zone() != "" {
			return invalid("must not use an IPv6 zone identifier")
		}
		return p.checkIP(host, ip)
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if c >= 0x80 {
			return invalid("host %q must be written in its ASCII (xn--) form", host)
		}
		if !isHostByte(c) {
			return invalid("host %q contains %q, which host names cannot", host, c)
		}
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "" || strings.Contains(name, "..") || strings.HasPrefix(name, ".") {
		return invalid("host %q is not a valid host name", host)
	}
	if looksNumeric(name) {
		ip, ok := parseInetAton(name)
		if !ok {
			return invalid("host %q is neither a host name nor a valid IP address", host)
		}
		if err := p.checkIP(host, ip); err != nil {
			return err
		}
		if host != ip.String() {
			return invalid("write the IP address %s in the usual dotted form", ip)
		}
		return nil
	}
	if p.AllowPrivate {
		return nil
	}
	for _, suffix := range privateNames {
		if name == suffix || strings.HasSuffix(name, "."+suffix) {
			return invalid("%s is a private network name; webhooks can only be sent to public addresses", host)
		}
	}
	if !strings.Contains(name, ".") {
		// A single label is completed by the resolver's search domains,
		// which name internal hosts.
		return invalid("host %q must be a fully qualified domain name", host)
	}
	return nil
}

// privateNames are domains that by standard never name a public host:
// localhost (RFC 6761), mDNS's local (RFC 6762), home.arpa (RFC 8375) and
// the private-use internal (ICANN, 2024).
var privateNames = []string{"localhost", "local", "home.arpa", "internal"}

func (p Policy) checkIP(host string, ip netip.Addr) error {
	reason, never := classify(ip)
	if reason == "" || (p.AllowPrivate && !never) {
		return nil
	}
	if written := strings.Trim(host, "[]"); written != ip.String() {
		return invalid("%s is %s, %s; webhooks can only be sent to public addresses", written, ip, reason)
	}
	return invalid("%s is %s; webhooks can only be sent to public addresses", ip, reason)
}

func isHostByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_'
}

// looksNumeric reports whether a resolver following the WHATWG URL rules
// would treat name as an IPv4 address: its last label is a decimal number or
// a 0x hexadecimal one. No top-level domain is numeric, so nothing real is lost.
func looksNumeric(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if last == "" {
		return false
	}
	if len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') {
		return strings.Trim(last[2:], "0123456789abcdefABCDEF") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// parseInetAton parses the IPv4 spellings inet_aton accepts: one to four
// dot-separated parts, each decimal, octal (leading 0) or hexadecimal (0x),
// the last part filling all the remaining bytes.
func parseInetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var n uint64
	for i, part := range parts {
		v, ok := parseInetPart(part)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if v > 0xff {
				return netip.Addr{}, false
			}
			n = n<<8 | v
			continue
		}
		rest := uint(8 * (5 - len(parts))) // bits the last part fills
		if v >= 1<<rest {
			return netip.Addr{}, false
		}
		n = n<<rest | v
	}
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

func parseInetPart(s string) (uint64, bool) {
	base := 10
	switch {
	case s == "":
		return 0, false
	case len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, s = 16, s[2:]
		if s == "" {
			return 0, true // inet_aton reads a bare "0x" as zero
		}
	case len(s) >= 2 && s[0] == '0':
		base, s = 8, s[1:]
	}
	v, err := strconv.ParseUint(s, base, 32)
	return v, err == nil
}

// Client returns the http.Client to deliver webhooks with. Its connections
// are checked when they are made, against the address actually connected to,
// so host names resolving to internal addresses and DNS rebinding are refused
// as well as literal addresses. It uses no proxy (a proxy would hide the real
// destination), does not follow redirects (a 3xx is returned as it is, and
// counts as a failure), speaks TLS 1.2 or later, and gives each request
// timeout (DefaultTimeout when zero or less). Read response bodies with
// ReadLimited.
func (p Policy) Client(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dialer := &net.Dialer{
		Timeout:   timeout,
		KeepAlive: 30 * time.Second,
		Resolver:  p.Resolver,
		Control:   p.control,
	}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    16,
		IdleConnTimeout:        90 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: MaxResponseBody,
		// The body is kept only for display; asking for gzip would add
		// decompression work and nothing else.
		DisableCompression: true,
	}
	return &http.Client{
		Transport: &guard{policy: p, base: transport},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: timeout,
	}
}

// control runs after a socket is made and before it connects: the last point
// at which the destination is known for certain.
func (p Policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return refused(fmt.Sprintf("refused: cannot check the address %q", address))
	}
	ip := ap.Addr()
	reason, never := classify(ip)
	if reason == "" || (p.AllowPrivate && !never) {
		return nil
	}
	return refused(fmt.Sprintf("refused: %s is %s", ip, reason))
}

// refusedCode marks refusals so that Deliver can report them as they are.
const refusedCode = "webhook_refused"

func refused(msg string) error {
	return errs.WithCode(errs.E("", errs.Permission, msg), refusedCode)
}

// guard checks every request's URL against the policy before it is sent, so
// the client refuses by itself what CheckURL would refuse (plain http, numeric
// host spellings, private names) even if a stored URL predates a rule.
type guard struct {
	policy Policy
	base   *http.Transport
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := g.policy.checkURL(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper must close the body, even on error
		}
		return nil, refused("refused: " + err.Error())
	}
	return g.base.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the pool.
func (g *guard) CloseIdleConnections() { g.base.CloseIdleConnections() }
