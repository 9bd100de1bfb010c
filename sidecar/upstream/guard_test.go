package upstream

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func mustGuard(t *testing.T, d Destinations) *guard {
	t.Helper()
	g, err := newGuard(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGuardDecidesOnResolvedAddresses(t *testing.T) {
	open := mustGuard(t, Destinations{})
	demo := mustGuard(t, Destinations{AllowLoopback: true})
	listed := mustGuard(t, Destinations{Allow: []string{"pbx.example.com", "*.corp.example", "10.1.0.0/16", "192.0.2.7"}})
	cases := []struct {
		name   string
		g      *guard
		host   string
		addr   string
		named  bool
		refuse string // substring of the reason, "" when allowed
	}{
		{"AWS/GCP/Azure metadata", demo, "x", "169.254.169.254", false, "metadata"},
		{"metadata as IPv4-mapped IPv6", demo, "x", "::ffff:169.254.169.254", false, "metadata"},
		{"AWS IPv6 metadata", demo, "x", "fd00:ec2::254", false, "metadata"},
		{"Alibaba metadata", demo, "x", "100.100.100.200", false, "metadata"},
		{"IPv4 link-local", demo, "x", "169.254.10.1", false, "link-local"},
		{"IPv6 link-local", demo, "x", "fe80::1", false, "link-local"},
		{"unspecified v4", demo, "x", "0.0.0.0", false, "unspecified"},
		{"unspecified v6", demo, "x", "::", false, "unspecified"},
		{"multicast", demo, "x", "224.0.0.1", false, "multicast"},
		{"broadcast", demo, "x", "255.255.255.255", false, "broadcast"},
		{"loopback refused by default", open, "x", "127.0.0.1", false, "loopback"},
		{"loopback v6 refused by default", open, "x", "::1", false, "loopback"},
		{"loopback in demo", demo, "x", "127.0.0.1", false, ""},
		{"private range without allowlist", open, "x", "10.9.8.7", false, ""},
		{"public without allowlist", open, "x", "203.0.113.5", false, ""},
		{"allowlisted name may resolve privately", listed, "pbx.example.com", "172.16.0.4", true, ""},
		{"allowlisted name still never metadata", listed, "pbx.example.com", "169.254.169.254", true, "metadata"},
		{"allowlisted name still never loopback", listed, "pbx.example.com", "127.0.0.1", true, "loopback"},
		{"CIDR entry", listed, "other", "10.1.200.3", false, ""},
		{"single address entry", listed, "other", "192.0.2.7", false, ""},
		{"outside the allowlist", listed, "other", "10.2.0.1", false, "allowlist"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.g.checkAddr(c.host, netip.MustParseAddr(c.addr), c.named)
			if c.refuse == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.refuse) || !strings.Contains(err.Error(), c.host) {
				t.Fatalf("want refusal naming %q and %q, got %v", c.host, c.refuse, err)
			}
		})
	}
}

func TestGuardNames(t *testing.T) {
	listed := mustGuard(t, Destinations{Allow: []string{"pbx.example.com", "*.corp.example"}})
	for host, want := range map[string]string{
		"pbx.example.com":          "",
		"PBX.Example.com.":         "",
		"a.b.corp.example":         "",
		"corp.example":             "allowlist",
		"evil.example.com":         "allowlist",
		"metadata.google.internal": "metadata",
		"169.254.169.254":          "metadata",
	} {
		_, err := listed.checkName(host)
		if (want == "") != (err == nil) || want != "" && !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want %q, got %v", host, want, err)
		}
	}
	if _, err := mustGuard(t, Destinations{}).checkName("metadata.google.internal"); err == nil {
		t.Error("metadata name allowed without an allowlist")
	}
}

func TestAllowlistNamesEveryBadEntry(t *testing.T) {
	err := Destinations{Allow: []string{"10.0.0.0/33", "ok.example", "*.", "a b"}}.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`"10.0.0.0/33"`, `"*."`, `"a b"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "ok.example") {
		t.Errorf("%v names a good entry", err)
	}
}

// fakeDNS answers from a table, so tests can point names anywhere without
// any traffic leaving loopback.
type fakeDNS map[string][]string

func (f fakeDNS) lookup(_ context.Context, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, a := range f[host] {
		out = append(out, netip.MustParseAddr(a))
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

func clientWith(t *testing.T, d Destinations, dns fakeDNS) *http.Client {
	t.Helper()
	f, err := New(Config{Destinations: d, Lookup: dns.lookup, Retry: RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.Client(nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDNSNamePointingAtMetadataIsRefused(t *testing.T) {
	var refused []*RefusedError
	f, err := New(Config{Lookup: fakeDNS{"pbx.attacker.example": {"169.254.169.254"}}.lookup,
		Observer: &Observer{OnRefused: func(r *RefusedError) { refused = append(refused, r) }}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := f.Client(nil)
	_, err = c.Get("http://pbx.attacker.example/xapi/v1/MyTokens")
	r, ok := IsRefused(err)
	if !ok || r.Host != "pbx.attacker.example" || r.Addr != "169.254.169.254" {
		t.Fatalf("want refusal of pbx.attacker.example (169.254.169.254), got %v", err)
	}
	if len(refused) != 1 {
		t.Fatalf("observer saw %d refusals", len(refused))
	}
}

func TestOneForbiddenAddressTaintsTheName(t *testing.T) {
	c := clientWith(t, Destinations{}, fakeDNS{"mixed.example": {"203.0.113.9", "169.254.169.254"}})
	if _, err := c.Get("http://mixed.example/"); err == nil {
		t.Fatal("a name resolving partly to metadata was dialled")
	} else if _, ok := IsRefused(err); !ok {
		t.Fatalf("not a refusal: %v", err)
	}
}

// A name that first resolves to an allowed address and then to a forbidden
// one is checked again on every new connection.
func TestDNSRebindingIsCheckedOnEveryConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	dns := fakeDNS{"rebind.example": {"127.0.0.1"}}
	c := clientWith(t, Destinations{AllowLoopback: true}, dns)
	resp, err := c.Get("http://rebind.example" + port + "/")
	if err != nil {
		t.Fatalf("first resolution should be allowed: %v", err)
	}
	resp.Body.Close()
	dns["rebind.example"] = []string{"169.254.169.254"}
	_, err = c.Get("http://rebind.example" + port + "/")
	if _, ok := IsRefused(err); !ok {
		t.Fatalf("rebound name was dialled: %v", err)
	}
}

func TestRedirectToMetadataIsRefused(t *testing.T) {
	for _, target := range []string{"http://169.254.169.254/latest/meta-data/", "http://metadata.google.internal/computeMetadata/v1/", "http://sneaky.example/"} {
		srv := httptest.NewServer(http.RedirectHandler(target, http.StatusFound))
		c := clientWith(t, Destinations{AllowLoopback: true}, fakeDNS{"sneaky.example": {"fe80::1"}})
		_, err := c.Get(srv.URL)
		srv.Close()
		r, ok := IsRefused(err)
		if !ok || !strings.Contains(r.Reason, "redirected") {
			t.Fatalf("redirect to %s: want a refusal, got %v", target, err)
		}
	}
}

func TestRedirectElsewhereIsNotFollowed(t *testing.T) {
	hits := 0
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer target.Close()
	srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer srv.Close()
	resp, err := clientWith(t, Destinations{AllowLoopback: true}, nil).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || hits != 0 {
		t.Fatalf("status %d, target hit %d times", resp.StatusCode, hits)
	}
}

func TestLoopbackRefusedUnlessAllowed(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := clientWith(t, Destinations{}, nil).Get(srv.URL)
	if r, ok := IsRefused(err); !ok || !strings.Contains(r.Reason, "loopback") {
		t.Fatalf("loopback dialled without permission: %v", err)
	}
	resp, err := clientWith(t, Destinations{Allow: []string{"127.0.0.0/8"}}, nil).Get(srv.URL)
	if err != nil {
		t.Fatalf("allowlisted loopback refused: %v", err)
	}
	resp.Body.Close()
}
