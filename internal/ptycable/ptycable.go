// Package ptycable is a null-modem cable for tests of serial links: two pty
// pairs whose slaves the ports (or daemons) under test open, and a pump per
// end that copies what one end writes into the other end's master
// (docs/testing.md, "Serial links without hardware"). The test can cut the
// cable, rewrite or split what it carries, stop a direction as flow control
// would, inject line noise, and unplug an end (its pty pair closed, as a
// USB adapter pulled out) and plug it again with a new pty pair.
//
// It is used by the unit tests of heartbeat/link/serial and by the netns
// end-to-end tests of test/e2elinks.
package ptycable

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// Open opens a pty pair whose master works with Go's poller (deadlines,
// Close ending a Read): creack/pty leaves its master in blocking mode. With
// raw, the slave is put in raw mode (MakeRaw), so that bytes arriving
// before the program under test opens it are not echoed back.
func Open(raw bool) (master, slave *os.File, err error) {
	m, s, err := pty.Open()
	if err != nil {
		return nil, nil, err
	}
	defer m.Close()
	if raw {
		if err := MakeRaw(int(s.Fd())); err != nil {
			s.Close()
			return nil, nil, err
		}
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

// MakeRaw is cfmakeraw on fd.
func MakeRaw(fd int) error {
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

// Options of a cable.
type Options struct {
	// Raw opens every slave in raw mode (see Open).
	Raw bool
	// Links, if set, are symlinks the ends are used through (as udev's
	// /dev/serial/by-id links): Plug points Links[end] at the new slave,
	// Unplug removes it first. Path is then the link, stable across plugs.
	Links [2]string
	// WriteBound bounds one write into a master, so that an end whose
	// reader stopped (or has not opened its tty yet) cannot hang a pump;
	// what is not written by then is lost, as on a wire. 0: one second.
	WriteBound time.Duration
	// CloseBound bounds the wait for the pumps at Close. 0: ten seconds.
	CloseBound time.Duration
	// GapReport, if set, is the silence of a direction worth recording
	// (Stalls): longer gaps between two carried reads, not counting a cut.
	GapReport time.Duration
}

// Both names both directions in SetFilter and SetSplit.
const Both = -1

// Cable is a null-modem cable between two pty pairs. End 0 and end 1 are
// the two pty pairs; direction d is what end d writes, carried to the
// other end. Its methods are safe for concurrent use; those that report
// failures (New, Plug, Unplug) do so with the test's TB, so call them from
// the test's goroutine.
type Cable struct {
	t    testing.TB
	opts Options
	mu   sync.Mutex
	// Per end: the current pty pair (nil while unplugged) and the slave's
	// /dev/pts path ("" while unplugged); name is the path of the latest
	// slave (kept while unplugged). The test keeps the slave open too, so
	// the pty stays alive until the port under test opened it.
	master [2]*os.File
	slave  [2]*os.File
	dev    [2]string
	name   [2]string
	// cut drops every byte in both directions.
	cut bool
	// Per direction.
	filter  [2]func(off int, p []byte) []byte // nil: pass
	split   [2]func(p []byte) [][]byte        // nil: write in one piece
	off     [2]int                            // bytes read from the end so far
	carried [2]uint64                         // bytes passed on (after cut and filter)
	stall   [2]chan struct{}                  // non-nil: the pump does not read until closed
	last    [2]time.Time                      // when a direction last carried bytes
	gaps    []Gap
	wg      sync.WaitGroup
}

// New makes a cable with both ends plugged; it is closed at t's cleanup.
func New(t testing.TB, o Options) *Cable {
	t.Helper()
	if o.WriteBound == 0 {
		o.WriteBound = time.Second
	}
	if o.CloseBound == 0 {
		o.CloseBound = 10 * time.Second
	}
	c := &Cable{t: t, opts: o}
	for end := range 2 {
		c.Plug(end)
	}
	t.Cleanup(c.Close)
	return c
}

// Plug gives end a new pty pair (pointing its link at the slave, if it has
// one) and starts the pump that reads its master.
func (c *Cable) Plug(end int) {
	c.t.Helper()
	m, s, err := Open(c.opts.Raw)
	if err != nil {
		c.t.Fatalf("pty: %v", err)
	}
	if link := c.opts.Links[end]; link != "" {
		tmp := link + ".new"
		_ = os.Remove(tmp)
		if err := os.Symlink(s.Name(), tmp); err != nil {
			c.t.Fatal(err)
		}
		if err := os.Rename(tmp, link); err != nil {
			c.t.Fatal(err)
		}
	}
	c.mu.Lock()
	c.master[end], c.slave[end], c.dev[end], c.name[end] = m, s, s.Name(), s.Name()
	c.mu.Unlock()
	c.wg.Add(1)
	go c.pump(m, end)
}

// Unplug makes end's tty disappear: its link is removed (as udev removes a
// by-id link), then its master and the test's slave are closed, so the
// port that has the slave open sees a hangup.
func (c *Cable) Unplug(end int) {
	c.t.Helper()
	if link := c.opts.Links[end]; link != "" {
		if err := os.Remove(link); err != nil && !os.IsNotExist(err) {
			c.t.Error(err)
		}
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

// Path is the path end is used through: its link if it has one, else the
// /dev/pts path of its latest slave (kept while it is unplugged).
func (c *Cable) Path(end int) string {
	if link := c.opts.Links[end]; link != "" {
		return link
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.name[end]
}

// Device is end's current /dev/pts path ("" while unplugged).
func (c *Cable) Device(end int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dev[end]
}

// Slave is the test's own descriptor of end's slave (nil while unplugged):
// it sees the line settings the port under test made.
func (c *Cable) Slave(end int) *os.File {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slave[end]
}

// Close resumes stopped directions, unplugs both ends and waits (bounded
// by CloseBound) for the pumps to stop.
func (c *Cable) Close() {
	c.Resume(0)
	c.Resume(1)
	c.Unplug(0)
	c.Unplug(1)
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(c.opts.CloseBound):
		c.t.Error("cable pumps did not stop")
	}
}

// SetCut cuts (true) or restores (false) the cable: a cut drops every byte
// in both directions.
func (c *Cable) SetCut(cut bool) {
	c.mu.Lock()
	c.cut = cut
	c.last = [2]time.Time{} // a cut is not a stall
	c.mu.Unlock()
}

// SetFilter installs f on direction dir (or Both): f gets what the end
// wrote (a copy it may change) and the number of bytes the end wrote
// before it, and returns what the cable carries. nil passes everything.
func (c *Cable) SetFilter(dir int, f func(off int, p []byte) []byte) {
	c.mu.Lock()
	for _, d := range dirs(dir) {
		c.filter[d] = f
	}
	c.mu.Unlock()
}

// SetSplit makes direction dir (or Both) write what it carries in the
// pieces split returns, with a short pause between them, so the reader
// sees them apart. nil writes in one piece.
func (c *Cable) SetSplit(dir int, split func(p []byte) [][]byte) {
	c.mu.Lock()
	for _, d := range dirs(dir) {
		c.split[d] = split
	}
	c.mu.Unlock()
}

func dirs(dir int) []int {
	if dir == Both {
		return []int{0, 1}
	}
	return []int{dir}
}

// Stop makes the line from end stop: nothing more is read from end's
// master, so the port's writes back up as on a line stopped by flow
// control. The pump stops after the read in progress.
func (c *Cable) Stop(end int) {
	c.mu.Lock()
	c.stall[end] = make(chan struct{})
	c.mu.Unlock()
}

// Resume lets the line from end run again.
func (c *Cable) Resume(end int) {
	c.mu.Lock()
	if c.stall[end] != nil {
		close(c.stall[end])
		c.stall[end] = nil
	}
	c.mu.Unlock()
}

// Inject writes b into end's receive side, as line noise (nothing while
// end is unplugged).
func (c *Cable) Inject(end int, b []byte) error {
	c.mu.Lock()
	m := c.master[end]
	c.mu.Unlock()
	return c.write(m, b)
}

// BytesCarried is the number of bytes carried from end dir (after a cut
// and the filter).
func (c *Cable) BytesCarried(dir int) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.carried[dir]
}

// Gap is a silence of one direction of the cable.
type Gap struct {
	Dir     int
	At      time.Time
	Silence time.Duration
}

func (g Gap) String() string {
	return fmt.Sprintf("end%d->end%d silent %v from %s", g.Dir, 1-g.Dir, g.Silence.Round(time.Millisecond), g.At.Format("15:04:05.000"))
}

// Stalls returns the silences longer than GapReport seen so far.
func (c *Cable) Stalls() []Gap {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Gap(nil), c.gaps...)
}

// pump copies what the port on end writes to the other end's master.
func (c *Cable) pump(src *os.File, end int) {
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
			return // closed by Unplug, or hung up because no slave is open
		}
	}
}

func (c *Cable) carry(dir int, p []byte) {
	c.mu.Lock()
	off := c.off[dir]
	c.off[dir] += len(p)
	if c.cut {
		c.mu.Unlock()
		return
	}
	if f := c.filter[dir]; f != nil {
		p = f(off, append([]byte(nil), p...))
	}
	dst := c.master[1-dir]
	c.carried[dir] += uint64(len(p))
	if c.opts.GapReport > 0 {
		now := time.Now()
		if l := c.last[dir]; !l.IsZero() && now.Sub(l) > c.opts.GapReport {
			c.gaps = append(c.gaps, Gap{Dir: dir, At: l, Silence: now.Sub(l)})
		}
		c.last[dir] = now
	}
	pieces := [][]byte{p}
	if split := c.split[dir]; split != nil {
		pieces = split(p)
	}
	c.mu.Unlock()
	if dst == nil {
		return // that end is unplugged: the bytes fall on the floor
	}
	for _, piece := range pieces {
		if c.write(dst, piece) != nil {
			return // a closed or stuck end loses the bytes, as a wire would
		}
		if len(pieces) > 1 {
			runtime.Gosched() // let the reader see the pieces apart
			time.Sleep(100 * time.Microsecond)
		}
	}
}

// write writes p into a master, bounded by WriteBound; nil (an unplugged
// end) loses the bytes.
func (c *Cable) write(dst *os.File, p []byte) error {
	if dst == nil || len(p) == 0 {
		return nil
	}
	_ = dst.SetWriteDeadline(time.Now().Add(c.opts.WriteBound))
	_, err := dst.Write(p)
	return err
}
