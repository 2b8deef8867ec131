package e2elinks

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/ptycable"
	"github.com/hasuite/hasuite/internal/testbed"
)

// uucpLockDir is where our daemons take the UUCP lock of a tty (as
// Heartbeat; shared by every network namespace).
const uucpLockDir = "/var/lock"

// lockFiles are UUCP lock files that daemons killed by the bed's cleanup
// leave behind.
type lockFiles struct {
	mu    sync.Mutex
	paths []string
}

func (l *lockFiles) add(p string) {
	l.mu.Lock()
	l.paths = append(l.paths, p)
	l.mu.Unlock()
}

func (l *lockFiles) remove() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.paths {
		_ = os.Remove(p)
	}
}

// newBed is testbed.New, plus removal of the lock files of the bed's
// cables once the bed's cleanup (which runs before: cleanups run last in,
// first out) has killed the daemons that held them.
func newBed(t *testing.T) (*testbed.Bed, *lockFiles) {
	t.Helper()
	locks := &lockFiles{}
	t.Cleanup(locks.remove)
	return testbed.New(t), locks
}

// writeBound bounds one write into a master: a daemon that does not read
// its tty (stopped, or the tty not opened yet) must not hang the pump.
const writeBound = time.Second

// gapReport is the silence of a direction worth reporting: a daemon with
// keepalive 100ms writes at least every 100 ms.
const gapReport = 250 * time.Millisecond

// newCable makes a null-modem cable between two daemons (internal/ptycable)
// with both ends plugged; it is closed at cleanup. Each end is a pty pair,
// raw, whose slave the daemon opens through a symlink the test controls
// (Path: a stable link name, and a UUCP lock name unique per test run);
// Device is the slave itself. Unplug removes the symlink and closes the pty
// pair; Plug makes a new pair behind the same symlink. The cable records
// the silences longer than gapReport (Stalls).
func newCable(t *testing.T, b *testbed.Bed, locks *lockFiles) *ptycable.Cable {
	t.Helper()
	o := ptycable.Options{Raw: true, WriteBound: writeBound, CloseBound: 10 * writeBound, GapReport: gapReport}
	for end := range 2 {
		// The basename names the UUCP lock in /var/lock: unique per run.
		o.Links[end] = filepath.Join(b.Dir, fmt.Sprintf("tty-%s-end%d", b.Prefix, end))
		locks.add(filepath.Join(uucpLockDir, "LCK.."+filepath.Base(o.Links[end])))
	}
	return ptycable.New(t, o)
}
