package e2elinks

import (
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/internal/testbed"
)

// TestUDPAndSerialLinks runs two of our nodes joined by a UDP link (ucast
// eth0) and a serial link (a pty cable), keepalive 100ms, deadtime 500ms,
// and cuts and restores each link and then both:
//
//	a. both links up: listhblinks -v shows both up on both nodes;
//	b. UDP cut: no failover, eth0 dead within deadtime+keepalive, the
//	   serial link stays up, "link eth0 to node2 dead, 1 of 2 paths up";
//	c. UDP restored: eth0 up again within about a second;
//	d. serial cut: no failover, the serial link dead; restored: up;
//	e. both cut: the peer is dead within deadtime+keepalive of the cut;
//	   both restored: active again with both links up.
func TestUDPAndSerialLinks(t *testing.T) {
	t.Parallel()
	h1, _, n1, n2, c := pairWithCable(t)
	tty1, tty2 := c.Path(0), c.Path(1)
	bothUp1 := map[string]string{"eth0": "up", tty1: "up"}
	bothUp2 := map[string]string{"eth0": "up", tty2: "up"}
	active := []probe{
		{n1, "active", []string{"nodestatus", "node2"}},
		{n2, "active", []string{"nodestatus", "node1"}},
	}
	// recoverBound: one keepalive for the next status on the restored
	// link, plus the polling; generous for a loaded machine.
	const recoverBound = time.Second

	t.Run("a_both_up", func(t *testing.T) {
		for _, x := range []struct {
			n    *ourNode
			peer string
			tty  string
			want map[string]string
		}{{n1, "node2", tty1, bothUp1}, {n2, "node1", tty2, bothUp2}} {
			got, r := x.n.listLinks(x.peer)
			if len(got) != 2 || got["eth0"] != "up" || got[x.tty] != "up" {
				t.Errorf("%s: listhblinks %s -v = %v (%v), want %v", x.n.Name, x.peer, got, r, x.want)
			}
			// A node lists its own two links (named as its peer's) as
			// dead, as Heartbeat does: it hears no heartbeats of its own.
			if own, r := x.n.listLinks(x.n.Name); len(own) != 2 || own["eth0"] != "dead" || own[x.tty] != "dead" {
				t.Errorf("%s: listhblinks %s -v = %v (%v), want its two links, dead", x.n.Name, x.n.Name, own, r)
			}
		}
		if r := n1.ClStatus("hblinkstatus", "node2", tty1); r.Code != 0 || strings.TrimSpace(r.Stdout) != "up" {
			t.Errorf("node1: hblinkstatus node2 %s = %v, want up, exit 0", tty1, r)
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("b_cut_udp", func(t *testing.T) {
		off1, off2 := len(n1.Log()), len(n2.Log())
		start := time.Now()
		h1.LinkDown("eth0")
		took := measure(t, start, 10*detectBound,
			probe{n1, "dead", []string{"hblinkstatus", "node2", "eth0"}},
			probe{n2, "dead", []string{"hblinkstatus", "node1", "eth0"}})
		t.Logf("UDP cut: eth0 dead on node1 after %v, on node2 after %v (bound %v)",
			took[0].Round(time.Millisecond), took[1].Round(time.Millisecond), detectBound)
		for i, d := range took {
			if d > detectBound {
				t.Errorf("node%d noticed the cut UDP link after %v, want <= deadtime+keepalive = %v%s", i+1, d, detectBound, stallNote(start))
			}
		}
		if r := n1.ClStatus("hblinkstatus", "node2", "eth0"); r.Code != 1 {
			t.Errorf("node1: hblinkstatus node2 eth0 = %v, want dead with exit 1", r)
		}
		hold(t, 3*deadtime, append(active,
			probe{n1, "up", []string{"hblinkstatus", "node2", tty1}},
			probe{n2, "up", []string{"hblinkstatus", "node1", tty2}})...)
		n1.waitLog(off1, "link eth0 to node2 dead, 1 of 2 paths up", 5*time.Second)
		n2.waitLog(off2, "link eth0 to node1 dead, 1 of 2 paths up", 5*time.Second)
		n1.waitLinks("node2", map[string]string{"eth0": "dead", tty1: "up"}, time.Second)
		n2.waitLinks("node1", map[string]string{"eth0": "dead", tty2: "up"}, time.Second)
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("c_restore_udp", func(t *testing.T) {
		off1 := len(n1.Log())
		start := time.Now()
		h1.LinkUp("eth0")
		took := measure(t, start, 10*recoverBound,
			probe{n1, "up", []string{"hblinkstatus", "node2", "eth0"}},
			probe{n2, "up", []string{"hblinkstatus", "node1", "eth0"}})
		t.Logf("UDP restored: eth0 up on node1 after %v, on node2 after %v", took[0].Round(time.Millisecond), took[1].Round(time.Millisecond))
		for i, d := range took {
			if d > recoverBound {
				t.Errorf("node%d saw the restored UDP link up after %v, want <= %v%s", i+1, d, recoverBound, stallNote(start))
			}
		}
		n1.waitLog(off1, "link eth0 to node2 up, 2 of 2 paths up", 5*time.Second)
		n1.waitLinks("node2", bothUp1, time.Second)
		n2.waitLinks("node1", bothUp2, time.Second)
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("d_cut_serial", func(t *testing.T) {
		off1, off2 := len(n1.Log()), len(n2.Log())
		start := time.Now()
		c.SetCut(true)
		took := measure(t, start, 10*detectBound,
			probe{n1, "dead", []string{"hblinkstatus", "node2", tty1}},
			probe{n2, "dead", []string{"hblinkstatus", "node1", tty2}})
		t.Logf("serial cut: dead on node1 after %v, on node2 after %v (bound %v)",
			took[0].Round(time.Millisecond), took[1].Round(time.Millisecond), detectBound)
		for i, d := range took {
			if d > detectBound {
				t.Errorf("node%d noticed the cut serial link after %v, want <= %v%s", i+1, d, detectBound, stallNote(start))
			}
		}
		hold(t, 3*deadtime, append(active,
			probe{n1, "up", []string{"hblinkstatus", "node2", "eth0"}},
			probe{n2, "up", []string{"hblinkstatus", "node1", "eth0"}})...)
		n1.waitLog(off1, "link "+tty1+" to node2 dead, 1 of 2 paths up", 5*time.Second)
		n2.waitLog(off2, "link "+tty2+" to node1 dead, 1 of 2 paths up", 5*time.Second)

		start = time.Now()
		c.SetCut(false)
		took = measure(t, start, 10*recoverBound,
			probe{n1, "up", []string{"hblinkstatus", "node2", tty1}},
			probe{n2, "up", []string{"hblinkstatus", "node1", tty2}})
		t.Logf("serial restored: up on node1 after %v, on node2 after %v", took[0].Round(time.Millisecond), took[1].Round(time.Millisecond))
		for i, d := range took {
			if d > recoverBound {
				t.Errorf("node%d saw the restored serial link up after %v, want <= %v%s", i+1, d, recoverBound, stallNote(start))
			}
		}
		n1.waitLinks("node2", bothUp1, time.Second)
		n2.waitLinks("node1", bothUp2, time.Second)
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("e_cut_both", func(t *testing.T) {
		for _, n := range []*ourNode{n1, n2} {
			if strings.Contains(n.Log(), " is dead") {
				t.Fatalf("%s declared its peer dead before both links were cut; log:\n%s", n.Name, testbed.Tail(n.Log(), 30))
			}
		}
		start := time.Now()
		c.SetCut(true)
		h1.LinkDown("eth0")
		took := measure(t, start, 10*detectBound,
			probe{n1, "dead", []string{"nodestatus", "node2"}},
			probe{n2, "dead", []string{"nodestatus", "node1"}})
		t.Logf("both cut: node1 declared node2 dead after %v, node2 declared node1 dead after %v (bound %v)",
			took[0].Round(time.Millisecond), took[1].Round(time.Millisecond), detectBound)
		for i, d := range took {
			if d > detectBound {
				t.Errorf("node%d declared its peer dead after %v, want <= deadtime+keepalive = %v%s", i+1, d, detectBound, stallNote(start))
			}
		}
		n1.waitLinks("node2", map[string]string{"eth0": "dead", tty1: "dead"}, time.Second)
		n2.waitLinks("node1", map[string]string{"eth0": "dead", tty2: "dead"}, time.Second)
		n1.mustRun("both cut")
		n2.mustRun("both cut")

		start = time.Now()
		c.SetCut(false)
		h1.LinkUp("eth0")
		took = measure(t, start, joinBound, active...)
		t.Logf("both restored: node1 sees node2 active after %v, node2 sees node1 active after %v",
			took[0].Round(time.Millisecond), took[1].Round(time.Millisecond))
		n1.waitLinks("node2", bothUp1, joinBound)
		n2.waitLinks("node1", bothUp2, joinBound)
		t.Logf("both restored: both links up on both nodes after %v", time.Since(start).Round(time.Millisecond))
	})
	n1.mustRun("end")
	n2.mustRun("end")
}
