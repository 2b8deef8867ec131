package e2efence

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hasuite/hasuite/watchdog/watchdogtest"

	"github.com/hasuite/hasuite/internal/testbed"
	"github.com/hasuite/hasuite/test/internal/e2ekit"
)

// TestHungActiveNodeIsResetByItsWatchdogAndNeverAnswersTheVIPAgain
// SIGSTOPs node1's daemon (a hang) with "watchdog <fifo>" configured on
// node1; the softdog emulator behind the FIFO (margin = deadtime, within
// the daemon's deadtime+1s rounded up) powers node1 off when it fires. The
// emulator must fire exactly once, no later than node2's takeover, and
// once node2 holds the VIP node1 must never answer for it again.
func TestHungActiveNodeIsResetByItsWatchdogAndNeverAnswersTheVIPAgain(t *testing.T) {
	var fires atomic.Int32
	var emu *watchdogtest.Emulator
	c := newCluster(t, nil, nil, func(c *cluster) {
		emu = &watchdogtest.Emulator{Path: filepath.Join(t.TempDir(), "watchdog"), Margin: deadtime,
			OnFire: func() { fires.Add(1); c.h1.PowerOff() }}
		emu.Start(t)
		hacf := hacf(node2HB, "watchdog "+emu.Path)
		e2ekit.WriteFile(t, filepath.Join(c.n1.ConfDir, "ha.cf"), hacf, 0o644)
	})
	c.startAndSettle()
	c.n1.waitLog("watchdog armed", moveBound)
	if !emu.WaitKicks(5, 5*time.Second) {
		t.Fatalf("watchdog not kicked: %+v", emu.State())
	}
	if ok, _ := emu.Fired(); ok {
		t.Fatalf("watchdog fired while node1 was healthy: %+v", emu.State())
	}

	at := time.Now()
	if err := c.n1.Proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP node1: %v", err)
	}
	var node2At time.Time
	if _, ok := testbed.WaitFor(moveBound, e2ekit.FastPoll, func() bool {
		if e2ekit.HasAddr(t, c.h2, vip) {
			node2At = time.Now()
			return true
		}
		return false
	}); !ok {
		t.Fatalf("node2 did not take the VIP within %v; node2 log:\n%s", moveBound, testbed.Tail(c.n2.Log(), 40))
	}
	if !emu.WaitFired(5 * time.Second) {
		t.Fatalf("watchdog did not fire after node1 hung: %+v", emu.State())
	}
	_, firedAt := emu.Fired()
	t.Logf("hang at 0: watchdog fired at %v, node2 had the VIP at %v",
		firedAt.Sub(at).Round(time.Millisecond), node2At.Sub(at).Round(time.Millisecond))
	// The poll that saw node2's VIP runs every few ms: allow that slack.
	if firedAt.After(node2At.Add(50 * time.Millisecond)) {
		t.Errorf("watchdog fired %v after node2 took the VIP: both nodes held it meanwhile",
			firedAt.Sub(node2At).Round(time.Millisecond))
	}
	c.n2.WaitRsc("foreign", moveBound)
	e2ekit.WaitNeigh(t, c.client, vip, c.mac2, moveBound)

	// From now on node1 never answers the VIP: powered off, the address is gone.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if answersVIP(t, c.h1, vip) {
			t.Fatalf("node1 answers %s after node2 took it", vip)
		}
		if mac, _, err := e2ekit.Neigh(c.client, vip); err == nil && mac != "" && mac != c.mac2 {
			t.Fatalf("client neighbour for %s is %s, not node2's %s", vip, mac, c.mac2)
		}
		c.ping()
		time.Sleep(100 * time.Millisecond)
	}
	if !c.ping() {
		t.Errorf("client cannot ping %s on node2", vip)
	}
	if n := fires.Load(); n != 1 {
		t.Errorf("watchdog fired %d times, want exactly 1", n)
	}
}

// TestPartitionWithFencingLeavesExactlyOneSurvivor cuts every link between
// the nodes (eth1, the only heartbeat medium) with the STONITH test device
// configured on both. node1 holds the first group, so it fences at once
// and node2 (fence_delay 2s) is fenced before it could: exactly one fence,
// node1 fenced node2, node1 alone answers the VIP.
func TestPartitionWithFencingLeavesExactlyOneSurvivor(t *testing.T) {
	dev := newFenceDevice(t)
	c := newCluster(t, nil, nil, func(cc *cluster) {
		for _, n := range []*ourNode{cc.n1, cc.n2} {
			peer := node2HB
			if n == cc.n2 {
				peer = node1HB
			}
			e2ekit.WriteFile(t, filepath.Join(n.ConfDir, "ha.cf"), hacf(peer, dev.lines(cc.prefix)...), 0o644)
		}
	})
	c.startAndSettle()

	c.h1.LinkDown("eth1")
	c.h2.LinkDown("eth1")
	took := c.n1.waitLog("node node2 fenced", moveBound)
	t.Logf("cut at 0: node1 logged node2 fenced after %v", took.Round(time.Millisecond))
	fencedAt := time.Now()
	// Both nodes answering the VIP after the fence is the split brain fencing prevents.
	testbed.WaitFor(4*time.Second, e2ekit.SlowPoll, func() bool {
		if answersVIP(t, c.h2, vip) {
			t.Errorf("node2 answers %s %v after node1 fenced it", vip, time.Since(fencedAt).Round(time.Millisecond))
			return true
		}
		return false
	})
	if !answersVIP(t, c.h1, vip) {
		t.Errorf("node1 (the survivor) does not hold %s", vip)
	}
	if r := c.n1.Rsc(); r != "local" && r != "all" {
		t.Errorf("node1 rscstatus = %q after the fence", r)
	}
	if !c.n2.Proc.Exited() {
		t.Errorf("node2's daemon survived the fence")
	}
	f := dev.fences()
	if len(f) != 1 || !strings.HasSuffix(f[0], " node2") {
		t.Errorf("fence log = %q, want exactly one fence of node2; attempts %q", f, dev.attempts())
	}
	if strings.Contains(c.n2.Log(), "fencing node node1") && len(dev.fences()) > 1 {
		t.Errorf("node2 fenced node1 too")
	}
	c.ping()
	e2ekit.WaitNeigh(t, c.client, vip, c.mac1, moveBound)
	if !strings.Contains(c.n1.Log(), "fenced") {
		t.Errorf("survivor log has no \"fenced\"")
	}
}

// TestFailingFenceDeviceBlocksTakeoverUntilItWorks powers node1 off while
// the fence device is broken: node2 must not take the VIP, must log
// "FAILED" and retry; once the device works, node2 fences and takes over.
func TestFailingFenceDeviceBlocksTakeoverUntilItWorks(t *testing.T) {
	dev := newFenceDevice(t)
	c := newCluster(t, nil, nil, func(cc *cluster) {
		e2ekit.WriteFile(t, filepath.Join(cc.n1.ConfDir, "ha.cf"), hacf(node2HB, dev.lines(cc.prefix)...), 0o644)
		e2ekit.WriteFile(t, filepath.Join(cc.n2.ConfDir, "ha.cf"), hacf(node1HB, dev.lines(cc.prefix)...), 0o644)
	})
	c.startAndSettle()
	e2ekit.WriteFile(t, dev.flag, "broken\n", 0o644)

	at := time.Now()
	c.h1.PowerOff()
	c.n2.waitLog("fencing of node node1 FAILED", moveBound)
	// Wait for a second failed attempt (retry after 5 s), the VIP must
	// stay off node2 all the while.
	if _, ok := testbed.WaitFor(20*time.Second, e2ekit.SlowPoll, func() bool {
		if e2ekit.HasAddr(t, c.h2, vip) {
			t.Fatalf("node2 took %s %v after node1's power-off although fencing failed; log:\n%s",
				vip, time.Since(at).Round(time.Millisecond), testbed.Tail(c.n2.Log(), 30))
		}
		return strings.Count(c.n2.Log(), "fencing of node node1 FAILED") >= 2 && len(dev.attempts()) >= 2
	}); !ok {
		t.Fatalf("node2 did not retry the failed fence within 20 s: %d FAILED lines, attempts %q; log:\n%s",
			strings.Count(c.n2.Log(), "fencing of node node1 FAILED"), dev.attempts(), testbed.Tail(c.n2.Log(), 30))
	}
	t.Logf("two failed attempts %v after the power-off: %q", time.Since(at).Round(time.Millisecond), dev.attempts())
	// Heartbeat says "transition" while resource activity is pending.
	if r := c.n2.Rsc(); r != "none" && r != "transition" {
		t.Errorf("node2 rscstatus = %q while node1 is not fenced, want none or transition", r)
	}

	if err := os.Remove(dev.flag); err != nil {
		t.Fatal(err)
	}
	fixed := time.Now()
	took := c.n2.waitLog("node node1 fenced", 30*time.Second)
	e2ekit.WaitAddr(t, c.h2, vip, true, moveBound)
	c.n2.WaitRsc("foreign", moveBound)
	t.Logf("device fixed: node2 fenced node1 %v later and holds %s", took.Round(time.Millisecond), vip)
	if f := dev.fences(); len(f) != 1 || !strings.HasSuffix(f[0], " node1") {
		t.Errorf("fence log = %q, want one fence of node1", f)
	}
	_ = fixed
}

// TestPartitionWithoutFencingHealsToThePreferredNode cuts every link
// between the nodes without fencing: node2 takes the VIP too (split
// brain). After the links come back, within 2 s exactly one node holds
// the group (node1, the preferred one) and the client's neighbour table
// points at node1's MAC (the keeper re-announces the VIP).
func TestPartitionWithoutFencingHealsToThePreferredNode(t *testing.T) {
	c := newCluster(t, nil, nil, nil)
	c.startAndSettle()

	c.h1.LinkDown("eth1")
	c.h2.LinkDown("eth1")
	e2ekit.WaitAddr(t, c.h2, vip, true, moveBound)
	if !e2ekit.HasAddr(t, c.h1, vip) {
		t.Fatalf("node1 gave up %s during the partition", vip)
	}
	e2ekit.WaitNeigh(t, c.client, vip, c.mac2, moveBound)
	time.Sleep(500 * time.Millisecond)

	heal := time.Now()
	c.h1.LinkUp("eth1")
	c.h2.LinkUp("eth1")
	var h1, h2 bool
	var mac string
	took, ok := testbed.WaitFor(2*time.Second, e2ekit.FastPoll, func() bool {
		h1, h2 = e2ekit.HasAddr(t, c.h1, vip), e2ekit.HasAddr(t, c.h2, vip)
		mac, _, _ = e2ekit.Neigh(c.client, vip)
		return h1 && !h2 && mac == c.mac1
	})
	if !ok {
		t.Fatalf("2 s after the heal: node1 has %s=%v, node2 has it=%v, client neighbour %s (node1 %s, node2 %s)\nnode1 log:\n%s\nnode2 log:\n%s",
			vip, h1, h2, mac, c.mac1, c.mac2, testbed.Tail(c.n1.Log(), 25), testbed.Tail(c.n2.Log(), 25))
	}
	t.Logf("heal: node1 alone holds %s and the client points at it %v later", vip, took.Round(time.Millisecond))
	_ = heal
	c.n1.WaitRsc("local", moveBound)
	c.n2.WaitRsc("none", moveBound)
}
