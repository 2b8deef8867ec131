package benchres

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/internal/testbed"
)

// capture is a packet socket on one interface of a host that keeps, with
// the kernel's receive timestamps (SO_TIMESTAMPNS, the same wall clock as
// time.Now and the daemon's log), the gratuitous ARPs and the TCP SYN-ACKs
// from port 80 (a server answering a connection) that pass the interface.
// Kernel timestamps do not depend on when this busy process gets to read
// the frame, which on a two-CPU machine can be milliseconds later.
type capture struct {
	f    *os.File
	done chan struct{}

	mu     sync.Mutex
	garp   map[garpKey]time.Time // first gratuitous ARP per (address, MAC)
	synack map[garpKey][]time.Time
	frames int
	err    error
}

type garpKey struct {
	ip  netip.Addr
	mac string
}

// captureFilter accepts ARP frames and IPv4 TCP segments from port 80 with
// SYN and ACK set; everything else (the probes' data) stays in the kernel.
var captureFilter = func() []bpf.RawInstruction {
	const accept, drop = 11, 12
	prog := []bpf.Instruction{
		/* 0 */ bpf.LoadAbsolute{Off: 12, Size: 2},
		/* 1 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0806, SkipTrue: accept - 2},
		/* 2 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x0800, SkipTrue: drop - 3},
		/* 3 */ bpf.LoadAbsolute{Off: 23, Size: 1},
		/* 4 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 6, SkipTrue: drop - 5},
		/* 5 */ bpf.LoadMemShift{Off: 14},
		/* 6 */ bpf.LoadIndirect{Off: 14, Size: 2},
		/* 7 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 80, SkipTrue: drop - 8},
		/* 8 */ bpf.LoadIndirect{Off: 14 + 13, Size: 1},
		/* 9 */ bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0x12},
		/* 10 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x12, SkipFalse: drop - 11},
		/* 11 */ bpf.RetConstant{Val: 256},
		/* 12 */ bpf.RetConstant{Val: 0},
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		panic(err)
	}
	return raw
}()

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// startCapture opens the packet socket in h's namespace on ifname.
func startCapture(h *testbed.Host, ifname string) (*capture, error) {
	c := &capture{done: make(chan struct{}), garp: map[garpKey]time.Time{}, synack: map[garpKey][]time.Time{}}
	var fd int
	err := h.Do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return err
		}
		fail := func(err error) error { unix.Close(fd); return err }
		filter := make([]unix.SockFilter, len(captureFilter))
		for i, ins := range captureFilter {
			filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
		}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
			&unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}); err != nil {
			return fail(fmt.Errorf("attach filter: %w", err))
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
			return fail(fmt.Errorf("SO_TIMESTAMPNS: %w", err))
		}
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
			return fail(fmt.Errorf("bind: %w", err))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("capture in %s: %w", h.Name, err)
	}
	c.f = os.NewFile(uintptr(fd), "capture")
	go c.run()
	return c, nil
}

func (c *capture) run() {
	defer close(c.done)
	rc, err := c.f.SyscallConn()
	if err != nil {
		c.setErr(err)
		return
	}
	buf := make([]byte, 2048)
	oob := make([]byte, 256)
	for {
		var n, oobn int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, oobn, _, _, rerr = unix.Recvmsg(int(fd), buf, oob, 0)
			return !errors.Is(rerr, unix.EAGAIN)
		})
		if err != nil {
			return // closed
		}
		if rerr != nil {
			c.setErr(rerr)
			return
		}
		at, ok := kernelTime(oob[:oobn])
		if !ok {
			at = time.Now()
		}
		c.frame(buf[:n], at)
	}
}

func (c *capture) setErr(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
}

// kernelTime finds SCM_TIMESTAMPNS in the control messages.
func kernelTime(oob []byte) (time.Time, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, false
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
			sec := int64(binary.NativeEndian.Uint64(m.Data[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(m.Data[8:16]))
			return time.Unix(sec, nsec), true
		}
	}
	return time.Time{}, false
}

func (c *capture) frame(b []byte, at time.Time) {
	var f ethernet.Frame
	if f.UnmarshalBinary(b) != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frames++
	switch f.EtherType {
	case ethernet.EtherTypeARP:
		var p arp.Packet
		if p.UnmarshalBinary(f.Payload) != nil || p.SenderIP != p.TargetIP {
			return // not gratuitous
		}
		k := garpKey{ip: p.SenderIP, mac: p.SenderHardwareAddr.String()}
		if _, ok := c.garp[k]; !ok {
			c.garp[k] = at
		}
	case ethernet.EtherTypeIPv4:
		// The filter let only SYN-ACKs from port 80 through.
		if len(f.Payload) < 20 {
			return
		}
		src, _ := netip.AddrFromSlice(f.Payload[12:16])
		k := garpKey{ip: src, mac: f.Source.String()}
		c.synack[k] = append(c.synack[k], at)
	}
}

// garpAt is when the first gratuitous ARP for ip from mac passed.
func (c *capture) garpAt(ip netip.Addr, mac net.HardwareAddr) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.garp[garpKey{ip, mac.String()}]
	return t, ok
}

// synacks returns the times of the SYN-ACKs from ip sent by mac, in order.
func (c *capture) synacks(ip netip.Addr, mac net.HardwareAddr) []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := slices.Clone(c.synack[garpKey{ip, mac.String()}])
	slices.SortFunc(s, func(a, b time.Time) int { return a.Compare(b) })
	return s
}

// firstSynack is the first SYN-ACK from ip by mac at or after after.
func (c *capture) firstSynack(ip netip.Addr, mac net.HardwareAddr, after time.Time) (time.Time, bool) {
	for _, t := range c.synacks(ip, mac) {
		if !t.Before(after) {
			return t, true
		}
	}
	return time.Time{}, false
}

// lastSynackBefore is the last SYN-ACK from ip by mac before t.
func (c *capture) lastSynackBefore(ip netip.Addr, mac net.HardwareAddr, t time.Time) (time.Time, bool) {
	var last time.Time
	found := false
	for _, x := range c.synacks(ip, mac) {
		if x.Before(t) {
			last, found = x, true
		}
	}
	return last, found
}

// close stops the capture and returns the first read error, if any.
func (c *capture) close() error {
	c.f.Close()
	select {
	case <-c.done:
	case <-time.After(2 * time.Second):
		return errors.New("capture reader did not stop")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
