package e2elinks

import (
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// Bounds of the mixed cluster (keepalive 1, deadtime 10, initdead 20).
const (
	// mixedJoinBound covers the real node's start-up and join over a
	// 19200-baud line (it paces 512-byte chunks at the line rate).
	mixedJoinBound = 60 * time.Second
	// mixedSettleBound covers the real node's initial resource negotiation
	// (~10 s after comm-up).
	mixedSettleBound = 60 * time.Second
	// mixedDeadBound bounds dead-node detection: deadtime 10 s, plus the
	// real node's 250 ms poll, plus a loaded machine.
	mixedDeadBound = 20 * time.Second
)

// TestMixedSerialOnlyWithRealHeartbeat306 joins our node1 and a real
// Linux-HA Heartbeat 3.0.6 node2 by nothing but a pty serial cable (the
// hosts have no network link): the real node is configured with
// "serial /dev/pts/N", baud 19200 (it forces RTS/CTS, which a pty
// ignores), ours with the cable's symlink, baud 19200 and "rtscts off";
// keepalive 1, deadtime 10, md5 keys. Both sides must see each other
// active, each side's serial link to the other must be up, and neither may
// reject a frame of the other.
func TestMixedSerialOnlyWithRealHeartbeat306(t *testing.T) {
	testbed.RequireRealHeartbeat(t)
	t.Parallel()
	b, locks := newBed(t)
	h1, h2 := b.AddHost("node1"), b.AddHost("node2")
	c := newCable(t, b, locks)
	realTTY := c.Device(1) // the real node's tty: the pty slave itself
	ourTTY := c.Path(0)
	const authkeys = "auth 1\n1 md5 s3cret\n"
	common := "keepalive 1\ndeadtime 10\nwarntime 5\ninitdead 20\nbaud 19200\n"
	ours := startOurs(t, h1, "node1",
		common+"rtscts off\nserial "+ourTTY+"\nauto_failback on\nnode node1 node2\n", authkeys)
	real := h2.StartRealHeartbeat(t, testbed.RealHBConfig{Node: "node2", Authkeys: authkeys,
		HACF: common + "serial " + realTTY + "\nauto_failback on\ncrm no\nnode node1 node2\n"})
	// Kill the real node before the cable closes (cleanups run last in,
	// first out): Heartbeat 3.0.6's serial read child spins on a hung-up
	// tty ("EOF in ttygets", hundreds of lines a second) at realtime
	// priority, which starves everything else on the machine until it is
	// killed, and the killer is one of the starved.
	t.Cleanup(real.Kill)

	// The real node must see the pty slave inside its sandbox (own mount
	// namespace, /dev shared with the machine).
	if r := real.Exec(t, "test", "-c", realTTY); r.Code != 0 {
		t.Fatalf("the real node's sandbox does not see %s as a character device: %+v", realTTY, r)
	}

	start := time.Now()
	real.WaitNodeStatus(t, "node1", "active", mixedJoinBound)
	ours.WaitClStatus(mixedJoinBound, "active", "nodestatus", "node2")
	t.Logf("join over serial only: both sides active after %v", time.Since(start).Round(time.Millisecond))
	real.WaitClStatus(t, mixedJoinBound, "up", "hblinkstatus", "node1", realTTY)
	ours.WaitClStatus(mixedJoinBound, "up", "hblinkstatus", "node2", ourTTY)
	settled := real.WaitSettled(t, mixedSettleBound)
	t.Logf("the real node left rscstatus transition after %v more", settled.Round(time.Millisecond))

	// Each side's view, through its own cl_status.
	if out, code := real.ClStatus(t, "listhblinks", "node1", "-v"); code != 0 || !strings.Contains(out, "\t"+realTTY+"\tup") {
		t.Errorf("real node: listhblinks node1 -v = %q (exit %d), want %s up", out, code, realTTY)
	}
	if out, code := real.ClStatus(t, "nodestatus", "node1"); code != 0 || out != "active\n" {
		t.Errorf("real node: nodestatus node1 = %q (exit %d), want active", out, code)
	}
	if out, code := real.ClStatus(t, "nodestatus", "node2"); code != 0 || out != "active\n" {
		t.Errorf("real node about itself: nodestatus node2 = %q (exit %d), want active", out, code)
	}
	ours.waitLinks("node2", map[string]string{ourTTY: "up"}, time.Second)
	if r := ours.ClStatus("nodestatus", "node1"); strings.TrimSpace(r.Stdout) != "active" {
		t.Errorf("our node about itself: %v", r)
	}

	// A few more keepalives, then nobody may have rejected anything.
	rx0 := ours.localLink(ourTTY).RxPackets
	if _, ok := testbed.WaitFor(mixedJoinBound, e2ekit.SlowPoll, func() bool { return ours.localLink(ourTTY).RxPackets >= rx0+3 }); !ok {
		t.Errorf("ours received fewer than 3 frames from the real node in %v", mixedJoinBound)
	}
	st := ours.Status()
	var rx, bad uint64
	for _, l := range st.Links {
		if l.Name == ourTTY {
			rx, bad = l.RxPackets, l.RxBad
		}
	}
	t.Logf("ours: serial rx %d frames, rx_bad %d, dropped %+v", rx, bad, st.Dropped)
	if rx == 0 || bad != 0 || st.Dropped.BadAuth != 0 || st.Dropped.Malformed != 0 || st.Dropped.NoAuth != 0 {
		t.Errorf("ours rejected frames of the real node: rx %d, rx_bad %d, dropped %+v", rx, bad, st.Dropped)
	}
	for _, complaint := range []string{"authtoken does not match", "bad packet", "Invalid message", "is dead", "Link node1:" + realTTY + " dead"} {
		if strings.Contains(real.Log(), complaint) {
			t.Errorf("real node logged %q:\n%s", complaint, grep(real.Log(), complaint))
		}
	}
	if d := testbed.CountLines(ours.Log(), " is dead"); d != 0 {
		t.Errorf("ours declared the real node dead %d times:\n%s", d, grep(ours.Log(), " is dead"))
	}
	ours.mustRun("end")
	if !real.Running() {
		t.Errorf("the real node exited; log:\n%s", testbed.Tail(real.Log(), 30))
	}
	t.Logf("real node's lines about the link: %q", grep(real.Log(), "Link node1"))
	if t.Failed() {
		return
	}

	// The cable is the only path: cut it and both sides lose each other
	// after deadtime; restore it and they are active again.
	start = time.Now()
	c.SetCut(true)
	took := measure(t, start, mixedDeadBound, probe{ours, "dead", []string{"nodestatus", "node2"}})
	real.WaitNodeStatus(t, "node1", "dead", mixedDeadBound)
	t.Logf("cable cut: ours declared the real node dead after %v, the real node declared ours dead after %v (deadtime 10s)",
		took[0].Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if took[0] < 9*time.Second {
		t.Errorf("ours declared the real node dead %v after the cut, before deadtime 10s", took[0])
	}
	start = time.Now()
	c.SetCut(false)
	real.WaitNodeStatus(t, "node1", "active", mixedJoinBound)
	ours.WaitClStatus(mixedJoinBound, "active", "nodestatus", "node2")
	real.WaitClStatus(t, mixedJoinBound, "up", "hblinkstatus", "node1", realTTY)
	ours.WaitClStatus(mixedJoinBound, "up", "hblinkstatus", "node2", ourTTY)
	t.Logf("cable restored: both sides active, links up after %v", time.Since(start).Round(time.Millisecond))
	ours.mustRun("after the cut")
	if !real.Running() {
		t.Errorf("the real node exited after the cut; log:\n%s", testbed.Tail(real.Log(), 30))
	}
}
