package e2e

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
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/core"
	"github.com/hasuite/hasuite/internal/testbed"
)

// Bounds shared by the tests. They are generous: they only decide how long
// a broken build takes to fail, never what a passing run asserts.
const (
	// cmdTimeout bounds one run of cl_status, hactl or heartbeat -s/-k/-t
	// (cl_status itself gives up after 5 s, as Heartbeat's does).
	cmdTimeout = 15 * time.Second
	// startBound bounds the start of our daemon until its control socket answers.
	startBound = 10 * time.Second
	// joinBound bounds two daemons finding each other.
	joinBound = 15 * time.Second
	// fastPoll paces the polls that measure detection times (cl_status
	// itself takes ~5 ms).
	fastPoll = 5 * time.Millisecond
	// slowPoll paces the polls that only wait for a state.
	slowPoll = 20 * time.Millisecond
)

// ourHACF is an ha.cf for our daemon: timings and media lines, nodes node1
// and node2.
func ourHACF(keepalive, deadtime, initdead string, media ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# e2e test\nkeepalive %s\ndeadtime %s\ninitdead %s\nudpport 694\n", keepalive, deadtime, initdead)
	for _, m := range media {
		b.WriteString(m + "\n")
	}
	b.WriteString("auto_failback on\nnode node1 node2\n")
	return b.String()
}

const sha256Authkeys = "auth 1\n1 sha256 e2e-Secret-Key-For-Tests\n"

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

// run runs a command of the machine (the root network namespace; our
// tools talk to the daemon over a Unix socket path, which any namespace
// reaches), bounded by cmdTimeout.
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

// runIn runs a command in a host's network namespace; the result carries
// the combined output in stdout.
func runIn(t *testing.T, h *testbed.Host, name string, args ...string) result {
	t.Helper()
	start := time.Now()
	out, err := h.Run(t, name, args...)
	r := result{stdout: string(out), code: -1, err: err, took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
		r.code = 0
	case errors.As(err, &ee) && ee.Exited():
		r.code, r.err = ee.ExitCode(), nil
	}
	return r
}

// ourNode is one of our heartbeat daemons in a test host, with its own
// configuration, run and state directories (kept across restarts).
type ourNode struct {
	t        *testing.T
	host     *testbed.Host
	name     string
	confDir  string
	runDir   string
	stateDir string
	proc     *testbed.Proc
	procs    []*testbed.Proc // every start, oldest first
}

// newOurNode writes the node's configuration; start runs it.
func newOurNode(t *testing.T, h *testbed.Host, name, hacf, authkeys string) *ourNode {
	t.Helper()
	dir := filepath.Join(h.Bed().Dir, h.Name, "ours-"+name)
	n := &ourNode{t: t, host: h, name: name, confDir: filepath.Join(dir, "etc"),
		runDir: filepath.Join(dir, "run"), stateDir: filepath.Join(dir, "state")}
	for _, d := range []string{n.confDir, n.runDir, n.stateDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	n.writeConf(hacf, authkeys)
	return n
}

func (n *ourNode) writeConf(hacf, authkeys string) {
	n.t.Helper()
	if err := os.WriteFile(filepath.Join(n.confDir, "ha.cf"), []byte(hacf), 0o644); err != nil {
		n.t.Fatal(err)
	}
	p := filepath.Join(n.confDir, "authkeys")
	if err := os.WriteFile(p, []byte(authkeys), 0o600); err != nil {
		n.t.Fatal(err)
	}
	if err := os.Chmod(p, 0o600); err != nil { // WriteFile keeps an existing file's mode
		n.t.Fatal(err)
	}
}

// startOurs creates and starts a node.
func startOurs(t *testing.T, h *testbed.Host, name, hacf, authkeys string) *ourNode {
	t.Helper()
	n := newOurNode(t, h, name, hacf, authkeys)
	n.start()
	return n
}

// start (re)starts the daemon and waits until its control socket answers.
func (n *ourNode) start() {
	n.t.Helper()
	n.proc = n.host.Start(n.t, heartbeatBin, "-c", n.confDir, "-n", n.name,
		"--run-dir", n.runDir, "--state-dir", n.stateDir)
	n.procs = append(n.procs, n.proc)
	var last error
	took, ok := testbed.WaitFor(startBound, slowPoll, func() bool {
		if n.proc.Exited() {
			return true
		}
		_, last = n.tryStatus()
		return last == nil
	})
	if n.proc.Exited() {
		n.t.Fatalf("%s: heartbeat exited during start-up (exit %d); log:\n%s", n.name, n.proc.ExitCode(), n.proc.Log())
	}
	if !ok {
		n.t.Fatalf("%s: control socket did not answer within %v (last error %v); log:\n%s", n.name, took, last, n.proc.Log())
	}
}

// kill crashes the daemon (SIGKILL), as a crash would.
func (n *ourNode) kill() { n.proc.Kill() }

// log is everything every start of the daemon logged (stderr).
func (n *ourNode) log() string {
	var b strings.Builder
	for _, p := range n.procs {
		b.WriteString(p.Log())
	}
	return b.String()
}

// heartbeat runs "heartbeat args... --run-dir D".
func (n *ourNode) heartbeat(args ...string) result {
	return run(heartbeatBin, append(args, "--run-dir", n.runDir)...)
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

// peer is this node's view of node name.
func (n *ourNode) peer(name string) core.NodeSnapshot {
	n.t.Helper()
	st := n.status()
	p, ok := findNode(st, name)
	if !ok {
		n.t.Fatalf("%s: hactl status has no node %s: %+v", n.name, name, st.Core.Nodes)
	}
	return p
}

func findNode(st *api.Status, name string) (core.NodeSnapshot, bool) {
	for _, nd := range st.Core.Nodes {
		if nd.Name == name {
			return nd, true
		}
	}
	return core.NodeSnapshot{}, false
}

func findLink(nd core.NodeSnapshot, name string) (core.LinkSnapshot, bool) {
	for _, l := range nd.Links {
		if l.Name == name {
			return l, true
		}
	}
	return core.LinkSnapshot{}, false
}

// waitClStatus polls "cl_status args..." until its trimmed output is want,
// and returns how long that took; it fails the test after timeout.
func (n *ourNode) waitClStatus(timeout, interval time.Duration, want string, args ...string) time.Duration {
	n.t.Helper()
	var last result
	took, ok := testbed.WaitFor(timeout, interval, func() bool {
		last = n.clStatus(args...)
		return strings.TrimSpace(last.stdout) == want
	})
	if !ok {
		n.t.Fatalf("%s: cl_status %s: want %q within %v, last %v; log:\n%s",
			n.name, strings.Join(args, " "), want, timeout, last, tail(n.log(), 30))
	}
	return took
}

// waitNodeStatus waits until cl_status nodestatus node prints want.
func (n *ourNode) waitNodeStatus(node, want string, timeout time.Duration) time.Duration {
	n.t.Helper()
	return n.waitClStatus(timeout, slowPoll, want, "nodestatus", node)
}

// measureUntil polls cl_status every fastPoll from start until it prints
// want, and returns the time since start (so the caller's fault injection
// is included); it fails the test after timeout.
func (n *ourNode) measureUntil(start time.Time, timeout time.Duration, want string, args ...string) time.Duration {
	n.t.Helper()
	var last result
	for {
		last = n.clStatus(args...)
		if strings.TrimSpace(last.stdout) == want {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			n.t.Fatalf("%s: cl_status %s: want %q within %v of the fault, last %v; log:\n%s",
				n.name, strings.Join(args, " "), want, timeout, last, tail(n.log(), 30))
		}
		time.Sleep(fastPoll)
	}
}

// waitPeerDeadtime waits until the node applies its configured deadtime to
// peer (not initdead, not a start-up allowance), so a detection time
// measured afterwards is the steady-state one.
func (n *ourNode) waitPeerDeadtime(peer string, want time.Duration) {
	n.t.Helper()
	var got time.Duration
	if _, ok := testbed.WaitFor(joinBound, slowPoll, func() bool {
		st, err := n.tryStatus()
		if err != nil {
			return false
		}
		p, _ := findNode(st, peer)
		got = p.Deadtime
		return st.Core.CommUp && got == want
	}); !ok {
		n.t.Fatalf("%s: deadtime applied to %s is %v, want %v", n.name, peer, got, want)
	}
}

// processGone reports whether pid has exited (gone or a zombie).
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses, which may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	st := s[i+2]
	return st == 'Z' || st == 'X'
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// pair is the usual two-node set-up: node1 (198.18.0.1) and node2
// (198.18.0.2) on one switch, hacfFor giving each node's ha.cf from its
// peer's address.
func pair(t *testing.T, hacfFor func(peerAddr string) string) (*testbed.Bed, *ourNode, *ourNode) {
	t.Helper()
	b := testbed.New(t)
	sw := b.AddSwitch("lan")
	h1, h2 := b.AddHost("node1"), b.AddHost("node2")
	h1.Connect(sw, "eth0", "198.18.0.1/24")
	h2.Connect(sw, "eth0", "198.18.0.2/24")
	n1 := startOurs(t, h1, "node1", hacfFor("198.18.0.2"), sha256Authkeys)
	n2 := startOurs(t, h2, "node2", hacfFor("198.18.0.1"), sha256Authkeys)
	n1.waitNodeStatus("node2", "active", joinBound)
	n2.waitNodeStatus("node1", "active", joinBound)
	return b, n1, n2
}

// fastHACF: keepalive 100ms, deadtime 500ms, initdead 2s, one ucast link.
func fastHACF(peerAddr string) string {
	return ourHACF("100ms", "500ms", "2s", "ucast eth0 "+peerAddr)
}

const (
	fastKeepalive = 100 * time.Millisecond
	fastDeadtime  = 500 * time.Millisecond
)
