package link

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func fakeLookup(m map[string]string) func(context.Context, string, string) ([]netip.Addr, error) {
	return func(_ context.Context, _, host string) ([]netip.Addr, error) {
		if a, ok := m[host]; ok {
			return []netip.Addr{netip.MustParseAddr(a)}, nil
		}
		return nil, fmt.Errorf("lookup %s: no such host", host)
	}
}

// These all fail before any socket exists, so they need no namespace.
func TestOpenUDPConfigErrors(t *testing.T) {
	old := lookupNetIP
	t.Cleanup(func() { lookupNetIP = old })
	lookupNetIP = fakeLookup(map[string]string{"v6only": "fe80::9", "v4only": "198.18.0.9"})
	ok := func(c UDPConfig) UDPConfig { return c }
	tests := []struct {
		name    string
		cfg     UDPConfig
		wantErr string
	}{
		{"no kind", UDPConfig{Dev: "eth0", Port: 694}, "missing medium kind"},
		{"unknown kind", UDPConfig{Kind: "serial", Dev: "eth0", Port: 694}, "unknown"},
		{"no dev", UDPConfig{Kind: KindBcast, Port: 694}, "missing interface"},
		{"long dev", UDPConfig{Kind: KindBcast, Dev: "abcdefghijklmnop", Port: 694}, "longer than"},
		{"port zero", UDPConfig{Kind: KindBcast, Dev: "eth0"}, "port 0"},
		{"port too big", UDPConfig{Kind: KindBcast, Dev: "eth0", Port: 65536}, "port 65536"},
		{"ucast no peer", UDPConfig{Kind: KindUcast, Dev: "eth0", Port: 694}, "missing peer"},
		{"ucast v6 peer", UDPConfig{Kind: KindUcast, Dev: "eth0", Port: 694, Peer: "fe80::2"}, "use ucast6"},
		{"ucast6 v4 peer", UDPConfig{Kind: KindUcast6, Dev: "eth0", Port: 694, Peer: "198.18.0.2"}, "use ucast"},
		{"ucast unresolvable", UDPConfig{Kind: KindUcast, Dev: "eth0", Port: 694, Peer: "nosuchhost"}, "no such host"},
		{"ucast name resolves v6", UDPConfig{Kind: KindUcast, Dev: "eth0", Port: 694, Peer: "v6only"}, "use ucast6"},
		{"mcast no group", UDPConfig{Kind: KindMcast, Dev: "eth0", Port: 694}, "group"},
		{"mcast unicast group", UDPConfig{Kind: KindMcast, Dev: "eth0", Port: 694, Group: "198.18.0.1"}, "not a multicast"},
		{"mcast v6 group", UDPConfig{Kind: KindMcast, Dev: "eth0", Port: 694, Group: "ff02::1"}, "use mcast6"},
		{"mcast6 v4 group", UDPConfig{Kind: KindMcast6, Dev: "eth0", Port: 694, Group: "239.1.1.1"}, "not an IPv6"},
		{"mcast ttl negative", ok(UDPConfig{Kind: KindMcast, Dev: "eth0", Port: 694, Group: "239.1.1.1", TTL: -1}), "ttl -1"},
		{"mcast ttl too big", UDPConfig{Kind: KindMcast, Dev: "eth0", Port: 694, Group: "239.1.1.1", TTL: 256}, "ttl 256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := OpenUDP(tc.cfg)
			if err == nil {
				_ = l.Close()
				t.Fatal("OpenUDP succeeded")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestSockaddrConversion(t *testing.T) {
	tests := []struct {
		ap    string
		scope int
		zone  uint32
	}{
		{"198.18.0.1:694", 7, 0},
		{"[fe80::1]:694", 7, 7},
		{"[ff02::1]:694", 7, 7},
		{"[ff12::198:18]:694", 7, 7},
		{"[ff05::1]:694", 7, 0},
		{"[2001:2::1]:694", 7, 0},
	}
	for _, tc := range tests {
		ap := netip.MustParseAddrPort(tc.ap)
		sa := toSockaddr(ap, tc.scope)
		if s6, ok := sa.(*syscall.SockaddrInet6); ok && s6.ZoneId != tc.zone {
			t.Errorf("%s: zone %d, want %d", tc.ap, s6.ZoneId, tc.zone)
		}
		back := fromSockaddr(sa, "hb0")
		want := ap
		if needsScope(ap.Addr()) {
			want = netip.AddrPortFrom(ap.Addr().WithZone("hb0"), ap.Port())
		}
		if back != want {
			t.Errorf("%s: round trip %v, want %v", tc.ap, back, want)
		}
		// The kernel form Send and Receive use.
		raw := newRawAddr(ap, tc.scope)
		if got := raw.addrPort("hb0"); got != want {
			t.Errorf("%s: raw round trip %v, want %v", tc.ap, got, want)
		}
		if ap.Addr().Is6() {
			if s6 := (*unix.RawSockaddrInet6)(unsafe.Pointer(&raw.sa)); s6.Scope_id != tc.zone {
				t.Errorf("%s: raw scope %d, want %d", tc.ap, s6.Scope_id, tc.zone)
			}
		}
	}
	if got := (&rawAddr{}).addrPort("hb0"); got.IsValid() {
		t.Errorf("empty raw address converted to %v", got)
	}
	if got := fromSockaddr(&syscall.SockaddrUnix{Name: "x"}, "hb0"); got.IsValid() {
		t.Errorf("unix sockaddr converted to %v", got)
	}
}
