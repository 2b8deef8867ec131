package core

import (
	"time"

	"github.com/hasuite/hasuite/heartbeat/msg"
)

// Time is the core's notion of now: a monotonic offset used for every
// timeout, and the wall clock in seconds, used only for the informational
// "ts" field that Heartbeat requires to be non-zero.
type Time struct {
	Mono time.Duration
	Wall int64
}

// NodeState is a node's status in Heartbeat's words.
type NodeState int

// Node states. Init means never heard from (or, for the local node,
// starting); Up means alive but cluster communication is not up yet; Active
// means fully functional; Dead is only ever decided locally.
const (
	Init NodeState = iota
	Up
	Active
	Dead
)

func (s NodeState) String() string {
	switch s {
	case Init:
		return "init"
	case Up:
		return "up"
	case Active:
		return "active"
	case Dead:
		return "dead"
	}
	return "unknown"
}

func parseState(s string) (NodeState, bool) {
	switch s {
	case "init":
		return Init, true
	case "up":
		return Up, true
	case "active":
		return Active, true
	}
	return 0, false
}

// LinkState is "up" or "dead" as cl_status prints it.
type LinkState int

// Link states.
const (
	LinkDead LinkState = iota
	LinkUp
)

func (s LinkState) String() string {
	if s == LinkUp {
		return "up"
	}
	return "dead"
}

// EventKind says what happened.
type EventKind int

// Event kinds.
const (
	// EvNodeState: a node's state changed (From/To).
	EvNodeState EventKind = iota + 1
	// EvLinkState: one link to a peer went up or dead (From/To are link states).
	EvLinkState
	// EvLateHeartbeat: no status from a live peer for longer than warntime.
	EvLateHeartbeat
	// EvPeerRestarted: a peer came back with a higher generation.
	EvPeerRestarted
	// EvPartitionReturn: a peer declared dead resumed with the same generation.
	EvPartitionReturn
	// EvPeerShutdown: a peer announced a graceful stop (shutdone).
	EvPeerShutdown
	// EvCommUp: cluster communication is up; the local node is active.
	EvCommUp
	// EvDropped: a message was dropped (replay, duplicate of nothing, bad fields...). Detail says why.
	EvDropped
	// EvRexmitGiveUp: a missing message could not be recovered and was given up.
	EvRexmitGiveUp
	// EvDeliver: a message for the layers above (resources, commands).
	EvDeliver
	// EvMembership: the peer's view of the node list differs from ours.
	EvMembership
	// EvFlowControlOff: a peer without protocol=1 made us disable ACKs.
	EvFlowControlOff
	// EvStatusField: a field watched with WatchStatusField changed in a
	// peer's status messages (Field, Value; Value is "" when the field is
	// absent). Reported on the first status too when the field is there.
	EvStatusField
)

// Event is one output of the core for logs, metrics and upper layers.
// States travel typed: an upper layer never compares their names.
type Event struct {
	Kind EventKind
	Node string
	Link string
	// From and To are the node's states (EvNodeState).
	From, To NodeState
	// LinkFrom and LinkTo are the link's states (EvLinkState).
	LinkFrom, LinkTo LinkState
	// Cause says why a node was declared dead (EvNodeState to Dead).
	Cause DeathCause
	// Detail is human-readable context for the log.
	Detail string
	Msg    *msg.Message // EvDeliver only
	// Field and Value: EvStatusField only.
	Field, Value string
	// Interval is the silence that led to the event (late heartbeat, death).
	Interval time.Duration
}

// DeathCause says why a peer was declared dead.
type DeathCause int

// Causes of death. Only a timeout can hide a node that still runs its
// resources: a peer that announced shutdone has released them.
const (
	NotDead DeathCause = iota
	// CauseTimeout: no status arrived on any link for the deadtime.
	CauseTimeout
	// CauseShutdown: the peer announced a graceful stop (shutdone).
	CauseShutdown
)

func (c DeathCause) String() string {
	switch c {
	case CauseTimeout:
		return "no heartbeat"
	case CauseShutdown:
		return "graceful shutdown"
	}
	return ""
}
