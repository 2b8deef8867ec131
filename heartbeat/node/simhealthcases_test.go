package node

import (
	"testing"
	"time"

	"github.com/hasuite/hasuite/resources/haresources"
)

// Named scenarios of the health decision (simhealth_test.go): the world
// runs the checks with fixed schedules; every invariant of the random
// scenarios holds, and each case checks where the groups end and how many
// health moves there were.

// withCheck gives homeGroups' first group (node1's) check ck with
// schedules s (node1, node2), the second none.
func (w *world) withCheck(ck haresources.Check, s [2]checkSched) {
	if ck.Interval == 0 {
		ck.Interval = 300 * time.Millisecond
	}
	if ck.Timeout == 0 {
		ck.Timeout = ck.Interval
	}
	ck.Name = "c0"
	w.p.Groups = []haresources.Group{homeGroups[0], homeGroups[1]}
	w.p.Groups[0].Checks = []haresources.Check{ck}
	w.p.CheckFaults = [][][2]checkSched{{s}, {}}
	w.p.FaultEnd = 10 * time.Second
}

// checkNow hands node i one result of check c of group g at once.
func (w *world) checkNow(i, g, c int, ok bool) {
	nd := w.nodes[i]
	if nd.up {
		nd.n.CheckResult(w.tm(), w.p.Groups[g].Key, c, ok)
		w.process(i)
	}
}

func healthCases() []struct {
	name  string
	setup func(w *world)
	check func(t *testing.T, w *world)
} {
	type tc = struct {
		name  string
		setup func(w *world)
		check func(t *testing.T, w *world)
	}
	want := func(g100, g200 string, moves int) func(t *testing.T, w *world) {
		return func(t *testing.T, w *world) {
			if got := w.owner("198.18.0.100"); got != g100 {
				t.Errorf("198.18.0.100 runs on %q, want %q", got, g100)
			}
			if got := w.owner("198.18.0.200"); got != g200 {
				t.Errorf("198.18.0.200 runs on %q, want %q", got, g200)
			}
			if w.health.total != moves {
				t.Errorf("%d health moves, want %d", w.health.total, moves)
			}
		}
	}
	// ownerAt checks where 198.18.0.100 runs during the faults.
	ownerAt := func(w *world, at time.Duration, who string) {
		w.at(at, "198.18.0.100 should run on "+who, func() {
			if got := w.owner("198.18.0.100"); got != who {
				w.fail("198.18.0.100 runs on %q at %v, want %q", got, at, who)
			}
		})
	}
	fail3 := checkSched{Mode: cmFail, At: 3 * time.Second}
	forever := fail3
	forever.Forever = true
	return []tc{
		{
			// The standby's check fails for good: it is less healthy, the
			// group stays where it is.
			name: "check fails only on the standby",
			setup: func(w *world) {
				w.withCheck(haresources.Check{Fall: 1, Rise: 1}, [2]checkSched{{}, forever})
				w.bootBoth()
			},
			check: want("node1", "node2", 0),
		},
		{
			// weight -2, fall 2 on the active: the group moves; after the
			// faults (rise) it goes back with auto_failback on.
			name: "negative weight on the active, auto_failback on",
			setup: func(w *world) {
				w.p.Failback = "on"
				w.withCheck(haresources.Check{Fall: 2, Rise: 2, Weight: -2}, [2]checkSched{fail3, {}})
				w.bootBoth()
				ownerAt(w, 7*time.Second, "node2")
			},
			check: want("node1", "node2", 2),
		},
		{
			// The same with auto_failback off: it stays on node2.
			name: "negative weight on the active, auto_failback off",
			setup: func(w *world) {
				w.withCheck(haresources.Check{Fall: 2, Rise: 2, Weight: -2}, [2]checkSched{fail3, {}})
				w.bootBoth()
				ownerAt(w, 7*time.Second, "node2")
			},
			check: want("node2", "node2", 1),
		},
		{
			// The standby becomes ineligible, then the active too, for
			// good: the group stays.
			name: "both nodes unhealthy",
			setup: func(w *world) {
				w.p.Failback = "on"
				w.withCheck(haresources.Check{Fall: 1, Rise: 1}, [2]checkSched{{Mode: cmFail, At: 4 * time.Second, Forever: true}, forever})
				w.bootBoth()
			},
			check: want("node1", "node2", 0),
		},
		{
			// A check that hangs: each run is killed at its timeout and
			// counts as a failure.
			name: "hanging check counted as a failure",
			setup: func(w *world) {
				w.withCheck(haresources.Check{Fall: 2, Rise: 1, Timeout: 500 * time.Millisecond},
					[2]checkSched{{Mode: cmHang, At: 3 * time.Second, Forever: true}, {}})
				w.bootBoth()
				ownerAt(w, 3*time.Second+(2*500+300)*time.Millisecond-time.Millisecond, "node1") // not before two timeouts (fall 2)
				ownerAt(w, 7*time.Second, "node2")
			},
			check: func(t *testing.T, w *world) {
				want("node2", "node2", 1)(t, w)
				if w.health.failings != 1 {
					t.Errorf("%d check-state failing events, want 1", w.health.failings)
				}
			},
		},
		{
			// Failing runs one at a time, fall 2 (and two at a time, fall
			// 3): the check never fails, nothing moves.
			name: "check flapping faster than fall",
			setup: func(w *world) {
				w.withCheck(haresources.Check{Fall: 2, Rise: 2}, [2]checkSched{{Mode: cmFlap, K: 1}, {Mode: cmFlap, K: 1}})
				ck := w.p.Groups[0].Checks[0]
				ck.Name, ck.Fall = "c1", 3
				w.p.Groups[0].Checks = append(w.p.Groups[0].Checks, ck)
				w.p.CheckFaults[0] = append(w.p.CheckFaults[0], [2]checkSched{{Mode: cmFlap, K: 2}, {}})
				w.bootBoth()
			},
			check: func(t *testing.T, w *world) {
				want("node1", "node2", 0)(t, w)
				if w.health.failings != 0 {
					t.Errorf("%d check-state failing events, want 0", w.health.failings)
				}
			},
		},
		{
			// Both nodes become less healthy for their own groups in the
			// same instant: both ask the other to take their set, the
			// requests cross; the node named last backs off and the sets
			// swap (they retried in step forever before).
			name: "both less healthy for their own groups at once",
			setup: func(w *world) {
				ck := haresources.Check{Name: "c0", Fall: 1, Rise: 1, Weight: -2, Interval: time.Second, Timeout: time.Second}
				w.p.Groups = []haresources.Group{homeGroups[0], homeGroups[1]}
				w.p.Groups[0].Checks = []haresources.Check{ck}
				w.p.Groups[1].Checks = []haresources.Check{ck}
				w.bootBoth()
				w.at(2500*time.Millisecond, "every check passes", func() {
					for i := range 2 {
						for g := range 2 {
							w.checkNow(i, g, 0, true)
						}
					}
				})
				w.at(4*time.Second, "node1 fails 198.18.0.100's check, node2 198.18.0.200's", func() {
					w.checkNow(0, 0, 0, false)
					w.checkNow(1, 1, 0, false)
				})
			},
			check: func(t *testing.T, w *world) {
				want("node2", "node1", w.health.total)(t, w)
				if w.health.total < 2 {
					t.Errorf("%d health moves", w.health.total)
				}
			},
		},
	}
}
