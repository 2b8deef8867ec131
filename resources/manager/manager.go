package manager

import (
	"fmt"
	"strings"
	"time"

	"github.com/hasuite/hasuite/heartbeat/msg"
	"github.com/hasuite/hasuite/resources/haresources"
)

// Config is what the manager needs.
type Config struct {
	LocalNode string
	Groups    []haresources.Group
	// AutoFailback is "on", "off" or "legacy".
	AutoFailback string
	// RequestDelay: a starting node whose peer is not yet stable takes its
	// own groups anyway after this long (Heartbeat's RQSTDELAY, 10 s).
	RequestDelay time.Duration
	// StandbyTimeout: a standby request the peer does not answer is
	// cancelled after this long (10 s in Heartbeat).
	StandbyTimeout time.Duration
	// FailBackoff: a group whose start failed here is not started here
	// again for this long, unless the peer dies. Without it a group that
	// cannot start on either node would bounce between them. Default 60 s.
	FailBackoff time.Duration

	// Fencing: with FenceEnabled a peer declared dead by timeout (never one
	// that announced a graceful stop) is fenced before its groups are taken. The node that
	// has priority (it holds the first group of haresources, or is
	// preferred for it when nobody holds it) fences at once; the other
	// waits FenceDelay first, so two partitioned nodes never shoot each
	// other. A failed fence is retried (FenceRetry, doubling up to 60 s)
	// and nothing is taken, unless FenceFallback says to take over anyway.
	FenceEnabled  bool
	FenceDelay    time.Duration
	FenceRetry    time.Duration
	FenceFallback bool
}

// GroupState is where one group is on this node.
type GroupState int

// Group states.
const (
	Stopped GroupState = iota
	Starting
	Running
	Stopping
	// StopFailed: a stop failed even after retries; the group may still
	// run here and must never be started by the peer. Fatal until fenced.
	StopFailed
	// Restarting: a failed resource and the ones after it are being
	// restarted in place (a Restart action); the group is held here.
	Restarting
)

func (s GroupState) String() string {
	return [...]string{"stopped", "starting", "running", "stopping", "stop-failed", "restarting"}[s]
}

// ActionKind is what the runner is to do with a group.
type ActionKind int

// Actions.
const (
	Start ActionKind = iota + 1
	Stop
	// Fence asks the daemon to fence Node (STONITH); it answers FenceDone.
	Fence
	// Announce asks the runner to re-announce the group's VIPs at once.
	Announce
	// Restart asks the runner to restart the group's resources from
	// Resource on in place: stop them right to left (the last first, down
	// to Resource), then start them left to right. The daemon reports the
	// outcome with GroupRestarted; a stop that failed wraps ErrStopFailed.
	Restart
)

func (k ActionKind) String() string {
	return [...]string{"?", "start", "stop", "fence", "announce", "restart"}[k]
}

// Action asks the runner to start or stop a group; the daemon reports the
// outcome with GroupStarted or GroupStopped.
type Action struct {
	Kind  ActionKind
	Group string
	Node  string // Fence only
	// Resource is the index (from 0, in the group's order) of the first
	// resource to restart: Restart only.
	Resource int
}

// Event is a decision or state change, for logs and notify hooks.
type Event struct {
	Kind  EventKind
	Group string // "" for node-wide events
	// From and To are the group's states (EvGroupState).
	From, To GroupState
	// Resource is the failed resource's index (EvResourceFailed).
	Resource int
	// Move says why a move began (EvStandby, EvTakeover).
	Move   MoveCause
	Detail string
	Level  Level
}

// MoveCause says why groups began to move between the nodes.
type MoveCause int

// Move causes.
const (
	// MoveOperator: hb_standby or hb_takeover on this node.
	MoveOperator MoveCause = iota + 1
	// MoveAutoFailback: auto_failback on gives the peer its groups back.
	MoveAutoFailback
	// MovePeerRequest: the peer's hb_takeover asked this node to go standby.
	MovePeerRequest
	// MoveFailedStart: groups that failed to start here go to the peer.
	MoveFailedStart
)

func (c MoveCause) String() string {
	switch c {
	case MoveOperator:
		return "operator"
	case MoveAutoFailback:
		return "auto_failback"
	case MovePeerRequest:
		return "peer-request"
	case MoveFailedStart:
		return "failed-start"
	}
	return ""
}

// EventKind says what a manager event reports.
type EventKind int

// Event kinds. Everything that is neither a state change nor one of the
// named failures is an EvNote: a decision explained for the log.
const (
	EvNote EventKind = iota
	// EvGroupState: a group changed state here (From, To).
	EvGroupState
	// EvStartFailed: a group failed to start here (Detail: the error).
	EvStartFailed
	// EvStopFailed: a group failed to stop here; it may still run.
	EvStopFailed
	// EvDualOwnership: both nodes hold the same groups (a healed split brain).
	EvDualOwnership
	// EvFenceFailed: fencing the peer failed; its groups are not taken.
	EvFenceFailed
	// EvResourceFailed: a resource of a group running here failed its
	// monitor, or a restart in place failed (Resource, Detail); Detail
	// says whether it is restarted in place or the group leaves.
	EvResourceFailed
	// EvGroupFailed: the group failed here for good (restarts used up,
	// or its start failed): it stays stopped here until Cleanup, and goes
	// to the peer if the peer can take it.
	EvGroupFailed
	// EvDualOwnershipResolved: after EvDualOwnership or a partition's end
	// (PartitionReturned), every group is held by one node again.
	EvDualOwnershipResolved
	// EvStandby: this node began to hand groups to the peer (Move: why;
	// Detail names the set).
	EvStandby
	// EvTakeover: this node asked the peer for groups (hb_takeover).
	EvTakeover
)

// Level is an event's severity in the log.
type Level int

// Levels.
const (
	Info Level = iota
	Warn
	Error
)

type phase int

const (
	phNone phase = iota
	// initiator (G, "goes standby")
	phAskSent   // sent info=me, waiting for info=other
	phReleasing // stopping our groups of the set
	phGiven     // sent info=done, waiting for the taker's done
	// taker (T)
	phAccepted // sent info=other, waiting for the initiator's done
	phTaking   // starting the groups
)

type handshake struct {
	initiator bool
	set       Hold // in the initiator's terms
	phase     phase
	deadline  time.Duration
	// askGen, askSeq: the taker's copy of the request's generation and
	// seq: only the initiator's reports sent after it tell about it.
	askGen, askSeq uint64
}

type group struct {
	haresources.Group
	local    bool
	state    GroupState
	failed   bool          // its last start failed here
	failedAt time.Duration // when
	// sticky: it failed here for good (restarts used up): not started
	// here again until Cleanup or the peer's death, whatever FailBackoff.
	sticky bool
	// leaving: its restarts are used up and it is being stopped; once
	// stopped it is failed here and handed to the peer.
	leaving bool
	// restartFrom is the first resource of the restart in progress.
	restartFrom int
	// failures are the times of the failures within the restart window;
	// lastFailure and lastFailureAt the newest one (kept after Cleanup
	// for the status, with failures cleared).
	failures      []time.Duration
	lastFailure   string
	lastFailureAt time.Duration
	// replyIPRequest: a legacy ip-request from the peer waits for the stop.
	replyIPRequest bool
	// retake: it was being stopped for the peer, which died meanwhile:
	// once stopped, it is ours to run again.
	retake bool
}

// Manager is the resource ownership state machine of one node.
type Manager struct {
	cfg    Config
	groups []*group
	byKey  map[string]*group
	peer   string

	commUp        bool
	stable        bool // finished taking what we will take (isstable)
	startingSince time.Duration
	peerAlive     bool
	peerStarting  bool
	peerStable    bool
	peerHold      Hold // in the peer's terms
	reportPending bool // send a full report with isstable=1 once settled
	// failbackArmed: the peer (re)joined; once it is stable, auto_failback
	// on gives it its groups back. Heartbeat does this only on a join.
	failbackArmed bool
	// pendingStandby: groups that failed to start here wait for the peer
	// to be ready to take them.
	pendingStandby Hold
	// dualSeen: the overlap with the peer's groups last reported
	// (resolveDualOwnership), so that one overlap is reported once.
	dualSeen Hold
	dualAt   time.Duration
	// dualRecheck: a report showed the overlap again too soon after we
	// answered one: answer again at dualAt+StandbyTimeout.
	dualRecheck bool
	// reportGen, reportSeq: the newest peer report processed.
	reportGen, reportSeq uint64
	// peerReported: a report came from the peer since it (re)appeared.
	peerReported bool

	// Fencing state: a fence of the peer is due at fenceAt (0 = none);
	// fenceRunning while the daemon runs it; fenceTries for the backoff.
	fencePending bool
	fenceAt      time.Duration
	fenceRunning bool
	fenceTries   int
	fenceWhy     string

	// dual: a dual ownership was reported, or a partition ended, and its
	// resolution is not yet reported.
	dual bool
	// returned: the peer's return after a partition was noted (PartitionReturned).
	returned bool

	hs       *handshake
	stopping bool
	now      time.Duration

	out     []*msg.Message
	actions []Action
	events  []Event
}

// New returns a manager for the groups of cfg. peer is the other node.
func New(cfg Config, peer string) *Manager {
	if cfg.RequestDelay <= 0 {
		cfg.RequestDelay = 10 * time.Second
	}
	if cfg.StandbyTimeout <= 0 {
		cfg.StandbyTimeout = 10 * time.Second
	}
	if cfg.FailBackoff <= 0 {
		cfg.FailBackoff = time.Minute
	}
	if cfg.FenceDelay <= 0 {
		cfg.FenceDelay = 5 * time.Second
	}
	if cfg.FenceRetry <= 0 {
		cfg.FenceRetry = 5 * time.Second
	}
	m := &Manager{cfg: cfg, byKey: map[string]*group{}, peer: peer}
	for _, g := range cfg.Groups {
		gr := &group{Group: g, local: g.Node == cfg.LocalNode}
		m.groups = append(m.groups, gr)
		m.byKey[g.Key] = gr
	}
	return m
}

func (m *Manager) nice() bool { return m.cfg.AutoFailback != "legacy" }

// Ready returns and clears the messages to send, the actions to run and
// the events to log.
func (m *Manager) Ready() ([]*msg.Message, []Action, []Event) {
	o, a, e := m.out, m.actions, m.events
	m.out, m.actions, m.events = nil, nil, nil
	return o, a, e
}

func (m *Manager) info(group, format string, a ...any) {
	m.events = append(m.events, Event{Group: group, Detail: fmt.Sprintf(format, a...), Level: Info})
}

func (m *Manager) warn(group, format string, a ...any) {
	m.events = append(m.events, Event{Group: group, Detail: fmt.Sprintf(format, a...), Level: Warn})
}

func (m *Manager) send(t string, kv ...string) {
	x := msg.New(t)
	for i := 0; i+1 < len(kv); i += 2 {
		x.Set(kv[i], kv[i+1])
	}
	m.out = append(m.out, x)
}

// in reports whether group g belongs to set h (in our terms).
func (g *group) in(h Hold) bool {
	if g.local {
		return h&Local != 0
	}
	return h&Foreign != 0
}

// Holding is what we hold, in our terms: a set bit for every kind of which
// at least one group runs (or is being started) here.
func (m *Manager) Holding() Hold {
	var h Hold
	for _, g := range m.groups {
		if g.state == Running || g.state == Starting || g.state == StopFailed || g.state == Restarting {
			if g.local {
				h |= Local
			} else {
				h |= Foreign
			}
		}
	}
	return h
}

// mayRun is what the peer is told we hold: Holding and the groups being
// stopped, which run until their stop has succeeded. A peer that believed
// them released would start a second copy.
func (m *Manager) mayRun() Hold {
	h := m.Holding()
	for _, g := range m.groups {
		if g.state == Stopping {
			h |= setOf(g)
		}
	}
	return h
}

// HoldsEvery reports whether every group of set h (in our terms) runs
// here. A set without groups is held: on a pair where only this node is
// preferred for groups, holding them all is holding "all".
func (m *Manager) HoldsEvery(h Hold) bool {
	for _, g := range m.groups {
		if g.in(h) && g.state != Running {
			return false
		}
	}
	return true
}

// HoldsNoneOf reports whether no group of set h runs here, is being started
// or failed to stop here.
func (m *Manager) HoldsNoneOf(h Hold) bool { return m.Holding()&h == 0 }

// settled reports that no group is starting or stopping.
func (m *Manager) settled() bool {
	for _, g := range m.groups {
		if g.state == Starting || g.state == Stopping || g.state == Restarting {
			return false
		}
	}
	return true
}

// RscStatus is cl_status rscstatus: what we hold, or "transition".
func (m *Manager) RscStatus() string {
	if !m.commUp || !m.stable || m.hs != nil || !m.settled() {
		return "transition"
	}
	return m.Holding().String()
}

// Busy reports a standby or takeover handshake in progress, or groups
// starting or stopping: what operator commands wait for.
func (m *Manager) Busy() bool { return m.hs != nil || !m.settled() || !m.stable }

// PeerStable reports whether the peer's last resource report said it is
// stable: it has finished taking or giving what it will.
func (m *Manager) PeerStable() bool { return m.peerStable }

// PeerUp reports whether the manager believes the peer is up.
func (m *Manager) PeerUp() bool { return m.peerAlive }

// Groups returns each group's key, preferred node and state here.
func (m *Manager) Groups() []GroupStatus {
	var out []GroupStatus
	for _, g := range m.groups {
		out = append(out, GroupStatus{Key: g.Key, Node: g.Node, State: g.state.String(), Failed: g.failed,
			Failures: len(g.inWindow(m.now)), LastFailure: g.lastFailure, LastFailureAt: g.lastFailureAt,
			FailedForGood: g.failed && g.sticky})
	}
	return out
}

// GroupStatus is one group as status commands show it.
type GroupStatus struct {
	Key    string `json:"key"`
	Node   string `json:"preferred_node"`
	State  string `json:"state"`
	Failed bool   `json:"failed"`
	// Failures counts the failures here within the group's restart
	// window (monitors, restarts and starts that failed).
	Failures int `json:"failures"`
	// LastFailure is the newest failure's reason ("" = none since the
	// daemon started), LastFailureAt its monotonic time.
	LastFailure   string        `json:"last_failure,omitempty"`
	LastFailureAt time.Duration `json:"-"`
	// FailedForGood: its restarts are used up; it stays stopped here
	// until hactl cleanup (or the peer's death).
	FailedForGood bool `json:"failed_for_good"`
}

func (m *Manager) setState(g *group, s GroupState) {
	if g.state == s {
		return
	}
	m.events = append(m.events, Event{Kind: EvGroupState, Group: g.Key, From: g.state, To: s, Level: Info})
	g.state = s
}

// take starts every group of set h that does not run here, except those
// that failed to start here in the last FailBackoff.
func (m *Manager) take(h Hold, why string) {
	if m.stopping {
		return // a node in a graceful stop starts nothing
	}
	var keys, skipped []string
	for _, g := range m.groups {
		if g.in(h) && g.state == Stopped && g.failed && (g.sticky || m.now-g.failedAt < m.cfg.FailBackoff) {
			skipped = append(skipped, g.Key)
			continue
		}
		if g.in(h) && g.state == Stopped {
			m.setState(g, Starting)
			m.actions = append(m.actions, Action{Kind: Start, Group: g.Key})
			keys = append(keys, g.Key)
		} else if g.in(h) && g.state == Running {
			// Already ours: the peer may have announced it since we did
			// (both ran it for a while): clients must follow us now.
			m.actions = append(m.actions, Action{Kind: Announce, Group: g.Key})
		}
	}
	if len(keys) > 0 {
		m.info("", "taking %s groups (%s): %s", h, why, strings.Join(keys, ", "))
	}
	if len(skipped) > 0 {
		m.events = append(m.events, Event{Level: Error, Detail: fmt.Sprintf(
			"not starting %s: it failed here (its start less than %s ago, or its restarts were used up); it stays stopped here until then, hactl cleanup, or the peer's death",
			strings.Join(skipped, ", "), m.cfg.FailBackoff)})
	}
}

// give stops every group of set h that runs here, groups in reverse order
// (the runner stops each group's resources right to left).
func (m *Manager) give(h Hold, why string) {
	var keys []string
	for i := len(m.groups) - 1; i >= 0; i-- {
		if g := m.groups[i]; g.in(h) && m.release(g) {
			keys = append(keys, g.Key)
		}
	}
	if len(keys) > 0 {
		m.info("", "releasing %s groups (%s): %s", h, why, strings.Join(keys, ", "))
	}
}

// release stops one group if it runs (or is being started) here. A group
// whose stop failed is tried again: the operator may have fixed it.
func (m *Manager) release(g *group) bool {
	if g.state != Running && g.state != Starting && g.state != StopFailed && g.state != Restarting {
		return false
	}
	m.setState(g, Stopping)
	g.retake = false
	m.actions = append(m.actions, Action{Kind: Stop, Group: g.Key})
	return true
}

func (m *Manager) report(stable bool, info string) {
	kv := []string{"rsc_hold", m.mayRun().String(), "rtype", "full", "isstable", map[bool]string{true: "1", false: "0"}[stable]}
	if info != "" {
		kv = append(kv, "info", info)
	}
	m.send("resource", kv...)
}

// HasGroup reports whether key is one of the groups.
func (m *Manager) HasGroup(key string) bool { return m.byKey[key] != nil }
