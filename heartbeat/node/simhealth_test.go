package node

import (
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"time"

	"github.com/hasuite/hasuite/resources/haresources"
	"github.com/hasuite/hasuite/resources/manager"
)

// Check commands in the simulator. A share of the random scenarios give
// each group 1-2 [[group.check]] entries (fall and rise 1-3, weight 0,
// positive or negative, interval 300 ms-1 s, timeout the interval or
// half of it); the world runs every check on every node that is up, one
// run at a time, the next one an interval after the end of the last
// (the real scheduler), and hands each result to Node.CheckResult. Each
// check has a fault schedule per node:
//
//   - healthy: every run passes;
//   - failing from At: every run that starts at or after At fails;
//   - flapping: runs pass and fail in alternating blocks of K runs,
//     passing first (a block shorter than fall never makes it fail);
//   - hanging from At: a run that starts at or after At gives no result
//     until its timeout, then a failure (the runner kills it);
//
// drawn as one of: healthy, failing or hanging on one node, failing on
// the group's standby (the node it does not prefer) only, failing on both
// nodes, flapping on one or both. The faults end with the others (every
// run passes in the calm phase), except a failing or hanging schedule
// drawn Forever, which keeps one node, or both, unhealthy for good.
//
// Invariants added (healthFinal and the event hooks):
//   - placement: after the calm phase, every set (the groups a node
//     prefers: Heartbeat moves sets, and a set's health is the sum of its
//     groups', eligible when all are) that one node runs whole is on a
//     node at least as healthy as the other, by compareHealth over each
//     node's own view of itself (Health().Here); and each node's view of
//     the peer (Health().Peer) is what the peer says of itself (the
//     advertisement converged). Exempt: auto_failback legacy (health moves
//     need the standby handshake), a node down or stopping, a set with a
//     group that failed, is stuck or has not exactly one owner, and a set
//     an operator's move pinned (health.pinned: documented, moved again
//     only once either node's health changes);
//   - no ping-pong: at most 2 health moves per set (counted when the
//     giver changes: a retry of an ignored request is not one) without a
//     cause in between (checkCalm's causes: a change of a health input, a check's
//     state on either node or the peer's advertisement as received, is
//     one; so are the faults, which may undo a move);
//   - a flapping check whose failing blocks are shorter than its fall
//     never reports failing, so moves nothing;
//   - a health move's Start and Stop actions obey checkCalm: a check's
//     state change and a received advertisement are causes.

type checkMode int

const (
	cmHealthy checkMode = iota
	cmFail
	cmFlap
	cmHang
)

// checkSched is one check's fault schedule on one node.
type checkSched struct {
	Mode    checkMode
	At      time.Duration
	K       int  // cmFlap: runs per block
	Forever bool // cmFail, cmHang: also in the calm phase
}

func (s checkSched) String() string {
	switch s.Mode {
	case cmFail:
		return fmt.Sprintf("fail@%v%s", s.At, foreverMark(s.Forever))
	case cmHang:
		return fmt.Sprintf("hang@%v%s", s.At, foreverMark(s.Forever))
	case cmFlap:
		return fmt.Sprintf("flap/%d", s.K)
	}
	return "ok"
}

func foreverMark(f bool) string {
	if f {
		return "!"
	}
	return ""
}

// checksString describes the checks of p for a failure report.
func (p simParams) checksString() string {
	if p.CheckFaults == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(" checks=[")
	for g, grp := range p.Groups {
		for c, ck := range grp.Checks {
			fmt.Fprintf(&b, " %s/%s(w%d f%d r%d i%v t%v %v|%v)", grp.Key, ck.Name, ck.Weight, ck.Fall, ck.Rise,
				ck.Interval, ck.Timeout, p.CheckFaults[g][c][0], p.CheckFaults[g][c][1])
		}
	}
	b.WriteString(" ]")
	return b.String()
}

// genChecks draws the checks and their schedules (after every other
// parameter, so the scenarios without checks keep their seeds).
func genChecks(r *rand.Rand, p *simParams) {
	p.CheckFaults = make([][][2]checkSched, len(p.Groups))
	at := func() time.Duration { return time.Duration(r.Int63n(int64(p.FaultEnd))) }
	for g := range p.Groups {
		grp := &p.Groups[g]
		nc := 1 + r.Intn(2)
		grp.Checks = nil
		p.CheckFaults[g] = make([][2]checkSched, nc)
		standby := 1 - nodeIdx(grp.Node)
		for c := 0; c < nc; c++ {
			iv := []time.Duration{300, 500, 1000}[r.Intn(3)] * time.Millisecond
			to := iv
			if r.Intn(3) == 0 {
				to = iv / 2
			}
			w := []int{0, 0, 2, 5, -1, -2, -5}[r.Intn(7)]
			grp.Checks = append(grp.Checks, haresources.Check{Name: "c" + strconv.Itoa(c), Interval: iv, Timeout: to,
				Fall: 1 + r.Intn(3), Rise: 1 + r.Intn(3), Weight: w})
			var s [2]checkSched
			forever := r.Intn(3) == 0
			switch r.Intn(7) {
			case 0, 1: // healthy
			case 2: // failing on one node
				s[r.Intn(2)] = checkSched{Mode: cmFail, At: at(), Forever: forever}
			case 3: // failing on the standby only
				s[standby] = checkSched{Mode: cmFail, At: at(), Forever: forever}
			case 4: // both nodes failing
				s[0] = checkSched{Mode: cmFail, At: at(), Forever: forever}
				s[1] = checkSched{Mode: cmFail, At: at(), Forever: forever}
			case 5: // flapping on one node or both
				i := r.Intn(3)
				for n := 0; n < 2; n++ {
					if i == 2 || i == n {
						s[n] = checkSched{Mode: cmFlap, K: 1 + r.Intn(3)}
					}
				}
			case 6: // hanging on one node
				s[r.Intn(2)] = checkSched{Mode: cmHang, At: at(), Forever: forever}
			}
			p.CheckFaults[g][c] = s
		}
	}
}

func nodeIdx(name string) int {
	for i, n := range simNames {
		if n == name {
			return i
		}
	}
	return -1
}

// healthWorld is the world's health bookkeeping.
type healthWorld struct {
	// rng: the checks' own (the other draws stay those of the seed).
	rng *rand.Rand
	// runs[node][g][c]: runs begun in the node's incarnation.
	runs [2][][]int
	// lastChange: the last change of a health input anywhere.
	lastChange time.Duration
	// moves: health moves (Decision events "moving the ..."), by the
	// preferred node of the set (0, 1), since the last cause (sinceAt:
	// every health change is one; so are the faults, which may undo a
	// move), and in all.
	since    [2]int
	sinceAt  time.Duration
	giver    [2]int // the node that asked last (a retry is no new move)
	total    int
	changes  int
	failings int // check-state events "failing"
}

func (w *world) hasChecks() bool { return w.p.CheckFaults != nil }

// startChecks schedules the first run of every check of node i (booted).
func (w *world) startChecks(i int) {
	if !w.hasChecks() {
		return
	}
	nd := w.nodes[i]
	if w.health.rng == nil {
		w.health.rng = rand.New(rand.NewSource(w.p.Seed ^ 0xc4ec))
	}
	w.health.runs[i] = make([][]int, len(w.p.Groups))
	w.healthChanged()
	for g, grp := range w.p.Groups {
		w.health.runs[i][g] = make([]int, len(grp.Checks))
		for c, ck := range grp.Checks {
			d := time.Duration(w.health.rng.Int63n(int64(ck.Interval)))
			w.checkAt(w.now+d, i, nd.inc, g, c)
		}
	}
}

func (w *world) checkAt(t time.Duration, i, inc, g, c int) {
	w.push(&simEv{at: t, kind: evCheck, fn: func() { w.checkRun(i, inc, g, c) }})
}

// checkRun begins one run of check c of group g on node i.
func (w *world) checkRun(i, inc, g, c int) {
	nd := w.nodes[i]
	if !nd.up || nd.inc != inc {
		return
	}
	ck := w.p.Groups[g].Checks[c]
	s := w.p.CheckFaults[g][c][i]
	n := w.health.runs[i][g][c]
	w.health.runs[i][g][c]++
	ok, d := true, time.Duration(1+w.health.rng.Intn(30))*time.Millisecond
	faulty := !w.calm || s.Forever
	switch s.Mode {
	case cmFail:
		ok = !(faulty && w.now >= s.At)
	case cmHang:
		if faulty && w.now >= s.At {
			ok, d = false, ck.Timeout
		}
	case cmFlap:
		ok = w.calm || (n/s.K)%2 == 0
	}
	w.push(&simEv{at: w.now + d, kind: evCheck, fn: func() {
		if !nd.up || nd.inc != inc {
			return
		}
		if w.verbose {
			w.logf("%s: check %s/%s ok=%v (run %d, took %v)", nd.name, w.p.Groups[g].Key, ck.Name, ok, n, d)
		}
		nd.n.CheckResult(w.tm(), w.p.Groups[g].Key, c, ok)
		w.process(i)
		if nd.up && nd.inc == inc {
			w.checkAt(w.now+ck.Interval, i, inc, g, c)
		}
	}})
}

// checksCalm: how long after the faults end every check has reached its
// calm state (rise passes, or fall failures for one failing for good):
// each change is a cause, so settle waits calmBound after it too.
func (w *world) checksCalm() time.Duration {
	var d time.Duration
	for _, grp := range w.p.Groups {
		for _, ck := range grp.Checks {
			d = max(d, time.Duration(max(ck.Rise, ck.Fall)+1)*(ck.Interval+ck.Timeout+30*time.Millisecond))
		}
	}
	return d
}

func (w *world) healthChanged() {
	w.health.lastChange = w.now
	w.health.changes++
}

// healthEvent handles the node layer's health events of node i.
func (w *world) healthEvent(i int, e *Event) {
	nd := w.nodes[i]
	switch e.Kind {
	case CheckState:
		w.logf("%s: check-state %s: %s", nd.name, e.Group, e.Detail)
		w.cause(nd.name + ": check-state " + e.Group)
		w.healthChanged()
		g := w.groupIndex(e.Group)
		if g < 0 || !w.hasChecks() {
			return
		}
		for c, ck := range w.p.Groups[g].Checks {
			if !strings.HasPrefix(e.Detail, "check "+ck.Name+" is failing") {
				continue
			}
			w.health.failings++
			if s := w.p.CheckFaults[g][c][i]; s.Mode == cmFlap && s.K < ck.Fall {
				w.fail("%s: check %s of %s, flapping in blocks of %d runs, fall %d, reported failing", nd.name, ck.Name, e.Group, s.K, ck.Fall)
			}
		}
	case PeerHealth:
		w.logf("%s: peer-health %s", nd.name, e.Detail)
		w.cause(nd.name + ": peer-health")
		w.healthChanged()
	case Decision:
		const pfx = "moving the "
		if !strings.HasPrefix(e.Detail, pfx) {
			return
		}
		pref := i // the mover's local set: the groups it prefers
		if strings.HasPrefix(e.Detail, pfx+"foreign") {
			pref = 1 - i
		}
		w.health.total++
		if w.health.sinceAt != w.lastCause {
			w.health.sinceAt, w.health.since, w.health.giver = w.lastCause, [2]int{}, [2]int{-1, -1}
		}
		if w.health.giver[pref] == i {
			return // a retry: the last request was ignored (the peer in flux)
		}
		w.health.giver[pref] = i
		w.health.since[pref]++
		if w.health.since[pref] > 2 {
			w.failLive("pingpong", "%d health moves of %s's set since the last cause (%s at %v; last health change at %v)",
				w.health.since[pref], simNames[pref], w.lastCauseWhat, w.lastCause, w.health.lastChange)
		}
	}
}

// healthFinal is the placement invariant after the calm phase.
func (w *world) healthFinal(mayBeDown func(g int) bool) {
	if !w.hasChecks() || w.p.Failback == "legacy" {
		return
	}
	for _, nd := range w.nodes {
		if !nd.up || nd.stopping {
			return
		}
	}
	views := [2]map[string]GroupHealth{}
	for i, nd := range w.nodes {
		hs, _ := nd.n.Health()
		views[i] = map[string]GroupHealth{}
		for _, h := range hs {
			views[i][h.Key] = h
		}
	}
	// The advertisement converged: each node's view of the peer is what
	// the peer says of itself.
	for _, grp := range w.p.Groups {
		for i := range w.nodes {
			if got, want := views[i][grp.Key].Peer, views[1-i][grp.Key].Here; got != want {
				w.failLive("health", "after the calm phase %s sees %s's health for %s as %v, %s itself says %v",
					simNames[i], simNames[1-i], grp.Key, got, simNames[1-i], want)
				return
			}
		}
	}
	for pref := 0; pref < 2; pref++ {
		holder, any := -1, false
		var h [2]Health
		h[0], h[1] = healthy, healthy
		ok := true
		for g, grp := range w.p.Groups {
			if nodeIdx(grp.Node) != pref {
				continue
			}
			any = true
			if mayBeDown(g) || w.stuck(g) {
				ok = false
			}
			on := -1
			for i, nd := range w.nodes {
				if nd.run[g] {
					if on >= 0 {
						ok = false
					}
					on = i
				}
			}
			if on < 0 || (holder >= 0 && on != holder) {
				ok = false
			}
			holder = on
			for i := range w.nodes {
				h[i] = h[i].plus(views[i][grp.Key].Here)
			}
		}
		if !any || !ok || holder < 0 {
			continue
		}
		if compareHealth(h[holder], h[1-holder]) >= 0 {
			continue
		}
		set := manager.Local
		if holder != pref {
			set = manager.Foreign
		}
		if _, pinned := w.nodes[holder].n.health.pinned[set]; pinned {
			w.logf("%s's set stays on the less healthy %s: pinned by an operator's move", simNames[pref], simNames[holder])
			continue
		}
		w.failLive("health", "after the calm phase %s's set runs on %s (%v) while %s is healthier (%v)",
			simNames[pref], simNames[holder], h[holder], simNames[1-holder], h[1-holder])
		return
	}
}
