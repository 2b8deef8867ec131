// Package evloop is the wait at the heart of the daemon's event loop: one
// epoll set holding the link sockets, a timerfd for the loop's next
// deadline, and an eventfd for work other goroutines post to the loop.
//
// Why not a reader goroutine per link, channels and a runtime timer: at
// keepalive 10ms a node sends and receives a hundred packets a second
// each, and every hand-off between goroutines (and every runtime timer)
// made the Go scheduler wake a second thread to look for work: several
// futex calls and context switches per packet, most of the daemon's CPU.
// Here the loop goroutine is the only one that wakes on an idle node. It
// parks in Go's network poller on the epoll set itself (an epoll fd is
// pollable), so the runtime sees one ordinary goroutine blocked on one
// fd, with no runtime timer at all: the deadline is the timerfd's.
//
// A Loop is used by one goroutine (Wait, Add, Remove, RunPosted, Close);
// Post may be called from any goroutine.
package evloop

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Loop is an epoll set with a wake-up event.
type Loop struct {
	epfd    int
	epfile  *os.File        // epfd in Go's network poller
	epraw   syscall.RawConn // how the loop goroutine parks on it
	wakefd  int             // eventfd: readable while posted work waits
	timerfd int             // the deadline of the current Wait
	events  []unix.EpollEvent
	ready   []int
	woken   bool      // the last Wait saw the wake-up event
	expired bool      // the timerfd expired since it was last armed
	armed   time.Time // the timerfd's deadline (zero: disarmed)
	first   bool      // no Wait yet: poll before parking

	mu     sync.Mutex
	posted []func()
	closed bool
}

// Tags of the Loop's own fds in the epoll set; socket tags are >= 0.
const (
	wakeTag  = -1
	timerTag = -2
)

// New creates a Loop.
func New() (*Loop, error) {
	l := &Loop{epfd: -1, wakefd: -1, timerfd: -1, events: make([]unix.EpollEvent, 16), first: true}
	var err error
	if l.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	if err := l.setup(); err != nil {
		_ = l.Close()
		return nil, err
	}
	return l, nil
}

func (l *Loop) setup() error {
	var err error
	if l.wakefd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return fmt.Errorf("eventfd: %w", err)
	}
	if l.timerfd, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC|unix.TFD_NONBLOCK); err != nil {
		return fmt.Errorf("timerfd: %w", err)
	}
	if err := l.add(l.wakefd, wakeTag); err != nil {
		return err
	}
	if err := l.add(l.timerfd, timerTag); err != nil {
		return err
	}
	// Go's poller needs a non-blocking fd; it then registers it
	// edge-triggered, and Wait drains the set before parking again.
	if err := unix.SetNonblock(l.epfd, true); err != nil {
		return fmt.Errorf("epoll set non-blocking: %w", err)
	}
	l.epfile = os.NewFile(uintptr(l.epfd), "evloop")
	// A file the runtime could not add to its poller takes no deadline;
	// Wait would then fail at once instead of parking.
	if err := l.epfile.SetReadDeadline(time.Time{}); err != nil {
		return fmt.Errorf("epoll set in the runtime poller: %w", err)
	}
	if l.epraw, err = l.epfile.SyscallConn(); err != nil {
		return fmt.Errorf("epoll set in the runtime poller: %w", err)
	}
	return nil
}

// Add watches fd for readability; Wait reports it by tag (>= 0). The
// watch is level-triggered: a socket with a datagram left unread is
// reported again by the next Wait.
func (l *Loop) Add(fd, tag int) error {
	if tag < 0 {
		return fmt.Errorf("evloop: negative tag %d", tag)
	}
	return l.add(fd, tag)
}

func (l *Loop) add(fd, tag int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	// The tag rides in the event's data field (Fd and Pad together are
	// the kernel's 64-bit epoll_data).
	ev.Fd = int32(tag)
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl add fd %d: %w", fd, err)
	}
	return nil
}

// Remove stops watching fd (before it is closed, or when it is replaced).
func (l *Loop) Remove(fd int) error {
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil); err != nil {
		return fmt.Errorf("epoll_ctl del fd %d: %w", fd, err)
	}
	return nil
}

// Post queues f to run on the loop goroutine (by RunPosted) and wakes
// Wait. Work posted after Close is dropped: the loop is gone.
func (l *Loop) Post(f func()) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	defer l.mu.Unlock()
	if len(l.posted) == 0 {
		// One wake-up per batch: later posts find the queue non-empty
		// and know a wake-up is already pending. (Written under the lock
		// so that Close cannot release the eventfd in between.)
		one := [8]byte{1}
		_, _ = unix.Write(l.wakefd, one[:])
	}
	l.posted = append(l.posted, f)
}

// Wait blocks until a watched fd is readable, work is posted, or the
// deadline passes (never, if it is the zero time), and returns the tags
// of the readable fds (valid until the next Wait). Posted work is not
// run here: call RunPosted. The caller is expected to read at least one
// datagram from every fd reported; what it leaves is reported again.
func (l *Loop) Wait(deadline time.Time) ([]int, error) {
	leftovers := len(l.ready) > 0 || l.first
	l.first = false
	l.ready = l.ready[:0]
	l.woken = false
	if !deadline.IsZero() && !time.Now().Before(deadline) {
		return l.ready, l.poll()
	}
	if err := l.arm(deadline); err != nil {
		return l.ready, err
	}
	var perr error
	err := l.epraw.Read(func(uintptr) bool {
		if !leftovers {
			// Nothing level-triggered can be pending: every fd that
			// became ready since the last poll raised a new edge on the
			// epoll set, which Go's poller has recorded for us. Park
			// straight away (one system call fewer per packet).
			leftovers = true
			return false
		}
		perr = l.poll()
		return perr != nil || len(l.ready) > 0 || l.woken || l.expired
	})
	return l.ready, errors.Join(err, perr)
}

// poll collects what is ready now, without waiting.
//
// The loop's own system calls never block, and are made with RawSyscall:
// a plain Syscall tells the scheduler the goroutine may block, and the
// first one after an idle spell wakes the runtime's monitor thread, which
// then naps in 20µs steps until everything is idle again, for every
// packet.
func (l *Loop) poll() error {
	r, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(l.epfd),
		uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), 0, 0, 0)
	switch errno {
	case 0:
	case unix.EINTR:
		return nil
	default:
		return fmt.Errorf("epoll_wait: %w", errno)
	}
	for _, ev := range l.events[:int(r)] {
		switch tag := int(ev.Fd); tag {
		case wakeTag:
			l.woken = true
		case timerTag:
			// The deadline passed; the next arm clears the expiry.
			l.expired = true
		default:
			l.ready = append(l.ready, tag)
		}
	}
	return nil
}

// arm sets the timerfd to expire at deadline (never, if zero). Setting
// it also clears an expiry not yet read. An unchanged deadline that has
// not expired yet is left alone: one system call fewer on most packets
// received (the next heartbeat to send does not move when one arrives).
func (l *Loop) arm(deadline time.Time) error {
	if deadline.Equal(l.armed) && !l.expired {
		return nil
	}
	var spec unix.ItimerSpec
	if !deadline.IsZero() {
		// Relative: Go's monotonic clock and CLOCK_MONOTONIC agree on
		// rates, not on origins.
		spec.Value = unix.NsecToTimespec(int64(max(time.Until(deadline), time.Microsecond)))
	}
	if _, _, errno := unix.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(l.timerfd), 0,
		uintptr(unsafe.Pointer(&spec)), 0, 0, 0); errno != 0 {
		l.armed = time.Time{}
		return fmt.Errorf("timerfd_settime: %w", errno)
	}
	l.armed = deadline
	l.expired = false
	return nil
}

// RunPosted runs, in posting order and on the caller's goroutine, the
// work posted so far: what the last Wait was woken for, and what was
// posted since (the daemon calls it again after reading its sockets, so
// that frames a serial reader posted meanwhile are received before any
// deadline is judged). Without a wake-up it costs one uncontended lock.
func (l *Loop) RunPosted() {
	if !l.woken && !l.Pending() {
		return
	}
	l.woken = false
	// Clear the wake-up before taking the queue: a post landing after the
	// read either finds the queue non-empty (and is taken below) or empty
	// (and writes a new wake-up for the next Wait). Nothing is stranded.
	var buf [8]byte
	_, _, _ = unix.RawSyscall(unix.SYS_READ, uintptr(l.wakefd), uintptr(unsafe.Pointer(&buf[0])), 8)
	l.mu.Lock()
	work := l.posted
	l.posted = nil
	l.mu.Unlock()
	for _, f := range work {
		f()
	}
}

// Pending reports whether posted work waits (for tests and shutdown).
func (l *Loop) Pending() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.posted) > 0
}

// Close releases the epoll set, the eventfd and the timerfd; later posts
// are dropped. The fds that were added are not closed: they belong to
// their owners.
func (l *Loop) Close() error {
	l.mu.Lock()
	l.closed = true
	l.posted = nil
	l.mu.Unlock()
	var errs []error
	if l.epfile != nil {
		errs = append(errs, l.epfile.Close())
	} else if l.epfd >= 0 {
		errs = append(errs, unix.Close(l.epfd))
	}
	for _, fd := range []int{l.wakefd, l.timerfd} {
		if fd >= 0 {
			errs = append(errs, unix.Close(fd))
		}
	}
	return errors.Join(errs...)
}
