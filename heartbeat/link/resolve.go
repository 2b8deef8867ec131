package link

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// resolveTimeout bounds the one lookup of a peer host name at open.
const resolveTimeout = 10 * time.Second

// lookupNetIP resolves host names; a variable so tests need no DNS.
var lookupNetIP = net.DefaultResolver.LookupNetIP

// resolvePeer turns the configured peer into one address of the medium's
// family. Heartbeat resolves ucast peers once, when the medium starts; so
// do we: a later DNS change needs a restart, but a DNS outage cannot
// silence a running link.
func resolvePeer(cfg UDPConfig) (netip.Addr, error) {
	if a, err := netip.ParseAddr(cfg.Peer); err == nil {
		return checkPeerFamily(cfg, a)
	}
	network := "ip4"
	if cfg.ipv6() {
		network = "ip6"
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	addrs, err := lookupNetIP(ctx, network, cfg.Peer)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%s %s: resolve peer %q: %w", cfg.Kind, cfg.Dev, cfg.Peer, err)
	}
	if len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("%s %s: peer %q has no %s address", cfg.Kind, cfg.Dev, cfg.Peer, network)
	}
	return checkPeerFamily(cfg, addrs[0])
}

func checkPeerFamily(cfg UDPConfig, a netip.Addr) (netip.Addr, error) {
	if cfg.ipv6() {
		if !a.Is6() || a.Is4In6() {
			return netip.Addr{}, fmt.Errorf("%s %s: peer %s is not an IPv6 address (use ucast)", cfg.Kind, cfg.Dev, a)
		}
		return a.WithZone(""), nil // the zone is the bound device
	}
	a = a.Unmap()
	if !a.Is4() {
		return netip.Addr{}, fmt.Errorf("%s %s: peer %s is not an IPv4 address (use ucast6)", cfg.Kind, cfg.Dev, a)
	}
	return a, nil
}
