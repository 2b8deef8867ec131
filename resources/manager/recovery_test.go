package manager

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/resources/haresources"
)

// Recovery: restart in place, counting within the window, the move after
// the restarts, failed-and-stopped when the peer cannot run it either,
// cleanup. One group per node keeps the sets (Heartbeat's local/foreign)
// apart from the group being tested.

func recoveryGroups(restarts int, window time.Duration) []haresources.Group {
	return []haresources.Group{
		{Key: "web", Node: "node1", Resources: []haresources.Resource{{Raw: "198.18.0.100"}, {Raw: "httpd"}},
			Recovery: &haresources.Recovery{Restarts: restarts, Window: window}},
		{Key: "db", Node: "node2", Resources: []haresources.Resource{{Raw: "db"}}},
	}
}

const (
	webHome = "db=node2 web=node1"
	webOn2  = "db=node2 web=node2"
	webNone = "db=node2 web="
)

func startRecoveryPair(t *testing.T, seed int64, mode string, restarts int, window time.Duration) *pair {
	p := newPair(t, seed, mode)
	p.groups = recoveryGroups(restarts, window)
	p.boot(0)
	p.boot(1)
	p.commUp(0)
	p.commUp(1)
	p.settle()
	p.expect(webHome, "start")
	return p
}

func (p *pair) status(i int, key string) GroupStatus {
	for _, g := range p.nodes[i].m.Groups() {
		if g.Key == key {
			return g
		}
	}
	p.t.Fatalf("no group %s", key)
	return GroupStatus{}
}

// fail reports a monitor failure of resource idx of web on node i.
func (p *pair) fail(i, idx int, reason string) {
	p.now += time.Second
	p.nodes[i].m.ResourceFailed(p.now, "web", idx, reason)
	p.collect(i)
	p.settle()
}

func TestMonitorFailureRestartsInPlace(t *testing.T) {
	forSeeds(t, []string{"on", "off"}, func(p *pair) {
		*p = *startRecoveryPair(t, p.rng.Int63(), p.mode, 3, 10*time.Minute)
		p.now += time.Second
		p.nodes[0].m.ResourceFailed(p.now, "web", 1, "not running")
		_, acts, evs := p.nodes[0].m.Ready()
		if len(acts) != 1 || acts[0] != (Action{Kind: Restart, Group: "web", Resource: 1}) {
			t.Fatalf("actions %+v, want one restart of web from resource 1", acts)
		}
		if st := p.status(0, "web"); st.State != "restarting" || st.Failures != 1 || st.LastFailure != "httpd: not running" {
			t.Fatalf("status during the restart %+v", st)
		}
		if p.nodes[0].m.RscStatus() != "transition" || p.nodes[0].m.Holding() != Local {
			t.Fatalf("a restarting group is held and in transition: %s %s", p.nodes[0].m.RscStatus(), p.nodes[0].m.Holding())
		}
		found := false
		for _, e := range evs {
			found = found || (e.Kind == EvResourceFailed && e.Resource == 1 && e.Level == Warn)
		}
		if !found {
			t.Fatalf("events %+v lack EvResourceFailed of resource 1", evs)
		}
		p.pool = append(p.pool, item{to: 0, act: &acts[0]})
		p.settle()
		p.expect(webHome, "restarted in place")
		if st := p.status(0, "web"); st.State != "running" || st.Failures != 1 || st.Failed {
			t.Fatalf("status after the restart %+v", st)
		}
	})
}

func TestRestartsUsedUpMoveTheGroup(t *testing.T) {
	forSeeds(t, []string{"on", "off"}, func(p *pair) {
		*p = *startRecoveryPair(t, p.rng.Int63(), p.mode, 2, 10*time.Minute)
		p.fail(0, 1, "not running")
		p.fail(0, 0, "address gone")
		p.expect(webHome, "two failures, two restarts in place")
		if p.restarts != 2 {
			t.Fatalf("%d restarts, want 2", p.restarts)
		}
		p.fail(0, 1, "not running")
		p.expect(webOn2, "third failure: restarts used up")
		st := p.status(0, "web")
		if !st.FailedForGood || st.Failures != 3 || st.State != "stopped" {
			t.Fatalf("node1's status of web %+v", st)
		}
		// auto_failback on does not bring it back: node2 did not join.
		p.now += 2 * time.Minute
		p.nodes[0].m.Tick(p.now)
		p.collect(0)
		p.settle()
		p.expect(webOn2, "later")
		// Cleanup on node1 clears it there; node2 keeps it (it runs).
		if err := p.nodes[0].m.Cleanup(p.now, "web"); err != nil {
			t.Fatal(err)
		}
		p.collect(0)
		p.settle()
		p.expect(webOn2, "cleanup while the peer runs it")
		if st := p.status(0, "web"); st.FailedForGood || st.Failures != 0 || st.LastFailure == "" {
			t.Fatalf("after cleanup %+v", st)
		}
		// Now it may come back: hb_takeover works again.
		if err := p.nodes[0].m.Takeover(p.now, Local); err != nil {
			t.Fatal(err)
		}
		p.collect(0)
		p.settle()
		p.expect(webHome, "taken back after cleanup")
	})
}

func TestRestartsZeroMovesAtFirstFailure(t *testing.T) {
	p := startRecoveryPair(t, 1, "on", 0, time.Minute)
	p.fail(0, 1, "not running")
	p.expect(webOn2, "restarts = 0")
	if p.restarts != 0 {
		t.Fatalf("%d restarts with restarts = 0", p.restarts)
	}
}

func TestFailuresOutsideTheWindowAreForgotten(t *testing.T) {
	p := startRecoveryPair(t, 1, "on", 1, time.Minute)
	for i := 0; i < 5; i++ {
		p.fail(0, 1, "not running")
		p.expect(webHome, "a failure every 61 s with 1 restart per minute")
		p.now += 60 * time.Second
	}
	if p.restarts != 5 {
		t.Fatalf("%d restarts, want 5", p.restarts)
	}
	// Two within the minute: the second moves it.
	p.fail(0, 1, "not running")
	p.fail(0, 1, "not running")
	p.expect(webOn2, "two failures within the window")
}

func TestFailedRestartsCountAndMove(t *testing.T) {
	p := startRecoveryPair(t, 1, "on", 3, 10*time.Minute)
	p.nodes[0].failStart["web"] = true // httpd cannot start on node1 any more
	p.fail(0, 1, "not running")
	p.expect(webOn2, "every restart failed")
	if p.restarts != 3 {
		t.Fatalf("%d restarts, want 3 (the monitor's failure and the first two failed restarts were restarted)", p.restarts)
	}
	if st := p.status(0, "web"); !st.FailedForGood || !strings.HasPrefix(st.LastFailure, "restart failed") {
		t.Fatalf("status %+v", st)
	}
}

// The service cannot run on either node: it moves once, fails there, comes
// back, is not started again, and stays stopped; no ping-pong, however
// long we wait. Cleanup once fixed brings it back.
func TestFailedOnBothStaysStoppedUntilCleanup(t *testing.T) {
	forSeeds(t, []string{"on", "off"}, func(p *pair) {
		*p = *startRecoveryPair(t, p.rng.Int63(), p.mode, 1, 10*time.Minute)
		p.nodes[0].failStart["web"] = true
		p.nodes[1].failStart["web"] = true
		p.fail(0, 1, "not running")
		p.expect(webNone, "unstartable on both")
		starts := 0
		for step := 0; step < 10; step++ {
			p.now += 30 * time.Second
			for i := range p.nodes {
				p.nodes[i].m.Tick(p.now)
				p.collect(i)
			}
			for _, it := range p.pool {
				if it.act != nil && it.act.Kind == Start {
					starts++
				}
			}
			p.settle()
		}
		if starts != 0 {
			t.Fatalf("%d starts in 5 minutes after the group failed on both nodes", starts)
		}
		p.expect(webNone, "five minutes later")
		if st := p.status(0, "web"); !st.FailedForGood || st.State != "stopped" {
			t.Fatalf("node1 %+v", st)
		}
		if st := p.status(1, "web"); !st.Failed {
			t.Fatalf("node2 %+v", st)
		}
		// Fixed on node1; hactl cleanup web there.
		p.nodes[0].failStart["web"] = false
		if err := p.nodes[0].m.Cleanup(p.now, "web"); err != nil {
			t.Fatal(err)
		}
		p.collect(0)
		p.settle()
		p.expect(webHome, "cleanup on node1")
	})
}

func TestExhaustedWithThePeerDownStaysStopped(t *testing.T) {
	p := startRecoveryPair(t, 1, "on", 0, time.Minute)
	p.crash(1)
	p.settle()
	p.nodes[0].m.ResourceFailed(p.now, "db", 0, "not running")
	p.collect(0)
	p.settle()
	p.fail(0, 1, "not running")
	if p.nodes[0].running["web"] {
		t.Fatalf("web still runs on node1")
	}
	st := p.status(0, "web")
	if !st.FailedForGood || st.State != "stopped" {
		t.Fatalf("status %+v", st)
	}
	// The peer comes back: it gets web (it can run it).
	p.boot(1)
	p.commUp(1)
	p.settle()
	if !p.nodes[1].running["web"] || p.nodes[0].running["web"] {
		t.Fatalf("owners %s: the returning peer should get the failed group", p.owners())
	}
}

func TestFailureReportsOutsideRunningAreIgnored(t *testing.T) {
	m := New(Config{LocalNode: "node1", Groups: recoveryGroups(3, time.Minute)}, "node2")
	m.ResourceFailed(0, "web", 1, "not running") // stopped
	m.ResourceFailed(0, "nosuch", 0, "x")
	m.ResourceFailed(0, "web", 7, "x")
	if _, acts, _ := m.Ready(); len(acts) != 0 {
		t.Fatalf("actions %+v", acts)
	}
	if err := m.Cleanup(0, "nosuch"); err == nil {
		t.Fatal("cleanup of an unknown group accepted")
	}
	m.CommUp(time.Second, false)
	m.Ready()
	m.GroupStarted(2*time.Second, "web", nil)
	m.ResourceFailed(3*time.Second, "web", 1, "not running")
	m.ResourceFailed(3*time.Second, "web", 1, "not running") // restarting: stale
	if _, acts, _ := m.Ready(); len(acts) != 1 {
		t.Fatalf("actions %+v, want one restart", acts)
	}
	// A restart whose stop failed: the group may still run: stop-failed.
	m.GroupRestarted(4*time.Second, "web", errors.Join(ErrStopFailed, errors.New("httpd would not stop")))
	if !m.StopFailed() {
		t.Fatalf("a restart whose stop failed should leave the group stop-failed: %+v", m.Groups())
	}
}
