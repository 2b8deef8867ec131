package node

import (
	"container/heap"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/auth"
	"github.com/hasuite/hasuite/heartbeat/core"
	"github.com/hasuite/hasuite/heartbeat/msg"
	"github.com/hasuite/hasuite/resources/haresources"
	"github.com/hasuite/hasuite/resources/manager"
)

// The whole-cluster simulator: two node layers over virtual links with a
// virtual clock that jumps from event to event (the nodes' Next, message
// deliveries, group results, fence results, scenario steps). The world
// keeps the ground truth (which groups may really run where, which node is
// powered on) and injects faults: lossy, slow, duplicating, reordering and
// cut links (one or all), crashes and restarts with the peer marks
// persisted every 2 s and at a peer's death and at a stop, graceful stops,
// operator standby and takeover with every word, group starts and stops
// that succeed, fail or hang (5-12 deadtimes), fences that work, fail a
// few times, are slow (1.5-4 deadtimes) or fail until the end, with and
// without fencing (and stonith_fallback), self-fencing or not, and
// auto_failback on, off and legacy, and in a third of the seeds check
// commands that fail, flap and hang on either node or both
// (simhealth_test.go). Then the faults end: links are perfect,
// every operation succeeds, nodes that are down boot, and the cluster must
// settle.
//
// Invariants, checked as they happen:
//   - safety (checkStart, at every Start action and when a start begins):
//     a group never starts on a node while the peer may still run it (the
//     peer is powered on and the group's start began there and no stop of
//     it succeeded since); without fencing, or with stonith_fallback, only
//     while the starting node believes the peer dead;
//   - a peer is never declared dead by timeout while its fresh heartbeats
//     (a status newer than any before) were delivered within deadtime;
//   - a group moves only for a cause (checkCalm): every Start and Stop
//     action comes within calmBound of the last cause (a scenario step, a
//     boot, a membership change seen by a node, a failed or late result, a
//     fence outcome);
//   - a failed stop makes the node ask for FenceSelf (and FenceSelf comes
//     only after one); a graceful stop ends with nothing running;
//   - every accepted Move gets exactly one answer within MoveTimeout + 1 s
//     unless its node went down; Next is always after a Tick;
//   - liveness (checkDual): a group run by both nodes is resolved within
//     calmBound of the last cause; after the calm phase (finalChecks) every
//     group that did not fail to start has exactly one owner, whose
//     announcement of it is the latest (clients follow it), no node is in
//     transition, no group changed owners more than 12 times, at most 200
//     protocol messages were sent (no storm), and the health invariants
//     of simhealth_test.go hold. Groups that failed to stop on
//     a node that does not fence itself are the operator's (exempt).
//
// A failing seed prints its parameters and the last 200 trace lines;
// NODESIM_SEED=n replays one seed with a full trace, NODESIM_SEEDS=n
// changes the seed count, NODESIM_DEBUG=1 lists every failing seed.

// simParams are one scenario's parameters, all drawn from the seed.
type simParams struct {
	Seed       int64
	Links      int
	Keepalive  time.Duration
	Deadtime   time.Duration
	Failback   string // on, off, legacy
	Fencing    bool
	Fallback   bool // stonith_fallback: take over when the fence failed
	SelfFence  bool // FenceSelf powers the node off (self_fence or watchdog)
	Codec      bool // every packet through the real codec
	Groups     []haresources.Group
	FaultEnd   time.Duration // the faults end here; then calm
	PStartFail float64
	PStopFail  float64
	PHang      float64
	Fence      fenceMode
	FenceFails int // fenceFailsThenWorks: attempts that fail first
	Stagger    time.Duration
	// CheckFaults[g][c][node]: check c of group g's fault schedule on
	// node (simhealth_test.go); nil: no checks.
	CheckFaults [][][2]checkSched
}

type fenceMode int

const (
	fenceWorks fenceMode = iota
	fenceFailsThenWorks
	fenceSlow
	fenceFailsUntilCalm
)

func (f fenceMode) String() string {
	return [...]string{"works", "fails-then-works", "slow", "fails-until-calm"}[f]
}

func (p simParams) String() string {
	var gs []string
	for _, g := range p.Groups {
		gs = append(gs, g.Key+"@"+g.Node)
	}
	return fmt.Sprintf("seed=%d links=%d keepalive=%v deadtime=%v auto_failback=%s fencing=%v fallback=%v self_fence=%v codec=%v groups=[%s] faults_until=%v p(start fail)=%.2f p(stop fail)=%.2f p(hang)=%.2f fence=%v/%d stagger=%v%s",
		p.Seed, p.Links, p.Keepalive, p.Deadtime, p.Failback, p.Fencing, p.Fallback, p.SelfFence, p.Codec,
		strings.Join(gs, " "), p.FaultEnd, p.PStartFail, p.PStopFail, p.PHang, p.Fence, p.FenceFails, p.Stagger, p.checksString())
}

// Fixed timings of the node layer in the simulator (seconds of virtual
// time, so that a scenario of ~30-60 s exercises every timer).
const (
	simRequestDelay   = time.Second
	simStandbyTimeout = time.Second
	simFailBackoff    = 10 * time.Second
	simFenceDelay     = 500 * time.Millisecond
	simFenceRetry     = 500 * time.Millisecond
	simStopGrace      = time.Second
	simMoveTimeout    = 20 * time.Second
	simNoAnswer       = 3 * time.Second
	simRexmitTries    = 10
	simMaxOp          = 200 * time.Millisecond // a normal start or stop
	simMarkEvery      = 2 * time.Second
)

var simNames = []string{"node1", "node2"}

type simLink struct {
	loss, dup     float64
	delay, jitter time.Duration
	cut           bool
}

type evKind int

const (
	evDeliver evKind = iota
	evResult
	evFence
	evPowerOff
	evScript
	evCheck
)

type simEv struct {
	at   time.Duration
	ord  uint64
	kind evKind
	to   int // node
	inc  int // the incarnation the event belongs to (results, fences)
	link int
	m    *msg.Message
	act  manager.Action
	err  error
	late bool
	fn   func()
	what string
	tgt  int
}

type evQueue []*simEv

func (q evQueue) Len() int { return len(q) }
func (q evQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].ord < q[j].ord
}
func (q evQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *evQueue) Push(x any)   { *q = append(*q, x.(*simEv)) }
func (q *evQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}

type genSeq struct{ gen, seq uint64 }

type pendingMove struct {
	deadline time.Duration
	what     string
}

type simNode struct {
	idx  int
	name string
	n    *Node
	up   bool
	inc  int
	gen  uint64
	// saved: the peer marks on "disk"; lastSave: when written.
	saved    map[string]core.Mark
	lastSave time.Duration
	// run is the ground truth: the group may be running here (from the
	// moment its start begins until its stop succeeds, its start failed,
	// or the node lost power).
	run []bool
	// the runner: one FIFO queue per group, head executing when busy.
	q    [][]queuedAction
	busy []bool
	// moves waiting for their answer, by id.
	moves map[uint64]pendingMove
	// peerDead is this node's view: it declared the peer dead and has
	// not heard from it since.
	peerDead bool
	// freshness of the peer's statuses delivered here (invariant 1).
	lastFresh time.Duration
	maxSeen   genSeq
	// first: the first sequenced message of the peer's newest generation
	// delivered since this node booted. A status below it is not fresh:
	// the core, as Heartbeat, takes a seq below the first one it heard as
	// a replay (no gap is known before it).
	first    genSeq
	stopping bool // a graceful stop was requested
	// wantFenceSelf: a stop just failed; the next Ready must say FenceSelf.
	wantFenceSelf bool
	// lastAnnounce: when each group's addresses were last announced from
	// this node (a start that succeeded, or an Announce action), over
	// every incarnation: clients follow the latest announcement.
	lastAnnounce []time.Duration
	stopFailed   bool
	stopFailedG  []bool // the group's last stop failed here
}

type queuedAction struct {
	a       manager.Action
	excused bool // a start issued while this node believed the peer dead
}

// world is one scenario.
type world struct {
	p       simParams
	rng     *rand.Rand
	now     time.Duration
	nodes   [2]*simNode
	links   []*simLink
	lnames  []string
	q       evQueue
	ord     uint64
	calm    bool // the faults are over: links perfect, every result succeeds
	verbose bool

	initdead, calmBound time.Duration

	// lastCause: the last event that may legitimately move a group.
	lastCause     time.Duration
	lastCauseWhat string
	// per group: when both nodes began to run it (0 = not both).
	dualSince []time.Duration
	// owner changes per group in the calm phase.
	calmMoves []int
	calmStart time.Duration
	// protocol messages (not heartbeats) sent in the calm phase
	calmMsgs int

	// hung: operations taking very long still running (their node's
	// groups are not settled: no dual ownership can be resolved by it).
	hung        int
	moveID      uint64
	kr          *auth.Keyring
	fenceFailed int
	// startFailed[g]: a start of g failed on node i (bit i).
	startFailed []int

	// hooks for the named scenarios
	drop     func(from int, m *msg.Message) bool
	dropped  int
	opHook   func(w *world, i int, a manager.Action) (d time.Duration, err error, ok bool)
	onAction func(w *world, i int, a manager.Action)

	trace   []string
	traceN  int
	failed  bool
	failMsg string
	// failKind: a liveness failure's kind (see simKnownLiveness); "" for safety
	failKind string
	stats    simStats
	health   healthWorld
}

type simStats struct {
	moves, answers, fences, fenceOK, starts, stops, failedOps, hangs, crashes, stops2, deaths, dual, protoMsgs int
	// with checks: seeds, health moves asked, checks that went failing
	checkSeeds, healthMoves, checkFailings int
}

const traceKeep = 400

func (w *world) logf(format string, args ...any) {
	line := fmt.Sprintf("%10s ", w.now.Round(time.Millisecond)) + fmt.Sprintf(format, args...)
	if len(w.trace) < traceKeep || w.verbose {
		w.trace = append(w.trace, line)
	} else {
		w.trace[w.traceN%traceKeep] = line
	}
	w.traceN++
}

func (w *world) lastTrace(n int) []string {
	var out []string
	if len(w.trace) < traceKeep || w.verbose {
		out = w.trace
	} else {
		k := w.traceN % traceKeep
		out = append(append(out, w.trace[k:]...), w.trace[:k]...)
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

// failLive reports a broken liveness invariant of kind (see
// simKnownLiveness).
func (w *world) failLive(kind, format string, args ...any) {
	if !w.failed {
		w.failKind = kind
	}
	w.fail(format, args...)
}

func (w *world) fail(format string, args ...any) {
	if w.failed {
		return
	}
	w.failed = true
	w.failMsg = fmt.Sprintf("at %v: ", w.now) + fmt.Sprintf(format, args...)
	w.logf("VIOLATION: %s", w.failMsg)
}

func (w *world) cause(what string) {
	w.lastCause, w.lastCauseWhat = w.now, what
}

func newWorld(p simParams) *world {
	w := &world{p: p, rng: rand.New(rand.NewSource(p.Seed ^ 0x5eed))}
	w.initdead = 2 * p.Deadtime
	// The longest chain of legitimate consequences of one cause with at
	// least one working link: a join (initdead), the request delay, a
	// standby that times out, a message recovered by retransmission, and
	// a few starts and stops in a row.
	w.calmBound = w.initdead + simRequestDelay + simStandbyTimeout + simFenceDelay +
		simRexmitTries*p.Keepalive + 6*simMaxOp + time.Second
	for i := 0; i < p.Links; i++ {
		w.links = append(w.links, &simLink{delay: time.Millisecond})
		w.lnames = append(w.lnames, "eth"+strconv.Itoa(i))
	}
	ng := len(p.Groups)
	for i := range w.nodes {
		w.nodes[i] = &simNode{idx: i, name: simNames[i], gen: uint64(100 + 1000*i),
			run: make([]bool, ng), q: make([][]queuedAction, ng), busy: make([]bool, ng),
			lastAnnounce: make([]time.Duration, ng), stopFailedG: make([]bool, ng)}
	}
	w.dualSince = make([]time.Duration, ng)
	w.calmMoves = make([]int, ng)
	w.startFailed = make([]int, ng)
	if p.Codec {
		w.kr, _ = auth.NewKeyring(1, auth.Key{Index: 1, Method: auth.SHA256, Secret: []byte("sim")})
	}
	return w
}

func (w *world) tm() Time { return Time{Mono: w.now, Wall: 1_700_000_000 + int64(w.now/time.Second)} }

func (w *world) push(e *simEv) {
	w.ord++
	e.ord = w.ord
	heap.Push(&w.q, e)
}

// at schedules a scenario step.
func (w *world) at(t time.Duration, what string, fn func()) {
	w.push(&simEv{at: t, kind: evScript, fn: fn, what: what})
}

func (w *world) groupIndex(key string) int {
	for i, g := range w.p.Groups {
		if g.Key == key {
			return i
		}
	}
	return -1
}

func (w *world) nodeIndex(name string) int {
	for i, n := range simNames {
		if n == name {
			return i
		}
	}
	return -1
}

// ---- node life ----

func (w *world) boot(i int) {
	nd := w.nodes[i]
	if nd.up {
		return
	}
	nd.gen++
	nd.inc++
	p := w.p
	cfg := Config{
		Core: core.Config{
			LocalNode: nd.name, Nodes: simNames, Links: w.lnames,
			Keepalive: p.Keepalive, Deadtime: p.Deadtime, Initdead: w.initdead,
			MaxRexmitDelay: p.Keepalive, RexmitTries: simRexmitTries, Hopfudge: 1,
			UUID: []byte(fmt.Sprintf("uuid-of-%-8s", nd.name))[:16], Generation: nd.gen,
			FlowControl: true, Seed: w.rng.Int63(), PeerMarks: nd.saved,
		},
		Resources: manager.Config{Groups: p.Groups, AutoFailback: p.Failback,
			RequestDelay: simRequestDelay, StandbyTimeout: simStandbyTimeout, FailBackoff: simFailBackoff,
			FenceEnabled: p.Fencing, FenceDelay: simFenceDelay, FenceRetry: simFenceRetry, FenceFallback: p.Fallback},
		StopGrace: simStopGrace, MoveTimeout: simMoveTimeout, NoAnswerTimeout: simNoAnswer,
	}
	n, err := New(cfg)
	if err != nil {
		w.fail("New(%s): %v", nd.name, err)
		return
	}
	nd.n, nd.up, nd.stopping, nd.peerDead, nd.stopFailed = n, true, false, false, false
	nd.moves = map[uint64]pendingMove{}
	nd.lastFresh = w.now
	nd.maxSeen, nd.first = genSeq{}, genSeq{}
	if mk, ok := nd.saved[simNames[1-i]]; ok {
		nd.maxSeen = genSeq{mk.Gen, mk.Seq}
	}
	nd.lastSave = w.now
	w.cause(nd.name + " boots")
	w.logf("%s boots gen %d marks %v", nd.name, nd.gen, nd.saved)
	n.Start(w.tm())
	w.process(i)
	w.startChecks(i)
}

// powerOff: the node loses power (a crash, a fence, a self-fence): every
// group it ran stops running at once, its runner and pending work vanish.
func (w *world) powerOff(i int, why string) {
	nd := w.nodes[i]
	if !nd.up {
		return
	}
	w.logf("%s powers off (%s)", nd.name, why)
	nd.up = false
	nd.inc++
	for g := range nd.run {
		nd.run[g] = false
		nd.q[g] = nil
		nd.busy[g] = false
		nd.stopFailedG[g] = false
		w.ownersChanged(g)
	}
	nd.moves = nil
	nd.n = nil
	w.cause(nd.name + " powered off")
	if w.calm {
		w.at(w.now+300*time.Millisecond, "restart "+nd.name, func() { w.boot(i) })
	}
}

// exit: a graceful stop finished; the process ends.
func (w *world) exit(i int) {
	nd := w.nodes[i]
	for g, r := range nd.run {
		if r {
			w.fail("%s finished its graceful stop while %s still runs there", nd.name, w.p.Groups[g].Key)
		}
	}
	nd.saved = nd.n.Marks()
	w.logf("%s exits after its graceful stop", nd.name)
	nd.up = false
	nd.inc++
	nd.moves = nil
	nd.n = nil
	w.cause(nd.name + " exited")
	if w.calm {
		w.at(w.now+300*time.Millisecond, "restart "+nd.name, func() { w.boot(i) })
	}
}

func (w *world) gracefulStop(i int) {
	nd := w.nodes[i]
	if !nd.up {
		return
	}
	w.logf("%s: graceful stop requested", nd.name)
	w.cause(nd.name + " stops")
	nd.stopping = true
	nd.n.Stop(w.tm())
	nd.saved = nd.n.Marks()
	w.process(i)
}

func (w *world) move(i int, kind MoveKind, word string) {
	nd := w.nodes[i]
	if !nd.up {
		return
	}
	w.moveID++
	id := w.moveID
	w.cause(fmt.Sprintf("%s %s %s", nd.name, kind, word))
	err := nd.n.Move(w.tm(), id, kind, word)
	w.stats.moves++
	if err != nil {
		w.logf("%s: %s %s refused: %v", nd.name, kind, word, err)
	} else {
		w.logf("%s: %s %s accepted (id %d)", nd.name, kind, word, id)
		nd.moves[id] = pendingMove{deadline: w.now + simMoveTimeout + time.Second, what: kind.String() + " " + word}
	}
	w.process(i)
}

// ---- outputs ----

// process carries out everything node i's layer has ready.
func (w *world) process(i int) {
	nd := w.nodes[i]
	for nd.up && nd.n.HasReady() {
		r := nd.n.Ready()
		w.handle(i, r)
	}
	if nd.wantFenceSelf {
		nd.wantFenceSelf = false
		w.fail("%s: a stop failed but the node layer did not ask for FenceSelf", nd.name)
	}
}

func (w *world) handle(i int, r Ready) {
	nd := w.nodes[i]
	for k := range r.Events {
		w.event(i, &r.Events[k])
	}
	for _, a := range r.Actions {
		w.action(i, a)
	}
	for _, name := range r.Fence {
		w.fence(i, name)
	}
	if r.FenceSelf {
		if !nd.wantFenceSelf && !nd.stopFailed {
			w.fail("%s asked for FenceSelf without a failed stop", nd.name)
		}
		nd.wantFenceSelf = false
		w.logf("%s: FenceSelf", nd.name)
		if w.p.SelfFence {
			inc := nd.inc
			w.push(&simEv{at: w.now + time.Duration(1+w.rng.Intn(50))*time.Millisecond, kind: evPowerOff, to: i, inc: inc, what: "self-fence"})
		}
	}
	for _, a := range r.Answers {
		pm, ok := nd.moves[a.ID]
		if !ok {
			w.fail("%s answered move %d, which is not waiting for an answer", nd.name, a.ID)
			continue
		}
		delete(nd.moves, a.ID)
		w.stats.answers++
		w.logf("%s: answer to %s (id %d): holding %s after %v, err %v", nd.name, pm.what, a.ID, a.Holding, a.Took, a.Err)
	}
	for _, m := range r.Messages {
		w.send(i, m)
	}
}

func (w *world) event(i int, e *Event) {
	nd := w.nodes[i]
	peer := simNames[1-i]
	switch e.Kind {
	case NodeDead:
		if e.Node != peer {
			return
		}
		w.stats.deaths++
		w.logf("%s: node-dead %s (%v, silence %v)", nd.name, e.Node, e.Cause, e.Silence)
		if e.Cause == core.CauseTimeout {
			// Invariant 1: no peer is declared dead by timeout while its
			// heartbeats are delivered within deadtime.
			if silence := w.now - nd.lastFresh; silence < w.p.Deadtime {
				w.fail("%s declared %s dead after only %v since its last delivered heartbeat (deadtime %v)", nd.name, peer, silence, w.p.Deadtime)
			}
		}
		nd.peerDead = true
		nd.saved, nd.lastSave = nd.n.Marks(), w.now
		w.cause(nd.name + " declared " + peer + " dead")
	case NodeState:
		if e.Node != peer {
			w.logf("%s: %s %v->%v", nd.name, e.Node, e.NodeFrom, e.NodeTo)
			return
		}
		w.logf("%s: peer %s %v->%v", nd.name, e.Node, e.NodeFrom, e.NodeTo)
		nd.peerDead = false
		if e.NodeFrom == core.Dead || e.NodeFrom == core.Init {
			w.cause(nd.name + " sees " + peer + " join")
		}
	case PeerRestarted, PartitionReturn, PeerShutdown, CommUp:
		w.logf("%s: %v %s", nd.name, e.Kind, e.Node)
		w.cause(nd.name + ": " + e.Kind.String())
	case FenceStarted, FenceOK, FenceFailed:
		w.logf("%s: %v %s %v", nd.name, e.Kind, e.Node, e.Err)
		w.cause(nd.name + ": " + e.Kind.String())
	case GroupStartFailed, GroupStopFailed:
		w.logf("%s: %v %s %s", nd.name, e.Kind, e.Group, e.Detail)
		w.cause(nd.name + ": " + e.Kind.String())
	case SplitBrain:
		// A consequence of a join (the cause), not a cause itself.
		w.logf("%s: %v %s", nd.name, e.Kind, e.Detail)
	case GroupState:
		if w.verbose {
			w.logf("%s: group %s %v->%v", nd.name, e.Group, e.GroupFrom, e.GroupTo)
		}
	case Decision:
		if w.verbose || e.Level > manager.Info {
			w.logf("%s: decision: %s", nd.name, e.Detail)
		}
		w.healthEvent(i, e)
	case CheckState, PeerHealth:
		w.healthEvent(i, e)
	case LinkUp, LinkDead, LateHeartbeat, RexmitGiveUp, ShutdoneSent:
		if w.verbose || e.Kind == RexmitGiveUp || e.Kind == ShutdoneSent {
			w.logf("%s: %v %s %s %s", nd.name, e.Kind, e.Node, e.Link, e.Detail)
		}
	case Dropped:
		if w.verbose {
			w.logf("%s: dropped from %s on %s: %s", nd.name, e.Node, e.Link, e.Detail)
		}
	}
}

// checkCalm: a group moves only for a reason. Start and stop actions come
// within calmBound of the last cause (a fault or command injected by the
// scenario, a membership change, a failed or late result, a fence).
func (w *world) checkCalm(i int, a manager.Action) {
	if d := w.now - w.lastCause; d > w.calmBound {
		w.fail("%s: %s %s %v after the last cause (%s), bound %v", w.nodes[i].name, a.Kind, a.Group, d, w.lastCauseWhat, w.calmBound)
	}
}

func (w *world) action(i int, a manager.Action) {
	nd := w.nodes[i]
	g := w.groupIndex(a.Group)
	if g < 0 {
		w.fail("%s: action for unknown group %q", nd.name, a.Group)
		return
	}
	if w.onAction != nil {
		w.onAction(w, i, a)
		if !nd.up {
			return
		}
	}
	w.logf("%s: action %s %s", nd.name, a.Kind, a.Group)
	switch a.Kind {
	case manager.Announce:
		nd.lastAnnounce[g] = w.now
		return
	case manager.Start:
		w.stats.starts++
		w.checkCalm(i, a)
		excused := w.checkStart(i, g, "was asked to start")
		w.enqueue(i, g, queuedAction{a: a, excused: excused})
	case manager.Stop:
		w.stats.stops++
		w.checkCalm(i, a)
		w.enqueue(i, g, queuedAction{a: a})
	default:
		w.fail("%s: unexpected action %v", nd.name, a.Kind)
	}
}

// strict: fencing is configured and no takeover happens without a
// successful fence.
func (w *world) strict() bool { return w.p.Fencing && !w.p.Fallback }

// checkStart is the safety invariant. With fencing, a group never starts
// on a node while the peer may still run it (the ground truth: the peer is
// powered on and the group's start began there and its stop has not
// succeeded). Without fencing (or with stonith_fallback) that may happen
// only while this node believes the peer dead (a partition); it reports
// whether the start is excused so.
func (w *world) checkStart(i, g int, what string) bool {
	nd, peer := w.nodes[i], w.nodes[1-i]
	if !peer.up || !peer.run[g] {
		return false
	}
	if !w.strict() && nd.peerDead {
		return true
	}
	w.fail("%s %s %s while %s may still run it (fencing %v, %s believes the peer dead: %v)",
		nd.name, what, w.p.Groups[g].Key, peer.name, w.p.Fencing, nd.name, nd.peerDead)
	return false
}

func (w *world) enqueue(i, g int, qa queuedAction) {
	nd := w.nodes[i]
	nd.q[g] = append(nd.q[g], qa)
	if !nd.busy[g] {
		w.begin(i, g)
	}
}

// opOutcome decides how long an action takes and how it ends.
func (w *world) opOutcome(i int, a manager.Action) (time.Duration, error, bool) {
	if w.opHook != nil {
		if d, err, ok := w.opHook(w, i, a); ok {
			return d, err, d > 5*w.p.Deadtime
		}
	}
	d := time.Duration(5+w.rng.Intn(int(simMaxOp/time.Millisecond)-5)) * time.Millisecond
	if w.calm {
		return d, nil, false
	}
	pf := w.p.PStartFail
	if a.Kind == manager.Stop {
		pf = w.p.PStopFail
	}
	x := w.rng.Float64()
	switch {
	case x < w.p.PHang:
		d = time.Duration(5+w.rng.Intn(8)) * w.p.Deadtime
		var err error
		if w.rng.Intn(2) == 0 {
			err = errors.New("timed out")
		}
		return d, err, true
	case x < w.p.PHang+pf:
		return d, errors.New("boom"), false
	}
	return d, nil, false
}

func (w *world) begin(i, g int) {
	nd := w.nodes[i]
	if len(nd.q[g]) == 0 {
		return
	}
	qa := nd.q[g][0]
	nd.busy[g] = true
	if qa.a.Kind == manager.Start {
		peer := w.nodes[1-i]
		if peer.up && peer.run[g] && !qa.excused && !nd.run[g] {
			w.checkStart(i, g, "began to start")
		}
		nd.run[g] = true
		w.ownersChanged(g)
	}
	d, err, late := w.opOutcome(i, qa.a)
	if late {
		w.stats.hangs++
		w.hung++
	}
	w.push(&simEv{at: w.now + d, kind: evResult, to: i, inc: nd.inc, act: qa.a, err: err, late: late})
}

func (w *world) result(e *simEv) {
	i := e.to
	nd := w.nodes[i]
	if !nd.up || nd.inc != e.inc {
		return
	}
	g := w.groupIndex(e.act.Group)
	nd.q[g] = nd.q[g][1:]
	nd.busy[g] = false
	if e.late || e.err != nil {
		w.cause(fmt.Sprintf("%s: %s %s ended late=%v err=%v", nd.name, e.act.Kind, e.act.Group, e.late, e.err))
	}
	if e.err != nil {
		w.stats.failedOps++
	}
	w.logf("%s: %s %s done (err %v, late %v)", nd.name, e.act.Kind, e.act.Group, e.err, e.late)
	if e.act.Kind == manager.Start {
		if e.err != nil {
			w.startFailed[g] |= 1 << i
			nd.run[g] = false // the runner stopped what it had started
			w.ownersChanged(g)
		}
		if e.err == nil {
			nd.lastAnnounce[g] = w.now // a start announces the addresses
		}
		nd.n.GroupStarted(w.tm(), e.act.Group, e.err)
	} else {
		if e.err == nil {
			nd.run[g] = false
			nd.stopFailedG[g] = false
			w.ownersChanged(g)
		} else {
			nd.wantFenceSelf = true
			nd.stopFailed = true
			nd.stopFailedG[g] = true
			if w.calm && nd.stopping {
				// The operator retries a graceful stop held up by a failed
				// stop (calmDown did so for the failures before the calm).
				inc := nd.inc
				w.at(w.now+500*time.Millisecond, "retry the graceful stop of "+nd.name, func() {
					if nd.up && nd.inc == inc {
						nd.n.Stop(w.tm())
						w.process(i)
					}
				})
			}
		}
		nd.n.GroupStopped(w.tm(), e.act.Group, e.err)
	}
	w.process(i)
	if nd.up && nd.inc == e.inc && !nd.busy[g] {
		w.begin(i, g)
	}
}

// ownersChanged tracks dual ownership of group g.
func (w *world) ownersChanged(g int) {
	a, b := w.nodes[0], w.nodes[1]
	ra, rb := a.up && a.run[g], b.up && b.run[g]
	if w.calm {
		w.calmMoves[g]++
	}
	switch {
	case ra && rb:
		if w.dualSince[g] == 0 {
			w.dualSince[g] = w.now
			w.stats.dual++
			w.logf("group %s runs on both nodes", w.p.Groups[g].Key)
		}
	case w.dualSince[g] != 0:
		w.dualSince[g] = 0
	}
}

func (w *world) fence(i int, name string) {
	nd := w.nodes[i]
	t := w.nodeIndex(name)
	w.stats.fences++
	if !w.p.Fencing {
		w.fail("%s asked to fence %s without fencing configured", nd.name, name)
	}
	d := time.Duration(20+w.rng.Intn(180)) * time.Millisecond
	var err error
	if !w.calm {
		switch w.p.Fence {
		case fenceFailsThenWorks:
			if w.fenceFailed < w.p.FenceFails {
				w.fenceFailed++
				err = errors.New("device unreachable")
			}
		case fenceSlow:
			d = w.p.Deadtime*3/2 + time.Duration(w.rng.Int63n(int64(w.p.Deadtime)*5/2))
		case fenceFailsUntilCalm:
			err = errors.New("device unreachable")
		}
	}
	w.logf("%s: fencing %s (takes %v, err %v)", nd.name, name, d, err)
	w.push(&simEv{at: w.now + d, kind: evFence, to: i, inc: nd.inc, tgt: t, err: err})
}

func (w *world) fenceDone(e *simEv) {
	if e.err == nil {
		w.stats.fenceOK++
		w.powerOff(e.tgt, "fenced by "+simNames[e.to])
	}
	nd := w.nodes[e.to]
	if !nd.up || nd.inc != e.inc {
		return
	}
	nd.n.FenceDone(w.tm(), simNames[e.tgt], e.err)
	w.process(e.to)
}

// ---- links ----

func (w *world) send(i int, m *msg.Message) {
	if w.drop != nil && w.drop(i, m) {
		w.dropped++
		w.logf("%s: message %s dropped by the scenario", w.nodes[i].name, describe(m))
		return
	}
	if t := m.Type(); t != "status" && !strings.HasPrefix(t, "NS_") {
		w.stats.protoMsgs++
		if w.calm {
			w.calmMsgs++
		}
		w.logf("%s sends %s", w.nodes[i].name, describe(m))
	} else if w.verbose {
		w.logf("%s sends %s", w.nodes[i].name, describe(m))
	}
	// One copy of the message travels (the receivers never modify it);
	// some scenarios send it through the real codec.
	var wire *msg.Message
	if w.p.Codec {
		b := msg.EncodeNetstring(m, w.kr, true)
		out, err := msg.Decode(b, w.kr)
		if err != nil {
			w.fail("codec: %v for %v", err, m)
			return
		}
		wire = out
	}
	for li, l := range w.links {
		if l.cut || (l.loss > 0 && w.rng.Float64() < l.loss) {
			continue
		}
		copies := 1
		if l.dup > 0 && w.rng.Float64() < l.dup {
			copies = 2
		}
		for c := 0; c < copies; c++ {
			d := l.delay
			if l.jitter > 0 {
				d += time.Duration(w.rng.Int63n(int64(l.jitter)))
			}
			if wire == nil {
				wire = m.Clone()
			}
			w.push(&simEv{at: w.now + d, kind: evDeliver, to: 1 - i, link: li, m: wire})
		}
	}
}

func describe(m *msg.Message) string {
	s := m.Type()
	for _, f := range []string{"seq", "rsc_hold", "info", "rtype", "isstable", "st", "ipaddr", "firstseq"} {
		if v, ok := m.Get(f); ok {
			s += " " + f + "=" + v
		}
	}
	return s
}

func (w *world) deliver(e *simEv) {
	nd := w.nodes[e.to]
	if !nd.up {
		return
	}
	m := e.m
	if t := m.Type(); !strings.HasPrefix(t, "NS_") {
		gen, _ := strconv.ParseUint(m.Str(msg.FGen), 16, 64)
		seq, _ := strconv.ParseUint(m.Str(msg.FSeq), 16, 64)
		if gen > nd.first.gen || nd.first.seq == 0 {
			nd.first = genSeq{gen, seq}
		}
		belowFirst := gen == nd.first.gen && seq < nd.first.seq
		if ms := nd.maxSeen; t == "status" && !belowFirst && (gen > ms.gen || (gen == ms.gen && seq > ms.seq)) {
			nd.maxSeen = genSeq{gen, seq}
			nd.lastFresh = w.now
		}
	}
	if w.verbose {
		w.logf("%s <- %s on %s", nd.name, describe(m), w.lnames[e.link])
	}
	nd.n.Receive(w.tm(), w.lnames[e.link], m)
	w.process(e.to)
}

// ---- the loop ----

// run advances the world to until, jumping from event to event.
func (w *world) run(until time.Duration) {
	var due [2]time.Duration
	for !w.failed {
		next := until + 1
		for i, nd := range w.nodes {
			due[i] = 1 << 62
			if nd.up {
				due[i] = nd.n.Next()
				next = min(next, due[i])
			}
		}
		if len(w.q) > 0 && w.q[0].at < next {
			next = w.q[0].at
		}
		if next > until {
			break
		}
		if next > w.now {
			w.now = next
		}
		for i, nd := range w.nodes {
			if nd.up && due[i] <= w.now {
				nd.n.Tick(w.tm())
				w.process(i)
				if nd.up && nd.n.Next() <= w.now {
					w.fail("%s: Next() = %v is not after the Tick at %v", nd.name, nd.n.Next(), w.now)
				}
			}
		}
		for len(w.q) > 0 && w.q[0].at <= w.now && !w.failed {
			e := heap.Pop(&w.q).(*simEv)
			switch e.kind {
			case evDeliver:
				w.deliver(e)
			case evResult:
				if e.late {
					w.hung--
				}
				w.result(e)
			case evFence:
				w.fenceDone(e)
			case evPowerOff:
				if nd := w.nodes[e.to]; nd.up && nd.inc == e.inc {
					w.powerOff(e.to, e.what)
				}
			case evScript:
				w.logf("scenario: %s", e.what)
				e.fn()
			case evCheck:
				e.fn()
			}
		}
		w.afterStep()
	}
	if w.now < until {
		w.now = until
	}
}

// afterStep: exits, periodic mark saves, and the time-bounded invariants.
func (w *world) afterStep() {
	for i, nd := range w.nodes {
		if !nd.up {
			continue
		}
		if nd.n.Done() {
			w.exit(i)
			continue
		}
		if w.now-nd.lastSave >= simMarkEvery {
			nd.saved, nd.lastSave = nd.n.Marks(), w.now
		}
		if len(nd.moves) > 0 {
			for id, pm := range nd.moves {
				if w.now > pm.deadline {
					w.fail("%s: %s (id %d) got no answer by %v", nd.name, pm.what, id, pm.deadline)
				}
			}
		}
	}
	w.checkDual()
}

// checkDual: without fencing both nodes may run a group during a
// partition; once the cluster is whole again (no cause for calmBound)
// exactly one keeps it.
func (w *world) checkDual() {
	if w.hung > 0 {
		return // resolving waits for both nodes' groups to settle
	}
	for g, since := range w.dualSince {
		if since == 0 || w.stuck(g) {
			continue
		}
		from := max(since, w.lastCause)
		if w.now-from > w.calmBound {
			w.failLive("dual", "%s runs on both nodes since %v, unresolved %v after the last cause (%s)",
				w.p.Groups[g].Key, since, w.now-from, w.lastCauseWhat)
		}
	}
}

// stuck: group g failed to stop on a node that does not fence itself; it
// stays there, possibly running, until an operator steps in (Heartbeat's
// fatal state), so no rule can resolve a dual ownership of it.
func (w *world) stuck(g int) bool {
	if w.p.SelfFence {
		return false
	}
	for _, nd := range w.nodes {
		if nd.up && nd.stopFailedG[g] {
			return true
		}
	}
	return false
}

// ---- the calm phase and the final checks ----

// calmDown ends the faults: perfect links, every result and fence
// succeeds, nodes that are down boot, stuck graceful stops are retried.
func (w *world) calmDown() {
	w.calm = true
	w.calmStart = w.now
	for _, l := range w.links {
		*l = simLink{delay: time.Millisecond}
	}
	w.logf("calm: links perfect, every operation succeeds from now on")
	for i, nd := range w.nodes {
		if !nd.up {
			w.boot(i)
		} else if nd.stopping {
			// An operator retries a graceful stop that a failed stop held up.
			w.logf("%s: graceful stop retried", nd.name)
			nd.n.Stop(w.tm())
			w.process(i)
		}
	}
}

// settle runs the calm phase until nothing has happened for a while; a
// cluster that keeps finding causes to move groups bounces forever.
func (w *world) settle() {
	limit := w.now + 60*time.Second
	for !w.failed {
		end := max(w.lastCause+w.calmBound, w.calmStart+w.checksCalm()) + 500*time.Millisecond
		for _, e := range w.q {
			if e.kind == evResult && e.at+w.calmBound > end {
				end = e.at + w.calmBound // a hung operation still running
			}
		}
		if end <= w.now {
			break
		}
		if end > limit {
			w.run(limit)
			if !w.failed {
				w.fail("the cluster does not settle: causes keep coming (last: %s at %v)", w.lastCauseWhat, w.lastCause)
			}
			return
		}
		w.run(end)
	}
	if !w.failed {
		w.finalChecks()
	}
}

// finalChecks: after the calm phase every group that can run has exactly
// one owner, no node is in transition, and no group bounced.
func (w *world) finalChecks() {
	// A group may stay stopped after failed starts: where the manager
	// still marks it failed, after failures on both nodes, and in legacy
	// mode (no standby hands it over) after any failure.
	mayBeDown := func(g int) bool {
		failedSomewhere := false
		for _, nd := range w.nodes {
			if !nd.up {
				continue
			}
			for _, gs := range nd.n.Groups() {
				if gs.Key == w.p.Groups[g].Key && gs.Failed {
					failedSomewhere = true
				}
			}
		}
		return failedSomewhere || w.startFailed[g] == 3 || (w.p.Failback == "legacy" && w.startFailed[g] != 0)
	}
	for g, grp := range w.p.Groups {
		owners := 0
		for _, nd := range w.nodes {
			if nd.up && nd.run[g] {
				owners++
			}
		}
		if (owners > 1 && !w.stuck(g)) || (owners == 0 && !mayBeDown(g)) {
			w.failLive("owners", "after the calm phase %s has %d owners", grp.Key, owners)
			return
		}
		if owners == 1 && !w.stuck(g) {
			// Clients follow the latest announcement: the owner's must be
			// the latest (after a split brain the keeper re-announces).
			k, o := w.nodes[0], w.nodes[1]
			if !k.up || !k.run[g] {
				k, o = o, k
			}
			if k.lastAnnounce[g] < o.lastAnnounce[g] {
				w.failLive("announce", "%s owns %s, but %s announced it last (at %v, the owner at %v)",
					k.name, grp.Key, o.name, o.lastAnnounce[g], k.lastAnnounce[g])
				return
			}
		}
		if w.calmMoves[g] > 12 {
			w.fail("%s changed owners %d times in the calm phase", grp.Key, w.calmMoves[g])
		}
	}
	if w.calmMsgs > 200 {
		w.fail("%d protocol messages in the calm phase: a message storm", w.calmMsgs)
	}
	for _, nd := range w.nodes {
		if nd.up && !nd.stopping {
			if s := nd.n.RscStatus(); s == "transition" {
				w.failLive("transition", "%s is still in transition after the calm phase", nd.name)
			}
		}
	}
	if !w.failed {
		w.healthFinal(mayBeDown)
	}
}

// ---- the random scenario ----

func genParams(seed int64) simParams {
	r := rand.New(rand.NewSource(seed))
	p := simParams{Seed: seed}
	p.Links = 1 + r.Intn(2)
	p.Keepalive = []time.Duration{100, 150, 200}[r.Intn(3)] * time.Millisecond
	p.Deadtime = p.Keepalive * time.Duration(4+r.Intn(4))
	p.Failback = []string{"on", "off", "legacy"}[r.Intn(3)]
	p.Fencing = r.Intn(2) == 0
	p.Fallback = p.Fencing && r.Intn(8) == 0
	p.SelfFence = r.Intn(3) != 0
	p.Codec = r.Intn(16) == 0
	ng := 1 + r.Intn(3)
	prefer := r.Intn(4) // 0: all node1 (node2 prefers nothing), 1: all node2, else mixed
	for g := 0; g < ng; g++ {
		node := simNames[r.Intn(2)]
		switch prefer {
		case 0:
			node = "node1"
		case 1:
			node = "node2"
		}
		p.Groups = append(p.Groups, haresources.Group{Key: "198.18.0." + strconv.Itoa(100+g), Node: node})
	}
	p.FaultEnd = time.Duration(5+r.Intn(11)) * time.Second
	if r.Intn(2) == 0 {
		p.PStartFail = []float64{0.05, 0.2, 0.5}[r.Intn(3)]
	}
	if r.Intn(3) == 0 {
		p.PStopFail = []float64{0.05, 0.2}[r.Intn(2)]
	}
	if r.Intn(4) == 0 {
		p.PHang = []float64{0.05, 0.2}[r.Intn(2)]
	}
	p.Fence = fenceMode(r.Intn(4))
	p.FenceFails = 1 + r.Intn(3)
	switch r.Intn(3) {
	case 0:
	case 1:
		p.Stagger = time.Duration(r.Intn(1500)) * time.Millisecond
	default:
		p.Stagger = time.Duration(r.Intn(8000)) * time.Millisecond
	}
	if r.Intn(3) == 0 {
		genChecks(r, &p)
	}
	return p
}

// script draws the scenario's faults.
func (w *world) script() {
	r := rand.New(rand.NewSource(w.p.Seed * 7919))
	p := w.p
	first := r.Intn(2)
	w.at(0, "boot "+simNames[first], func() { w.boot(first) })
	w.at(p.Stagger, "boot "+simNames[1-first], func() { w.boot(1 - first) })
	nf := 3 + r.Intn(10)
	for k := 0; k < nf; k++ {
		t := time.Duration(r.Int63n(int64(p.FaultEnd)))
		i := r.Intn(2)
		name := simNames[i]
		switch x := r.Intn(20); {
		case x < 4: // one link's quality changes
			li := r.Intn(len(w.links))
			loss := []float64{0, 0.1, 0.3, 0.7, 1}[r.Intn(5)]
			dup := []float64{0, 0, 0.1, 0.5}[r.Intn(4)]
			delay := time.Duration(r.Int63n(int64(p.Keepalive/2))) + 100*time.Microsecond
			jit := time.Duration(r.Int63n(int64(p.Keepalive)))
			w.at(t, fmt.Sprintf("link eth%d loss=%.1f dup=%.1f delay=%v jitter=%v", li, loss, dup, delay, jit), func() {
				l := w.links[li]
				l.loss, l.dup, l.delay, l.jitter = loss, dup, delay, jit
			})
			back := t + time.Duration(r.Int63n(int64(4*p.Deadtime)))
			w.at(back, fmt.Sprintf("link eth%d good again", li), func() {
				l := w.links[li]
				l.loss, l.dup, l.delay, l.jitter = 0, 0, time.Millisecond, 0
			})
		case x < 7: // partition: one link or all, then heal
			all := r.Intn(2) == 0
			li := r.Intn(len(w.links))
			heal := t + time.Duration(r.Int63n(int64(6*p.Deadtime)))
			w.at(t, fmt.Sprintf("cut link eth%d (all links: %v)", li, all), func() {
				for k, l := range w.links {
					if all || k == li {
						l.cut = true
					}
				}
			})
			w.at(heal, fmt.Sprintf("heal link eth%d (all links: %v)", li, all), func() {
				for k, l := range w.links {
					if all || k == li {
						l.cut = false
					}
				}
			})
		case x < 9: // crash, restart later (sometimes within deadtime)
			back := t + time.Duration(r.Int63n(int64(3*time.Second)))
			w.at(t, "crash "+name, func() { w.stats.crashes++; w.powerOff(i, "crash") })
			w.at(back, "restart "+name, func() { w.boot(i) })
		case x < 10: // graceful stop, restart later
			back := t + time.Duration(1+r.Intn(4))*time.Second
			w.at(t, "graceful stop of "+name, func() { w.stats.stops2++; w.gracefulStop(i) })
			w.at(back, "restart "+name+" (if it has exited)", func() { w.boot(i) })
		default: // operator command
			kind := Standby
			if r.Intn(2) == 0 {
				kind = Takeover
			}
			word := []string{"all", "local", "foreign", "failback"}[r.Intn(4)]
			w.at(t, fmt.Sprintf("%s on %s: %s", kind, name, word), func() { w.move(i, kind, word) })
		}
	}
	w.at(p.FaultEnd, "the faults end", w.calmDown)
}

// runScenario runs one seed; it returns the world (w.failed says whether
// an invariant broke).
func runScenario(p simParams, verbose bool) *world {
	w := newWorld(p)
	w.verbose = verbose
	w.script()
	w.run(p.FaultEnd)
	if !w.failed {
		w.settle()
	}
	if w.hasChecks() {
		w.stats.checkSeeds, w.stats.healthMoves, w.stats.checkFailings = 1, w.health.total, w.health.failings
	}
	return w
}

func (w *world) report() string {
	return fmt.Sprintf("%s\nparameters: %s\nreplay: NODESIM_SEED=%d go test -run TestSim -v ./heartbeat/node/\n--- last %d trace lines ---\n%s",
		w.failMsg, w.p, w.p.Seed, 200, strings.Join(w.lastTrace(200), "\n"))
}

func TestSim(t *testing.T) {
	if s := os.Getenv("NODESIM_SEED"); s != "" {
		seed, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		w := runScenario(genParams(seed), true)
		t.Logf("parameters: %s\n%s", w.p, strings.Join(w.trace, "\n"))
		if w.failed {
			t.Fatal(w.failMsg)
		}
		return
	}
	seeds := 10000
	if testing.Short() {
		seeds = 1000
	}
	if s := os.Getenv("NODESIM_SEEDS"); s != "" {
		seeds, _ = strconv.Atoi(s)
	}
	// The scenarios allocate much and keep little: collect less often.
	defer debug.SetGCPercent(debug.SetGCPercent(800))
	start := time.Now()
	var next atomic.Int64
	var mu sync.Mutex
	var failures []*world
	var total simStats
	var wg sync.WaitGroup
	for k := 0; k < runtime.GOMAXPROCS(0); k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				seed := next.Add(1)
				if seed > int64(seeds) {
					return
				}
				w := runScenario(genParams(seed), false)
				mu.Lock()
				if w.failed {
					failures = append(failures, w)
				}
				total.add(w.stats)
				if w.stats.protoMsgs > 1000 && os.Getenv("NODESIM_DEBUG") != "" {
					fmt.Printf("seed %d: %d protocol messages\n", seed, w.stats.protoMsgs)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("%d seeds in %v", seeds, time.Since(start).Round(time.Millisecond))
	t.Logf("totals: %+v", total)
	if os.Getenv("NODESIM_DEBUG") != "" {
		for _, w := range failures {
			fmt.Printf("FAIL seed %d [%s]: %s\n", w.p.Seed, w.failKind, w.failMsg)
		}
	}
	var known []string
	shown := 0
	for _, w := range failures {
		if kind, ok := simKnownLiveness[w.p.Seed]; ok && kind == w.failKind {
			known = append(known, fmt.Sprintf("%d (%s)", w.p.Seed, kind))
			continue
		}
		if shown++; shown > 3 {
			continue
		}
		t.Errorf("seed %d: %s", w.p.Seed, w.report())
	}
	if shown > 3 {
		t.Errorf("... and %d more failing seeds", shown-3)
	}
	if len(known) > 0 {
		t.Logf("%d known liveness failures (open, see simKnownLiveness): %s", len(known), strings.Join(known, " "))
	}
}

func (s *simStats) add(o simStats) {
	s.moves += o.moves
	s.answers += o.answers
	s.fences += o.fences
	s.fenceOK += o.fenceOK
	s.starts += o.starts
	s.stops += o.stops
	s.failedOps += o.failedOps
	s.hangs += o.hangs
	s.crashes += o.crashes
	s.stops2 += o.stops2
	s.deaths += o.deaths
	s.dual += o.dual
	s.protoMsgs += o.protoMsgs
	s.checkSeeds += o.checkSeeds
	s.healthMoves += o.healthMoves
	s.checkFailings += o.checkFailings
}

// simKnownLiveness: random scenarios that still break a liveness
// invariant, by seed and kind: open bugs. 4213 and 9711 share a cause:
// overlaps are resolved per kind (local/foreign), not per group (9673 was
// one too, before a third of the seeds drew check commands, which changed
// its scenario); 8612 involves a standby whose taker restarted; 2878 a
// stale announcement. 7084 and 8842 (health): after a partition the
// peer's stable report arrives before its status, the core declares the
// peer alive only on the status, and the manager's PeerAlive then resets
// peerStable; the peer has no reason to report again, so PeerStable stays
// false for good and evaluateHealth never moves a set to the healthier
// node (the same blocks maybePendingStandby). 5907 (owners): a health
// move's standby handshake cut by a partition with fencing: the taker
// abandons it (peer dead, fence cancelled as the peer returns), the
// giver's times out, nobody runs the groups. 2701 (owners, legacy, no
// health move): check results changed the timing of an old scenario.
// (5738 and 6296 pass since a peer that restarted within deadtime is no
// longer taken over as a whole.) A listed seed that fails otherwise, or
// any other failing seed, fails the test. Regenerate with NODESIM_DEBUG=1.
var simKnownLiveness = map[int64]string{2701: "owners", 2878: "announce", 4213: "owners", 5907: "owners", 7084: "health", 8612: "owners", 8842: "health", 9711: "owners"}
