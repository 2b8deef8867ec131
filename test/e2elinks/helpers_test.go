package e2elinks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/core"
	"github.com/hasuite/hasuite/internal/testbed"
)

// Bounds shared by the tests. They are generous: they only decide how long
// a broken build takes to fail, never what a passing run asserts.
const (
	// cmdTimeout bounds one run of cl_status or hactl (cl_status itself
	// gives up after 5 s, as Heartbeat's does).
	cmdTimeout = 15 * time.Second
	// startBound bounds the start of our daemon until its control socket answers.
	startBound = 10 * time.Second
	// joinBound bounds two daemons finding each other (initdead 2s).
	joinBound = 15 * time.Second
	// fastPoll paces the polls that measure detection times (cl_status
	// itself takes ~5 ms).
	fastPoll = 5 * time.Millisecond
	// slowPoll paces the polls that only wait for a state.
	slowPoll = 20 * time.Millisecond
)

// The fast timings of the links tests.
const (
	keepalive = 100 * time.Millisecond
	deadtime  = 500 * time.Millisecond
	// detectBound is what the issue allows for noticing a cut link or a
	// silent peer, measured from the cut: the last packet before the cut is
	// at most one keepalive old, so deadtime plus one keepalive is slack
	// for the measurement itself.
	detectBound = deadtime + keepalive
)

const sha256Authkeys = "auth 1\n1 sha256 e2elinks-Secret-Key\n"

// linksHACF is the ha.cf of one of our nodes with a UDP link to peerAddr and
// a serial link on tty: keepalive 100ms, deadtime 500ms, 115200 baud,
// no hardware flow control (ptys have none).
func linksHACF(peerAddr, tty string) string {
	return strings.Join([]string{
		"# e2elinks",
		"keepalive 100ms",
		"deadtime 500ms",
		"initdead 2s",
		"udpport 694",
		"baud 115200",
		"rtscts off",
		"ucast eth0 " + peerAddr,
		"serial " + tty,
		"auto_failback on",
		"node node1 node2",
		"",
	}, "\n")
}

// result is the outcome of one command.
type result struct {
	stdout, stderr string
	code           int // -1: did not run or timed out
	err            error
	took           time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d (%v) after %v, stdout %q, stderr %q", r.code, r.err, r.took.Round(time.Millisecond), r.stdout, r.stderr)
}

// run runs a command of the machine (our tools talk to the daemon over a
// Unix socket path, which any network namespace reaches), bounded by
// cmdTimeout.
func run(name string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), code: -1, took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.err = fmt.Errorf("%s: timed out after %v", name, cmdTimeout)
	case err == nil:
		r.code = 0
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	default:
		r.err = err
	}
	return r
}

// ourNode is one of our heartbeat daemons in a test host.
type ourNode struct {
	t        *testing.T
	host     *testbed.Host
	name     string
	confDir  string
	runDir   string
	stateDir string
	proc     *testbed.Proc
}

// startOurs writes the node's configuration, starts the daemon and waits
// until its control socket answers.
func startOurs(t *testing.T, h *testbed.Host, name, hacf, authkeys string) *ourNode {
	t.Helper()
	dir := filepath.Join(h.Bed().Dir, h.Name, "ours-"+name)
	n := &ourNode{t: t, host: h, name: name, confDir: filepath.Join(dir, "etc"),
		runDir: filepath.Join(dir, "run"), stateDir: filepath.Join(dir, "state")}
	for _, d := range []string{n.confDir, n.runDir, n.stateDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(n.confDir, "ha.cf"), []byte(hacf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.confDir, "authkeys"), []byte(authkeys), 0o600); err != nil {
		t.Fatal(err)
	}
	n.proc = h.Start(t, heartbeatBin, "-c", n.confDir, "-n", n.name, "--run-dir", n.runDir, "--state-dir", n.stateDir)
	var last error
	took, ok := testbed.WaitFor(startBound, slowPoll, func() bool {
		if n.proc.Exited() {
			return true
		}
		_, last = n.tryStatus()
		return last == nil
	})
	if n.proc.Exited() {
		t.Fatalf("%s: heartbeat exited during start-up (exit %d); log:\n%s", name, n.proc.ExitCode(), n.proc.Log())
	}
	if !ok {
		t.Fatalf("%s: control socket did not answer within %v (last error %v); log:\n%s", name, took, last, n.proc.Log())
	}
	return n
}

// log is what the daemon logged so far (stderr).
func (n *ourNode) log() string { return n.proc.Log() }

// mustRun fails the test if the daemon has exited.
func (n *ourNode) mustRun(phase string) {
	n.t.Helper()
	if n.proc.Exited() {
		n.t.Fatalf("%s: %s: heartbeat exited (exit %d); log:\n%s", phase, n.name, n.proc.ExitCode(), tail(n.log(), 40))
	}
}

// clStatus runs our cl_status against this node.
func (n *ourNode) clStatus(args ...string) result {
	return run(clStatusBin, append([]string{"--run-dir", n.runDir}, args...)...)
}

// tryStatus is "hactl status --json", parsed.
func (n *ourNode) tryStatus() (*api.Status, error) {
	r := run(hactlBin, "--run-dir", n.runDir, "status", "--json")
	if r.code != 0 {
		return nil, fmt.Errorf("hactl status --json: %v", r)
	}
	var st api.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		return nil, fmt.Errorf("hactl status --json: %v in %q", err, r.stdout)
	}
	return &st, nil
}

// status is tryStatus that fails the test on error.
func (n *ourNode) status() *api.Status {
	n.t.Helper()
	st, err := n.tryStatus()
	if err != nil {
		n.t.Fatalf("%s: %v; log:\n%s", n.name, err, tail(n.log(), 30))
	}
	return st
}

// localLink is this node's IO counters of the medium name.
func (n *ourNode) localLink(name string) api.Link {
	n.t.Helper()
	st := n.status()
	for _, l := range st.Links {
		if l.Name == name {
			return l
		}
	}
	n.t.Fatalf("%s: hactl status has no link %s: %+v", n.name, name, st.Links)
	return api.Link{}
}

// peerLink is this node's view of link name to node peer.
func (n *ourNode) peerLink(peer, name string) core.LinkSnapshot {
	n.t.Helper()
	st := n.status()
	for _, nd := range st.Core.Nodes {
		if nd.Name != peer {
			continue
		}
		for _, l := range nd.Links {
			if l.Name == name {
				return l
			}
		}
	}
	n.t.Fatalf("%s: hactl status has no link %s to %s: %+v", n.name, name, peer, st.Core.Nodes)
	return core.LinkSnapshot{}
}

// waitClStatus polls "cl_status args..." until its trimmed output is want,
// and returns how long that took; it fails the test after timeout.
func (n *ourNode) waitClStatus(timeout time.Duration, want string, args ...string) time.Duration {
	n.t.Helper()
	var last result
	took, ok := testbed.WaitFor(timeout, slowPoll, func() bool {
		last = n.clStatus(args...)
		return strings.TrimSpace(last.stdout) == want
	})
	if !ok {
		n.t.Fatalf("%s: cl_status %s: want %q within %v, last %v; log:\n%s",
			n.name, strings.Join(args, " "), want, timeout, last, tail(n.log(), 30))
	}
	return took
}

// listLinks is "cl_status listhblinks node -v" parsed into link -> status.
func (n *ourNode) listLinks(node string) (map[string]string, result) {
	r := n.clStatus("listhblinks", node, "-v")
	m := map[string]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && strings.HasPrefix(line, "\t") {
			m[f[0]] = f[1]
		}
	}
	return m, r
}

// waitLinks waits until "listhblinks node -v" shows exactly want.
func (n *ourNode) waitLinks(node string, want map[string]string, timeout time.Duration) time.Duration {
	n.t.Helper()
	var got map[string]string
	var last result
	took, ok := testbed.WaitFor(timeout, slowPoll, func() bool {
		got, last = n.listLinks(node)
		if len(got) != len(want) {
			return false
		}
		for k, v := range want {
			if got[k] != v {
				return false
			}
		}
		return true
	})
	if !ok {
		n.t.Fatalf("%s: listhblinks %s -v: want %v within %v, last %v (%v); log:\n%s",
			n.name, node, want, timeout, got, last, tail(n.log(), 30))
	}
	return took
}

// probe is one condition a measurement watches: cl_status args printing want.
type probe struct {
	n    *ourNode
	want string
	args []string
}

func (p probe) String() string {
	return p.n.name + ": cl_status " + strings.Join(p.args, " ") + " = " + p.want
}

// measure polls every probe round-robin every fastPoll from start and
// returns, per probe, the time from start until it first held (probes
// are not polled again once they held). It fails the test if any probe
// has not held by timeout.
func measure(t *testing.T, start time.Time, timeout time.Duration, probes ...probe) []time.Duration {
	t.Helper()
	took := make([]time.Duration, len(probes))
	last := make([]result, len(probes))
	left := len(probes)
	for left > 0 {
		for i, p := range probes {
			if took[i] != 0 {
				continue
			}
			last[i] = p.n.clStatus(p.args...)
			if strings.TrimSpace(last[i].stdout) == p.want {
				took[i] = time.Since(start)
				left--
			}
		}
		if left == 0 {
			break
		}
		if time.Since(start) > timeout {
			for i, p := range probes {
				if took[i] == 0 {
					t.Errorf("%v: not within %v, last %v%s; log:\n%s", p, timeout, last[i], stallNote(start), tail(p.n.log(), 20))
				}
			}
			t.FailNow()
		}
		time.Sleep(fastPoll)
	}
	return took
}

// hold checks every slowPoll for d that every probe keeps holding, and
// fails the test at the first one that does not.
func hold(t *testing.T, d time.Duration, probes ...probe) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < d {
		for _, p := range probes {
			if r := p.n.clStatus(p.args...); strings.TrimSpace(r.stdout) != p.want {
				t.Fatalf("%v: broke %v into a %v hold: %v%s; log:\n%s", p, time.Since(start).Round(time.Millisecond), d, r, stallNote(start.Add(-deadtime)), tail(p.n.log(), 30))
			}
		}
		time.Sleep(slowPoll)
	}
}

// waitLog waits (bounded) until the daemon's log holds s after offset off.
func (n *ourNode) waitLog(off int, s string, timeout time.Duration) {
	n.t.Helper()
	if _, ok := testbed.WaitFor(timeout, slowPoll, func() bool { return strings.Contains(since(n.log(), off), s) }); !ok {
		n.t.Errorf("%s: log has no %q within %v; log since:\n%s", n.name, s, timeout, tail(since(n.log(), off), 30))
	}
}

// since is log after byte offset off.
func since(log string, off int) string {
	if off > len(log) {
		return ""
	}
	return log[off:]
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// pairWithCable is the set-up of the links tests: node1 (198.18.0.1) and
// node2 (198.18.0.2) on one switch (eth0) and a pty cable between them;
// each daemon's serial path is its end's symlink. It returns once both
// nodes are active and see both links up.
func pairWithCable(t *testing.T) (*testbed.Host, *testbed.Host, *ourNode, *ourNode, *cable) {
	t.Helper()
	b, locks := newBed(t)
	sw := b.AddSwitch("lan")
	h1, h2 := b.AddHost("node1"), b.AddHost("node2")
	h1.Connect(sw, "eth0", "198.18.0.1/24")
	h2.Connect(sw, "eth0", "198.18.0.2/24")
	c := newCable(t, b, locks)
	n1 := startOurs(t, h1, "node1", linksHACF("198.18.0.2", c.path[0]), sha256Authkeys)
	n2 := startOurs(t, h2, "node2", linksHACF("198.18.0.1", c.path[1]), sha256Authkeys)
	start := time.Now()
	n1.waitClStatus(joinBound, "active", "nodestatus", "node2")
	n2.waitClStatus(joinBound, "active", "nodestatus", "node1")
	n1.waitLinks("node2", map[string]string{"eth0": "up", c.path[0]: "up"}, joinBound)
	n2.waitLinks("node1", map[string]string{"eth0": "up", c.path[1]: "up"}, joinBound)
	t.Logf("join: both active, both links up after %v", time.Since(start).Round(time.Millisecond))
	return h1, h2, n1, n2, c
}

// countLines counts the lines of log that contain s.
func countLines(log, s string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// stalls records when the test process itself was not scheduled: a
// goroutine started by TestMain wakes every stallTick and notes every
// wake-up later than stallReport. The cable's pumps run in this process,
// so such a stall cuts the cable without the test meaning to; and what
// starves this process (on the shared 2-CPU test machines: realtime
// processes spinning until the kernel's RT throttling stops them, about
// 950 ms) starves the kernel threads that carry veth packets and pty bytes
// as well. Failures and the soak report the stalls they overlap.
var stalls stallWatch

type stallWatch struct {
	mu   sync.Mutex
	list []stall
}

// stall is an interval in which the test process did not run.
type stall struct{ from, to time.Time }

func (s stall) String() string {
	return fmt.Sprintf("%v from %s", s.to.Sub(s.from).Round(time.Millisecond), s.from.UTC().Format("15:04:05.000"))
}

const (
	stallTick   = 10 * time.Millisecond
	stallReport = 200 * time.Millisecond
)

// watch runs until the process exits.
func (w *stallWatch) watch() {
	tick := time.NewTicker(stallTick)
	defer tick.Stop()
	last := time.Now()
	for now := range tick.C {
		if now.Sub(last) > stallReport {
			w.mu.Lock()
			w.list = append(w.list, stall{from: last, to: now})
			w.mu.Unlock()
		}
		last = now
	}
}

// between returns the stalls that overlap [from, to].
func (w *stallWatch) between(from, to time.Time) []stall {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []stall
	for _, s := range w.list {
		if s.to.After(from) && s.from.Before(to) {
			out = append(out, s)
		}
	}
	return out
}

// overlap is how much of [from, to] the stalls cover.
func overlap(list []stall, from, to time.Time) time.Duration {
	var d time.Duration
	for _, s := range list {
		a, b := s.from, s.to
		if a.Before(from) {
			a = from
		}
		if b.After(to) {
			b = to
		}
		if b.After(a) {
			d += b.Sub(a)
		}
	}
	return d
}

// stallNote describes the stalls of the test process since start, for a
// failure message ("" if none).
func stallNote(start time.Time) string {
	list := stalls.between(start, time.Now())
	if len(list) == 0 {
		return ""
	}
	return fmt.Sprintf(" [NOTE: the test process itself was not scheduled %d times meanwhile: %v: the test bed stalled]", len(list), list)
}
