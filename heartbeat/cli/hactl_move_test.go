package cli

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/control"
)

// TestHactlMove: hactl standby and takeover per situation: stdout, stderr,
// exit code and what the daemon was asked.
func TestHactlMove(t *testing.T) {
	t.Setenv(control.RunDirEnv, "/tmp/hactl-run")
	none := &api.Move{Holding: "none", Took: "12ms"}
	local := &api.Move{Holding: "local", Took: "1.5s"}
	tests := []struct {
		name     string
		args     []string
		res      *api.Move
		err      error
		hang     hang
		cmd, arg string // asked of the daemon; "" when nothing is asked
		out, eo  string
		code     int
	}{
		{name: "standby, no word: all", args: []string{"standby"}, res: none, cmd: api.CmdStandby, arg: "all",
			out: "Done in 12ms: this node now holds none resources.\n"},
		{name: "standby foreign", args: []string{"standby", "foreign"}, res: local, cmd: api.CmdStandby, arg: "foreign",
			out: "Done in 1.5s: this node now holds local resources.\n"},
		{name: "takeover failback", args: []string{"takeover", "failback"}, res: local, cmd: api.CmdTakeover, arg: "failback",
			out: "Done in 1.5s: this node now holds local resources.\n"},
		{name: "takeover --json", args: []string{"takeover", "--json"}, res: &api.Move{Holding: "all", Took: "2s"}, cmd: api.CmdTakeover, arg: "all",
			out: "{\n  \"command\": \"takeover\",\n  \"which\": \"all\",\n  \"holding\": \"all\",\n  \"took\": \"2s\"\n}\n"},
		{name: "standby local --json, option after the word", args: []string{"standby", "local", "--json"}, res: none, cmd: api.CmdStandby, arg: "local",
			out: "{\n  \"command\": \"standby\",\n  \"which\": \"local\",\n  \"holding\": \"none\",\n  \"took\": \"12ms\"\n}\n"},
		{name: "global options after the command", args: []string{"standby", "--run-dir", "/x", "all"}, res: none, cmd: api.CmdStandby, arg: "all",
			out: "Done in 12ms: this node now holds none resources.\n"},

		{name: "bad word", args: []string{"standby", "everything"}, code: 2,
			eo: "hactl standby: wrong resources(everything): want all, foreign, local or failback\n"},
		{name: "two words", args: []string{"takeover", "local", "foreign"}, code: 2,
			eo: "hactl takeover: too many arguments\nRun 'hactl help takeover' for usage.\n"},
		{name: "bad option", args: []string{"takeover", "--jsn"}, code: 2,
			eo: "flag provided but not defined: -jsn\nRun 'hactl help' for usage.\n"},
		{name: "-h", args: []string{"standby", "-h"}, out: "Usage: hactl standby [WHICH]\n\nMove resource groups away from this node (hb_standby).\n\n" +
			fmt.Sprintf(moveDetail, moveWait)},

		{name: "no daemon", args: []string{"standby"}, err: fmt.Errorf("standby: %w", control.ErrNotRunning), cmd: api.CmdStandby, arg: "all", code: 1,
			eo: "heartbeat is not running (no control socket in /tmp/hactl-run)\n"},
		{name: "refused", args: []string{"takeover", "--json"}, err: errors.New("takeover: the peer node2 is not up"), cmd: api.CmdTakeover, arg: "all", code: 1,
			eo: "hactl: takeover: takeover: the peer node2 is not up\n"},
		{name: "no answer within --timeout", args: []string{"--timeout", "50ms", "standby"}, hang: untilDone, cmd: api.CmdStandby, arg: "all", code: 1,
			eo: "hactl: standby: no answer from heartbeat in /tmp/hactl-run within 50ms\n"},
		{name: "a daemon that ignores the deadline", args: []string{"standby", "--timeout=50ms"}, hang: forever, cmd: api.CmdStandby, arg: "all", code: 1,
			eo: "hactl: standby: no answer from heartbeat in /tmp/hactl-run within 50ms\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, twoNodes())
			f.moveRes, f.moveErr, f.moveHang = tt.res, tt.err, tt.hang
			start := time.Now()
			out, eo, code := runHactl(t, f, tt.args...)
			if code != tt.code || out != tt.out || eo != tt.eo {
				t.Errorf("exit %d\nstdout %q\nstderr %q\nwant exit %d\nstdout %q\nstderr %q", code, out, eo, tt.code, tt.out, tt.eo)
			}
			if f.movedCmd != tt.cmd || f.movedArg != tt.arg {
				t.Errorf("asked the daemon %q %q, want %q %q", f.movedCmd, f.movedArg, tt.cmd, tt.arg)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("took %v", el)
			}
		})
	}
}
