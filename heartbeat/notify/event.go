// Package notify runs the notify hooks: programs that are told about every
// cluster event (ha.cf's notify, notify_master, notify_backup, notify_fault
// and notify_stop). It is a consumer of the node layer's typed events:
// the daemon hands each event to Hooks.Notify, which never blocks; the
// hooks run later, in event order, one at a time, each through
// internal/childproc with a timeout.
//
// Event also serves the mail alerts (heartbeat/mail): FromNode is the one
// translation of a node event into the names, fields and keepalived
// states the outside sees.
package notify

import (
	"strconv"
	"time"

	"github.com/hasuite/hasuite/heartbeat/core"
	"github.com/hasuite/hasuite/heartbeat/node"
	"github.com/hasuite/hasuite/resources/manager"
)

// Keepalived's states, passed to the generic notify hook after GROUP and
// the group's name, and selecting notify_master|backup|fault|stop.
const (
	Master = "MASTER" // the group became active here
	Backup = "BACKUP" // the group stopped here (it runs elsewhere, or nowhere)
	Fault  = "FAULT"  // the group failed to start or to stop here
	Stop   = "STOP"   // the group stopped here because the daemon stops
)

// Scores passed as keepalived's priority argument. There are no health
// scores yet: a group's score is 100 on its preferred node, 50 on the
// other. It will become the group's health score.
const (
	ScorePreferred = 100
	ScoreOther     = 50
)

// Event is one event as hooks and mail see it.
type Event struct {
	Name   string // HA_EVENT: node-dead, group-active, ... (config.EventNames)
	Node   string // HA_NODE: the node concerned (the local node for group events)
	Group  string // HA_GROUP
	Link   string // HA_LINK
	Reason string // HA_REASON: a short word or text saying why
	Time   time.Time
	// State is the keepalived state of a group event ("" for others).
	State string
	// Score goes with State (ScorePreferred or ScoreOther).
	Score int
}

// Context is what FromNode needs beyond the event.
type Context struct {
	Local string // the local node
	// Stopping: the daemon is stopping (a group stopped is then STOP).
	Stopping bool
	// Preferred returns a group's preferred node ("" if unknown).
	Preferred func(group string) string
	Time      time.Time
}

// FromNode translates a node event. ok is false for the events that are
// not reported to hooks and mail (log-only ones: dropped packets,
// decisions, late heartbeats, ...).
func FromNode(e node.Event, c Context) (ev Event, ok bool) {
	ev = Event{Node: e.Node, Group: e.Group, Link: e.Link, Time: c.Time}
	group := func(name, state, reason string) {
		ev.Name, ev.State, ev.Node, ev.Reason = name, state, c.Local, reason
		if state != "" {
			ev.Score = ScoreOther
			if c.Preferred != nil && c.Preferred(e.Group) == c.Local {
				ev.Score = ScorePreferred
			}
		}
	}
	switch e.Kind {
	case node.NodeDead:
		ev.Name = "node-dead"
		switch e.Cause {
		case core.CauseTimeout:
			ev.Reason = "timeout"
		case core.CauseShutdown:
			ev.Reason = "shutdown"
		}
	case node.NodeState:
		if e.Node == c.Local || !(e.NodeTo == core.Up || e.NodeTo == core.Active) ||
			!(e.NodeFrom == core.Dead || e.NodeFrom == core.Init) {
			return Event{}, false
		}
		ev.Name, ev.Reason = "node-up", e.NodeTo.String()
	case node.LinkDead:
		ev.Name, ev.Reason = "link-dead", e.Detail
	case node.LinkUp:
		ev.Name, ev.Reason = "link-up", e.Detail
	case node.GroupState:
		switch e.GroupTo {
		case manager.Starting:
			group("group-starting", "", "")
		case manager.Running:
			group("group-active", Master, "")
		case manager.Stopping:
			group("group-stopping", "", "")
		case manager.Stopped:
			if e.GroupFrom == manager.Starting {
				// A failed start ends in stopped: group-failed (FAULT)
				// says it; this is its cleanup, not a move.
				group("group-stopped", "", "start failed")
				break
			}
			if c.Stopping {
				group("group-stopped", Stop, "daemon stopping")
			} else {
				group("group-stopped", Backup, "")
			}
		default: // stop-failed: GroupStopFailed reports it
			return Event{}, false
		}
	case node.GroupStartFailed, node.GroupStopFailed, node.GroupFailed:
		group("group-failed", Fault, e.Detail)
	case node.StandbyStarted:
		ev.Name, ev.Node, ev.Reason = "standby", c.Local, e.Move.String()
	case node.TakeoverAsked:
		ev.Name, ev.Node, ev.Reason = "takeover", c.Local, e.Move.String()
	case node.FenceStarted:
		ev.Name = "fence-started"
	case node.FenceOK:
		ev.Name, ev.Reason = "fence-ok", "took "+e.Took.Round(time.Millisecond).String()
	case node.FenceFailed:
		ev.Name = "fence-failed"
		if e.Err != nil {
			ev.Reason = e.Err.Error()
		}
	case node.PartitionReturn:
		ev.Name, ev.Reason = "split-brain", "partition-return"
	case node.SplitBrain:
		ev.Name, ev.Node, ev.Reason = "split-brain", c.Local, "dual-ownership"
	case node.SplitBrainHealed:
		ev.Name, ev.Node, ev.Reason = "split-brain-healed", c.Local, "each group has one owner"
	default:
		return Event{}, false
	}
	return ev, true
}

// TimeFormat is HA_TIME's layout: local time with milliseconds and offset.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Env is the environment of a hook: a fixed PATH and the event's HA_*
// variables (empty ones are set, empty).
func (e Event) Env() []string {
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HA_EVENT=" + e.Name,
		"HA_NODE=" + e.Node,
		"HA_GROUP=" + e.Group,
		"HA_LINK=" + e.Link,
		"HA_REASON=" + e.Reason,
		"HA_TIME=" + e.Time.Format(TimeFormat),
	}
}

// GroupArgs are keepalived's generic notify arguments for a group event
// with a state: GROUP <name> <state> <score>; nil for other events.
func (e Event) GroupArgs() []string {
	if e.State == "" {
		return nil
	}
	return []string{"GROUP", e.Group, e.State, strconv.Itoa(e.Score)}
}
