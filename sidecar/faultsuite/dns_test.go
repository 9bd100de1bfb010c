package faultsuite

import (
	"context"
	"net"
	"net/netip"
)

// fakeDNS answers names from a table; nothing leaves the machine.
type fakeDNS map[string]string

func (f fakeDNS) lookup(_ context.Context, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}
