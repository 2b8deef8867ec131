package serial

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/heartbeat/link"
	"github.com/hasuite/hasuite/heartbeat/msg"
)

// fastBaud keeps the paced tests quick.
const fastBaud = 460800

// seqOf decodes a packet and returns its seq (-1 if it does not decode).
func seqOf(t *testing.T, p link.Packet) int {
	t.Helper()
	m, err := msg.Decode(p.Data, testKeyring(t))
	if err != nil {
		return -1
	}
	n, err := strconv.ParseInt(m.Str(msg.FSeq), 16, 64)
	if err != nil {
		t.Fatalf("bad seq in %q", p.Data)
	}
	return int(n)
}

// decodedSeqs returns the seqs of the packets that authenticate, in order.
func decodedSeqs(t *testing.T, ps []link.Packet) []int {
	var out []int
	for _, p := range ps {
		if s := seqOf(t, p); s >= 0 {
			out = append(out, s)
		}
	}
	return out
}

func hasSeq(t *testing.T, ps []link.Packet, seq int) bool {
	for _, p := range ps {
		if seqOf(t, p) == seq {
			return true
		}
	}
	return false
}

func TestSendReceiveBothWays(t *testing.T) {
	c := newCable(t)
	sa, sb := newSink(), newSink()
	a := openPort(t, c.Path(0), fastBaud, sa)
	b := openPort(t, c.Path(1), fastBaud, sb)
	if a.Name() != c.Path(0) {
		t.Errorf("Name = %q, want the tty path %q", a.Name(), c.Path(0))
	}
	kr := testKeyring(t)
	var sent [][]byte
	for i := 1; i <= 5; i++ {
		f := statusFrame(t, kr, "alpha", i, 0)
		sent = append(sent, f)
		if err := a.Send(f); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if err := b.Send(statusFrame(t, kr, "beta", 100+i, 0)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	got := sb.waitCount(t, 5)
	for i, p := range got {
		if p.Link != c.Path(1) || p.From.IsValid() {
			t.Errorf("packet %d: Link %q From %v, want %q and no address", i, p.Link, p.From, c.Path(1))
		}
		if !bytes.Equal(p.Data, sent[i]) {
			t.Errorf("packet %d: %q, want %q", i, p.Data, sent[i])
		}
		m, err := msg.Decode(p.Data, kr)
		if err != nil {
			t.Fatalf("packet %d does not decode: %v", i, err)
		}
		if m.Str(msg.FSrc) != "alpha" || string(must(m.Bytes(msg.FSrcUUID))) != "0123456789abcdef" {
			t.Errorf("packet %d: decoded %v", i, m)
		}
	}
	if seqs := decodedSeqs(t, sa.waitCount(t, 5)); fmt.Sprint(seqs) != "[101 102 103 104 105]" {
		t.Errorf("b->a seqs %v", seqs)
	}
	if st := b.Stats(); st.Frames != 5 || st.BadFrames != 0 || !st.Up {
		t.Errorf("b stats %+v", st)
	}
}

func must(b []byte, ok bool) []byte {
	if !ok {
		return nil
	}
	return b
}

func TestLargeFrameCrossesChunks(t *testing.T) {
	c := newCable(t)
	sb := newSink()
	a := openPort(t, c.Path(0), fastBaud, newSink())
	openPort(t, c.Path(1), fastBaud, sb)
	f := statusFrame(t, testKeyring(t), "alpha", 1, 6000) // 12 chunks
	if err := a.Send(f); err != nil {
		t.Fatal(err)
	}
	got := sb.waitCount(t, 1)
	if !bytes.Equal(got[0].Data, f) || seqOf(t, got[0]) != 1 {
		t.Fatalf("large frame arrived as %d bytes, want %d", len(got[0].Data), len(f))
	}
}

func TestTermios(t *testing.T) {
	for _, tt := range []struct {
		baud  int
		flow  bool
		speed uint32
	}{
		{0, false, unix.B19200},
		{9600, false, unix.B9600},
		{115200, true, unix.B115200},
		{460800, false, unix.B460800},
	} {
		t.Run(fmt.Sprint(tt.baud, tt.flow), func(t *testing.T) {
			c := newCable(t)
			l, err := Open(Config{Path: c.Path(0), Baud: tt.baud, FlowControl: tt.flow, LockDir: t.TempDir()}, newSink().deliver)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			// The test's own descriptor of the slave sees the line settings.
			tio, err := unix.IoctlGetTermios(int(c.Slave(0).Fd()), unix.TCGETS)
			if err != nil {
				t.Fatal(err)
			}
			if got := tio.Cflag & unix.CBAUD; got != tt.speed {
				t.Errorf("speed bits %#x, want %#x", got, tt.speed)
			}
			if tio.Cflag&unix.CSIZE != unix.CS8 || tio.Cflag&(unix.PARENB|unix.CSTOPB) != 0 {
				t.Errorf("cflag %#x: want 8N1", tio.Cflag)
			}
			if tio.Cflag&(unix.CREAD|unix.CLOCAL) != unix.CREAD|unix.CLOCAL {
				t.Errorf("cflag %#x: want CREAD|CLOCAL", tio.Cflag)
			}
			if got := tio.Cflag&unix.CRTSCTS != 0; got != tt.flow {
				t.Errorf("CRTSCTS %v, want %v", got, tt.flow)
			}
			if tio.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG|unix.IEXTEN) != 0 || tio.Oflag&unix.OPOST != 0 {
				t.Errorf("not raw: lflag %#x oflag %#x", tio.Lflag, tio.Oflag)
			}
			if tio.Iflag&(unix.ISTRIP|unix.IGNCR|unix.ICRNL|unix.IXON|unix.BRKINT) != 0 || tio.Iflag&unix.IGNBRK == 0 {
				t.Errorf("iflag %#x: want 8-bit clean, no mapping, IGNBRK", tio.Iflag)
			}
			if tio.Cc[unix.VMIN] != 1 || tio.Cc[unix.VTIME] != 0 {
				t.Errorf("VMIN %d VTIME %d", tio.Cc[unix.VMIN], tio.Cc[unix.VTIME])
			}
		})
	}
}

// TestGarbageBetweenFrames injects line noise, including a false start
// that never ends, between frames.
func TestGarbageBetweenFrames(t *testing.T) {
	c := newCable(t)
	sb := newSink()
	a := openPort(t, c.Path(0), fastBaud, newSink())
	b := openPort(t, c.Path(1), fastBaud, sb)
	kr := testKeyring(t)
	for i, noise := range []string{
		"\x00\x00\xff\xfe garbage\r\n\n<<<\n",
		"more noise without newline",
		">>>\nt=fake\nsrc=nobody\n", // a false start, cut by the next frame
		"\x7f\x80>>",                // glued to the next frame's start line
	} {
		if err := c.Inject(1, []byte(noise)); err != nil {
			t.Fatalf("inject: %v", err)
		}
		if err := a.Send(statusFrame(t, kr, "alpha", i+1, 0)); err != nil {
			t.Fatal(err)
		}
		sb.waitFor(t, fmt.Sprint("frame ", i+1), func(ps []link.Packet) bool { return hasSeq(t, ps, i+1) })
	}
	if st := b.Stats(); st.BadFrames != 1 {
		t.Errorf("BadFrames = %d, want 1 (the false start)", st.BadFrames)
	}
}

// TestCutMidFrame loses the second half of a frame (cable pulled and put
// back): that frame is lost, the next ones arrive.
func TestCutMidFrame(t *testing.T) {
	c := newCable(t)
	sb := newSink()
	a := openPort(t, c.Path(0), fastBaud, newSink())
	openPort(t, c.Path(1), fastBaud, sb)
	kr := testKeyring(t)
	f1 := statusFrame(t, kr, "alpha", 1, 0)
	from, to := len(f1)/2, len(f1)
	c.SetFilter(0, func(off int, p []byte) []byte {
		var out []byte
		for i, b := range p {
			if o := off + i; o < from || o >= to {
				out = append(out, b)
			}
		}
		return out
	})
	for i := 1; i <= 3; i++ {
		if err := a.Send(statusFrame(t, kr, "alpha", i, 0)); err != nil {
			t.Fatal(err)
		}
	}
	got := sb.waitFor(t, "frame 3", func(ps []link.Packet) bool { return hasSeq(t, ps, 3) })
	if seqs := decodedSeqs(t, got); fmt.Sprint(seqs) != "[2 3]" {
		t.Errorf("authenticated seqs %v, want [2 3]", seqs)
	}
}

// TestNoisyCable flips bits in some frames and splits everything the
// cable carries at random offsets: every frame the noise missed arrives
// and authenticates, no damaged one does.
func TestNoisyCable(t *testing.T) {
	c := newCable(t)
	sb := newSink()
	a := openPort(t, c.Path(0), fastBaud, newSink())
	openPort(t, c.Path(1), fastBaud, sb)
	kr := testKeyring(t)
	r := rand.New(rand.NewPCG(42, 1))
	type span struct{ from, to int }
	var frames [][]byte
	var spans []span
	off := 0
	for i := 1; i <= 30; i++ {
		f := statusFrame(t, kr, "alpha", i, r.IntN(700))
		frames = append(frames, f)
		spans = append(spans, span{off, off + len(f)})
		off += len(f)
	}
	damaged := map[int]bool{}
	flips := map[int]byte{} // stream offset -> bit mask
	for _, i := range []int{3, 4, 10, 17, 29} {
		damaged[i+1] = true
		s := spans[i]
		flips[s.from+r.IntN(s.to-s.from)] = 1 << r.IntN(8)
	}
	c.SetFilter(0, func(off int, p []byte) []byte {
		for i := range p {
			p[i] ^= flips[off+i]
		}
		return p
	})
	split := rand.New(rand.NewPCG(42, 2))
	c.SetSplit(0, func(p []byte) [][]byte { return splitRandom(split, p) })
	for _, f := range frames {
		if err := a.Send(f); err != nil {
			t.Fatal(err)
		}
	}
	got := sb.waitFor(t, "frame 30", func(ps []link.Packet) bool {
		// the last frame is damaged: wait for the last intact one
		return hasSeq(t, ps, 29)
	})
	var want []int
	for i := 1; i <= 29; i++ {
		if !damaged[i] {
			want = append(want, i)
		}
	}
	if seqs := decodedSeqs(t, got); fmt.Sprint(seqs) != fmt.Sprint(want) {
		t.Errorf("authenticated seqs %v, want %v", seqs, want)
	}
}

// TestBurstIsPacedAndNeverBlocks sends a burst at 9600 baud: Send returns
// at once for every frame, and the frames arrive later, all, in order.
func TestBurstIsPacedAndNeverBlocks(t *testing.T) {
	c := newCable(t)
	sb := newSink()
	a := openPort(t, c.Path(0), 9600, newSink())
	openPort(t, c.Path(1), 9600, sb)
	kr := testKeyring(t)
	done := make(chan error, 1)
	go func() {
		for i := 1; i <= 20; i++ {
			if err := a.Send(statusFrame(t, kr, "alpha", i, 0)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
	case <-time.After(waitBound):
		t.Fatal("Send blocked")
	}
	got := sb.waitCount(t, 20)
	var want []int
	for i := 1; i <= 20; i++ {
		want = append(want, i)
	}
	if seqs := decodedSeqs(t, got); fmt.Sprint(seqs) != fmt.Sprint(want) {
		t.Errorf("seqs %v, want %v", seqs, want)
	}
}

// TestStoppedLine stops the line (as RTS/CTS does when the cable is cut):
// writes time out and are counted, Send never blocks and drops frames
// when the queue is full, and when the line runs again new frames arrive.
func TestStoppedLine(t *testing.T) {
	c := newCable(t)
	sb := newSink()
	a := openPort(t, c.Path(0), fastBaud, newSink())
	openPort(t, c.Path(1), fastBaud, sb)
	kr := testKeyring(t)
	c.Stop(0)
	seq := 0
	sendBurst := func(n, pad int) (full int) {
		t.Helper()
		done := make(chan int, 1)
		go func() {
			full := 0
			for range n {
				seq++
				switch err := a.Send(statusFrame(t, kr, "alpha", seq, pad)); {
				case errors.Is(err, ErrQueueFull):
					full++
				case err != nil:
					t.Errorf("Send: %v", err)
				}
			}
			done <- full
		}()
		select {
		case full = <-done:
		case <-time.After(waitBound):
			t.Fatal("Send blocked")
		}
		return full
	}
	// Fill the pty with big frames until the writer's deadline fires (at
	// about the line rate, so that little backlog is left to drain later).
	eventually(t, "a write timeout", func() bool {
		sendBurst(1, 4000)
		time.Sleep(80 * time.Millisecond)
		return a.Stats().WriteErrors > 0
	})
	// The writer now gives up a frame per timeout: a burst fills the queue.
	t.Logf("timeout: %+v", a.Stats())
	if full := sendBurst(100, 0); full == 0 {
		t.Error("no Send reported a full queue while the line was stopped")
	}
	st := a.Stats()
	if st.Dropped == 0 || !st.Up {
		t.Errorf("stats %+v: want drops counted, link still up", st)
	}
	t.Logf("stalled: %+v", a.Stats())
	c.Resume(0)
	// Once the backlog drained, a new frame arrives intact.
	eventually(t, "the line to run again", func() bool {
		seq++
		if err := a.Send(statusFrame(t, kr, "alpha", seq, 0)); err != nil && !errors.Is(err, ErrQueueFull) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		sb.mu.Lock()
		defer sb.mu.Unlock()
		return hasSeq(t, sb.packets, seq)
	})
}

// TestTTYDisappears unplugs the device under a stable path (a symlink, as
// /dev/serial/by-id): the link goes down without harm, Send fails, and
// when a device appears at the path again the link reopens it and works.
// (A pty cannot come back under the same /dev/pts name, so the symlink is
// what is re-pointed, as udev re-points by-id links.)
func TestTTYDisappears(t *testing.T) {
	old := reopenEvery
	reopenEvery = 10 * time.Millisecond
	t.Cleanup(func() { reopenEvery = old })

	c := newCable(t)
	dir := t.TempDir()
	link0 := filepath.Join(dir, "ttyHB0")
	repoint := func(target string) {
		t.Helper()
		tmp := link0 + ".new"
		if err := os.Symlink(target, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, link0); err != nil {
			t.Fatal(err)
		}
	}
	repoint(c.Path(0))
	sa, sb := newSink(), newSink()
	locks := t.TempDir()
	a := openPortLocks(t, link0, fastBaud, locks, sa)
	b := openPort(t, c.Path(1), fastBaud, sb)
	kr := testKeyring(t)
	if err := a.Send(statusFrame(t, kr, "alpha", 1, 0)); err != nil {
		t.Fatal(err)
	}
	sb.waitFor(t, "frame 1", func(ps []link.Packet) bool { return hasSeq(t, ps, 1) })

	// Unplug: the path disappears and the device hangs up.
	if err := os.Remove(link0); err != nil {
		t.Fatal(err)
	}
	c.Unplug(0)
	eventually(t, "the link to go down", func() bool { return !a.Stats().Up })
	if err := a.Send(statusFrame(t, kr, "alpha", 2, 0)); !errors.Is(err, ErrDown) {
		t.Errorf("Send while down = %v, want ErrDown", err)
	}
	if st := a.Stats(); st.ReadErrors != 1 || st.Reopens != 0 {
		t.Errorf("stats while down %+v", st)
	}
	if _, err := os.Stat(filepath.Join(locks, "LCK..ttyHB0")); err != nil {
		t.Errorf("lock not kept while down: %v", err)
	}

	// Plug in again.
	c.Plug(0)
	repoint(c.Path(0))
	eventually(t, "the link to come back", func() bool { return a.Stats().Up })
	if st := a.Stats(); st.Reopens != 1 {
		t.Errorf("stats after reopen %+v", st)
	}
	if err := a.Send(statusFrame(t, kr, "alpha", 3, 0)); err != nil {
		t.Fatal(err)
	}
	sb.waitFor(t, "frame 3", func(ps []link.Packet) bool { return hasSeq(t, ps, 3) })
	// The line settings were applied again: the other way works too.
	if err := b.Send(statusFrame(t, kr, "beta", 4, 0)); err != nil {
		t.Fatal(err)
	}
	sa.waitFor(t, "frame 4", func(ps []link.Packet) bool { return hasSeq(t, ps, 4) })
}

// TestCloseWhileDown: Close ends the reopen loop and releases the lock.
func TestCloseWhileDown(t *testing.T) {
	c := newCable(t)
	locks := t.TempDir()
	l, err := Open(Config{Path: c.Path(0), Baud: fastBaud, LockDir: locks}, newSink().deliver)
	if err != nil {
		t.Fatal(err)
	}
	p := l.(*Port)
	c.Unplug(0)
	eventually(t, "the link to go down", func() bool { return !p.Stats().Up })
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(locks, "LCK.."+filepath.Base(c.Path(0)))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file after Close: %v", err)
	}
}

// TestCloseStopsEverything: Close returns after the goroutines ended, no
// packet is delivered after it, and Send then fails.
func TestCloseStopsEverything(t *testing.T) {
	c := newCable(t)
	sb := newSink()
	a := openPort(t, c.Path(0), fastBaud, newSink())
	l, err := Open(Config{Path: c.Path(1), Baud: fastBaud, LockDir: t.TempDir()}, sb.deliver)
	if err != nil {
		t.Fatal(err)
	}
	kr := testKeyring(t)
	var wg sync.WaitGroup
	wg.Go(func() { // keep frames coming while b closes
		for i := 1; i <= 200; i++ {
			_ = a.Send(statusFrame(t, kr, "alpha", i, 0))
		}
	})
	sb.waitCount(t, 1)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	sb.mu.Lock()
	sb.closed = true
	sb.mu.Unlock()
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := l.Send(statusFrame(t, kr, "beta", 1, 0)); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	wg.Wait()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.late != 0 {
		t.Errorf("%d packets delivered after Close", sb.late)
	}
}

func TestSendRejectsNonFrames(t *testing.T) {
	c := newCable(t)
	a := openPort(t, c.Path(0), fastBaud, newSink())
	for _, b := range [][]byte{
		nil,
		[]byte("###\n3:a=b,%%%\n"),
		[]byte(">>>\na=b\n"),
		[]byte("a=b\n<<<\n"),
		[]byte(">>><<<\n"),
		append(append([]byte(">>>\n"), bytes.Repeat([]byte("x"), msg.MaxWire)...), "\n<<<\n"...),
	} {
		if err := a.Send(b); !errors.Is(err, ErrNotFrame) {
			t.Errorf("Send(%.20q…) = %v, want ErrNotFrame", b, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	c := newCable(t)
	dir := t.TempDir()
	regular := filepath.Join(dir, "file")
	if err := os.WriteFile(regular, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"empty path", Config{}, "missing tty path"},
		{"relative path", Config{Path: "ttyS0"}, "must be absolute"},
		{"root", Config{Path: "/"}, "names no device"},
		{"bad baud", Config{Path: c.Path(0), Baud: 12345}, "unsupported baud rate 12345"},
		{"relative lock dir", Config{Path: c.Path(0), LockDir: "lock"}, "must be absolute"},
		{"missing device", Config{Path: filepath.Join(dir, "ttyUSB9")}, "no such file"},
		{"regular file", Config{Path: regular}, "not a character device"},
		{"not a tty", Config{Path: "/dev/null"}, "not a terminal"},
		{"missing lock dir", Config{Path: c.Path(0), LockDir: filepath.Join(dir, "nolock")}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cfg.LockDir == "" {
				tt.cfg.LockDir = t.TempDir()
			}
			l, err := Open(tt.cfg, newSink().deliver)
			if err == nil {
				l.Close()
				t.Fatalf("Open succeeded")
			}
			if !bytes.Contains([]byte(err.Error()), []byte(tt.want)) {
				t.Fatalf("Open: %v, want %q", err, tt.want)
			}
			// A failed Open leaves no lock behind.
			if ents, _ := os.ReadDir(tt.cfg.LockDir); len(ents) != 0 && filepath.IsAbs(tt.cfg.LockDir) {
				t.Errorf("lock dir not empty after failed Open: %v", ents)
			}
		})
	}
	if _, err := Open(Config{Path: c.Path(0)}, nil); err == nil {
		t.Error("Open with nil deliver succeeded")
	}
}

// fakeTTY records what writeFrame does.
type fakeTTY struct {
	chunks    []int
	deadlines int
	failAt    int // chunk index whose write fails (-1: none)
}

func (f *fakeTTY) SetWriteDeadline(time.Time) error { f.deadlines++; return nil }

func (f *fakeTTY) Write(b []byte) (int, error) {
	if len(f.chunks) == f.failAt {
		return 0, os.ErrDeadlineExceeded
	}
	f.chunks = append(f.chunks, len(b))
	return len(b), nil
}

func TestWriteFrameChunksAndPaces(t *testing.T) {
	tests := []struct {
		size   int
		baud   int
		failAt int
		chunks []int
		pauses []time.Duration
		err    error
	}{
		{300, 19200, -1, []int{300}, []time.Duration{156250 * time.Microsecond}, nil},
		{512, 9600, -1, []int{512}, []time.Duration{533333333}, nil},
		{1300, 19200, -1, []int{512, 512, 276}, []time.Duration{266666666, 266666666, 143750 * time.Microsecond}, nil},
		{1300, 19200, 1, []int{512}, []time.Duration{266666666}, os.ErrDeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.size, "@", tt.baud), func(t *testing.T) {
			var pauses []time.Duration
			p := &Port{cfg: Config{Baud: tt.baud}, wtimeout: writeTimeout}
			p.sleep = func(d time.Duration) bool { pauses = append(pauses, d); return true }
			w := &fakeTTY{failAt: tt.failAt}
			err := p.writeFrame(w, make([]byte, tt.size))
			if !errors.Is(err, tt.err) {
				t.Errorf("err %v, want %v", err, tt.err)
			}
			if fmt.Sprint(w.chunks) != fmt.Sprint(tt.chunks) || fmt.Sprint(pauses) != fmt.Sprint(tt.pauses) {
				t.Errorf("chunks %v pauses %v, want %v %v", w.chunks, pauses, tt.chunks, tt.pauses)
			}
			if w.deadlines != len(tt.chunks)+boolInt(tt.err != nil) {
				t.Errorf("%d deadlines for %d writes", w.deadlines, len(tt.chunks))
			}
		})
	}
	// Close during the pause ends the frame.
	p := &Port{cfg: Config{Baud: 9600}, wtimeout: writeTimeout}
	p.sleep = func(time.Duration) bool { return false }
	if err := p.writeFrame(&fakeTTY{failAt: -1}, make([]byte, 2000)); !errors.Is(err, ErrClosed) {
		t.Errorf("closing during pause: %v", err)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestQueueBounds(t *testing.T) {
	// A Port whose writer never runs: only Send's bookkeeping is tested.
	p := &Port{cfg: Config{Path: "/dev/ttyX", Baud: 9600}, queueBytes: 9600 / bitsPerByte * queueSeconds,
		wake: make(chan struct{}, 1), f: os.Stdin}
	frame := func(n int) []byte {
		return append(append([]byte(">>>\n"), bytes.Repeat([]byte("x"), n-8)...), "<<<\n"...)
	}
	// Larger than the whole budget: accepted into the empty queue.
	if err := p.Send(frame(10000)); err != nil {
		t.Fatalf("big frame into empty queue: %v", err)
	}
	if err := p.Send(frame(100)); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("over the byte budget: %v", err)
	}
	p.queue, p.queued = nil, 0
	n := 0
	for p.Send(frame(10)) == nil {
		n++
	}
	if n != maxQueueFrames || p.Stats().Dropped != 2 {
		t.Errorf("queued %d small frames (want %d), dropped %d", n, maxQueueFrames, p.Stats().Dropped)
	}
}
