package e2elinks

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/internal/ptycable"
	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// joinBound bounds two daemons finding each other (initdead 2s). Like
// e2ekit's bounds (of one command, of a start) it is generous: it only
// decides how long a broken build takes to fail, never what a passing run
// asserts.
const joinBound = 15 * time.Second

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

// ourNode is one of our heartbeat daemons in a test host (e2ekit.Node:
// its files, start, logs and tools), with what only these tests ask of it.
type ourNode struct{ *e2ekit.Node }

// startOurs writes the node's configuration, starts the daemon and waits
// until its control socket answers.
func startOurs(t *testing.T, h *testbed.Host, name, hacf, authkeys string) *ourNode {
	t.Helper()
	return &ourNode{e2ekit.StartNode(t, h, name, hacf, authkeys)}
}

// mustRun fails the test if the daemon has exited.
func (n *ourNode) mustRun(phase string) {
	n.T.Helper()
	if n.Proc.Exited() {
		n.T.Fatalf("%s: %s: heartbeat exited (exit %d); log:\n%s", phase, n.Name, n.Proc.ExitCode(), testbed.Tail(n.Log(), 40))
	}
}

// localLink is this node's IO counters of the medium name.
func (n *ourNode) localLink(name string) api.Link {
	n.T.Helper()
	st := n.Status()
	for _, l := range st.Links {
		if l.Name == name {
			return l
		}
	}
	n.T.Fatalf("%s: hactl status has no link %s: %+v", n.Name, name, st.Links)
	return api.Link{}
}

// peerLink is this node's view of link name to node peer.
func (n *ourNode) peerLink(peer, name string) api.LinkSnapshot {
	n.T.Helper()
	st := n.Status()
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
	n.T.Fatalf("%s: hactl status has no link %s to %s: %+v", n.Name, name, peer, st.Core.Nodes)
	return api.LinkSnapshot{}
}

// listLinks is "cl_status listhblinks node -v" parsed into link -> status.
func (n *ourNode) listLinks(node string) (map[string]string, testbed.ExecResult) {
	r := n.ClStatus("listhblinks", node, "-v")
	m := map[string]string{}
	for _, line := range strings.Split(r.Stdout, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && strings.HasPrefix(line, "\t") {
			m[f[0]] = f[1]
		}
	}
	return m, r
}

// waitLinks waits until "listhblinks node -v" shows exactly want.
func (n *ourNode) waitLinks(node string, want map[string]string, timeout time.Duration) time.Duration {
	n.T.Helper()
	var got map[string]string
	var last testbed.ExecResult
	took, ok := testbed.WaitFor(timeout, e2ekit.SlowPoll, func() bool {
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
		n.T.Fatalf("%s: listhblinks %s -v: want %v within %v, last %v (%v); log:\n%s",
			n.Name, node, want, timeout, got, last, testbed.Tail(n.Log(), 30))
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
	return p.n.Name + ": cl_status " + strings.Join(p.args, " ") + " = " + p.want
}

// measure polls every probe round-robin every fastPoll from start and
// returns, per probe, the time from start until it first held (probes
// are not polled again once they held). It fails the test if any probe
// has not held by timeout.
func measure(t *testing.T, start time.Time, timeout time.Duration, probes ...probe) []time.Duration {
	t.Helper()
	took := make([]time.Duration, len(probes))
	last := make([]testbed.ExecResult, len(probes))
	left := len(probes)
	for left > 0 {
		for i, p := range probes {
			if took[i] != 0 {
				continue
			}
			last[i] = p.n.ClStatus(p.args...)
			if strings.TrimSpace(last[i].Stdout) == p.want {
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
					t.Errorf("%v: not within %v, last %v%s; log:\n%s", p, timeout, last[i], stallNote(start), testbed.Tail(p.n.Log(), 20))
				}
			}
			t.FailNow()
		}
		time.Sleep(e2ekit.FastPoll)
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
			if r := p.n.ClStatus(p.args...); strings.TrimSpace(r.Stdout) != p.want {
				t.Fatalf("%v: broke %v into a %v hold: %v%s; log:\n%s", p, time.Since(start).Round(time.Millisecond), d, r, stallNote(start.Add(-deadtime)), testbed.Tail(p.n.Log(), 30))
			}
		}
		time.Sleep(e2ekit.SlowPoll)
	}
}

// waitLog waits (bounded) until the daemon's log holds s after offset off.
func (n *ourNode) waitLog(off int, s string, timeout time.Duration) {
	n.T.Helper()
	if _, ok := testbed.WaitFor(timeout, e2ekit.SlowPoll, func() bool { return strings.Contains(e2ekit.LogSince(n.Log(), off), s) }); !ok {
		n.T.Errorf("%s: log has no %q within %v; log since:\n%s", n.Name, s, timeout, testbed.Tail(e2ekit.LogSince(n.Log(), off), 30))
	}
}

// pairWithCable is the set-up of the links tests: node1 (198.18.0.1) and
// node2 (198.18.0.2) on one switch (eth0) and a pty cable between them;
// each daemon's serial path is its end's symlink. It returns once both
// nodes are active and see both links up.
func pairWithCable(t *testing.T) (*testbed.Host, *testbed.Host, *ourNode, *ourNode, *ptycable.Cable) {
	t.Helper()
	b, locks := newBed(t)
	sw := b.AddSwitch("lan")
	h1, h2 := b.AddHost("node1"), b.AddHost("node2")
	h1.Connect(sw, "eth0", "198.18.0.1/24")
	h2.Connect(sw, "eth0", "198.18.0.2/24")
	c := newCable(t, b, locks)
	n1 := startOurs(t, h1, "node1", linksHACF("198.18.0.2", c.Path(0)), sha256Authkeys)
	n2 := startOurs(t, h2, "node2", linksHACF("198.18.0.1", c.Path(1)), sha256Authkeys)
	start := time.Now()
	n1.WaitClStatus(joinBound, "active", "nodestatus", "node2")
	n2.WaitClStatus(joinBound, "active", "nodestatus", "node1")
	n1.waitLinks("node2", map[string]string{"eth0": "up", c.Path(0): "up"}, joinBound)
	n2.waitLinks("node1", map[string]string{"eth0": "up", c.Path(1): "up"}, joinBound)
	t.Logf("join: both active, both links up after %v", time.Since(start).Round(time.Millisecond))
	return h1, h2, n1, n2, c
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
