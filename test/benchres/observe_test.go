package benchres

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/internal/testbed"
)

// ---------------------------------------------------------------------------
// Log follower: every line of a log with the time this process read it.

// logLine is one complete line of a followed log.
type logLine struct {
	text string
	seen time.Time // when this process read it (woken by inotify)
}

// logFollower reads a log file as it grows. inotify wakes it on every
// write, so "seen" trails the write by the scheduling latency only.
type logFollower struct {
	path string
	f    *os.File
	in   *os.File // the inotify descriptor (pollable, so Close wakes Read)
	done chan struct{}

	mu      sync.Mutex
	lines   []logLine
	off     int64
	partial []byte
}

// followLog starts following path (created empty if missing) from its
// current end.
func followLog(path string) (*logFollower, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("inotify: %w", err)
	}
	if _, err := unix.InotifyAddWatch(fd, path, unix.IN_MODIFY); err != nil {
		unix.Close(fd)
		f.Close()
		return nil, fmt.Errorf("inotify watch %s: %w", path, err)
	}
	l := &logFollower{path: path, f: f, in: os.NewFile(uintptr(fd), "inotify"), done: make(chan struct{}), off: st.Size()}
	go l.run()
	return l, nil
}

func (l *logFollower) run() {
	defer close(l.done)
	buf := make([]byte, 4096)
	for {
		l.drain()
		if _, err := l.in.Read(buf); err != nil {
			l.drain()
			return
		}
	}
}

// drain reads what was appended since the last call.
func (l *logFollower) drain() {
	buf := make([]byte, 64<<10)
	for {
		n, err := l.f.ReadAt(buf, l.off)
		now := time.Now()
		if n > 0 {
			l.mu.Lock()
			l.off += int64(n)
			l.partial = append(l.partial, buf[:n]...)
			for {
				i := bytes.IndexByte(l.partial, '\n')
				if i < 0 {
					break
				}
				l.lines = append(l.lines, logLine{text: string(l.partial[:i]), seen: now})
				l.partial = l.partial[i+1:]
			}
			l.mu.Unlock()
		}
		if err != nil || n < len(buf) {
			return
		}
	}
}

// mark is the number of lines read so far: waitFor(mark(), ...) looks only
// at lines that come later.
func (l *logFollower) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// waitFor waits until a line from index from on contains every substring,
// and returns it with its index.
func (l *logFollower) waitFor(from int, timeout time.Duration, substr ...string) (logLine, int, error) {
	deadline := time.Now().Add(timeout)
	for {
		l.mu.Lock()
		for i := from; i < len(l.lines); i++ {
			if containsAll(l.lines[i].text, substr) {
				ln := l.lines[i]
				l.mu.Unlock()
				return ln, i, nil
			}
		}
		from = max(from, len(l.lines))
		l.mu.Unlock()
		if time.Now().After(deadline) {
			return logLine{}, -1, fmt.Errorf("no line with %q in %s within %v", substr, l.path, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// since returns the lines from index from on.
func (l *logFollower) since(from int) []logLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	if from > len(l.lines) {
		return nil
	}
	return slices.Clone(l.lines[from:])
}

func (l *logFollower) close() {
	l.in.Close()
	select {
	case <-l.done:
	case <-time.After(2 * time.Second):
	}
	l.f.Close()
}

func containsAll(s string, subs []string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

// logField returns the value of a zap console field ("took": "1.2ms") in the
// JSON part of a log line.
func logField(line, key string) string {
	k := `"` + key + `": "`
	i := strings.Index(line, k)
	if i < 0 {
		return ""
	}
	rest := line[i+len(k):]
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return rest[:j]
}

// ---------------------------------------------------------------------------
// Address watcher: when the kernel of a host added or removed an address.

// addrWatch records, per address, the first RTM_NEWADDR and RTM_DELADDR
// notification of a host's network namespace after the watch began.
type addrWatch struct {
	stop  chan struct{}
	mu    sync.Mutex
	added map[netip.Addr]time.Time
	gone  map[netip.Addr]time.Time
	errs  []error
}

func watchAddrs(h *testbed.Host) (*addrWatch, error) {
	w := &addrWatch{stop: make(chan struct{}), added: map[netip.Addr]time.Time{}, gone: map[netip.Addr]time.Time{}}
	ch := make(chan netlink.AddrUpdate, 4096)
	done := make(chan struct{})
	// The subscription socket is opened by the calling thread, so inside
	// the host's namespace; the library's reader goroutine only uses it.
	err := h.Do(func() error {
		return netlink.AddrSubscribeWithOptions(ch, done, netlink.AddrSubscribeOptions{
			ReceiveBufferSize: 1 << 20,
			ErrorCallback: func(err error) {
				w.mu.Lock()
				w.errs = append(w.errs, err)
				w.mu.Unlock()
			},
		})
	})
	if err != nil {
		return nil, fmt.Errorf("netlink subscribe in %s: %w", h.Name, err)
	}
	go func() {
		defer close(done)
		for {
			select {
			case <-w.stop:
				return
			case u, ok := <-ch:
				if !ok {
					return
				}
				now := time.Now()
				a, ok := netip.AddrFromSlice(u.LinkAddress.IP)
				if !ok {
					continue
				}
				a = a.Unmap()
				w.mu.Lock()
				m := w.gone
				if u.NewAddr {
					m = w.added
				}
				if _, seen := m[a]; !seen {
					m[a] = now
				}
				w.mu.Unlock()
			}
		}
	}()
	return w, nil
}

// addedAt is when addr was first added after the watch began.
func (w *addrWatch) addedAt(a netip.Addr) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.added[a]
	return t, ok
}

// goneAt is when addr was first removed after the watch began.
func (w *addrWatch) goneAt(a netip.Addr) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.gone[a]
	return t, ok
}

func (w *addrWatch) close() error {
	close(w.stop)
	w.mu.Lock()
	defer w.mu.Unlock()
	return errors.Join(w.errs...)
}

// ---------------------------------------------------------------------------
// HTTP prober: the client asks every target every "every", each request on
// a new TCP connection, in parallel (a request to a dead node must not
// delay the next one).

// probe is one request of the client.
type probe struct {
	target int       // index into the prober's targets
	sent   time.Time // connect() called (the SYN leaves at once)
	done   time.Time // answer complete, or the attempt given up
	node   string    // who answered ("node1"); "" if nobody
	err    error
}

func (p probe) ok() bool { return p.node != "" }

type prober struct {
	host    *testbed.Host
	targets []netip.Addr
	every   time.Duration
	timeout time.Duration

	stopCh   chan struct{}
	loopDone chan error
	wg       sync.WaitGroup
	gcPct    int

	mu     sync.Mutex
	probes []probe
	late   int // ticks skipped because the loop fell behind
}

// proberRTPrio is the prober thread's SCHED_FIFO priority.
const proberRTPrio = 90

var httpReq = []byte("GET / HTTP/1.0\r\nHost: vip\r\n\r\n")

// startProber begins probing targets (port 80) from h.
func startProber(h *testbed.Host, targets []netip.Addr, every, timeout time.Duration) *prober {
	p := &prober{host: h, targets: targets, every: every, timeout: timeout,
		stopCh: make(chan struct{}), loopDone: make(chan error, 1)}
	// No garbage collection while probing: a stop-the-world phase waits
	// for every thread of this process, and one that the daemons' SCHED_RR
	// threads keep off the CPU would pause the prober for milliseconds.
	// A trial allocates a few MB at most; stop collects them.
	p.gcPct = debug.SetGCPercent(-1)
	go func() {
		// The loop runs on a thread inside the client's namespace, where
		// every socket is created; the goroutines that finish the requests
		// only use those sockets.
		p.loopDone <- h.Do(p.loop)
	}()
	return p
}

func (p *prober) loop() error {
	// The client stands for a machine of its own: its sending thread gets
	// the CPU when its timer fires (SCHED_FIFO, above the daemons' SCHED_RR
	// 50, for the few tens of microseconds a tick takes), so that what it
	// measures is the cluster, not the two CPUs it shares with it. The policy is
	// reset before the thread goes back to the runtime's pool; if that
	// fails, the extra lock makes the runtime end the thread instead.
	runtime.LockOSThread()
	if unix.SchedSetAttr(0, &unix.SchedAttr{Policy: unix.SCHED_FIFO, Priority: proberRTPrio}, 0) == nil {
		defer func() {
			if unix.SchedSetAttr(0, &unix.SchedAttr{Policy: unix.SCHED_NORMAL}, 0) == nil {
				runtime.UnlockOSThread()
			}
		}()
	} else {
		runtime.UnlockOSThread()
	}
	next := time.Now()
	for {
		select {
		case <-p.stopCh:
			return nil
		default:
		}
		if d := time.Until(next); d > 0 {
			// nanosleep on this locked thread: time.Sleep rounds short
			// sleeps up to the runtime's timer granularity.
			ts := unix.NsecToTimespec(int64(d))
			for unix.Nanosleep(&ts, &ts) == unix.EINTR {
			}
		}
		for i, a := range p.targets {
			p.launch(i, a)
		}
		next = next.Add(p.every)
		if now := time.Now(); next.Before(now) {
			skipped := int(now.Sub(next)/p.every) + 1
			next = next.Add(time.Duration(skipped) * p.every)
			p.mu.Lock()
			p.late += skipped
			p.mu.Unlock()
		}
	}
}

func (p *prober) record(pr probe) {
	p.mu.Lock()
	p.probes = append(p.probes, pr)
	p.mu.Unlock()
}

// launch opens a non-blocking socket, starts the connect and hands the rest
// to a goroutine.
func (p *prober) launch(i int, a netip.Addr) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	sent := time.Now()
	if err != nil {
		p.record(probe{target: i, sent: sent, done: sent, err: err})
		return
	}
	// Close with RST: no TIME_WAIT pile-up at a thousand connections a second.
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	sent = time.Now()
	err = unix.Connect(fd, &unix.SockaddrInet4{Port: 80, Addr: a.As4()})
	if err != nil && !errors.Is(err, unix.EINPROGRESS) {
		unix.Close(fd)
		p.record(probe{target: i, sent: sent, done: time.Now(), err: err})
		return
	}
	p.wg.Add(1)
	go p.finish(i, fd, sent)
}

// finish writes the request (the write waits for the connection) and reads
// the answer, all before sent+timeout.
func (p *prober) finish(i, fd int, sent time.Time) {
	defer p.wg.Done()
	f := os.NewFile(uintptr(fd), "probe")
	defer f.Close()
	pr := probe{target: i, sent: sent}
	_ = f.SetDeadline(sent.Add(p.timeout))
	var body []byte
	_, err := f.Write(httpReq)
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(f, 4096))
	}
	pr.done = time.Now()
	if err != nil {
		pr.err = err
	} else if _, rest, ok := bytes.Cut(body, []byte("hello from ")); ok {
		pr.node = strings.TrimSpace(string(rest))
	} else {
		pr.err = fmt.Errorf("unexpected answer %q", body)
	}
	p.record(pr)
}

// stop ends probing, waits for the requests in flight and returns every
// probe ordered by the time it was sent, and how many ticks were skipped.
func (p *prober) stop() ([]probe, int, error) {
	close(p.stopCh)
	var err error
	select {
	case err = <-p.loopDone:
	case <-time.After(5 * time.Second):
		err = errors.New("prober loop did not stop")
	}
	waited := make(chan struct{})
	go func() { p.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(p.timeout + 5*time.Second):
		err = errors.Join(err, errors.New("probes still in flight after their deadline"))
	}
	debug.SetGCPercent(p.gcPct)
	p.mu.Lock()
	defer p.mu.Unlock()
	out := slices.Clone(p.probes)
	slices.SortFunc(out, func(a, b probe) int { return a.sent.Compare(b.sent) })
	return out, p.late, err
}

// snapshot returns the probes recorded so far (unordered).
func (p *prober) snapshot() []probe {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.probes)
}

// firstAnswer is the earliest completed answer from node (for target, or
// any target if target < 0) that was sent at or after after.
func firstAnswer(probes []probe, node string, target int, after time.Time) (probe, bool) {
	var best probe
	found := false
	for _, p := range probes {
		if p.node != node || (target >= 0 && p.target != target) || p.sent.Before(after) {
			continue
		}
		if !found || p.done.Before(best.done) {
			best, found = p, true
		}
	}
	return best, found
}

// outageResult is the client's view of one move of the service.
type outageResult struct {
	gap      time.Duration // first answer of newNode minus last answer of oldNode before it
	lastOld  time.Time
	firstNew time.Time
	failed   int           // probes without an answer sent between the two
	oldAfter int           // answers of oldNode after the first of newNode (should be 0)
	gapAfter time.Duration // the longest gap between answers after firstNew (flapping)
	sendGap  time.Duration // the longest pause of the prober between lastOld and firstNew
}

func (r outageResult) String() string {
	return fmt.Sprintf("outage %v, %d probes unanswered, %d old answers after the first new one, longest gap after it %v, prober's longest pause in the outage %v",
		r.gap.Round(time.Microsecond), r.failed, r.oldAfter, r.gapAfter.Round(time.Microsecond), r.sendGap.Round(time.Microsecond))
}

// outage computes the gap for target (or all targets if target < 0). The
// answers of newNode are looked for from after on.
func outage(probes []probe, oldNode, newNode string, target int, after time.Time) (outageResult, error) {
	var r outageResult
	first, ok := firstAnswer(probes, newNode, target, after)
	if !ok {
		return r, fmt.Errorf("no answer from %s", newNode)
	}
	r.firstNew = first.done
	var ok2 bool
	var lastDone []time.Time
	for _, p := range probes {
		if target >= 0 && p.target != target {
			continue
		}
		switch {
		case p.node == oldNode && !p.done.After(r.firstNew):
			if !ok2 || p.done.After(r.lastOld) {
				r.lastOld, ok2 = p.done, true
			}
		case p.node == oldNode:
			r.oldAfter++
		}
		if p.ok() && !p.done.Before(r.firstNew) {
			lastDone = append(lastDone, p.done)
		}
	}
	if !ok2 {
		return r, fmt.Errorf("no answer from %s before the first from %s", oldNode, newNode)
	}
	r.gap = r.firstNew.Sub(r.lastOld)
	for _, p := range probes {
		if (target < 0 || p.target == target) && !p.ok() && p.sent.After(r.lastOld) && p.sent.Before(r.firstNew) {
			r.failed++
		}
	}
	// A stalled prober would inflate the gap: measure its longest pause.
	var sends []time.Time
	for _, p := range probes {
		if !p.sent.Before(r.lastOld.Add(-probeTimeout)) && !p.sent.After(r.firstNew) {
			sends = append(sends, p.sent)
		}
	}
	slices.SortFunc(sends, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(sends); i++ {
		if sends[i].After(r.lastOld) {
			r.sendGap = max(r.sendGap, sends[i].Sub(sends[i-1]))
		}
	}
	slices.SortFunc(lastDone, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(lastDone); i++ {
		r.gapAfter = max(r.gapAfter, lastDone[i].Sub(lastDone[i-1]))
	}
	return r, nil
}
