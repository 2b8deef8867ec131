package manager

import (
	"testing"

	"github.com/hasuite/hasuite/resources/haresources"
)

// seedGroups: only node1 is preferred for a group; node2 prefers nothing.
var seedGroups = []haresources.Group{{Key: "198.18.0.100", Node: "node1"}}

// Placements of testGroups besides home, allOn1 and allOn2: each node's
// groups on the other.
const swapped = "198.18.0.100=node2 198.18.0.101=node2 198.18.0.200=node1"

// Placements of seedGroups.
const (
	seedOn1 = "198.18.0.100=node1"
	seedOn2 = "198.18.0.100=node2"
)

// TestMoveWordsFollowHeartbeat: each word of hb_standby and hb_takeover,
// run on either node, moves the groups Heartbeat 3.0.6 moves, on a pair
// where only node1 is preferred for a group and on one with groups on
// both. hb_standby moves its set away (all; local: the groups preferred
// here; foreign and failback: the others). hb_takeover has the peer go
// standby for the mirrored set (all: all; local: the peer's foreign;
// foreign: the peer's local), so the set comes here; failback takes the
// local groups, as Heartbeat's documentation says (its rc.d script, with
// no failback case, would take all). Standby starts from everything on the
// node that runs it, takeover from everything on the peer. Once settled,
// the daemon's completion check for the word holds on that node (and it
// held before only when nothing had to move): a set with no groups is
// held, so "hb_takeover" (all) is done once every group that exists runs
// here, whoever is preferred for it.
func TestMoveWordsFollowHeartbeat(t *testing.T) {
	tests := []struct {
		groups   string // "seed" or "both"
		on       int    // the node that runs the command
		takeover bool
		word     string
		want     string
	}{
		{"both", 0, false, "all", allOn2},
		{"both", 0, false, "local", swapped},
		{"both", 0, false, "foreign", home},
		{"both", 0, false, "failback", home},
		{"both", 1, false, "all", allOn1},
		{"both", 1, false, "local", swapped},
		{"both", 1, false, "foreign", home},
		{"both", 1, false, "failback", home},
		{"both", 0, true, "all", allOn1},
		{"both", 0, true, "local", home},
		{"both", 0, true, "foreign", swapped},
		{"both", 0, true, "failback", home},
		{"both", 1, true, "all", allOn2},
		{"both", 1, true, "local", home},
		{"both", 1, true, "foreign", swapped},
		{"both", 1, true, "failback", home},

		{"seed", 0, false, "all", seedOn2},
		{"seed", 0, false, "local", seedOn2},
		{"seed", 0, false, "foreign", seedOn1},
		{"seed", 0, false, "failback", seedOn1},
		{"seed", 1, false, "all", seedOn1},
		{"seed", 1, false, "local", seedOn2},
		{"seed", 1, false, "foreign", seedOn1},
		{"seed", 1, false, "failback", seedOn1},
		{"seed", 0, true, "all", seedOn1},
		{"seed", 0, true, "local", seedOn1},
		{"seed", 0, true, "foreign", seedOn2},
		{"seed", 0, true, "failback", seedOn1},
		{"seed", 1, true, "all", seedOn2},
		{"seed", 1, true, "local", seedOn1},
		{"seed", 1, true, "foreign", seedOn2},
		{"seed", 1, true, "failback", seedOn1},
	}
	for _, tt := range tests {
		cmd := "hb_standby"
		if tt.takeover {
			cmd = "hb_takeover"
		}
		name := tt.groups + "/" + cmd + " " + tt.word + " on node" + string(rune('1'+tt.on))
		t.Run(name, func(t *testing.T) {
			forSeeds(t, []string{"on", "off"}, func(p *pair) {
				if tt.groups == "seed" {
					p.groups = seedGroups
				}
				p.boot(0)
				p.boot(1)
				p.commUp(0)
				p.commUp(1)
				p.settle()
				// Everything on the node that runs a standby, on the
				// peer of one that runs a takeover.
				empty := 1 - tt.on
				if tt.takeover {
					empty = tt.on
				}
				if err := p.nodes[empty].m.Standby(p.now, All); err != nil {
					t.Fatalf("setting up: hb_standby all on %s: %v", p.nodes[empty].name, err)
				}
				p.collect(empty)
				p.settle()
				before := p.owners()

				n := p.nodes[tt.on]
				set, ok := StandbySet(tt.word)
				if tt.takeover {
					set, ok = TakeoverSet(tt.word)
				}
				if !ok {
					t.Fatalf("%s %s: word not accepted", cmd, tt.word)
				}
				done := func() bool {
					if tt.takeover {
						return n.m.HoldsEvery(set)
					}
					return n.m.HoldsNoneOf(set)
				}
				if d := done(); d != (before == tt.want) {
					t.Fatalf("%s: before the move (%s) the completion check says %v", name, before, d)
				}
				var err error
				if tt.takeover {
					err = n.m.Takeover(p.now, set)
				} else {
					err = n.m.Standby(p.now, set)
				}
				if err != nil {
					t.Fatalf("%s: refused: %v", name, err)
				}
				p.collect(tt.on)
				p.settle()
				p.expect(tt.want, name)
				if n.m.Busy() || !n.m.PeerStable() || !done() {
					t.Fatalf("%s: moved (%s) but the command would not be answered: busy %v, peer stable %v, done %v",
						name, p.owners(), n.m.Busy(), n.m.PeerStable(), done())
				}
			})
		})
	}
}

// TestMoveWords: the words each command accepts and the set each names,
// in the terms of the node that runs it.
func TestMoveWords(t *testing.T) {
	tests := []struct {
		word              string
		standby, takeover Hold
		ok                bool
	}{
		{"all", All, All, true},
		{"local", Local, Local, true},
		{"foreign", Foreign, Foreign, true},
		{"failback", Foreign, Local, true},
		{"none", None, None, false},
		{"", None, None, false},
		{"ALL", None, None, false},
		{"everything", None, None, false},
	}
	for _, tt := range tests {
		s, ok1 := StandbySet(tt.word)
		k, ok2 := TakeoverSet(tt.word)
		if ok1 != tt.ok || ok2 != tt.ok || (tt.ok && (s != tt.standby || k != tt.takeover)) {
			t.Errorf("%q: standby %v %v, takeover %v %v; want %v %v %v", tt.word, s, ok1, k, ok2, tt.standby, tt.takeover, tt.ok)
		}
	}
}
