package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress: a webhook URL names, or resolves to, an address stockroom does
// not send to (loopback, private, link-local and cloud metadata, ...), unless
// STOCKROOM_WEBHOOKS_ALLOW_PRIVATE is set.
var ErrForbiddenAddress = errors.New("address not allowed for webhooks")

// forbiddenPrefixes are the ranges netip's predicates do not cover: shared address
// space (carrier-grade NAT), "this network", IETF protocol assignments, benchmarking,
// the reserved class E and broadcast, and IPv6 translation prefixes that could carry
// a private IPv4 address.
var forbiddenPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
}

// Forbidden reports why ip may not receive webhooks, or "" when it may. The
// metadata services of the clouds (169.254.169.254, fd00:ec2::254) are link-local
// and unique-local addresses, so they are covered.
func Forbidden(ip netip.Addr) string {
	ip = ip.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	switch {
	case !ip.IsValid():
		return "is not an IP address"
	case ip.IsLoopback():
		return "is a loopback address"
	case ip.IsPrivate():
		return "is a private address"
	case ip.IsLinkLocalUnicast():
		return "is a link-local address (cloud metadata services live there)"
	case ip.IsUnspecified():
		return "is the unspecified address"
	case ip.IsMulticast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast():
		return "is a multicast address"
	}
	for _, p := range forbiddenPrefixes {
		if p.Contains(ip) {
			return "is in reserved range " + p.String()
		}
	}
	return ""
}

// guard decides, at connect time, whether a dial may proceed.
type guard struct {
	allowPrivate bool
}

// control is the net.Dialer's Control hook. It runs after name resolution, with the
// IP address about to be connected to, and before the socket connects: refusing
// here means no packet leaves for a forbidden address, whatever a name resolved to
// at save time (DNS rebinding) and whatever a URL's host looks like.
func (g guard) control(network, address string, _ syscall.RawConn) error {
	if g.allowPrivate {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s is not an IP address", ErrForbiddenAddress, host)
	}
	if why := Forbidden(ip); why != "" {
		return fmt.Errorf("%w: %s %s", ErrForbiddenAddress, ip, why)
	}
	return nil
}

// checkURL is the save-time check of a URL: http or https, a host, no user
// information, and (unless private addresses are allowed) a host that is not, and
// does not resolve to, a forbidden address. It returns a message for the form, or
// "". The connect-time check (control) is what holds; this one tells people early.
func (g guard) checkURL(ctx context.Context, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !u.IsAbs() {
		return "must be an absolute URL such as https://example.com/hooks"
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "must start with http:// or https://"
	}
	if u.User != nil {
		return "must not carry a user name or password"
	}
	if u.Fragment != "" {
		return "must not have a #fragment"
	}
	if g.allowPrivate {
		return ""
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if why := Forbidden(ip); why != "" {
			return fmt.Sprintf("is not allowed: %s %s", ip, why)
		}
		return ""
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return "is not allowed: localhost is a loopback address"
	}
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(rctx, "ip", host)
	if err != nil {
		return "" // it may resolve later; each delivery is checked when it connects
	}
	for _, ip := range addrs {
		if why := Forbidden(ip); why != "" {
			return fmt.Sprintf("is not allowed: %s resolves to %s, which %s", host, ip.Unmap(), why)
		}
	}
	return ""
}
