package node

import (
	"time"

	"github.com/hasuite/hasuite/heartbeat/core"
	"github.com/hasuite/hasuite/heartbeat/msg"
	"github.com/hasuite/hasuite/resources/manager"
)

// EventKind says what happened. Its String is the event's name for the
// outside (logs, notify hooks' HA_EVENT, metrics labels).
type EventKind int

// Event kinds.
const (
	_ EventKind = iota
	// NodeState: a node's membership state changed (NodeFrom, NodeTo);
	// the local node's own changes are reported too (Node is ours).
	// Deaths are NodeDead, not NodeState.
	NodeState
	// NodeDead: a peer was declared dead (Cause, Silence).
	NodeDead
	// LinkUp and LinkDead: one link to a peer changed (Detail: paths up).
	LinkUp
	LinkDead
	// LateHeartbeat: a peer's status is later than warntime (Silence).
	LateHeartbeat
	// PeerRestarted: a peer came back with a new generation.
	PeerRestarted
	// PartitionReturn: a peer declared dead resumed with the same
	// generation: both sides may have run the same groups (split brain).
	PartitionReturn
	// PeerShutdown: a peer announced a graceful stop (shutdone).
	PeerShutdown
	// CommUp: cluster communication is up; the local node is active.
	CommUp
	// Dropped: the core dropped a message (Detail: why).
	Dropped
	// RexmitGiveUp: a missing message could not be recovered.
	RexmitGiveUp
	// MembershipDiffers: the peer's node list differs from ours.
	MembershipDiffers
	// FlowControlOff: a peer without protocol=1 made us disable ACKs.
	FlowControlOff
	// Unhandled: a delivered message no layer handles (Msg), for debugging.
	Unhandled
	// GroupState: a group changed state here (GroupFrom, GroupTo).
	GroupState
	// GroupStartFailed: a group failed to start here (Detail).
	GroupStartFailed
	// GroupStopFailed: a group failed to stop here; it may still run.
	GroupStopFailed
	// SplitBrain: both nodes hold the same groups (found after a
	// partition healed); each group stays with its preferred node.
	SplitBrain
	// FenceStarted, FenceOK, FenceFailed: fencing of Node (Err, Took).
	FenceStarted
	FenceOK
	FenceFailed
	// Decision: the resource manager explains a decision (Level, Detail).
	Decision
	// ShutdoneSent: every group is released; shutdone went to the peers.
	ShutdoneSent
	// ResourceFailed: a resource of a group running here failed (its
	// monitor, or a restart in place): Group, Resource, Detail (restarted
	// in place, or the group leaves). Level Warn or Error.
	ResourceFailed
	// GroupFailed: the group failed here for good (restarts used up); it
	// stays stopped here until hactl cleanup and goes to the peer if the
	// peer can take it.
	GroupFailed
	// SplitBrainHealed: after SplitBrain or PartitionReturn, both nodes
	// have settled and every group is held by one node again.
	SplitBrainHealed
	// StandbyStarted: this node began to hand groups to the peer (Move: why:
	// the operator's hb_standby, auto_failback, the peer's hb_takeover,
	// a failed start; Detail names the set).
	StandbyStarted
	// TakeoverAsked: this node asked the peer for groups (the operator's
	// hb_takeover; Move is manager.MoveOperator).
	TakeoverAsked
	// PingNodeUp: a ping node (or group) answers (Node: its name;
	// Detail: which address, and the state before).
	PingNodeUp
	// PingNodeDead: a ping node (or group) did not answer for deadping.
	PingNodeDead
	// CheckState: a check ([[group.check]]) changed state here: Group,
	// Detail (its name, passing or failing, and the group's health here).
	CheckState
	// PeerHealth: the peer's advertised health changed (Detail), or a
	// malformed health field from it was ignored (Level Warn).
	PeerHealth
)

var eventNames = [...]string{
	NodeState:         "node-state",
	NodeDead:          "node-dead",
	LinkUp:            "link-up",
	LinkDead:          "link-dead",
	LateHeartbeat:     "late-heartbeat",
	PeerRestarted:     "peer-restarted",
	PartitionReturn:   "partition-return",
	PeerShutdown:      "peer-shutdown",
	CommUp:            "comm-up",
	Dropped:           "dropped",
	RexmitGiveUp:      "rexmit-give-up",
	MembershipDiffers: "membership-differs",
	FlowControlOff:    "flow-control-off",
	Unhandled:         "unhandled-message",
	GroupState:        "group-state",
	GroupStartFailed:  "group-start-failed",
	GroupStopFailed:   "group-stop-failed",
	SplitBrain:        "split-brain",
	FenceStarted:      "fence-started",
	FenceOK:           "fence-ok",
	FenceFailed:       "fence-failed",
	CheckState:        "check-state",
	PeerHealth:        "peer-health",
	Decision:          "decision",
	ShutdoneSent:      "shutdone-sent",
	ResourceFailed:    "resource-failed",
	GroupFailed:       "group-failed",
	SplitBrainHealed:  "split-brain-healed",
	StandbyStarted:    "standby",
	TakeoverAsked:     "takeover",
	PingNodeUp:        "ping-up",
	PingNodeDead:      "ping-dead",
}

func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "unknown"
}

// Event is one typed output for logs, notify hooks, mail and metrics.
// Which fields are set depends on Kind (see the kinds).
type Event struct {
	Kind  EventKind
	Node  string // the node concerned: a peer, or the local node
	Link  string
	Group string
	// Resource is the index of the failed resource in Group
	// (ResourceFailed).
	Resource int

	NodeFrom, NodeTo   core.NodeState
	LinkTo             core.LinkState
	GroupFrom, GroupTo manager.GroupState
	Cause              core.DeathCause
	// Move says why a StandbyStarted or TakeoverAsked began.
	Move manager.MoveCause

	// Silence is the silence that led to a death or a late heartbeat.
	Silence time.Duration
	// Took is how long a fence took (FenceOK, FenceFailed).
	Took time.Duration
	// Level is the severity of a Decision (and of the failures).
	Level manager.Level
	// Detail is human-readable context for the log.
	Detail string
	Err    error
	Msg    *msg.Message // Unhandled only
}
