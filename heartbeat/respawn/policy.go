// Package respawn runs Heartbeat's client programs, the respawn and
// failfast lines of ha.cf, with Heartbeat's semantics: each is started
// (at comm-up, by the daemon) as the named user, restarted when it exits
// unless it exits with code 100, given up with "respawning too fast"
// after more than 10 restarts each within 30 s of the start before it,
// and stopped in reverse order at shutdown; a failfast program that dies
// abnormally makes the node fence itself.
//
// The restart decision is Policy, pure logic with the time passed in; the
// Supervisor does the IO, running each program through internal/childproc
// on a goroutine of its own and reporting what happens through a callback
// (the daemon logs it and posts a self-fence request to its loop).
package respawn

import (
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Heartbeat's constants (H:heartbeat/heartbeat.c, ManagedChildDied).
const (
	// NoRespawnCode is the exit code with which a client asks not to be
	// restarted (ipfail exits with it when it has nothing to do).
	NoRespawnCode = 100
	// MaxShortRestarts is how many restarts in a row, each within
	// ShortRun of the start before it, are allowed; one more is
	// "respawning too fast" and the program is left stopped.
	MaxShortRestarts = 10
	// ShortRun is how long a run must last for the count to start over.
	ShortRun = 30 * time.Second
)

// Exit is how one run of a program ended.
type Exit struct {
	Code     int            // exit code; -1 when it did not exit by itself
	Signal   syscall.Signal // the signal it died of; 0 when it exited
	StartErr error          // it could not be started at all
}

// Abnormal: the program did not end of its own accord with code 0 or
// NoRespawnCode (a signal, another code, or no start). This is what makes
// a failfast program fence the node.
func (e Exit) Abnormal() bool {
	return e.StartErr != nil || e.Signal != 0 || (e.Code != 0 && e.Code != NoRespawnCode)
}

func (e Exit) String() string {
	switch {
	case e.StartErr != nil:
		return "could not be started: " + e.StartErr.Error()
	case e.Signal != 0:
		return "died of signal " + unix.SignalName(e.Signal)
	}
	return fmt.Sprintf("exited with code %d", e.Code)
}

// Verdict is what happens after a program's exit.
type Verdict int

const (
	// Restart: start it again at once.
	Restart Verdict = iota
	// NoRespawn: it exited with NoRespawnCode; it stays stopped.
	NoRespawn
	// TooFast: more than MaxShortRestarts short runs in a row; it stays
	// stopped ("respawning too fast").
	TooFast
	// Stopped: the daemon is shutting down; it stays stopped.
	Stopped
	// Fenced: a failfast program died abnormally; the node fences itself
	// and the program is not restarted.
	Fenced
)

var verdictNames = [...]string{Restart: "restart", NoRespawn: "no-respawn", TooFast: "too-fast", Stopped: "stopped", Fenced: "fence-self"}

func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return "unknown"
}

// Policy is the restart decision for one program. Its zero value is ready
// for a respawn line; set FailFast for a failfast line.
type Policy struct {
	FailFast bool
	started  time.Duration
	short    int // restarts in a row, each within ShortRun of the start before
}

// Started records that the program was (re)started at now.
func (p *Policy) Started(now time.Duration) { p.started = now }

// Exited decides what follows an exit at now. stopping: the daemon is
// shutting down and stopped the program itself.
//
// As in Heartbeat, a run shorter than ShortRun adds one to the count of
// short runs, a longer one starts the count over; when the count passes
// MaxShortRestarts the restart is refused ("respawning too fast") and the
// count starts over, so that an operator's restart of the daemon gets the
// full allowance again.
func (p *Policy) Exited(now time.Duration, e Exit, stopping bool) Verdict {
	switch {
	case stopping:
		return Stopped
	case p.FailFast && e.Abnormal():
		return Fenced
	case e.StartErr == nil && e.Signal == 0 && e.Code == NoRespawnCode:
		return NoRespawn
	}
	if now-p.started < ShortRun {
		p.short++
	} else {
		p.short = 0
	}
	if p.short > MaxShortRestarts {
		p.short = 0
		return TooFast
	}
	return Restart
}
