package e2elinks

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

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

// cable is a null-modem cable between two daemons: each end is a pty pair
// whose slave the daemon opens through a symlink the test controls (so the
// link name is stable and the UUCP lock name unique per test run), and a
// pump per direction copies what one daemon writes to the other's master.
// The cable can be cut (the pumps drop everything), corrupt what it
// carries, and one end can be unplugged (the pty pair closed, the symlink
// removed) and plugged again with a new pty pair.
type cable struct {
	t  *testing.T
	mu sync.Mutex
	// path is the symlink each end's daemon is configured with.
	path [2]string
	// Per end: the current pty pair (nil while unplugged) and its slave's
	// /dev/pts path. The test keeps the slave open too (raw), so what
	// arrives before the daemon opens it is buffered, not echoed back.
	master [2]*os.File
	slave  [2]*os.File
	dev    [2]string
	// cut drops every byte in both directions.
	cut bool
	// filter rewrites what goes from end dir to the other end (nil: pass).
	filter func(dir int, p []byte) []byte
	// carried counts the bytes delivered per direction.
	carried [2]uint64
	// last is when a direction last carried bytes; gaps records the
	// silences longer than gapReport (a daemon or this pump stalled).
	last [2]time.Time
	gaps []gap
	wg   sync.WaitGroup
}

// newCable makes a cable with both ends plugged; it is closed at cleanup.
func newCable(t *testing.T, b *testbed.Bed, locks *lockFiles) *cable {
	t.Helper()
	c := &cable{t: t}
	for end := range 2 {
		// The basename names the UUCP lock in /var/lock: unique per run.
		c.path[end] = filepath.Join(b.Dir, fmt.Sprintf("tty-%s-end%d", b.Prefix, end))
		locks.add(filepath.Join(uucpLockDir, "LCK.."+filepath.Base(c.path[end])))
		c.plug(end)
	}
	t.Cleanup(c.close)
	return c
}

// plug gives end a new pty pair, points its symlink at the slave and starts
// the pump that reads its master.
func (c *cable) plug(end int) {
	c.t.Helper()
	m, s, err := openPTY()
	if err != nil {
		c.t.Fatalf("pty: %v", err)
	}
	tmp := c.path[end] + ".new"
	_ = os.Remove(tmp)
	if err := os.Symlink(s.Name(), tmp); err != nil {
		c.t.Fatal(err)
	}
	if err := os.Rename(tmp, c.path[end]); err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.master[end], c.slave[end], c.dev[end] = m, s, s.Name()
	c.mu.Unlock()
	c.wg.Add(1)
	go c.pump(m, end)
}

// unplug makes end's tty disappear: the symlink is removed (as udev removes
// a /dev/serial/by-id link), then the pty pair is closed, so the daemon's
// open slave hangs up and the device node goes away.
func (c *cable) unplug(end int) {
	c.t.Helper()
	if err := os.Remove(c.path[end]); err != nil && !os.IsNotExist(err) {
		c.t.Error(err)
	}
	c.mu.Lock()
	m, s := c.master[end], c.slave[end]
	c.master[end], c.slave[end], c.dev[end] = nil, nil, ""
	c.mu.Unlock()
	if m != nil {
		m.Close()
	}
	if s != nil {
		s.Close()
	}
}

// device is end's current /dev/pts path ("" while unplugged).
func (c *cable) device(end int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dev[end]
}

func (c *cable) close() {
	c.unplug(0)
	c.unplug(1)
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * writeBound):
		c.t.Error("cable pumps did not stop")
	}
}

// setCut cuts (true) or restores (false) the cable.
func (c *cable) setCut(cut bool) {
	c.mu.Lock()
	c.cut = cut
	c.last = [2]time.Time{} // a cut is not a stall
	c.mu.Unlock()
}

// gapReport is the silence of a direction worth reporting: a daemon with
// keepalive 100ms writes at least every 100 ms.
const gapReport = 250 * time.Millisecond

// gap is a silence of one direction of the cable.
type gap struct {
	dir     int
	at      time.Time
	silence time.Duration
}

func (g gap) String() string {
	return fmt.Sprintf("end%d->end%d silent %v from %s", g.dir, 1-g.dir, g.silence.Round(time.Millisecond), g.at.Format("15:04:05.000"))
}

// stalls returns the silences longer than gapReport seen so far.
func (c *cable) stalls() []gap {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]gap(nil), c.gaps...)
}

// setFilter installs f on both directions (nil: pass everything).
func (c *cable) setFilter(f func(dir int, p []byte) []byte) {
	c.mu.Lock()
	c.filter = f
	c.mu.Unlock()
}

// bytesCarried is the number of bytes delivered from end dir.
func (c *cable) bytesCarried(dir int) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.carried[dir]
}

// pump copies what the daemon on end writes to the other end's master.
func (c *cable) pump(src *os.File, end int) {
	defer c.wg.Done()
	buf := make([]byte, 4096)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			c.carry(end, buf[:n])
		}
		if err != nil {
			return // closed by unplug, or hung up
		}
	}
}

func (c *cable) carry(dir int, p []byte) {
	c.mu.Lock()
	if c.cut {
		c.mu.Unlock()
		return
	}
	if c.filter != nil {
		p = c.filter(dir, append([]byte(nil), p...))
	}
	dst := c.master[1-dir]
	c.carried[dir] += uint64(len(p))
	now := time.Now()
	if l := c.last[dir]; !l.IsZero() && now.Sub(l) > gapReport {
		c.gaps = append(c.gaps, gap{dir: dir, at: l, silence: now.Sub(l)})
	}
	c.last[dir] = now
	c.mu.Unlock()
	c.write(dst, p)
}

// inject writes b into end's receive side, as line noise.
func (c *cable) inject(end int, b []byte) {
	c.mu.Lock()
	m := c.master[end]
	c.mu.Unlock()
	c.write(m, b)
}

func (c *cable) write(dst *os.File, p []byte) {
	if dst == nil || len(p) == 0 {
		return // unplugged: the bytes fall on the floor
	}
	_ = dst.SetWriteDeadline(time.Now().Add(writeBound))
	_, _ = dst.Write(p) // a closed or stuck end loses the bytes, as a wire would
}

// openPTY opens a pty pair whose master works with Go's poller (deadlines,
// Close ending a Read; creack/pty leaves it blocking) and whose slave is in
// raw mode, so bytes that arrive before the daemon opens it are not echoed
// back into the cable.
func openPTY() (master, slave *os.File, err error) {
	m, s, err := pty.Open()
	if err != nil {
		return nil, nil, err
	}
	defer m.Close()
	if err := makeRaw(int(s.Fd())); err != nil {
		s.Close()
		return nil, nil, err
	}
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

// makeRaw is cfmakeraw on fd.
func makeRaw(fd int) error {
	tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cflag &^= unix.CSIZE | unix.PARENB
	tio.Cflag |= unix.CS8
	tio.Cc[unix.VMIN] = 1
	tio.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, tio)
}
