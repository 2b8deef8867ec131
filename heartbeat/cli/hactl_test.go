package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/control"
)

const twoNodesHuman = `Local node:  alpha
State:       active
Generation:  7
Uptime:      1h2m3s
Resources:   local (managed by haresources)
Timers:      keepalive 1s, warntime 5s, deadtime 10s, initdead 60s
Daemon:      pid 4242, version 0.1.0, debug 0

Nodes:
  NODE/LINK      STATE   LAST HEARD  GENERATION  PACKETS
  alpha (local)  active  -           7           -
    eth0         up      -                       -
    eth1         up      -                       -
  beta           active  12ms ago    3           -
    eth0         up      12ms ago                1500
    eth1         dead    never                   0

Links:
  NAME  KIND   TARGET    TX    TX ERRORS  RX    RX BAD  LAST ERROR
  eth0  ucast  10.0.0.2  1600  0          1500  0       -
  eth1  bcast  eth1      1600  3          0     1       network is unreachable

Dropped packets: malformed 0, bad auth 4, no auth 0, too large 0, queue full 0, from ourself 9
Messages: sent 1600, accepted 1500, duplicate 2, replay 0, bad fields 0, unknown node 0, retransmit requested 0, retransmitted 0, nak sent 0, lost 1
`

func runHactl(t *testing.T, f *fakeDaemon, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errw bytes.Buffer
	code = Hactl(context.Background(), args, &out, &errw, f)
	return out.String(), errw.String(), code
}

func TestHactlStatus(t *testing.T) {
	t.Setenv(control.RunDirEnv, "/tmp/hactl-run")
	tests := []struct {
		name     string
		st       *api.Status
		stErr    error
		hang     hang
		args     []string
		out, err string
		code     int
	}{
		{name: "human", args: []string{"status"}, out: twoNodesHuman},
		{name: "run-dir after the command", stErr: notRunning, args: []string{"status", "--run-dir", "/x"},
			err: "heartbeat is not running (no control socket in /x)\n", code: 1},
		{name: "not running", stErr: notRunning, args: []string{"status"},
			err: "heartbeat is not running (no control socket in /tmp/hactl-run)\n", code: 1},
		{name: "not running, flag run dir", stErr: notRunning, args: []string{"--run-dir", "/srv/ha", "status", "--json"},
			err: "heartbeat is not running (no control socket in /srv/ha)\n", code: 1},
		{name: "other error", stErr: errors.New("status: permission denied"), args: []string{"status"},
			err: "hactl: status: status: permission denied\n", code: 1},
		{name: "timeout", hang: untilDone, args: []string{"--timeout", "30ms", "status"},
			err: "hactl: status: no answer from heartbeat in /tmp/hactl-run within 30ms\n", code: 1},
		{name: "timeout, daemon ignores ctx", hang: forever, args: []string{"status", "--timeout=30ms"},
			err: "hactl: status: no answer from heartbeat in /tmp/hactl-run within 30ms\n", code: 1},
		{name: "unexpected argument", args: []string{"status", "beta"},
			err: "hactl status: unexpected argument \"beta\"\nRun 'hactl help' for usage.\n", code: 2},
		{name: "unknown flag", args: []string{"status", "--yaml"},
			err: "flag provided but not defined: -yaml\nRun 'hactl help' for usage.\n", code: 2},
		{name: "bad timeout", args: []string{"--timeout", "0s", "status"},
			err: "hactl: --timeout must be positive, not 0s\n", code: 2},
		{name: "human, stopping before comm up, unmanaged",
			st: with(func(s *api.Status) {
				s.Core.CommUp, s.Core.Stopping, s.Managed, s.Links = false, true, "none", nil
				s.Core.Nodes = s.Core.Nodes[:1]
			}),
			args: []string{"status"},
			out: `Local node:  alpha
State:       active (cluster communication not up yet, stopping)
Generation:  7
Uptime:      1h2m3s
Resources:   not managed by heartbeat
Timers:      keepalive 1s, warntime 5s, deadtime 10s, initdead 60s
Daemon:      pid 4242, version 0.1.0, debug 0

Nodes:
  NODE/LINK      STATE   LAST HEARD  GENERATION  PACKETS
  alpha (local)  active  -           7           -
    eth0         up      -                       -
    eth1         up      -                       -

Links:
  none

Dropped packets: malformed 0, bad auth 4, no auth 0, too large 0, queue full 0, from ourself 9
Messages: sent 1600, accepted 1500, duplicate 2, replay 0, bad fields 0, unknown node 0, retransmit requested 0, retransmitted 0, nak sent 0, lost 1
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.st
			if st == nil {
				st = twoNodes()
			}
			f := newFake(t, st)
			f.stErr, f.statHang = tc.stErr, tc.hang
			out, errOut, code := runHactl(t, f, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if out != tc.out {
				t.Errorf("stdout:\n%s\nwant\n%s", out, tc.out)
			}
			if errOut != tc.err {
				t.Errorf("stderr:\n%q\nwant\n%q", errOut, tc.err)
			}
		})
	}
}

func TestHactlStatusJSON(t *testing.T) {
	f := newFake(t, twoNodes())
	out, errOut, code := runHactl(t, f, "status", "--json")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d stderr %q", code, errOut)
	}
	var got api.Status
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(&got, twoNodes()) {
		t.Errorf("round trip differs:\n%+v\nwant\n%+v", got, twoNodes())
	}
	// Field names are an interface: scripts read them.
	for _, key := range []string{`"managed_by": "haresources"`, `"last_heard_ns": -1`, `"keepalive_ns": 1000000000`, `"bad_auth": 4`} {
		if !strings.Contains(out, key) {
			t.Errorf("output lacks %s", key)
		}
	}
	if !strings.HasPrefix(out, "{\n  \"version\"") || !strings.HasSuffix(out, "}\n") {
		t.Errorf("not indented JSON with a final newline:\n%s", out)
	}
}

func TestHactlCommands(t *testing.T) {
	version := "hactl " + api.Version + " (Heartbeat 3.0.6 compatible, " + runtime.Version() + ")\n"
	tests := []struct {
		name        string
		args        []string
		outHas      string // stdout must contain this ("" = must be empty)
		errHas      string // stderr must contain this ("" = must be empty)
		code        int
		askedDaemon bool
	}{
		{name: "no command", args: nil, errHas: "Usage: hactl", code: 2},
		{name: "unknown command", args: []string{"standbyy"}, errHas: "hactl: unknown command \"standbyy\"", code: 2},
		{name: "help", args: []string{"help"}, outHas: "  status [--json]                                        show the cluster as this node sees it\n"},
		{name: "-h", args: []string{"-h"}, outHas: "Usage: hactl [--run-dir DIR]"},
		{name: "--help", args: []string{"--help"}, outHas: "Exit status: 0 ok, 1 heartbeat not running"},
		{name: "help status", args: []string{"help", "status"}, outHas: "Usage: hactl status [--json]\n\nShow the cluster as this node sees it.\n"},
		{name: "status -h", args: []string{"status", "-h"}, outHas: "  --json  print the daemon's whole status"},
		{name: "help unknown", args: []string{"help", "nope"}, errHas: "hactl help: unknown command \"nope\"", code: 2},
		{name: "help too many", args: []string{"help", "status", "version"}, errHas: "at most one command", code: 2},
		{name: "version", args: []string{"version"}, outHas: version},
		{name: "version extra", args: []string{"version", "x"}, errHas: "unexpected argument", code: 2},
		{name: "bad global flag", args: []string{"--rundir", "/x", "status"}, errHas: "flag provided but not defined: -rundir", code: 2},
		{name: "status asks the daemon", args: []string{"status"}, outHas: "Local node:  alpha\n", askedDaemon: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, twoNodes())
			out, errOut, code := runHactl(t, f, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if (tc.outHas == "") != (out == "") || !strings.Contains(out, tc.outHas) {
				t.Errorf("stdout %q, want it to contain %q", out, tc.outHas)
			}
			if (tc.errHas == "") != (errOut == "") || !strings.Contains(errOut, tc.errHas) {
				t.Errorf("stderr %q, want it to contain %q", errOut, tc.errHas)
			}
			if asked := len(f.dirs()) > 0; asked != tc.askedDaemon {
				t.Errorf("asked the daemon: %v, want %v", asked, tc.askedDaemon)
			}
		})
	}
}

func TestFormatAge(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-1, "never"},
		{0, "0ms ago"},
		{12 * time.Millisecond, "12ms ago"},
		{999 * time.Millisecond, "999ms ago"},
		{time.Second, "1.0s ago"},
		{2345 * time.Millisecond, "2.3s ago"},
		{59 * time.Second, "59.0s ago"},
		{61*time.Second + 600*time.Millisecond, "1m2s ago"},
		{3 * time.Hour, "3h0m0s ago"},
	}
	for _, tc := range tests {
		if got := FormatAge(tc.d); got != tc.want {
			t.Errorf("FormatAge(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestFormatTimer(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{50 * time.Millisecond, "50ms"},
		{1500 * time.Millisecond, "1500ms"},
		{time.Second, "1s"},
		{2 * time.Minute, "120s"},
		{0, "0s"},
	}
	for _, tc := range tests {
		if got := formatTimer(tc.d); got != tc.want {
			t.Errorf("formatTimer(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
