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
	"strconv"
	"strings"
	"time"

	"github.com/hasuite/hasuite/heartbeat/node"
)

// Record is one event as it leaves the daemon: the JSON line of hactl
// events --json. Field names are stable; empty fields are left out.
type Record struct {
	// Seq numbers the daemon's events from 1; a gap in what a subscriber
	// receives never happens (it is dropped instead).
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	// Event is node.EventKind's name: node-dead, link-dead, group-state...
	Event string `json:"event"`
	Node  string `json:"node,omitempty"`
	Link  string `json:"link,omitempty"`
	Group string `json:"group,omitempty"`
	// From and To are the states of a node-state, node-dead, link or
	// group-state event.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Reason says why a node died (no heartbeat, graceful shutdown).
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`
	// SilenceMS is the silence before a death or a late heartbeat (the
	// detection latency of a death); TookMS how long a fence took.
	SilenceMS float64 `json:"silence_ms,omitempty"`
	TookMS    float64 `json:"took_ms,omitempty"`
}

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

// Text is the record as one human-readable line (hactl events without
// --json): the time, the event's name, then key=value pairs; values with
// spaces are quoted.
func (r Record) Text() string {
	var b strings.Builder
	b.WriteString(r.Time.Format("2006-01-02T15:04:05.000Z07:00"))
	b.WriteByte(' ')
	b.WriteString(r.Event)
	kv := func(k, v string) {
		if v == "" {
			return
		}
		b.WriteByte(' ')
		b.WriteString(k)
		b.WriteByte('=')
		if strings.ContainsAny(v, " \t\"=\n") || v == "" {
			b.WriteString(strconv.Quote(v))
		} else {
			b.WriteString(v)
		}
	}
	kv("node", r.Node)
	kv("link", r.Link)
	kv("group", r.Group)
	kv("from", r.From)
	kv("to", r.To)
	kv("reason", r.Reason)
	if r.SilenceMS > 0 {
		kv("silence", strconv.FormatFloat(r.SilenceMS, 'f', -1, 64)+"ms")
	}
	if r.TookMS > 0 {
		kv("took", strconv.FormatFloat(r.TookMS, 'f', -1, 64)+"ms")
	}
	kv("detail", r.Detail)
	kv("error", r.Error)
	return b.String()
}

// FIFO is the record in keepalived's notify_fifo format, for tools that
// already read it: `INSTANCE "<group>" MASTER|BACKUP|FAULT 0` for a
// group-state event (running here is MASTER; starting, stopping and
// stopped are BACKUP; stop-failed is FAULT), `INSTANCE "<group>" FAULT 0`
// for a failed start. ok is false for events keepalived has no line for.
// The priority is always 0: Heartbeat's groups have none.
func (r Record) FIFO() (line string, ok bool) {
	var st string
	switch r.Event {
	case node.GroupState.String():
		switch r.To {
		case "running":
			st = "MASTER"
		case "stop-failed":
			st = "FAULT"
		default:
			st = "BACKUP"
		}
	case node.GroupStartFailed.String(), node.GroupStopFailed.String():
		st = "FAULT"
	default:
		return "", false
	}
	return "INSTANCE " + strconv.Quote(r.Group) + " " + st + " 0", true
}
