package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// pingDeadping is the ping tests' deadping: 10 echoes at the default
// ping interval (keepalive 100 ms).
const pingDeadping = time.Second

// pingHACF: clients and the gateway on eth0, heartbeats on a dedicated
// eth1, one ping node (the gateway) and one ping group (the gateway and
// an address nobody answers on), declared before the nodes.
func pingHACF(peerHB string) string {
	return "# e2e ping nodes\nkeepalive 100ms\ndeadtime 500ms\ninitdead 2s\ndeadping 1s\nudpport 694\n" +
		"ucast eth1 " + peerHB + "\nping 198.18.0.254\nping_group gws 198.18.0.254 198.18.0.253\n" +
		"auto_failback on\nnode node1 node2\n"
}

// pingBed builds the field's topology: node1, node2 and the gateway
// (198.18.0.254) on the client switch (eth0), the nodes' heartbeats on
// their own switch (eth1).
func pingBed(t *testing.T) (b *testbed.Bed, h1, h2 *testbed.Host) {
	t.Helper()
	b = testbed.New(t)
	lan, hb := b.AddSwitch("lan"), b.AddSwitch("hb")
	h1, h2 = b.AddHost("node1"), b.AddHost("node2")
	gw := b.AddHost("gw")
	h1.Connect(lan, "eth0", "198.18.0.1/24")
	h2.Connect(lan, "eth0", "198.18.0.2/24")
	gw.Connect(lan, "eth0", "198.18.0.254/24")
	h1.Connect(hb, "eth1", "198.19.0.1/24")
	h2.Connect(hb, "eth1", "198.19.0.2/24")
	return b, h1, h2
}

// blackhole cuts (or restores) a node's route to the gateway.
func blackhole(t *testing.T, h *testbed.Host, on bool) {
	t.Helper()
	verb := "add"
	if !on {
		verb = "del"
	}
	if r := testbed.RunCmd(e2ekit.CmdTimeout, nil, "ip", "-n", h.NS(), "route", verb, "blackhole", "198.18.0.254/32"); r.Code != 0 {
		t.Fatalf("ip route %s blackhole: %v", verb, r)
	}
}

// TestPingNodes: the ping node and group are listed, typed and reported
// by cl_status as Heartbeat 3.0.6 prints them; a blackhole on node1 makes
// both dead there within deadping, not on node2; hactl status --json shows
// each target's last answer and the counters; ping(8)'s replies (another
// identifier) are ignored and counted.
func TestPingNodes(t *testing.T) {
	_, h1, h2 := pingBed(t)
	n1 := &ourNode{e2ekit.NewNode(t, h1, "node1")}
	n1.WriteConf(pingHACF("198.19.0.2"), sha256Authkeys)
	if r := n1.Heartbeat("-t", "-c", n1.ConfDir, "-n", "node1"); r.Code != 0 ||
		!strings.Contains(r.Stdout, "\nping 198.18.0.254\n") || !strings.Contains(r.Stdout, "\nping_group gws 198.18.0.254 198.18.0.253\n") ||
		!strings.Contains(r.Stdout, "\nping_interval 100ms  # default\n") || strings.Contains(r.Stderr, "ping") {
		t.Fatalf("heartbeat -t: %v", r)
	}
	n1.Start()
	n2 := startOurs(t, h2, "node2", pingHACF("198.19.0.1"), sha256Authkeys)
	n1.WaitNodeStatus("node2", "active", joinBound)

	for _, n := range []*ourNode{n1, n2} {
		n.WaitClStatus(joinBound, "ping", "nodestatus", "198.18.0.254")
		n.WaitClStatus(joinBound, "ping", "nodestatus", "gws")
		expect := func(want string, code int, args ...string) {
			t.Helper()
			if r := n.ClStatus(args...); r.Stdout != want || r.Code != code {
				t.Errorf("on %s: cl_status %s = %v, want %q exit %d", n.Name, strings.Join(args, " "), r, want, code)
			}
		}
		// Heartbeat lists nodes in reverse order of the ha.cf lines.
		expect("node2\nnode1\ngws\n198.18.0.254\n", 0, "listnodes")
		expect("gws\n198.18.0.254\n", 0, "listnodes", "-p")
		expect("node2\nnode1\n", 0, "listnodes", "-n")
		expect("ping\n", 0, "nodetype", "198.18.0.254")
		expect("ping\n", 0, "nodetype", "gws")
		expect("normal\n", 0, "nodetype", "node2")
		expect("ping\n", 0, "nodestatus", "198.18.0.254")
	}

	// ping(8) from node1: its replies carry another identifier.
	if r := h1.Exec(t, "ping", "-c", "3", "-i", "0.2", "-W", "1", "198.18.0.254"); r.Code != 0 {
		t.Fatalf("ping(8): %v", r)
	}

	st := n1.Status()
	if st.Reach == nil || st.Reach.Alive != 2 || st.Reach.Total != 2 || len(st.Reach.Targets) != 2 {
		t.Fatalf("hactl status reach: %+v", st.Reach)
	}
	gw := st.Reach.Targets[0]
	if gw.Name != "198.18.0.254" || gw.State != "ping" || len(gw.Hosts) != 1 || gw.Hosts[0].LastReply < 0 ||
		gw.Hosts[0].LastReply > time.Second || gw.Hosts[0].Answered == 0 {
		t.Errorf("gateway target %+v", gw)
	}
	grp := st.Reach.Targets[1]
	if !grp.Group || len(grp.Hosts) != 2 || grp.Hosts[1].Addr != "198.18.0.253" || grp.Hosts[1].LastReply != -1 || grp.Hosts[1].Answered != 0 {
		t.Errorf("group target %+v", grp)
	}
	c := st.Reach.Counters
	if c.Sent == 0 || c.Replies == 0 || c.WrongID < 3 || c.Unmatched != 0 || c.SendErrors != 0 {
		t.Errorf("counters %+v (ping(8)'s 3 replies must count as wrong_id)", c)
	}

	// node1 loses the gateway: both targets dead there within deadping
	// (plus a ping interval and the poll), alive on node2.
	blackhole(t, h1, true)
	start := time.Now()
	took := n1.measureUntil(start, 5*pingDeadping, "dead", "nodestatus", "198.18.0.254")
	if took > pingDeadping+500*time.Millisecond {
		t.Errorf("ping node dead after %v, deadping %v", took, pingDeadping)
	}
	if r := n1.ClStatus("nodestatus", "198.18.0.254"); r.Code != 1 {
		t.Errorf("nodestatus of a dead ping node: %v, want exit 1", r)
	}
	n1.WaitClStatus(joinBound, "dead", "nodestatus", "gws")
	if r := n2.ClStatus("nodestatus", "198.18.0.254"); r.Stdout != "ping\n" {
		t.Errorf("node2 lost the gateway too: %v", r)
	}
	if st := n1.Status(); st.Reach.Alive != 0 {
		t.Errorf("reach after the blackhole: %+v", st.Reach)
	}
	if !strings.Contains(n1.Log(), "ping node 198.18.0.254 is dead") {
		t.Errorf("no ping-dead line in the log:\n%s", testbed.Tail(n1.Log(), 20))
	}
	// Heartbeats go over eth1: the peer stays active.
	if r := n1.ClStatus("nodestatus", "node2"); r.Stdout != "active\n" {
		t.Errorf("node2 on node1: %v", r)
	}

	blackhole(t, h1, false)
	n1.WaitClStatus(joinBound, "ping", "nodestatus", "198.18.0.254")
	n1.WaitClStatus(joinBound, "ping", "nodestatus", "gws")
}

// TestPingNodeBadTargets: a ping node that is this host is an error of
// heartbeat -t; a target unreachable at start is dead after deadping and
// alive as soon as it answers; a daemon that cannot open an ICMP socket
// (no CAP_NET_RAW) refuses to start and says why.
func TestPingNodeBadTargets(t *testing.T) {
	_, h1, _ := pingBed(t)
	n1 := &ourNode{e2ekit.NewNode(t, h1, "node1")}

	n1.WriteConf(pingHACF("198.19.0.2")+"ping 198.18.0.1\n", sha256Authkeys)
	r := n1.Host.Exec(t, e2ekit.Bin("heartbeat"), "-t", "-c", n1.ConfDir, "-n", "node1")
	if r.Code == 0 || !strings.Contains(r.Stderr, "ping node 198.18.0.1: 198.18.0.1 is an address of this host") {
		t.Errorf("heartbeat -t with a ping node on this host: %v", r)
	}

	n1.WriteConf(pingHACF("198.19.0.2"), sha256Authkeys)
	argv := append([]string{"--bounding-set", "-net_raw", "--inh-caps", "-net_raw", e2ekit.Bin("heartbeat")}, n1.Args()...)
	r = n1.Host.Exec(t, "setpriv", argv...)
	if r.Code == 0 || !strings.Contains(r.Stderr, "opening a raw ICMP socket for the ping nodes") || !strings.Contains(r.Stderr, "CAP_NET_RAW") {
		t.Errorf("heartbeat without CAP_NET_RAW: %v", r)
	}

	// Unreachable at start: init, then dead after deadping; then alive.
	blackhole(t, h1, true)
	n1.Start()
	n1.WaitClStatus(joinBound, "dead", "nodestatus", "198.18.0.254")
	if !strings.Contains(n1.Log(), "no reply within 1s of start") {
		t.Errorf("log:\n%s", testbed.Tail(n1.Log(), 20))
	}
	blackhole(t, h1, false)
	n1.WaitClStatus(joinBound, "ping", "nodestatus", "198.18.0.254")
}
