package webhook

import (
	"fmt"
	"net/netip"
)

// A refusedRange is a block of addresses a webhook may not reach. never marks
// addresses that are no valid destination at all (unspecified, multicast,
// broadcast): they stay refused even when private targets are allowed.
type refusedRange struct {
	prefix netip.Prefix
	reason string
	never  bool
}

func refusal(prefix, reason string) refusedRange {
	return refusedRange{prefix: netip.MustParsePrefix(prefix), reason: reason}
}

func nowhere(prefix, reason string) refusedRange {
	return refusedRange{prefix: netip.MustParsePrefix(prefix), reason: reason, never: true}
}

// IPv4 blocks that are not public unicast, from the IANA special-purpose
// registry (RFC 6890 and successors). Order matters only where one block sits
// inside another: the narrower one comes first for its sharper reason.
var refusedV4 = []refusedRange{
	nowhere("0.0.0.0/32", "the unspecified address"),
	nowhere("0.0.0.0/8", "a \"this network\" address"),
	refusal("10.0.0.0/8", "a private address"),
	refusal("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
	refusal("127.0.0.0/8", "a loopback address"),
	nowhere("169.254.169.254/32", "the cloud metadata address"), // never: it hands out cloud credentials
	refusal("169.254.0.0/16", "a link-local address"),
	refusal("172.16.0.0/12", "a private address"),
	refusal("192.0.0.0/24", "an IETF protocol assignment address"),
	refusal("192.0.2.0/24", "a documentation address"),
	refusal("192.88.99.0/24", "a 6to4 relay anycast address"),
	refusal("192.168.0.0/16", "a private address"),
	refusal("198.18.0.0/15", "a benchmarking address"),
	refusal("198.51.100.0/24", "a documentation address"),
	refusal("203.0.113.0/24", "a documentation address"),
	nowhere("224.0.0.0/4", "a multicast address"),
	nowhere("255.255.255.255/32", "the broadcast address"),
	refusal("240.0.0.0/4", "a reserved address"),
}

// IPv6 blocks refused outright. Blocks that embed an IPv4 address (mapped,
// compatible, NAT64, 6to4) are judged by that address in classify6 instead.
var refusedV6 = []refusedRange{
	refusal("64:ff9b:1::/48", "a local-use NAT64 address"),
	refusal("100::/64", "a discard-only address"),
	refusal("2001::/32", "a Teredo tunnelling address"),
	refusal("2001:2::/48", "a benchmarking address"),
	refusal("2001:10::/28", "an ORCHID identifier"),
	refusal("2001:20::/28", "an ORCHID identifier"),
	refusal("2001:db8::/32", "a documentation address"),
	refusal("3fff::/20", "a documentation address"),
	refusal("5f00::/16", "an SRv6 segment identifier"),
	refusal("fc00::/7", "a unique local (private) address"),
	refusal("fe80::/10", "a link-local address"),
	refusal("fec0::/10", "a site-local address"),
	nowhere("ff00::/8", "a multicast address"),
}

var (
	v4Compatible = netip.MustParsePrefix("::/96")
	v4Translated = netip.MustParsePrefix("::ffff:0:0:0/96")
	nat64        = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour    = netip.MustParsePrefix("2002::/16")
	globalV6     = netip.MustParsePrefix("2000::/3")
)

// Refused reports whether a webhook may not be delivered to ip when private
// targets are not allowed, and if so why, as a phrase that completes
// "<ip> is …" (for example "a private address").
func Refused(ip netip.Addr) (bool, string) {
	reason, _ := classify(ip)
	return reason != "", reason
}

// classify returns why ip is refused ("" when it is a public unicast address)
// and whether it stays refused even with Policy.AllowPrivate.
func classify(ip netip.Addr) (reason string, never bool) {
	switch {
	case !ip.IsValid():
		return "not a valid IP address", true
	case ip.Zone() != "":
		// Only link-local addresses carry zones in practice; a zone on any
		// other address is meaningless, so refuse rather than guess.
		return "a scoped IPv6 address (zone " + ip.Zone() + ")", false
	case ip.Is4():
		return classify4(ip)
	case ip.Is4In6():
		return embedded("an IPv4-mapped form", ip.Unmap())
	}
	return classify6(ip)
}

func classify4(ip netip.Addr) (string, bool) {
	for _, r := range refusedV4 {
		if r.prefix.Contains(ip) {
			return r.reason, r.never
		}
	}
	return "", false
}

func classify6(ip netip.Addr) (string, bool) {
	b := ip.As16()
	switch ip {
	case netip.IPv6Unspecified():
		return "the unspecified address", true
	case netip.IPv6Loopback():
		return "a loopback address", false
	}
	switch {
	case v4Compatible.Contains(ip):
		// Deprecated (RFC 4291) and never routed on the internet: refused
		// whatever it embeds, but named by the embedded address when that
		// alone would be refused.
		if reason, never := embedded("an IPv4-compatible form", v4At(b, 12)); reason != "" {
			return reason, never
		}
		return "a deprecated IPv4-compatible address", false
	case v4Translated.Contains(ip):
		if reason, never := embedded("an IPv4-translated form", v4At(b, 12)); reason != "" {
			return reason, never
		}
		return "an IPv4-translated address", false
	case nat64.Contains(ip):
		// The well-known NAT64 prefix reaches the embedded IPv4 address
		// through the gateway: refused exactly when that address is.
		return embedded("a NAT64 form", v4At(b, 12))
	case sixToFour.Contains(ip):
		return embedded("a 6to4 form", v4At(b, 2))
	}
	for _, r := range refusedV6 {
		if r.prefix.Contains(ip) {
			return r.reason, r.never
		}
	}
	if !globalV6.Contains(ip) {
		return "not a global unicast address", false
	}
	return "", false
}

// v4At reads the IPv4 address embedded at byte offset i of an IPv6 address.
func v4At(b [16]byte, i int) netip.Addr {
	return netip.AddrFrom4([4]byte(b[i : i+4]))
}

// embedded judges an address by the IPv4 address it carries.
func embedded(form string, v4 netip.Addr) (string, bool) {
	reason, never := classify4(v4)
	if reason == "" {
		return "", false
	}
	return fmt.Sprintf("%s of %s, %s", form, v4, reason), never
}
