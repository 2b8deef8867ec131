package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/hasuite/hasuite/heartbeat/api"
	"github.com/hasuite/hasuite/heartbeat/control"
)

// LSB status codes of "heartbeat -s", as Heartbeat 3.0.6's.
const (
	StatusRunning     = 0 // running
	StatusDeadPidFile = 1 // not running, but its pid file exists (a crash)
	StatusStopped     = 3 // not running, no pid file
)

// PidFile is what the daemon's pid file says; ReadPidFile reads it.
type PidFile struct {
	Exists bool // there is a pid file, whatever it holds
	Pid    int  // its pid, 0 if unreadable
	Alive  bool // a process with that pid exists
}

// ReadPidFile reads the pid file of runDir.
func ReadPidFile(runDir string) PidFile {
	pid, alive := control.ReadPid(runDir)
	return PidFile{Exists: control.PidFileExists(runDir), Pid: pid, Alive: alive}
}

// HeartbeatStatus is "heartbeat -s": Heartbeat 3.0.6's words on stdout
// and LSB exit codes. Running: "heartbeat OK [pid N et al] is running on
// HOST [NODE]..." exit 0. Not running: "heartbeat is stopped. No process",
// exit 3, or 1 when its pid file was left behind (a crash). Ours asks the
// daemon; one whose process exists but does not answer is reported as
// such, exit 1. pid is read after the daemon failed to answer.
func HeartbeatStatus(ctx context.Context, runDir string, stdout io.Writer, d Daemon, pid func() PidFile) int {
	ctx, cancel := context.WithTimeout(ctx, api.DefaultTimeout)
	defer cancel()
	st, err := within(ctx, func(ctx context.Context) (*api.Status, error) { return d.Status(ctx, runDir) })
	if err == nil {
		fmt.Fprintf(stdout, "heartbeat OK [pid %d et al] is running on %s [%s]...\n", st.Pid, st.Hostname, st.Core.Node)
		return StatusRunning
	}
	p := pid()
	switch {
	case p.Alive:
		fmt.Fprintf(stdout, "heartbeat is running [pid %d] but does not answer: %v\n", p.Pid, err)
		return StatusDeadPidFile
	case p.Exists:
		fmt.Fprintln(stdout, "heartbeat is stopped. No process")
		return StatusDeadPidFile
	}
	fmt.Fprintln(stdout, "heartbeat is stopped. No process")
	return StatusStopped
}
