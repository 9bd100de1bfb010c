package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// Destinations says where the sidecar may send requests. Whatever it says,
// link-local, cloud-metadata, unspecified and multicast addresses are never
// reached: they are how a server-side request forgery reads cloud
// credentials, and no credential API lives there.
type Destinations struct {
	// Allow, when not empty, is the only set of upstreams the sidecar may
	// call: exact host names ("pbx.example.com"), wildcards matching one or
	// more labels ("*.example.com"), IP addresses and CIDR ranges
	// ("10.0.0.0/8"). Names match the URL's host; addresses and ranges match
	// the address actually dialled. When empty, every public and private
	// address is allowed, because an on-premise sidecar legitimately calls a
	// PBX on the office network.
	Allow []string
	// AllowLoopback lets the sidecar call its own host (127.0.0.0/8, ::1).
	// Off by default so that a caller cannot reach services bound to
	// localhost through it; the demo turns it on for its emulators. A
	// loopback address or range in Allow also allows it.
	AllowLoopback bool
}

// Validate names every allowlist entry that cannot be read.
func (d Destinations) Validate() error {
	_, err := newGuard(d, nil)
	return err
}

// RefusedError says a destination was refused and why; providers answer it
// with a destination-refused problem naming the host.
type RefusedError struct {
	Host   string // as written in the URL
	Addr   string // the resolved address, when the refusal came after DNS
	Reason string
}

func (e *RefusedError) Error() string {
	if e.Addr != "" && e.Addr != e.Host {
		return fmt.Sprintf("destination %s (%s) refused: %s", e.Host, e.Addr, e.Reason)
	}
	return fmt.Sprintf("destination %s refused: %s", e.Host, e.Reason)
}

// metadataHosts are names of cloud metadata services that resolve to
// addresses the range checks below might not catch on every cloud.
var metadataHosts = map[string]bool{
	"metadata.google.internal":   true,
	"metadata.goog":              true,
	"metadata":                   true,
	"instance-data":              true,
	"instance-data.ec2.internal": true,
}

// metadataAddrs are cloud metadata endpoints outside the link-local range.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("fd00:ec2::254"),   // AWS IMDS over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
}

// guard is a compiled Destinations.
type guard struct {
	names         []string // lower-case exact names
	suffixes      []string // ".example.com" for "*.example.com"
	prefixes      []netip.Prefix
	allowLoopback bool
	restricted    bool // Allow was given
	lookup        func(ctx context.Context, host string) ([]netip.Addr, error)
}

func newGuard(d Destinations, lookup func(ctx context.Context, host string) ([]netip.Addr, error)) (*guard, error) {
	g := &guard{allowLoopback: d.AllowLoopback, restricted: len(d.Allow) > 0, lookup: lookup}
	if g.lookup == nil {
		g.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	var bad []string
	for _, entry := range d.Allow {
		e := strings.ToLower(strings.TrimSpace(entry))
		switch {
		case strings.Contains(e, "/"):
			p, err := netip.ParsePrefix(e)
			if err != nil {
				bad = append(bad, fmt.Sprintf("%q is not a CIDR range", entry))
				continue
			}
			g.prefixes = append(g.prefixes, p.Masked())
		case strings.HasPrefix(e, "*."):
			if len(e) < 3 || strings.Contains(e[2:], "*") {
				bad = append(bad, fmt.Sprintf("%q: a wildcard is \"*.\" followed by a domain", entry))
				continue
			}
			g.suffixes = append(g.suffixes, e[1:])
		case e == "" || strings.ContainsAny(e, "*:/ ") && !isAddr(e):
			bad = append(bad, fmt.Sprintf("%q is not a host name, wildcard, address or CIDR range", entry))
		default:
			if a, err := netip.ParseAddr(e); err == nil {
				g.prefixes = append(g.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
				continue
			}
			g.names = append(g.names, strings.TrimSuffix(e, "."))
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("allowlist: %s", strings.Join(bad, "; "))
	}
	for _, p := range g.prefixes {
		if p.Addr().IsLoopback() {
			g.allowLoopback = true
		}
	}
	for _, n := range g.names {
		if n == "localhost" {
			g.allowLoopback = true
		}
	}
	return g, nil
}

func isAddr(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// checkName refuses a host by name before anything is resolved. It reports
// whether the name is on the allowlist (then any non-forbidden address it
// resolves to is fine).
func (g *guard) checkName(host string) (named bool, err error) {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if metadataHosts[h] {
		return false, &RefusedError{Host: host, Reason: "it is a cloud metadata service"}
	}
	if a, perr := netip.ParseAddr(h); perr == nil {
		if err := g.checkAddr(host, a, false); err != nil {
			return false, err
		}
		return false, nil
	}
	for _, n := range g.names {
		if h == n {
			return true, nil
		}
	}
	for _, s := range g.suffixes {
		if strings.HasSuffix(h, s) {
			return true, nil
		}
	}
	if g.restricted && len(g.prefixes) == 0 {
		return false, &RefusedError{Host: host, Reason: "it is not on the allowlist"}
	}
	return false, nil
}

// checkAddr decides on one resolved address. named is true when the host
// name itself is on the allowlist.
func (g *guard) checkAddr(host string, a netip.Addr, named bool) error {
	a = a.Unmap()
	if reason := forbidden(a, g.allowLoopback); reason != "" {
		return &RefusedError{Host: host, Addr: a.String(), Reason: reason}
	}
	if !g.restricted || named {
		return nil
	}
	for _, p := range g.prefixes {
		if p.Contains(a) {
			return nil
		}
	}
	return &RefusedError{Host: host, Addr: a.String(), Reason: "it is not on the allowlist"}
}

var awsMetadata = netip.MustParseAddr("169.254.169.254")

// forbidden names why an address is never called, or returns "".
func forbidden(a netip.Addr, allowLoopback bool) string {
	for _, m := range metadataAddrs {
		if a == m {
			return "it is a cloud metadata address"
		}
	}
	switch {
	case a == awsMetadata:
		return "it is a cloud metadata address"
	case a.IsLinkLocalUnicast():
		return "link-local addresses are never called"
	case a.IsUnspecified():
		return "the unspecified address is never called"
	case a.IsMulticast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast():
		return "multicast addresses are never called"
	case a.Is4() && a.As4()[0] == 255:
		return "broadcast addresses are never called"
	case a.IsLoopback() && !allowLoopback:
		return "loopback is allowed only in demo mode or when the allowlist names it"
	}
	return ""
}

// dialContext resolves the host itself, checks every address, and dials
// only an address that passed, so a DNS answer that changes between a check
// and the dial (rebinding) cannot slip through. It runs for every new
// connection, redirects included.
func (g *guard) dialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		named, err := g.checkName(host)
		if err != nil {
			return nil, err
		}
		var addrs []netip.Addr
		if a, perr := netip.ParseAddr(host); perr == nil {
			addrs = []netip.Addr{a}
		} else if addrs, err = g.lookup(ctx, host); err != nil {
			return nil, err
		}
		var allowed []netip.Addr
		var firstRefusal error
		for _, a := range addrs {
			if err := g.checkAddr(host, a, named); err != nil {
				// One bad address in an answer taints the whole name:
				// dialling the others would let an attacker mix a
				// metadata address into a round-robin answer and wait.
				if firstRefusal == nil {
					firstRefusal = err
				}
				continue
			}
			allowed = append(allowed, a)
		}
		if firstRefusal != nil {
			return nil, firstRefusal
		}
		if len(allowed) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
		var lastErr error
		for _, a := range allowed {
			conn, err := d.DialContext(ctx, network, netip.AddrPortFrom(a, parsePort(port)).String())
			if err == nil {
				return conn, nil
			}
			lastErr = err
			if ctx.Err() != nil {
				break
			}
		}
		return nil, lastErr
	}
}

// checkTarget decides on a host before any connection exists (redirect
// targets), resolving it when it is a name.
func (g *guard) checkTarget(ctx context.Context, host string) error {
	named, err := g.checkName(host)
	if err != nil {
		return err
	}
	if isAddr(host) {
		return nil
	}
	addrs, err := g.lookup(ctx, host)
	if err != nil {
		return nil // the dial would fail too; nothing to refuse
	}
	for _, a := range addrs {
		if err := g.checkAddr(host, a, named); err != nil {
			return err
		}
	}
	return nil
}

// control is the last check, on the socket address itself: it catches any
// path to a dial that did not go through dialContext.
func (g *guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return err
	}
	a := ap.Addr().Unmap()
	// Only the never-allowed ranges: allowlist decisions need the name,
	// which dialContext had.
	if reason := forbidden(a, g.allowLoopback); reason != "" {
		return &RefusedError{Host: a.String(), Addr: a.String(), Reason: reason}
	}
	return nil
}

func parsePort(p string) uint16 {
	var n uint16
	_, _ = fmt.Sscan(p, &n)
	return n
}

// IsRefused reports whether err is (or wraps) a refused destination.
func IsRefused(err error) (*RefusedError, bool) {
	var r *RefusedError
	ok := errors.As(err, &r)
	return r, ok
}
