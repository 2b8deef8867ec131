package e2e

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// stuckLog is a FIFO used as a node's logfile: while the test does not
// read it and it is full, every write to it blocks, as a write to a log on
// a disk that has stopped answering (or to a busy journald) does.
type stuckLog struct {
	t      *testing.T
	path   string
	rd, wr int // the test's non-blocking ends
}

func newStuckLog(t *testing.T, path string) *stuckLog {
	t.Helper()
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	// The read end first: opening the write end (ours and the daemon's)
	// needs a reader.
	rd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	wr, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(rd)
		t.Fatal(err)
	}
	l := &stuckLog{t: t, path: path, rd: rd, wr: wr}
	t.Cleanup(func() { unix.Close(l.wr); unix.Close(l.rd) })
	return l
}

// fill writes filler lines until the FIFO is full.
func (l *stuckLog) fill() {
	l.t.Helper()
	line := append(bytes.Repeat([]byte("."), 511), '\n')
	for {
		if _, err := unix.Write(l.wr, line); err != nil {
			if errors.Is(err, unix.EAGAIN) {
				return
			}
			l.t.Fatalf("filling %s: %v", l.path, err)
		}
	}
}

// readUntil reads what the FIFO holds until what was read holds want,
// bounded by timeout, and returns it (without the filler lines).
func (l *stuckLog) readUntil(want string, timeout time.Duration) string {
	l.t.Helper()
	var got bytes.Buffer
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(timeout)
	for !bytes.Contains(got.Bytes(), []byte(want)) {
		n, err := unix.Read(l.rd, buf)
		switch {
		case n > 0:
			got.Write(buf[:n])
		case errors.Is(err, unix.EAGAIN) || n == 0:
			if time.Now().After(deadline) {
				l.t.Fatalf("%s: no %q within %v; read:\n%s", l.path, want, timeout, withoutFiller(got.Bytes()))
			}
			time.Sleep(e2ekit.SlowPoll)
		default:
			l.t.Fatalf("reading %s: %v", l.path, err)
		}
	}
	return withoutFiller(got.Bytes())
}

func withoutFiller(b []byte) string {
	var out bytes.Buffer
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		if len(bytes.Trim(l, ".\n")) > 0 {
			out.Write(l)
		}
	}
	return out.String()
}

// TestABlockedLogNeitherStallsTheHeartbeatNorTheStop gives node1 a logfile
// that blocks every write (a full FIFO nobody reads) from before it starts:
// node1 must still start, join, report node2's crash within deadtime +
// keepalive, write out what it logged once the log takes lines again, and
// stop with heartbeat -k while the log is blocked once more. A daemon that
// writes its log from its event loop hangs at its first line.
func TestABlockedLogNeitherStallsTheHeartbeatNorTheStop(t *testing.T) {
	b := testbed.New(t)
	sw := b.AddSwitch("lan")
	h1, h2 := b.AddHost("node1"), b.AddHost("node2")
	h1.Connect(sw, "eth0", "198.18.0.1/24")
	h2.Connect(sw, "eth0", "198.18.0.2/24")

	n1 := &ourNode{e2ekit.NewNode(t, h1, "node1")}
	log := newStuckLog(t, filepath.Join(n1.Dir, "ha-log"))
	log.fill()
	n1.WriteConf(fastHACF("198.18.0.2")+"logfile "+log.path+"\n", sha256Authkeys)
	n1.Start()
	n2 := startOurs(t, h2, "node2", fastHACF("198.18.0.1"), sha256Authkeys)
	n1.WaitNodeStatus("node2", "active", joinBound)
	n2.WaitNodeStatus("node1", "active", joinBound)
	n1.waitPeerDeadtime("node2", fastDeadtime)

	start := time.Now()
	n2.Kill()
	took := n1.measureUntil(start, 10*time.Second, "dead", "nodestatus", "node2")
	t.Logf("node1, its log blocked, reported node2 dead %v after the crash", took.Round(time.Millisecond))
	if bound := fastDeadtime + fastKeepalive; took > bound {
		t.Errorf("node2 declared dead after %v, want <= deadtime + keepalive = %v", took, bound)
	}

	got := log.readUntil("node node2 is dead", joinBound)
	for _, want := range []string{"heartbeat starting", "node node2 status active", "node node2 is dead"} {
		if !bytes.Contains([]byte(got), []byte(want)) {
			t.Errorf("node1's log, once readable, lacks %q:\n%s", want, got)
		}
	}

	log.fill()
	if r := n1.Heartbeat("-k"); r.Code != 0 {
		t.Fatalf("heartbeat -k with the log blocked = %v", r)
	}
	if !processGone(n1.Proc.Pid()) {
		t.Errorf("heartbeat -k returned 0 but node1 (pid %d) still runs", n1.Proc.Pid())
	}
}
