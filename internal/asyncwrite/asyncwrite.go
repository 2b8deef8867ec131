// Package asyncwrite keeps a log destination that can block from stalling
// the daemon's event loop.
//
// A log line is written from the loop that also sends the heartbeats. A
// write to a log file can sleep for tens of milliseconds or more (the
// kernel throttling a process that dirties pages while another floods the
// disk, a journal commit, a hung NFS mount), and so can a write to stderr
// under systemd (journald busy rotating) or to syslog (a full datagram
// queue): at deadtime 50ms that is a false death, caused by the very
// "late heartbeat" warning the stall produced. Heartbeat 3.0.6 sends its
// lines to a separate logging process for the same reason.
//
// A Writer copies each line into a bounded queue and returns at once; one
// goroutine of its own writes the queue to the destination. When the queue
// is full, lines are dropped and counted, and once the destination takes
// lines again the count is reported through the OnDrop callback. zap's
// BufferedWriteSyncer is not enough: it flushes with its lock held, so a
// blocked destination blocks the writers too.
package asyncwrite

import (
	"errors"
	"io"
	"sync"
	"time"
)

// DefaultLimit is the queue bound New uses when given 0: a few thousand
// lines, far more than a burst of the daemon's logging, little memory.
const DefaultLimit = 512 << 10

// DefaultDrainTimeout bounds Sync and Close when given 0: at exit the lines
// still queued get this long to reach a stuck destination, then the process
// goes on without them.
const DefaultDrainTimeout = 2 * time.Second

// ErrDrainTimeout is returned by Sync and Close when the destination did not
// take the queued lines (or sync) in time.
var ErrDrainTimeout = errors.New("asyncwrite: the destination did not take the queued lines in time")

// Options tune a Writer; the zero value is usable.
type Options struct {
	// Limit bounds the bytes queued (0: DefaultLimit). A line that does
	// not fit is dropped.
	Limit int
	// DrainTimeout bounds Sync and Close (0: DefaultDrainTimeout).
	DrainTimeout time.Duration
	// OnDrop is called from the Writer's goroutine, after the queue has
	// drained, with the number of lines dropped since the last call. It
	// may write to the Writer (to log the loss through the same logger).
	OnDrop func(dropped int)
}

// Writer is an io.Writer (and zapcore.WriteSyncer) that never blocks on
// its destination. Safe for concurrent use.
type Writer struct {
	dst  io.Writer
	opts Options

	mu       sync.Mutex
	queue    [][]byte
	queued   int  // bytes in queue
	inFlight bool // the goroutine is writing a batch taken from queue
	dropped  int
	closed   bool
	idle     *sync.Cond // signalled when queue is empty and nothing is in flight

	wake chan struct{} // capacity 1: there is work, or closed
	done chan struct{} // closed when the goroutine has returned
}

// New starts a Writer in front of dst.
func New(dst io.Writer, opts Options) *Writer {
	if opts.Limit <= 0 {
		opts.Limit = DefaultLimit
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = DefaultDrainTimeout
	}
	w := &Writer{dst: dst, opts: opts, wake: make(chan struct{}, 1), done: make(chan struct{})}
	w.idle = sync.NewCond(&w.mu)
	go w.run()
	return w
}

// Write queues a copy of p and returns len(p). It drops p (and counts it)
// when the queue is full, and after Close: a line logged while the process
// exits must not hang it on a stuck destination.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.queued+len(p) > w.opts.Limit {
		w.dropped++
		return len(p), nil
	}
	w.queue = append(w.queue, append([]byte(nil), p...))
	w.queued += len(p)
	w.signal()
	return len(p), nil
}

func (w *Writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Dropped is the number of lines dropped and not yet reported to OnDrop.
func (w *Writer) Dropped() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}

func (w *Writer) run() {
	defer close(w.done)
	// reported: OnDrop was called and nothing has been written since, so
	// a loss in the meantime (its own line, were it too long) waits for
	// the next write instead of calling it again and again.
	reported := false
	for range w.wake {
		for {
			w.mu.Lock()
			batch := w.queue
			w.queue, w.queued = nil, 0
			if len(batch) > 0 {
				w.inFlight = true
				w.mu.Unlock()
				for _, b := range batch {
					// A failed write has nowhere to be reported: the
					// destination is the log itself.
					_, _ = w.dst.Write(b)
				}
				reported = false
				w.mu.Lock()
				w.inFlight = false
				w.mu.Unlock()
				continue
			}
			if dropped := w.dropped; dropped > 0 && w.opts.OnDrop != nil && !w.closed && !reported {
				w.dropped = 0
				w.mu.Unlock()
				reported = true
				w.opts.OnDrop(dropped) // may queue a line: look again
				continue
			}
			w.idle.Broadcast()
			closed := w.closed
			w.mu.Unlock()
			if closed {
				return
			}
			break
		}
	}
}

// Sync waits until every queued line has been written, then syncs the
// destination if it can (an *os.File is fsynced); both within DrainTimeout,
// since a stuck disk must not hang the caller. It is meant for the end of
// the process or before a reboot, not for the loop.
func (w *Writer) Sync() error {
	deadline := time.Now().Add(w.opts.DrainTimeout)
	if err := w.drain(deadline); err != nil {
		return err
	}
	s, ok := w.dst.(interface{ Sync() error })
	if !ok {
		return nil
	}
	return within(deadline, s.Sync)
}

// drain waits, until deadline, for the queue to empty.
func (w *Writer) drain(deadline time.Time) error {
	return within(deadline, func() error {
		w.mu.Lock()
		for len(w.queue) > 0 || w.inFlight {
			w.idle.Wait()
		}
		w.mu.Unlock()
		return nil
	})
}

// within runs f and waits for it until deadline; f goes on in the
// background if it has not returned by then.
func within(deadline time.Time, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return ErrDrainTimeout
	}
}

// Close drains the queue (bounded by DrainTimeout) and stops the Writer;
// later lines are dropped. It does not close the destination. The
// Writer's goroutine (and one of drain's) stays behind only while the
// destination keeps it blocked.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.mu.Unlock()
	err := w.drain(time.Now().Add(w.opts.DrainTimeout))
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.signal()
	if err == nil {
		<-w.done
	}
	return err
}
