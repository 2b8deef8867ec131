package ipaddr

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The address work of a group of VIPs is shared per interface: a 100-VIP
// group used to cost 100 address dumps per announcement round (each VIP's
// announcer checked that its address was still there with a dump of every
// address of the namespace) and 100 packet sockets (each closed with an RCU
// grace period). During such a move the daemons' realtime threads held the
// CPUs long enough to starve the heartbeat loop (docs/benchmarks-resources.md).
// Now the VIPs of an interface share one recent address list (one dump per
// interface per snapAge, kept up to date with our own adds and deletes) and
// one ARP socket.

// snapAge is how long an address list of an interface serves the
// announcers' "still ours" checks and Stop. Status and Monitor always dump
// afresh (and refresh the list).
const snapAge = 20 * time.Millisecond

// stopAge is how old a list Stop may use: our own changes keep it up to
// date, only an address someone else added in the meantime can be missing
// from it (and is then left, as it would be a moment later anyway).
const stopAge = 100 * time.Millisecond

// nsKey identifies a network namespace (device and inode of its nsfs file).
type nsKey struct{ dev, ino uint64 }

// nsRef is the namespace of an operation; ok is false when it could not
// be told (then nothing is shared).
type nsRef struct {
	key nsKey
	ok  bool
}

// currentNS is the calling thread's network namespace (a stat in procfs:
// an operation asks once).
func currentNS() nsRef {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return nsRef{}
	}
	return nsRef{nsKey{uint64(st.Dev), st.Ino}, true} //nolint:unconvert // Dev's type differs between architectures
}

// linkEntry is a recently looked-up interface.
type linkEntry struct {
	link netlink.Link
	at   time.Time
}

var links = struct {
	mu sync.Mutex
	m  map[linkKey]linkEntry
}{m: map[linkKey]linkEntry{}}

type linkKey struct {
	ns   nsKey
	name string
}

// cachedLink looks the interface up, or takes a lookup younger than maxAge
// (the VIPs of a group look their interface up once per snapAge).
func cachedLink(h *netlink.Handle, ns nsRef, name string, maxAge time.Duration) (netlink.Link, bool, error) {
	k := linkKey{ns.key, name}
	if ns.ok && maxAge > 0 {
		links.mu.Lock()
		e, ok := links.m[k]
		links.mu.Unlock()
		if ok && time.Since(e.at) < maxAge {
			return e.link, true, nil
		}
	}
	l, found, err := linkByName(h, name)
	if err != nil || !ns.ok {
		return l, found, err
	}
	links.mu.Lock()
	defer links.mu.Unlock()
	if !found {
		delete(links.m, k)
		return l, found, err
	}
	if len(links.m) > 64 {
		for ok, e := range links.m {
			if time.Since(e.at) > time.Second {
				delete(links.m, ok)
			}
		}
	}
	links.m[k] = linkEntry{l, time.Now()}
	return l, found, err
}

// dumps counts address dumps (tests).
var dumps atomic.Uint64

type snapKey struct {
	ns      nsKey
	ifindex int
	fam     int
}

// addrSnap is a recent address list of one interface and family.
type addrSnap struct {
	mu    sync.Mutex
	at    time.Time // zero: none yet
	addrs []netlink.Addr
	refs  int             // announcers using h
	h     *netlink.Handle // the announcers' handle (opened in the namespace), nil without announcers
}

var snaps = struct {
	mu sync.Mutex
	m  map[snapKey]*addrSnap
}{m: map[snapKey]*addrSnap{}}

// snapFor returns the shared list of link's addresses of fam in the calling
// thread's namespace; nil when the namespace cannot be told (then callers
// dump for themselves).
func snapFor(ns nsRef, link netlink.Link, fam int) *addrSnap {
	if !ns.ok {
		return nil
	}
	k := snapKey{ns.key, link.Attrs().Index, fam}
	snaps.mu.Lock()
	defer snaps.mu.Unlock()
	s := snaps.m[k]
	if s == nil {
		// Forget lists nobody announces with and nobody read lately
		// (namespaces and interfaces come and go in tests).
		for ok, os := range snaps.m {
			os.mu.Lock()
			stale := os.refs == 0 && time.Since(os.at) > time.Second
			os.mu.Unlock()
			if stale {
				delete(snaps.m, ok)
			}
		}
		s = &addrSnap{}
		snaps.m[k] = s
	}
	return s
}

// list returns the link's addresses, from the shared list when it is younger
// than maxAge, else dumped with h (h nil: the announcers' handle).
func (s *addrSnap) list(h *netlink.Handle, link netlink.Link, fam int, maxAge time.Duration) ([]netlink.Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.at.IsZero() && time.Since(s.at) < maxAge {
		return s.addrs, nil
	}
	if h == nil {
		h = s.h
	}
	as, err := listAddrs(h, link, fam)
	if err != nil {
		s.at = time.Time{}
		return nil, err
	}
	s.addrs, s.at = as, time.Now()
	return as, nil
}

// added records an address we added (the list stays valid).
func (s *addrSnap) added(a netlink.Addr) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at.IsZero() {
		return
	}
	s.addrs = append(append([]netlink.Addr(nil), s.addrs...), a)
}

// removed records an address we deleted.
func (s *addrSnap) removed(addr netip.Addr) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at.IsZero() {
		return
	}
	out := make([]netlink.Addr, 0, len(s.addrs))
	for _, a := range s.addrs {
		if p, ok := addrPrefix(a); ok && p.Addr() == addr {
			continue
		}
		out = append(out, a)
	}
	s.addrs = out
}

// acquire gives an announcer the shared handle, opened in the calling
// thread's namespace by the first one.
func (s *addrSnap) acquire() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h == nil {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return err
		}
		if err := h.SetSocketTimeout(maxSendWait); err != nil {
			h.Close()
			return err
		}
		s.h = h
	}
	s.refs++
	return nil
}

// release returns the handle; the last announcer closes it.
func (s *addrSnap) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs--
	if s.refs == 0 && s.h != nil {
		s.h.Close()
		s.h = nil
	}
}

// matching returns the addresses equal to addr.
func matching(as []netlink.Addr, addr netip.Addr) []netlink.Addr {
	var out []netlink.Addr
	for _, a := range as {
		if p, ok := addrPrefix(a); ok && p.Addr() == addr {
			out = append(out, a)
		}
	}
	return out
}

// packetSockets counts the ARP sockets opened (tests).
var packetSockets atomic.Uint64

// arpConn is an ARP socket shared by the VIPs of one interface.
type arpConn struct {
	key  snapKey
	mu   sync.Mutex
	c    *arp.Client
	refs int // guarded by arpConns.mu
}

var arpConns = struct {
	mu sync.Mutex
	m  map[snapKey]*arpConn
}{m: map[snapKey]*arpConn{}}

// sharedARP returns the ARP socket of ifi in namespace ns (the calling
// thread's),
// opening it for the first VIP (the VIP must already be on the interface:
// arp.New insists on an IPv4 address there).
func sharedARP(ns nsRef, ifi *net.Interface) (*arpConn, error) {
	ok := ns.ok
	k := snapKey{ns.key, ifi.Index, 0}
	arpConns.mu.Lock()
	defer arpConns.mu.Unlock()
	if c := arpConns.m[k]; ok && c != nil {
		c.refs++
		return c, nil
	}
	pc, err := packet.Listen(ifi, packet.Raw, int(ethernet.EtherTypeARP), &packet.Config{Filter: dropAll})
	if err != nil {
		return nil, err
	}
	cl, err := arp.New(ifi, pc)
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	packetSockets.Add(1)
	c := &arpConn{key: k, c: cl, refs: 1}
	if ok {
		arpConns.m[k] = c
	}
	return c, nil
}

// release drops one user; the last one closes the socket.
func (c *arpConn) release() error {
	arpConns.mu.Lock()
	c.refs--
	last := c.refs == 0
	if last && arpConns.m[c.key] == c {
		delete(arpConns.m, c.key)
	}
	arpConns.mu.Unlock()
	if !last {
		return nil
	}
	return c.c.Close()
}
