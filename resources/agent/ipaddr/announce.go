package ipaddr

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"github.com/vishvananda/netlink"
	"golang.org/x/net/bpf"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// maxSendWait bounds one announcement round (the sockets never block in
// practice; a stuck queue must not stall the announcer or Stop).
const maxSendWait = time.Second

// sender sends one announcement round. Implementations are safe for
// concurrent use.
type sender interface {
	send(deadline time.Time) error
	close() error
}

// dropAll is a socket filter that accepts nothing: the ARP socket only
// sends, and must not queue every ARP frame of the segment.
var dropAll = func() []bpf.RawInstruction {
	ins, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
	if err != nil {
		return nil // cannot happen for this program; a nil filter only costs memory
	}
	return ins
}()

// garpSender sends a gratuitous ARP request (sender = target = VIP, target
// hardware 00:00:00:00:00:00, as RFC 5227's ARP announcement) and a
// gratuitous reply (target hardware ff:ff:ff:ff:ff:ff), both to the Ethernet
// broadcast address. Linux neighbours update an existing entry on either.
type garpSender struct {
	c        *arpConn // shared by the VIPs of the interface
	req, rep *arp.Packet
}

// newGARPSender builds the VIP's packets and takes the interface's shared
// ARP socket. The VIP must already be on the interface (arp.New insists on
// an IPv4 address there).
func newGARPSender(ns nsRef, ifi *net.Interface, vip netip.Addr) (*garpSender, error) {
	req, err := arp.NewPacket(arp.OperationRequest, ifi.HardwareAddr, vip, make(net.HardwareAddr, len(ifi.HardwareAddr)), vip)
	if err != nil {
		return nil, err
	}
	rep, err := arp.NewPacket(arp.OperationReply, ifi.HardwareAddr, vip, ethernet.Broadcast, vip)
	if err != nil {
		return nil, err
	}
	c, err := sharedARP(ns, ifi)
	if err != nil {
		return nil, err
	}
	return &garpSender{c: c, req: req, rep: rep}, nil
}

func (g *garpSender) send(deadline time.Time) error {
	g.c.mu.Lock()
	defer g.c.mu.Unlock()
	if err := g.c.c.SetWriteDeadline(deadline); err != nil {
		return err
	}
	// Try both even when the first fails (a full queue may drain); report
	// the first error.
	errReq := g.c.c.WriteTo(g.req, ethernet.Broadcast)
	errRep := g.c.c.WriteTo(g.rep, ethernet.Broadcast)
	if errReq != nil {
		return errReq
	}
	return errRep
}

func (g *garpSender) close() error { return g.c.release() }

// naSender sends an unsolicited neighbour advertisement for the VIP with the
// Override flag and our link-layer address to all nodes (ff02::1), from the
// VIP itself.
type naSender struct {
	mu sync.Mutex
	c  *ndp.Conn
	na *ndp.NeighborAdvertisement
}

func newNASender(ifi *net.Interface, vip netip.Addr) (*naSender, error) {
	c, _, err := ndp.Listen(ifi, ndp.Addr(vip.String()))
	if err != nil {
		return nil, err
	}
	// Send only: queue no ICMPv6 at all.
	var f ipv6.ICMPFilter
	f.SetAll(true)
	if err := c.SetICMPFilter(&f); err != nil {
		_ = c.Close()
		return nil, err
	}
	na := &ndp.NeighborAdvertisement{
		Override:      true,
		TargetAddress: vip,
		Options: []ndp.Option{&ndp.LinkLayerAddress{
			Direction: ndp.Target,
			Addr:      ifi.HardwareAddr,
		}},
	}
	return &naSender{c: c, na: na}, nil
}

func (n *naSender) send(deadline time.Time) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.c.SetWriteDeadline(deadline); err != nil {
		return err
	}
	return n.c.WriteTo(n.na, nil, netip.IPv6LinkLocalAllNodes())
}

func (n *naSender) close() error { return n.c.Close() }

// linkInterface builds the net.Interface of a netlink link (saves a dump).
func linkInterface(l netlink.Link) *net.Interface {
	a := l.Attrs()
	return &net.Interface{Index: a.Index, MTU: a.MTU, Name: a.Name, HardwareAddr: a.HardwareAddr, Flags: a.Flags}
}

// newSender opens the announcement socket for vip on link. It returns nil
// and a reason when the link cannot carry announcements (no Ethernet
// address, NOARP, loopback).
func newSender(ns nsRef, link netlink.Link, vip netip.Addr) (sender, error) {
	ifi := linkInterface(link)
	switch {
	case ifi.Flags&net.FlagLoopback != 0:
		return nil, fmt.Errorf("interface %s is a loopback: nothing to announce", ifi.Name)
	case link.Attrs().RawFlags&unix.IFF_NOARP != 0:
		return nil, fmt.Errorf("interface %s has NOARP set: nothing to announce", ifi.Name)
	case len(ifi.HardwareAddr) != 6:
		return nil, fmt.Errorf("interface %s has no Ethernet address (%q): cannot announce", ifi.Name, ifi.HardwareAddr)
	}
	if vip.Is4() {
		s, err := newGARPSender(ns, ifi, vip)
		if err != nil {
			return nil, fmt.Errorf("gratuitous ARP on %s: %w", ifi.Name, err)
		}
		return s, nil
	}
	s, err := newNASender(ifi, vip)
	if err != nil {
		return nil, fmt.Errorf("neighbour advertisement on %s: %w", ifi.Name, err)
	}
	return s, nil
}

// announcer finishes bursts and refreshes in the background. One goroutine
// (run) owns its timers; others talk to it through kick and quit.
type announcer struct {
	s        sender
	count    int           // rounds per burst
	interval time.Duration // between rounds
	refresh  time.Duration // 0 = off
	// held reports whether the address is still ours; no round is sent
	// when it is not (we must not announce an address we do not hold).
	held     func() bool
	onSend   func(err error)
	life     context.Context
	cleanup  func() // runs when run returns (closes the socket and handle)
	ifindex  int
	kick     chan struct{} // a new burst: the caller sent its first round
	quit     chan struct{}
	quiet    chan struct{} // closed when run sends no more (before cleanup)
	done     chan struct{} // closed when run has returned (after cleanup)
	quitOnce sync.Once
}

func newAnnouncer(s sender, opts Options, held func() bool, onSend func(error), cleanup func()) *announcer {
	return &announcer{
		s: s, count: opts.GARPCount, interval: opts.GARPInterval, refresh: opts.Refresh,
		held: held, onSend: onSend, life: opts.Context, cleanup: cleanup,
		kick: make(chan struct{}, 1), quit: make(chan struct{}), quiet: make(chan struct{}), done: make(chan struct{}),
	}
}

// round sends one round now, bounded by maxSendWait and deadline (if set).
func (a *announcer) round(deadline time.Time) error {
	dl := time.Now().Add(maxSendWait)
	if !deadline.IsZero() && deadline.Before(dl) {
		dl = deadline
	}
	err := a.s.send(dl)
	a.onSend(err)
	return err
}

// burst asks run to send the rest of a burst whose first round the caller
// has just sent.
func (a *announcer) burst() {
	select {
	case a.kick <- struct{}{}:
	default: // one is pending already
	}
}

// alive reports whether run still runs.
func (a *announcer) alive() bool {
	select {
	case <-a.done:
		return false
	default:
		return true
	}
}

// stop ends run and waits until it sends no more, bounded by ctx. The
// socket is closed after that in the background: closing a packet socket
// can take milliseconds, and stopping 100 VIPs one after another must not
// add them up (the group's other resources, and the peer, wait).
func (a *announcer) stop(ctx context.Context) error {
	a.quitOnce.Do(func() { close(a.quit) })
	select {
	case <-a.quiet:
		return nil
	case <-ctx.Done():
		return ctxErr(ctx)
	}
}

// run sends the remaining count-1 rounds of each burst, interval apart, and
// one round every refresh while no burst is in progress.
func (a *announcer) run() {
	defer close(a.done)
	if a.cleanup != nil {
		defer a.cleanup()
	}
	defer close(a.quiet) // first of the defers: no round is in flight now
	remaining := 0
	next := time.NewTimer(time.Hour)
	next.Stop()
	defer next.Stop()
	var refresh <-chan time.Time
	if a.refresh > 0 {
		t := time.NewTicker(a.refresh)
		defer t.Stop()
		refresh = t.C
	}
	for {
		select {
		case <-a.quit:
			return
		case <-a.life.Done():
			return
		case <-a.kick:
			remaining = a.count - 1
			if remaining > 0 {
				next.Reset(a.interval)
			} else {
				next.Stop()
			}
		case <-next.C:
			if a.held() {
				_ = a.round(time.Time{})
			}
			remaining--
			if remaining > 0 {
				next.Reset(a.interval)
			}
		case <-refresh:
			if remaining <= 0 && a.held() {
				_ = a.round(time.Time{})
			}
		}
	}
}
