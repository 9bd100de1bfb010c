package upstream

import (
	"net/netip"
	"testing"
	"time"
)

// FuzzRetryAfter: any header value gives a wait of zero or more.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "5", "-1", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT", "soon", ""} {
		f.Add(s)
	}
	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, v string) {
		if d := retryAfter(v, now); d < 0 {
			t.Fatalf("%q: negative wait %v", v, d)
		}
	})
}

// FuzzGuard: no allowlist and no address make the guard allow a metadata
// or link-local address.
func FuzzGuard(f *testing.F) {
	f.Add("10.0.0.0/8", "169.254.169.254")
	f.Add("*.example.com", "fe80::1")
	f.Add("0.0.0.0/0", "::ffff:169.254.169.254")
	f.Add("::/0", "fd00:ec2::254")
	f.Fuzz(func(t *testing.T, entry, addr string) {
		g, err := newGuard(Destinations{Allow: []string{entry}, AllowLoopback: true}, nil)
		if err != nil {
			return
		}
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return
		}
		u := a.Unmap()
		forbidden := u.IsLinkLocalUnicast() || u.IsUnspecified() || u.IsMulticast() || u == netip.MustParseAddr("fd00:ec2::254")
		if forbidden && g.checkAddr("h", a, true) == nil {
			t.Fatalf("allowlist %q let %s through", entry, addr)
		}
	})
}
