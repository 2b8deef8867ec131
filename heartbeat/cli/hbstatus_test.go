package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/hasuite/hasuite/heartbeat/control"
)

// TestHeartbeatStatus: "heartbeat -s" per situation, as Heartbeat 3.0.6
// answers (observed: no pid file exit 3, a pid file of a dead process exit
// 1, both "heartbeat is stopped. No process"; running exit 0).
func TestHeartbeatStatus(t *testing.T) {
	tests := []struct {
		name  string
		stErr error
		pid   PidFile
		out   string
		code  int
	}{
		{name: "running", out: "heartbeat OK [pid 4242 et al] is running on alpha.example [alpha]...\n", code: 0},
		{name: "stopped, no pid file", stErr: notRunning, out: "heartbeat is stopped. No process\n", code: 3},
		{name: "crashed: pid file left, no process", stErr: notRunning, pid: PidFile{Exists: true, Pid: 999999},
			out: "heartbeat is stopped. No process\n", code: 1},
		{name: "pid file unreadable", stErr: notRunning, pid: PidFile{Exists: true},
			out: "heartbeat is stopped. No process\n", code: 1},
		{name: "process alive, no answer", stErr: errors.New("status: connection reset"), pid: PidFile{Exists: true, Pid: 77, Alive: true},
			out: "heartbeat is running [pid 77] but does not answer: status: connection reset\n", code: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, twoNodes())
			f.stErr = tt.stErr
			var out bytes.Buffer
			asked := false
			code := HeartbeatStatus(context.Background(), "/x", &out, f, func() PidFile { asked = true; return tt.pid })
			if code != tt.code || out.String() != tt.out {
				t.Errorf("exit %d stdout %q, want %d %q", code, out.String(), tt.code, tt.out)
			}
			if d := f.dirs(); len(d) != 1 || d[0] != "/x" {
				t.Errorf("asked run dirs %q", d)
			}
			if asked != (tt.stErr != nil) {
				t.Errorf("pid file read: %v", asked)
			}
		})
	}
}

// TestReadPidFile: the three states of the pid file on disk.
func TestReadPidFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, control.PidFileName)
	if p := ReadPidFile(dir); p != (PidFile{}) {
		t.Errorf("no pid file: %+v", p)
	}
	for _, tc := range []struct {
		content string
		want    PidFile
	}{
		{strconv.Itoa(os.Getpid()) + "\n", PidFile{Exists: true, Pid: os.Getpid(), Alive: true}},
		{"garbage\n", PidFile{Exists: true}},
	} {
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if p := ReadPidFile(dir); p != tc.want {
			t.Errorf("pid file %q: %+v, want %+v", tc.content, p, tc.want)
		}
	}
}
