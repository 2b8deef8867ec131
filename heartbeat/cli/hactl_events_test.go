package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/control"
)

// fakeEvents streams canned events, then ends with err.
type fakeEvents struct {
	*fakeDaemon
	evs   []api.Event
	err   error
	since string
}

func (f *fakeEvents) Events(ctx context.Context, runDir, since string, _ time.Duration, fn func(api.Event) error) error {
	f.since = since
	for _, e := range f.evs {
		if err := fn(e); err != nil {
			return err
		}
	}
	return f.err
}

func TestHactlEvents(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC)
	evs := []api.Event{
		{Seq: 1, Time: t0, Event: "node-dead", Node: "node1", From: "active", To: "dead", Reason: "no heartbeat", SilenceMS: 2000},
		{Seq: 2, Time: t0.Add(time.Millisecond), Event: "group-state", Group: "198.18.0.100/24/eth0", From: "stopped", To: "starting"},
		{Seq: 3, Time: t0.Add(300 * time.Millisecond), Event: "group-state", Group: "198.18.0.100/24/eth0", From: "starting", To: "running"},
	}
	dropped := fmt.Errorf(`control "events": events: dropped: this client fell 256 events behind`)
	for _, c := range []struct {
		name       string
		args       []string
		err        error
		out, errw  string
		code       int
		wantSince  string
		jsonOutput bool
	}{
		{name: "text", args: []string{"events"}, out: "2026-12-07T21:00:00.000Z node-dead node=node1 from=active to=dead reason=\"no heartbeat\" silence=2000ms\n" +
			"2026-12-07T21:00:00.001Z group-state group=198.18.0.100/24/eth0 from=stopped to=starting\n" +
			"2026-12-07T21:00:00.300Z group-state group=198.18.0.100/24/eth0 from=starting to=running\n"},
		{name: "json since", args: []string{"events", "--json", "--since", "10m"}, wantSince: "10m", jsonOutput: true},
		{name: "fifo", args: []string{"events", "--fifo", "--since", "all"}, wantSince: "all",
			out: "INSTANCE \"198.18.0.100/24/eth0\" BACKUP 0\nINSTANCE \"198.18.0.100/24/eth0\" MASTER 0\n"},
		{name: "dropped", args: []string{"events"}, err: dropped, code: 1,
			errw: "hactl: events: control \"events\": events: dropped: this client fell 256 events behind\n"},
		{name: "not running", args: []string{"events"}, err: fmt.Errorf("%w: x", control.ErrNotRunning), code: 1,
			errw: "heartbeat is not running (no control socket in /tmp/hactl-run)\n"},
		{name: "bad since", args: []string{"events", "--since", "yesterday"}, code: 2,
			errw: "hactl events: --since \"yesterday\": want a duration such as 10m, or all\n"},
		{name: "json and fifo", args: []string{"events", "--json", "--fifo"}, code: 2,
			errw: "hactl events: --json and --fifo exclude each other\n"},
		{name: "operand", args: []string{"events", "now"}, code: 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(control.RunDirEnv, "/tmp/hactl-run")
			f := &fakeEvents{fakeDaemon: newFake(t, nil), evs: evs, err: c.err}
			if c.err != nil && !strings.Contains(c.name, "dropped") {
				f.evs = nil
			}
			var out, errw bytes.Buffer
			code := Hactl(context.Background(), c.args, &out, &errw, f)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, c.code, errw.String())
			}
			if c.jsonOutput {
				lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
				if len(lines) != 3 {
					t.Fatalf("JSON lines: %q", out.String())
				}
				for i, l := range lines {
					var e api.Event
					if err := json.Unmarshal([]byte(l), &e); err != nil || e.Seq != uint64(i+1) || !e.Time.Equal(evs[i].Time) {
						t.Fatalf("line %d %q: %v %+v", i, l, err, e)
					}
				}
			} else if c.code == 0 && out.String() != c.out {
				t.Fatalf("stdout\n%q\nwant\n%q", out.String(), c.out)
			}
			if c.errw != "" && errw.String() != c.errw {
				t.Fatalf("stderr %q, want %q", errw.String(), c.errw)
			}
			if c.code == 0 && f.since != c.wantSince {
				t.Fatalf("since %q, want %q", f.since, c.wantSince)
			}
		})
	}
}
