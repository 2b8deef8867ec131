package link

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// MaintainEvery is how often the owner of a UDP link should call
// Maintain: often enough that a re-created device is picked up within a
// few seconds, rarely enough to cost nothing.
const MaintainEvery = 2 * time.Second

// UDP is a Link over UDP sockets: an unbound send socket (ephemeral source
// port, as Heartbeat) and a receive socket bound to the port.
//
// It has no goroutine of its own: the owner's event loop watches Fd and
// calls Receive when it is readable (the daemon's loop reads every link
// itself, see heartbeat/evloop). Receive, Send and Maintain may run on
// different goroutines, but none of them concurrently with Close.
type UDP struct {
	cfg   UDPConfig
	v6    bool
	group netip.Addr // mcast kinds
	peer  netip.Addr // ucast kinds

	sendFd, recvFd int // -1 once closed

	// dst is where Send sends; Maintain may replace it while Send runs
	// (a new broadcast address, a new interface index).
	dst     atomic.Pointer[destination]
	ifindex atomic.Int32
	closed  atomic.Bool

	rx     *rxMsg     // Receive's recvmsg state
	rcvbuf RecvBuffer // what the receive socket got
}

// destination is a prepared sendto address.
type destination struct {
	raw  *rawAddr
	addr netip.AddrPort
}

// ErrNoPacket is Receive's answer when no datagram is waiting.
var ErrNoPacket = errors.New("no packet waiting")

// OpenUDP opens a UDP medium.
//
// Socket layout, following Heartbeat 3.0.6:
//   - send: bound to Dev (SO_BINDTODEVICE), IP_TOS low delay, no local port
//     (the source port is ephemeral); ucast sends to Peer:Port, bcast to
//     Dev's broadcast address with SO_BROADCAST and SO_DONTROUTE, mcast to
//     Group:Port with the multicast interface, TTL and loop set.
//   - receive: SO_REUSEADDR, SO_REUSEPORT, SO_BINDTODEVICE(Dev), bound to
//     *:Port (ucast, bcast) or Group:Port (mcast, joined on Dev). Links on
//     different devices, and other programs (a real Heartbeat) on the same
//     port, coexist. Ours (Heartbeat has neither): a receive buffer of
//     RecvBufferSize (see RecvBuffer), and SO_TIMESTAMPNS, so that every
//     datagram carries the time the kernel received it (Packet.Stamp).
//
// The sockets do not depend on the interface being up: while it is down
// Send fails and nothing arrives, and both resume when it comes back.
// Maintain, called every MaintainEvery, picks up a deleted and re-created
// device (new index), follows a changed broadcast address and re-asserts
// multicast membership.
func OpenUDP(cfg UDPConfig) (*UDP, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	l := &UDP{cfg: cfg, v6: cfg.ipv6(), sendFd: -1, recvFd: -1, rx: &rxMsg{}}
	var err error
	switch cfg.Kind {
	case KindUcast, KindUcast6:
		l.peer, err = resolvePeer(cfg)
	case KindMcast, KindMcast6:
		l.group, err = cfg.group()
	}
	if err != nil {
		return nil, err
	}
	if err := l.open(); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("%s %s: %w", cfg.Kind, cfg.Dev, err)
	}
	return l, nil
}

// open creates both sockets and the first destination.
func (l *UDP) open() error {
	var err error
	var brd netip.Addr
	l.sendFd, err = newUDPSocket(l.v6, func(fd int) error {
		if err := l.setupSend(fd); err != nil {
			return err
		}
		if l.cfg.Kind == KindBcast {
			brd = broadcastAddr(fd, l.cfg.Dev)
		}
		return nil
	}, l.anyAddr(0))
	if err != nil {
		return fmt.Errorf("send socket: %w", err)
	}
	l.recvFd, err = newUDPSocket(l.v6, l.setupRecv, l.recvAddr())
	if err != nil {
		return fmt.Errorf("receive socket: %w", err)
	}
	l.setDestination(brd)
	return nil
}

// setupSend configures the send socket; it also learns the interface index.
func (l *UDP) setupSend(fd int) error {
	if err := bindToDevice(fd, l.cfg.Dev); err != nil {
		return err
	}
	idx, err := ifIndex(fd, l.cfg.Dev)
	if err != nil {
		return err
	}
	l.ifindex.Store(int32(idx))
	if l.v6 {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_TCLASS, lowDelay)
	} else {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TOS, lowDelay)
	}
	if err != nil {
		return fmt.Errorf("type of service: %w", err)
	}
	switch l.cfg.Kind {
	case KindBcast:
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_BROADCAST, 1); err != nil {
			return fmt.Errorf("SO_BROADCAST: %w", err)
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DONTROUTE, 1); err != nil {
			return fmt.Errorf("SO_DONTROUTE: %w", err)
		}
	case KindMcast, KindMcast6:
		return l.setupMulticastSend(fd, idx)
	}
	return nil
}

func (l *UDP) setupMulticastSend(fd, idx int) error {
	if err := setMulticastIf(fd, l.v6, idx); err != nil {
		return err
	}
	level, ttlOpt, loopOpt := unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, unix.IP_MULTICAST_LOOP
	if l.v6 {
		level, ttlOpt, loopOpt = unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, unix.IPV6_MULTICAST_LOOP
	}
	if err := unix.SetsockoptInt(fd, level, ttlOpt, l.cfg.TTL); err != nil {
		return fmt.Errorf("multicast ttl %d: %w", l.cfg.TTL, err)
	}
	loop := 0
	if l.cfg.Loop {
		loop = 1
	}
	if err := unix.SetsockoptInt(fd, level, loopOpt, loop); err != nil {
		return fmt.Errorf("multicast loop: %w", err)
	}
	return nil
}

// setupRecv configures the receive socket before it is bound.
func (l *UDP) setupRecv(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fmt.Errorf("SO_REUSEADDR: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		return fmt.Errorf("SO_REUSEPORT: %w", err)
	}
	if err := bindToDevice(fd, l.cfg.Dev); err != nil {
		return err
	}
	var err error
	if l.rcvbuf, err = setRecvBuffer(fd, RecvBufferSize); err != nil {
		return err
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fmt.Errorf("SO_TIMESTAMPNS: %w", err)
	}
	// By default a socket bound to the wildcard address also receives
	// every group any other socket on the host joined; a link should hear
	// its own medium only. (IPV6_MULTICAST_ALL needs Linux 4.20: best
	// effort.)
	if l.v6 {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_ALL, 0)
	} else if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0); err != nil {
		return fmt.Errorf("IP_MULTICAST_ALL: %w", err)
	}
	if l.group.IsValid() {
		return joinGroup(fd, l.group, int(l.ifindex.Load()))
	}
	return nil
}

// anyAddr is the wildcard address of the link's family.
func (l *UDP) anyAddr(port int) syscall.Sockaddr {
	if l.v6 {
		return &syscall.SockaddrInet6{Port: port}
	}
	return &syscall.SockaddrInet4{Port: port}
}

// recvAddr is where the receive socket binds: the group for multicast (as
// Heartbeat, so that only the group's datagrams arrive), else the wildcard.
func (l *UDP) recvAddr() syscall.Sockaddr {
	if l.group.IsValid() {
		// A link-local group needs no scope: the device binding is one.
		return toSockaddr(netip.AddrPortFrom(l.group, uint16(l.cfg.Port)), 0)
	}
	return l.anyAddr(l.cfg.Port)
}

// setDestination computes where Send sends, for the current interface
// index and (bcast) broadcast address brd.
func (l *UDP) setDestination(brd netip.Addr) {
	var a netip.Addr
	switch l.cfg.Kind {
	case KindUcast, KindUcast6:
		a = l.peer
	case KindMcast, KindMcast6:
		a = l.group
	case KindBcast:
		a = brd
	}
	ap := netip.AddrPortFrom(a, uint16(l.cfg.Port))
	l.dst.Store(&destination{raw: newRawAddr(ap, int(l.ifindex.Load())), addr: ap})
}

func (l *UDP) Name() string { return l.cfg.Dev }

// Fd is the receive socket (non-blocking), for the owner's poller.
func (l *UDP) Fd() int { return l.recvFd }

// Send transmits one datagram without ever waiting: the sockets are
// non-blocking, and a full send queue (EAGAIN) is returned as an error.
func (l *UDP) Send(b []byte) error {
	if l.closed.Load() {
		return fmt.Errorf("%s %s: send: %w", l.cfg.Kind, l.cfg.Dev, net.ErrClosed)
	}
	d := l.dst.Load()
	if err := sendto(l.sendFd, b, d.raw); err != nil {
		return fmt.Errorf("%s %s: send to %s: %w", l.cfg.Kind, l.cfg.Dev, d.addr, err)
	}
	return nil
}

// RecvBuffer is the receive socket's buffer as the kernel granted it.
func (l *UDP) RecvBuffer() RecvBuffer { return l.rcvbuf }

// Receive reads one waiting datagram into buf, without waiting:
// ErrNoPacket when none is there. The packet's Data is buf[:n], so the
// caller must be done with it (or copy it) before the next Receive into
// the same buffer. A datagram larger than buf is truncated and reported
// as such, to be dropped. Stamp is when the kernel received it.
//
// Receive must not run concurrently with itself (one reader per link).
func (l *UDP) Receive(buf []byte) (Packet, error) {
	if l.closed.Load() {
		return Packet{}, net.ErrClosed
	}
	if len(buf) == 0 {
		return Packet{}, fmt.Errorf("%s %s: receive: empty buffer", l.cfg.Kind, l.cfg.Dev)
	}
	n, stamp, err := recvmsg(l.recvFd, buf, l.rx)
	switch {
	case err == nil:
		p := Packet{Link: l.cfg.Dev, From: l.rx.from.addrPort(l.cfg.Dev), Stamp: stamp}
		if n > len(buf) {
			return p, fmt.Errorf("%s %s: %d-byte datagram from %s: %w", l.cfg.Kind, l.cfg.Dev, n, p.From, ErrTruncated)
		}
		p.Data = buf[:n]
		return p, nil
	case errors.Is(err, syscall.EAGAIN):
		return Packet{}, ErrNoPacket
	default:
		return Packet{}, fmt.Errorf("%s %s: receive: %w", l.cfg.Kind, l.cfg.Dev, err)
	}
}

// ErrTruncated marks a datagram larger than the receive buffer.
var ErrTruncated = errors.New("datagram too large")

// Close closes both sockets. Closing twice is harmless.
func (l *UDP) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	var errs []error
	for _, fd := range []*int{&l.recvFd, &l.sendFd} {
		if *fd >= 0 {
			errs = append(errs, syscall.Close(*fd))
			*fd = -1
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s %s: close: %w", l.cfg.Kind, l.cfg.Dev, err)
	}
	return nil
}
