package node

import (
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/core"
	"github.com/hasuite/hasuite/resources/haresources"
	"github.com/hasuite/hasuite/resources/manager"
)

// Checks ([[group.check]]): keepalived's fall and rise, the score, the
// pure decision, the status field, and moves over a real pair.

func TestCheckFallRise(t *testing.T) {
	// Results in, state after each (keepalived: starts down, one success
	// from up; then fall consecutive failures / rise consecutive successes).
	for _, tc := range []struct {
		fall, rise int
		in         string // + success, - failure
		want       string // u up, d down
	}{
		{1, 1, "+-+", "udu"},
		{2, 1, "+-+--", "uuuud"},
		{2, 3, "+--+++", "uuddduu"[:6]},
		{1, 3, "-+++", "dddu"}, // a failure first: rise successes needed
		{1, 3, "++-+", "uudd"}, // the first success is enough, once
		{3, 2, "+--+---", "uuuuuud"[:7]},
		{2, 2, "+-+-+--++", "uuuuuuddu"[:9]},
	} {
		s := newCheckState(haresources.Check{Fall: tc.fall, Rise: tc.rise})
		var got strings.Builder
		for _, r := range tc.in {
			s.result(r == '+')
			if s.up {
				got.WriteByte('u')
			} else {
				got.WriteByte('d')
			}
		}
		if got.String() != tc.want {
			t.Errorf("fall %d rise %d %s: %s, want %s", tc.fall, tc.rise, tc.in, got.String(), tc.want)
		}
	}
}

func TestCheckScore(t *testing.T) {
	for _, tc := range []struct {
		weight int
		up     bool
		want   Health
	}{
		{0, true, Health{true, 0}},
		{0, false, Health{false, 0}},
		{5, true, Health{true, 5}},
		{5, false, Health{true, 0}},
		{-2, true, Health{true, 0}},
		{-2, false, Health{true, -2}},
	} {
		s := newCheckState(haresources.Check{Weight: tc.weight})
		s.up = tc.up
		if got := s.health(); got != tc.want {
			t.Errorf("weight %d up %v: %v, want %v", tc.weight, tc.up, got, tc.want)
		}
	}
	// A group's health sums its checks; one weight-0 failure makes it
	// ineligible whatever the score.
	hs := newHealthState([]haresources.Group{{Key: "g", Checks: []haresources.Check{{Weight: 3}, {Weight: -2}, {Weight: 0}}}})
	for _, c := range hs.checks["g"] {
		c.up = true
	}
	if got := hs.local("g"); got != (Health{true, 3}) {
		t.Errorf("all passing: %v", got)
	}
	hs.checks["g"][1].up = false
	if got := hs.local("g"); got != (Health{true, 1}) {
		t.Errorf("the -2 failing: %v", got)
	}
	hs.checks["g"][2].up = false
	if got := hs.local("g"); got.Eligible {
		t.Errorf("the weight-0 failing: %v, want ineligible", got)
	}
	if got := hs.local("nochecks"); got != healthy {
		t.Errorf("a group without checks: %v", got)
	}
}

func TestHealthChoice(t *testing.T) {
	ok0, ok2, okm2, bad := Health{true, 0}, Health{true, 2}, Health{true, -2}, Health{false, 0}
	for _, tc := range []struct {
		name         string
		here, there  Health
		preferred    Side
		failback     bool
		holder, want Side
	}{
		{"equal: stays", ok0, ok0, There, false, Here, Here},
		{"peer higher score", okm2, ok0, Here, false, Here, There},
		{"peer lower score", ok0, okm2, There, true, Here, Here},
		{"positive weight on the peer", ok0, ok2, Here, false, Here, There},
		{"ineligible here", bad, okm2, Here, false, Here, There},
		{"ineligible there only (standby's check fails)", ok0, bad, There, true, Here, Here},
		{"both ineligible: stays", bad, bad, There, true, Here, Here},
		{"both ineligible, held there: stays", bad, bad, Here, true, There, There},
		{"tie, failback to the preferred peer", ok0, ok0, There, true, Here, There},
		{"tie, failback off", ok0, ok0, There, false, Here, Here},
		{"tie, failback, we are preferred", ok0, ok0, Here, true, Here, Here},
		{"nobody holds: health decides nothing", bad, ok0, There, true, Nobody, Nobody},
		{"held there, we are healthier", ok0, okm2, There, false, There, Here},
		{"held there, it is healthier", okm2, ok0, Here, true, There, There},
	} {
		got := healthChoice(tc.here, tc.there, tc.preferred, tc.failback, tc.holder)
		if got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		// Symmetry: the peer, with every side swapped, agrees.
		if back := healthChoice(tc.there, tc.here, tc.preferred.other(), tc.failback, tc.holder.other()); back != got.other() {
			t.Errorf("%s: the peer's view says %v, want %v", tc.name, back, got.other())
		}
	}
}

func TestHealthFieldCodec(t *testing.T) {
	keys := []string{"198.18.0.100/24/eth0", "IPaddr2::2001:db8::1/64", "db"}
	hs := map[string]Health{keys[0]: {true, -2}, keys[1]: {false, 0}, keys[2]: {true, 253}}
	v := encodeHealth(keys, hs)
	if v != "1 198.18.0.100/24/eth0 e-2 IPaddr2::2001:db8::1/64 i0 db e253" {
		t.Fatalf("encoded %q", v)
	}
	known := func(k string) bool { return k != "db" }
	got, bad, ok := decodeHealth(v, known)
	if !ok || bad != 1 || len(got) != 2 || got[keys[0]] != hs[keys[0]] || got[keys[1]] != hs[keys[1]] {
		t.Fatalf("decoded %v bad %d ok %v", got, bad, ok)
	}
	for _, v := range []string{"", "2 g e0", "1 g", "1 g x0", "1 g e", "1 g e+1", "1 g e1 g e2", "1  e0", "1 g e99999999999", "1 g e0 ", "1 g e0x"} {
		if _, _, ok := decodeHealth(v, func(string) bool { return true }); ok {
			t.Errorf("%q decoded", v)
		}
	}
	if got, _, ok := decodeHealth("1", func(string) bool { return true }); !ok || len(got) != 0 {
		t.Errorf("no groups: %v %v", got, ok)
	}
}

func FuzzHealthField(f *testing.F) {
	f.Add("1 g1 e-2 g2 i0")
	f.Add("1 g1 i1048576")
	f.Fuzz(func(t *testing.T, v string) {
		got, _, ok := decodeHealth(v, func(k string) bool { return k != "x" })
		if !ok {
			return
		}
		keys := make([]string, 0, len(got))
		f := strings.Split(v, " ")
		for i := 1; i < len(f); i += 2 {
			if _, in := got[f[i]]; in {
				keys = append(keys, f[i])
			}
		}
		again, _, ok2 := decodeHealth(encodeHealth(keys, got), func(string) bool { return true })
		if !ok2 || len(again) != len(got) {
			t.Fatalf("%q: re-encoded does not decode the same: %v %v", v, got, again)
		}
		for k, h := range got {
			if again[k] != h {
				t.Fatalf("%q: %s %v became %v", v, k, h, again[k])
			}
		}
	})
}

// checkPair: node1 prefers g1, node2 g2; g1 has one check (fall 2,
// weight -2) on both nodes; every check has passed once.
func checkPair(t *testing.T, weight int) *pair {
	gs := groups("node1", "node2")
	gs[0].Checks = []haresources.Check{{Name: "web", Command: []string{"/bin/true"}, Interval: time.Second, Fall: 2, Rise: 2, Weight: weight}}
	p := newPair(t, gs, false)
	p.run(5 * time.Second)
	p.check(0, true)
	p.check(1, true)
	if p.holds(0) != "[g1]" || p.holds(1) != "[g2]" {
		t.Fatalf("start: node1 %s node2 %s", p.holds(0), p.holds(1))
	}
	return p
}

func (p *pair) check(i int, ok bool) {
	p.now += 10 * time.Millisecond
	p.nodes[i].CheckResult(p.tm(), "g1", 0, ok)
	p.drain(i)
	p.run(time.Second)
}

func TestCheckMovesAndFailsBack(t *testing.T) {
	p := checkPair(t, -2)
	p.check(0, false)
	if p.holds(0) != "[g1]" {
		t.Fatalf("one failure of fall 2 moved g1: node1 %s", p.holds(0))
	}
	p.check(0, false)
	p.run(3 * time.Second)
	if p.holds(0) != "[]" || p.holds(1) != "[g1 g2]" {
		t.Fatalf("after fall: node1 %s node2 %s", p.holds(0), p.holds(1))
	}
	gh, _ := p.nodes[1].Health()
	if gh[0].Peer != (Health{true, -2}) || gh[0].Here != (Health{true, 0}) {
		t.Fatalf("node2 sees %+v", gh[0])
	}
	p.check(0, true)
	if p.holds(1) != "[g1 g2]" {
		t.Fatalf("one success of rise 2 moved g1 back: node2 %s", p.holds(1))
	}
	p.check(0, true)
	p.run(3 * time.Second)
	if p.holds(0) != "[g1]" || p.holds(1) != "[g2]" {
		t.Fatalf("after rise (auto_failback on): node1 %s node2 %s", p.holds(0), p.holds(1))
	}
}

func TestCheckFailingOnlyOnStandbyMovesNothing(t *testing.T) {
	p := checkPair(t, 0)
	for range 5 {
		p.check(1, false)
	}
	p.run(5 * time.Second)
	if p.holds(0) != "[g1]" || p.holds(1) != "[g2]" {
		t.Fatalf("node1 %s node2 %s", p.holds(0), p.holds(1))
	}
	gh, _ := p.nodes[1].Health()
	if gh[0].Here.Eligible || !gh[0].Peer.Eligible {
		t.Fatalf("node2 should report itself ineligible: %+v", gh[0])
	}
	gh, _ = p.nodes[0].Health()
	if gh[0].Peer.Eligible {
		t.Fatalf("node1 should see node2 ineligible: %+v", gh[0])
	}
}

func TestBothIneligibleNothingMoves(t *testing.T) {
	p := checkPair(t, 0)
	p.check(1, false)
	p.check(1, false)
	p.check(0, false)
	p.check(0, false)
	p.run(5 * time.Second)
	if p.holds(0) != "[g1]" || p.holds(1) != "[g2]" {
		t.Fatalf("node1 %s node2 %s", p.holds(0), p.holds(1))
	}
	// The standby recovers: the group goes there.
	p.check(1, true)
	p.check(1, true)
	p.run(3 * time.Second)
	if p.holds(0) != "[]" || p.holds(1) != "[g1 g2]" {
		t.Fatalf("standby recovered: node1 %s node2 %s", p.holds(0), p.holds(1))
	}
}

func TestOperatorStandbyNotUndoneByHealth(t *testing.T) {
	p := checkPair(t, -2)
	if err := p.nodes[0].Move(p.tm(), 1, Standby, "all"); err != nil {
		t.Fatal(err)
	}
	p.drain(0)
	p.run(5 * time.Second)
	if p.holds(0) != "[]" {
		t.Fatalf("standby: node1 %s", p.holds(0))
	}
	// node1's check fails and passes again: nothing moved for health
	// reasons, so nothing fails back.
	p.check(0, false)
	p.check(0, false)
	p.check(0, true)
	p.check(0, true)
	p.run(5 * time.Second)
	if p.holds(0) != "[]" || p.holds(1) != "[g1 g2]" {
		t.Fatalf("health undid hb_standby: node1 %s node2 %s", p.holds(0), p.holds(1))
	}
}

func TestMalformedPeerHealthIgnored(t *testing.T) {
	p := checkPair(t, 0)
	p.nodes[0].peerHealth("1 g1 i0")
	p.nodes[0].peerHealth("garbage")
	gh, bad := p.nodes[0].Health()
	if bad != 1 || gh[0].Peer.Eligible {
		t.Fatalf("bad %d, peer %+v: the malformed value should be counted and the last good one kept", bad, gh[0].Peer)
	}
	p.nodes[0].peerHealth("1 g1 e0 nosuch e1")
	if _, bad = p.nodes[0].Health(); bad != 2 {
		t.Fatalf("an unknown group not counted: %d", bad)
	}
}

// Without checks the status messages are Heartbeat's exactly; with them
// they carry the health field, and a change goes out at once.
func TestHealthFieldOnlyWithChecks(t *testing.T) {
	for _, withChecks := range []bool{false, true} {
		gs := groups("node1", "node2")
		if withChecks {
			gs[0].Checks = []haresources.Check{{Name: "c", Fall: 1, Rise: 1}}
		}
		p := newPair(t, gs, false)
		p.run(3 * time.Second)
		n := p.nodes[0]
		n.CheckResult(p.tm(), "g1", 0, true)
		r := n.Ready()
		var statuses, with int
		for _, m := range r.Messages {
			if m.Type() == "status" {
				statuses++
				if v, ok := m.Get(HealthField); ok {
					with++
					if v != "1 g1 e0" {
						t.Errorf("field %q", v)
					}
				}
			}
		}
		switch {
		case !withChecks && (statuses != 0 || with != 0):
			t.Errorf("without checks: %d statuses, %d with the field", statuses, with)
		case withChecks && (statuses != 1 || with != 1):
			t.Errorf("with checks, a change: %d statuses, %d with the field, want one at once", statuses, with)
		}
	}
}

// An operator's move to a less healthy node is not undone at once by
// health: only a later change of health moves the groups again.
func TestOperatorMoveToLessHealthyNodeKept(t *testing.T) {
	p := checkPair(t, -2)
	p.check(1, false)
	p.check(1, false) // node2: score -2
	if err := p.nodes[0].Move(p.tm(), 1, Standby, "local"); err != nil {
		t.Fatal(err)
	}
	p.drain(0)
	p.run(5 * time.Second)
	if p.holds(0) != "[]" || p.holds(1) != "[g1 g2]" {
		t.Fatalf("hb_standby was undone by health: node1 %s node2 %s", p.holds(0), p.holds(1))
	}
	// node1's health changes (its check fails too): now equal, nothing moves.
	p.check(0, false)
	p.check(0, false)
	p.run(3 * time.Second)
	if p.holds(1) != "[g1 g2]" {
		t.Fatalf("equal health moved g1: node2 %s", p.holds(1))
	}
	// node1 recovers: it is healthier, g1 goes there.
	p.check(0, true)
	p.check(0, true)
	p.run(3 * time.Second)
	if p.holds(0) != "[g1]" || p.holds(1) != "[g2]" {
		t.Fatalf("node1 healthier again: node1 %s node2 %s", p.holds(0), p.holds(1))
	}
}

// The preferred node returns with its check failing: auto_failback gives
// it its group back (Heartbeat's rule, health does not stop it), and it
// hands it on at once since the peer is healthier.
func TestReturningUnhealthyPreferredNodeHandsItsGroupOn(t *testing.T) {
	p := checkPair(t, -2)
	p.nodes[0].Stop(p.tm())
	p.drain(0)
	p.run(3 * time.Second)
	p.up[0] = false
	p.run(2 * time.Second)
	if p.holds(1) != "[g1 g2]" {
		t.Fatalf("node1 stopped: node2 %s", p.holds(1))
	}
	gs := groups("node1", "node2")
	gs[0].Checks = p.nodes[1].cfg.Resources.Groups[0].Checks
	n, err := New(Config{
		Core: core.Config{LocalNode: "node1", Nodes: p.names[:], Links: []string{"eth0"},
			Keepalive: 100 * time.Millisecond, Deadtime: 500 * time.Millisecond,
			Warntime: 300 * time.Millisecond, Initdead: time.Second, UUID: make([]byte, 16),
			Generation: 2, FlowControl: true, Seed: 3},
		Resources: manager.Config{Groups: gs, AutoFailback: "on", RequestDelay: 2 * time.Second, StandbyTimeout: 2 * time.Second},
		StopGrace: time.Second, MoveTimeout: 20 * time.Second, NoAnswerTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	p.nodes[0], p.up[0], p.running[0] = n, true, map[string]bool{}
	n.Start(p.tm())
	p.drain(0)
	p.check(0, false) // its check fails from the start (fall 2: from the initial state one failure is enough)
	p.run(15 * time.Second)
	if p.holds(0) != "[]" || p.holds(1) != "[g1 g2]" {
		for i := range p.nodes {
			for _, e := range p.events[i] {
				t.Logf("node%d %s %s %s", i+1, e.Kind, e.Group, e.Detail)
			}
		}
		t.Fatalf("an unhealthy node1 kept its group: node1 %s node2 %s", p.holds(0), p.holds(1))
	}
}

// A node whose checks have not reported yet does not know its health: it
// does not give its groups to a peer whose checks have (a check starts
// failed). Found by the simulator (named scenario "check fails only on
// the standby": the group hopped to the standby at start-up).
func TestNoHealthMoveBeforeOwnChecksReported(t *testing.T) {
	gs := groups("node1", "node2")
	gs[0].Checks = []haresources.Check{{Name: "web", Command: []string{"/bin/true"}, Interval: time.Second, Fall: 1, Rise: 1}}
	p := newPair(t, gs, false)
	p.run(5 * time.Second)
	if p.holds(0) != "[g1]" || p.holds(1) != "[g2]" {
		t.Fatalf("start: node1 %s node2 %s", p.holds(0), p.holds(1))
	}
	p.check(1, true) // node2 eligible; node1's check has not run
	p.run(3 * time.Second)
	if p.holds(0) != "[g1]" || p.holds(1) != "[g2]" {
		t.Fatalf("g1 moved before node1's check reported: node1 %s node2 %s", p.holds(0), p.holds(1))
	}
	p.check(0, true)
	p.run(3 * time.Second)
	if p.holds(0) != "[g1]" || p.holds(1) != "[g2]" {
		t.Fatalf("equal health moved g1: node1 %s node2 %s", p.holds(0), p.holds(1))
	}
	p.check(0, false) // now known and ineligible: g1 moves
	p.run(3 * time.Second)
	if p.holds(0) != "[]" || p.holds(1) != "[g1 g2]" {
		t.Fatalf("after node1's check failed: node1 %s node2 %s", p.holds(0), p.holds(1))
	}
}
