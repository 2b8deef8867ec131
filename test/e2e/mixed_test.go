package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// Timings of the mixed cluster. The real node's deadtime is whole seconds
// in practice (it polls every 250 ms); initdead 4 only draws a warning.
const (
	mixedKeepalive = 200 * time.Millisecond
	mixedDeadtime  = 2 * time.Second
	// realJoinBound covers the real node's start-up (it advertises a longer
	// deadtime for 5 s and joins through reqnodes/repnodes).
	realJoinBound = 30 * time.Second
	// realSettleBound covers the real node's initial resource negotiation
	// (~10 s after comm-up).
	realSettleBound = 60 * time.Second
	// realDeadBound bounds the real node's dead-node detection: deadtime
	// plus its 250 ms poll plus a loaded machine.
	realDeadBound = mixedDeadtime + 10*time.Second
)

func mixedHACF(peerAddr string) string {
	return "keepalive 200ms\ndeadtime 2\nwarntime 1\ninitdead 4\nudpport 694\nucast eth0 " + peerAddr +
		"\nauto_failback on\ncrm no\nnode node1 node2\n"
}

// realLogComplaints are the real node's words for packets it rejects.
var realLogComplaints = []string{"authtoken does not match", "bad packet", "Invalid message", "returning after partition"}

// TestMixedClusterWithRealHeartbeat306 pairs our node1 with a real Linux-HA
// Heartbeat 3.0.6 node2, once with md5 and once with sha1 keys, and checks
// both directions of every liveness event: join, crash and restart of
// ours, graceful stop of ours (shutdone), crash of the real node, restart
// and graceful stop of the real node; and that neither side ever rejects a
// packet of the other.
func TestMixedClusterWithRealHeartbeat306(t *testing.T) {
	testbed.RequireRealHeartbeat(t)
	for _, tc := range []struct{ name, authkeys string }{
		{"md5", "auth 1\n1 md5 s3cret\n"},
		{"sha1", "auth 1\n1 sha1 Sha1Key!\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mixedCluster(t, tc.authkeys)
		})
	}
}

func mixedCluster(t *testing.T, authkeys string) {
	b := testbed.New(t)
	sw := b.AddSwitch("lan")
	h1, h2 := b.AddHost("node1"), b.AddHost("node2")
	h1.Connect(sw, "eth0", "198.18.0.1/24")
	h2.Connect(sw, "eth0", "198.18.0.2/24")
	realCfg := testbed.RealHBConfig{Node: "node2", HACF: mixedHACF("198.18.0.1"), Authkeys: authkeys}

	ours := startOurs(t, h1, "node1", mixedHACF("198.18.0.2"), authkeys)
	real := h2.StartRealHeartbeat(t, realCfg)
	start := time.Now()
	real.WaitNodeStatus(t, "node1", "active", realJoinBound)
	ours.WaitNodeStatus("node2", "active", realJoinBound)
	t.Logf("join: both sides active after %v", time.Since(start).Round(time.Millisecond))
	settled := real.WaitSettled(t, realSettleBound)
	t.Logf("the real node left rscstatus transition after %v more", settled.Round(time.Millisecond))
	if out, code := real.ClStatus(t, "nodestatus", "node2"); code != 0 || out != "active\n" {
		t.Errorf("real node about itself: %q, exit %d", out, code)
	}

	// restartOurs brings our node back once the real node has finished
	// taking over from it. Seen once: our node restarted 1 s after the real
	// node declared it dead, while that node's takeover was still running;
	// it logged "T_STARTING received during takeover", completed the whole
	// starting/standby exchange with us, and still reported rscstatus
	// "transition" a minute later. That looks like Heartbeat's own state
	// (a real Heartbeat peer restarting as fast was not tried); this test
	// checks the liveness of both sides, not that race.
	restartOurs := func() {
		t.Helper()
		real.WaitSettled(t, realSettleBound)
		ours.Start()
	}

	bothActive := func(phase string) {
		t.Helper()
		real.WaitNodeStatus(t, "node1", "active", realJoinBound)
		ours.WaitNodeStatus("node2", "active", realJoinBound)
		real.WaitSettled(t, realSettleBound)
		t.Logf("%s: both sides active again", phase)
	}

	// (i) Our node crashes and comes back.
	start = time.Now()
	ours.Kill()
	real.WaitNodeStatus(t, "node1", "dead", realDeadBound)
	t.Logf("(i) real node declared our crashed node dead %v after SIGKILL (deadtime %v)",
		time.Since(start).Round(time.Millisecond), mixedDeadtime)
	if d := time.Since(start); d < mixedDeadtime/2 {
		t.Errorf("(i) real node declared ours dead after %v, long before deadtime", d)
	}
	restartOurs()
	bothActive("(i) after restarting ours")

	// (ii) Our node stops gracefully. Heartbeat 3.0.6 acts on shutdone at
	// once ("Received shutdown notice", takeover without fencing) but keeps
	// reporting the node's status until its deadtime runs out (§4.8), so
	// what must come quickly is the notice in its log.
	ours.waitPeerDeadtime("node2", mixedDeadtime)
	beforeStop := len(real.Log())
	start = time.Now()
	stopped := make(chan testbed.ExecResult, 1)
	go func() { stopped <- ours.Heartbeat("-k") }()
	const notice = "Received shutdown notice from 'node1'."
	noticed, ok := testbed.WaitFor(realDeadBound, e2ekit.FastPoll, func() bool {
		return strings.Contains(e2ekit.LogSince(real.Log(), beforeStop), notice)
	})
	if !ok {
		t.Fatalf("(ii) the real node never logged %q; its log:\n%s", notice, testbed.Tail(e2ekit.LogSince(real.Log(), beforeStop), 20))
	}
	var kr testbed.ExecResult
	select {
	case kr = <-stopped:
	case <-time.After(2 * e2ekit.CmdTimeout):
		t.Fatal("(ii) heartbeat -k did not return")
	}
	if kr.Code != 0 {
		t.Errorf("(ii) heartbeat -k = %v", kr)
	}
	real.WaitNodeStatus(t, "node1", "dead", realDeadBound)
	deadAfter := time.Since(start)
	t.Logf("(ii) real node logged our shutdone %v after heartbeat -k (which took %v); nodestatus dead after %v; its log:\n%s",
		noticed.Round(time.Millisecond), kr.Took.Round(time.Millisecond), deadAfter.Round(time.Millisecond), testbed.Tail(e2ekit.LogSince(real.Log(), beforeStop), 12))
	if noticed >= time.Second {
		t.Errorf("(ii) real node logged our shutdone %v after heartbeat -k, want < 1s (deadtime %v)", noticed, mixedDeadtime)
	}
	if !strings.Contains(e2ekit.LogSince(real.Log(), beforeStop), "Resources being acquired from node1.") {
		t.Errorf("(ii) the real node did not take over from our stopped node")
	}
	restartOurs()
	bothActive("(ii) after restarting ours")

	// (iii) The real node crashes: ours must see it dead within deadtime +
	// keepalive of the kill.
	ours.waitPeerDeadtime("node2", mixedDeadtime)
	start = time.Now()
	real.Kill()
	took := ours.measureUntil(start, realDeadBound, "dead", "nodestatus", "node2")
	t.Logf("(iii) our node declared the crashed real node dead %v after SIGKILL (deadtime %v, keepalive %v)",
		took.Round(time.Millisecond), mixedDeadtime, mixedKeepalive)
	if bound := mixedDeadtime + mixedKeepalive; took > bound {
		t.Errorf("(iii) real node declared dead after %v, want <= %v", took, bound)
	}
	if took < mixedDeadtime/2 {
		t.Errorf("(iii) real node declared dead after %v, long before deadtime", took)
	}

	// (iv) The real node restarts (a higher generation), then stops
	// gracefully: ours must see that at once from its shutdone.
	gen0 := ours.peer("node2").Generation
	realLogBefore := real.Log()
	real = h2.StartRealHeartbeat(t, realCfg)
	bothActive("(iv) after restarting the real node")
	if g := ours.peer("node2").Generation; g <= gen0 {
		t.Errorf("(iv) the restarted real node's generation is %d, was %d", g, gen0)
	}
	ours.waitPeerDeadtime("node2", mixedDeadtime)
	start = time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		real.Stop(t)
	}()
	took = ours.measureUntil(start, realDeadBound, "dead", "nodestatus", "node2")
	select {
	case <-done:
	case <-time.After(testbed.DefaultStopTimeout + 10*time.Second):
		t.Fatal("(iv) real node's Stop did not return")
	}
	t.Logf("(iv) our node declared the gracefully stopping real node dead %v after the stop began", took.Round(time.Millisecond))
	if took >= mixedDeadtime {
		t.Errorf("(iv) our node noticed the real node's graceful stop after %v, not before deadtime %v", took, mixedDeadtime)
	}
	if !strings.Contains(ours.Log(), "node node2 announced a graceful stop (shutdone)") {
		t.Errorf("(iv) our node did not log the real node's shutdone:\n%s", testbed.Tail(ours.Log(), 20))
	}
	if !strings.Contains(real.Log(), "Heartbeat shutdown complete.") {
		t.Errorf("(iv) the real node did not shut down gracefully:\n%s", testbed.Tail(real.Log(), 20))
	}

	// Neither side rejected anything of the other during the whole test.
	for _, w := range realLogComplaints {
		if strings.Contains(realLogBefore, w) || strings.Contains(real.Log(), w) {
			t.Errorf("the real node's log has %q", w)
		}
	}
	st := ours.Status()
	if st.Dropped.BadAuth != 0 || st.Dropped.NoAuth != 0 || st.Dropped.Malformed != 0 || st.Dropped.TooLarge != 0 {
		t.Errorf("our node dropped packets of the real node: %+v", st.Dropped)
	}
	if strings.Contains(ours.Log(), "returning after partition") {
		t.Errorf("our node saw a return after partition:\n%s", testbed.Tail(ours.Log(), 20))
	}
}
