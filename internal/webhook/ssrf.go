package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrBlockedAddress is wrapped (via *BlockedAddressError) by the error of a
// connection refused because its address is not public.
var ErrBlockedAddress = errors.New("webhook: destination address not allowed")

// BlockedAddressError reports a connection refused by the SSRF protection.
type BlockedAddressError struct {
	Addr   netip.Addr
	Reason string
}

func (e *BlockedAddressError) Error() string {
	return fmt.Sprintf("webhook: refusing to connect to %s: %s address (private destinations are not allowed)", e.Addr, e.Reason)
}

// Unwrap makes errors.Is(err, ErrBlockedAddress) hold.
func (e *BlockedAddressError) Unwrap() error { return ErrBlockedAddress }

type blockedPrefix struct {
	prefix netip.Prefix
	reason string
}

// Order matters: the first matching prefix names the reason, so specific
// prefixes (metadata) come before the ranges containing them.
var blockedPrefixes = func() []blockedPrefix {
	list := []struct{ cidr, reason string }{
		// Cloud metadata services.
		{"169.254.169.254/32", "cloud metadata"},
		{"168.63.129.16/32", "cloud metadata"},  // Azure wire server
		{"fd00:ec2::254/128", "cloud metadata"}, // AWS IMDS over IPv6

		// IPv4.
		{"0.0.0.0/8", "unspecified (\"this network\")"},
		{"10.0.0.0/8", "private"},
		{"100.64.0.0/10", "shared (CGNAT)"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local"},
		{"172.16.0.0/12", "private"},
		{"192.0.0.0/24", "IETF protocol assignment"},
		{"192.0.2.0/24", "documentation"},
		{"192.88.99.0/24", "6to4 relay anycast"},
		{"192.168.0.0/16", "private"},
		{"198.18.0.0/15", "benchmarking"},
		{"198.51.100.0/24", "documentation"},
		{"203.0.113.0/24", "documentation"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved"}, // includes 255.255.255.255

		// IPv6.
		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"100::/64", "discard-only"},
		{"2001:db8::/32", "documentation"},
		{"fc00::/7", "private (unique local)"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local"},
		{"ff00::/8", "multicast"},
	}
	out := make([]blockedPrefix, len(list))
	for i, p := range list {
		out[i] = blockedPrefix{netip.MustParsePrefix(p.cidr), p.reason}
	}
	return out
}()

// Prefixes of IPv6 forms that carry an IPv4 address in their low 32 bits.
var (
	nat64Prefix      = netip.MustParsePrefix("64:ff9b::/96")   // RFC 6052
	nat64LocalPrefix = netip.MustParsePrefix("64:ff9b:1::/48") // RFC 8215
	v4CompatPrefix   = netip.MustParsePrefix("::/96")          // deprecated IPv4-compatible
)

// sixToFourPrefix is 2002::/16, which embeds an IPv4 address in bits 16-47.
var sixToFourPrefix = netip.MustParsePrefix("2002::/16")

// Classify reports whether ip may not be connected to and, if so, why
// ("loopback", "private", ...). IPv4-mapped (::ffff:a.b.c.d), NAT64,
// IPv4-compatible and 6to4 IPv6 addresses are judged by their IPv4 address.
// An invalid address is blocked.
func Classify(ip netip.Addr) (reason string, blocked bool) {
	if !ip.IsValid() {
		return "invalid", true
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64Prefix.Contains(ip) || nat64LocalPrefix.Contains(ip):
			if nat64LocalPrefix.Contains(ip) {
				return "local-use NAT64", true
			}
			if r, bad := Classify(netip.AddrFrom4([4]byte(b[12:16]))); bad {
				return "NAT64-embedded " + r, true
			}
		case v4CompatPrefix.Contains(ip) && ip != netip.IPv6Unspecified() && ip != netip.IPv6Loopback():
			if r, bad := Classify(netip.AddrFrom4([4]byte(b[12:16]))); bad {
				return "IPv4-compatible " + r, true
			}
		case sixToFourPrefix.Contains(ip):
			if r, bad := Classify(netip.AddrFrom4([4]byte(b[2:6]))); bad {
				return "6to4-embedded " + r, true
			}
		}
	}
	for _, p := range blockedPrefixes {
		if p.prefix.Contains(ip) {
			return p.reason, true
		}
	}
	return "", false
}

// checkAddr returns a *BlockedAddressError if ip may not be connected to.
func checkAddr(ip netip.Addr) error {
	if reason, blocked := Classify(ip); blocked {
		return &BlockedAddressError{Addr: ip, Reason: reason}
	}
	return nil
}

// control is a net.Dialer Control function. It runs after name resolution,
// on the very address about to be connected to, so a name that resolves to
// a public address at subscription time and to a private one later (DNS
// rebinding) is still refused.
func control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return fmt.Errorf("webhook: refusing %s connection to %s: only TCP is allowed", network, address)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook: refusing connection to unparsable address %q: %w", address, ErrBlockedAddress)
	}
	return checkAddr(ap.Addr())
}

// Dialer returns a dialer for webhook deliveries. Unless allowPrivate, it
// refuses at connect time every address that is not public: loopback,
// private (RFC 1918, RFC 4193), link-local, unspecified, multicast, CGNAT,
// reserved, cloud metadata and the IPv6 forms embedding such IPv4 addresses
// (see Classify).
func Dialer(allowPrivate bool) *net.Dialer {
	d := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
	}
	if !allowPrivate {
		d.Control = control
	}
	return d
}

// Transport returns an HTTP transport that connects through Dialer. It
// ignores proxy settings from the environment: with a proxy the dialer
// would check the proxy's address instead of the destination's.
func Transport(allowPrivate bool) *http.Transport {
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            Dialer(allowPrivate).DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  30 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// NewClient returns an HTTP client for deliveries: connections through
// Transport(allowPrivate), redirects never followed (the 3xx response is
// returned as is), and the given overall timeout per request (0 = none).
func NewClient(allowPrivate bool, timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: Transport(allowPrivate),
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: timeout,
	}
}
