package link

import (
	"errors"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func requireRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, why+" needs root")
	}
}

// rmemMax reads net.core.rmem_max, the cap on SO_RCVBUF.
func rmemMax(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/core/rmem_max")
	if err != nil {
		t.Fatalf("net.core.rmem_max: %v", err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("net.core.rmem_max %q: %v", b, err)
	}
	return v
}

func udpSocket(t *testing.T) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	return fd
}

// withoutNetAdmin runs f on an OS thread that has dropped CAP_NET_ADMIN
// from its effective set (capabilities are per thread; the thread is
// thrown away afterwards, as it stays locked when its goroutine ends).
func withoutNetAdmin(t *testing.T, f func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			errc <- err
			return
		}
		data[unix.CAP_NET_ADMIN/32].Effective &^= 1 << (unix.CAP_NET_ADMIN % 32)
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			errc <- err
			return
		}
		f()
		errc <- nil
	}()
	if err := <-errc; err != nil {
		t.Fatalf("dropping CAP_NET_ADMIN: %v", err)
	}
}

func TestRecvBufferBeyondRmemMaxWithNetAdmin(t *testing.T) {
	requireRoot(t, "SO_RCVBUFFORCE")
	want := rmemMax(t) + 1<<20
	b, err := setRecvBuffer(udpSocket(t), want)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Forced || b.Got != want || b.Capped() {
		t.Fatalf("as root, asked for %d (rmem_max + 1 MiB): %+v, want it forced and granted", want, b)
	}
}

func TestRecvBufferFallsBackToRmemMaxWithoutNetAdmin(t *testing.T) {
	requireRoot(t, "dropping a capability")
	max := rmemMax(t)
	want := max + 1<<20
	fd := udpSocket(t)
	var b RecvBuffer
	var err error
	withoutNetAdmin(t, func() { b, err = setRecvBuffer(fd, want) })
	if err != nil {
		t.Fatalf("without CAP_NET_ADMIN: %v, want the capped buffer and no error", err)
	}
	if b.Forced || b.Got != max || !b.Capped() || b.Want != want {
		t.Fatalf("without CAP_NET_ADMIN, asked for %d with rmem_max %d: %+v, want Got = rmem_max, capped", want, max, b)
	}
	// Below the cap the request is granted whole.
	withoutNetAdmin(t, func() { b, err = setRecvBuffer(fd, max/2) })
	if err != nil || b.Got != max/2 || b.Capped() {
		t.Fatalf("without CAP_NET_ADMIN, asked for %d: %+v, %v", max/2, b, err)
	}
}

// loopbackLink opens a ucast link on lo sending to itself at a free port.
func loopbackLink(t *testing.T) *UDP {
	t.Helper()
	requireRoot(t, "SO_BINDTODEVICE lo")
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	l, err := OpenUDP(UDPConfig{Kind: KindUcast, Dev: "lo", Peer: "127.0.0.1", Port: port, TTL: 1})
	if err != nil {
		t.Fatalf("ucast link on lo: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func TestUDPLinkAsksForItsReceiveBuffer(t *testing.T) {
	l := loopbackLink(t)
	if b := l.RecvBuffer(); b.Want != RecvBufferSize || b.Got < RecvBufferSize || !b.Forced {
		t.Fatalf("receive buffer as root: %+v, want %d granted", b, RecvBufferSize)
	}
}

// TestReceiveStampIsArrivalNotReadTime: a datagram read 300 ms after it
// was sent carries the time the kernel received it.
func TestReceiveStampIsArrivalNotReadTime(t *testing.T) {
	l := loopbackLink(t)
	const pause = 300 * time.Millisecond
	buf := make([]byte, 64)
	// The kernel turns receive stamping on asynchronously (a static key
	// flipped from a work queue) when the first socket of the system asks
	// for it; until then recvmsg stamps a datagram when it is read. Wait
	// for that, as a freshly started daemon's first datagrams would.
	if _, ok := waitStamping(l, buf); !ok {
		t.Fatal("the kernel never stamped a datagram on arrival within 5 s")
	}
	for i := 0; i < 3; i++ {
		sent := time.Now()
		if err := l.Send([]byte("stamp " + strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(pause)
		read := time.Now()
		p, err := l.Receive(buf)
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		if string(p.Data) != "stamp "+strconv.Itoa(i) {
			t.Fatalf("got %q", p.Data)
		}
		if p.Stamp.IsZero() {
			t.Fatal("no kernel timestamp on the datagram")
		}
		// Wall-clock comparisons: the stamp is CLOCK_REALTIME.
		sentW, readW := sent.Round(0), read.Round(0)
		if d := p.Stamp.Sub(sentW); d < -time.Millisecond || d > 50*time.Millisecond {
			t.Errorf("stamp %v is %v after the send, want about 0 (read %v later)", p.Stamp, d, readW.Sub(sentW))
		}
		if d := readW.Sub(p.Stamp); d < pause-time.Millisecond {
			t.Errorf("stamp is only %v before the read, want about %v", d, pause)
		}
	}
	if _, err := l.Receive(buf); !errors.Is(err, ErrNoPacket) {
		t.Fatalf("Receive with nothing waiting: %v", err)
	}
}

// waitStamping sends datagrams to l and reads each 20 ms later, until one
// is stamped at least 10 ms before it was read (bounded: 5 s).
func waitStamping(l *UDP, buf []byte) (int, bool) {
	for i := 0; i < 250; i++ {
		if err := l.Send([]byte("warm-up")); err != nil {
			return i, false
		}
		time.Sleep(20 * time.Millisecond)
		p, err := l.Receive(buf)
		if err == nil && !p.Stamp.IsZero() && time.Since(p.Stamp) >= 10*time.Millisecond {
			return i, true
		}
		for err == nil { // drain
			_, err = l.Receive(buf)
		}
	}
	return 250, false
}

func TestRxStampIgnoresForeignOrBrokenControlMessages(t *testing.T) {
	if !rxStamp(nil).IsZero() {
		t.Error("empty control buffer gave a stamp")
	}
	// One SCM_RIGHTS message (no timestamp), then a length that runs off the end.
	oob := unix.UnixRights(7)
	if !rxStamp(oob).IsZero() {
		t.Error("SCM_RIGHTS taken for a timestamp")
	}
	broken := append(oob, make([]byte, unix.CmsgLen(0))...)
	broken[len(oob)] = 0xff // Len far beyond the buffer
	if !rxStamp(broken).IsZero() {
		t.Error("broken control message taken for a timestamp")
	}
}
