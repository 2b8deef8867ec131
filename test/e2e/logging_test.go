package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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
	if !testbed.ProcessGone(n1.Proc.Pid()) {
		t.Errorf("heartbeat -k returned 0 but node1 (pid %d) still runs", n1.Proc.Pid())
	}
}

// syslogSocket is a syslog daemon's /dev/log as the test plays it: a
// unixgram socket bound at path, read by the test.
type syslogSocket struct {
	t    *testing.T
	conn *net.UnixConn
	got  strings.Builder // every message read so far
}

func listenSyslog(t *testing.T, path string) *syslogSocket {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); os.Remove(path) })
	return &syslogSocket{t: t, conn: c}
}

// readUntil reads messages until one holds want, bounded by timeout, and
// returns everything read so far.
func (s *syslogSocket) readUntil(want string, timeout time.Duration) string {
	s.t.Helper()
	buf := make([]byte, 8192)
	deadline := time.Now().Add(timeout)
	for !strings.Contains(s.got.String(), want) {
		if err := s.conn.SetReadDeadline(deadline); err != nil {
			s.t.Fatal(err)
		}
		n, err := s.conn.Read(buf)
		if err != nil {
			s.t.Fatalf("syslog: no %q within %v (%v); got:\n%s", want, timeout, err, s.got.String())
		}
		s.got.Write(buf[:n])
	}
	return s.got.String()
}

// TestTheDaemonStartsWithoutSyslogAndDeliversOnceItIsBack runs the daemon
// with "logfacility local0" on a machine whose /dev/log is absent, the
// real default path: the daemon runs in a private mount namespace whose
// /dev is a directory of the test holding only null. It must start (a
// daemon using log/syslog exits with "Unix syslog delivery error"), say
// once on stderr, and in the logfile when there is one, that syslog is
// unavailable; once a syslog socket appears at /dev/log, the next lines
// (a reload, the stop) reach it, after a line saying syslog is back; and
// heartbeat -k stops it.
func TestTheDaemonStartsWithoutSyslogAndDeliversOnceItIsBack(t *testing.T) {
	cases := []struct {
		name    string
		logfile bool
	}{
		{"logfacility only", false},
		{"logfacility and logfile", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := testbed.New(t)
			h := b.AddHost("node1")
			h.Connect(b.AddSwitch("lan"), "eth0", "198.18.0.1/24")
			n := &ourNode{e2ekit.NewNode(t, h, "node1")}

			// The node's /dev: null (the machine's, bound over an empty
			// file) and nothing else, so no /dev/log.
			dev := filepath.Join(n.Dir, "dev")
			e2ekit.WriteFile(t, filepath.Join(dev, "null"), "", 0o666)
			n.Sandbox = &testbed.Sandbox{
				Binds: []testbed.Bind{{Source: "/dev/null", Target: filepath.Join(dev, "null")}},
				Setup: []string{"mount --rbind " + dev + " /dev"},
			}
			hacf := fastHACF("198.18.0.2") + "logfacility local0\n"
			logfile := filepath.Join(n.Dir, "ha-log")
			if c.logfile {
				hacf += "logfile " + logfile + "\n"
			}
			n.WriteConf(hacf, sha256Authkeys)
			n.Start()

			if r := n.Proc.Exec(t, "sh", "-c", "test ! -e /dev/log && test -c /dev/null"); r.Code != 0 {
				t.Fatalf("the sandbox's /dev is not as meant (no log, a null device): %v", r)
			}
			const notice = "syslog unavailable (logfacility local0, /dev/log)"
			waitLog(t, "stderr", n.Log, notice)
			if c.logfile {
				waitLog(t, "logfile", fileText(logfile), "syslog unavailable: lines for logfacility are not delivered")
			}

			sl := listenSyslog(t, filepath.Join(dev, "log"))
			if r := n.Heartbeat("-r"); r.Code != 0 {
				t.Fatalf("heartbeat -r = %v", r)
			}
			got := sl.readUntil("configuration reloaded", joinBound)
			if !strings.HasPrefix(got, "<134>") || !strings.Contains(got, "]: WARN syslog available again {") {
				t.Errorf("syslog's first line is not local0.info saying that syslog is back:\n%s", got)
			}
			if r := n.Heartbeat("-k"); r.Code != 0 {
				t.Fatalf("heartbeat -k = %v", r)
			}
			sl.readUntil("heartbeat stopped", joinBound)
			if !testbed.ProcessGone(n.Proc.Pid()) {
				t.Errorf("heartbeat -k returned 0 but the daemon (pid %d) still runs", n.Proc.Pid())
			}

			out := n.Log()
			if k := strings.Count(out, "syslog unavailable"); k != 1 {
				t.Errorf("stderr says %d times that syslog is unavailable, want once:\n%s", k, out)
			}
			if !strings.Contains(out, "syslog available again (logfacility local0)") {
				t.Errorf("stderr does not say that syslog is back:\n%s", out)
			}
			if c.logfile {
				for _, want := range []string{"syslog available again", "configuration reloaded", "heartbeat stopped"} {
					if !strings.Contains(fileText(logfile)(), want) {
						t.Errorf("logfile lacks %q", want)
					}
				}
			}
		})
	}
}

// waitLog waits until get() holds want.
func waitLog(t *testing.T, what string, get func() string, want string) {
	t.Helper()
	if _, ok := testbed.WaitFor(joinBound, e2ekit.SlowPoll, func() bool { return strings.Contains(get(), want) }); !ok {
		t.Fatalf("%s lacks %q within %v:\n%s", what, want, joinBound, testbed.Tail(get(), 30))
	}
}

func fileText(p string) func() string {
	return func() string { b, _ := os.ReadFile(p); return string(b) }
}

// TestABrokenStderrDoesNotKillTheDaemon runs the daemon with no log
// destination in ha.cf, so it logs to stderr, and its stderr a pipe whose
// reader then goes away (a "heartbeat 2>&1 | logger" whose logger died).
// Go kills a program that writes to a broken pipe on fd 1 or 2 with
// SIGPIPE unless the program handles that signal: the daemon must go on
// (a reload logs) and stop with heartbeat -k.
func TestABrokenStderrDoesNotKillTheDaemon(t *testing.T) {
	b := testbed.New(t)
	h := b.AddHost("node1")
	h.Connect(b.AddSwitch("lan"), "eth0", "198.18.0.1/24")
	n := &ourNode{e2ekit.NewNode(t, h, "node1")}
	n.WriteConf(fastHACF("198.18.0.2"), sha256Authkeys)

	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	cmd := exec.Command("ip", append([]string{"netns", "exec", h.NS(), e2ekit.Bin("heartbeat")}, n.Args()...)...)
	cmd.Stderr = wr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		wr.Close()
		t.Fatal(err)
	}
	wr.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	}()

	// Read until the daemon is up, then close the only reader.
	got := make([]byte, 0, 4096)
	buf := make([]byte, 4096)
	rd.SetReadDeadline(time.Now().Add(e2ekit.StartBound))
	for !strings.Contains(string(got), "heartbeat starting") {
		k, err := rd.Read(buf)
		if err != nil {
			t.Fatalf("daemon's stderr: %v; read:\n%s", err, got)
		}
		got = append(got, buf[:k]...)
	}
	if _, err := n.TryStatus(); err != nil {
		if _, ok := testbed.WaitFor(e2ekit.StartBound, e2ekit.SlowPoll, func() bool { _, err = n.TryStatus(); return err == nil }); !ok {
			t.Fatalf("daemon does not answer: %v", err)
		}
	}
	rd.Close()

	for i := 0; i < 3; i++ {
		if r := n.Heartbeat("-r"); r.Code != 0 {
			t.Fatalf("heartbeat -r #%d with stderr broken = %v (daemon: %v)", i+1, r, exitOf(exited))
		}
	}
	if r := n.Heartbeat("-k"); r.Code != 0 {
		t.Fatalf("heartbeat -k with stderr broken = %v (daemon: %v)", r, exitOf(exited))
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("the daemon exited with %v after heartbeat -k, want 0", err)
		}
	case <-time.After(e2ekit.CmdTimeout):
		t.Errorf("the daemon still runs after heartbeat -k")
	}
}

// exitOf says whether the process waited for in exited has ended, and how.
func exitOf(exited chan error) string {
	select {
	case err := <-exited:
		exited <- err
		return fmt.Sprintf("exited: %v", err)
	default:
		return "still running"
	}
}
