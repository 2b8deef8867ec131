package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/control"
)

type fakeMover struct {
	called                   bool
	gotCmd, gotWhich, gotDir string
	res                      *api.Move
	err                      error
}

func (f *fakeMover) Move(_ context.Context, runDir, cmd, which string) (*api.Move, error) {
	f.called = true
	f.gotDir, f.gotCmd, f.gotWhich = runDir, cmd, which
	return f.res, f.err
}

// TestMoveCommands: stdout, stderr and exit code of hb_standby and
// hb_takeover per situation, as Heartbeat 3.0.6's scripts print them (a
// good word: hb_standby's "Going standby [x]." on stderr, nothing on
// stdout; a bad one: the complaint and "usage:" on stdout, the usage line
// on stderr, exit 1), plus our wait: "Done in ..." on stderr and exit 0,
// or why not and exit 1 (Heartbeat exits 0 without knowing).
func TestMoveCommands(t *testing.T) {
	t.Setenv(control.RunDirEnv, "")
	done := &api.Move{Holding: "none", Took: "12ms"}
	const sb, tk = "/usr/share/heartbeat/hb_standby", "/usr/share/heartbeat/hb_takeover"
	tests := []struct {
		name    string
		standby bool
		prog    string
		args    []string
		res     *api.Move
		err     error
		which   string // sent to the daemon; "" when nothing is sent
		dir     string
		out, eo string
		code    int
	}{
		{name: "standby, no word: all", standby: true, prog: "hb_standby", res: done, which: "all", dir: control.DefaultRunDirPath,
			eo: "Going standby [all].\nDone in 12ms: this node now holds none resources.\n"},
		{name: "standby all", standby: true, prog: "hb_standby", args: []string{"all"}, res: done, which: "all", dir: control.DefaultRunDirPath,
			eo: "Going standby [all].\nDone in 12ms: this node now holds none resources.\n"},
		{name: "standby local", standby: true, prog: "hb_standby", args: []string{"local"}, res: &api.Move{Holding: "foreign", Took: "1.5s"},
			which: "local", dir: control.DefaultRunDirPath, eo: "Going standby [local].\nDone in 1.5s: this node now holds foreign resources.\n"},
		{name: "standby foreign", standby: true, prog: "hb_standby", args: []string{"foreign", "--run-dir", "/x"}, res: &api.Move{Holding: "local", Took: "1s"},
			which: "foreign", dir: "/x", eo: "Going standby [foreign].\nDone in 1s: this node now holds local resources.\n"},
		{name: "standby failback is logged as foreign", standby: true, prog: "hb_standby", args: []string{"--run-dir=/y", "failback"},
			res: &api.Move{Holding: "local", Took: "1s"}, which: "failback", dir: "/y",
			eo: "Going standby [foreign].\nDone in 1s: this node now holds local resources.\n"},
		{name: "takeover, no word: all", prog: "hb_takeover", res: &api.Move{Holding: "all", Took: "2s"}, which: "all", dir: control.DefaultRunDirPath,
			eo: "Done in 2s: this node now holds all resources.\n"},
		{name: "takeover local", prog: "hb_takeover", args: []string{"local"}, res: &api.Move{Holding: "local", Took: "2s"}, which: "local",
			dir: control.DefaultRunDirPath, eo: "Done in 2s: this node now holds local resources.\n"},
		{name: "takeover foreign", prog: "hb_takeover", args: []string{"foreign"}, res: &api.Move{Holding: "all", Took: "2s"}, which: "foreign",
			dir: control.DefaultRunDirPath, eo: "Done in 2s: this node now holds all resources.\n"},
		{name: "takeover failback", prog: "hb_takeover", args: []string{"failback"}, res: &api.Move{Holding: "local", Took: "2s"}, which: "failback",
			dir: control.DefaultRunDirPath, eo: "Done in 2s: this node now holds local resources.\n"},

		{name: "standby, two words", standby: true, prog: sb, args: []string{"all", "local"}, code: 1,
			out: sb + ": too many arguments\nusage:\n", eo: sb + " [all|foreign|local|failback]\n"},
		{name: "takeover, two words", prog: tk, args: []string{"local", "x"}, code: 1,
			out: tk + ": too many arguments\nusage:\n", eo: tk + " [all|foreign|local|failback]\n"},
		{name: "standby, unknown word", standby: true, prog: sb, args: []string{"everything"}, code: 1,
			out: sb + ": wrong resources(everything).\nusage:\n", eo: sb + " [all|foreign|local|failback]\n"},
		{name: "takeover, unknown word", prog: "hb_takeover", args: []string{"-h"}, code: 1,
			out: "hb_takeover: wrong resources(-h).\nusage:\n", eo: "hb_takeover [all|foreign|local|failback]\n"},
		{name: "words are case-sensitive", standby: true, prog: "hb_standby", args: []string{"ALL"}, code: 1,
			out: "hb_standby: wrong resources(ALL).\nusage:\n", eo: "hb_standby [all|foreign|local|failback]\n"},
		{name: "standby --help", standby: true, prog: sb, args: []string{"--help"}, code: 1,
			out: "usage:\n", eo: sb + " [all|foreign|local|failback]\n"},
		{name: "takeover --help", prog: tk, args: []string{"--help"}, code: 1,
			out: "usage:\n", eo: tk + " [all|foreign|local|failback]\n"},
		{name: "no program name", standby: true, args: []string{"x"}, code: 1,
			out: "hb_standby: wrong resources(x).\nusage:\n", eo: "hb_standby [all|foreign|local|failback]\n"},

		{name: "standby, no daemon", standby: true, prog: sb, args: []string{"--run-dir", "/x"}, err: fmt.Errorf("x: %w", control.ErrNotRunning),
			which: "all", dir: "/x", code: 1, eo: "Going standby [all].\nhb_standby: heartbeat is not running (no control socket in /x)\n"},
		{name: "takeover, no daemon", prog: tk, args: []string{"--run-dir", "/x"}, err: fmt.Errorf("x: %w", control.ErrNotRunning),
			which: "all", dir: "/x", code: 1, eo: "hb_takeover: heartbeat is not running (no control socket in /x)\n"},
		{name: "standby, peer down", standby: true, prog: "hb_standby", err: errors.New("standby: the peer node2 is not up"),
			which: "all", dir: control.DefaultRunDirPath, code: 1, eo: "Going standby [all].\nhb_standby: standby: the peer node2 is not up\n"},
		{name: "takeover, not done", prog: "hb_takeover", args: []string{"local"},
			err:   errors.New("takeover: the move did not complete (the peer refused or timed out); this node holds none"),
			which: "local", dir: control.DefaultRunDirPath, code: 1,
			eo: "hb_takeover: takeover: the move did not complete (the peer refused or timed out); this node holds none\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			f, cmd := HBTakeover, api.CmdTakeover
			if tt.standby {
				f, cmd = HBStandby, api.CmdStandby
			}
			m := &fakeMover{res: tt.res, err: tt.err}
			code := f(context.Background(), tt.prog, tt.args, &out, &errb, m)
			if code != tt.code || out.String() != tt.out || errb.String() != tt.eo {
				t.Errorf("exit %d\nstdout %q\nstderr %q\nwant exit %d\nstdout %q\nstderr %q", code, out.String(), errb.String(), tt.code, tt.out, tt.eo)
			}
			switch {
			case tt.which == "" && m.called:
				t.Errorf("asked the daemon (%s %s) after a usage error", m.gotCmd, m.gotWhich)
			case tt.which != "" && (m.gotCmd != cmd || m.gotWhich != tt.which || m.gotDir != tt.dir):
				t.Errorf("asked the daemon %q %q in %q, want %q %q in %q", m.gotCmd, m.gotWhich, m.gotDir, cmd, tt.which, tt.dir)
			}
		})
	}
}

// TestMoveUsageMatchesHeartbeatScripts runs Heartbeat 3.0.6's own scripts
// (Debian's heartbeat package) with the command lines they refuse, which
// never reach the daemon, and ours with the same argv[0]: the same stdout,
// stderr and exit code.
func TestMoveUsageMatchesHeartbeatScripts(t *testing.T) {
	for _, name := range []string{"hb_standby", "hb_takeover"} {
		script := "/usr/share/heartbeat/" + name
		if _, err := os.Stat(script); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s: %v (scripts/install-test-deps.sh installs it)", script, err)
			}
			t.Skipf("Heartbeat's %s is not installed (%v); scripts/install-test-deps.sh installs it", script, err)
		}
		for _, args := range [][]string{{"all", "local"}, {"a", "b", "c"}, {"everything"}, {"-h"}, {"All"}, {"--help"}} {
			var rOut, rErr bytes.Buffer
			c := exec.Command(script, args...)
			c.Stdout, c.Stderr = &rOut, &rErr
			err := c.Run()
			var ee *exec.ExitError
			rCode := 0
			if errors.As(err, &ee) {
				rCode = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("%s %q: %v", script, args, err)
			}
			var out, errb bytes.Buffer
			f := HBTakeover
			if name == "hb_standby" {
				f = HBStandby
			}
			m := &fakeMover{}
			code := f(context.Background(), script, args, &out, &errb, m)
			if code != rCode || out.String() != rOut.String() || errb.String() != rErr.String() || m.called {
				t.Errorf("%s %q:\nours      exit %d stdout %q stderr %q\nHeartbeat exit %d stdout %q stderr %q",
					name, args, code, out.String(), errb.String(), rCode, rOut.String(), rErr.String())
			}
		}
	}
}
