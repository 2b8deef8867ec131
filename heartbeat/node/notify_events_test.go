package node

import (
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/core"
	"github.com/hasuite/hasuite/resources/haresources"
	"github.com/hasuite/hasuite/resources/manager"
)

// restart replaces node i, which crashed, by a new node layer with the
// next generation, and starts it.
func (p *pair) restart(i int, gs []haresources.Group) {
	n, err := New(Config{
		Core: core.Config{LocalNode: p.names[i], Nodes: p.names[:], Links: []string{"eth0"},
			Keepalive: 100 * time.Millisecond, Deadtime: 500 * time.Millisecond,
			Warntime: 300 * time.Millisecond, Initdead: time.Second, UUID: make([]byte, 16),
			Generation: 2, FlowControl: true, Seed: int64(i + 11)},
		Resources: manager.Config{Groups: gs, AutoFailback: "on", RequestDelay: 2 * time.Second,
			StandbyTimeout: 2 * time.Second},
		StopGrace: time.Second, MoveTimeout: 20 * time.Second, NoAnswerTimeout: 5 * time.Second,
	})
	if err != nil {
		p.t.Fatal(err)
	}
	p.nodes[i], p.up[i], p.running[i] = n, true, map[string]bool{}
	n.Start(p.tm())
	p.drain(i)
}

// The move events notify hooks report as "standby" and "takeover": an
// operator's hb_standby and hb_takeover, the standby the peer's
// hb_takeover asks for, and auto_failback's standby, each with its cause.
func TestMoveEvents(t *testing.T) {
	find := func(evs []Event, k EventKind) []Event {
		var out []Event
		for _, e := range evs {
			if e.Kind == k {
				out = append(out, e)
			}
		}
		return out
	}
	t.Run("operator standby", func(t *testing.T) {
		p := newPair(t, groups("node1", "node2"), false)
		p.run(5 * time.Second)
		p.events = [2][]Event{}
		if err := p.nodes[0].Move(p.tm(), 1, Standby, "all"); err != nil {
			t.Fatal(err)
		}
		p.drain(0)
		p.run(5 * time.Second)
		s := find(p.events[0], StandbyStarted)
		if len(s) != 1 || s[0].Move != manager.MoveOperator || s[0].Kind.String() != "standby" {
			t.Fatalf("node1 standby events %+v", s)
		}
		if n := len(find(p.events[1], StandbyStarted)) + len(find(p.events[1], TakeoverAsked)); n != 0 {
			t.Fatalf("node2 reported %d moves of its own", n)
		}
	})
	t.Run("operator takeover makes the peer go standby", func(t *testing.T) {
		p := newPair(t, groups("node1", "node2"), false)
		p.run(5 * time.Second)
		p.events = [2][]Event{}
		if err := p.nodes[0].Move(p.tm(), 1, Takeover, "foreign"); err != nil {
			t.Fatal(err)
		}
		p.drain(0)
		p.run(5 * time.Second)
		tk := find(p.events[0], TakeoverAsked)
		if len(tk) != 1 || tk[0].Move != manager.MoveOperator || tk[0].Kind.String() != "takeover" {
			t.Fatalf("node1 takeover events %+v", tk)
		}
		s := find(p.events[1], StandbyStarted)
		if len(s) != 1 || s[0].Move != manager.MovePeerRequest {
			t.Fatalf("node2 standby events %+v", s)
		}
	})
	t.Run("auto_failback", func(t *testing.T) {
		p := newPair(t, groups("node1"), false)
		p.run(5 * time.Second)
		p.up[0] = false // node1 crashes; node2 takes g1
		p.run(3 * time.Second)
		if got := p.holds(1); got != "[g1]" {
			t.Fatalf("node2 runs %s after node1's crash", got)
		}
		// node1 restarts (a new layer, a new generation).
		p.events = [2][]Event{}
		p.restart(0, groups("node1"))
		p.run(10 * time.Second)
		if got := p.holds(0); got != "[g1]" {
			t.Fatalf("node1 runs %s after auto_failback", got)
		}
		s := find(p.events[1], StandbyStarted)
		if len(s) != 1 || s[0].Move != manager.MoveAutoFailback {
			t.Fatalf("node2 standby events %+v", s)
		}
	})
}

// A partition without fencing: both nodes run g1 (and g2). When the link
// heals, each side reports split-brain, then split-brain-healed once every
// group has one owner again, in that order.
func TestSplitBrainThenHealed(t *testing.T) {
	p := newPair(t, groups("node1", "node2"), false)
	p.run(5 * time.Second)
	p.cut = true
	p.run(3 * time.Second)
	if p.holds(0) != "[g1 g2]" || p.holds(1) != "[g1 g2]" {
		t.Fatalf("partition: node1 runs %s, node2 %s; want both everything", p.holds(0), p.holds(1))
	}
	p.events = [2][]Event{}
	p.cut = false
	p.run(10 * time.Second)
	if p.holds(0) != "[g1]" || p.holds(1) != "[g2]" {
		t.Fatalf("healed: node1 runs %s, node2 %s", p.holds(0), p.holds(1))
	}
	for i := range p.nodes {
		split, healed := -1, -1
		n := 0
		for j, e := range p.events[i] {
			switch e.Kind {
			case SplitBrain, PartitionReturn:
				if split < 0 {
					split = j
				}
			case SplitBrainHealed:
				healed = j
				n++
			}
		}
		if split < 0 || healed < 0 || healed < split || n != 1 {
			t.Errorf("%s: split-brain at %d, split-brain-healed at %d (%d of them); kinds %v", p.names[i], split, healed, n, p.kinds(i))
		}
		// Healed only once no group runs on both.
		if healed >= 0 && split >= 0 {
			for _, e := range p.events[i][split:healed] {
				if e.Kind == SplitBrainHealed {
					t.Errorf("%s: healed reported twice", p.names[i])
				}
			}
		}
	}
	if SplitBrainHealed.String() != "split-brain-healed" {
		t.Fatal("name")
	}
}

// A peer that dies during a dual ownership ends it without a heal event:
// nothing was resolved, one node is simply left.
func TestDualOwnershipEndedByDeathIsNotHealed(t *testing.T) {
	p := newPair(t, groups("node1", "node2"), false)
	p.run(5 * time.Second)
	p.cut = true
	p.run(3 * time.Second)
	p.events = [2][]Event{}
	p.cut = false
	p.up[1] = false
	p.run(5 * time.Second)
	for _, e := range p.events[0] {
		if e.Kind == SplitBrainHealed {
			t.Fatalf("healed reported with the peer dead: %v", p.kinds(0))
		}
	}
}
