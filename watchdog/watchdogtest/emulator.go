// Package watchdogtest provides stand-ins for a watchdog device in tests:
// Emulator, a softdog emulator behind a FIFO that a real watchdog.Device
// (or a whole daemon) writes to, and Fake, an in-memory watchdog.Watchdog.
//
// Nothing here opens a real watchdog device: the emulator refuses paths
// under /dev/watchdog and works only on a FIFO it creates or is given.
package watchdogtest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultMargin is softdog's default soft_margin, used when Margin is 0.
const DefaultMargin = 60 * time.Second

// stopWait bounds how long Stop waits for the emulator goroutine (which
// may be inside OnFire).
const stopWait = 10 * time.Second

// Emulator behaves like the softdog driver behind a FIFO:
//
//   - a writer opening the FIFO arms the timer (deadline: now + Margin);
//   - every byte written restarts the timer; bytes other than 'V' count as
//     kicks;
//   - 'V' as the last byte before the writer closes is a magic close and
//     disarms the timer;
//   - a close without that 'V' fires at once, unless KeepArmedOnClose is
//     set (exact softdog: the timer keeps running and a writer that reopens
//     and kicks in time keeps the node alive);
//   - no write within Margin while armed fires.
//
// Firing calls OnFire once, from the emulator's goroutine, then records
// it (State.Fired, Fired); the emulator then stays fired (the node is "rebooted") but keeps
// draining the FIFO so writers never block.
//
// The emulator holds the FIFO open read-write for its whole life, so a
// writer's open never blocks or fails and a daemon restart (close, then
// reopen) works; writer opens and closes are seen through inotify on the
// FIFO. The FIFO must be opened only by the watchdog writer: any open arms
// the timer. A writer that reopens before the emulator has handled the
// previous close (microseconds, not a process restart) blurs the boundary
// between the two sessions; such a burst is judged by matching 'V's to
// closes: the default mode fires if any close in it lacked its 'V',
// KeepArmedOnClose goes by the burst's last close.
//
// Set the exported fields, then call Start; do not copy an Emulator.
type Emulator struct {
	// Path of the FIFO. Start creates it (or reuses an existing FIFO);
	// empty means a fresh path in t.TempDir().
	Path string
	// Margin is the timeout, softdog's soft_margin; 0 means DefaultMargin.
	Margin time.Duration
	// OnFire is called once when the watchdog fires (e.g. to power off
	// the test node). May be nil.
	OnFire func()
	// KeepArmedOnClose makes a close without 'V' leave the timer running,
	// as softdog does, instead of firing at once.
	KeepArmedOnClose bool

	t       testing.TB
	fifo    int
	ino     int
	stopR   int
	stopW   int
	done    chan struct{}
	created bool
	stopMu  sync.Once

	mu       sync.Mutex
	st       State
	deadline time.Time
	last     byte // last byte read, 0 before any
	vs       int  // 'V' bytes read and not yet matched to a close
	writers  int
	changed  chan struct{}
	buf      [4096]byte
}

// State is a snapshot of the emulator.
type State struct {
	Opens    int       // writer opens seen
	Closes   int       // writer closes seen
	Kicks    int       // bytes other than 'V' read
	Busy     int       // opens while another writer had it open (a real device says EBUSY)
	Armed    bool      // timer running
	Disarmed bool      // last close was a magic close and nobody reopened since
	Fired    bool      // the watchdog fired (set once OnFire has returned)
	FiredAt  time.Time // when the emulator decided to fire
}

// Start creates the FIFO, opens it and starts the emulator goroutine. The
// emulator is stopped by t.Cleanup.
func (e *Emulator) Start(t testing.TB) {
	t.Helper()
	e.t = t
	if e.Path == "" {
		e.Path = filepath.Join(t.TempDir(), "watchdog")
	}
	if strings.HasPrefix(filepath.Clean(e.Path), "/dev/watchdog") {
		t.Fatalf("watchdogtest: refusing to emulate on %s: never touch a real watchdog in tests", e.Path)
	}
	if e.Margin <= 0 {
		e.Margin = DefaultMargin
	}
	if err := unix.Mkfifo(e.Path, 0o600); err == nil {
		e.created = true
	} else if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("watchdogtest: mkfifo %s: %v", e.Path, err)
	}
	if fi, err := os.Lstat(e.Path); err != nil || fi.Mode().Type() != fs.ModeNamedPipe {
		t.Fatalf("watchdogtest: %s is not a FIFO (%v)", e.Path, err)
	}
	// Read-write: the FIFO always has a reader (writers never get ENXIO)
	// and a writer (reads never see EOF between daemon instances). Opened
	// before the inotify watch, so it is not counted as a writer.
	var err error
	if e.fifo, err = unix.Open(e.Path, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err != nil {
		t.Fatalf("watchdogtest: open %s: %v", e.Path, err)
	}
	if e.ino, err = unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK); err != nil {
		unix.Close(e.fifo)
		t.Fatalf("watchdogtest: inotify: %v", err)
	}
	if _, err = unix.InotifyAddWatch(e.ino, e.Path, unix.IN_OPEN|unix.IN_CLOSE_WRITE|unix.IN_CLOSE_NOWRITE); err != nil {
		e.closeFds()
		t.Fatalf("watchdogtest: inotify watch %s: %v", e.Path, err)
	}
	var p [2]int
	if err = unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		e.closeFds()
		t.Fatalf("watchdogtest: pipe: %v", err)
	}
	e.stopR, e.stopW = p[0], p[1]
	e.changed = make(chan struct{})
	e.done = make(chan struct{})
	go e.run()
	t.Cleanup(e.Stop)
}

// Stop ends the emulator (idempotent; also run by t.Cleanup). The FIFO is
// removed if Start created it.
func (e *Emulator) Stop() {
	e.stopMu.Do(func() {
		if e.done == nil {
			return // never started
		}
		unix.Write(e.stopW, []byte{1})
		select {
		case <-e.done:
		case <-time.After(stopWait):
			e.t.Errorf("watchdogtest: emulator did not stop within %v (OnFire blocked?)", stopWait)
			return
		}
		e.closeFds()
		unix.Close(e.stopR)
		unix.Close(e.stopW)
		if e.created {
			os.Remove(e.Path)
		}
	})
}

func (e *Emulator) closeFds() {
	unix.Close(e.ino)
	unix.Close(e.fifo)
}

// run is the emulator goroutine: it owns the descriptors and is the only
// writer of the state (under mu, for the readers).
func (e *Emulator) run() {
	defer close(e.done)
	fds := []unix.PollFd{
		{Fd: int32(e.ino), Events: unix.POLLIN},
		{Fd: int32(e.fifo), Events: unix.POLLIN},
		{Fd: int32(e.stopR), Events: unix.POLLIN},
	}
	var pending []uint32 // inotify event masks not yet handled
	for {
		timeout := e.checkDeadline()
		for i := range fds {
			fds[i].Revents = 0
		}
		if _, err := unix.Poll(fds, timeout); err != nil && !errors.Is(err, unix.EINTR) {
			e.t.Errorf("watchdogtest: poll: %v", err)
			return
		}
		if fds[2].Revents != 0 {
			return
		}
		// Opens and closes first (a close is judged after draining what
		// the writer wrote before it), then the data.
		pending = e.readEvents(pending)
		for len(pending) > 0 {
			m := pending[0]
			pending = pending[1:]
			switch {
			case m&unix.IN_OPEN != 0:
				e.opened()
			case m&unix.IN_CLOSE_WRITE != 0:
				e.drain()
				// Bytes of a writer that opened after this close may have
				// been drained too; its open is then queued by now.
				pending = e.readEvents(pending)
				reopened := false
				for _, n := range pending {
					reopened = reopened || n&unix.IN_OPEN != 0
				}
				e.closed(reopened)
			}
		}
		e.drain()
	}
}

// checkDeadline fires an expired timer and returns the poll timeout in
// milliseconds (-1: none).
func (e *Emulator) checkDeadline() int {
	e.mu.Lock()
	if !e.st.Armed {
		e.mu.Unlock()
		return -1
	}
	now := time.Now()
	if left := e.deadline.Sub(now); left > 0 {
		e.mu.Unlock()
		return int((left + time.Millisecond - 1) / time.Millisecond)
	}
	e.fireLocked(now)
	return -1
}

// fireLocked unlocks mu, calls OnFire and then records the firing, so a
// test that saw Fired also sees what OnFire did. Only the emulator
// goroutine changes the state, so nothing else happens meanwhile.
func (e *Emulator) fireLocked(now time.Time) {
	if e.st.Fired {
		e.mu.Unlock()
		return
	}
	e.st.Armed, e.st.Disarmed = false, false
	e.mu.Unlock()
	if e.OnFire != nil {
		e.OnFire()
	}
	e.mu.Lock()
	e.st.Fired, e.st.FiredAt = true, now
	e.notifyLocked()
	e.mu.Unlock()
}

func (e *Emulator) notifyLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *Emulator) readEvents(pending []uint32) []uint32 {
	var buf [64 << 10]byte
	for {
		n, err := unix.Read(e.ino, buf[:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n <= 0 {
			return pending
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			nameLen := binary.NativeEndian.Uint32(buf[off+12:])
			pending = append(pending, mask)
			off += unix.SizeofInotifyEvent + int(nameLen)
		}
	}
}

func (e *Emulator) opened() {
	e.mu.Lock()
	e.st.Opens++
	if e.writers > 0 {
		e.st.Busy++
	}
	e.writers++
	if !e.st.Fired {
		e.st.Armed, e.st.Disarmed = true, false
		e.deadline = time.Now().Add(e.Margin)
	}
	e.notifyLocked()
	e.mu.Unlock()
}

// closed judges a writer's close, after draining what it wrote.
//
// Normally the previous close is handled long before the next open (a
// daemon restart takes milliseconds), nothing later is in the FIFO, and the
// close is magic iff its last byte was 'V'. When a new writer has already
// opened (reopened: its open is queued), its bytes may be drained too and
// the session boundary is lost. Then 'V's are matched to closes in order
// (watchdog.Device writes 'V' only right before closing): the default mode
// fires if any close of such a burst lacks its 'V'; KeepArmedOnClose
// judges a burst by its last close, like softdog.
func (e *Emulator) closed(reopened bool) {
	e.mu.Lock()
	e.st.Closes++
	if e.writers > 0 {
		e.writers--
	}
	var magic bool
	switch {
	case !reopened:
		magic = e.last == 'V' && e.vs > 0
		e.vs = 0
	case e.KeepArmedOnClose:
		// The queued open re-arms anyway: leave it to the burst's last close.
		magic = false
	default:
		magic = e.vs > 0
		if magic {
			e.vs--
		}
	}
	switch {
	case e.st.Fired:
	case magic && e.writers == 0:
		e.st.Armed, e.st.Disarmed = false, true
	case magic:
		// Another writer still holds it: softdog would keep running.
	case !e.KeepArmedOnClose:
		e.fireLocked(time.Now())
		return
	}
	e.notifyLocked()
	e.mu.Unlock()
}

func (e *Emulator) drain() {
	for {
		n, err := unix.Read(e.fifo, e.buf[:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		data := e.buf[:n]
		e.mu.Lock()
		v := bytes.Count(data, []byte{'V'})
		e.st.Kicks += n - v
		e.vs += v
		e.last = data[n-1]
		if e.st.Armed {
			e.deadline = time.Now().Add(e.Margin)
		}
		e.notifyLocked()
		e.mu.Unlock()
	}
}

// State returns a snapshot.
func (e *Emulator) State() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.st
}

// Fired reports whether the watchdog fired, and when.
func (e *Emulator) Fired() (bool, time.Time) {
	s := e.State()
	return s.Fired, s.FiredAt
}

// Kicks is the number of kick bytes (anything but 'V') read so far.
func (e *Emulator) Kicks() int { return e.State().Kicks }

// Opens is the number of writer opens seen so far.
func (e *Emulator) Opens() int { return e.State().Opens }

// Armed reports whether the timer is running.
func (e *Emulator) Armed() bool { return e.State().Armed }

// Disarmed reports whether the last close was a magic close (and nobody
// has reopened since).
func (e *Emulator) Disarmed() bool { return e.State().Disarmed }

// WaitFor waits until cond holds for the state, at most timeout, and
// returns the last state seen and whether cond held.
func (e *Emulator) WaitFor(timeout time.Duration, cond func(State) bool) (State, bool) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		e.mu.Lock()
		s, ch := e.st, e.changed
		e.mu.Unlock()
		if cond(s) {
			return s, true
		}
		select {
		case <-ch:
		case <-timer.C:
			e.mu.Lock()
			s = e.st
			e.mu.Unlock()
			return s, cond(s)
		}
	}
}

// WaitFired waits at most timeout for the watchdog to fire.
func (e *Emulator) WaitFired(timeout time.Duration) bool {
	_, ok := e.WaitFor(timeout, func(s State) bool { return s.Fired })
	return ok
}

// WaitKicks waits at most timeout for at least n kicks.
func (e *Emulator) WaitKicks(n int, timeout time.Duration) bool {
	_, ok := e.WaitFor(timeout, func(s State) bool { return s.Kicks >= n })
	return ok
}

// WaitDisarmed waits at most timeout for a magic close.
func (e *Emulator) WaitDisarmed(timeout time.Duration) bool {
	_, ok := e.WaitFor(timeout, func(s State) bool { return s.Disarmed })
	return ok
}

// WaitCloses waits at most timeout for at least n writer closes.
func (e *Emulator) WaitCloses(n int, timeout time.Duration) bool {
	_, ok := e.WaitFor(timeout, func(s State) bool { return s.Closes >= n })
	return ok
}

// WaitOpens waits at most timeout for at least n writer opens.
func (e *Emulator) WaitOpens(n int, timeout time.Duration) bool {
	_, ok := e.WaitFor(timeout, func(s State) bool { return s.Opens >= n })
	return ok
}
