package node

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/core"
	"github.com/hasuite/hasuite/heartbeat/msg"
	"github.com/hasuite/hasuite/resources/haresources"
	"github.com/hasuite/hasuite/resources/manager"
)

// pair is two node layers joined by a perfect link, with a runner that
// starts and stops groups at once (or fails them when told to). It is the
// unit tests' harness; the simulator (sim_test.go) adds faults.
type pair struct {
	t       *testing.T
	now     time.Duration
	nodes   [2]*Node
	names   [2]string
	up      [2]bool // running (not crashed, not stopped)
	cut     bool    // the link delivers nothing
	running [2]map[string]bool
	events  [2][]Event
	answers [2][]Answer
	fences  [2][]string
	self    [2]bool
	failOn  map[string]bool // "node/group/start|stop" fails
	fencing bool
}

func newPair(t *testing.T, groups []haresources.Group, fencing bool) *pair {
	p := &pair{t: t, names: [2]string{"node1", "node2"}, failOn: map[string]bool{}, fencing: fencing}
	for i := range p.nodes {
		n, err := New(Config{
			Core: core.Config{LocalNode: p.names[i], Nodes: p.names[:], Links: []string{"eth0"},
				Keepalive: 100 * time.Millisecond, Deadtime: 500 * time.Millisecond,
				Warntime: 300 * time.Millisecond, Initdead: time.Second, UUID: make([]byte, 16),
				Generation: 1, FlowControl: true, Seed: int64(i + 1)},
			Resources: manager.Config{Groups: groups, AutoFailback: "on", FenceEnabled: fencing,
				FenceDelay: time.Second, RequestDelay: 2 * time.Second, StandbyTimeout: 2 * time.Second},
			StopGrace: time.Second, MoveTimeout: 20 * time.Second, NoAnswerTimeout: 5 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		p.nodes[i] = n
		p.up[i] = true
		p.running[i] = map[string]bool{}
	}
	for i, n := range p.nodes {
		n.Start(p.tm())
		p.drain(i)
	}
	return p
}

func (p *pair) tm() Time { return Time{Mono: p.now, Wall: 1_700_000_000 + int64(p.now/time.Second)} }

// drain carries out node i's outputs until nothing is left.
func (p *pair) drain(i int) {
	n := p.nodes[i]
	for n.HasReady() {
		r := n.Ready()
		p.events[i] = append(p.events[i], r.Events...)
		p.answers[i] = append(p.answers[i], r.Answers...)
		p.fences[i] = append(p.fences[i], r.Fence...)
		p.self[i] = p.self[i] || r.FenceSelf
		for _, m := range r.Messages {
			if j := 1 - i; !p.cut && p.up[j] {
				p.nodes[j].Receive(p.tm(), "eth0", m.Clone())
				p.drain(j)
			}
		}
		for _, a := range r.Actions {
			key := fmt.Sprintf("%s/%s/%s", p.names[i], a.Group, a.Kind)
			var err error
			if p.failOn[key] {
				err = errors.New("injected failure")
			}
			switch a.Kind {
			case manager.Start:
				if err == nil {
					// With fencing, never two owners; without, a cut
					// link makes two (the simulator checks they heal).
					if p.fencing && p.running[1-i][a.Group] && p.up[1-i] {
						p.t.Fatalf("t=%v: %s starts %s while %s runs it", p.now, p.names[i], a.Group, p.names[1-i])
					}
					p.running[i][a.Group] = true
				}
				n.GroupStarted(p.tm(), a.Group, err)
			case manager.Stop:
				if err == nil {
					delete(p.running[i], a.Group)
				}
				n.GroupStopped(p.tm(), a.Group, err)
			case manager.Restart:
				// In place: the group stays where it is.
				n.GroupRestarted(p.tm(), a.Group, err)
			}
		}
	}
}

// run advances the clock to until, ticking each live node at its deadlines.
func (p *pair) run(d time.Duration) {
	until := p.now + d
	for {
		next := until
		for i, n := range p.nodes {
			if p.up[i] && n.Next() < next {
				next = n.Next()
			}
		}
		if next > p.now {
			p.now = next
		}
		for i, n := range p.nodes {
			if p.up[i] && n.Done() {
				p.up[i] = false // exited after its graceful stop
			}
			if p.up[i] && n.Next() <= p.now {
				n.Tick(p.tm())
				p.drain(i)
			}
		}
		if p.now >= until {
			return
		}
	}
}

func (p *pair) holds(i int) string {
	var out []string
	for _, g := range p.nodes[i].Groups() {
		if g.State == manager.Running.String() {
			out = append(out, g.Key)
		}
	}
	return fmt.Sprint(out)
}

func groups(prefs ...string) []haresources.Group {
	var out []haresources.Group
	for i, n := range prefs {
		out = append(out, haresources.Group{Node: n, Key: fmt.Sprintf("g%d", i+1)})
	}
	return out
}

func (p *pair) kinds(i int) map[EventKind]int {
	out := map[EventKind]int{}
	for _, e := range p.events[i] {
		out[e.Kind]++
	}
	return out
}

// TestMoveWords checks every word of hb_standby and hb_takeover against
// Heartbeat's meaning (relative to the node that runs the command:
// local = the groups it is preferred for, foreign = the others,
// failback = foreign for standby and local for takeover), on a pair where
// node1 prefers g1 and node2 prefers g2, and on one where node2 prefers
// nothing.
func TestMoveWords(t *testing.T) {
	type step struct {
		kind MoveKind
		word string
	}
	tests := []struct {
		name   string
		prefs  []string
		before []step // on node1, each must succeed
		move   step   // on node1
		node1  string // groups running on node1 afterwards
		node2  string
	}{
		{"standby all", []string{"node1", "node2"}, nil, step{Standby, "all"}, "[]", "[g1 g2]"},
		{"standby local", []string{"node1", "node2"}, nil, step{Standby, "local"}, "[]", "[g1 g2]"},
		{"standby foreign holds nothing foreign", []string{"node1", "node2"}, nil, step{Standby, "foreign"}, "[g1]", "[g2]"},
		{"standby failback is foreign", []string{"node1", "node2"}, []step{{Takeover, "foreign"}}, step{Standby, "failback"}, "[g1]", "[g2]"},
		{"takeover all", []string{"node1", "node2"}, nil, step{Takeover, "all"}, "[g1 g2]", "[]"},
		{"takeover foreign", []string{"node1", "node2"}, nil, step{Takeover, "foreign"}, "[g1 g2]", "[]"},
		{"takeover local", []string{"node1", "node2"}, []step{{Standby, "all"}}, step{Takeover, "local"}, "[g1]", "[g2]"},
		{"takeover failback is local", []string{"node1", "node2"}, []step{{Standby, "all"}}, step{Takeover, "failback"}, "[g1]", "[g2]"},
		// The reported bug: the peer prefers nothing, so "all" is held
		// once the one group runs here.
		{"takeover all, peer prefers nothing", []string{"node1"}, []step{{Standby, "all"}}, step{Takeover, "all"}, "[g1]", "[]"},
		{"takeover nothing missing", []string{"node1"}, nil, step{Takeover, "all"}, "[g1]", "[]"},
		{"standby all, peer prefers nothing", []string{"node1"}, nil, step{Standby, "all"}, "[]", "[g1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, groups(tc.prefs...), false)
			p.run(5 * time.Second)
			id := uint64(0)
			for _, s := range append(tc.before, tc.move) {
				id++
				if err := p.nodes[0].Move(p.tm(), id, s.kind, s.word); err != nil {
					t.Fatalf("%v %s: %v", s.kind, s.word, err)
				}
				p.drain(0)
				p.run(10 * time.Second)
				if len(p.answers[0]) != int(id) {
					t.Fatalf("%v %s: %d answers after 10 s, want %d", s.kind, s.word, len(p.answers[0]), id)
				}
				if a := p.answers[0][id-1]; a.ID != id || a.Err != nil {
					t.Fatalf("%v %s: answer %+v", s.kind, s.word, a)
				}
			}
			if got := p.holds(0); got != tc.node1 {
				t.Errorf("node1 runs %s, want %s", got, tc.node1)
			}
			if got := p.holds(1); got != tc.node2 {
				t.Errorf("node2 runs %s, want %s", got, tc.node2)
			}
		})
	}
}

func TestMoveRefusedAtOnce(t *testing.T) {
	p := newPair(t, groups("node1", "node2"), false)
	p.run(5 * time.Second)
	for _, w := range []string{"none", "", "everything"} {
		if err := p.nodes[0].Move(p.tm(), 1, Standby, w); err == nil {
			t.Errorf("word %q accepted", w)
		}
	}
	p.up[1] = false // the peer is gone: nothing can move
	p.run(2 * time.Second)
	if err := p.nodes[0].Move(p.tm(), 2, Takeover, "all"); err == nil {
		t.Error("takeover accepted with the peer dead")
	}
}

// A takeover that the peer never answers (the link is cut after the
// request) ends with an error, never silence.
func TestMoveWithoutAnswerEnds(t *testing.T) {
	p := newPair(t, groups("node1", "node2"), false)
	p.run(5 * time.Second)
	p.cut = true
	if err := p.nodes[0].Move(p.tm(), 7, Takeover, "foreign"); err != nil {
		t.Fatal(err)
	}
	p.run(10 * time.Second)
	if len(p.answers[0]) != 1 || p.answers[0][0].ID != 7 || p.answers[0][0].Err == nil {
		t.Fatalf("answers %+v, want one error for id 7", p.answers[0])
	}
}

func TestGracefulStopReleasesThenAnnouncesShutdone(t *testing.T) {
	p := newPair(t, groups("node1", "node2"), true)
	p.run(5 * time.Second)
	p.nodes[0].Stop(p.tm())
	p.drain(0)
	p.run(3 * time.Second)
	if !p.nodes[0].Done() {
		t.Fatal("node1 not done after its stop")
	}
	if got := p.holds(0); got != "[]" {
		t.Fatalf("node1 still runs %s", got)
	}
	k := p.kinds(0)
	if k[ShutdoneSent] != 1 {
		t.Fatalf("ShutdoneSent %d times", k[ShutdoneSent])
	}
	p.up[0] = false
	p.run(3 * time.Second)
	// The peer took g1 without fencing: node1 said it stopped.
	if got := p.holds(1); got != "[g1 g2]" {
		t.Fatalf("node2 runs %s, want both", got)
	}
	if len(p.fences[1]) != 0 {
		t.Fatalf("node2 fenced %v after a graceful stop", p.fences[1])
	}
	var dead *Event
	for i, e := range p.events[1] {
		if e.Kind == NodeDead {
			dead = &p.events[1][i]
		}
	}
	if dead == nil || dead.Cause != core.CauseShutdown || dead.Node != "node1" {
		t.Fatalf("node2's death event %+v, want node1 dead by shutdown", dead)
	}
}

func TestSilentPeerIsFencedBeforeItsGroupsAreTaken(t *testing.T) {
	p := newPair(t, groups("node1", "node2"), true)
	p.run(5 * time.Second)
	p.up[1] = false // powered off: it runs nothing
	p.running[1] = map[string]bool{}
	p.run(3 * time.Second)
	if len(p.fences[0]) != 1 || p.fences[0][0] != "node2" {
		t.Fatalf("fence requests %v, want node2", p.fences[0])
	}
	if got := p.holds(0); got != "[g1]" {
		t.Fatalf("node1 runs %s before the fence finished", got)
	}
	p.run(500 * time.Millisecond)
	p.nodes[0].FenceDone(p.tm(), "node2", errors.New("device unreachable"))
	p.drain(0)
	if got := p.holds(0); got != "[g1]" {
		t.Fatalf("node1 runs %s after a failed fence", got)
	}
	p.run(10 * time.Second) // retried
	if len(p.fences[0]) < 2 {
		t.Fatalf("fence not retried: %v", p.fences[0])
	}
	p.nodes[0].FenceDone(p.tm(), "node2", nil)
	p.drain(0)
	if got := p.holds(0); got != "[g1 g2]" {
		t.Fatalf("node1 runs %s after the fence, want both", got)
	}
	k := p.kinds(0)
	if k[FenceStarted] < 2 || k[FenceFailed] != 1 || k[FenceOK] != 1 {
		t.Fatalf("fence events %v", k)
	}
	for _, e := range p.events[0] {
		if e.Kind == FenceOK && e.Took <= 0 {
			t.Fatalf("FenceOK without its duration: %+v", e)
		}
	}
}

func TestFailedStopAsksForSelfFencing(t *testing.T) {
	p := newPair(t, groups("node1", "node2"), false)
	p.run(5 * time.Second)
	p.failOn["node1/g1/stop"] = true
	if err := p.nodes[0].Move(p.tm(), 1, Standby, "all"); err != nil {
		t.Fatal(err)
	}
	p.drain(0)
	p.run(5 * time.Second)
	if !p.self[0] {
		t.Fatal("no FenceSelf after a failed stop")
	}
	if p.kinds(0)[GroupStopFailed] != 1 {
		t.Fatalf("events %v", p.kinds(0))
	}
	if p.running[1]["g1"] {
		t.Fatal("node2 started g1 although node1 could not stop it")
	}
}

// Typed events: a link and node death reach the outside with their
// states, never as texts to compare.
func TestEventsAreTyped(t *testing.T) {
	p := newPair(t, groups("node1"), false)
	p.run(3 * time.Second)
	p.cut = true
	p.run(2 * time.Second)
	var sawLink, sawDead bool
	for _, e := range p.events[0] {
		switch e.Kind {
		case LinkDead:
			sawLink = e.Link == "eth0" && e.LinkTo == core.LinkDead && e.Node == "node2"
		case NodeDead:
			sawDead = e.Node == "node2" && e.NodeTo == core.Dead && e.Cause == core.CauseTimeout && e.Silence >= 500*time.Millisecond
		}
	}
	if !sawLink || !sawDead {
		t.Fatalf("link dead %v, node dead %v in %v", sawLink, sawDead, p.kinds(0))
	}
	if NodeDead.String() != "node-dead" || FenceOK.String() != "fence-ok" || EventKind(0).String() != "unknown" {
		t.Fatal("event names")
	}
}

// A peer's cl_status clientstatus query is answered (offline: we run no
// API clients), as Heartbeat peers expect.
func TestClientStatusQueryIsAnswered(t *testing.T) {
	p := newPair(t, nil, false)
	p.run(3 * time.Second)
	q := msg.New("query-cstatus")
	q.Set(msg.FDest, "node1")
	q.Set("cn", "ipfail")
	q.Set("from_id", "abc")
	var answer *msg.Message
	p.nodes[1].core.Send(p.tm(), q)
	for p.nodes[1].core.HasReady() {
		out, _ := p.nodes[1].core.Ready()
		for _, m := range out {
			p.nodes[0].Receive(p.tm(), "eth0", m.Clone())
		}
	}
	for _, m := range p.nodes[0].Ready().Messages {
		if m.Type() == "respond-cstatus" {
			answer = m
		}
	}
	if answer == nil || answer.Str("cs") != "offline" || answer.Str("to_id") != "abc" || answer.Str(msg.FDest) != "node2" {
		t.Fatalf("answer %v", answer)
	}
}
