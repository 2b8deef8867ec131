package e2ekit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/internal/testbed"
)

// Bounds of Node. They are generous: they only decide how long a broken
// build takes to fail, never what a passing run asserts.
const (
	// CmdTimeout bounds one run of cl_status or hactl (cl_status itself
	// gives up after 5 s, as Heartbeat's does), and of heartbeat -k/-s/-r
	// unless Node.HeartbeatTimeout says otherwise.
	CmdTimeout = 15 * time.Second
	// StartBound bounds the start of a daemon until it answers.
	StartBound = 10 * time.Second
	// SlowPoll paces the polls that only wait for a state.
	SlowPoll = 20 * time.Millisecond
	// FastPoll paces the polls that measure detection times (cl_status
	// itself takes ~5 ms).
	FastPoll = 5 * time.Millisecond
	// SocketTimeout bounds one SocketStatus.
	SocketTimeout = 2 * time.Second
)

// Node is one of our heartbeat daemons in a test host, with its own
// configuration, run and state directories (kept across restarts, like a
// disk). Its fields are the package's to read; set the options before
// Start. Its methods report failures with T (a test's or a benchmark's),
// so call them from the test's goroutine.
type Node struct {
	T    testing.TB
	Host *testbed.Host
	Name string
	// Dir is the node's directory in the bed's; ConfDir (ha.cf,
	// authkeys, ...), RunDir (pid file, control socket) and StateDir are
	// Dir/etc, Dir/run and Dir/state.
	Dir, ConfDir, RunDir, StateDir string
	// Proc is the daemon of the latest start; Procs are every start's,
	// oldest first.
	Proc  *testbed.Proc
	Procs []*testbed.Proc

	// Env is added to the daemon's environment (through env(1)); nil: the
	// test's environment as it is.
	Env []string
	// Sandbox, if set, is the sandbox every start runs in
	// (Host.StartSandboxed); nil: a plain process (Host.Start).
	Sandbox *testbed.Sandbox
	// Ready reports why a starting daemon does not answer yet (nil once it
	// does); nil: TryStatus ("hactl status --json" parses).
	Ready func() error
	// HeartbeatTimeout bounds Heartbeat (-k waits for the daemon's stop,
	// which gives up its resources first); 0: CmdTimeout.
	HeartbeatTimeout time.Duration
	// BinDir holds the heartbeat, cl_status and hactl the node runs; "":
	// those Main built (Bin). The benchmarks, which build theirs with a
	// testbed.BinSet, set it.
	BinDir string
}

// bin is the path of the binary name the node runs.
func (n *Node) bin(name string) string {
	if n.BinDir != "" {
		return filepath.Join(n.BinDir, name)
	}
	return Bin(name)
}

// NewNode makes the node's directories; WriteConf writes its configuration
// and Start runs it.
func NewNode(t testing.TB, h *testbed.Host, name string) *Node {
	t.Helper()
	dir := filepath.Join(h.Bed().Dir, h.Name, "ours-"+name)
	n := &Node{T: t, Host: h, Name: name, Dir: dir, ConfDir: filepath.Join(dir, "etc"),
		RunDir: filepath.Join(dir, "run"), StateDir: filepath.Join(dir, "state")}
	for _, d := range []string{n.ConfDir, n.RunDir, n.StateDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// StartNode makes a node with this ha.cf and authkeys and starts it.
func StartNode(t testing.TB, h *testbed.Host, name, hacf, authkeys string) *Node {
	t.Helper()
	n := NewNode(t, h, name)
	n.WriteConf(hacf, authkeys)
	n.Start()
	return n
}

// WriteConf writes the node's ha.cf and authkeys (mode 0600).
func (n *Node) WriteConf(hacf, authkeys string) {
	n.T.Helper()
	WriteFile(n.T, filepath.Join(n.ConfDir, "ha.cf"), hacf, 0o644)
	WriteFile(n.T, filepath.Join(n.ConfDir, "authkeys"), authkeys, 0o600)
}

// WriteFile writes p (and its directory) with this mode, also when p exists.
func WriteFile(t testing.TB, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // WriteFile keeps an existing file's mode
		t.Fatal(err)
	}
}

// Args are the daemon's arguments: its directories and node name.
func (n *Node) Args() []string {
	return []string{"-c", n.ConfDir, "-n", n.Name, "--run-dir", n.RunDir, "--state-dir", n.StateDir}
}

// Start (re)starts the daemon and waits until it answers (see Ready).
func (n *Node) Start() {
	n.T.Helper()
	n.Launch()
	n.waitReady()
}

// Launch (re)starts the daemon without waiting for it to answer: for
// benchmarks that time what follows a start and must not poll meanwhile.
func (n *Node) Launch() {
	n.T.Helper()
	argv := append([]string{n.bin("heartbeat")}, n.Args()...)
	if n.Env != nil {
		// testbed's processes inherit the test's environment; env(1) adds ours.
		argv = append(append([]string{"env"}, n.Env...), argv...)
	}
	if n.Sandbox != nil {
		n.Proc = n.Host.StartSandboxed(n.T, *n.Sandbox, argv[0], argv[1:]...)
	} else {
		n.Proc = n.Host.Start(n.T, argv[0], argv[1:]...)
	}
	n.Procs = append(n.Procs, n.Proc)
}

// waitReady waits until the daemon Launch started answers (see Ready).
func (n *Node) waitReady() {
	n.T.Helper()
	ready := n.Ready
	if ready == nil {
		ready = func() error { _, err := n.TryStatus(); return err }
	}
	var last error
	took, ok := testbed.WaitFor(StartBound, SlowPoll, func() bool {
		if n.Proc.Exited() {
			return true
		}
		last = ready()
		return last == nil
	})
	if n.Proc.Exited() {
		n.T.Fatalf("%s: heartbeat exited during start-up (exit %d); log:\n%s", n.Name, n.Proc.ExitCode(), n.Proc.Log())
	}
	if !ok {
		n.T.Fatalf("%s: control socket did not answer within %v (last error %v); log:\n%s", n.Name, took, last, n.Proc.Log())
	}
}

// Kill crashes the daemon (testbed.Proc.Kill: SIGKILL of it and what it
// started), as a crash would.
func (n *Node) Kill() { n.Proc.Kill() }

// Log is everything every start of the daemon logged (stdout and stderr).
func (n *Node) Log() string {
	var b strings.Builder
	for _, p := range n.Procs {
		b.WriteString(p.Log())
	}
	return b.String()
}

// Heartbeat runs "heartbeat args... --run-dir D" (-k, -s, -r), bounded by
// HeartbeatTimeout.
func (n *Node) Heartbeat(args ...string) testbed.ExecResult {
	timeout := n.HeartbeatTimeout
	if timeout == 0 {
		timeout = CmdTimeout
	}
	return testbed.RunCmd(timeout, nil, n.bin("heartbeat"), append(append([]string{}, args...), "--run-dir", n.RunDir)...)
}

// ClStatus runs our cl_status against this node.
func (n *Node) ClStatus(args ...string) testbed.ExecResult {
	return testbed.RunCmd(CmdTimeout, nil, n.bin("cl_status"), append([]string{"--run-dir", n.RunDir}, args...)...)
}

// TryStatus is "hactl status --json", parsed.
func (n *Node) TryStatus() (*api.Status, error) {
	r := testbed.RunCmd(CmdTimeout, nil, n.bin("hactl"), "--run-dir", n.RunDir, "status", "--json")
	if r.Code != 0 {
		return nil, fmt.Errorf("hactl status --json: %v", r)
	}
	var st api.Status
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		return nil, fmt.Errorf("hactl status --json: %v in %q", err, r.Stdout)
	}
	return &st, nil
}

// Status is TryStatus that fails the test on error.
func (n *Node) Status() *api.Status {
	n.T.Helper()
	st, err := n.TryStatus()
	if err != nil {
		n.T.Fatalf("%s: %v; log:\n%s", n.Name, err, testbed.Tail(n.Log(), 30))
	}
	return st
}

// SocketStatus is the daemon's status read from its control socket
// (api.GetStatus: what "hactl status --json" prints) without starting a
// process, bounded by SocketTimeout: for polls in benchmarks, which must
// not load the machine they measure.
func (n *Node) SocketStatus() (*api.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), SocketTimeout)
	defer cancel()
	return api.GetStatus(ctx, n.RunDir)
}

// PeerState is the state the node reports for peer (SocketStatus; "" if
// it cannot tell).
func (n *Node) PeerState(peer string) string {
	st, err := n.SocketStatus()
	if err != nil {
		return ""
	}
	for _, ns := range st.Core.Nodes {
		if ns.Name == peer {
			return ns.State
		}
	}
	return ""
}

// WaitPeer polls PeerState every FastPoll until it is want, and returns how
// long that took; it fails the test at once if the daemon has exited, and
// after timeout.
func (n *Node) WaitPeer(peer, want string, timeout time.Duration) time.Duration {
	n.T.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		if last = n.PeerState(peer); last == want {
			return time.Since(start)
		}
		if n.Proc.Exited() {
			n.T.Fatalf("%s exited (code %d); log:\n%s", n.Name, n.Proc.ExitCode(), testbed.Tail(n.Proc.Log(), 30))
		}
		time.Sleep(FastPoll)
	}
	n.T.Fatalf("%s: %s not %q within %v (last %q); log:\n%s", n.Name, peer, want, timeout, last, testbed.Tail(n.Proc.Log(), 30))
	return 0
}

// WaitClStatus polls "cl_status args..." every SlowPoll until its trimmed
// output is want, and returns how long that took; it fails the test after
// timeout.
func (n *Node) WaitClStatus(timeout time.Duration, want string, args ...string) time.Duration {
	n.T.Helper()
	var last testbed.ExecResult
	took, ok := testbed.WaitFor(timeout, SlowPoll, func() bool {
		last = n.ClStatus(args...)
		return strings.TrimSpace(last.Stdout) == want
	})
	if !ok {
		n.T.Fatalf("%s: cl_status %s: want %q within %v, last %v; log:\n%s",
			n.Name, strings.Join(args, " "), want, timeout, last, testbed.Tail(n.Log(), 30))
	}
	return took
}

// WaitNodeStatus waits until "cl_status nodestatus node" prints want.
func (n *Node) WaitNodeStatus(node, want string, timeout time.Duration) time.Duration {
	n.T.Helper()
	return n.WaitClStatus(timeout, want, "nodestatus", node)
}

// Rsc is "cl_status rscstatus", trimmed (the result in <> if it failed).
func (n *Node) Rsc() string {
	r := n.ClStatus("rscstatus")
	if r.Code != 0 {
		return fmt.Sprintf("<%v>", r)
	}
	return strings.TrimSpace(r.Stdout)
}

// WaitRsc polls Rsc until it is want, and returns how long that took; it
// fails the test after timeout.
func (n *Node) WaitRsc(want string, timeout time.Duration) time.Duration {
	n.T.Helper()
	var last string
	took, ok := testbed.WaitFor(timeout, SlowPoll, func() bool { last = n.Rsc(); return last == want })
	if !ok {
		n.T.Fatalf("%s: cl_status rscstatus: want %q within %v, last %q; log:\n%s", n.Name, want, timeout, last, testbed.Tail(n.Log(), 40))
	}
	return took
}

// LogSince is the part of a growing log after its first n bytes (all of it
// if the log was rewritten meanwhile).
func LogSince(log string, n int) string {
	if n > len(log) {
		return log
	}
	return log[n:]
}
