package watchdogtest

import (
	"sync"

	"github.com/hasuite/hasuite/watchdog"
)

// Fake is an in-memory watchdog.Watchdog for unit tests of code that drives
// a watchdog. Err, when set, is returned by every call (after recording it).
type Fake struct {
	mu        sync.Mutex
	kicks     int
	closed    bool
	abandoned bool
	Err       error
}

var _ watchdog.Watchdog = (*Fake)(nil)

// Kick records a kick.
func (f *Fake) Kick() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || f.abandoned {
		return watchdog.ErrClosed
	}
	f.kicks++
	return f.Err
}

// Close records an orderly (magic) close.
func (f *Fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || f.abandoned {
		return watchdog.ErrClosed
	}
	f.closed = true
	return f.Err
}

// Abandon records a close without magic.
func (f *Fake) Abandon() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || f.abandoned {
		return watchdog.ErrClosed
	}
	f.abandoned = true
	return f.Err
}

// Kicks is the number of kicks recorded.
func (f *Fake) Kicks() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.kicks
}

// Closed reports an orderly close.
func (f *Fake) Closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// Abandoned reports a close without magic.
func (f *Fake) Abandoned() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.abandoned
}
