package serial

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/link"
	"github.com/hasuite/hasuite/internal/ptycable"
)

// waitBound bounds every wait of these tests: generous, because only a
// broken implementation gets near it (the tests never assert on timing).
const waitBound = 20 * time.Second

// newCable is a null-modem cable between two pty pairs (internal/ptycable):
// the tests open its ends' slave paths (Path) with Open. Its writes into a
// master and its close are bounded by waitBound.
func newCable(t *testing.T) *ptycable.Cable {
	t.Helper()
	return ptycable.New(t, ptycable.Options{WriteBound: waitBound, CloseBound: waitBound})
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
