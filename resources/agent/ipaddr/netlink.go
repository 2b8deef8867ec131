package ipaddr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/resources/agent"
)

// Netlink bounds. The kernel answers route requests at once; the bounds only
// keep a wedged machine from hanging a caller past its deadline.
const (
	maxNetlinkWait = 5 * time.Second
	dumpRetries    = 5
)

// newHandle opens a NETLINK_ROUTE socket in the calling thread's network
// namespace whose sends and receives time out by ctx's deadline (at most
// maxNetlinkWait).
func newHandle(ctx context.Context) (*netlink.Handle, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("ipaddr: netlink: %w", err)
	}
	wait := maxNetlinkWait
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl))
	}
	if err := h.SetSocketTimeout(max(wait, time.Millisecond)); err != nil {
		h.Close()
		return nil, fmt.Errorf("ipaddr: netlink: %w", err)
	}
	return h, nil
}

// nlErr wraps netlink errors; a socket timeout becomes agent.ErrTimeout.
func nlErr(op string, err error) error {
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EWOULDBLOCK) {
		return fmt.Errorf("ipaddr: %s: %w: %w", op, agent.ErrTimeout, err)
	}
	return fmt.Errorf("ipaddr: %s: %w", op, err)
}

func family(a netip.Addr) int {
	if a.Is4() {
		return netlink.FAMILY_V4
	}
	return netlink.FAMILY_V6
}

// listAddrs dumps addresses (of link, or all when nil), retrying a dump that
// a concurrent change interrupted.
func listAddrs(h *netlink.Handle, link netlink.Link, fam int) ([]netlink.Addr, error) {
	var err error
	for range dumpRetries {
		var as []netlink.Addr
		dumps.Add(1)
		as, err = h.AddrList(link, fam)
		if err == nil {
			return as, nil
		}
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	return nil, nlErr("list addresses", err)
}

func listLinks(h *netlink.Handle) ([]netlink.Link, error) {
	var err error
	for range dumpRetries {
		var ls []netlink.Link
		ls, err = h.LinkList()
		if err == nil {
			return ls, nil
		}
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	return nil, nlErr("list links", err)
}

// linkByName finds a link; found is false (and err nil) when it does not exist.
func linkByName(h *netlink.Handle, name string) (link netlink.Link, found bool, err error) {
	l, err := h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
			return nil, false, nil
		}
		return nil, false, nlErr("find interface "+name, err)
	}
	return l, true, nil
}

func isLoopback(l netlink.Link) bool {
	return l.Attrs().Flags&net.FlagLoopback != 0
}

// addrPrefix converts a netlink address.
func addrPrefix(a netlink.Addr) (netip.Prefix, bool) {
	if a.IPNet == nil {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(a.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := a.Mask.Size()
	return netip.PrefixFrom(ip.Unmap(), ones), true
}

// FindInterface finds the interface for addr, as Heartbeat's findif does:
// an interface that carries addr already (left by an earlier start) wins,
// else the one with the longest configured prefix containing addr (ties: the
// lowest interface index). Loopback interfaces are never chosen. bits is
// the length of that prefix. It works in the calling thread's network
// namespace; the error wraps ErrNoInterface when nothing matches.
func FindInterface(addr netip.Addr) (name string, bits int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), maxNetlinkWait)
	defer cancel()
	h, err := newHandle(ctx)
	if err != nil {
		return "", 0, err
	}
	defer h.Close()
	return findInterface(h, addr.Unmap(), "ipaddr")
}

func findInterface(h *netlink.Handle, addr netip.Addr, who string) (string, int, error) {
	links, err := listLinks(h)
	if err != nil {
		return "", 0, err
	}
	names := make(map[int]string, len(links))
	for _, l := range links {
		if !isLoopback(l) {
			names[l.Attrs().Index] = l.Attrs().Name
		}
	}
	addrs, err := listAddrs(h, nil, family(addr))
	if err != nil {
		return "", 0, err
	}
	bestIdx, bestBits := 0, -1
	ownIdx, ownBits := 0, -1
	for _, a := range addrs {
		if _, ok := names[a.LinkIndex]; !ok {
			continue
		}
		p, ok := addrPrefix(a)
		if !ok {
			continue
		}
		if p.Addr() == addr && (ownBits < 0 || a.LinkIndex < ownIdx) {
			ownIdx, ownBits = a.LinkIndex, p.Bits()
		}
		if p.IsSingleIP() || !p.Masked().Contains(addr) {
			continue
		}
		if p.Bits() > bestBits || (p.Bits() == bestBits && a.LinkIndex < bestIdx) {
			bestIdx, bestBits = a.LinkIndex, p.Bits()
		}
	}
	switch {
	case ownBits >= 0:
		return names[ownIdx], ownBits, nil
	case bestBits >= 0:
		return names[bestIdx], bestBits, nil
	}
	return "", 0, fmt.Errorf("%s: %w: no subnet of any interface contains %s; name the interface (IPaddr2::%s/bits/iface)", who, ErrNoInterface, addr, addr)
}

// subnetBits is the prefix length of addr on link if it is there already,
// else that of the longest subnet of link that contains addr (from the
// interface's shared address list: the VIPs of a group resolve with one dump).
func subnetBits(h *netlink.Handle, ns nsRef, link netlink.Link, addr netip.Addr) (int, bool, error) {
	var addrs []netlink.Addr
	var err error
	if s := snapFor(ns, link, family(addr)); s != nil {
		addrs, err = s.list(h, link, family(addr), snapAge)
	} else {
		addrs, err = listAddrs(h, link, family(addr))
	}
	if err != nil {
		return 0, false, err
	}
	best, own := -1, -1
	for _, a := range addrs {
		p, ok := addrPrefix(a)
		if !ok {
			continue
		}
		if p.Addr() == addr {
			own = p.Bits()
		}
		if !p.IsSingleIP() && p.Masked().Contains(addr) && p.Bits() > best {
			best = p.Bits()
		}
	}
	if own >= 0 { // already there: keep its prefix rather than add a second one
		best = own
	}
	return best, best >= 0, nil
}

// target is where the VIP goes, resolved in the current namespace.
type target struct {
	ns     nsRef // the calling thread's namespace
	link   netlink.Link
	prefix netip.Prefix
	brd    netip.Addr // invalid: none
}

// resolve finds the link, prefix length and broadcast address and
// caches the interface name and prefix length. An error wrapping
// ErrNoInterface means the address cannot be on this host (no such
// interface, no subnet for it): Status and Stop take that as "absent".
// The interface may come from a lookup younger than maxAge (0: looked up
// now).
func (v *VIP) resolve(h *netlink.Handle, maxAge time.Duration) (target, error) {
	ns := currentNS()
	name, bits := v.iface, v.bits
	if name == "" {
		name = v.spec.Iface
	}
	if name == "" {
		n, b, err := findInterface(h, v.addr, "ipaddr: "+v.name)
		if err != nil {
			return target{}, err
		}
		name = n
		if bits == 0 {
			bits = b
		}
	}
	link, ok, err := cachedLink(h, ns, name, maxAge)
	if err != nil {
		return target{}, err
	}
	if !ok {
		return target{}, fmt.Errorf("ipaddr: %s: %w: interface %q not found", v.name, ErrNoInterface, name)
	}
	if bits == 0 {
		bits = v.spec.Bits
	}
	if bits == 0 {
		b, ok, err := subnetBits(h, ns, link, v.addr)
		if err != nil {
			return target{}, err
		}
		if !ok {
			return target{}, fmt.Errorf("ipaddr: %s: %w: no subnet of %s contains %s; give the prefix length (IPaddr2::%s/bits/%s)",
				v.name, ErrNoInterface, name, v.addr, v.addr, name)
		}
		bits = b
	}
	v.iface, v.bits = name, bits
	p := netip.PrefixFrom(v.addr, bits)
	return target{ns: ns, link: link, prefix: p, brd: v.broadcastFor(p)}, nil
}

// findOnLink returns the link's addresses equal to the VIP, dumped now (and
// the interface's shared list refreshed).
func (v *VIP) findOnLink(h *netlink.Handle, t target) ([]netlink.Addr, error) {
	return v.onLink(h, t, 0)
}

// onLink returns the link's addresses equal to the VIP from the
// interface's shared list when it is younger than maxAge, else from a dump
// with h (nil: the announcers' shared handle).
func (v *VIP) onLink(h *netlink.Handle, t target, maxAge time.Duration) ([]netlink.Addr, error) {
	fam, link := family(v.addr), t.link
	var addrs []netlink.Addr
	var err error
	if s := snapFor(t.ns, link, fam); s != nil {
		addrs, err = s.list(h, link, fam, maxAge)
	} else {
		addrs, err = listAddrs(h, link, fam)
	}
	if err != nil {
		return nil, err
	}
	return matching(addrs, v.addr), nil
}
