package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hasuite/hasuite/heartbeat/control"
)

// CmdEvents streams the daemon's events (hactl events): args: none (from
// now on), or how far back the kept history goes first: a duration
// ("5m") or "all". The answer is a stream of Event frames (control.Stream).
const CmdEvents = "events"

// Event is one daemon event as it leaves the daemon: the JSON line of
// hactl events --json, a frame of the CmdEvents stream. Field names are stable; empty fields are left out.
type Event struct {
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

// Text is the record as one human-readable line (hactl events without
// --json): the time, the event's name, then key=value pairs; values with
// spaces are quoted.
func (r Event) Text() string {
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
func (r Event) FIFO() (line string, ok bool) {
	var st string
	switch r.Event {
	case "group-state":
		switch r.To {
		case "running":
			st = "MASTER"
		case "stop-failed":
			st = "FAULT"
		default:
			st = "BACKUP"
		}
	case "group-start-failed", "group-stop-failed":
		st = "FAULT"
	default:
		return "", false
	}
	return "INSTANCE " + strconv.Quote(r.Group) + " " + st + " 0", true
}

// StreamEvents follows the daemon's events (CmdEvents) and calls f with
// each, in order, until ctx is done (nil), the daemon ends the stream
// (nil when it stopped; an error when it dropped this client for not
// reading), or f fails. since is "" (from now), a duration or "all".
// connectTimeout bounds the connection and the daemon's first answer.
func StreamEvents(ctx context.Context, runDir, since string, connectTimeout time.Duration, f func(Event) error) error {
	var args []string
	if since != "" {
		args = []string{since}
	}
	err := control.Stream(ctx, runDir, control.Request{Cmd: CmdEvents, Args: args}, connectTimeout, func(d json.RawMessage) error {
		var e Event
		if err := json.Unmarshal(d, &e); err != nil {
			return fmt.Errorf("events: bad frame: %w", err)
		}
		return f(e)
	})
	if err != nil && ctx.Err() != nil {
		return nil
	}
	return err
}
