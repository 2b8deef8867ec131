package node

import (
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/msg"
	"github.com/hasuite/hasuite/resources/haresources"
	"github.com/hasuite/hasuite/resources/manager"
)

// Named scenarios of the simulator: deterministic scripts for the faults
// that found real bugs, and for each operator command. Every invariant of
// the random scenarios is checked here too (safety after every step, the
// calm phase and the final checks at the end).

var homeGroups = []haresources.Group{
	{Key: "198.18.0.100", Node: "node1"},
	{Key: "198.18.0.200", Node: "node2"},
}

func fixedParams(name string) simParams {
	return simParams{Seed: int64(len(name)) * 7, Links: 2, Keepalive: 100 * time.Millisecond,
		Deadtime: 500 * time.Millisecond, Failback: "off", SelfFence: true, Groups: homeGroups,
		FaultEnd: 15 * time.Second}
}

// boots both nodes at once and lets them settle.
func (w *world) bootBoth() {
	w.at(0, "boot node1", func() { w.boot(0) })
	w.at(0, "boot node2", func() { w.boot(1) })
}

func (w *world) owner(key string) string {
	g := w.groupIndex(key)
	var who []string
	for _, nd := range w.nodes {
		if nd.up && nd.run[g] {
			who = append(who, nd.name)
		}
	}
	return strings.Join(who, "+")
}

func (w *world) finish(t *testing.T) {
	t.Helper()
	w.run(w.p.FaultEnd)
	if !w.failed {
		w.calmDown()
		w.settle()
	}
	if w.failed {
		t.Fatalf("%s\nparameters: %s\n%s", w.failMsg, w.p, strings.Join(w.lastTrace(200), "\n"))
	}
}

func isDone(from int, m *msg.Message) bool {
	return m.Type() == "ask_resources" && m.Str("info") == "done"
}

func TestSimNamed(t *testing.T) {
	type tc struct {
		name  string
		setup func(w *world)
		check func(t *testing.T, w *world)
	}
	slowStart := func(node int, key string, d time.Duration) func(w *world, i int, a manager.Action) (time.Duration, error, bool) {
		return func(w *world, i int, a manager.Action) (time.Duration, error, bool) {
			if i == node && a.Kind == manager.Start && a.Group == key && !w.calm {
				return d, nil, true
			}
			return 0, nil, false
		}
	}
	wantOwners := func(want map[string]string) func(t *testing.T, w *world) {
		return func(t *testing.T, w *world) {
			for k, v := range want {
				if got := w.owner(k); got != v {
					t.Errorf("%s runs on %q, want %q", k, got, v)
				}
			}
		}
	}
	cases := []tc{
		{
			// The initiator's final "done" (and every retransmission) is
			// lost: the taker takes the set on the initiator's stable report.
			name: "standby done of the initiator lost",
			setup: func(w *world) {
				w.bootBoth()
				w.drop = func(from int, m *msg.Message) bool { return from == 0 && isDone(from, m) }
				w.at(3*time.Second, "node1 standby all", func() { w.move(0, Standby, "all") })
			},
			check: func(t *testing.T, w *world) {
				if w.dropped == 0 || w.stats.answers != 1 {
					t.Errorf("dropped %d, answers %d", w.dropped, w.stats.answers)
				}
				wantOwners(map[string]string{"198.18.0.100": "node2", "198.18.0.200": "node2"})(t, w)
			},
		},
		{
			// The taker's "done" is lost: the initiator completes on the
			// taker's stable report and answers the command.
			name: "standby done of the taker lost",
			setup: func(w *world) {
				w.bootBoth()
				w.drop = func(from int, m *msg.Message) bool { return from == 1 && isDone(from, m) }
				w.at(3*time.Second, "node1 standby all", func() { w.move(0, Standby, "all") })
			},
			check: func(t *testing.T, w *world) {
				if w.dropped == 0 || w.stats.answers != 1 {
					t.Errorf("dropped %d, answers %d", w.dropped, w.stats.answers)
				}
				wantOwners(map[string]string{"198.18.0.100": "node2", "198.18.0.200": "node2"})(t, w)
			},
		},
		{
			// node1 stops gracefully; node2 takes its group slowly; node1
			// comes back during the takeover (the mixed-cluster hang).
			name: "restart of the peer during a takeover",
			setup: func(w *world) {
				w.bootBoth()
				w.opHook = slowStart(1, "198.18.0.100", 2*time.Second)
				w.at(3*time.Second, "node1 stops", func() { w.gracefulStop(0) })
				w.at(3500*time.Millisecond, "node1 restarts", func() { w.boot(0) })
			},
			check: func(t *testing.T, w *world) {
				for _, nd := range w.nodes {
					if nd.n.RscStatus() == "transition" {
						t.Errorf("%s in transition", nd.name)
					}
				}
			},
		},
		{
			// node1 crashes; node2 starts taking its group and crashes
			// itself during the start, then both come back.
			name: "restart of the taker during a takeover",
			setup: func(w *world) {
				w.bootBoth()
				w.opHook = slowStart(1, "198.18.0.100", 2*time.Second)
				w.at(3*time.Second, "crash node1", func() { w.powerOff(0, "crash") })
				w.at(4*time.Second, "crash node2 (taking over)", func() { w.powerOff(1, "crash") })
				w.at(4200*time.Millisecond, "node2 restarts", func() { w.boot(1) })
				w.at(6*time.Second, "node1 restarts", func() { w.boot(0) })
			},
		},
		{
			// A crash and a reboot shorter than deadtime: the peer never
			// sees it dead, yet its groups must run again.
			name: "reboot within deadtime",
			setup: func(w *world) {
				w.bootBoth()
				w.at(3*time.Second, "node2 standby all", func() { w.move(1, Standby, "all") })
				w.at(5*time.Second, "crash node1", func() { w.powerOff(0, "crash") })
				w.at(5200*time.Millisecond, "node1 restarts", func() { w.boot(0) })
			},
			// The survivor takes back its own group at once; node1's
			// runs again on node1, by node1's start-up negotiation (taking
			// it on the survivor too could start it on both: node1 may
			// decide on an older report that shows the survivor without it).
			check: wantOwners(map[string]string{"198.18.0.100": "node1", "198.18.0.200": "node2"}),
		},
		{
			// A partition without fencing: both run everything, then the
			// partition heals: each group stays with its preferred node,
			// which announces it last.
			name: "partition heals without fencing",
			setup: func(w *world) {
				w.bootBoth()
				w.at(3*time.Second, "cut all links", func() {
					for _, l := range w.links {
						l.cut = true
					}
				})
				w.at(6*time.Second, "heal all links", func() {
					for _, l := range w.links {
						l.cut = false
					}
				})
			},
			check: func(t *testing.T, w *world) {
				if w.stats.dual == 0 {
					t.Error("no dual ownership during the partition")
				}
				wantOwners(map[string]string{"198.18.0.100": "node1", "198.18.0.200": "node2"})(t, w)
				for g := range w.p.Groups {
					if w.nodes[g].lastAnnounce[g] < 6*time.Second {
						t.Errorf("%s: the keeper did not announce after the heal", w.p.Groups[g].Key)
					}
				}
			},
		},
		{
			// node2 dies; node1's fence fails twice, then works: nothing is
			// taken before the fence succeeded.
			name: "fencing fails then succeeds",
			setup: func(w *world) {
				w.p.Fencing, w.p.Fence, w.p.FenceFails = true, fenceFailsThenWorks, 2
				w.bootBoth()
				w.at(3*time.Second, "crash node2", func() { w.powerOff(1, "crash") })
			},
			check: func(t *testing.T, w *world) {
				if w.stats.fences < 3 || w.stats.fenceOK < 1 {
					t.Errorf("fences %d, ok %d", w.stats.fences, w.stats.fenceOK)
				}
			},
		},
		{
			// A partition with fencing and slow fences: the links heal
			// while the fences run.
			name: "slow fence with the peer returning",
			setup: func(w *world) {
				w.p.Fencing, w.p.Fence = true, fenceSlow
				w.bootBoth()
				w.at(3*time.Second, "cut all links", func() {
					for _, l := range w.links {
						l.cut = true
					}
				})
				w.at(4*time.Second, "heal all links", func() {
					for _, l := range w.links {
						l.cut = false
					}
				})
			},
		},
		{
			// The fence fails while the peer comes back, with
			// stonith_fallback: no takeover from the live peer.
			name: "failed fence of a returning peer with fallback",
			setup: func(w *world) {
				w.p.Fencing, w.p.Fallback, w.p.Fence = true, true, fenceFailsUntilCalm
				w.bootBoth()
				w.at(3*time.Second, "crash node2", func() { w.powerOff(1, "crash") })
				w.at(3510*time.Millisecond, "node2 restarts", func() { w.boot(1) })
			},
		},
		{
			// hb_takeover all on the node that prefers nothing.
			name: "takeover all where the peer prefers nothing",
			setup: func(w *world) {
				w.p.Groups = []haresources.Group{{Key: "198.18.0.100", Node: "node1"}, {Key: "198.18.0.101", Node: "node1"}}
				w.bootBoth()
				w.at(3*time.Second, "node2 takeover all", func() { w.move(1, Takeover, "all") })
			},
			check: wantOwners(map[string]string{"198.18.0.100": "node2", "198.18.0.101": "node2"}),
		},
	}
	for _, c := range healthCases() {
		cases = append(cases, tc{name: c.name, setup: c.setup, check: c.check})
	}
	// Every move word for both kinds, from both nodes, auto_failback off:
	// the set named moves (in the commanding node's terms), nothing else.
	for _, kind := range []MoveKind{Standby, Takeover} {
		for _, word := range []string{"all", "local", "foreign", "failback"} {
			for i := 0; i < 2; i++ {
				h, _ := manager.ParseHold(word)
				if kind == Takeover && word == "failback" {
					h = manager.Local
				}
				want := map[string]string{}
				for _, g := range homeGroups {
					owner := g.Node
					mine := g.Node == simNames[i]
					in := (mine && h&manager.Local != 0) || (!mine && h&manager.Foreign != 0)
					if in && kind == Standby {
						owner = simNames[1-i]
					}
					if in && kind == Takeover {
						owner = simNames[i]
					}
					want[g.Key] = owner
				}
				name := simNames[i] + " " + kind.String() + " " + word
				cases = append(cases, tc{
					name: name,
					setup: func(w *world) {
						w.bootBoth()
						w.at(3*time.Second, name, func() { w.move(i, kind, word) })
					},
					check: func(t *testing.T, w *world) {
						wantOwners(want)(t, w)
						if w.stats.answers != 1 {
							t.Errorf("%d answers", w.stats.answers)
						}
					},
				})
			}
		}
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			w := newWorld(fixedParams(c.name))
			c.setup(w)
			w.finish(t)
			if c.check != nil {
				c.check(t, w)
			}
			if t.Failed() {
				t.Logf("trace:\n%s", strings.Join(w.lastTrace(200), "\n"))
			}
		})
	}
}

// simFixedSeeds are random scenarios that found real bugs (see the
// manager's simfix_test.go); they run even with -short.
var simFixedSeeds = []int64{47, 76, 88, 94, 111, 122, 133, 171, 273, 737, 928, 1229, 1255, 1729, 2593, 2655, 2889, 5738, 6296, 8622, 8825,
	2689, // both nodes less healthy for their own sets: crossing health moves (health.go, asked)
}

func TestSimFixedSeeds(t *testing.T) {
	for _, seed := range simFixedSeeds {
		if w := runScenario(genParams(seed), false); w.failed {
			t.Errorf("seed %d: %s", seed, w.report())
		}
	}
}
