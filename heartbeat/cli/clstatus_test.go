package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/control"
)

// logAt is the stderr prefix of cl_log lines under runCl's fixed clock,
// host and pid.
const logAt = "May 03 10:00:00 alpha.example cl_status: [99]: ERROR: "

var notRunning = fmt.Errorf("%w: dial unix /run/heartbeat/control.sock: connect: no such file or directory", control.ErrNotRunning)

func runCl(t *testing.T, f *fakeDaemon, timeout time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errw bytes.Buffer
	c := &ClStatusCmd{Stdout: &out, Stderr: &errw, Daemon: f, Timeout: timeout, Pid: 99, Host: "alpha.example",
		Now: func() time.Time { return time.Date(2016, 5, 3, 10, 0, 0, 0, time.Local) }}
	code = c.Run(context.Background(), args)
	return out.String(), errw.String(), code
}

func TestClStatus(t *testing.T) {
	t.Setenv(control.RunDirEnv, "")
	signonFailed := logAt + "Cannot signon with heartbeat\n" + logAt + "REASON: " + notRunning.Error() + "\n"
	// A node's own links are dead to Heartbeat's API (it hears no
	// heartbeats of its own), though the core sends on them.
	verboseNodes := "\nbeta\tactive\t(nodetype: normal)\n\teth0\tup\n\teth1\tdead\n" +
		"\nalpha\tactive\t(nodetype: normal)\n\teth0\tdead\n\teth1\tdead\n"
	tests := []struct {
		name     string
		st       *api.Status // nil: twoNodes
		stErr    error
		paramErr error
		args     []string
		out, err string
		code     int
	}{
		// Help and sub-command matching.
		{name: "no args", args: nil, out: clHelp, code: 0},
		{name: "-h", args: []string{"-h"}, out: clHelp, code: 0},
		{name: "-h needs to be alone", args: []string{"-h", "x"}, err: logAt + "-h: invalid sub-command.\n", code: 11},
		{name: "help works with daemon down", stErr: notRunning, args: []string{"-h"}, out: clHelp, code: 0},
		{name: "unknown sub-command", args: []string{"numnodes"}, err: logAt + "numnodes: invalid sub-command.\n", code: 11},
		{name: "man page's parameter is not a sub-command", args: []string{"parameter", "-p", "deadtime"}, err: logAt + "parameter: invalid sub-command.\n", code: 11},
		{name: "prefix is not a sub-command", args: []string{"nodestat", "beta"}, err: logAt + "nodestat: invalid sub-command.\n", code: 11},
		{name: "-m before the sub-command is not accepted", args: []string{"-m", "nodestatus", "beta"}, err: logAt + "-m: invalid sub-command.\n", code: 11},

		// hbstatus.
		{name: "hbstatus", args: []string{"hbstatus"}, out: "Heartbeat is running on this machine.\n"},
		{name: "hbstatus -v", args: []string{"hbstatus", "-v"},
			out: "version:\t3.0.6 (hasuite 0.1.0)\nmanaged by:\t\"haresources\"\n" + verboseNodes},
		{name: "hbstatus -v -m", args: []string{"hbstatus", "-vm"},
			out: "Heartbeat version 3.0.6 (hasuite 0.1.0)\nResources controlled by \"haresources\"\nThe nodes are as follow:\n" +
				"\nbeta\tactive\t(nodetype: normal)\n\tthis node has the following heartbeat links:\n\teth0\tup\n\teth1\tdead\n" +
				"\nalpha\tactive\t(nodetype: normal)\n\tthis node has the following heartbeat links:\n\teth0\tdead\n\teth1\tdead\n"},
		{name: "hbstatus -v without hbversion", paramErr: errors.New("parameter: unknown command"), args: []string{"hbstatus", "-v"},
			out: "version:\tunknown\nmanaged by:\t\"haresources\"\n" + verboseNodes},
		{name: "hbstatus -v unmanaged", st: with(func(s *api.Status) { s.Managed = "none" }), args: []string{"hbstatus", "-v"},
			out: "version:\t3.0.6 (hasuite 0.1.0)\nmanaged by:\tnone\n" + verboseNodes},
		{name: "hbstatus ignores bad options like Heartbeat", args: []string{"hbstatus", "-x"},
			out: "Heartbeat is running on this machine.\n", err: "hbstatus: invalid option -- 'x'\n"},
		{name: "hbstatus stopped", stErr: notRunning, args: []string{"hbstatus"}, out: "Heartbeat is stopped on this machine.\n", code: 1},
		{name: "hbstatus -v stopped", stErr: notRunning, args: []string{"hbstatus", "-v"},
			out: "Heartbeat is stopped on this machine.\n(" + notRunning.Error() + ")\n", code: 1},
		{name: "hbstatus refused", stErr: fmt.Errorf("connect to /run/heartbeat/control.sock: %w", syscall.EACCES), args: []string{"hbstatus"},
			out: "Heartbeat is apparently running on this machine, but refuses my connection\n"},
		{name: "hbstatus before comm up", st: with(func(s *api.Status) { s.Core.CommUp = false }), args: []string{"hbstatus", "-v"},
			out: "Heartbeat is apparently running on this machine, but refuses my connection\n(cluster communication is not up yet)\n"},

		// listnodes.
		{name: "listnodes reverse declaration order", args: []string{"listnodes"}, out: "beta\nalpha\n"},
		{name: "listnodes -n", st: withPing(), args: []string{"listnodes", "-n"}, out: "beta\nalpha\n"},
		{name: "listnodes -p", st: withPing(), args: []string{"listnodes", "-p"}, out: "gw\n"},
		{name: "listnodes -p without ping nodes", args: []string{"listnodes", "-p"}, out: ""},
		{name: "listnodes -p -n lists all", st: withPing(), args: []string{"listnodes", "-p", "-n"}, out: "gw\nbeta\nalpha\n"},
		{name: "listnodes -v", args: []string{"listnodes", "-v"}, out: verboseNodes},
		{name: "listnodes -m", args: []string{"listnodes", "-m"}, out: "The nodes are as follow:\nbeta\nalpha\n"},
		{name: "listnodes bad option", args: []string{"listnodes", "-x"},
			err: "listnodes: invalid option -- 'x'\n" + logAt + "Error: getopt returned character code ?.\n", code: 11},
		{name: "listnodes daemon down", stErr: notRunning, args: []string{"listnodes"}, err: signonFailed, code: 1},
		{name: "listnodes before comm up", st: with(func(s *api.Status) { s.Core.CommUp = false }), args: []string{"listnodes"},
			err: logAt + "Cannot signon with heartbeat\n" + logAt + "REASON: cluster communication is not up yet\n", code: 1},

		// nodestatus.
		{name: "nodestatus active", args: []string{"nodestatus", "beta"}, out: "active\n"},
		{name: "nodestatus case-insensitive", args: []string{"nodestatus", "BETA"}, out: "active\n"},
		{name: "nodestatus local", args: []string{"nodestatus", "alpha"}, out: "active\n"},
		{name: "nodestatus up", st: peerState("up"), args: []string{"nodestatus", "beta"}, out: "up\n"},
		{name: "nodestatus ping", st: withPing(), args: []string{"nodestatus", "gw"}, out: "ping\n"},
		{name: "nodestatus dead", st: peerState("dead"), args: []string{"nodestatus", "beta"}, out: "dead\n", code: 1},
		{name: "nodestatus init", st: peerState("init"), args: []string{"nodestatus", "beta"}, out: "init\n", code: 1},
		{name: "nodestatus -m after", args: []string{"nodestatus", "beta", "-m"}, out: "The cluster node beta is active\n"},
		{name: "nodestatus -m before, name as typed", args: []string{"nodestatus", "-m", "Beta"}, out: "The cluster node Beta is active\n"},
		{name: "nodestatus unknown node", args: []string{"nodestatus", "gamma"}, err: "Error. May be due to incorrect node name\n", code: 11},
		{name: "nodestatus no node", args: []string{"nodestatus"}, err: "Not enough parameters.\n", code: 11},
		{name: "nodestatus -- ends options", args: []string{"nodestatus", "--", "-m"}, err: "Error. May be due to incorrect node name\n", code: 11},
		{name: "nodestatus bad option", args: []string{"nodestatus", "-v", "beta"},
			err: "nodestatus: invalid option -- 'v'\n" + logAt + "Error: getopt returned character code ?.\n", code: 11},
		{name: "nodestatus daemon down", stErr: notRunning, args: []string{"nodestatus", "beta"}, err: signonFailed, code: 1},
		{name: "signon comes before argument checks", stErr: notRunning, args: []string{"nodestatus"}, err: signonFailed, code: 1},

		// nodeweight, nodesite, nodetype.
		{name: "nodeweight", args: []string{"nodeweight", "beta"}, out: "100\n"},
		{name: "nodeweight -m", args: []string{"nodeweight", "-m", "beta"}, out: "The weight of the cluster node beta is 100\n"},
		{name: "nodeweight unknown", args: []string{"nodeweight", "gamma"}, err: "Error. Maybe due to incorrect node name.\n", code: 11},
		{name: "nodeweight no node", args: []string{"nodeweight"}, err: "Not enough parameters.\n", code: 11},
		{name: "nodesite", args: []string{"nodesite", "beta"}, out: "\n"},
		{name: "nodesite -m", args: []string{"nodesite", "beta", "-m"}, out: "The site of the cluster node beta is \n"},
		{name: "nodesite unknown", args: []string{"nodesite", "gamma"}, err: "Error. May be due to incorrect node name\n", code: 11},
		{name: "nodetype", args: []string{"nodetype", "alpha"}, out: "normal\n"},
		{name: "nodetype ping", st: withPing(), args: []string{"nodetype", "GW"}, out: "ping\n"},
		{name: "nodetype odd type", st: with(func(s *api.Status) { s.Core.Nodes[1].Type = "" }), args: []string{"nodetype", "beta"}, out: "unknown\n"},
		{name: "nodetype -m", args: []string{"nodetype", "-m", "beta"}, out: "The node beta's type: normal\n"},
		{name: "nodetype unknown", args: []string{"nodetype", "normal"}, err: "Error. May be due to incorrect node name\n", code: 11},
		{name: "nodetype no node", args: []string{"nodetype"}, err: "No enough parameter.\n", code: 11},

		// listhblinks, hblinkstatus.
		{name: "listhblinks", args: []string{"listhblinks", "beta"}, out: "\teth0\n\teth1\n"},
		{name: "listhblinks -v", args: []string{"listhblinks", "beta", "-v"}, out: "\teth0\tup\n\teth1\tdead\n"},
		{name: "listhblinks -m", args: []string{"listhblinks", "-m", "alpha"}, out: "\tthis node has the following heartbeat links:\n\teth0\n\teth1\n"},
		{name: "listhblinks unknown node", args: []string{"listhblinks", "gamma"},
			err: logAt + "Cannot start heartbeat link interface walk.\n" + logAt + "REASON: no node named \"gamma\"\n", code: 13},
		{name: "listhblinks no node", args: []string{"listhblinks"}, err: "No enough parameter.\n", code: 11},
		{name: "hblinkstatus up", args: []string{"hblinkstatus", "beta", "eth0"}, out: "up\n"},
		{name: "hblinkstatus dead", args: []string{"hblinkstatus", "Beta", "eth1"}, out: "dead\n", code: 1},
		{name: "hblinkstatus -m", args: []string{"hblinkstatus", "beta", "eth1", "-m"}, out: "The node beta's heartbeat link eth1 is dead\n", code: 1},
		{name: "hblinkstatus no such link", args: []string{"hblinkstatus", "beta", "ETH0"},
			err: logAt + "Cannot get heartbeat link status\n" + logAt + "REASON: node beta has no heartbeat link \"ETH0\"\n", code: 13},
		{name: "hblinkstatus no such node", args: []string{"hblinkstatus", "gamma", "eth0"},
			err: logAt + "Cannot get heartbeat link status\n" + logAt + "REASON: no node named \"gamma\"\n", code: 13},
		{name: "listhblinks -v own node: dead", args: []string{"listhblinks", "-v", "alpha"}, out: "\teth0\tdead\n\teth1\tdead\n"},
		{name: "hblinkstatus own node: dead", args: []string{"hblinkstatus", "alpha", "eth0"}, out: "dead\n", code: 1},
		{name: "hblinkstatus own node -m", args: []string{"hblinkstatus", "-m", "ALPHA", "eth1"}, out: "The node ALPHA's heartbeat link eth1 is dead\n", code: 1},
		{name: "hblinkstatus own node, no such link", args: []string{"hblinkstatus", "alpha", "eth2"},
			err: logAt + "Cannot get heartbeat link status\n" + logAt + "REASON: node alpha has no heartbeat link \"eth2\"\n", code: 13},
		{name: "hblinkstatus one arg", args: []string{"hblinkstatus", "beta"}, err: "No enough parameter.\n", code: 11},

		// clientstatus.
		{name: "clientstatus", args: []string{"clientstatus", "beta", "ipfail"}, out: "offline\n", code: 1},
		{name: "clientstatus with timeout, -m changes nothing", args: []string{"clientstatus", "-m", "alpha", "ipfail", "1000"}, out: "offline\n", code: 1},
		{name: "clientstatus unknown node", args: []string{"clientstatus", "gamma", "ipfail"},
			err: logAt + "Cannot get heartbeat client ipfail's status\n" + logAt + "REASON: no node named \"gamma\"\n", code: 13},
		{name: "clientstatus one arg", args: []string{"clientstatus", "beta"}, err: "No enough parameter.\n", code: 11},

		// rscstatus.
		{name: "rscstatus", args: []string{"rscstatus"}, out: "local\n"},
		{name: "rscstatus transition", st: with(func(s *api.Status) { s.Resources = "transition" }), args: []string{"rscstatus"}, out: "transition\n"},
		{name: "rscstatus -m", st: with(func(s *api.Status) { s.Resources = "all" }), args: []string{"rscstatus", "-m"}, out: "This node is holding all resources.\n"},
		{name: "rscstatus unmanaged", st: with(func(s *api.Status) { s.Managed = "none" }), args: []string{"rscstatus"},
			err: logAt + "Cannot get cluster resource status\n" + logAt + "REASON: resources are not managed by heartbeat on this node\n", code: 13},
		{name: "rscstatus bad option", args: []string{"rscstatus", "-v"},
			err: "rscstatus: invalid option -- 'v'\n" + logAt + "Error: getopt returned character code ?.\n", code: 11},

		// hbparameter.
		{name: "hbparameter", args: []string{"hbparameter", "-p", "deadtime"}, out: "10\n"},
		{name: "hbparameter glued", args: []string{"hbparameter", "-pwarntime"}, out: "15000ms\n"},
		{name: "hbparameter -m", args: []string{"hbparameter", "-m", "-p", "hbversion"}, out: "Heartbeat parameter hbversion's value: 3.0.6\n"},
		{name: "hbparameter unset", args: []string{"hbparameter", "-p", "stonith"},
			err: logAt + "Cannot get parameter stonith's value\n" + logAt + "REASON: parameter is not set\n", code: 1},
		{name: "hbparameter daemon error", paramErr: errors.New("parameter: parameter needs exactly one name"), args: []string{"hbparameter", "-p", "x"},
			err: logAt + "Cannot get parameter x's value\n" + logAt + "REASON: parameter: parameter needs exactly one name\n", code: 1},
		{name: "hbparameter without -p", args: []string{"hbparameter", "deadtime"}, err: logAt + "parameter name required\n", code: 11},
		{name: "hbparameter -p without value", args: []string{"hbparameter", "-p"},
			err: "hbparameter: option requires an argument -- 'p'\n" + logAt + "Error: getopt returned character code ?.\n", code: 11},
		{name: "hbparameter daemon down", stErr: notRunning, args: []string{"hbparameter"}, err: signonFailed, code: 1},

		// Heartbeat's undocumented test sub-command.
		{name: "test", args: []string{"test"}, out: "Dead time: 10000\n keeplive time: 1000\n mynodeid: alpha\n rsc: local\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.st
			if st == nil {
				st = twoNodes()
			}
			f := newFake(t, st)
			f.stErr, f.paramErr = tc.stErr, tc.paramErr
			out, errOut, code := runCl(t, f, 0, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if out != tc.out {
				t.Errorf("stdout:\n%q\nwant\n%q", out, tc.out)
			}
			if errOut != tc.err {
				t.Errorf("stderr:\n%q\nwant\n%q", errOut, tc.err)
			}
		})
	}
}

func TestClStatusRunDir(t *testing.T) {
	tests := []struct {
		name string
		env  string
		args []string
		want string
	}{
		{"default", "", []string{"nodestatus", "beta"}, control.DefaultRunDirPath},
		{"environment", "/tmp/env-run", []string{"nodestatus", "beta"}, "/tmp/env-run"},
		{"flag before sub-command", "/tmp/env-run", []string{"--run-dir", "/x", "nodestatus", "beta"}, "/x"},
		{"flag with =", "", []string{"--run-dir=/y", "nodestatus", "beta"}, "/y"},
		{"flag after operands", "", []string{"nodestatus", "beta", "--run-dir", "/z"}, "/z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(control.RunDirEnv, tc.env)
			f := newFake(t, twoNodes())
			out, errOut, code := runCl(t, f, 0, tc.args...)
			if code != 0 || out != "active\n" || errOut != "" {
				t.Fatalf("got exit %d stdout %q stderr %q", code, out, errOut)
			}
			if d := f.dirs(); len(d) != 1 || d[0] != tc.want {
				t.Errorf("asked run dirs %q, want [%q]", d, tc.want)
			}
		})
	}
}

func TestClStatusRunDirErrors(t *testing.T) {
	for _, args := range [][]string{{"nodestatus", "beta", "--run-dir"}, {"--run-dir=", "hbstatus"}, {"--run-dir", "", "hbstatus"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			f := newFake(t, twoNodes())
			out, errOut, code := runCl(t, f, 0, args...)
			if code != ClParamError || out != "" || errOut != logAt+"option --run-dir requires a directory\n" {
				t.Errorf("got exit %d stdout %q stderr %q", code, out, errOut)
			}
			if len(f.dirs()) != 0 {
				t.Error("asked the daemon despite a usage error")
			}
		})
	}
}

// TestClStatusTimeout checks the 5 s alarm's replacement: whatever the
// daemon does, cl_status exits 12 once its time is up.
func TestClStatusTimeout(t *testing.T) {
	const timeout = 50 * time.Millisecond
	want := logAt + "No answer from heartbeat within 50ms\n"
	tests := []struct {
		name      string
		args      []string
		statHang  hang
		paramHang hang
	}{
		{"signon honours ctx", []string{"nodestatus", "beta"}, untilDone, answer},
		{"signon ignores ctx", []string{"listnodes"}, forever, answer},
		{"hbstatus signon", []string{"hbstatus"}, untilDone, answer},
		{"hbparameter", []string{"hbparameter", "-p", "deadtime"}, answer, untilDone},
		{"hbparameter ignores ctx", []string{"hbparameter", "-p", "deadtime"}, answer, forever},
		{"hbstatus -v version", []string{"hbstatus", "-v"}, answer, forever},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, twoNodes())
			f.statHang, f.paramHang = tc.statHang, tc.paramHang
			start := time.Now()
			out, errOut, code := runCl(t, f, timeout, tc.args...)
			if code != ClTimeout || out != "" || errOut != want {
				t.Errorf("got exit %d stdout %q stderr %q", code, out, errOut)
			}
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("took %v with a %v timeout", el, timeout)
			}
		})
	}
}

// TestClStatusCancelled: a caller's cancellation is not a timeout.
func TestClStatusCancelled(t *testing.T) {
	f := newFake(t, twoNodes())
	f.statHang = untilDone
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errw bytes.Buffer
	c := &ClStatusCmd{Stdout: &out, Stderr: &errw, Daemon: f}
	if code := c.Run(ctx, []string{"nodestatus", "beta"}); code != ClUnknownError {
		t.Errorf("exit %d, want %d (stderr %q)", code, ClUnknownError, errw.String())
	}
}

// logLine is a cl_log error line on stderr: time stamp, host, pid, message.
var logLine = regexp.MustCompile(`^([A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}) (\S+) cl_status: \[([0-9]+)\]: ERROR: (.*)\n$`)

// TestClStatusLogFormat checks the real clock, host name and pid are used
// by default, in the prefix Heartbeat 3.0.6's cl_status prints (and, where
// it is installed, that the real one prints the same for the same error).
func TestClStatusLogFormat(t *testing.T) {
	var errw bytes.Buffer
	c := &ClStatusCmd{Stdout: &bytes.Buffer{}, Stderr: &errw, Daemon: newFake(t, twoNodes())}
	before := time.Now()
	if code := c.Run(context.Background(), []string{"bogus"}); code != ClParamError {
		t.Fatalf("exit %d", code)
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	m := logLine.FindStringSubmatch(errw.String())
	if m == nil || m[2] != host || m[3] != strconv.Itoa(os.Getpid()) || m[4] != "bogus: invalid sub-command." {
		t.Fatalf("log line %q, want Mon DD HH:MM:SS %s cl_status: [%d]: ERROR: bogus: invalid sub-command.", errw.String(), host, os.Getpid())
	}
	stamp, err := time.ParseInLocation("Jan 02 15:04:05", m[1], time.Local)
	if err != nil {
		t.Fatalf("time stamp %q: %v", m[1], err)
	}
	if stamp.Month() != before.Month() || stamp.Day() != before.Day() {
		t.Errorf("time stamp %q is not today (%s)", m[1], before.Format("Jan 02"))
	}

	const real = "/usr/bin/cl_status"
	if _, err := os.Stat(real); err != nil {
		t.Logf("no Heartbeat cl_status to compare with: %v", err)
		return
	}
	var rOut, rErr bytes.Buffer
	cmd := exec.Command(real, "bogus")
	cmd.Stdout, cmd.Stderr = &rOut, &rErr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ClParamError {
		t.Fatalf("%s bogus: %v", real, err)
	}
	rm := logLine.FindStringSubmatch(rErr.String())
	if rOut.Len() != 0 || rm == nil || rm[2] != host || rm[3] != strconv.Itoa(cmd.Process.Pid) || rm[4] != m[4] {
		t.Errorf("Heartbeat's cl_status bogus: stdout %q stderr %q; ours %q", rOut.String(), rErr.String(), errw.String())
	}
}
