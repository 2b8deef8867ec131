package link

import (
	"net/netip"
	"syscall"
	"time"
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

// rxMsg is the reusable recvmsg state of one receive socket: the header,
// the one buffer, the sender's address and room for the kernel's receive
// timestamp. It lives on the heap with its link, so the pointers the
// header holds stay valid for every call.
type rxMsg struct {
	hdr  unix.Msghdr
	iov  unix.Iovec
	from rawAddr
	oob  [64]byte // one SCM_TIMESTAMPNS (CmsgSpace(16) = 32), with room to spare
}

// recvmsg reads one datagram into buf without blocking and returns its full
// length (larger than len(buf) when it was truncated) and the kernel's
// receive timestamp (SO_TIMESTAMPNS: CLOCK_REALTIME; zero when the kernel
// attached none). The sender's address is left in m.from.
func recvmsg(fd int, buf []byte, m *rxMsg) (int, time.Time, error) {
	for {
		m.iov.Base = &buf[0]
		m.iov.SetLen(len(buf))
		m.hdr.Name = (*byte)(unsafe.Pointer(&m.from.sa))
		m.hdr.Namelen = unix.SizeofSockaddrAny
		m.hdr.Iov = &m.iov
		m.hdr.SetIovlen(1)
		m.hdr.Control = &m.oob[0]
		m.hdr.SetControllen(len(m.oob))
		m.hdr.Flags = 0
		n, _, errno := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&m.hdr)),
			uintptr(unix.MSG_DONTWAIT|unix.MSG_TRUNC))
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return 0, time.Time{}, errno
		}
		m.from.len = m.hdr.Namelen
		return int(n), rxStamp(m.oob[:m.hdr.Controllen]), nil
	}
}

// rxStamp finds the SCM_TIMESTAMPNS message in a control buffer.
func rxStamp(oob []byte) time.Time {
	hdrLen := unix.CmsgLen(0)
	for len(oob) >= hdrLen {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < hdrLen || l > len(oob) {
			return time.Time{}
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SO_TIMESTAMPNS && l >= unix.CmsgLen(int(unsafe.Sizeof(unix.Timespec{}))) {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[hdrLen]))
			if ts.Sec == 0 && ts.Nsec == 0 {
				return time.Time{}
			}
			return time.Unix(int64(ts.Sec), int64(ts.Nsec))
		}
		next := unix.CmsgSpace(l - hdrLen)
		if next > len(oob) {
			return time.Time{}
		}
		oob = oob[next:]
	}
	return time.Time{}
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
