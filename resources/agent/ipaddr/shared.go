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

// currentNS is the calling thread's network namespace.
func currentNS() (nsKey, bool) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return nsKey{}, false
	}
	return nsKey{uint64(st.Dev), st.Ino}, true //nolint:unconvert // Dev's type differs between architectures
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
func snapFor(link netlink.Link, fam int) (*addrSnap, snapKey) {
	ns, ok := currentNS()
	if !ok {
		return nil, snapKey{}
	}
	k := snapKey{ns, link.Attrs().Index, fam}
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
	return s, k
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

// sharedARP returns the ARP socket of ifi in the calling thread's namespace,
// opening it for the first VIP (the VIP must already be on the interface:
// arp.New insists on an IPv4 address there).
func sharedARP(ifi *net.Interface) (*arpConn, error) {
	ns, ok := currentNS()
	k := snapKey{ns, ifi.Index, 0}
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
