// Package events keeps the daemon's recent events and streams them to
// subscribers (hactl events) without ever blocking the event loop.
//
// The daemon calls Hub.Publish once per node event, on its loop. The hub
// keeps the last Capacity records in a ring (hactl events --since) and
// offers each record to every subscriber's bounded queue; a subscriber
// whose queue is full is dropped at once (its channel closed, Dropped set)
// rather than waited for.
package events

import (
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/node"
)

// Record is one event as the hub keeps and streams it.
type Record = api.Event

// FromNode turns a node event at t into a record (Seq is set by Publish).
func FromNode(e node.Event, t time.Time) Record {
	r := Record{Time: t, Event: e.Kind.String(), Node: e.Node, Link: e.Link, Group: e.Group, Detail: e.Detail}
	switch e.Kind {
	case node.NodeState, node.NodeDead:
		r.From, r.To = e.NodeFrom.String(), e.NodeTo.String()
		if e.Kind == node.NodeDead {
			r.Reason = e.Cause.String()
		}
	case node.LinkUp, node.LinkDead:
		r.To = e.LinkTo.String()
	case node.GroupState:
		r.From, r.To = e.GroupFrom.String(), e.GroupTo.String()
	case node.Unhandled:
		if e.Msg != nil {
			r.Detail = "type " + e.Msg.Type()
		}
	}
	if e.Err != nil {
		r.Error = e.Err.Error()
	}
	if e.Silence > 0 {
		r.SilenceMS = ms(e.Silence)
	}
	if e.Took > 0 {
		r.TookMS = ms(e.Took)
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
