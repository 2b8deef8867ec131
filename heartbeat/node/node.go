package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/hasuite/hasuite/heartbeat/core"
	"github.com/hasuite/hasuite/heartbeat/msg"
	"github.com/hasuite/hasuite/resources/manager"
)

// Time is the one clock type of the node layer: a monotonic offset for
// every timeout, and wall seconds for the "ts" field only.
type Time = core.Time

// Config is what the node layer needs: the core's and the manager's
// configurations and the bounds of the node's own procedures.
type Config struct {
	Core core.Config
	// Resources configures the ownership manager; its LocalNode is
	// Core.LocalNode.
	Resources manager.Config
	// StopGrace bounds a graceful stop after shutdone was first sent
	// (default 3 s): the peer's acknowledgements are waited for no longer.
	StopGrace time.Duration
	// MoveTimeout bounds how long an operator's standby or takeover may
	// take (default 2 min).
	MoveTimeout time.Duration
	// NoAnswerTimeout: a takeover whose handshake never began (the peer
	// refused, being in transition) fails after this long (default 15 s).
	NoAnswerTimeout time.Duration
	// Ping configures the ping nodes (reach.go).
	Ping PingConfig
}

// MoveKind is an operator command that moves groups.
type MoveKind int

// Move kinds.
const (
	// Standby moves groups away from this node (hb_standby).
	Standby MoveKind = iota + 1
	// Takeover asks the peer to hand groups to this node (hb_takeover).
	Takeover
)

func (k MoveKind) String() string {
	if k == Takeover {
		return "takeover"
	}
	return "standby"
}

// Answer ends one operator command: what this node holds once the move
// finished, or why it did not.
type Answer struct {
	ID      uint64
	Kind    MoveKind
	Holding manager.Hold
	Took    time.Duration
	Err     error
}

// Ready is one batch of outputs. See the package documentation.
type Ready struct {
	Messages  []*msg.Message
	Actions   []manager.Action // Start, Stop, Restart, Announce
	Fence     []string         // nodes to fence; answer with FenceDone
	FenceSelf bool             // a group could not be stopped here
	Events    []Event
	Answers   []Answer
	Probes    []Probe // ICMP echoes to send (reach.go)
}

func (r *Ready) empty() bool {
	return len(r.Messages) == 0 && len(r.Actions) == 0 && len(r.Fence) == 0 && !r.FenceSelf &&
		len(r.Events) == 0 && len(r.Answers) == 0 && len(r.Probes) == 0
}

// move is an operator command waiting for its groups to move.
type move struct {
	id       uint64
	kind     MoveKind
	set      manager.Hold // in our terms: what must leave (standby) or arrive (takeover)
	started  time.Duration
	deadline time.Duration
	seenBusy bool
}

// Node is the decision layer of one node. Not safe for concurrent use: one
// goroutine (the daemon's loop) owns it.
type Node struct {
	cfg  Config
	core *core.Core
	mgr  *manager.Manager
	peer string
	now  Time

	moves []*move
	// fencing maps a node being fenced to when it was requested.
	fencing map[string]time.Duration

	health healthState

	stopping  bool          // releasing the groups before shutdone
	announced bool          // shutdone went out
	stopBy    time.Duration // the end of the stop grace

	reach reach // ping nodes (reach.go)

	ready Ready
}

// New builds the node layer. The peer is the other node of the node list
// (the resource manager assumes two nodes, as Heartbeat's release 1 does).
func New(cfg Config) (*Node, error) {
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = 3 * time.Second
	}
	if cfg.MoveTimeout <= 0 {
		cfg.MoveTimeout = 2 * time.Minute
	}
	if cfg.NoAnswerTimeout <= 0 {
		cfg.NoAnswerTimeout = 15 * time.Second
	}
	c, err := core.New(cfg.Core)
	if err != nil {
		return nil, err
	}
	peer := ""
	for _, name := range cfg.Core.Nodes {
		if name != cfg.Core.LocalNode {
			peer = name
		}
	}
	if len(cfg.Resources.Groups) > 0 && len(cfg.Core.Nodes) != 2 {
		return nil, fmt.Errorf("resource groups need a cluster of exactly two nodes (%d configured)", len(cfg.Core.Nodes))
	}
	rc := cfg.Resources
	rc.LocalNode = cfg.Core.LocalNode
	r, err := newReach(cfg.Ping)
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, core: c, mgr: manager.New(rc, peer), peer: peer, fencing: map[string]time.Duration{},
		reach: r, health: newHealthState(rc.Groups)}
	c.WatchStatusField(HealthField)
	c.SetStatusField(HealthField, n.health.advertised())
	return n, nil
}

// Peer is the other node's name ("" in a one-node cluster).
func (n *Node) Peer() string { return n.peer }

func (n *Node) setNow(now Time) {
	if now.Mono > n.now.Mono || n.now == (Time{}) {
		n.now = now
	}
}

// Start begins heartbeating. Call it once, before any other input.
func (n *Node) Start(now Time) {
	n.setNow(now)
	n.core.Start(now)
	n.pingStart(now.Mono)
	n.settle()
}

// Receive hands over one packet that decoded and authenticated on link.
func (n *Node) Receive(now Time, link string, m *msg.Message) {
	n.setNow(now)
	n.core.Receive(now, link, m)
	n.settle()
}

// Tick runs whatever timers are due at now. Calling it early is harmless.
func (n *Node) Tick(now Time) { n.TickUpTo(now, now.Mono) }

// TickUpTo is Tick for a caller that could not yet hand over everything
// that arrived before now (a link with more datagrams queued than it reads
// in one go): every timer runs at now, but a peer's silence is judged only
// up to horizon, the arrival time up to which every message was received.
func (n *Node) TickUpTo(now Time, horizon time.Duration) {
	n.setNow(now)
	if n.core.Next() <= now.Mono {
		n.core.TickUpTo(now, horizon)
	}
	n.pingTick(now.Mono)
	n.settle()
}

// Stalled tells the node that its caller did not run from from until until
// (its loop woke that late: the process was stopped, starved, or the whole
// machine paused): a peer whose timeout ran out meanwhile gets one
// keepalive more to be heard, since it may have been paused too
// (core.Stalled).
func (n *Node) Stalled(from, until time.Duration) { n.core.Stalled(from, until) }

// SetLoadAvg sets the load average text sent in the "ld" field.
func (n *Node) SetLoadAvg(s string) { n.core.SetLoadAvg(s) }

// Next returns the monotonic time at which Tick must next run.
func (n *Node) Next() time.Duration {
	next := min(n.core.Next(), n.mgr.Next(), n.reach.pingNext(), n.healthNext())
	for _, mv := range n.moves {
		next = min(next, mv.deadline)
		if !mv.seenBusy {
			next = min(next, mv.started+n.cfg.NoAnswerTimeout)
		}
	}
	if n.announced && n.now.Mono < n.stopBy {
		next = min(next, n.stopBy)
	}
	return next
}

// Stop begins a graceful stop: every group is released, then shutdone is
// announced; Done reports the end. Called again before shutdone went out,
// it retries the stops that failed.
func (n *Node) Stop(now Time) {
	n.setNow(now)
	if n.announced {
		return
	}
	n.stopping = true
	n.mgr.Stop(now.Mono)
	n.settle()
}

// Stopping reports whether a graceful stop has begun.
func (n *Node) Stopping() bool { return n.stopping }

// Done reports that a graceful stop has finished: shutdone was sent and
// acknowledged, or the grace ran out.
func (n *Node) Done() bool {
	return n.announced && (n.core.Done() || n.now.Mono >= n.stopBy)
}

// Move starts an operator's standby or takeover of the groups named by
// word (all, local, foreign, failback). An error means nothing was started;
// otherwise the command is answered in a later Ready with id.
func (n *Node) Move(now Time, id uint64, kind MoveKind, word string) error {
	n.setNow(now)
	set := manager.StandbySet
	if kind == Takeover {
		set = manager.TakeoverSet
	}
	h, ok := set(word)
	if !ok {
		return fmt.Errorf("bad argument %q: want all, foreign, local or failback", word)
	}
	var err error
	if kind == Standby {
		err = n.mgr.Standby(now.Mono, h)
	} else {
		err = n.mgr.Takeover(now.Mono, h)
	}
	if err != nil {
		return err
	}
	n.moves = append(n.moves, &move{id: id, kind: kind, set: h, started: now.Mono, deadline: now.Mono + n.cfg.MoveTimeout})
	n.settle()
	return nil
}

// GroupStarted reports the outcome of a Start action.
func (n *Node) GroupStarted(now Time, group string, err error) {
	n.setNow(now)
	n.mgr.GroupStarted(now.Mono, group, err)
	n.settle()
}

// GroupStopped reports the outcome of a Stop action (after the runner's
// retries).
func (n *Node) GroupStopped(now Time, group string, err error) {
	n.setNow(now)
	n.mgr.GroupStopped(now.Mono, group, err)
	if n.mgr.StopFailed() {
		// The group may still run here: the peer must never start a
		// second copy, so this node has to be fenced (by itself).
		n.ready.FenceSelf = true
	}
	n.settle()
}

// ResourceFailed reports that a monitor found resource (its index in the
// group, from 0) of group not running, or could not tell (reason: "not
// running", an error, a timeout). The decision is the node layer's: a
// Restart action (restart in place from that resource), or, when the
// group's restarts within its window are used up, a Stop and a hand-over
// to the peer; reports about a group in transition are ignored.
func (n *Node) ResourceFailed(now Time, group string, resource int, reason string) {
	n.setNow(now)
	n.mgr.ResourceFailed(now.Mono, group, resource, reason)
	n.settle()
}

// GroupRestarted reports the outcome of a Restart action. An error that
// wraps manager.ErrStopFailed means a resource may still run: like a
// failed stop, this node must be fenced (Ready.FenceSelf).
func (n *Node) GroupRestarted(now Time, group string, err error) {
	n.setNow(now)
	n.mgr.GroupRestarted(now.Mono, group, err)
	if n.mgr.StopFailed() {
		n.ready.FenceSelf = true
	}
	n.settle()
}

// Cleanup is hactl cleanup: clears the group's failure count and failed
// state here, and starts it here if it runs nowhere. An error means there
// is no such group.
func (n *Node) Cleanup(now Time, group string) error {
	n.setNow(now)
	err := n.mgr.Cleanup(now.Mono, group)
	n.settle()
	return err
}

// FenceDone reports the outcome of fencing node (a Ready.Fence request).
func (n *Node) FenceDone(now Time, node string, err error) {
	n.setNow(now)
	e := Event{Kind: FenceOK, Node: node, Level: manager.Warn}
	if at, ok := n.fencing[node]; ok {
		e.Took = now.Mono - at
		delete(n.fencing, node)
	}
	if err != nil {
		e.Kind, e.Err, e.Level = FenceFailed, err, manager.Error
	}
	n.emit(e)
	if node == n.peer {
		n.mgr.FenceDone(now.Mono, err)
	}
	n.settle()
}

// HasReady reports whether Ready has anything.
func (n *Node) HasReady() bool { return !n.ready.empty() }

// Ready returns and clears the outputs produced so far.
func (n *Node) Ready() Ready {
	r := n.ready
	n.ready = Ready{}
	return r
}

// Snapshot is the membership state for status commands.
func (n *Node) Snapshot(now Time) core.Snapshot { return n.core.Snapshot(now) }

// Groups is every group's state here, for status commands.
func (n *Node) Groups() []manager.GroupStatus { return n.mgr.Groups() }

// RscStatus is cl_status rscstatus: what this node holds, or "transition".
func (n *Node) RscStatus() string { return n.mgr.RscStatus() }

// Marks returns the newest (generation, seq) seen from every peer, for the
// daemon to persist.
func (n *Node) Marks() map[string]core.Mark { return n.core.Marks() }

func (n *Node) emit(e Event) { n.ready.Events = append(n.ready.Events, e) }

// settle passes outputs between the core and the manager until neither has
// anything left, then moves the node's own procedures on (the graceful
// stop, operator commands).
func (n *Node) settle() {
	for {
		n.evaluateHealth()
		n.drainManager()
		if n.stopping && !n.announced && n.mgr.Done() {
			n.announced = true
			n.stopBy = n.now.Mono + n.cfg.StopGrace
			n.emit(Event{Kind: ShutdoneSent, Node: n.cfg.Core.LocalNode})
			n.core.Stop(n.now)
		}
		if !n.core.HasReady() {
			break
		}
		out, events := n.core.Ready()
		n.ready.Messages = append(n.ready.Messages, out...)
		for _, e := range events {
			n.coreEvent(e)
		}
	}
	n.answerMoves()
}

// drainManager runs the manager's due timers and moves its outputs on:
// messages to the core, group actions and fence requests to Ready.
func (n *Node) drainManager() {
	if n.mgr.Next() <= n.now.Mono {
		n.mgr.Tick(n.now.Mono)
	}
	out, actions, events := n.mgr.Ready()
	for _, m := range out {
		n.core.Send(n.now, m)
	}
	for _, a := range actions {
		if a.Kind == manager.Fence {
			n.fencing[a.Node] = n.now.Mono
			n.ready.Fence = append(n.ready.Fence, a.Node)
			n.emit(Event{Kind: FenceStarted, Node: a.Node, Level: manager.Warn})
			continue
		}
		n.ready.Actions = append(n.ready.Actions, a)
	}
	for _, e := range events {
		n.emit(resourceEvent(e))
	}
}

// resourceEvent turns a manager event into a node event.
func resourceEvent(e manager.Event) Event {
	out := Event{Kind: Decision, Group: e.Group, Level: e.Level, Detail: e.Detail}
	switch e.Kind {
	case manager.EvGroupState:
		out.Kind, out.GroupFrom, out.GroupTo = GroupState, e.From, e.To
	case manager.EvStartFailed:
		out.Kind = GroupStartFailed
	case manager.EvStopFailed:
		out.Kind = GroupStopFailed
	case manager.EvDualOwnership:
		out.Kind = SplitBrain
	case manager.EvResourceFailed:
		out.Kind, out.Resource = ResourceFailed, e.Resource
	case manager.EvGroupFailed:
		out.Kind = GroupFailed
	case manager.EvDualOwnershipResolved:
		out.Kind = SplitBrainHealed
	case manager.EvStandby:
		out.Kind, out.Move = StandbyStarted, e.Move
	case manager.EvTakeover:
		out.Kind, out.Move = TakeoverAsked, e.Move
	}
	return out
}

// coreEvent reports a membership event and feeds what it means for the
// groups to the manager.
func (n *Node) coreEvent(e core.Event) {
	now := n.now.Mono
	switch e.Kind {
	case core.EvNodeState:
		kind := NodeState
		if e.To == core.Dead {
			kind = NodeDead
		}
		n.emit(Event{Kind: kind, Node: e.Node, NodeFrom: e.From, NodeTo: e.To, Cause: e.Cause,
			Silence: e.Interval, Detail: e.Detail})
		if e.Node != n.peer {
			return
		}
		switch {
		case e.To == core.Dead:
			n.mgr.PeerDead(now, e.Cause == core.CauseShutdown)
		case (e.To == core.Up || e.To == core.Active) && (e.From == core.Dead || e.From == core.Init):
			n.mgr.PeerAlive(now)
		}
	case core.EvLinkState:
		kind := LinkDead
		if e.LinkTo == core.LinkUp {
			kind = LinkUp
		}
		n.emit(Event{Kind: kind, Node: e.Node, Link: e.Link, LinkTo: e.LinkTo, Detail: e.Detail})
	case core.EvLateHeartbeat:
		n.emit(Event{Kind: LateHeartbeat, Node: e.Node, Silence: e.Interval, Detail: e.Detail})
	case core.EvPeerRestarted:
		n.emit(Event{Kind: PeerRestarted, Node: e.Node, Detail: e.Detail})
		if e.Node == n.peer {
			n.mgr.PeerRestarted(now)
		}
	case core.EvPartitionReturn:
		n.emit(Event{Kind: PartitionReturn, Node: e.Node, Detail: e.Detail, Level: manager.Error})
		if e.Node == n.peer {
			n.mgr.PartitionReturned(now)
		}
	case core.EvPeerShutdown:
		n.emit(Event{Kind: PeerShutdown, Node: e.Node})
	case core.EvCommUp:
		n.emit(Event{Kind: CommUp, Node: e.Node})
		n.mgr.CommUp(now, n.core.Alive(n.peer))
	case core.EvDropped:
		n.emit(Event{Kind: Dropped, Node: e.Node, Link: e.Link, Detail: e.Detail})
	case core.EvRexmitGiveUp:
		n.emit(Event{Kind: RexmitGiveUp, Node: e.Node, Detail: e.Detail, Level: manager.Warn})
	case core.EvMembership:
		n.emit(Event{Kind: MembershipDiffers, Node: e.Node, Detail: e.Detail, Level: manager.Warn})
	case core.EvFlowControlOff:
		n.emit(Event{Kind: FlowControlOff, Node: e.Node, Level: manager.Warn})
	case core.EvStatusField:
		if e.Node == n.peer && e.Field == HealthField {
			n.peerHealth(e.Value)
		}
	case core.EvDeliver:
		if !n.mgr.Receive(now, e.Msg) {
			n.deliver(e.Node, e.Msg)
		}
	}
}

// deliver answers the messages no layer handles that a Heartbeat peer
// expects an answer to: cl_status clientstatus across nodes (we run no API
// clients, so every client is offline).
func (n *Node) deliver(from string, m *msg.Message) {
	n.emit(Event{Kind: Unhandled, Node: from, Msg: m})
	if m.Type() == "query-cstatus" {
		r := msg.New("respond-cstatus")
		r.Set(msg.FDest, from)
		r.Set("result", "OK")
		r.Set("cn", m.Str("cn"))
		r.Set("to_id", m.Str("from_id"))
		r.Set("cs", "offline")
		n.core.Send(n.now, r)
	}
}

// errNoMove and errPeerGone end operator commands that cannot finish.
var errNoMove = errors.New("the move did not complete (the peer refused or timed out)")

// answerMoves answers the operator commands whose move has finished, or
// can no longer finish.
func (n *Node) answerMoves() {
	if len(n.moves) == 0 {
		return
	}
	now := n.now.Mono
	busy := n.mgr.Busy()
	hold := n.mgr.Holding()
	keep := n.moves[:0]
	for _, mv := range n.moves {
		if busy {
			mv.seenBusy = true
		}
		// Settled: both sides have finished (the peer's stable report
		// arrives just after the handshake's end), so the next command,
		// here or on the peer, finds neither in transition.
		settled := !busy && n.mgr.PeerStable()
		// Done when no group of the set runs here (standby), or every
		// group of it does (takeover): whether the set has groups at all
		// depends on who is preferred for what, and an empty set is held.
		// A takeover is done only after the peer's standby handshake ran
		// (seenBusy), also when nothing had to move.
		done := settled && ((mv.kind == Standby && n.mgr.HoldsNoneOf(mv.set)) ||
			(mv.kind == Takeover && mv.seenBusy && n.mgr.HoldsEvery(mv.set)))
		a := Answer{ID: mv.id, Kind: mv.kind, Holding: hold, Took: now - mv.started}
		switch {
		case done:
		case !n.mgr.PeerUp():
			a.Err = fmt.Errorf("the peer went away before the move finished; this node now holds %s", hold)
		case now >= mv.deadline || (mv.seenBusy && settled) || (!mv.seenBusy && now-mv.started >= n.cfg.NoAnswerTimeout):
			a.Err = fmt.Errorf("%w; this node holds %s", errNoMove, hold)
		default:
			keep = append(keep, mv)
			continue
		}
		n.ready.Answers = append(n.ready.Answers, a)
	}
	n.moves = keep
}
