package link

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// maintainEvery is how often a UDP link re-checks its interface (re-created
// device, changed broadcast address, multicast membership). A variable so
// tests can shorten it; each link copies it at open.
var maintainEvery = 2 * time.Second

// udpLink is a Link over UDP sockets: an unbound send socket (ephemeral
// source port, as Heartbeat) and a receive socket bound to the port.
type udpLink struct {
	cfg   UDPConfig
	v6    bool
	group netip.Addr // mcast kinds
	peer  netip.Addr // ucast kinds

	send, recv       *net.UDPConn
	sendRaw, recvRaw syscall.RawConn

	// dst is where Send sends; maintenance may replace it while Send
	// runs (a new broadcast address, a new interface index).
	dst atomic.Pointer[destination]

	deliver       func(Packet)
	maintainEvery time.Duration
	ifindex       int // owned by the reader goroutine once it runs

	done      chan struct{} // closed when the reader has stopped
	closeOnce sync.Once
	closeErr  error
}

// destination is a prepared sendto address.
type destination struct {
	sa   unix.Sockaddr
	addr netip.AddrPort
}

// OpenUDP opens a UDP medium and starts its one reader goroutine, which
// calls deliver for every datagram received on the medium, in arrival
// order. deliver must return quickly (the daemon does a non-blocking
// channel send) and must not call Close.
//
// Socket layout, following Heartbeat 3.0.6:
//   - send: bound to Dev (SO_BINDTODEVICE), IP_TOS low delay, no local port
//     (the source port is ephemeral); ucast sends to Peer:Port, bcast to
//     Dev's broadcast address with SO_BROADCAST and SO_DONTROUTE, mcast to
//     Group:Port with the multicast interface, TTL and loop set.
//   - receive: SO_REUSEADDR, SO_REUSEPORT, SO_BINDTODEVICE(Dev), bound to
//     *:Port (ucast, bcast) or Group:Port (mcast, joined on Dev). Links on
//     different devices, and other programs (a real Heartbeat) on the same
//     port, coexist.
//
// The sockets do not depend on the interface being up: while it is down
// Send fails and nothing arrives, and both resume when it comes back.
// Every few seconds the reader also re-checks the interface, so a deleted
// and re-created device (new index) is picked up, a changed broadcast
// address is followed, and multicast membership is re-asserted.
func OpenUDP(cfg UDPConfig, deliver func(Packet)) (Link, error) {
	if deliver == nil {
		return nil, errors.New("link: nil deliver function")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	l := &udpLink{
		cfg: cfg, v6: cfg.ipv6(), deliver: deliver,
		maintainEvery: maintainEvery, done: make(chan struct{}),
	}
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
		l.closeSockets()
		return nil, fmt.Errorf("%s %s: %w", cfg.Kind, cfg.Dev, err)
	}
	go l.readLoop()
	return l, nil
}

// open creates both sockets and the first destination.
func (l *udpLink) open() error {
	var err error
	var brd netip.Addr
	l.send, err = newUDPSocket(l.v6, func(fd int) error {
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
	if l.sendRaw, err = l.send.SyscallConn(); err != nil {
		return fmt.Errorf("send socket: %w", err)
	}
	l.recv, err = newUDPSocket(l.v6, l.setupRecv, l.recvAddr())
	if err != nil {
		return fmt.Errorf("receive socket: %w", err)
	}
	if l.recvRaw, err = l.recv.SyscallConn(); err != nil {
		return fmt.Errorf("receive socket: %w", err)
	}
	l.setDestination(brd)
	return nil
}

// setupSend configures the send socket; it also learns the interface index.
func (l *udpLink) setupSend(fd int) error {
	if err := bindToDevice(fd, l.cfg.Dev); err != nil {
		return err
	}
	idx, err := ifIndex(fd, l.cfg.Dev)
	if err != nil {
		return err
	}
	l.ifindex = idx
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

func (l *udpLink) setupMulticastSend(fd, idx int) error {
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
func (l *udpLink) setupRecv(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fmt.Errorf("SO_REUSEADDR: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		return fmt.Errorf("SO_REUSEPORT: %w", err)
	}
	if err := bindToDevice(fd, l.cfg.Dev); err != nil {
		return err
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
		return joinGroup(fd, l.group, l.ifindex)
	}
	return nil
}

// anyAddr is the wildcard address of the link's family.
func (l *udpLink) anyAddr(port int) unix.Sockaddr {
	if l.v6 {
		return &unix.SockaddrInet6{Port: port}
	}
	return &unix.SockaddrInet4{Port: port}
}

// recvAddr is where the receive socket binds: the group for multicast (as
// Heartbeat, so that only the group's datagrams arrive), else the wildcard.
func (l *udpLink) recvAddr() unix.Sockaddr {
	if l.group.IsValid() {
		// A link-local group needs no scope: the device binding is one.
		return toSockaddr(netip.AddrPortFrom(l.group, uint16(l.cfg.Port)), 0)
	}
	return l.anyAddr(l.cfg.Port)
}

// setDestination computes where Send sends, for the current interface
// index and (bcast) broadcast address brd.
func (l *udpLink) setDestination(brd netip.Addr) {
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
	l.dst.Store(&destination{sa: toSockaddr(ap, l.ifindex), addr: ap})
}

func (l *udpLink) Name() string { return l.cfg.Dev }

// Send transmits one datagram without ever waiting: the sockets are
// non-blocking, and a full send queue (EAGAIN) is returned as an error.
func (l *udpLink) Send(b []byte) error {
	d := l.dst.Load()
	var serr error
	err := l.sendRaw.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), b, 0, d.sa)
		return true // never park waiting for buffer space
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("%s %s: send to %s: %w", l.cfg.Kind, l.cfg.Dev, d.addr, err)
	}
	return nil
}

// Close closes the receive socket (which ends the reader), waits for the
// reader, then closes the send socket.
func (l *udpLink) Close() error {
	l.closeOnce.Do(func() {
		err := l.recv.Close()
		<-l.done
		l.closeErr = errors.Join(err, l.send.Close())
		if l.closeErr != nil {
			l.closeErr = fmt.Errorf("%s %s: close: %w", l.cfg.Kind, l.cfg.Dev, l.closeErr)
		}
	})
	return l.closeErr
}

// closeSockets releases whatever open created before failing.
func (l *udpLink) closeSockets() {
	if l.send != nil {
		_ = l.send.Close()
	}
	if l.recv != nil {
		_ = l.recv.Close()
	}
}
