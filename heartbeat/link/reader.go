package link

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// errorPause spaces out retries after an unexpected receive error, so a
// persistent error cannot turn the reader into a busy loop.
const errorPause = 10 * time.Millisecond

// readLoop is the link's one goroutine: it receives datagrams and, when
// the read deadline fires, runs the periodic maintenance. Using the read
// deadline as the maintenance timer keeps all socket state changes on this
// goroutine, with no second goroutine or lock.
func (l *udpLink) readLoop() {
	defer close(l.done)
	buf := make([]byte, MaxMessage)
	_ = l.recv.SetReadDeadline(time.Now().Add(l.maintainEvery))
	for {
		n, from, err := l.recvFrom(buf)
		switch {
		case err == nil:
			l.deliver(Packet{Link: l.cfg.Dev, Data: bytes.Clone(buf[:n]), From: from})
		case errors.Is(err, net.ErrClosed):
			return
		case errors.Is(err, os.ErrDeadlineExceeded):
			l.maintain()
			_ = l.recv.SetReadDeadline(time.Now().Add(l.maintainEvery))
		case errors.Is(err, unix.EINTR):
		default:
			time.Sleep(errorPause)
		}
	}
}

// recvFrom reads one datagram with recvfrom(2) through the poller, so the
// sender's address needs no translation through Go's zone tables.
func (l *udpLink) recvFrom(buf []byte) (int, netip.AddrPort, error) {
	var (
		n    int
		sa   unix.Sockaddr
		rerr error
	)
	err := l.recvRaw.Read(func(fd uintptr) bool {
		n, sa, rerr = unix.Recvfrom(int(fd), buf, 0)
		return !errors.Is(rerr, unix.EAGAIN)
	})
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	if rerr != nil {
		return 0, netip.AddrPort{}, rerr
	}
	return n, fromSockaddr(sa, l.cfg.Dev), nil
}
