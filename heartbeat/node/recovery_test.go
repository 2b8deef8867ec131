package node

import (
	"testing"
	"time"

	"github.com/hasuite/hasuite/resources/haresources"
	"github.com/hasuite/hasuite/resources/manager"
)

// Resource recovery through the node layer: ResourceFailed in, Restart
// actions and typed events out; the move after the restarts and the
// failed-and-stopped end with Cleanup, over a real membership core.

func recoveryPair(t *testing.T, restarts int) *pair {
	gs := groups("node1", "node2")
	gs[0].Resources = []haresources.Resource{{Raw: "198.18.0.100"}, {Raw: "httpd"}}
	gs[0].Recovery = &haresources.Recovery{Restarts: restarts, Window: 10 * time.Minute}
	p := newPair(t, gs, false)
	p.run(5 * time.Second)
	if p.holds(0) != "[g1]" || p.holds(1) != "[g2]" {
		t.Fatalf("start: node1 %s node2 %s", p.holds(0), p.holds(1))
	}
	return p
}

func (p *pair) resourceFailed(i, res int) {
	p.now += 100 * time.Millisecond
	p.nodes[i].ResourceFailed(p.tm(), "g1", res, "not running")
	p.drain(i)
	p.run(3 * time.Second)
}

func TestResourceFailedRestartsInPlace(t *testing.T) {
	p := recoveryPair(t, 2)
	p.nodes[0].ResourceFailed(p.tm(), "g1", 1, "not running")
	r := p.nodes[0].Ready()
	if len(r.Actions) != 1 || r.Actions[0].Kind.String() != "restart" || r.Actions[0].Resource != 1 || r.Actions[0].Group != "g1" {
		t.Fatalf("actions %+v, want a restart of g1 from resource 1", r.Actions)
	}
	var ev *Event
	for k := range r.Events {
		if r.Events[k].Kind == ResourceFailed {
			ev = &r.Events[k]
		}
	}
	if ev == nil || ev.Group != "g1" || ev.Resource != 1 || ev.Kind.String() != "resource-failed" {
		t.Fatalf("events %+v lack resource-failed of g1/1", r.Events)
	}
	if len(r.Messages) != 0 {
		t.Fatalf("a restart in place sent %d messages: the peer must see nothing", len(r.Messages))
	}
	p.nodes[0].GroupRestarted(p.tm(), "g1", nil)
	p.drain(0)
	p.run(time.Second)
	if p.holds(0) != "[g1]" || p.holds(1) != "[g2]" || p.nodes[0].RscStatus() != "local" {
		t.Fatalf("after the restart: node1 %s node2 %s rsc %s", p.holds(0), p.holds(1), p.nodes[0].RscStatus())
	}
}

func TestResourceFailuresMoveThenFailedOnBothThenCleanup(t *testing.T) {
	p := recoveryPair(t, 1)
	p.resourceFailed(0, 1)
	if p.holds(0) != "[g1]" {
		t.Fatalf("first failure: node1 %s", p.holds(0))
	}
	p.failOn["node2/g1/start"] = true
	p.resourceFailed(0, 1)
	p.run(10 * time.Second)
	if p.holds(0) != "[]" || p.holds(1) != "[g2]" || p.running[0]["g1"] || p.running[1]["g1"] {
		t.Fatalf("failed on both: node1 %s node2 %s", p.holds(0), p.holds(1))
	}
	k := p.kinds(0)
	if k[GroupFailed] != 1 || k[ResourceFailed] != 2 {
		t.Fatalf("node1's events %v: want one group-failed and two resource-failed", k)
	}
	if p.kinds(1)[GroupStartFailed] != 1 {
		t.Fatalf("node2 should have tried once: %v", p.kinds(1))
	}
	// No ping-pong, however long we wait.
	p.run(5 * time.Minute)
	if k := p.kinds(1)[GroupStartFailed]; k != 1 || p.running[0]["g1"] || p.running[1]["g1"] {
		t.Fatalf("after 5 min: node2 start failures %d, g1 on node1 %v node2 %v", k, p.running[0]["g1"], p.running[1]["g1"])
	}
	for _, g := range p.nodes[0].Groups() {
		if g.Key == "g1" {
			if !g.FailedForGood || g.Failures != 2 || g.LastFailure != "httpd: not running" {
				t.Fatalf("node1's status of g1 %+v", g)
			}
		}
	}
	if err := p.nodes[0].Cleanup(p.tm(), "nosuch"); err == nil {
		t.Fatal("cleanup of an unknown group accepted")
	}
	if err := p.nodes[0].Cleanup(p.tm(), "g1"); err != nil {
		t.Fatal(err)
	}
	p.drain(0)
	p.run(3 * time.Second)
	if p.holds(0) != "[g1]" || p.holds(1) != "[g2]" {
		t.Fatalf("after cleanup: node1 %s node2 %s", p.holds(0), p.holds(1))
	}
}

func TestRestartStopFailureFencesSelf(t *testing.T) {
	p := recoveryPair(t, 3)
	p.failOn["node1/g1/restart"] = true
	p.nodes[0].ResourceFailed(p.tm(), "g1", 0, "address gone")
	r := p.nodes[0].Ready()
	if len(r.Actions) != 1 {
		t.Fatalf("actions %+v", r.Actions)
	}
	p.nodes[0].GroupRestarted(p.tm(), "g1", errStopFailed())
	if r := p.nodes[0].Ready(); !r.FenceSelf {
		t.Fatalf("a restart whose stop failed must fence this node")
	}
}

func errStopFailed() error {
	return fmtErr{manager.ErrStopFailed}
}

type fmtErr struct{ err error }

func (e fmtErr) Error() string { return "stop of httpd failed: " + e.err.Error() }
func (e fmtErr) Unwrap() error { return e.err }
