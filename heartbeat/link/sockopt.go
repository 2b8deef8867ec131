package link

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// lowDelay is IPTOS_LOWDELAY, the type of service Heartbeat sets on its
// UDP packets (also used as the IPv6 traffic class).
const lowDelay = 0x10

// newUDPSocket creates a non-blocking UDP socket, lets setup configure it
// before it is bound (SO_BINDTODEVICE must precede bind to pick the right
// SO_REUSEPORT group) and binds it.
//
// Sockets are raw file descriptors, not net.UDPConn: the daemon's loop
// polls them itself (heartbeat/evloop), and no address or zone goes
// through Go's interface tables, which describe the network namespace of
// whichever thread last refreshed them.
func newUDPSocket(v6 bool, setup func(fd int) error, bind syscall.Sockaddr) (int, error) {
	family := unix.AF_INET
	if v6 {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.IPPROTO_UDP)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	fail := func(err error) (int, error) {
		_ = unix.Close(fd)
		return -1, err
	}
	if v6 {
		// Keep IPv4 traffic for the IPv4 sockets of the same port.
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			return fail(fmt.Errorf("IPV6_V6ONLY: %w", err))
		}
	}
	if err := setup(fd); err != nil {
		return fail(err)
	}
	if err := syscall.Bind(fd, bind); err != nil {
		return fail(fmt.Errorf("bind %s: %w", sockaddrString(bind), err))
	}
	return fd, nil
}

// RecvBufferSize is the receive buffer a UDP link asks for: 4 MiB (the
// kernel's default, net.core.rmem_default, is usually 208 KiB). Junk sent
// to the port at line rate, a burst of large fragmented datagrams, or a
// spell in which the daemon is not scheduled fill the default buffer, and
// what arrives then, genuine heartbeats included, is dropped by the kernel.
// The buffer is a limit, not an allocation: memory is only used by
// datagrams actually waiting.
const RecvBufferSize = 4 << 20

// RecvBuffer describes a receive socket's buffer.
type RecvBuffer struct {
	Want int // bytes asked for
	Got  int // bytes granted for datagrams (getsockopt SO_RCVBUF halved: the kernel doubles the value for its bookkeeping)
	// Forced: set with SO_RCVBUFFORCE (CAP_NET_ADMIN), which is not
	// capped by net.core.rmem_max; otherwise SO_RCVBUF, which is.
	Forced bool
}

// Capped reports whether the buffer is smaller than asked for: without
// CAP_NET_ADMIN, net.core.rmem_max caps SO_RCVBUF silently.
func (b RecvBuffer) Capped() bool { return b.Got < b.Want }

// setRecvBuffer asks for a receive buffer of want bytes: SO_RCVBUFFORCE
// first (the daemon runs as root), then, when that is not permitted,
// SO_RCVBUF, which the kernel caps at net.core.rmem_max without an error.
// The result says what was granted; a capped buffer is not an error (the
// link works, with less room for bursts).
func setRecvBuffer(fd, want int) (RecvBuffer, error) {
	b := RecvBuffer{Want: want}
	err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, want)
	b.Forced = err == nil
	if err != nil {
		if !errors.Is(err, unix.EPERM) {
			return b, fmt.Errorf("SO_RCVBUFFORCE %d: %w", want, err)
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, want); err != nil {
			return b, fmt.Errorf("SO_RCVBUF %d: %w", want, err)
		}
	}
	got, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	if err != nil {
		return b, fmt.Errorf("SO_RCVBUF: %w", err)
	}
	b.Got = got / 2
	return b, nil
}

// bindToDevice restricts fd to the interface dev (by name: the kernel looks
// the name up in the socket's own network namespace).
func bindToDevice(fd int, dev string) error {
	if err := unix.BindToDevice(fd, dev); err != nil {
		if errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("interface %s does not exist", dev)
		}
		return fmt.Errorf("SO_BINDTODEVICE %s: %w", dev, err)
	}
	return nil
}

// ifIndex returns dev's interface index, asked through fd so that the
// answer comes from the socket's network namespace.
func ifIndex(fd int, dev string) (int, error) {
	ifr, err := unix.NewIfreq(dev)
	if err != nil {
		return 0, fmt.Errorf("interface %q: %w", dev, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, fmt.Errorf("interface %s index: %w", dev, err)
	}
	return int(ifr.Uint32()), nil
}

// broadcastAddr returns dev's IPv4 broadcast address (SIOCGIFBRDADDR, as
// Heartbeat's bcast medium), or the limited broadcast address when dev has
// no IPv4 address or none with a broadcast address. Sent on a socket bound
// to dev, 255.255.255.255 reaches the same segment, and the periodic
// maintenance switches to the directed address once one is configured.
func broadcastAddr(fd int, dev string) netip.Addr {
	limited := netip.AddrFrom4([4]byte{255, 255, 255, 255})
	ifr, err := unix.NewIfreq(dev)
	if err != nil {
		return limited
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFBRDADDR, ifr); err != nil {
		return limited
	}
	b, err := ifr.Inet4Addr()
	if err != nil || len(b) != 4 {
		return limited
	}
	a := netip.AddrFrom4([4]byte(b))
	if a.IsUnspecified() {
		return limited
	}
	return a
}

// setMulticastIf makes fd send multicast through interface index idx.
func setMulticastIf(fd int, v6 bool, idx int) error {
	var err error
	if v6 {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, idx)
	} else {
		err = unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, &unix.IPMreqn{Ifindex: int32(idx)})
	}
	if err != nil {
		return fmt.Errorf("multicast interface: %w", err)
	}
	return nil
}

// joinGroup subscribes fd to group on interface index idx. Joining a group
// the socket already has is reported as EADDRINUSE, which is success here.
func joinGroup(fd int, group netip.Addr, idx int) error {
	var err error
	if group.Is6() {
		err = unix.SetsockoptIPv6Mreq(fd, unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP,
			&unix.IPv6Mreq{Multiaddr: group.As16(), Interface: uint32(idx)})
	} else {
		err = unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP,
			&unix.IPMreqn{Multiaddr: group.As4(), Ifindex: int32(idx)})
	}
	if err != nil && !errors.Is(err, unix.EADDRINUSE) {
		return fmt.Errorf("join multicast group %s: %w", group, err)
	}
	return nil
}

// toSockaddr converts an address for sendto/bind. scope is the interface
// index for IPv6 addresses that need one (link-local), else ignored.
func toSockaddr(ap netip.AddrPort, scope int) syscall.Sockaddr {
	a := ap.Addr()
	if a.Is4() {
		return &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
	}
	sa := &syscall.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
	if needsScope(a) {
		sa.ZoneId = uint32(scope)
	}
	return sa
}

// needsScope reports whether an IPv6 address is meaningless without an
// interface (link-local unicast, interface- and link-local multicast).
func needsScope(a netip.Addr) bool {
	return a.Is6() && (a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast())
}

// fromSockaddr converts a recvfrom address. Link-local IPv6 senders get
// the link's interface as zone: the socket is bound to it.
func fromSockaddr(sa syscall.Sockaddr, dev string) netip.AddrPort {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *syscall.SockaddrInet6:
		a := netip.AddrFrom16(sa.Addr)
		if needsScope(a) {
			a = a.WithZone(dev)
		}
		return netip.AddrPortFrom(a, uint16(sa.Port))
	}
	return netip.AddrPort{}
}

func sockaddrString(sa syscall.Sockaddr) string {
	if ap := fromSockaddr(sa, ""); ap.IsValid() {
		return ap.String()
	}
	return fmt.Sprintf("%T", sa)
}
