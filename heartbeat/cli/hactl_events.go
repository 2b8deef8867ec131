package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/control"
)

// eventsDetail is the help text of hactl events.
const eventsDetail = `  Prints the daemon's events as they happen, one line each, until
  interrupted or the daemon stops: node-state, node-dead, link-up,
  link-dead, late-heartbeat, group-state, fence-ok, ... (see
  docs/operations.md, "Event stream").

  --json          one JSON object per line: seq, time, event, node, link,
                  group, from, to, reason, detail, error, silence_ms, took_ms
                  (fields without a value are left out)
  --since D       first the events of the last D (e.g. 10m) the daemon
                  still keeps (the last 1000), or "all"
  --fifo          keepalived's notify_fifo lines for group events only:
                  INSTANCE "<group>" MASTER|BACKUP|FAULT 0

  A client that does not keep reading is dropped by the daemon (never
  slowed down by it): hactl then says so and exits 1.
`

// EventStreamer is the daemon call behind hactl events.
type EventStreamer interface {
	Events(ctx context.Context, runDir, since string, connectTimeout time.Duration, f func(api.Event) error) error
}

// Events implements EventStreamer.
func (APIClient) Events(ctx context.Context, runDir, since string, connectTimeout time.Duration, f func(api.Event) error) error {
	return api.StreamEvents(ctx, runDir, since, connectTimeout, f)
}

func hactlEvents(r *hactlRun, args []string) int {
	fs := r.flagSet("hactl events")
	jsonOut := fs.Bool("json", false, "one JSON object per line")
	fifo := fs.Bool("fifo", false, "keepalived notify_fifo lines (group events only)")
	since := fs.String("since", "", "first the kept events of the last DURATION, or all")
	if code, ok := r.parse(fs, args, "events"); !ok {
		return code
	}
	if !r.noArgs(fs) {
		return HactlUsage
	}
	if *jsonOut && *fifo {
		fmt.Fprintln(r.h.Stderr, "hactl events: --json and --fifo exclude each other")
		return HactlUsage
	}
	if *since != "" && *since != "all" {
		if d, err := time.ParseDuration(*since); err != nil || d < 0 {
			fmt.Fprintf(r.h.Stderr, "hactl events: --since %q: want a duration such as 10m, or all\n", *since)
			return HactlUsage
		}
	}
	es, ok := r.h.Daemon.(EventStreamer)
	if !ok {
		fmt.Fprintln(r.h.Stderr, "hactl: events is not available")
		return HactlFail
	}
	w := bufio.NewWriter(r.h.Stdout)
	err := es.Events(r.ctx, control.DefaultRunDir(r.g.runDir), *since, r.g.timeout, func(e api.Event) error {
		switch {
		case *jsonOut:
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			w.Write(b)
			w.WriteByte('\n')
		case *fifo:
			line, ok := e.FIFO()
			if !ok {
				return nil
			}
			w.WriteString(line + "\n")
		default:
			w.WriteString(e.Text() + "\n")
		}
		// Each event at once: the reader follows it live.
		return w.Flush()
	})
	if err != nil {
		return r.daemonError("events", err)
	}
	return HactlOK
}
