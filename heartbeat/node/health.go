package node

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hasuite/hasuite/resources/haresources"
	"github.com/hasuite/hasuite/resources/manager"
)

// Health: where each group should run, from the [[group.check]] commands
// of haresources.toml (keepalived's vrrp_script semantics) on both nodes.
//
// Each node computes, for each group, a Health: Eligible (no weight-0
// check of the group has failed) and Score (the sum of the weights of its
// checks: a positive weight while the check passes, a negative one while
// it fails; the base is 0, a group without checks is eligible with score
// 0). Each node advertises its own in the HealthField of its status
// messages; a peer that sends none (a Heartbeat node, or one of ours
// without checks) is eligible with score 0 for every group.
//
// The decision is one pure function, healthChoice. It moves a group only
// away from the node that holds it, through the manager's standby
// handshake (so a Heartbeat peer follows it), and only when the other
// node is healthier: eligible where the holder is not, or both eligible
// and a higher score. Equal health (both ineligible included) keeps the
// group where it is, except that a group that moved for health reasons
// goes back to its preferred node, with auto_failback on, once that node
// is eligible and at least as healthy (after its checks' rise). An
// operator's hb_standby is never undone by it: only a move that was made
// while the giver was less healthy arms that failback, and a set that
// arrived while the giver was at least as healthy (an operator's move)
// is moved by health only once either node's health has changed.
//
// Heartbeat moves groups as sets (the groups a node is preferred for,
// "local", and the others, "foreign"): the health of a set on a node is
// the sum of its groups' scores, eligible when every group of it is; a
// group moves with the other groups of its set.
//
// Later inputs (ping-node reachability, interface states) are one more
// term of the same Health: they lower a node's Score or make it
// ineligible, and the same function decides.

// HealthField is the extra status field that carries a node's health:
// "1" (the encoding's version), then for each group with checks, its key
// and its state, "e" (eligible) or "i" (ineligible) followed by its score,
// all separated by single blanks (a group key never holds a blank):
//
//	hasuite_health=1 198.18.0.100/24/eth0 e-2 db i0
//
// It is sent only by a node with checks: without them the messages are
// Heartbeat's exactly. Heartbeat ignores fields it does not know.
const HealthField = "hasuite_health"

const healthVersion = "1"

// Health is one node's fitness to run a group (or a set of groups).
type Health struct {
	Eligible bool
	Score    int
}

// healthy is the health of a group without checks.
var healthy = Health{Eligible: true}

func (h Health) String() string {
	s := "ineligible"
	if h.Eligible {
		s = "eligible"
	}
	return fmt.Sprintf("%s, score %d", s, h.Score)
}

// plus combines two terms (two groups of a set, or two inputs of one
// group): eligible when both are, scores added.
func (h Health) plus(o Health) Health {
	return Health{Eligible: h.Eligible && o.Eligible, Score: h.Score + o.Score}
}

// compareHealth is positive when a is healthier than b, negative when b
// is, 0 when they are equal. Eligible beats ineligible; between two
// eligible nodes the higher score wins; two ineligible nodes are equal.
func compareHealth(a, b Health) int {
	switch {
	case a.Eligible != b.Eligible:
		if a.Eligible {
			return 1
		}
		return -1
	case !a.Eligible:
		return 0
	}
	return a.Score - b.Score
}

// Side names one node of the pair as seen from one of them.
type Side int

// Sides.
const (
	Nobody Side = iota
	Here
	There
)

func (s Side) other() Side {
	switch s {
	case Here:
		return There
	case There:
		return Here
	}
	return Nobody
}

// healthChoice says which node should run a set of groups that holder
// runs: the other node when it is healthier, or when failback is on (the
// set left its preferred node for health reasons and auto_failback is
// on), the other node is the preferred one, is eligible and as healthy.
// Otherwise the holder keeps it; nobody holding it, health decides
// nothing (the start-up and takeover rules do). Both nodes compute the
// same answer from the same facts.
func healthChoice(here, there Health, preferred Side, failback bool, holder Side) Side {
	if holder == Nobody {
		return Nobody
	}
	h, o := here, there
	if holder == There {
		h, o = there, here
	}
	other := holder.other()
	switch c := compareHealth(o, h); {
	case c > 0:
		return other
	case c == 0 && failback && preferred == other && o.Eligible:
		return other
	}
	return holder
}

// checkState is one check's keepalived state: up after rise consecutive
// successes, down after fall consecutive failures. It starts down, one
// success from up (keepalived's initial state: "one success is enough").
type checkState struct {
	cfg    haresources.Check
	up     bool
	streak int // consecutive results against the current state
	runs   int
	last   bool // the last result
}

func newCheckState(c haresources.Check) *checkState {
	if c.Fall < 1 {
		c.Fall = 1
	}
	if c.Rise < 1 {
		c.Rise = 1
	}
	return &checkState{cfg: c, streak: c.Rise - 1}
}

// result counts one run; it reports whether the state changed.
func (s *checkState) result(ok bool) bool {
	s.runs++
	s.last = ok
	if ok == s.up {
		s.streak = 0
		return false
	}
	s.streak++
	need := s.cfg.Fall
	if ok {
		need = s.cfg.Rise
	}
	if s.streak < need {
		return false
	}
	s.up, s.streak = ok, 0
	return true
}

// health is the check's term of its group's health.
func (s *checkState) health() Health {
	w := s.cfg.Weight
	switch {
	case w == 0:
		return Health{Eligible: s.up}
	case w > 0 && s.up, w < 0 && !s.up:
		return Health{Eligible: true, Score: w}
	}
	return healthy
}

// encodeHealth writes HealthField's value for groups, in order.
func encodeHealth(keys []string, hs map[string]Health) string {
	var b strings.Builder
	b.WriteString(healthVersion)
	for _, k := range keys {
		h := hs[k]
		b.WriteByte(' ')
		b.WriteString(k)
		b.WriteByte(' ')
		if h.Eligible {
			b.WriteByte('e')
		} else {
			b.WriteByte('i')
		}
		b.WriteString(strconv.Itoa(h.Score))
	}
	return b.String()
}

// maxScore bounds a decoded score: more than any sum of weights a
// configuration may hold is malformed.
const maxScore = 1 << 20

// decodeHealth reads HealthField's value. Groups not in known are
// skipped and counted (bad); a malformed value yields ok false and
// nothing is used of it.
func decodeHealth(v string, known func(string) bool) (out map[string]Health, bad int, ok bool) {
	f := strings.Split(v, " ")
	if len(f) == 0 || f[0] != healthVersion || len(f)%2 != 1 {
		return nil, 0, false
	}
	out = map[string]Health{}
	for i := 1; i+1 < len(f); i += 2 {
		key, st := f[i], f[i+1]
		if key == "" || len(st) < 2 || (st[0] != 'e' && st[0] != 'i') {
			return nil, 0, false
		}
		n, err := strconv.Atoi(st[1:])
		if err != nil || n > maxScore || n < -maxScore || st[1] == '+' {
			return nil, 0, false
		}
		if _, dup := out[key]; dup {
			return nil, 0, false
		}
		if !known(key) {
			bad++
			continue
		}
		out[key] = Health{Eligible: st[0] == 'e', Score: n}
	}
	return out, bad, true
}

// healthState is the node layer's health bookkeeping.
type healthState struct {
	checks map[string][]*checkState // by group key
	keys   []string                 // groups with checks, in order
	// peer is the peer's advertised health per group; nil: it sends
	// none (every group healthy there).
	peer map[string]Health
	// peerBad counts malformed fields and unknown groups from the peer.
	peerBad uint64
	// held: the sets held here at the last evaluation; armed: sets taken
	// from a less healthy preferred peer (a health failback is due).
	held  map[manager.Hold]bool
	armed map[manager.Hold]bool
	// pinned: sets taken by an operator's move while the giver was at
	// least as healthy, with both nodes' health then: health moves them
	// again only once that health has changed.
	pinned map[manager.Hold][2]Health
	// calmAt: no health move before (both nodes settled since a
	// keepalive before it).
	calmAt time.Duration
	// asked: sets we asked the peer to take for health reasons, until
	// the handshake is over.
	asked map[manager.Hold]bool
}

func newHealthState(groups []haresources.Group) healthState {
	hs := healthState{checks: map[string][]*checkState{}, held: map[manager.Hold]bool{}, armed: map[manager.Hold]bool{},
		pinned: map[manager.Hold][2]Health{}, asked: map[manager.Hold]bool{}}
	for _, g := range groups {
		if len(g.Checks) == 0 {
			continue
		}
		hs.keys = append(hs.keys, g.Key)
		for _, c := range g.Checks {
			hs.checks[g.Key] = append(hs.checks[g.Key], newCheckState(c))
		}
	}
	return hs
}

// local is this node's health for group key.
func (hs *healthState) local(key string) Health {
	h := healthy
	for _, c := range hs.checks[key] {
		h = h.plus(c.health())
	}
	return h
}

// peerOf is the peer's advertised health for group key.
func (hs *healthState) peerOf(key string) Health {
	if h, ok := hs.peer[key]; ok {
		return h
	}
	return healthy
}

func (hs *healthState) advertised() string {
	if len(hs.keys) == 0 {
		return ""
	}
	m := map[string]Health{}
	for _, k := range hs.keys {
		m[k] = hs.local(k)
	}
	return encodeHealth(hs.keys, m)
}

// CheckResult reports one run of check (its index in the group's
// [[group.check]] list, from 0) of group: ok is exit status 0; a non-zero
// exit, a timeout or a failure to run it is not ok. The check's state
// follows keepalived's fall and rise; a change of the group's health here
// is advertised to the peer at once and may move groups.
func (n *Node) CheckResult(now Time, group string, check int, ok bool) {
	n.setNow(now)
	cs := n.health.checks[group]
	if check < 0 || check >= len(cs) {
		return
	}
	before := n.health.local(group)
	c := cs[check]
	if c.result(ok) {
		state := "failing"
		if c.up {
			state = "passing"
		}
		lvl := manager.Info
		if !c.up {
			lvl = manager.Warn
		}
		n.emit(Event{Kind: CheckState, Group: group, Level: lvl, Detail: fmt.Sprintf(
			"check %s is %s (fall %d, rise %d, weight %d); the group's health here: %s",
			c.cfg.Name, state, c.cfg.Fall, c.cfg.Rise, c.cfg.Weight, n.health.local(group))})
	}
	if n.health.local(group) != before {
		n.core.SetStatusField(HealthField, n.health.advertised())
	}
	n.settle()
}

// peerHealth takes the peer's health field ("" when it sends none).
func (n *Node) peerHealth(v string) {
	if v == "" {
		if n.health.peer != nil {
			n.emit(Event{Kind: PeerHealth, Node: n.peer, Detail: "the peer advertises no health: every group is healthy there"})
		}
		n.health.peer = nil
		return
	}
	known := func(k string) bool { return n.mgr.HasGroup(k) }
	hs, bad, ok := decodeHealth(v, known)
	if !ok {
		n.health.peerBad++
		n.emit(Event{Kind: PeerHealth, Node: n.peer, Level: manager.Warn,
			Detail: fmt.Sprintf("malformed %s %q from the peer ignored", HealthField, v)})
		return
	}
	if bad > 0 {
		n.health.peerBad += uint64(bad)
		n.emit(Event{Kind: PeerHealth, Node: n.peer, Level: manager.Warn,
			Detail: fmt.Sprintf("%d unknown groups in the peer's %s ignored (do both nodes have the same haresources?)", bad, HealthField)})
	}
	n.health.peer = hs
	n.emit(Event{Kind: PeerHealth, Node: n.peer, Detail: "the peer advertises " + v})
}

// sets are the two sets of groups Heartbeat moves, in our terms.
var sets = [...]manager.Hold{manager.Local, manager.Foreign}

// setHealth sums the health of the groups of set here and there; false
// when the set has no groups.
func (n *Node) setHealth(set manager.Hold) (here, there Health, any bool) {
	here, there = healthy, healthy
	for _, g := range n.cfg.Resources.Groups {
		if (g.Node == n.cfg.Core.LocalNode) != (set == manager.Local) {
			continue
		}
		any = true
		here = here.plus(n.health.local(g.Key))
		there = there.plus(n.health.peerOf(g.Key))
	}
	return here, there, any
}

// evaluateHealth moves a set held here to the peer when healthChoice
// says so, through the manager's standby handshake. It acts only when
// both nodes are settled and no operator command is moving groups.
func (n *Node) evaluateHealth() {
	if len(n.health.keys) == 0 && n.health.peer == nil {
		return
	}
	// A move starts only once both nodes have been settled for a
	// keepalive: every message of the last handshake (the reports that
	// end it) has reached the peer before the next one begins.
	now := n.now.Mono
	if n.mgr.Busy() || !n.mgr.PeerStable() || !n.mgr.PeerUp() || len(n.moves) > 0 || n.stopping {
		n.health.calmAt = now + max(n.cfg.Core.Keepalive, time.Millisecond)
	}
	for _, set := range sets {
		here, there, any := n.setHealth(set)
		if !any {
			continue
		}
		held := n.mgr.Holding()&set != 0
		if n.health.asked[set] && !n.mgr.Busy() {
			n.health.asked[set] = false
			// Our health move is over and we still hold the set: the peer
			// ignored the request, most likely because it was asking us to
			// take its own set at the same moment (both less healthy for
			// their own groups). Retried in step, the two requests would
			// cross forever: the node whose name sorts last waits a
			// standby timeout more, so the other's request gets through.
			if held && n.cfg.Core.LocalNode > n.peer {
				wait := n.cfg.Resources.StandbyTimeout
				if wait <= 0 {
					wait = 10 * time.Second // the manager's default
				}
				n.health.calmAt = max(n.health.calmAt, now+wait+max(n.cfg.Core.Keepalive, time.Millisecond))
			}
		}
		preferred := There
		if set == manager.Local {
			preferred = Here
		}
		if held != n.health.held[set] {
			n.health.held[set] = held
			// Taken from the preferred peer while it was less healthy:
			// a health move, to be undone by auto_failback on.
			n.health.armed[set] = held && preferred == There && n.mgr.PeerUp() && compareHealth(there, here) < 0
			delete(n.health.pinned, set)
			// Pinned: taken while the giver was at least as healthy, by an
			// operator's move (hb_standby on the peer gives us its local
			// set; our hb_takeover), not our own set given back to us
			// (auto_failback), which health may move on at once.
			if held && n.mgr.PeerUp() && compareHealth(there, here) >= 0 && (set == manager.Foreign || n.takeoverPending()) {
				n.health.pinned[set] = [2]Health{here, there}
			}
		}
		if pin, ok := n.health.pinned[set]; ok {
			if pin == [2]Health{here, there} {
				continue
			}
			delete(n.health.pinned, set)
		}
		if !held || !n.mgr.HoldsEvery(set) || now < n.health.calmAt || n.checksPending(set) {
			continue
		}
		failback := n.cfg.Resources.AutoFailback == "on" && n.health.armed[set]
		if healthChoice(here, there, preferred, failback, Here) != There {
			continue
		}
		if err := n.mgr.Standby(n.now.Mono, set); err != nil {
			continue // in transition: evaluated again on the next input
		}
		why := fmt.Sprintf("the peer is healthier for them (here: %s; %s: %s)", here, n.peer, there)
		if compareHealth(there, here) == 0 {
			why = fmt.Sprintf("they left %s for health reasons and it is as healthy again (%s), auto_failback on", n.peer, there)
		}
		n.health.armed[set] = false
		n.health.asked[set] = true
		n.emit(Event{Kind: Decision, Level: manager.Warn, Detail: fmt.Sprintf("moving the %s groups to %s: %s", set, n.peer, why)})
	}
}

// checksPending reports whether a check of a group of set has not
// reported yet here. Such a check counts as failed (keepalived's initial
// state), which must not make us give the set away: our health is not
// known yet (just started, the first run not finished). Each check
// reports within its interval and timeout, a hanging one as a failure.
// (The peer's unknown health only looks worse than it is, which moves
// nothing to it.)
func (n *Node) checksPending(set manager.Hold) bool {
	for _, g := range n.cfg.Resources.Groups {
		if (g.Node == n.cfg.Core.LocalNode) != (set == manager.Local) {
			continue
		}
		for _, c := range n.health.checks[g.Key] {
			if c.runs == 0 {
				return true
			}
		}
	}
	return false
}

// healthNext is when a health move held back by calmAt may be due.
func (n *Node) healthNext() time.Duration {
	if (len(n.health.keys) > 0 || n.health.peer != nil) && n.health.calmAt > n.now.Mono {
		return n.health.calmAt
	}
	return 1 << 62
}

// takeoverPending reports an operator's takeover in progress here.
func (n *Node) takeoverPending() bool {
	for _, mv := range n.moves {
		if mv.kind == Takeover {
			return true
		}
	}
	return false
}

// GroupHealth is one group's health on both nodes, for status commands.
type GroupHealth struct {
	Key  string
	Here Health
	// Peer is what the peer advertises (healthy when it sends nothing).
	Peer Health
	// Checks are the group's checks here.
	Checks []CheckStatus
}

// CheckStatus is one check's state here.
type CheckStatus struct {
	Name    string
	Passing bool
	// Runs counts the results so far; Last is the newest one.
	Runs int
	Last bool
}

// Health is every group's health here and on the peer, and how many
// malformed or unknown values the peer sent.
func (n *Node) Health() ([]GroupHealth, uint64) {
	var out []GroupHealth
	for _, g := range n.cfg.Resources.Groups {
		gh := GroupHealth{Key: g.Key, Here: n.health.local(g.Key), Peer: n.health.peerOf(g.Key)}
		for _, c := range n.health.checks[g.Key] {
			gh.Checks = append(gh.Checks, CheckStatus{Name: c.cfg.Name, Passing: c.up, Runs: c.runs, Last: c.last})
		}
		out = append(out, gh)
	}
	return out, n.health.peerBad
}

// PeerAdvertisesHealth reports whether the peer sends a health field.
func (n *Node) PeerAdvertisesHealth() bool { return n.health.peer != nil }
