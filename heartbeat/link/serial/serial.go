// Package serial is the RS-232 heartbeat medium, compatible with Heartbeat
// 3.0.6's "serial" plugin: classic ">>>…<<<" text frames with '\n' line
// ends, no NUL and no netstring trailer, on a raw 8N1 line, with a UUCP lock
// file.
//
// A Port has two goroutines. The writer sends queued frames in 512-byte
// chunks paced at the line rate, each chunk under a 500 ms deadline, so
// Send never waits for the line: a full queue (line too slow, or stopped by
// flow control on a cut cable) drops the frame and says so. The reader cuts
// the byte stream into frames (see framer) and delivers each as one
// link.Packet. When the device fails (a USB adapter unplugged: EIO, ENXIO or
// hangup), the Port closes it and the reader opens the path again every
// second until it is back, re-applying the line settings and the lock.
//
// Differences from Heartbeat, all invisible to a Heartbeat peer:
//   - Input is 8-bit clean (no ISTRIP, no IGNCR) and a BREAK is ignored
//     (IGNBRK, not BRKINT); see tty.go.
//   - No BREAK is sent after open: the receiver resynchronises on ">>>"
//     anyway, tcsendbreak is a no-op on ptys, and on hardware it first
//     drains the output, which can block for good on a line stopped by
//     flow control.
//   - The framer also recovers a frame glued to the remains of a cut one
//     (framer.go); Heartbeat loses both.
//   - The lock is held while the device is gone (nobody else should take
//     the port meanwhile) and checked again at every reopen.
//
// Send takes frames only: the daemon encodes with msg.EncodeClassic. A real
// Heartbeat peer reads with ISTRIP and IGNCR, so frames for it must be
// 7-bit text without CR (v1 traffic is); bytes outside that fail its
// authentication there, not here.
package serial

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hasuite/hasuite/heartbeat/link"
	"github.com/hasuite/hasuite/heartbeat/msg"
	"golang.org/x/sys/unix"
)

// Errors of Send.
var (
	// ErrDown: the tty is gone or failed; the Port is trying to reopen it.
	ErrDown = errors.New("link down")
	// ErrQueueFull: the line cannot keep up (or is stopped); the frame was
	// dropped and counted.
	ErrQueueFull = errors.New("send queue full")
	// ErrClosed: Send after Close.
	ErrClosed = errors.New("link closed")
	// ErrNotFrame: Send was given something that is not one classic frame.
	ErrNotFrame = errors.New("not a classic frame")
)

// Tunables, as Heartbeat where it has them. Variables so tests can shorten
// the waits; a Port copies them when it opens.
var (
	// reopenEvery is how often a down Port tries to open its tty again.
	reopenEvery = time.Second
	// writeTimeout bounds the write of one chunk (Heartbeat: a 500 ms alarm).
	writeTimeout = 500 * time.Millisecond
)

const (
	// chunkSize is how much is written at once (Heartbeat: 512 bytes).
	chunkSize = 512
	// bitsPerByte on the line: start bit, 8 data bits, stop bit.
	bitsPerByte = 10
	// maxQueueFrames bounds the send queue in frames ...
	maxQueueFrames = 64
	// ... and queueSeconds in line time: enough for a burst (a status plus
	// resource messages, acks, retransmissions: at 9600 baud about 25
	// status frames), while a frame never waits longer than this, so a
	// daemon that hung stops being heard within this time even when it
	// had been sending faster than the line can carry. A frame bigger than
	// the budget is still accepted into an empty queue.
	queueSeconds = 8
	// readBufSize is the reader's buffer; a tty delivers at most a few KiB
	// per read.
	readBufSize = 4096
)

// Stats are a Port's counters since Open.
type Stats struct {
	Frames      uint64 // frames delivered
	BadFrames   uint64 // frames given up: cut short by a new start, larger than msg.MaxWire, or cut by a device failure
	Dropped     uint64 // frames Send accepted that were never written: queue full, or the link went down
	WriteErrors uint64 // chunk writes that failed or timed out (the rest of that frame is not sent)
	ReadErrors  uint64 // read failures and hangups, each of which took the link down
	Reopens     uint64 // successful reopens after the link went down
	Up          bool   // the tty is open now
}

// Port is a serial heartbeat link. Open returns it as a link.Link; assert
// to *Port for Stats.
type Port struct {
	cfg        Config
	deliver    func(link.Packet)
	lock       *uucpLock
	queueBytes int // byte budget of the send queue
	reopen     time.Duration
	wtimeout   time.Duration
	sleep      func(time.Duration) bool // pacing; false when closing

	mu      sync.Mutex
	f       *os.File // nil while down
	downErr error    // why the link is down
	closed  bool
	queue   [][]byte
	queueAt []time.Time // when each queued frame was accepted
	queued  int         // bytes in queue

	wake      chan struct{} // one token: the queue may be non-empty
	quit      chan struct{} // closed by Close
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	frames, badFrames, dropped, writeErrors, readErrors, reopens atomic.Uint64
}

// Open takes the tty's UUCP lock, opens and programs the line, and starts
// the reader and the writer. deliver is called from the reader for every
// frame received, in order; it must return quickly and must not call
// Close. The tty must exist at Open (a mistyped path is an error, as in
// Heartbeat); later failures of the device are handled by reopening.
func Open(cfg Config, deliver func(link.Packet)) (link.Link, error) {
	if deliver == nil {
		return nil, errors.New("serial: nil deliver function")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Port{
		cfg:        cfg,
		deliver:    deliver,
		lock:       newLock(cfg.LockDir, cfg.Path),
		queueBytes: cfg.Baud / bitsPerByte * queueSeconds,
		reopen:     reopenEvery,
		wtimeout:   writeTimeout,
		wake:       make(chan struct{}, 1),
		quit:       make(chan struct{}),
	}
	p.sleep = p.pause
	if err := p.lock.acquire(); err != nil {
		return nil, fmt.Errorf("serial %s: %w", cfg.Path, err)
	}
	f, err := openTTY(cfg.Path, cfg.Baud, cfg.FlowControl)
	if err != nil {
		_ = p.lock.release()
		return nil, fmt.Errorf("serial %s: %w", cfg.Path, err)
	}
	p.f = f
	p.wg.Add(2)
	go p.readLoop()
	go p.writeLoop()
	return p, nil
}

// Name is the tty path, as Heartbeat names serial links.
func (p *Port) Name() string { return p.cfg.Path }

// Send queues b, which must be one complete classic frame (">>>\n" …
// "<<<\n", as msg.EncodeClassic makes), for the writer, and returns at
// once. It fails when the link is down, closed, or its queue is full (the
// frame is then dropped and counted in Stats.Dropped). b is copied.
func (p *Port) Send(b []byte) error {
	if err := checkFrame(b); err != nil {
		return fmt.Errorf("serial %s: %w", p.cfg.Path, err)
	}
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return fmt.Errorf("serial %s: %w", p.cfg.Path, ErrClosed)
	case p.f == nil:
		err := p.downErr
		p.mu.Unlock()
		if err == nil {
			return fmt.Errorf("serial %s: %w", p.cfg.Path, ErrDown)
		}
		return fmt.Errorf("serial %s: %w: %w", p.cfg.Path, ErrDown, err)
	case len(p.queue) >= maxQueueFrames || (len(p.queue) > 0 && p.queued+len(b) > p.queueBytes):
		p.mu.Unlock()
		p.dropped.Add(1)
		return fmt.Errorf("serial %s: %w", p.cfg.Path, ErrQueueFull)
	}
	p.queue = append(p.queue, bytes.Clone(b))
	p.queueAt = append(p.queueAt, time.Now())
	p.queued += len(b)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return nil
}

// checkFrame accepts exactly one classic frame of at most msg.MaxWire
// bytes: the framer of the receiving side could not deliver anything else.
func checkFrame(b []byte) error {
	switch {
	case len(b) > msg.MaxWire:
		return fmt.Errorf("%w: %d bytes, limit %d", ErrNotFrame, len(b), msg.MaxWire)
	case len(b) < len(frameStart)+len(frameEnd) ||
		!bytes.HasPrefix(b, []byte(frameStart)) || !bytes.HasSuffix(b, []byte(frameEnd)):
		return fmt.Errorf("%w: want >>>\\n ... <<<\\n", ErrNotFrame)
	}
	return nil
}

// Stats returns the counters.
func (p *Port) Stats() Stats {
	p.mu.Lock()
	up := p.f != nil
	p.mu.Unlock()
	return Stats{
		Frames:      p.frames.Load(),
		BadFrames:   p.badFrames.Load(),
		Dropped:     p.dropped.Load(),
		WriteErrors: p.writeErrors.Load(),
		ReadErrors:  p.readErrors.Load(),
		Reopens:     p.reopens.Load(),
		Up:          up,
	}
}

// Close stops the reader and the writer, closes the tty and releases the
// lock. It returns after both goroutines ended; no deliver call runs after
// it. Frames still queued are discarded. Line settings are not restored.
func (p *Port) Close() error {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.closed = true
		f := p.f
		p.f = nil
		p.queue, p.queueAt, p.queued = nil, nil, 0
		p.mu.Unlock()
		close(p.quit)
		var err error
		if f != nil {
			err = f.Close()
		}
		p.wg.Wait()
		if err = errors.Join(err, p.lock.release()); err != nil {
			p.closeErr = fmt.Errorf("serial %s: close: %w", p.cfg.Path, err)
		}
	})
	return p.closeErr
}

// current returns the open tty, or nil while the link is down.
func (p *Port) current() *os.File {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.f
}

// down takes the link down after f failed: it closes f (which also ends a
// read or write in progress on it) and drops the queue. It does nothing if
// f is no longer the current tty.
func (p *Port) down(f *os.File, cause error) {
	p.mu.Lock()
	if p.f != f || f == nil {
		p.mu.Unlock()
		return
	}
	p.f = nil
	p.downErr = cause
	n := len(p.queue)
	p.queue, p.queueAt, p.queued = nil, nil, 0
	p.mu.Unlock()
	p.dropped.Add(uint64(n))
	_ = f.Close()
}

// tryReopen opens the tty again after the link went down.
func (p *Port) tryReopen() error {
	if err := p.lock.acquire(); err != nil {
		return err
	}
	f, err := openTTY(p.cfg.Path, p.cfg.Baud, p.cfg.FlowControl)
	if err != nil {
		return err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = f.Close()
		return ErrClosed
	}
	p.f, p.downErr = f, nil
	p.mu.Unlock()
	p.reopens.Add(1)
	return nil
}

// pause waits for d or until Close; it reports false when closing.
func (p *Port) pause(d time.Duration) bool {
	if d <= 0 {
		select {
		case <-p.quit:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.quit:
		return false
	case <-t.C:
		return true
	}
}

// readLoop reads the tty, feeds the framer and delivers frames. While the
// link is down it reopens the tty every p.reopen.
func (p *Port) readLoop() {
	defer p.wg.Done()
	fr := newFramer(msg.MaxWire)
	buf := make([]byte, readBufSize)
	emit := func(frame []byte) {
		p.frames.Add(1)
		p.deliver(link.Packet{Link: p.cfg.Path, Data: frame})
	}
	for {
		f := p.current()
		if f == nil {
			if !p.pause(p.reopen) {
				return
			}
			if err := p.tryReopen(); err != nil {
				p.mu.Lock()
				if !p.closed {
					p.downErr = err
				}
				p.mu.Unlock()
			}
			continue
		}
		n, err := f.Read(buf)
		if n > 0 {
			if bad := fr.feed(buf[:n], emit); bad > 0 {
				p.badFrames.Add(uint64(bad))
			}
		}
		if err == nil {
			continue
		}
		select {
		case <-p.quit:
			return
		default:
		}
		if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
			continue
		}
		// The device failed or hung up (EOF after a hangup, EIO, ENXIO),
		// or the writer already took the link down (ErrClosed).
		if !errors.Is(err, os.ErrClosed) {
			p.readErrors.Add(1)
			if errors.Is(err, io.EOF) {
				err = errors.New("hangup")
			}
			p.down(f, fmt.Errorf("read: %w", err))
		}
		p.badFrames.Add(uint64(fr.abandon()))
	}
}

// writeLoop writes queued frames until Close.
func (p *Port) writeLoop() {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		var b []byte
		var at time.Time
		f := p.f
		if len(p.queue) > 0 {
			b, at = p.queue[0], p.queueAt[0]
			p.queue[0] = nil
			p.queue, p.queueAt = p.queue[1:], p.queueAt[1:]
			p.queued -= len(b)
		}
		p.mu.Unlock()
		if b != nil && p.cfg.MaxDelay > 0 && time.Since(at) > p.cfg.MaxDelay {
			p.dropped.Add(1) // stale: newer frames are behind it
			continue
		}
		if b == nil {
			select {
			case <-p.quit:
				return
			case <-p.wake:
			}
			continue
		}
		if f == nil {
			p.dropped.Add(1)
			continue
		}
		if err := p.writeFrame(f, b); err != nil {
			if errors.Is(err, ErrClosed) {
				return
			}
			p.writeFailed(f, err)
		}
	}
}

// frameWriter is what writeFrame needs of the tty (a fake in tests).
type frameWriter interface {
	Write([]byte) (int, error)
	SetWriteDeadline(time.Time) error
}

// writeFrame writes b in chunks of chunkSize, each under p.wtimeout, and
// after each chunk waits as long as the line needs to send it, so the
// kernel's buffer never fills while the line runs and our queue (where
// drops are counted and waiting is bounded) is the only backlog. It returns
// ErrClosed when Close interrupted it.
func (p *Port) writeFrame(w frameWriter, b []byte) error {
	for len(b) > 0 {
		n := min(len(b), chunkSize)
		if err := w.SetWriteDeadline(time.Now().Add(p.wtimeout)); err != nil {
			return err
		}
		if _, err := w.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
		if !p.sleep(lineTime(n, p.cfg.Baud)) {
			return ErrClosed
		}
	}
	return nil
}

// writeFailed handles a failed chunk write on f.
func (p *Port) writeFailed(f *os.File, err error) {
	select {
	case <-p.quit:
		return
	default:
	}
	switch {
	case errors.Is(err, os.ErrClosed):
		// The reader took the link down meanwhile: the frame is lost.
		p.dropped.Add(1)
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The line is stopped (flow control on a cut cable, a peer that
		// does not read). Drop what the kernel holds: it would go out
		// stale when the line runs again. The peer resyncs on the next
		// frame.
		p.writeErrors.Add(1)
		flushOutput(f)
	default:
		// EIO, ENXIO: the device is gone.
		p.writeErrors.Add(1)
		p.down(f, fmt.Errorf("write: %w", err))
	}
}

// lineTime is how long the line takes to send n bytes at baud.
func lineTime(n, baud int) time.Duration {
	if baud <= 0 {
		return 0
	}
	return time.Duration(n) * bitsPerByte * time.Second / time.Duration(baud)
}
