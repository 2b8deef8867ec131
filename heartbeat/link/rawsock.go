package link

import (
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The datagram system calls of Send and Receive are made with RawSyscall:
// both are non-blocking (MSG_DONTWAIT), and a plain Syscall tells the Go
// scheduler a goroutine may block, which wakes the runtime's monitor
// thread from its sleep: at keepalive 10ms that was a futex wake-up and
// a burst of 20µs naps per packet. See heartbeat/evloop.

// rawAddr is a socket address in the kernel's form, ready for sendto.
type rawAddr struct {
	sa  unix.RawSockaddrAny
	len uint32
}

// newRawAddr converts ap (scope: the interface index for link-local IPv6).
func newRawAddr(ap netip.AddrPort, scope int) *rawAddr {
	r := &rawAddr{}
	a := ap.Addr()
	if a.Is4() {
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&r.sa))
		sa.Family = unix.AF_INET
		putPort(&sa.Port, ap.Port())
		sa.Addr = a.As4()
		r.len = unix.SizeofSockaddrInet4
		return r
	}
	sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&r.sa))
	sa.Family = unix.AF_INET6
	putPort(&sa.Port, ap.Port())
	sa.Addr = a.As16()
	if needsScope(a) {
		sa.Scope_id = uint32(scope)
	}
	r.len = unix.SizeofSockaddrInet6
	return r
}

// putPort stores port in network byte order.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

func getPort(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// addrPort converts a received address; link-local IPv6 senders get dev
// as zone (the socket is bound to it).
func (r *rawAddr) addrPort(dev string) netip.AddrPort {
	switch r.sa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&r.sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), getPort(&sa.Port))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&r.sa))
		a := netip.AddrFrom16(sa.Addr)
		if needsScope(a) {
			a = a.WithZone(dev)
		}
		return netip.AddrPortFrom(a, getPort(&sa.Port))
	}
	return netip.AddrPort{}
}

// sendto sends b to dst without blocking.
func sendto(fd int, b []byte, dst *rawAddr) error {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	for {
		_, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(p), uintptr(len(b)),
			uintptr(unix.MSG_DONTWAIT), uintptr(unsafe.Pointer(&dst.sa)), uintptr(dst.len))
		if errno != unix.EINTR {
			return errnoErr(errno)
		}
	}
}

// recvfrom reads one datagram into buf without blocking and returns its
// full length (larger than len(buf) when it was truncated).
func recvfrom(fd int, buf []byte, from *rawAddr) (int, error) {
	for {
		from.len = unix.SizeofSockaddrAny
		n, _, errno := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])),
			uintptr(len(buf)), uintptr(unix.MSG_DONTWAIT|unix.MSG_TRUNC),
			uintptr(unsafe.Pointer(&from.sa)), uintptr(unsafe.Pointer(&from.len)))
		if errno != unix.EINTR {
			return int(n), errnoErr(errno)
		}
	}
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
