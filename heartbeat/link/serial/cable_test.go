package serial

import (
	"errors"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/heartbeat/link"
)

// waitBound bounds every wait of these tests: generous, because only a
// broken implementation gets near it (the tests never assert on timing).
const waitBound = 20 * time.Second

// cable is a null-modem cable between two pty pairs: the tests open the
// slave paths with Open, and two pumps copy bytes between the masters.
// A cable can be cut, made to corrupt or split what it carries, and one
// end can be replaced by a new pty pair (the device "re-plugged").
type cable struct {
	t  *testing.T
	mu sync.Mutex
	// per end (0, 1): the master, the slave the test keeps open so the
	// pty stays alive until the Port opened it, and the slave path.
	master [2]*os.File
	slave  [2]*os.File
	path   [2]string
	// per direction (0: from end 0 to end 1, 1: the other way)
	filter [2]func(off int, p []byte) []byte // nil: pass
	split  [2]*rand.Rand                     // non-nil: write in random pieces
	off    [2]int                            // bytes seen so far
	stall  [2]chan struct{}                  // non-nil: the pump does not read until closed
	wg     sync.WaitGroup
}

func newCable(t *testing.T) *cable {
	t.Helper()
	c := &cable{t: t}
	for end := range 2 {
		c.plug(end)
	}
	t.Cleanup(c.close)
	return c
}

// plug makes a new pty pair for end and starts the pump reading its master.
func (c *cable) plug(end int) {
	m, s, err := openPTY()
	if err != nil {
		c.t.Fatalf("pty: %v", err)
	}
	c.mu.Lock()
	c.master[end], c.slave[end], c.path[end] = m, s, s.Name()
	c.mu.Unlock()
	c.wg.Add(1)
	go c.pump(m, end)
}

// openPTY opens a pty pair whose master works with Go's poller (deadlines,
// Close ending a Read): creack/pty leaves its master in blocking mode.
func openPTY() (master, slave *os.File, err error) {
	m, s, err := pty.Open()
	if err != nil {
		return nil, nil, err
	}
	defer m.Close()
	fd, err := unix.Dup(int(m.Fd()))
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		s.Close()
		return nil, nil, err
	}
	return os.NewFile(uintptr(fd), m.Name()), s, nil
}

// unplug hangs up end: its master and the test's slave are closed, so a
// Port on the slave sees a hangup.
func (c *cable) unplug(end int) {
	c.mu.Lock()
	m, s := c.master[end], c.slave[end]
	c.master[end], c.slave[end] = nil, nil
	c.mu.Unlock()
	if m != nil {
		m.Close()
	}
	if s != nil {
		s.Close()
	}
}

func (c *cable) close() {
	c.resume(0)
	c.resume(1)
	c.unplug(0)
	c.unplug(1)
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(waitBound):
		c.t.Error("cable pumps did not stop")
	}
}

// pump copies what the Port on end writes to the other end's master.
func (c *cable) pump(src *os.File, end int) {
	defer c.wg.Done()
	buf := make([]byte, 4096)
	for {
		c.mu.Lock()
		stall := c.stall[end]
		c.mu.Unlock()
		if stall != nil {
			<-stall
		}
		n, err := src.Read(buf)
		if n > 0 {
			c.carry(end, buf[:n])
		}
		if err != nil {
			return // closed, or hung up because no slave is open
		}
	}
}

func (c *cable) carry(dir int, p []byte) {
	c.mu.Lock()
	off := c.off[dir]
	c.off[dir] += len(p)
	if f := c.filter[dir]; f != nil {
		p = f(off, append([]byte(nil), p...))
	}
	dst := c.master[1-dir]
	var pieces [][]byte
	if r := c.split[dir]; r != nil {
		pieces = splitRandom(r, p)
	} else {
		pieces = [][]byte{p}
	}
	c.mu.Unlock()
	if dst == nil {
		return // that end is unplugged: the bytes fall on the floor
	}
	for _, piece := range pieces {
		_ = dst.SetWriteDeadline(time.Now().Add(waitBound))
		if _, err := dst.Write(piece); err != nil {
			return
		}
		if len(pieces) > 1 {
			runtime.Gosched() // let the reader see the pieces apart
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// inject writes raw bytes into end's receive side, as line noise.
func (c *cable) inject(end int, b []byte) {
	c.t.Helper()
	c.mu.Lock()
	m := c.master[end]
	c.mu.Unlock()
	_ = m.SetWriteDeadline(time.Now().Add(waitBound))
	if _, err := m.Write(b); err != nil {
		c.t.Fatalf("inject: %v", err)
	}
}

// stop makes the line from end stop: nothing is read from end's master,
// so the Port's writes back up as on a line stopped by flow control. The
// pump stops after the read in progress.
func (c *cable) stop(end int) {
	c.mu.Lock()
	c.stall[end] = make(chan struct{})
	c.mu.Unlock()
}

// resume lets the line from end run again.
func (c *cable) resume(end int) {
	c.mu.Lock()
	if c.stall[end] != nil {
		close(c.stall[end])
		c.stall[end] = nil
	}
	c.mu.Unlock()
}

func (c *cable) setFilter(dir int, f func(off int, p []byte) []byte) {
	c.mu.Lock()
	c.filter[dir] = f
	c.mu.Unlock()
}

func (c *cable) setSplit(dir int, r *rand.Rand) {
	c.mu.Lock()
	c.split[dir] = r
	c.mu.Unlock()
}

// sink collects delivered packets.
type sink struct {
	mu      sync.Mutex
	packets []link.Packet
	changed chan struct{}
	closed  bool // set by the test after Close: deliveries then are a bug
	late    int
}

func newSink() *sink { return &sink{changed: make(chan struct{}, 1)} }

func (s *sink) deliver(p link.Packet) {
	s.mu.Lock()
	if s.closed {
		s.late++
	}
	s.packets = append(s.packets, p)
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// waitFor waits (bounded) until ok holds for the packets received so far.
func (s *sink) waitFor(t *testing.T, what string, ok func([]link.Packet) bool) []link.Packet {
	t.Helper()
	deadline := time.NewTimer(waitBound)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ps := append([]link.Packet(nil), s.packets...)
		s.mu.Unlock()
		if ok(ps) {
			return ps
		}
		select {
		case <-s.changed:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; have %d packets", what, len(ps))
		}
	}
}

// waitCount waits for at least n packets.
func (s *sink) waitCount(t *testing.T, n int) []link.Packet {
	t.Helper()
	return s.waitFor(t, "packets", func(ps []link.Packet) bool { return len(ps) >= n })
}

// eventually polls cond (for state that has no notification) within the
// bound.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitBound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// openPort opens a Port on path with a private lock directory, closed at
// the end of the test.
func openPort(t *testing.T, path string, baud int, s *sink) *Port {
	t.Helper()
	return openPortLocks(t, path, baud, t.TempDir(), s)
}

func openPortLocks(t *testing.T, path string, baud int, lockDir string, s *sink) *Port {
	t.Helper()
	l, err := Open(Config{Path: path, Baud: baud, LockDir: lockDir}, s.deliver)
	if err != nil {
		t.Fatalf("Open %s: %v", path, err)
	}
	p := l.(*Port)
	t.Cleanup(func() {
		if err := p.Close(); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("Close %s: %v", path, err)
		}
	})
	return p
}
