package manager

import (
	"errors"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/msg"
	"github.com/hasuite/hasuite/resources/haresources"
)

// A two-node harness: messages and group actions are queued and executed in
// a seeded random order, which explores the races between them. After every
// step no group may run on both nodes.

type tnode struct {
	name      string
	m         *Manager
	up        bool
	running   map[string]bool
	failStart map[string]bool
}

type item struct {
	to  int
	msg *msg.Message
	act *Action
}

type pair struct {
	t     *testing.T
	rng   *rand.Rand
	now   time.Duration
	nodes [2]*tnode
	pool  []item
	mode  string
	// groups are the haresources groups of both nodes (testGroups unless
	// a test sets them before the first boot).
	groups []haresources.Group
	// cut: the nodes cannot talk; messages are lost and both may hold
	// the same group (that is what a partition without fencing does).
	cut bool
	// dualOK: after a partition without fencing both hold groups until
	// they have compared notes; the invariant is checked at the end.
	dualOK bool
	// restarts counts the Restart actions run.
	restarts int
}

var testGroups = []haresources.Group{
	{Key: "198.18.0.100", Node: "node1"},
	{Key: "198.18.0.101", Node: "node1"},
	{Key: "198.18.0.200", Node: "node2"},
}

func newPair(t *testing.T, seed int64, mode string) *pair {
	p := &pair{t: t, rng: rand.New(rand.NewSource(seed)), mode: mode, groups: testGroups}
	for i, name := range []string{"node1", "node2"} {
		p.nodes[i] = &tnode{name: name, running: map[string]bool{}, failStart: map[string]bool{}}
	}
	return p
}

func (p *pair) boot(i int) {
	n := p.nodes[i]
	n.m = New(Config{LocalNode: n.name, Groups: p.groups, AutoFailback: p.mode}, p.nodes[1-i].name)
	n.up = true
	n.running = map[string]bool{}
}

// commUp brings node i's communication up, as the core reports it.
func (p *pair) commUp(i int) {
	p.nodes[i].m.CommUp(p.now, p.nodes[1-i].up)
	if p.nodes[1-i].up && p.nodes[1-i].m != nil {
		p.nodes[1-i].m.PeerAlive(p.now)
	}
	p.collect(i)
}

func (p *pair) collect(i int) {
	out, acts, _ := p.nodes[i].m.Ready()
	for _, m := range out {
		p.pool = append(p.pool, item{to: 1 - i, msg: m})
	}
	for k := range acts {
		a := acts[k]
		p.pool = append(p.pool, item{to: i, act: &a})
	}
}

// settle runs queued work in random order until nothing is left.
func (p *pair) settle() {
	for steps := 0; len(p.pool) > 0; steps++ {
		if steps > 10000 {
			p.t.Fatal("no quiescence after 10000 steps")
		}
		// Keep each node's actions and each direction's messages in order;
		// only the interleaving between queues is random.
		heads := map[[2]int]int{}
		var choices []int
		for idx, it := range p.pool {
			kind := 0
			if it.act != nil {
				kind = 1
			}
			key := [2]int{it.to, kind}
			if _, ok := heads[key]; !ok {
				heads[key] = idx
				choices = append(choices, idx)
			}
		}
		idx := choices[p.rng.Intn(len(choices))]
		it := p.pool[idx]
		p.pool = append(p.pool[:idx], p.pool[idx+1:]...)
		n := p.nodes[it.to]
		if !n.up {
			continue
		}
		p.now += time.Millisecond
		if it.msg != nil {
			if p.cut {
				continue
			}
			n.m.Receive(p.now, it.msg)
		} else if it.act.Kind == Announce || it.act.Kind == Fence {
			// nothing to simulate (fences are run by tickFor)
		} else if it.act.Kind == Start {
			var err error
			if n.failStart[it.act.Group] {
				err = errors.New("boom")
			} else {
				n.running[it.act.Group] = true
			}
			n.m.GroupStarted(p.now, it.act.Group, err)
		} else if it.act.Kind == Restart {
			// A restart in place: the group stays held; its start part
			// fails like a start would.
			var err error
			if n.failStart[it.act.Group] {
				err = errors.New("boom")
			}
			p.restarts++
			n.m.GroupRestarted(p.now, it.act.Group, err)
		} else {
			delete(n.running, it.act.Group)
			n.m.GroupStopped(p.now, it.act.Group, nil)
		}
		p.collect(it.to)
		p.check()
	}
}

func (p *pair) check() {
	if p.cut || p.dualOK {
		return
	}
	for _, g := range p.groups {
		if p.nodes[0].up && p.nodes[1].up && p.nodes[0].running[g.Key] && p.nodes[1].running[g.Key] {
			p.t.Fatalf("group %s runs on both nodes (mode %s)", g.Key, p.mode)
		}
	}
}

func (p *pair) crash(i int) {
	p.nodes[i].up = false
	p.nodes[i].running = map[string]bool{}
	var keep []item
	for _, it := range p.pool {
		// Its actions die with it; its messages in flight are lost (the
		// core delivers everything before it declares a node dead).
		if it.to != i && it.msg == nil {
			keep = append(keep, it)
		}
	}
	p.pool = keep
	p.now += time.Second
	p.nodes[1-i].m.PeerDead(p.now, false)
	p.collect(1 - i)
}

func (p *pair) owners() string {
	var out []string
	for _, g := range p.groups {
		var who []string
		for _, n := range p.nodes {
			if n.up && n.running[g.Key] {
				who = append(who, n.name)
			}
		}
		out = append(out, g.Key+"="+strings.Join(who, "+"))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

const (
	home     = "198.18.0.100=node1 198.18.0.101=node1 198.18.0.200=node2"
	allOn1   = "198.18.0.100=node1 198.18.0.101=node1 198.18.0.200=node1"
	allOn2   = "198.18.0.100=node2 198.18.0.101=node2 198.18.0.200=node2"
	seedsPer = 200
)

func forSeeds(t *testing.T, modes []string, f func(p *pair)) {
	for _, mode := range modes {
		for seed := int64(1); seed <= seedsPer; seed++ {
			p := newPair(t, seed, mode)
			f(p)
			if t.Failed() {
				t.Fatalf("mode %s seed %d", mode, seed)
			}
		}
	}
}

func (p *pair) expect(want, when string) {
	p.t.Helper()
	if got := p.owners(); got != want {
		p.t.Fatalf("%s (auto_failback %s): owners %s, want %s", when, p.mode, got, want)
	}
	for _, n := range p.nodes {
		if n.up && n.m.RscStatus() == "transition" {
			p.t.Fatalf("%s: %s still in transition", when, n.name)
		}
	}
}

func TestBothStartTogether(t *testing.T) {
	forSeeds(t, []string{"on", "off", "legacy"}, func(p *pair) {
		p.boot(0)
		p.boot(1)
		p.commUp(0)
		p.commUp(1)
		p.settle()
		p.expect(home, "both started at once")
	})
}

func TestJoinAfterPeerAlone(t *testing.T) {
	for _, tc := range []struct{ mode, want string }{{"on", home}, {"off", allOn1}, {"legacy", home}} {
		forSeeds(t, []string{tc.mode}, func(p *pair) {
			p.boot(0)
			p.commUp(0) // node2 absent: node1 takes everything
			p.settle()
			p.expect(allOn1, "node1 alone")
			p.boot(1)
			p.commUp(1)
			p.settle()
			p.expect(tc.want, "node2 joined")
		})
	}
}

func TestPeerDeathAndReturn(t *testing.T) {
	for _, tc := range []struct{ mode, want string }{{"on", home}, {"off", allOn2}, {"legacy", home}} {
		forSeeds(t, []string{tc.mode}, func(p *pair) {
			p.boot(0)
			p.boot(1)
			p.commUp(0)
			p.commUp(1)
			p.settle()
			p.crash(0)
			p.settle()
			p.expect(allOn2, "node1 died")
			p.boot(0)
			p.commUp(0)
			p.settle()
			p.expect(tc.want, "node1 returned")
		})
	}
}

func TestStandbyAndTakeover(t *testing.T) {
	forSeeds(t, []string{"on", "off"}, func(p *pair) {
		p.boot(0)
		p.boot(1)
		p.commUp(0)
		p.commUp(1)
		p.settle()
		if err := p.nodes[0].m.Standby(p.now, All); err != nil {
			t.Fatalf("standby: %v", err)
		}
		p.collect(0)
		p.settle()
		want := allOn2
		p.expect(want, "hb_standby all on node1")
		if err := p.nodes[0].m.Takeover(p.now, Local); err != nil {
			t.Fatalf("takeover: %v", err)
		}
		p.collect(0)
		p.settle()
		p.expect(home, "hb_takeover local on node1")
		if err := p.nodes[1].m.Standby(p.now, Local); err != nil {
			t.Fatalf("standby local: %v", err)
		}
		p.collect(1)
		p.settle()
		// auto_failback on moves groups back only when a node (re)joins.
		p.expect(allOn1, "hb_standby local on node2")
	})
}

func TestStandbyRefusedInLegacy(t *testing.T) {
	p := newPair(t, 1, "legacy")
	p.boot(0)
	p.boot(1)
	p.commUp(0)
	p.commUp(1)
	p.settle()
	if err := p.nodes[0].m.Standby(p.now, All); err == nil {
		t.Fatal("standby accepted in legacy mode")
	}
}

func TestFailedStartMovesGroup(t *testing.T) {
	forSeeds(t, []string{"on", "off"}, func(p *pair) {
		p.boot(0)
		p.boot(1)
		p.nodes[0].failStart["198.18.0.100"] = true
		p.commUp(0)
		p.commUp(1)
		p.settle()
		// node1 gives its local set to node2 (Heartbeat's granularity).
		if got := p.owners(); !strings.Contains(got, "198.18.0.100=node2") {
			t.Fatalf("failed group not moved: %s", got)
		}
	})
}

func TestGracefulStopReleasesFirst(t *testing.T) {
	forSeeds(t, []string{"on", "off", "legacy"}, func(p *pair) {
		p.boot(0)
		p.boot(1)
		p.commUp(0)
		p.commUp(1)
		p.settle()
		p.nodes[0].m.Stop(p.now)
		p.collect(0)
		p.settle()
		if !p.nodes[0].m.Done() || len(p.nodes[0].running) != 0 {
			t.Fatalf("node1 not released: %v", p.nodes[0].running)
		}
		// shutdone goes out only now; the peer takes over on it.
		p.nodes[0].up = false
		p.nodes[1].m.PeerDead(p.now, true)
		p.collect(1)
		p.settle()
		p.expect(allOn2, "node1 stopped")
	})
}

func TestRscStatus(t *testing.T) {
	p := newPair(t, 3, "on")
	p.boot(0)
	p.boot(1)
	if s := p.nodes[0].m.RscStatus(); s != "transition" {
		t.Fatalf("before comm up: %s", s)
	}
	p.commUp(0)
	p.commUp(1)
	p.settle()
	if s := p.nodes[0].m.RscStatus(); s != "local" {
		t.Fatalf("node1: %s", s)
	}
	p.crash(1)
	p.settle()
	if s := p.nodes[0].m.RscStatus(); s != "all" {
		t.Fatalf("node1 after node2 died: %s", s)
	}
}

func TestRequestDelayTakesLocalAnyway(t *testing.T) {
	p := newPair(t, 1, "on")
	p.boot(0)
	p.boot(1)
	p.commUp(0) // node1 sends starting; node2's answer never comes
	p.pool = nil
	p.now += 11 * time.Second
	p.nodes[0].m.Tick(p.now)
	p.collect(0)
	// Not one report from the peer: what it holds is unknown; ask again.
	if len(p.pool) != 1 || p.pool[0].msg == nil || p.pool[0].msg.Type() != "starting" {
		t.Fatalf("want starting sent again, got %+v", p.pool)
	}
	p.pool = nil
	// The peer reports, not stable (busy): after the delay node1 takes its
	// own groups anyway.
	r := msg.New("resource")
	r.Set("rsc_hold", "none")
	r.Set("rtype", "full")
	r.Set("isstable", "0")
	p.nodes[0].m.Receive(p.now, r)
	p.collect(0)
	p.now += 11 * time.Second
	p.nodes[0].m.Tick(p.now)
	p.collect(0)
	for _, it := range p.pool {
		if it.to == 1 {
			continue
		}
		if it.act == nil || it.act.Kind != Start {
			t.Fatalf("unexpected %+v", it)
		}
	}
	if len(p.pool) == 0 {
		t.Fatal("nothing taken after the request delay")
	}
}

// The peer's messages may arrive before our own communication is up.
func TestStartingBeforeOwnCommUp(t *testing.T) {
	forSeeds(t, []string{"on", "off", "legacy"}, func(p *pair) {
		p.boot(0)
		p.boot(1)
		p.commUp(0)
		p.settle() // node2 hears node1's starting before its own comm-up
		p.commUp(1)
		p.settle()
		p.expect(home, "staggered comm-up")
	})
}

// A node that took everything alone and then sees its peer must leave
// "transition" even if the peer appeared while its groups were starting.
func TestAloneThenPeerAppearsWhileStarting(t *testing.T) {
	p := newPair(t, 1, "on")
	p.boot(0)
	p.nodes[0].m.CommUp(p.now, false)
	p.collect(0)
	p.boot(1)
	p.nodes[0].m.PeerAlive(p.now) // before the starts complete
	p.nodes[1].m.CommUp(p.now, true)
	p.collect(1)
	p.settle()
	p.expect(home, "peer appeared during the takeover")
}

// A group that cannot start on either node stops moving: it is left
// stopped instead of bouncing between the nodes.
func TestGroupFailingOnBothNodesStopsBouncing(t *testing.T) {
	forSeeds(t, []string{"on", "off"}, func(p *pair) {
		p.boot(0)
		p.boot(1)
		for _, n := range p.nodes {
			n.failStart["198.18.0.100"] = true
		}
		p.commUp(0)
		p.commUp(1)
		p.settle() // settle() fails the test if the nodes never quiesce
		if got := p.owners(); !strings.Contains(got, "198.18.0.100= ") {
			t.Fatalf("owners %s", got)
		}
	})
}

// partition cuts every link: each side declares the other dead.
func (p *pair) partition() {
	p.cut = true
	p.pool = nil // in-flight messages are lost
	p.now += time.Second
	for i := range p.nodes {
		p.nodes[i].m.PeerDead(p.now, false)
		p.collect(i)
	}
}

// heal restores the links: each side sees the other alive again.
func (p *pair) heal() {
	p.cut = false
	p.now += time.Second
	for i := range p.nodes {
		p.nodes[i].m.PeerAlive(p.now)
		p.collect(i)
	}
}

// tickFor advances time in steps, running the timers and executing Fence
// actions: a successful fence powers the victim off.
func (p *pair) tickFor(d time.Duration, fenceWorks func(by int) bool, fenced *[]string) {
	end := p.now + d
	for p.now < end {
		p.now += 100 * time.Millisecond
		for i, n := range p.nodes {
			if !n.up {
				continue
			}
			n.m.Tick(p.now)
			out, acts, _ := n.m.Ready()
			for _, m := range out {
				p.pool = append(p.pool, item{to: 1 - i, msg: m})
			}
			for k := range acts {
				a := acts[k]
				if a.Kind != Fence {
					p.pool = append(p.pool, item{to: i, act: &a})
					continue
				}
				if fenceWorks(i) {
					*fenced = append(*fenced, n.name+">"+a.Node)
					p.nodes[1-i].up = false
					p.nodes[1-i].running = map[string]bool{}
					n.m.FenceDone(p.now, nil)
				} else {
					n.m.FenceDone(p.now, errors.New("device unreachable"))
				}
				p.collect(i)
			}
		}
		p.settle()
	}
}

func newFencingPair(t *testing.T, seed int64, mode string, fallback bool) *pair {
	p := newPair(t, seed, mode)
	for i, name := range []string{"node1", "node2"} {
		p.nodes[i].name = name
	}
	p.boot(0)
	p.boot(1)
	for i := range p.nodes {
		n := p.nodes[i]
		n.m = New(Config{LocalNode: n.name, Groups: p.groups, AutoFailback: mode, FenceEnabled: true,
			FenceFallback: fallback}, p.nodes[1-i].name)
	}
	p.commUp(0)
	p.commUp(1)
	p.settle()
	return p
}

func TestPartitionWithFencingLeavesExactlyOneSurvivor(t *testing.T) {
	for seed := int64(1); seed <= 50; seed++ {
		p := newFencingPair(t, seed, "on", false)
		p.expect(home, "before the partition")
		p.partition()
		var fenced []string
		p.tickFor(10*time.Second, func(int) bool { return true }, &fenced)
		if len(fenced) != 1 || fenced[0] != "node1>node2" {
			t.Fatalf("fences %v, want exactly node1 fencing node2 (node1 holds the first group)", fenced)
		}
		p.expect(allOn1, "after the fence")
	}
}

func TestFailedFenceTakesNothingUntilItWorks(t *testing.T) {
	p := newFencingPair(t, 1, "on", false)
	p.nodes[1].up = false // node2 really died; node1 must fence it
	p.nodes[1].running = map[string]bool{}
	p.now += time.Second
	p.nodes[0].m.PeerDead(p.now, false)
	p.collect(0)
	var fenced []string
	works := false
	p.tickFor(20*time.Second, func(int) bool { return works }, &fenced)
	if got := p.owners(); got != "198.18.0.100=node1 198.18.0.101=node1 198.18.0.200=" {
		t.Fatalf("took over without a fence: %s", got)
	}
	if s := p.nodes[0].m.RscStatus(); s != "transition" {
		t.Fatalf("rscstatus %s while the fence is failing", s)
	}
	works = true
	p.tickFor(70*time.Second, func(int) bool { return works }, &fenced)
	p.expect(allOn1, "fence works again")
}

func TestFenceFallbackTakesOverAnyway(t *testing.T) {
	p := newFencingPair(t, 1, "on", true)
	p.nodes[1].up = false
	p.now += time.Second
	p.nodes[0].m.PeerDead(p.now, false)
	p.collect(0)
	var fenced []string
	p.tickFor(2*time.Second, func(int) bool { return false }, &fenced)
	p.expect(allOn1, "fallback takeover")
}

func TestGracefulStopIsNeverFenced(t *testing.T) {
	p := newFencingPair(t, 1, "on", false)
	p.nodes[1].m.Stop(p.now)
	p.collect(1)
	p.settle()
	p.nodes[1].up = false
	p.nodes[0].m.PeerDead(p.now, true)
	p.collect(0)
	var fenced []string
	p.tickFor(10*time.Second, func(int) bool { return true }, &fenced)
	if len(fenced) != 0 {
		t.Fatalf("fenced on a graceful stop: %v", fenced)
	}
	p.expect(allOn1, "graceful stop")
}

func TestSplitBrainWithoutFencingHealsToPreferredNodes(t *testing.T) {
	for _, mode := range []string{"on", "off"} {
		for seed := int64(1); seed <= 50; seed++ {
			p := newPair(t, seed, mode)
			p.boot(0)
			p.boot(1)
			p.commUp(0)
			p.commUp(1)
			p.settle()
			p.partition()
			p.settle()
			for _, n := range p.nodes {
				if len(n.running) != 3 {
					t.Fatalf("%s runs %v during the partition", n.name, n.running)
				}
			}
			p.dualOK = true
			p.heal()
			p.settle()
			p.expect(home, "healed partition ("+mode+")")
		}
	}
}
