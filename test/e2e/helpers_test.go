package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// joinBound bounds two daemons finding each other. Like e2ekit's bounds
// (of one command, of a start) it is generous: it only decides how long a
// broken build takes to fail, never what a passing run asserts.
const joinBound = 15 * time.Second

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

// ourNode is one of our heartbeat daemons in a test host (e2ekit.Node:
// its files, start, logs and tools), with what only these tests ask of it.
type ourNode struct{ *e2ekit.Node }

// startOurs creates and starts a node.
func startOurs(t *testing.T, h *testbed.Host, name, hacf, authkeys string) *ourNode {
	t.Helper()
	return &ourNode{e2ekit.StartNode(t, h, name, hacf, authkeys)}
}

// peer is this node's view of node name.
func (n *ourNode) peer(name string) api.NodeSnapshot {
	n.T.Helper()
	st := n.Status()
	p, ok := findNode(st, name)
	if !ok {
		n.T.Fatalf("%s: hactl status has no node %s: %+v", n.Name, name, st.Core.Nodes)
	}
	return p
}

func findNode(st *api.Status, name string) (api.NodeSnapshot, bool) {
	for _, nd := range st.Core.Nodes {
		if nd.Name == name {
			return nd, true
		}
	}
	return api.NodeSnapshot{}, false
}

func findLink(nd api.NodeSnapshot, name string) (api.LinkSnapshot, bool) {
	for _, l := range nd.Links {
		if l.Name == name {
			return l, true
		}
	}
	return api.LinkSnapshot{}, false
}

// measureUntil polls cl_status every fastPoll from start until it prints
// want, and returns the time since start (so the caller's fault injection
// is included); it fails the test after timeout.
func (n *ourNode) measureUntil(start time.Time, timeout time.Duration, want string, args ...string) time.Duration {
	n.T.Helper()
	var last testbed.ExecResult
	for {
		last = n.ClStatus(args...)
		if strings.TrimSpace(last.Stdout) == want {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			n.T.Fatalf("%s: cl_status %s: want %q within %v of the fault, last %v; log:\n%s",
				n.Name, strings.Join(args, " "), want, timeout, last, testbed.Tail(n.Log(), 30))
		}
		time.Sleep(e2ekit.FastPoll)
	}
}

// waitPeerDeadtime waits until the node applies its configured deadtime to
// peer (not initdead, not a start-up allowance), so a detection time
// measured afterwards is the steady-state one.
func (n *ourNode) waitPeerDeadtime(peer string, want time.Duration) {
	n.T.Helper()
	var got time.Duration
	if _, ok := testbed.WaitFor(joinBound, e2ekit.SlowPoll, func() bool {
		st, err := n.TryStatus()
		if err != nil {
			return false
		}
		p, _ := findNode(st, peer)
		got = p.Deadtime
		return st.Core.CommUp && got == want
	}); !ok {
		n.T.Fatalf("%s: deadtime applied to %s is %v, want %v", n.Name, peer, got, want)
	}
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
	n1.WaitNodeStatus("node2", "active", joinBound)
	n2.WaitNodeStatus("node1", "active", joinBound)
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
